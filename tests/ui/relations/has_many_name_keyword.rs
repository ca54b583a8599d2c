// A has-many name becomes a method: a keyword (`match`) cannot be one.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(match = Game::HOST))]
struct User {
    id: i64,
}

#[derive(Entity)]
struct Game {
    id: i64,
    #[dal(belongs_to = User)]
    host_id: i64,
}

fn main() {}
