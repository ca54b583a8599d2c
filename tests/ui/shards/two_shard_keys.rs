// One field routes a row: a second `#[dal(shard_key)]` is refused.
use dal::Entity;

#[derive(Entity)]
pub struct Order {
    #[dal(id)]
    pub id: i64,
    #[dal(shard_key)]
    pub tenant: i64,
    #[dal(shard_key)]
    pub region: String,
}

fn main() {}
