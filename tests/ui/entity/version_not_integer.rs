// The optimistic-locking `version` counter must be an integer.
use dal::Entity;

#[derive(Entity)]
struct Doc {
    id: i64,
    #[dal(version)]
    revision: String,
}

fn main() {}
