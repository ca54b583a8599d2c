// `#[dal::test]` makes the test and starts its runtime: another test attribute would run it twice.
#[dal::test]
#[tokio::test]
async fn saves(db: dal::Db) {
    let _ = db;
}

fn main() {}
