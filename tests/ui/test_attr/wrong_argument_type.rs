// The attribute hands the test a database handle, not any type.
#[dal::test]
async fn saves(url: String) {
    let _ = url;
}

fn main() {}
