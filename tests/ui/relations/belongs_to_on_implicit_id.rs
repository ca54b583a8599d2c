// A field called `id` is the primary key, which cannot be a belongs-to.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Profile {
    #[dal(belongs_to = User, relation = "user")]
    id: i64,
}

fn main() {}
