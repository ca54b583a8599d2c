// `history()` takes no arguments.
fn main() {
    let _ = dal::schema! {
        create tasks { id(); history(deleted_at); }
    };
}
