// Referential actions are written as names, not strings.
fn main() {
    let _script = dal::schema! {
        create users { id(); }
        create posts {
            id();
            foreign_id(author_id).references(users).on_update("cascade");
        }
    };
}
