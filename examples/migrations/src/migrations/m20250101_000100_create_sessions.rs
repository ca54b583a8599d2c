//! `auth`: login sessions of the users.

/// The migration `m20250101_000100_create_sessions`.
pub fn migration() -> dal::migrate::Migration {
    dal::migrate::Migration::new(
        "m20250101_000100_create_sessions",
        dal::schema! {
            create sessions {
                id();
                foreign_id(user_id).references(users).on_delete(cascade).external();
                string(token, 64).unique();
            }
        },
    )
    .down(dal::schema! {
        drop sessions;
    })
}
