// `on_delete` accepts only the referential actions dal knows.
use dal::Entity;

#[derive(Entity)]
struct Post {
    id: i64,
    #[dal(references = "users", on_delete = "explode")]
    author_id: i64,
}

fn main() {}
