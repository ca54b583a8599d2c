// `deleted_at` is set by soft deletes: it cannot hold a foreign key.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
#[dal(soft_delete)]
struct Task {
    id: i64,
    #[dal(deleted_at, belongs_to = User, relation = "deleter")]
    deleted_by_id: Option<i64>,
}

fn main() {}
