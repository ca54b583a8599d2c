// The foreign key is a `String`, but `User`'s key is an `i64`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, length = 36)]
    owner_id: String,
}

fn main() {}
