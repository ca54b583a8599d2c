// A script statement takes no parameters: values are written as literals.
fn main() {
    let _script = dal::schema! {
        sql("UPDATE [users] SET [active] = ?");
    };
}
