// A table cannot be renamed to the name of another table created above.
fn main() {
    let _script = dal::schema! {
        create users { id(); }
        create accounts { id(); }
        rename users to accounts;
    };
}
