// Every row needs a key to find its shard: the key cannot be an `Option`.
use dal::Entity;

#[derive(Entity)]
pub struct Order {
    #[dal(id)]
    pub id: i64,
    #[dal(shard_key)]
    pub tenant: Option<i64>,
}

fn main() {}
