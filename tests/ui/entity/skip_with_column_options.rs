// A `skip` field is not stored, so column options on it would be silently ignored.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    #[dal(skip, index)]
    cache: i64,
}

fn main() {}
