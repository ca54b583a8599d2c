//! An application's migrations, as dal expects them: a library that builds
//! the [`Migrator`] (two modules, `auth` and `billing`, each migration written
//! with [`dal::schema!`] in `src/migrations/`), the entities whose blueprints
//! `generate` compares with the database, and a `migration` binary
//! (`src/main.rs`) that hands both to [`dal::cli`].
//!
//! ```text
//! export DAL_DATABASE_URL=sqlite://app.db
//! cargo run -p dal-example-migrations -- status
//! cargo run -p dal-example-migrations -- up
//! cargo run -p dal-example-migrations -- generate add_display_name
//! ```
//!
//! The entities are one step ahead of the migrations (`User::display_name`
//! has no migration yet), so `generate` has something to write.

pub mod entities;
pub mod migrations;

use dal::autogen::Blueprints;
use dal::migrate::{Migrator, Module};

/// Every migration of the application, in two modules: `auth` (users and
/// their sessions) applies before `billing` (invoices, which reference users).
///
/// ```
/// let names: Vec<String> = dal_example_migrations::migrator()
///     .migrations()
///     .map(|(module, m)| format!("{module}/{}", m.name()))
///     .collect();
/// assert_eq!(names[0], "auth/m20250101_000000_create_users");
/// assert_eq!(names.len(), 4);
/// ```
pub fn migrator() -> Migrator {
    use migrations::*;
    Migrator::new()
        .module(
            Module::new("auth")
                .migration(m20250101_000000_create_users::migration())
                .migration(m20250101_000100_create_sessions::migration()),
        )
        .module(
            Module::new("billing")
                .migration(m20250102_000000_create_invoices::migration())
                .migration(m20250103_000000_add_invoice_paid_at::migration()),
        )
}

/// The tables the application's entities want: what `generate` brings the
/// database to.
///
/// ```
/// let b = dal_example_migrations::blueprints();
/// let names: Vec<&str> = b.tables().iter().map(|t| t.name.as_str()).collect();
/// assert_eq!(names, ["users", "sessions", "invoices"]);
/// ```
pub fn blueprints() -> Blueprints {
    Blueprints::new()
        .entity::<entities::User>()
        .entity::<entities::Session>()
        .entity::<entities::Invoice>()
}
