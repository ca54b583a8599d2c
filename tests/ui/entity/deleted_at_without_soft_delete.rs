// A `deleted_at` field only means something when the entity has `soft_delete`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    #[dal(deleted_at)]
    removed: Option<chrono::DateTime<chrono::Utc>>,
}

fn main() {}
