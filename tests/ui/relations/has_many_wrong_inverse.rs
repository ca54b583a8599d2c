// `has_many` names a belongs-to of `Task` that points at `Project`, not at `User`.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::PROJECT))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Project {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = Project)]
    project_id: i64,
}

fn main() {}
