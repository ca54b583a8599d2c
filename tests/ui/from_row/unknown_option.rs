// `renamed` is not a `FromRow` field option: darling rejects it and suggests `rename`.
use dal::FromRow;

#[derive(FromRow)]
struct User {
    #[dal(renamed = "mail")]
    email: String,
}

fn main() {}
