// `length` picks VARCHAR(n) and means nothing for an integer.
use dal::Entity;

#[derive(Entity)]
struct Item {
    id: i64,
    #[dal(length = 10)]
    count: i64,
}

fn main() {}
