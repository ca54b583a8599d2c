// Options are checked: a misspelt one is reported with the closest name.
#[dal::test(backend(postgres))]
async fn saves(db: dal::Db) {
    let _ = db;
}

fn main() {}
