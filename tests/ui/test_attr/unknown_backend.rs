// Only SQLite, PostgreSQL and MariaDB/MySQL have test databases.
#[dal::test(backends(sqlite, oracle))]
async fn saves(db: dal::Db) {
    let _ = db;
}

fn main() {}
