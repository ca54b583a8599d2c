// A table dropped above cannot be altered.
fn main() {
    let _script = dal::schema! {
        create users { id(); }
        drop users;
        alter users {
            add string(nick, 40).nullable();
        }
    };
}
