//! One file per migration, named `m{YYYYMMDD}_{HHMMSS}_{what}.rs` (what
//! `migration new` and `migration generate` write), each defining
//! `pub fn migration() -> dal::migrate::Migration`. [`crate::migrator`]
//! registers them in their modules.

pub mod m20250101_000000_create_users;
pub mod m20250101_000100_create_sessions;
pub mod m20250102_000000_create_invoices;
pub mod m20250103_000000_add_invoice_paid_at;
