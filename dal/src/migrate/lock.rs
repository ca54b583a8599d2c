//! A migration run's session: one connection, held for the whole run, that
//! holds the database-level migration lock.
//!
//! This file is the lock protocol: take the lock within the lock timeout, hold
//! it for the run, release it (or, when the run is abandoned, make sure the
//! server releases it). Which lock and which statements is each backend's
//! (`backend/<dialect>/lock.rs`):
//!
//! * PostgreSQL: a session-level advisory lock, tried with backoff until the
//!   lock timeout.
//! * MySQL / MariaDB: `GET_LOCK`, which waits on the server.
//! * SQLite: the database's single write lock (`BEGIN IMMEDIATE`), waited for
//!   with dal's asynchronous busy handling until the lock timeout, and held
//!   until the run commits. Each migration is a savepoint inside it.
//!
//! Every statement of the run goes through this one connection, so a run also
//! works on a pool of one connection (SQLite in memory). If the run's future is
//! dropped halfway, the session rolls back (SQLite) or closes its connection
//! (PostgreSQL, MySQL: the server then releases the lock).

use std::panic::Location;
use std::time::{Duration, Instant};

use dal_schema::Dialect;

use crate::backend::Conn;
#[cfg(feature = "mysql")]
use crate::backend::mysql;
#[cfg(feature = "postgres")]
use crate::backend::postgres;
#[cfg(feature = "sqlite")]
use crate::backend::sqlite;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::params::Params;
use crate::result::ExecResult;
use crate::row::FromRow;

/// The lock a session holds, and so how it is released.
#[derive(Debug, Clone, PartialEq)]
enum Held {
    Nothing,
    /// A session-level lock polled for (PostgreSQL advisory lock, by key).
    Advisory(i64),
    /// A session-level lock the server waited for (MySQL `GET_LOCK`, by name).
    Named(String),
    /// The database's write lock, held by the run's transaction (SQLite).
    WriteTransaction,
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

impl<'a> Session<'a> {
    /// Check out a connection and take the migration lock for `table`.
    /// `sqlite_fk_off`: turn SQLite's foreign-key enforcement off for the run.
    pub(super) async fn open(
        db: &'a Db,
        table: &str,
        timeout: Duration,
        sqlite_fk_off: bool,
    ) -> Result<Session<'a>> {
        let config = db.config();
        if config.pgbouncer() {
            // a session-level lock held across statements, which a pooler in
            // transaction mode would leave on whichever server connection
            // it lent for the one statement that took it
            let direct = match config.redacted_direct_url() {
                Some(url) => format!(
                    "the direct URL {url} (connect with `DatabaseConfig::direct()`; \
                     on the command line, pass it as --database-url)"
                ),
                None => "a URL that reaches the server without the pooler (give it \
                         as direct_url / DIRECT_URL, then use `DatabaseConfig::direct()`)"
                    .to_string(),
            };
            return Err(Error::config(
                "pgbouncer",
                format!(
                    "migrations hold a session-level advisory lock, which a pooler in \
                     transaction mode cannot keep: run them on {direct}"
                ),
            ));
        }
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
        // the one dispatch of the lock protocol onto the backend's lock
        match dialect {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => s.lock_advisory(table, timeout, started).await?,
            #[cfg(feature = "mysql")]
            Dialect::MySql => s.lock_named(table, timeout, started).await?,
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => s.lock_write_transaction(timeout, started).await?,
            #[allow(unreachable_patterns)] // every backend built in
            other => {
                let _ = table;
                return Err(crate::backend::left_out(other));
            }
        }
        tracing::debug!(
            target: "dal::migrate",
            db = s.db.config().name(),
            waited_ms = started.elapsed().as_millis() as u64,
            "migration lock taken"
        );
        Ok(s)
    }

    /// Poll a session-level lock with backoff until `timeout` (PostgreSQL).
    #[cfg(feature = "postgres")]
    async fn lock_advisory(
        &mut self,
        table: &str,
        timeout: Duration,
        started: Instant,
    ) -> Result<()> {
        let (schema,): (Option<String>,) = self
            .fetch_one(postgres::lock::CURRENT_SCHEMA, ())
            .await?
            .ok_or_else(no_row)?;
        let schema = schema.unwrap_or_default();
        let key = postgres::lock::key(&schema, table);
        let mut delay = Duration::from_millis(5);
        loop {
            let (got,): (bool,) = self
                .fetch_one(postgres::lock::TRY_LOCK, (key,))
                .await?
                .ok_or_else(no_row)?;
            if got {
                self.held = Held::Advisory(key);
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(Error::MigrationLocked {
                    lock: postgres::lock::describe(key, &schema, table),
                    waited,
                });
            }
            tokio::time::sleep(delay.min(timeout - waited)).await;
            delay = (delay * 2).min(Duration::from_millis(200));
        }
    }

