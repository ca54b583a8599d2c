// A has-many name must be a snake_case identifier: `Tasks` is not.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(Tasks = Task::OWNER))]
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
