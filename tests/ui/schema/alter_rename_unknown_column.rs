// `rename_column` must name a column the table has.
fn main() {
    let _script = dal::schema! {
        create users { id(); string(email, 150); }
        alter users {
            rename_column(mail, email_address);
        }
    };
}
