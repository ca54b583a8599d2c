// A relation name must be a Rust identifier: `task-owner` is not.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, relation = "task-owner")]
    owner_id: i64,
}

fn main() {}
