// `strng` is not a column type (a typo of `string`).
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            strng(email);
        }
    };
}
