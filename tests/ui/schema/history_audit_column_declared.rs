// `history()` adds the hidden audit columns: the table must not declare them itself.
fn main() {
    let _ = dal::schema! {
        create tasks {
            id();
            text(dal_change_note).nullable();
            history();
        }
    };
}
