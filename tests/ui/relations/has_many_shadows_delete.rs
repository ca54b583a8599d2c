// A has-many's lazy method `delete` would shadow `Entity::delete`.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(delete = Deletion::USER))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Deletion {
    id: i64,
    #[dal(belongs_to = User)]
    user_id: i64,
}

fn main() {}
