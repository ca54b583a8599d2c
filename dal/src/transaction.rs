//! Transactions: the guard form ([`Transaction`], rolled back when dropped
//! uncommitted), nested transactions as savepoints, and the closure form
//! ([`Db::transaction`]) that re-runs the whole transaction on serialization
//! failures and deadlocks.

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::time::{Duration, Instant};

use dal_schema::Dialect;

use crate::backend::Conn;
use crate::codec::Decode;
use crate::db::{Db, not_found};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::result::ExecResult;
use crate::row::{FromRow, Row};

/// A boxed, `Send` future: what the closure given to [`Db::transaction`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

enum TxConn<'c> {
    Root(Option<Box<Conn>>),
    Nested(&'c mut Conn),
}

/// An open transaction (or, when nested, a savepoint).
///
/// Dropping it without [`commit`](Transaction::commit) rolls it back. Start one
/// with [`Db::begin`]; start a nested one (a savepoint) with [`Transaction::begin`].
///
/// On SQLite a transaction starts with `BEGIN IMMEDIATE`, taking the write lock at
/// once, so it cannot fail halfway with `SQLITE_BUSY`.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # let db = dal::Db::connect_url("sqlite::memory:").await?;
/// db.execute("CREATE TABLE [t] ([n] INTEGER)", ()).await?;
/// let mut tx = db.begin().await?;
/// tx.execute("INSERT INTO [t] VALUES (?)", (1,)).await?;
/// {
///     let mut inner = tx.begin().await?;          // SAVEPOINT
///     inner.execute("INSERT INTO [t] VALUES (?)", (2,)).await?;
///     // dropped: rolled back to the savepoint
/// }
/// tx.commit().await?;
/// let n: i64 = db.fetch_scalar("SELECT COUNT(*) FROM [t]", ()).await?;
/// assert_eq!(n, 1);
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub struct Transaction<'c> {
    db: Db,
    conn: TxConn<'c>,
    depth: u32,
    done: bool,
    /// Identifies the transaction in spans and hooks (savepoints share it).
    id: u64,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transaction")
            .field("db", &self.db.config().name())
            .field("id", &self.id)
            .field("depth", &self.depth)
            .field("done", &self.done)
            .finish()
    }
}

fn begin_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "BEGIN",
        Dialect::MySql => "START TRANSACTION",
        Dialect::Sqlite => "BEGIN IMMEDIATE",
    }
}

fn savepoint_name(depth: u32) -> String {
    format!("dal_sp_{depth}")
}

impl Transaction<'static> {
    pub(crate) async fn begin_at(
        db: &Db,
        location: &'static Location<'static>,
    ) -> Result<Transaction<'static>> {
        let mut conn = db.acquire_conn(location).await?;
        let busy = db.config().sqlite_busy_timeout();
        let id = random_u64() >> 1 | 1;
        conn.execute_raw_in(begin_sql(db.dialect()), busy, id)
            .await?;
        conn.set_in_transaction(true);
        Ok(Transaction {
            db: db.clone(),
            conn: TxConn::Root(Some(Box::new(conn))),
            depth: 0,
            done: false,
            id,
        })
    }
}

