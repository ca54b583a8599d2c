// ON DELETE SET NULL needs a nullable column (checked by the runtime's validator).
fn main() {
    let _script = dal::schema! {
        create users { id(); }
        create posts {
            id();
            foreign_id(author_id).references(users).on_delete(set_null);
        }
    };
}
