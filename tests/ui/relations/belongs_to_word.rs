// `belongs_to` needs the parent entity: `belongs_to = User`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to)]
    owner_id: i64,
}

fn main() {}
