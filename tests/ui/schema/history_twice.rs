// `history()` says it once per table.
fn main() {
    let _ = dal::schema! {
        create tasks {
            id();
            string(title, 200);
            history();
            history();
        }
    };
}
