// `lenght` is not a field option: darling rejects it and suggests `length`.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    #[dal(lenght = 100)]
    email: String,
}

fn main() {}
