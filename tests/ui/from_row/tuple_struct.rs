// Columns are read by field name, so `FromRow` needs named fields.
use dal::FromRow;

#[derive(FromRow)]
struct Pair(i64, String);

fn main() {}
