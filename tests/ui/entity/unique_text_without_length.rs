// A `String` without `length` is TEXT, which cannot carry a portable unique index.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    #[dal(unique)]
    email: String,
}

fn main() {}
