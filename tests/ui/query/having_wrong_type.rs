// An aggregate compared with a value of another type.
use dal::Entity;

#[derive(Entity)]
struct User {
    id: i64,
    name: String,
}

fn main() {
    let _ = User::find()
        .select((User::NAME, User::ID.count()))
        .group_by(User::NAME)
        .having(User::ID.count().gt("many"));
}
