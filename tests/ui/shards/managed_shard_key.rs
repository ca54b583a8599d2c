// A column dal sets itself (a version, a timestamp) changes under the row:
// it cannot be the shard key. Nor can a JSON field.
use dal::Entity;

#[derive(Entity)]
#[dal(timestamps)]
pub struct Order {
    #[dal(id)]
    pub id: i64,
    #[dal(shard_key)]
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

#[derive(Entity)]
pub struct Event {
    #[dal(id)]
    pub id: i64,
    #[dal(json, shard_key)]
    pub tags: Vec<String>,
}

fn main() {}
