// An entity maps to one table, so it cannot be generic.
use dal::Entity;

#[derive(Entity)]
struct Wrapper<T> {
    id: i64,
    value: T,
}

fn main() {}
