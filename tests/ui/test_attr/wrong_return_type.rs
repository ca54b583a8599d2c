// A test returns `()` or `Result<(), E>`; anything else cannot pass or fail.
#[dal::test]
async fn saves(db: dal::Db) -> i64 {
    db.fetch_scalar("SELECT 1", ()).await.unwrap()
}

fn main() {}
