//! SQLite's migration lock: the database's single write lock, taken with
//! `BEGIN IMMEDIATE` and held until the run commits (each migration is a
//! savepoint inside it). A lock row in a table would survive a crashed runner;
//! SQLite's own lock does not. The waiting (dal's asynchronous busy handling up
//! to the lock timeout) is the protocol's, in `migrate/lock.rs`; this file holds
//! the statements (what runs on the rusqlite connection itself is the
//! backend's, in `sqlite/mod.rs`).

/// The lock as named in [`crate::Error::MigrationLocked`].
pub(crate) const LOCK_NAME: &str = "the SQLite database's write lock (BEGIN IMMEDIATE)";

/// Take the write lock: the run's transaction.
pub(crate) const BEGIN: &str = "BEGIN IMMEDIATE";

/// Turn foreign-key enforcement off for a run (only outside a transaction).
pub(crate) const FOREIGN_KEYS_OFF: &str = "PRAGMA foreign_keys = OFF";

/// Turn foreign-key enforcement back on after a run.
pub(crate) const FOREIGN_KEYS_ON: &str = "PRAGMA foreign_keys = ON";

#[cfg(test)]
mod tests {
    /// The lock's name as errors show it; users match on it in logs.
    #[test]
    fn lock_name_is_pinned() {
        assert_eq!(
            super::LOCK_NAME,
            "the SQLite database's write lock (BEGIN IMMEDIATE)"
        );
    }
}