impl<'c> Transaction<'c> {
    /// Open a savepoint on a connection already inside a transaction at `depth`.
    pub(crate) async fn savepoint(
        db: &Db,
        conn: &'c mut Conn,
        depth: u32,
        id: u64,
    ) -> Result<Transaction<'c>> {
        let depth = depth + 1;
        conn.execute_raw_in(
            &format!("SAVEPOINT {}", savepoint_name(depth)),
            db.config().sqlite_busy_timeout(),
            id,
        )
        .await?;
        Ok(Transaction {
            db: db.clone(),
            conn: TxConn::Nested(conn),
            depth,
            done: false,
            id,
        })
    }

    /// The database, the connection, the nesting depth and the transaction id,
    /// borrowed together.
    pub(crate) fn parts(&mut self) -> (&Db, &mut Conn, u32, u64) {
        let conn: &mut Conn = match &mut self.conn {
            TxConn::Root(c) => c.as_mut().expect("transaction connection"),
            TxConn::Nested(c) => c,
        };
        (&self.db, conn, self.depth, self.id)
    }

    pub(crate) fn conn(&mut self) -> &mut Conn {
        match &mut self.conn {
            TxConn::Root(c) => c.as_mut().expect("transaction connection"),
            TxConn::Nested(c) => c,
        }
    }

    /// The database this transaction runs on.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The dialect of the database.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// 0 for a top-level transaction, 1 for a savepoint inside it, and so on.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// Start a nested transaction: a savepoint, committed by releasing it and rolled
    /// back to on [`rollback`](Transaction::rollback) or drop.
    pub async fn begin(&mut self) -> Result<Transaction<'_>> {
        let depth = self.depth + 1;
        let busy = self.db.config().sqlite_busy_timeout();
        let db = self.db.clone();
        let id = self.id;
        let conn = self.conn();
        conn.execute_raw_in(&format!("SAVEPOINT {}", savepoint_name(depth)), busy, id)
            .await?;
        Ok(Transaction {
            db,
            conn: TxConn::Nested(conn),
            depth,
            done: false,
            id,
        })
    }

    /// Make the transaction's changes permanent (or release the savepoint).
    pub async fn commit(mut self) -> Result<()> {
        let sql = if self.depth == 0 {
            "COMMIT".to_string()
        } else {
            format!("RELEASE SAVEPOINT {}", savepoint_name(self.depth))
        };
        let busy = self.db.config().sqlite_busy_timeout();
        let id = self.id;
        let r = self.conn().execute_raw_in(&sql, busy, id).await;
        if self.depth == 0 {
            self.conn().set_in_transaction(false);
        }
        match r {
            Ok(()) => {
                self.done = true;
                Ok(())
            }
            Err(e) => {
                // a failed COMMIT leaves the outcome to the server: do not reuse
                if self.depth == 0 {
                    self.conn().mark_broken();
                }
                self.done = true;
                Err(e)
            }
        }
    }

    /// Undo the transaction's changes (or roll back to the savepoint).
    pub async fn rollback(mut self) -> Result<()> {
        self.done = true;
        let busy = self.db.config().sqlite_busy_timeout();
        let id = self.id;
        if self.depth == 0 {
            self.conn().set_in_transaction(false);
            let r = self.conn().execute_raw_in("ROLLBACK", busy, id).await;
            if r.is_err() {
                self.conn().mark_broken();
            }
            r
        } else {
            let name = savepoint_name(self.depth);
            self.conn()
                .execute_raw_in(
                    &format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
                    busy,
                    id,
                )
                .await
        }
    }

    pub(crate) fn options(&self) -> crate::backend::ExecOptions {
        let mut o = self.db.exec_options(None);
        o.ctx.tx_id = self.id;
        o.ctx.attempt = 1;
        o
    }

    /// Run a statement that returns no rows.
    pub async fn execute<P: Params>(&mut self, sql: &str, params: P) -> Result<ExecResult> {
        let stmt = self.db.inner.statements.get(sql)?;
        let opts = self.options();
        self.conn().execute(&stmt, &params, opts).await
    }

    /// Run one statement once per parameter set; returns the total rows affected.
    pub async fn execute_many<P, I>(&mut self, sql: &str, param_sets: I) -> Result<u64>
    where
        P: Params,
        I: IntoIterator<Item = P>,
    {
        let stmt = self.db.inner.statements.get(sql)?;
        let opts = self.options();
        let mut total = 0;
        for p in param_sets {
            total += self.conn().execute(&stmt, &p, opts).await?.rows_affected;
        }
        Ok(total)
    }

    /// Run SQL text with no parameters, as is.
    pub async fn execute_script(&mut self, sql: &str) -> Result<()> {
        let busy = self.db.config().sqlite_busy_timeout();
        let id = self.id;
        self.conn().execute_raw_in(sql, busy, id).await
    }

    /// Run a query and return every row.
    pub async fn fetch_all<P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Vec<Row<'static>>> {
        self.fetch_all_as::<Row<'static>, P>(sql, params).await
    }

    /// Run a query and return the first row; [`Error::NotFound`] when there is none.
    pub async fn fetch_one<P: Params>(&mut self, sql: &str, params: P) -> Result<Row<'static>> {
        self.fetch_one_as::<Row<'static>, P>(sql, params).await
    }

    /// Run a query and return the first row, if any.
    pub async fn fetch_optional<P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Option<Row<'static>>> {
        self.fetch_optional_as::<Row<'static>, P>(sql, params).await
    }

    /// Run a query and decode every row as `T`.
    pub async fn fetch_all_as<T: FromRow + Send, P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>> {
        let stmt = self.db.inner.statements.get(sql)?;
        let opts = self.options();
        self.conn()
            .fetch_as::<T, P>(&stmt, &params, None, opts)
            .await
    }

    /// Run a query and decode the first row as `T`; [`Error::NotFound`] when there is none.
    pub async fn fetch_one_as<T: FromRow + Send, P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<T> {
        self.fetch_optional_as::<T, P>(sql, params)
            .await?
            .ok_or_else(|| not_found(sql))
    }

    /// Run a query and decode the first row as `T`, if any.
    pub async fn fetch_optional_as<T: FromRow + Send, P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Option<T>> {
        let stmt = self.db.inner.statements.get(sql)?;
        let opts = self.options();
        let rows = self
            .conn()
            .fetch_as::<T, P>(&stmt, &params, Some(1), opts)
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Run a query and decode the first column of the first row.
    pub async fn fetch_scalar<T: Decode + Send, P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<T> {
        self.fetch_one_as::<(T,), P>(sql, params)
            .await
            .map(|(v,)| v)
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let (depth, id) = (self.depth, self.id);
        match &mut self.conn {
            TxConn::Nested(conn) => {
                let name = savepoint_name(depth);
                let sql = format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}");
                match conn {
                    Conn::Sqlite(c) => {
                        if c.conn.execute_batch(&sql).is_err() {
                            c.pending.push(sql);
                        }
                    }
                    other => other.push_pending(sql),
                }
            }
            TxConn::Root(slot) => {
                let Some(mut conn) = slot.take() else { return };
                match &mut *conn {
                    Conn::Sqlite(c) => {
                        c.pending.clear();
                        if !c.conn.is_autocommit() && c.conn.execute_batch("ROLLBACK").is_err() {
                            conn.mark_broken();
                        }
                    }
                    _ => {
                        // roll back on the server now rather than when the
                        // connection is next checked out (locks would stay held)
                        match tokio::runtime::Handle::try_current() {
                            Ok(handle) => {
                                // if the task never runs, the next checkout rolls back
                                conn.set_needs_reset(true);
                                let busy = self.db.config().sqlite_busy_timeout();
                                handle.spawn(async move {
                                    if conn.execute_raw_in("ROLLBACK", busy, id).await.is_ok() {
                                        conn.set_needs_reset(false);
                                        conn.set_in_transaction(false);
                                    }
                                });
                            }
                            Err(_) => conn.mark_broken(),
                        }
                    }
                }
            }
        }
    }
}

