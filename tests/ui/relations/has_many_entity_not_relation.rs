// `has_many` names the child entity instead of its belongs-to (`Task::OWNER`).
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i64,
}

fn main() {}
