// `relation = "owner_id"` would give the handle `OWNER_ID`, the column handle of the field itself.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, relation = "owner_id")]
    owner_id: i64,
}

fn main() {}
