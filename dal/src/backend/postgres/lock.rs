//! PostgreSQL's migration lock: a session-level advisory lock
//! (`pg_try_advisory_lock`) keyed by a hash of the current schema and the
//! tracking table's name. How long to try and how to back off is the lock
//! protocol's (`migrate/lock.rs`); this file says which statements and which key.

/// The schema whose tracking table the lock guards.
pub(crate) const CURRENT_SCHEMA: &str = "SELECT current_schema()";

/// Try the lock once, without waiting (`true` when taken); bound to [`key`].
pub(crate) const TRY_LOCK: &str = "SELECT pg_try_advisory_lock(?)";

/// Release the lock (`true` when it was held); bound to [`key`].
pub(crate) const UNLOCK: &str = "SELECT pg_advisory_unlock(?)";

/// The advisory-lock key for a schema's tracking table: the first 8 bytes,
/// big-endian, of SHA-256(`dal::migrate\0{schema}\0{table}`).
pub(crate) fn key(schema: &str, table: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("dal::migrate\0{schema}\0{table}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// The lock as named in [`crate::Error::MigrationLocked`].
pub(crate) fn describe(key: i64, schema: &str, table: &str) -> String {
    format!("pg_advisory_lock({key}) for \"{schema}\".\"{table}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_schema_and_table() {
        assert_ne!(
            key("public", "dal_migrations"),
            key("other", "dal_migrations")
        );
        assert_ne!(
            key("public", "dal_migrations"),
            key("public", "other_migrations")
        );
    }

    /// The keys deployed runners agree on. NEVER CHANGE THESE VALUES without a
    /// migration plan: during a rolling deploy an old and a new version run side
    /// by side, and if they computed different keys both would take "the" lock
    /// and migrate the same database at once. (The expected values were computed
    /// independently of this code: the first 8 bytes, big-endian, of
    /// SHA-256("dal::migrate\0{schema}\0{table}").)
    #[test]
    fn lock_keys_are_pinned() {
        // pg_advisory_lock(key), key of (current_schema(), tracking table)
        assert_eq!(key("public", "dal_migrations"), 7655465273005281545);
        assert_eq!(key("public", "schema_history"), 4689402984880351419);
        assert_eq!(key("app", "dal_migrations"), 21341436048297654);
        // no current schema (an empty search_path)
        assert_eq!(key("", "dal_migrations"), -3701200574706472637);
    }
}
