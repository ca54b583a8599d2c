// A filter on an enum column takes that enum, not its name as a string.
use dal::Entity;

#[derive(dal::DbEnum, Clone, Copy)]
enum Status {
    Open,
}

#[derive(dal::Entity)]
#[dal(table = "tickets")]
struct Ticket {
    #[dal(id)]
    id: i64,
    status: Status,
}

fn main() {
    let _ = Ticket::find().filter(Ticket::STATUS.eq("open"));
}
