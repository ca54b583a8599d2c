// `contains` on a `Vec<i64>` column takes an element that converts into an
// `i64` without loss: text does not.
use dal::Entity;

#[derive(Entity)]
pub struct Post {
    #[dal(id)]
    pub id: i64,
    pub scores: Vec<i64>,
}

fn main() {
    let _ = Post::find().filter(Post::SCORES.contains("ten"));
}
