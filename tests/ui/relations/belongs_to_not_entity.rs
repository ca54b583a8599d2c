// `belongs_to` points at a plain struct, not an entity.
use dal::Entity;

struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i64,
}

fn main() {
    let _ = User { id: 1 }.id;
}
