// A word that is nothing like a column type gets the list of column types.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            money(balance);
        }
    };
}
