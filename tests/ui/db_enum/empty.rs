// An enum without variants could hold no value.
#[derive(dal::DbEnum)]
enum Never {}

fn main() {}
