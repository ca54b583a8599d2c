// A unique index must name columns of the table.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            string(email);
            unique_index(emial);
        }
    };
}
