// `Counter::HITS` is a `u64` column: comparing it with a string must not compile.
use dal::Entity;

#[derive(Entity)]
struct Counter {
    id: i64,
    hits: u64,
}

fn main() {
    let _ = Counter::find().filter(Counter::HITS.eq(String::from("many")));
}
