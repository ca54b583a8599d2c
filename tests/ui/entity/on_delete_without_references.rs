// `on_delete` describes a foreign key, but the field has no `references`.
use dal::Entity;

#[derive(Entity)]
struct Post {
    id: i64,
    #[dal(on_delete = "cascade")]
    author_id: i64,
}

fn main() {}
