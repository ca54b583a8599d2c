// One relation per `has_many(..)`: two are declared in one.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::OWNER, reviews = Task::REVIEWER))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i64,
    #[dal(belongs_to = User)]
    reviewer_id: i64,
}

fn main() {}
