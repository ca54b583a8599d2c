// `alter` cannot add a primary key to an existing table.
fn main() {
    let _script = dal::schema! {
        alter users {
            add id();
        }
    };
}
