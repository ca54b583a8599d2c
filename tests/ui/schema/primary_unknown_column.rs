// A primary key must name columns of the table.
fn main() {
    let _script = dal::schema! {
        create pairs {
            big_integer(a);
            big_integer(b);
            primary(a, c);
        }
    };
}
