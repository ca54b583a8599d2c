// The relation `title` would get the handle `Task::TITLE`, which the `title` column has.
use dal::Entity;

#[derive(Entity)]
struct Title {
    id: i64,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = Title, relation = "title")]
    heading_id: i64,
    title: String,
}

fn main() {}
