// A string default does not fit an integer column.
use dal::Entity;

#[derive(Entity)]
struct Counter {
    id: i64,
    #[dal(default = "x")]
    n: i32,
}

fn main() {}
