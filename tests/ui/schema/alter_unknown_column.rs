// An alter of a table created above can drop only a column it has.
fn main() {
    let _script = dal::schema! {
        create users { id(); string(email, 150); }
        alter users {
            drop_column(nick);
        }
    };
}
