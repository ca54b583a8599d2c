// `history()` needs a one-column primary key: the history table keys each version by it.
fn main() {
    let _ = dal::schema! {
        create settings {
            string(key, 100);
            text(value);
            history();
        }
    };
}
