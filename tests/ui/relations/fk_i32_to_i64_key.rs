// The foreign key is an `i32`, but `User`'s key is an `i64`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i32,
}

fn main() {}
