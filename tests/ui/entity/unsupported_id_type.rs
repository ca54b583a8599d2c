// An `f64` cannot be a primary key: it does not implement `dal::EntityId`.
use dal::Entity;

#[derive(Entity)]
struct Reading {
    #[dal(id)]
    value: f64,
}

fn main() {}
