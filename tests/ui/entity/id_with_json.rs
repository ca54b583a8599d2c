// The primary key identifies rows: it cannot be stored as JSON.
use dal::Entity;

#[derive(Entity)]
struct User {
    #[dal(id, json)]
    id: i64,
}

fn main() {}
