// A subquery reading values of another type than the column's.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    name: String,
}

#[derive(Entity)]
struct Task {
    id: i64,
    title: String,
}

fn main() {
    let _ = User::ID.in_subquery(Task::find().select(Task::TITLE));
}
