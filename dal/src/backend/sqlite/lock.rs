//! SQLite's migration lock: the database's single write lock, taken with
//! `BEGIN IMMEDIATE` and held until the run commits (each migration is a
//! savepoint inside it). A lock row in a table would survive a crashed runner;
//! SQLite's own lock does not. The waiting (dal's asynchronous busy handling up
//! to the lock timeout) is the protocol's, in `migrate/lock.rs`; this file holds
//! the statements and what is done on the rusqlite connection itself.

use super::{SqliteConn, map_err};
use crate::error::Result;

/// The lock as named in [`crate::Error::MigrationLocked`].
pub(crate) const LOCK_NAME: &str = "the SQLite database's write lock (BEGIN IMMEDIATE)";

/// Take the write lock: the run's transaction.
pub(crate) const BEGIN: &str = "BEGIN IMMEDIATE";

/// Turn foreign-key enforcement off for a run (only outside a transaction).
pub(crate) const FOREIGN_KEYS_OFF: &str = "PRAGMA foreign_keys = OFF";

/// Turn foreign-key enforcement back on after a run.
pub(crate) const FOREIGN_KEYS_ON: &str = "PRAGMA foreign_keys = ON";

/// Whether a transaction is open on the connection (SQLite rolls a whole
/// transaction back on some errors, so the run asks instead of assuming).
pub(crate) fn in_transaction(c: &SqliteConn) -> bool {
    !c.conn.is_autocommit()
}

/// The first foreign-key violation in the database, if any
/// (`PRAGMA foreign_key_check`), in words.
pub(crate) fn foreign_key_violation(c: &mut SqliteConn) -> Result<Option<String>> {
    let mut stmt = c
        .conn
        .prepare("PRAGMA foreign_key_check")
        .map_err(map_err)?;
    let mut rows = stmt.query([]).map_err(map_err)?;
    if let Some(r) = rows.next().map_err(map_err)? {
        let table: String = r.get(0).unwrap_or_default();
        let parent: String = r.get(2).unwrap_or_default();
        return Ok(Some(format!(
            "rows of `{table}` reference missing rows of `{parent}` (PRAGMA foreign_key_check)"
        )));
    }
    Ok(None)
}

/// Undo an abandoned run at once (rusqlite is synchronous, so this works from
/// `Drop`): roll its transaction back and, when the run turned foreign keys
/// off, turn them on again. `false` when either failed (the connection must
/// then not be reused).
pub(crate) fn abandon(c: &mut SqliteConn, foreign_keys_off: bool) -> bool {
    let rolled_back = c.conn.is_autocommit() || c.conn.execute_batch("ROLLBACK").is_ok();
    let fk_ok = !foreign_keys_off || c.conn.execute_batch(FOREIGN_KEYS_ON).is_ok();
    rolled_back && fk_ok
}

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
