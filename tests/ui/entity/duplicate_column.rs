// Two fields cannot be stored in the same column.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    name: String,
    #[dal(rename = "name")]
    display_name: String,
}

fn main() {}
