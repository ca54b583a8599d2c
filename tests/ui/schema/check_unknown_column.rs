// A check that names a column (`[col]`) must name one of the table's (checked by the runtime's validator).
fn main() {
    let _script = dal::schema! {
        create items {
            id();
            integer(quantity);
            check("[quantiy] >= 0");
        }
    };
}
