// `.nullabel()` is not a column modifier (a typo of `.nullable()`).
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            string(nick, 40).nullabel();
        }
    };
}
