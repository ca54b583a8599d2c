// `drop_index` must name an index the table has.
fn main() {
    let _script = dal::schema! {
        create users { id(); string(email, 150).index(); }
        alter users {
            drop_index(users_mail_index);
        }
    };
}
