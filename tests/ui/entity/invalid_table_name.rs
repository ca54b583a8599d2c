// A table name must be a plain portable identifier.
use dal::Entity;

#[derive(Entity)]
#[dal(table = "user accounts")]
struct User {
    id: i64,
}

fn main() {}
