// A `u64` field is an unsigned column: a negative default cannot be stored.
use dal::Entity;

#[derive(Entity)]
struct Counter {
    id: i64,
    #[dal(default = -1)]
    hits: u64,
}

fn main() {}
