// Two columns of one table cannot have the same name.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            string(email, 150);
            text(email);
        }
    };
}
