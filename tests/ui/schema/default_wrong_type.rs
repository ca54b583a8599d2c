// A string default does not fit a boolean column.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            boolean(active).default("yes");
        }
    };
}
