// An alter of a table created above cannot add a column it already has.
fn main() {
    let _script = dal::schema! {
        create users { id(); string(email, 150); }
        alter users {
            add string(email, 200).nullable();
        }
    };
}
