// `has_many` reads a belongs-to backwards, but `Task` declares no `OWNER`.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::OWNER))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    owner_id: i64,
}

fn main() {}
