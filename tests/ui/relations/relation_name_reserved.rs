// Names starting with `__` are dal's own (the entity's hidden methods).
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, relation = "__set_id")]
    owner_id: i64,
}

fn main() {}
