// `primary(..)` needs at least one column.
fn main() {
    let _script = dal::schema! {
        create pairs {
            big_integer(a);
            primary();
        }
    };
}
