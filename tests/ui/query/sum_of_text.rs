// `sum` and `avg` take numbers.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    name: String,
}

fn main() {
    let _ = User::NAME.sum();
}
