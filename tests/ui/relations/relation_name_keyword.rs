// A relation name becomes a method: a keyword (`type`) cannot be one.
use dal::Entity;

#[derive(Entity)]
struct Kind {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = Kind)]
    type_id: i64,
}

fn main() {}
