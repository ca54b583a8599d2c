// `entities(..)` runs `ensure_schema`: each must be a `#[derive(Entity)]` type.
struct Plain {
    _id: i64,
}

#[dal::test(entities(Plain))]
async fn saves(db: dal::Db) {
    let _ = db;
}

fn main() {}
