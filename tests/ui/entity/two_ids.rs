// Two fields are marked `#[dal(id)]`: entities have one (non-composite) key.
use dal::Entity;

#[derive(Entity)]
struct Membership {
    #[dal(id)]
    user_id: i64,
    #[dal(id)]
    team_id: i64,
}

fn main() {}
