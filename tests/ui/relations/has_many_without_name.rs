// `has_many(tasks)` gives no belongs-to to read backwards.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks))]
struct User {
    id: i64,
}

fn main() {}
