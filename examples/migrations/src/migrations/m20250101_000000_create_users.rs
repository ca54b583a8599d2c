//! `auth`: the users.

/// The migration `m20250101_000000_create_users`.
pub fn migration() -> dal::migrate::Migration {
    dal::migrate::Migration::new(
        "m20250101_000000_create_users",
        dal::schema! {
            create users {
                id();
                string(email, 150).unique();
                string(name, 255).nullable();
                timestamps();
            }
        },
    )
    .down(dal::schema! {
        drop users;
    })
}
