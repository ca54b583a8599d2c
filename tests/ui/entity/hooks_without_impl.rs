// `#[dal(hooks)]` needs an `impl dal::Hooks` for the entity.
#[derive(dal::Entity)]
#[dal(table = "users", hooks)]
struct User {
    #[dal(id)]
    id: i64,
    email: String,
}

fn main() {}
