// A foreign key must reference a column the other table has.
fn main() {
    let _script = dal::schema! {
        create users { id(); string(email, 150).unique(); }
        create posts {
            id();
            foreign_id(author_id).references(users, uid);
        }
    };
}
