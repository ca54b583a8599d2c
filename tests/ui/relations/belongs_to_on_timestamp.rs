// `created_at` is filled by dal (with `timestamps`): it cannot hold a foreign key.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
#[dal(timestamps)]
struct Task {
    id: i64,
    #[dal(belongs_to = User, relation = "creator")]
    created_at: i64,
}

fn main() {}
