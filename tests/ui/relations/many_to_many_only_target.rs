// `many_to_many(tags = Tag)` says nothing of the join entity.
use dal::Entity;

#[derive(Entity)]
#[dal(many_to_many(tags = Tag))]
struct Post {
    id: i64,
}

#[derive(Entity)]
struct Tag {
    id: i64,
}

fn main() {}
