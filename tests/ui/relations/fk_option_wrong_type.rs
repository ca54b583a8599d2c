// An optional foreign key must be an `Option` of the parent's key type: `Option<i32>` is not `Option<i64>`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: Option<i32>,
}

fn main() {}
