// A test without a database argument has no use for the attribute.
#[dal::test(backends(postgres))]
async fn saves() {}

fn main() {}
