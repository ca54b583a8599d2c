// A float default does not fit an integer column.
fn main() {
    let _script = dal::schema! {
        create items {
            id();
            integer(quantity).default(1.5);
        }
    };
}
