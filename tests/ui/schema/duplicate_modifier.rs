// A modifier is given once per column.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            string(nick, 40).nullable().unique().nullable();
        }
    };
}
