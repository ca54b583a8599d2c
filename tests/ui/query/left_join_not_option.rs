// A column of a left-joined entity reads as an Option.
use dal::Entity;

#[derive(Entity)]
#[dal(has_many(tasks = Task::OWNER))]
struct User {
    id: i64,
    name: String,
}

#[derive(Entity)]
struct Task {
    id: i64,
    #[dal(belongs_to = User)]
    owner_id: i64,
    title: String,
}

async fn f(db: &dal::Db) -> dal::Result<()> {
    let _rows: Vec<(String, String)> = User::find()
        .left_join(User::TASKS)
        .select((User::NAME, Task::TITLE))
        .all(db)
        .await?;
    Ok(())
}

fn main() {
    let _ = f;
}
