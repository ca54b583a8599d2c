// A current-thread runtime has no worker threads to count.
#[dal::test(flavor = "current_thread", worker_threads = 2)]
async fn saves(db: dal::Db) {
    let _ = db;
}

fn main() {}
