// Statements other than `create` and `alter` blocks end with `;`.
fn main() {
    let _script = dal::schema! {
        create users { id(); }
        drop users
        drop_if_exists posts;
    };
}
