// `.nullable()` takes no arguments.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            string(nick, 40).nullable(true);
        }
    };
}
