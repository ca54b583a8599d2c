//! `billing`: when an invoice was paid.

/// The migration `m20250103_000000_add_invoice_paid_at`.
pub fn migration() -> dal::migrate::Migration {
    dal::migrate::Migration::new(
        "m20250103_000000_add_invoice_paid_at",
        dal::schema! {
            alter invoices {
                add timestamp_tz(paid_at).nullable();
            }
        },
    )
    .down(dal::schema! {
        alter invoices {
            drop_column(paid_at);
        }
    })
}
