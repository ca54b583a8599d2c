// `has_many` names another has-many (`Project::TASKS`) instead of the child's belongs-to.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Project::TASKS))]
struct User {
    id: i64,
}

#[derive(Entity)]
#[dal(has_many(tasks = Task::PROJECT))]
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