pub(crate) fn random_u64() -> u64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(Instant::now().elapsed().as_nanos() as u64);
            h.finish() | 1
        });
    }
    STATE.with(|s| {
        // xorshift64*
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545F4914F6CDD1D)
    })
}

/// After a failed attempt of a transaction closure (async or blocking): the
/// delay before running it again under the retry policy (the retry is logged
/// and counted), or `None` when it must not or may not run again.
pub(crate) fn rerun_delay(
    db: &Db,
    e: &Error,
    during_commit: bool,
    attempt: u32,
    started: Instant,
) -> Option<Duration> {
    if !rerunnable(e, during_commit) {
        return None;
    }
    db.telemetry().next_retry(
        crate::telemetry::RetryKind::Transaction,
        attempt,
        started,
        e,
    )
}

/// Whether a failed transaction may be re-run from the start.
pub(crate) fn rerunnable(e: &Error, during_commit: bool) -> bool {
    match e {
        Error::Serialization { .. } => true,
        // the transaction was rolled back by the server when the connection died,
        // unless it died during COMMIT (then the outcome is unknown)
        Error::ConnectionLost { .. } => !during_commit,
        _ => e.never_reached_server(),
    }
}

impl Db {
    /// Run `f` in a transaction: committed when it returns `Ok`, rolled back when
    /// it returns `Err`. When the transaction fails with a serialization failure
    /// or deadlock (or loses its connection before committing), the whole closure
    /// runs again on a fresh transaction, with exponential backoff and jitter,
    /// within the configured retry policy (attempts and time budget).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// db.execute("CREATE TABLE [acct] ([id] INTEGER PRIMARY KEY, [bal] INTEGER)", ()).await?;
    /// db.execute("INSERT INTO [acct] VALUES (1, 100), (2, 0)", ()).await?;
    /// db.transaction(|tx| Box::pin(async move {
    ///     tx.execute("UPDATE [acct] SET [bal] = [bal] - ? WHERE [id] = ?", (30, 1)).await?;
    ///     tx.execute("UPDATE [acct] SET [bal] = [bal] + ? WHERE [id] = ?", (30, 2)).await?;
    ///     Ok(())
    /// })).await?;
    /// let b: i64 = db.fetch_scalar("SELECT [bal] FROM [acct] WHERE [id] = 2", ()).await?;
    /// assert_eq!(b, 30);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn transaction<'a, R, F>(&'a self, mut f: F) -> impl Future<Output = Result<R>> + Send + 'a
    where
        R: Send + 'a,
        F: for<'t> FnMut(&'t mut Transaction<'static>) -> BoxFuture<'t, Result<R>> + Send + 'a,
    {
        let loc = Location::caller();
        async move {
            let start = Instant::now();
            let mut attempt: u32 = 0;
            loop {
                attempt += 1;
                let (e, during_commit) = match Transaction::begin_at(self, loc).await {
                    Err(e) => (e, false),
                    Ok(mut tx) => match f(&mut tx).await {
                        Ok(v) => match tx.commit().await {
                            Ok(()) => return Ok(v),
                            Err(e) => (e, true),
                        },
                        Err(e) => {
                            let _ = tx.rollback().await;
                            (e, false)
                        }
                    },
                };
                let Some(delay) = rerun_delay(self, &e, during_commit, attempt, start) else {
                    return Err(e);
                };
                tokio::time::sleep(delay).await;
            }
        }
    }
}
