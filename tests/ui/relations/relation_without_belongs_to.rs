// `relation = ".."` names a belongs-to, but the field declares none.
use dal::Entity;

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(relation = "owner")]
    owner_id: i64,
}

fn main() {}
