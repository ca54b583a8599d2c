// Only an integer column can auto-increment (checked by the runtime's validator).
fn main() {
    let _script = dal::schema! {
        create codes {
            string(code, 10).auto_increment().primary();
        }
    };
}
