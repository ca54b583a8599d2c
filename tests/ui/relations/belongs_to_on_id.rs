// The primary key cannot be a belongs-to.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Profile {
    #[dal(id, belongs_to = User)]
    user_id: i64,
}

fn main() {}
