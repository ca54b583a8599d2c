// The version counter is managed by dal: it cannot hold a foreign key.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(version, belongs_to = User)]
    owner_id: i64,
}

fn main() {}
