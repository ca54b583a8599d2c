// `from` must be the join entity's belongs-to to this entity (`PostTag::POST`), not to the target.
use dal::Entity;

#[derive(Entity)]
#[dal(many_to_many(tags = Tag, through = PostTag::TAG, from = PostTag::TAG))]
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
