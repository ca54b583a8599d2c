// A foreign key column must have the referenced column's type.
fn main() {
    let _script = dal::schema! {
        create users { uuid_id(); }
        create posts {
            id();
            foreign_id(author_id).references(users);
        }
    };
}
