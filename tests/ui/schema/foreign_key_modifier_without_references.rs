// `.on_delete(..)` describes a foreign key, which this column does not have.
fn main() {
    let _script = dal::schema! {
        create posts {
            id();
            foreign_id(author_id).on_delete(cascade);
        }
    };
}
