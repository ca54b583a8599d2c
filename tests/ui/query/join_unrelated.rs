// Joining along a relation that starts from an entity not in the query.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::OWNER))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i64,
}

#[derive(Entity)]
struct Tag {
    id: i64,
}

fn main() {
    let _ = Tag::find().join(User::TASKS);
}
