// `deleted_at` must be able to say "not deleted", so it must be an `Option`.
use dal::Entity;

#[derive(Entity)]
#[dal(soft_delete)]
struct User {
    id: i64,
    deleted_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
