// dal fills the `version` column itself: it takes no column options like `unique`.
use dal::Entity;

#[derive(Entity)]
struct Doc {
    id: i64,
    #[dal(version, unique)]
    version: i64,
}

fn main() {}
