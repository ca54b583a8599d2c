// `has_many()` declares nothing.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many())]
struct User {
    id: i64,
}

fn main() {}
