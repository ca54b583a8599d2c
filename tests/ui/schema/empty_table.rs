// A table needs at least one column.
fn main() {
    let _script = dal::schema! {
        create nothing {}
    };
}
