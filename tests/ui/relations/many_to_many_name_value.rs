// `many_to_many = ".."` is not the form: it is `many_to_many(name = Target, through = .., from = ..)`.
use dal::Entity;

#[derive(Entity)]
#[dal(many_to_many = "tags")]
struct Post {
    id: i64,
}

fn main() {}
