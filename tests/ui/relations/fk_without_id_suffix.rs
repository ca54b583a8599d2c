// The relation is named after the field without `_id`; `owner` has no `_id`, so it needs `relation = ".."`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner: i64,
}

fn main() {}
