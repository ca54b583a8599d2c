// The body runs on the runtime the attribute starts: the function must be `async`.
#[dal::test]
fn saves(db: dal::Db) {
    let _ = db;
}

fn main() {}
