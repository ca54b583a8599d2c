// A `skip` field is not stored, so it cannot hold a foreign key.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(skip, belongs_to = User)]
    owner_id: i64,
}

fn main() {}
