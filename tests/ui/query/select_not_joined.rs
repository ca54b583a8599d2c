// Selecting a column of an entity the query neither starts from nor joins.
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
    let _ = User::find().select((User::NAME, Task::TITLE));
}
