// The target of a many-to-many must be an entity.
use dal::Entity;

#[derive(Entity)]
#[dal(many_to_many(tags = String, through = PostTag::TAG, from = PostTag::POST))]
struct Post {
    id: i64,
}

#[derive(Entity)]
struct Tag {
    id: i64,
}

#[derive(Entity)]
struct PostTag {
    id: i64,
    #[dal(belongs_to = Post)]
    post_id: i64,
    #[dal(belongs_to = Tag)]
    tag_id: i64,
}

fn main() {}
