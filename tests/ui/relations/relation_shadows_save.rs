// A relation's lazy method `save` would shadow `Entity::save`.
use dal::Entity;

#[derive(Entity)]
struct Save {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = Save)]
    save_id: i64,
}

fn main() {}
