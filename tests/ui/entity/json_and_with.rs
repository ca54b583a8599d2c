// `json` and `with` are two ways of storing a field: only one can apply.
use dal::Entity;

mod codec {}

#[derive(Entity)]
struct User {
    id: i64,
    #[dal(json, with = codec)]
    prefs: String,
}

fn main() {}
