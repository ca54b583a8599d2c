// A name must be a portable SQL identifier: no spaces.
fn main() {
    let _script = dal::schema! {
        create "user accounts" {
            id();
        }
    };
}
