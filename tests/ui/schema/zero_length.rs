// A string column must hold at least one character.
fn main() {
    let _script = dal::schema! {
        create codes {
            id();
            string(code, 0);
        }
    };
}
