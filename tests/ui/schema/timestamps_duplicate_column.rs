// `timestamps()` adds `created_at`, which the table already declares.
fn main() {
    let _script = dal::schema! {
        create users {
            id();
            timestamp_tz(created_at);
            timestamps();
        }
    };
}
