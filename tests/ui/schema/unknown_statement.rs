// `crate` is not a statement (a typo of `create`).
fn main() {
    let _script = dal::schema! {
        crate users { id(); }
    };
}
