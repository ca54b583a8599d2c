// A foreign key must reference the primary key or a unique column.
fn main() {
    let _script = dal::schema! {
        create users { id(); string(email, 150); }
        create posts {
            id();
            string(author_email, 150).references(users, email);
        }
    };
}
