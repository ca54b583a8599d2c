// A table has one primary key: `id()` already declares it.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            string(email);
            primary(email);
        }
    };
}
