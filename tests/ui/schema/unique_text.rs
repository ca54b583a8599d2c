// TEXT cannot be unique portably (MySQL needs a key prefix); checked by the runtime's validator.
fn main() {
    let _script = dal::schema! {
        create posts {
            id();
            text(body).unique();
        }
    };
}
