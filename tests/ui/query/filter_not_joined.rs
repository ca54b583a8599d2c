// Filtering a join on an entity that is not part of it.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::OWNER))]
struct User {
    id: i64,
    name: String,
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
    label: String,
}

fn main() {
    let _ = User::find().join(User::TASKS).filter(Tag::LABEL.eq("x"));
}
