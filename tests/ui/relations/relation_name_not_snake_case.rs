// A relation name must be a snake_case identifier: `Owner` is not.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, relation = "Owner")]
    owner_id: i64,
}

fn main() {}
