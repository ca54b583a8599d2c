// `belongs_to` declares the foreign key already: `references` on the same field is one too many.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, references = "users.id")]
    owner_id: i64,
}

fn main() {}
