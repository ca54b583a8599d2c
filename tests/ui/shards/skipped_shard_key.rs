// A skipped field is not stored, so it cannot route rows.
use dal::Entity;

#[derive(Entity)]
pub struct Order {
    #[dal(id)]
    pub id: i64,
    #[dal(skip, shard_key)]
    pub tenant: i64,
}

fn main() {}
