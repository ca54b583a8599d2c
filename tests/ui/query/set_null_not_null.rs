// NULL into a column whose field is not an Option.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    name: String,
}

fn main() {
    let _ = User::update_by_id(1).set_null(User::NAME);
}
