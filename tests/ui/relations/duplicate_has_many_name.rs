// A has-many named like a belongs-to of the same entity.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(parent = Category::PARENT))]
struct Category {
    id: i64,
    #[dal(belongs_to = Category)]
    parent_id: Option<i64>,
}

fn main() {}
