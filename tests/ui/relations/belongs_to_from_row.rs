// `belongs_to` points at a `FromRow` struct: it has no primary key, so it is no entity.
use dal::{Entity, FromRow};

#[derive(FromRow)]
struct UserRow {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = UserRow)]
    owner_id: i64,
}

fn main() {}
