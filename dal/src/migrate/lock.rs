//! A migration run's session: one connection, held for the whole run, that
//! holds the database-level migration lock.
//!
//! * PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`, tried
//!   with backoff until the lock timeout), keyed by a hash of the current
//!   schema and the tracking table's name.
//! * MySQL / MariaDB: `GET_LOCK(name, timeout)` (server-wide names: the name
//!   includes the database).
//! * SQLite: `BEGIN IMMEDIATE` (the database's single write lock), waited for
//!   with dal's asynchronous busy handling until the lock timeout, and held
//!   until the run commits. Each migration is a savepoint inside it. A lock
//!   row in a table would survive a crashed runner; SQLite's own lock does not.
//!
//! Every statement of the run goes through this one connection, so a run also
//! works on a pool of one connection (SQLite in memory). If the run's future is
//! dropped halfway, the session rolls back (SQLite) or closes its connection
//! (PostgreSQL, MySQL: the server then releases the lock).

use std::panic::Location;
use std::time::{Duration, Instant};

use dal_schema::Dialect;

use crate::backend::Conn;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::result::ExecResult;
use crate::row::FromRow;

#[derive(Debug, Clone, PartialEq)]
enum Held {
    Nothing,
    Pg(i64),
    MySql(String),
    Sqlite,
}

pub(super) struct Session<'a> {
    db: &'a Db,
    conn: Conn,
    pub(super) dialect: Dialect,
    busy: Duration,
    held: Held,
    /// SQLite: foreign-key enforcement is off for this run.
    pub(super) sqlite_fk_off: bool,
}

fn no_row() -> Error {
    Error::Driver("the server returned no row for a single-row query".into())
}

const SQLITE_LOCK: &str = "the SQLite database's write lock (BEGIN IMMEDIATE)";

/// The advisory-lock key for a schema's tracking table.
fn pg_key(schema: &str, table: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("dal::migrate\0{schema}\0{table}").as_bytes());
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_be_bytes(b)
}

/// The `GET_LOCK` name (at most 64 characters).
fn mysql_lock_name(database: &str, table: &str) -> String {
    let name = format!("dal_migrate.{database}.{table}");
    if name.chars().count() <= 64 {
        return name;
    }
    let sum = super::checksum_of(&[name]);
    // the checksum is hexadecimal (ASCII): byte 40 is a character boundary
    format!("dal_migrate.{}", &sum[..40])
}

