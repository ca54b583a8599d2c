// In `alter`, a reference to a table not created in this `schema!` must be marked `.external()`.
fn main() {
    let _script = dal::schema! {
        alter posts {
            add foreign_id(editor_id).nullable().references(users);
        }
    };
}
