// A table another table's foreign key references cannot be dropped first.
fn main() {
    let _script = dal::schema! {
        create users { id(); }
        create posts { id(); foreign_id(author_id).references(users); }
        drop users;
    };
}