impl<'a> Session<'a> {
    /// Check out a connection and take the migration lock for `table`.
    /// `sqlite_fk_off`: turn SQLite's foreign-key enforcement off for the run.
    pub(super) async fn open(
        db: &'a Db,
        table: &str,
        timeout: Duration,
        sqlite_fk_off: bool,
    ) -> Result<Session<'a>> {
        let conn = db
            .acquire_conn(Location::caller(), &db.exec_options(None).deadline)
            .await?;
        let dialect = db.dialect();
        let mut s = Session {
            db,
            conn,
            dialect,
            busy: db.config().sqlite_busy_timeout(),
            held: Held::Nothing,
            sqlite_fk_off: sqlite_fk_off && dialect == Dialect::Sqlite,
        };
        let started = Instant::now();
        match dialect {
            Dialect::Postgres => s.lock_pg(table, timeout, started).await?,
            Dialect::MySql => s.lock_mysql(table, timeout, started).await?,
            Dialect::Sqlite => s.lock_sqlite(timeout, started).await?,
        }
        tracing::debug!(
            target: "dal::migrate",
            db = s.db.config().name(),
            waited_ms = started.elapsed().as_millis() as u64,
            "migration lock taken"
        );
        Ok(s)
    }

    async fn lock_pg(&mut self, table: &str, timeout: Duration, started: Instant) -> Result<()> {
        let (schema,): (Option<String>,) = self
            .fetch_one("SELECT current_schema()", ())
            .await?
            .ok_or_else(no_row)?;
        let schema = schema.unwrap_or_default();
        let key = pg_key(&schema, table);
        let mut delay = Duration::from_millis(5);
        loop {
            let (got,): (bool,) = self
                .fetch_one("SELECT pg_try_advisory_lock(?)", (key,))
                .await?
                .ok_or_else(no_row)?;
            if got {
                self.held = Held::Pg(key);
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(Error::MigrationLocked {
                    lock: format!("pg_advisory_lock({key}) for \"{schema}\".\"{table}\""),
                    waited,
                });
            }
            tokio::time::sleep(delay.min(timeout - waited)).await;
            delay = (delay * 2).min(Duration::from_millis(200));
        }
    }

    async fn lock_mysql(&mut self, table: &str, timeout: Duration, started: Instant) -> Result<()> {
        let (database,): (Option<String>,) = self
            .fetch_one("SELECT DATABASE()", ())
            .await?
            .ok_or_else(no_row)?;
        let name = mysql_lock_name(&database.unwrap_or_default(), table);
        // GET_LOCK waits on the server; whole seconds work on MySQL and MariaDB
        let secs = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
        let stmt = self.db.inner.statements.get("SELECT GET_LOCK(?, ?)")?;
        let mut opts = self.db.exec_options(None);
        opts.deadline = crate::deadline::Deadline::new(Some(timeout + Duration::from_secs(30)));
        let rows: Vec<(Option<i64>,)> = self
            .conn
            .fetch_as(&stmt, &(name.as_str(), secs as i64), Some(1), opts)
            .await?;
        match rows.first() {
            Some((Some(1),)) => {
                self.held = Held::MySql(name);
                Ok(())
            }
            Some((Some(_),)) => Err(Error::MigrationLocked {
                lock: format!("GET_LOCK('{name}')"),
                waited: started.elapsed(),
            }),
            _ => Err(Error::Database {
                message: format!("GET_LOCK('{name}') failed (returned NULL)"),
                code: None,
                transient: false,
            }),
        }
    }

    async fn lock_sqlite(&mut self, timeout: Duration, started: Instant) -> Result<()> {
        if self.sqlite_fk_off {
            self.raw("PRAGMA foreign_keys = OFF").await?;
        }
        // dal waits for SQLite's lock asynchronously, up to the given time
        let mut opts = self.db.ddl_options();
        opts.busy_timeout = timeout;
        match self.conn.execute_raw("BEGIN IMMEDIATE", opts).await {
            Ok(()) => {
                self.held = Held::Sqlite;
                Ok(())
            }
            Err(e) => {
                self.restore_sqlite_fk().await;
                if matches!(e, Error::Busy { .. }) {
                    Err(Error::MigrationLocked {
                        lock: SQLITE_LOCK.to_string(),
                        waited: started.elapsed(),
                    })
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn restore_sqlite_fk(&mut self) {
        if self.sqlite_fk_off && self.raw("PRAGMA foreign_keys = ON").await.is_err() {
            self.conn.mark_broken();
        }
    }

    /// Release the lock. SQLite: commit the run's transaction (the error is
    /// that of the commit, after which nothing of the run is kept). Elsewhere a
    /// lock that cannot be released closes the connection, which releases it.
    pub(super) async fn close(mut self) -> Result<()> {
        let held = std::mem::replace(&mut self.held, Held::Nothing);
        match held {
            Held::Nothing => Ok(()),
            Held::Pg(key) => {
                let r = self
                    .fetch_one::<(bool,), _>("SELECT pg_advisory_unlock(?)", (key,))
                    .await;
                if !matches!(r, Ok(Some((true,)))) {
                    tracing::warn!(target: "dal::migrate", "could not release the advisory lock: closing the connection");
                    self.conn.mark_broken();
                }
                Ok(())
            }
            Held::MySql(name) => {
                let r = self
                    .fetch_one::<(Option<i64>,), _>("SELECT RELEASE_LOCK(?)", (name.as_str(),))
                    .await;
                if !matches!(r, Ok(Some((Some(1),)))) {
                    tracing::warn!(target: "dal::migrate", "could not release GET_LOCK('{name}'): closing the connection");
                    self.conn.mark_broken();
                }
                Ok(())
            }
            Held::Sqlite => {
                let r = if self.sqlite_in_transaction() {
                    match self.raw("COMMIT").await {
                        Ok(()) => Ok(()),
                        Err(e) => {
                            if self.sqlite_in_transaction() && self.raw("ROLLBACK").await.is_err() {
                                self.conn.mark_broken();
                            }
                            Err(e)
                        }
                    }
                } else {
                    Ok(())
                };
                self.restore_sqlite_fk().await;
                r
            }
        }
    }

    /// The database's configured name (for logs).
    pub(super) fn db_name(&self) -> &str {
        self.db.config().name()
    }

    /// Run SQL without parameters, as is.
    pub(super) async fn raw(&mut self, sql: &str) -> Result<()> {
        let mut opts = self.db.ddl_options();
        opts.busy_timeout = self.busy;
        self.conn.execute_raw(sql, opts).await
    }

    /// Run a portable statement with parameters.
    pub(super) async fn exec<P: Params + Send + Sync>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<ExecResult> {
        let stmt = self.db.inner.statements.get(sql)?;
        let opts = self.db.ddl_options();
        self.conn.execute(&stmt, &params, opts).await
    }

    /// Run a portable query and decode every row.
    pub(super) async fn fetch<T: FromRow + Send, P: Params + Send + Sync>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>> {
        let stmt = self.db.inner.statements.get(sql)?;
        let opts = self.db.ddl_options();
        self.conn.fetch_as(&stmt, &params, None, opts).await
    }

    async fn fetch_one<T: FromRow + Send, P: Params + Send + Sync>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Option<T>> {
        Ok(self.fetch(sql, params).await?.into_iter().next())
    }

    /// Record whether a (PostgreSQL) transaction is open on the connection.
    pub(super) fn set_in_transaction(&mut self, yes: bool) {
        self.conn.set_in_transaction(yes);
    }

    /// Mark the connection unusable after an unknown outcome.
    pub(super) fn mark_broken(&mut self) {
        self.conn.mark_broken();
    }

    /// SQLite: whether the run's transaction is still open (SQLite rolls a
    /// whole transaction back on some errors).
    pub(super) fn sqlite_in_transaction(&self) -> bool {
        self.conn.sqlite_in_transaction()
    }

    /// SQLite: the first foreign-key violation in the database, if any.
    pub(super) fn sqlite_foreign_key_violation(&mut self) -> Result<Option<String>> {
        Ok(self
            .conn
            .sqlite_foreign_key_violation()?
            .map(|(table, parent)| {
                format!(
                    "rows of `{table}` reference missing rows of `{parent}` (PRAGMA foreign_key_check)"
                )
            }))
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        match self.held {
            Held::Nothing => {}
            Held::Sqlite => {
                // the run was abandoned: undo it now (rusqlite is synchronous)
                if let Some(rolled_back) = self.conn.rollback_now() {
                    let fk_ok = !self.sqlite_fk_off
                        || matches!(self.conn.run_now("PRAGMA foreign_keys = ON"), Some(Ok(())));
                    if !(rolled_back && fk_ok) {
                        self.conn.mark_broken();
                    }
                }
            }
            // a session-level lock: closing the connection releases it
            Held::Pg(_) | Held::MySql(_) => self.conn.mark_broken(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_names() {
        assert_ne!(
            pg_key("public", "dal_migrations"),
            pg_key("other", "dal_migrations")
        );
        assert_ne!(
            pg_key("public", "dal_migrations"),
            pg_key("public", "other_migrations")
        );
        let long = mysql_lock_name(&"d".repeat(64), "dal_migrations");
        assert!(long.len() <= 64, "{long}");
        assert!(long.starts_with("dal_migrate."));
    }

    /// The lock identities deployed runners agree on. NEVER CHANGE THESE VALUES
    /// without a migration plan: during a rolling deploy an old and a new
    /// version run side by side, and if they computed different keys or names
    /// both would take "the" lock and migrate the same database at once.
    /// (The expected values were computed independently of this code: the
    /// first 8 bytes, big-endian, of SHA-256("dal::migrate\0{schema}\0{table}");
    /// `dal_migrate.{database}.{table}`, or past 64 characters `dal_migrate.`
    /// and the first 40 hex digits of that name's SHA-256.)
    #[test]
    fn lock_identities_are_pinned() {
        // PostgreSQL: pg_advisory_lock(key), key of (current_schema(), tracking table)
        assert_eq!(pg_key("public", "dal_migrations"), 7655465273005281545);
        assert_eq!(pg_key("public", "schema_history"), 4689402984880351419);
        assert_eq!(pg_key("app", "dal_migrations"), 21341436048297654);
        // no current schema (an empty search_path)
        assert_eq!(pg_key("", "dal_migrations"), -3701200574706472637);
        // MySQL / MariaDB: GET_LOCK(name), name of (DATABASE(), tracking table)
        assert_eq!(
            mysql_lock_name("app", "dal_migrations"),
            "dal_migrate.app.dal_migrations"
        );
        assert_eq!(
            mysql_lock_name("shop", "schema_history"),
            "dal_migrate.shop.schema_history"
        );
        assert_eq!(
            mysql_lock_name(&"d".repeat(64), "dal_migrations"),
            "dal_migrate.bb89c4995426e5ecbdbf525d60c6152cba923d7f"
        );
        // the longest name kept as is, and the first one hashed
        let fits = "a".repeat(64 - "dal_migrate..dal_migrations".len());
        assert_eq!(
            mysql_lock_name(&fits, "dal_migrations"),
            format!("dal_migrate.{fits}.dal_migrations")
        );
        assert_eq!(
            mysql_lock_name(&format!("{fits}a"), "dal_migrations").len(),
            "dal_migrate.".len() + 40
        );
        // SQLite: the database file's own write lock, named in MigrationLocked
        assert_eq!(
            SQLITE_LOCK,
            "the SQLite database's write lock (BEGIN IMMEDIATE)"
        );
    }
}
