// `has_many` names a constant of a struct that is not an entity.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::OWNER))]
struct User {
    id: i64,
}

struct Task;

impl Task {
    const OWNER: i64 = 0;
}

fn main() {}
