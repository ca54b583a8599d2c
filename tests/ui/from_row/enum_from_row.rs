// A row is read into a struct's named fields; an enum cannot be one.
use dal::FromRow;

#[derive(FromRow)]
enum Either {
    Left { id: i64 },
}

fn main() {}
