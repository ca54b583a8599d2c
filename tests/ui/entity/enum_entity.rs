// An entity is a struct mapped to a table; an enum cannot be one.
use dal::Entity;

#[derive(Entity)]
enum Shape {
    Circle { id: i64 },
}

fn main() {}
