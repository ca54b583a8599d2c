// `relation` takes a string: `relation = "owner"`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, relation = owner)]
    owner: i64,
}

fn main() {}
