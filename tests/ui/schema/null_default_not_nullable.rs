// A NULL default needs a nullable column.
fn main() {
    let _script = dal::schema! {
        create items {
            id();
            integer(quantity).default(null);
        }
    };
}
