// A name longer than 63 bytes does not fit PostgreSQL.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            string(this_column_name_is_far_too_long_for_postgresql_which_stops_at_63);
        }
    };
}
