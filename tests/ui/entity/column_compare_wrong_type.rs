// `Item::PRICE` is an `i32` column: comparing it with a string must not compile.
use dal::Entity;

#[derive(Entity)]
struct Item {
    id: i64,
    price: i32,
}

fn main() {
    let _ = Item::find().filter(Item::PRICE.eq("cheap"));
}