    /// Take a session-level lock the server waits for, up to `timeout`, with
    /// a call deadline past it so the server answers first (MySQL family).
    #[cfg(feature = "mysql")]
    async fn lock_named(&mut self, table: &str, timeout: Duration, started: Instant) -> Result<()> {
        let (database,): (Option<String>,) = self
            .fetch_one(mysql::lock::CURRENT_DATABASE, ())
            .await?
            .ok_or_else(no_row)?;
        let name = mysql::lock::lock_name(&database.unwrap_or_default(), table);
        let secs = mysql::lock::wait_seconds(timeout);
        let stmt = self.db.inner.statements.get(mysql::lock::GET_LOCK)?;
        let mut opts = self.db.exec_options(None);
        opts.deadline =
            crate::resilience::deadline::Deadline::new(Some(timeout + Duration::from_secs(30)));
        let rows: Vec<(Option<i64>,)> = self
            .conn
            .fetch_as(&stmt, &(name.as_str(), secs), Some(1), opts)
            .await?;
        match rows.first() {
            Some((Some(1),)) => {
                self.held = Held::Named(name);
                Ok(())
            }
            Some((Some(_),)) => Err(Error::MigrationLocked {
                lock: mysql::lock::describe(&name),
                waited: started.elapsed(),
            }),
            _ => Err(Error::Database {
                message: format!("{} failed (returned NULL)", mysql::lock::describe(&name)),
                code: None,
                transient: false,
            }),
        }
    }

    /// Open the run's write transaction, waiting for the database's write
    /// lock up to `timeout` (SQLite).
    #[cfg(feature = "sqlite")]
    async fn lock_write_transaction(&mut self, timeout: Duration, started: Instant) -> Result<()> {
        if self.sqlite_fk_off {
            self.raw(sqlite::lock::FOREIGN_KEYS_OFF).await?;
        }
        // dal waits for SQLite's lock asynchronously, up to the given time
        let mut opts = self.db.ddl_options();
        opts.busy_timeout = timeout;
        match self.conn.execute_raw(sqlite::lock::BEGIN, opts).await {
            Ok(()) => {
                self.held = Held::WriteTransaction;
                Ok(())
            }
            Err(e) => {
                self.restore_sqlite_fk().await;
                if matches!(e, Error::Busy { .. }) {
                    Err(Error::MigrationLocked {
                        lock: sqlite::lock::LOCK_NAME.to_string(),
                        waited: started.elapsed(),
                    })
                } else {
                    Err(e)
                }
            }
        }
    }

    #[cfg(feature = "sqlite")]
    async fn restore_sqlite_fk(&mut self) {
        if self.sqlite_fk_off && self.raw(sqlite::lock::FOREIGN_KEYS_ON).await.is_err() {
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
            #[cfg(feature = "postgres")]
            Held::Advisory(key) => {
                let r = self
                    .fetch_one::<(bool,), _>(postgres::lock::UNLOCK, (key,))
                    .await;
                if !matches!(r, Ok(Some((true,)))) {
                    tracing::warn!(target: "dal::migrate", "could not release the advisory lock: closing the connection");
                    self.conn.mark_broken();
                }
                Ok(())
            }
            #[cfg(feature = "mysql")]
            Held::Named(name) => {
                let r = self
                    .fetch_one::<(Option<i64>,), _>(mysql::lock::RELEASE_LOCK, (name.as_str(),))
                    .await;
                if !matches!(r, Ok(Some((Some(1),)))) {
                    tracing::warn!(target: "dal::migrate", "could not release {}: closing the connection", mysql::lock::describe(&name));
                    self.conn.mark_broken();
                }
                Ok(())
            }
            #[cfg(feature = "sqlite")]
            Held::WriteTransaction => {
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
            // a lock of a backend not built in is never taken
            #[allow(unreachable_patterns)]
            _ => Ok(()),
        }
    }

    /// Whether the run holds its lock as an open write transaction (SQLite),
    /// inside which each migration is a savepoint.
    pub(super) fn holds_write_transaction(&self) -> bool {
        self.held == Held::WriteTransaction
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
            Held::WriteTransaction => {
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
            Held::Advisory(_) | Held::Named(_) => self.conn.mark_broken(),
        }
    }
}
