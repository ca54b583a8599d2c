// `has_many` names a column handle of `Task`, not one of its belongs-to relations.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::TITLE))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    user_id: i64,
    title: String,
}

fn main() {}
