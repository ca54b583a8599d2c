// A `created_at` field must hold a timestamp that dal can set, not a `String`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    #[dal(created_at)]
    created: String,
}

fn main() {}
