// `references` must be `table.column` (or `table`) with plain identifiers.
use dal::Entity;

#[derive(Entity)]
struct Post {
    id: i64,
    #[dal(references = "users.id.x")]
    author_id: i64,
}

fn main() {}
