// Two belongs-to named `owner`: each relation needs its own name.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i64,
    #[dal(belongs_to = User, relation = "owner")]
    creator_id: i64,
}

fn main() {}
