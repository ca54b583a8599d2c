// A field holds one managed role: `version` and `created_at` cannot be combined.
use dal::Entity;

#[derive(Entity)]
struct Doc {
    id: i64,
    #[dal(version, created_at)]
    stamp: i64,
}

fn main() {}
