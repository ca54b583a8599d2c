// Columns are named after fields, so an entity needs named fields.
use dal::Entity;

#[derive(Entity)]
struct Point(i64, i64);

fn main() {}
