// `has_many = ".."` is not the form: it is `has_many(name = Child::RELATION)`.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many = "tasks")]
struct User {
    id: i64,
}

fn main() {}
