// Indexes are added to an existing table with `add_index`, not `index`.
fn main() {
    let _script = dal::schema! {
        alter users {
            index(email);
        }
    };
}
