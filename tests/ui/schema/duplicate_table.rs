// A table can be created only once in a `schema!` (unless dropped or renamed in between).
fn main() {
    let _script = dal::schema! {
        create users { id(); }
        create users { id(); string(email); }
    };
}
