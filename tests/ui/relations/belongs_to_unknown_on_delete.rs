// The relation's `on_delete` must be a referential action.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, on_delete = "remove")]
    owner_id: i64,
}

fn main() {}
