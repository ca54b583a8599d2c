// Every accepted form of #[derive(DbEnum)], used as entity fields.
use dal::{DbEnum, Entity};

#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
enum Status {
    Open,
    InProgress,
    #[dal(rename = "closed")]
    Done,
}

#[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
#[dal(rename_all = "kebab-case", crate = "dal")]
enum Level {
    VeryLow = 1,
    High = 10,
}

#[derive(Entity, Debug, Clone)]
#[dal(table = "tickets", history)]
struct Ticket {
    #[dal(id)]
    id: i64,
    #[dal(index)]
    status: Status,
    level: Option<Level>,
    #[dal(default = "open")]
    initial: Status,
}

fn main() {
    assert_eq!(Level::VARIANTS, ["very-low", "high"]);
    assert_eq!(Status::InProgress.as_str(), "in_progress");
    let _ = Ticket::find().filter(Ticket::STATUS.in_list([Status::Open, Status::Done]));
    let _ = Ticket::find().filter(Ticket::LEVEL.eq(Level::High));
}
