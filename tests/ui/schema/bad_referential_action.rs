// `cascde` is not a referential action (a typo of `cascade`).
fn main() {
    let _script = dal::schema! {
        create users { id(); }
        create posts {
            id();
            foreign_id(author_id).references(users).on_delete(cascde);
        }
    };
}
