// `Money` does not implement `dal::SqlType`, so it cannot be stored in a column.
use dal::Entity;

struct Money {
    cents: i64,
}

#[derive(Entity)]
struct Item {
    id: i64,
    price: Money,
}

fn main() {}
