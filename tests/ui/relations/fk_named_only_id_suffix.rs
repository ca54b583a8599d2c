// A field called `_id` leaves no relation name: it needs `relation = ".."`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    _id: i64,
}

fn main() {}
