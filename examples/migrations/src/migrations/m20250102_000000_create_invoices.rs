//! `billing`: invoices, which reference the users of `auth`.

/// The migration `m20250102_000000_create_invoices`.
pub fn migration() -> dal::migrate::Migration {
    dal::migrate::Migration::new(
        "m20250102_000000_create_invoices",
        dal::schema! {
            create invoices {
                id();
                foreign_id(user_id).references(users).on_delete(cascade).external();
                big_integer(amount_cents);
                string(status, 20).default("open");
                timestamps();
                index(status);
            }
        },
    )
    .down(dal::schema! {
        drop invoices;
    })
}
