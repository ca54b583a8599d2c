// `belongs_to` names a type that does not exist (a typo of `User`).
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = Usr)]
    owner_id: i64,
}

fn main() {}
