// A backend listed twice (here under an alias) would make two tests of one name.
#[dal::test(backends(postgres, mysql, pg))]
async fn saves(db: dal::Db) {
    let _ = db;
}

fn main() {}
