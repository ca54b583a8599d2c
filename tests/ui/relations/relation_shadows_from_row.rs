// A relation's lazy method `from_row` would shadow `FromRow::from_row`, which every entity has.
use dal::Entity;

#[derive(Entity)]
struct Source {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = Source, relation = "from_row")]
    source_id: i64,
}

fn main() {}
