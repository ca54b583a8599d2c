// 100000 does not fit the SMALLINT column of an `i16`.
use dal::Entity;

#[derive(Entity)]
struct Counter {
    id: i64,
    #[dal(default = 100000)]
    n: i16,
}

fn main() {}
