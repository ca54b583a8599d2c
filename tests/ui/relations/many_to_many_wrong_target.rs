// The target is `Tag`, but `through` points at `Topic`.
use dal::Entity;

#[derive(Entity)]
#[dal(many_to_many(tags = Tag, through = PostTopic::TOPIC, from = PostTopic::POST))]
struct Post {
    id: i64,
}

#[derive(Entity)]
struct Tag {
    id: i64,
}

#[derive(Entity)]
struct Topic {
    id: i64,
}

#[derive(Entity)]
struct PostTopic {
    id: i64,
    #[dal(belongs_to = Post)]
    post_id: i64,
    #[dal(belongs_to = Topic)]
    topic_id: i64,
}

fn main() {}
