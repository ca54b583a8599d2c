// A string longer than 16383 characters does not fit a portable VARCHAR; use text().
fn main() {
    let _script = dal::schema! {
        create people {
            id();
            string(bio, 20000);
        }
    };
}
