// `precision` describes a decimal and means nothing for an `f64`.
use dal::Entity;

#[derive(Entity)]
struct Item {
    id: i64,
    #[dal(precision = 10)]
    price: f64,
}

fn main() {}
