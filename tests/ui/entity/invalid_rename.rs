// A column name given with `rename` must be a plain portable identifier.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    #[dal(rename = "1st-name")]
    first_name: String,
}

fn main() {}
