// SQLite refuses to drop an indexed column: drop the index first.
fn main() {
    let _script = dal::schema! {
        create users { id(); string(email, 150).index(); }
        alter users {
            drop_column(email);
        }
    };
}
