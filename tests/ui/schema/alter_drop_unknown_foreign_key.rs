// `drop_foreign(col)` needs a foreign key on that column.
fn main() {
    let _script = dal::schema! {
        create users { id(); big_integer(team_id); }
        alter users {
            drop_foreign(team_id);
        }
    };
}
