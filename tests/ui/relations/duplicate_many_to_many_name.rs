// A many-to-many and a has-many with the same name.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tags = PostTag::POST), many_to_many(tags = Tag, through = PostTag::TAG, from = PostTag::POST))]
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
