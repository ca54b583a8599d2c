//! The MySQL family's migration lock: `GET_LOCK(name, timeout)`, which waits on
//! the server. Lock names are server-wide, so the name includes the database.
//! The protocol around it (deadline, release, what a failure means) is
//! `migrate/lock.rs`'s; this file says which statements and which name.

use std::time::Duration;

/// The database whose tracking table the lock guards.
pub(crate) const CURRENT_DATABASE: &str = "SELECT DATABASE()";

/// Take the lock, waiting on the server: bound to [`lock_name`] and
/// [`wait_seconds`]; returns 1 when taken, 0 on timeout, NULL on error.
pub(crate) const GET_LOCK: &str = "SELECT GET_LOCK(?, ?)";

/// Release the lock (1 when it was held); bound to [`lock_name`].
pub(crate) const RELEASE_LOCK: &str = "SELECT RELEASE_LOCK(?)";

/// The longest lock name MySQL and MariaDB take.
const MAX_NAME_CHARS: usize = 64;

/// The `GET_LOCK` name (at most 64 characters):
/// `dal_migrate.{database}.{table}`, or when that is longer, `dal_migrate.`
/// and the first 40 hex digits of that name's SHA-256.
pub(crate) fn lock_name(database: &str, table: &str) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;
    let name = format!("dal_migrate.{database}.{table}");
    if name.chars().count() <= MAX_NAME_CHARS {
        return name;
    }
    let mut out = String::from("dal_migrate.");
    for b in &Sha256::digest(name.as_bytes())[..20] {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The wait handed to `GET_LOCK`: whole seconds (what MySQL and MariaDB both
/// take), rounded up so the server never gives up before `timeout`.
pub(crate) fn wait_seconds(timeout: Duration) -> i64 {
    let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    i64::try_from(secs).unwrap_or(i64::MAX)
}

/// The lock as named in [`crate::Error::MigrationLocked`] and in errors.
pub(crate) fn describe(name: &str) -> String {
    format!("GET_LOCK('{name}')")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_hashed_to_fit() {
        let long = lock_name(&"d".repeat(64), "dal_migrations");
        assert!(long.len() <= 64, "{long}");
        assert!(long.starts_with("dal_migrate."));
        assert_eq!(wait_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(wait_seconds(Duration::from_secs(3)), 3);
    }

    /// The names deployed runners agree on. NEVER CHANGE THESE VALUES without a
    /// migration plan: during a rolling deploy an old and a new version run side
    /// by side, and if they computed different names both would take "the" lock
    /// and migrate the same database at once. (The expected values were computed
    /// independently of this code: `dal_migrate.{database}.{table}`, or past 64
    /// characters `dal_migrate.` and the first 40 hex digits of that name's
    /// SHA-256.)
    #[test]
    fn lock_names_are_pinned() {
        // GET_LOCK(name), name of (DATABASE(), tracking table)
        assert_eq!(
            lock_name("app", "dal_migrations"),
            "dal_migrate.app.dal_migrations"
        );
        assert_eq!(
            lock_name("shop", "schema_history"),
            "dal_migrate.shop.schema_history"
        );
        assert_eq!(
            lock_name(&"d".repeat(64), "dal_migrations"),
            "dal_migrate.bb89c4995426e5ecbdbf525d60c6152cba923d7f"
        );
        // the longest name kept as is, and the first one hashed
        let fits = "a".repeat(64 - "dal_migrate..dal_migrations".len());
        assert_eq!(
            lock_name(&fits, "dal_migrations"),
            format!("dal_migrate.{fits}.dal_migrations")
        );
        assert_eq!(
            lock_name(&format!("{fits}a"), "dal_migrations").len(),
            "dal_migrate.".len() + 40
        );
    }
}
