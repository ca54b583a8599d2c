// A foreign key is stored as is: not as JSON.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(json, belongs_to = User)]
    owner_id: i64,
}

fn main() {}
