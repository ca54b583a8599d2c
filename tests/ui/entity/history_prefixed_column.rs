// With `history`, `history_*` columns are reserved for the history table.
use dal::Entity;

#[derive(Entity)]
#[dal(history)]
struct User {
    id: i64,
    history_note: String,
}

fn main() {}
