// The has-many `tasks` would get the handle `User::TASKS`, which the `tasks` column has.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::OWNER))]
struct User {
    id: i64,
    tasks: i32,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i64,
}

fn main() {}
