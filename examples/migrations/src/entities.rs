//! The application's entities. Their blueprints are what `generate` compares
//! with the live database.

use chrono::{DateTime, Utc};
use dal::Entity;

/// A user of the application (`auth` module).
#[derive(Entity, Debug, Clone)]
#[dal(table = "users", timestamps)]
pub struct User {
    /// Generated id.
    #[dal(id)]
    pub id: i64,
    /// Login, unique.
    #[dal(length = 150, unique)]
    pub email: String,
    /// Full name, when given.
    #[dal(length = 255)]
    pub name: Option<String>,
    /// The name shown to others: no migration creates it yet.
    #[dal(length = 80)]
    pub display_name: Option<String>,
}

/// A login session (`auth` module).
#[derive(Entity, Debug, Clone)]
#[dal(table = "sessions")]
pub struct Session {
    /// Generated id.
    #[dal(id)]
    pub id: i64,
    /// Whose session it is.
    #[dal(references = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    /// The secret the client presents, unique.
    #[dal(length = 64, unique)]
    pub token: String,
}

/// An invoice (`billing` module).
#[derive(Entity, Debug, Clone)]
#[dal(table = "invoices", timestamps)]
pub struct Invoice {
    /// Generated id.
    #[dal(id)]
    pub id: i64,
    /// Who pays it.
    #[dal(references = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    /// Amount in cents.
    pub amount_cents: i64,
    /// `open`, `paid` or `void`.
    #[dal(length = 20, default = "open", index)]
    pub status: String,
    /// When it was paid.
    pub paid_at: Option<DateTime<Utc>>,
}
