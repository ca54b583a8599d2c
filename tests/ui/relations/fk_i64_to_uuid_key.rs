// The foreign key is an `i64`, but `User`'s key is a `Uuid`.
use dal::Entity;
use uuid::Uuid;

#[derive(Entity)]
struct User {
    id: Uuid,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i64,
}

fn main() {}
