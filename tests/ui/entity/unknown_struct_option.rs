// `soft_deletes` is not a struct option: darling rejects it and suggests `soft_delete`.
use dal::Entity;

#[derive(Entity)]
#[dal(soft_deletes)]
struct User {
    id: i64,
}

fn main() {}
