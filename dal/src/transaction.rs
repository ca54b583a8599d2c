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
pub(crate) use crate::resilience::retry::rerunnable;
use crate::resilience::retry::{Retry, RetryKind};
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
    dialect.runtime_sql().begin_write
}

fn savepoint_name(depth: u32) -> String {
    format!("dal_sp_{depth}")
}

impl Transaction<'static> {
    pub(crate) async fn begin_at(
        db: &Db,
        location: &'static Location<'static>,
    ) -> Result<Transaction<'static>> {
        Transaction::begin_within(db, location, db.exec_options(None)).await
    }

    /// Begin, the checkout and `BEGIN` bounded by `opts`' deadline.
    pub(crate) async fn begin_within(
        db: &Db,
        location: &'static Location<'static>,
        mut opts: crate::backend::ExecOptions,
    ) -> Result<Transaction<'static>> {
        let mut conn = db.acquire_conn(location, &opts.deadline).await?;
        let id = rand::random::<u64>() >> 1 | 1;
        opts.ctx.tx_id = id;
        conn.execute_raw(begin_sql(db.dialect()), opts).await?;
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
        let mut opts = db.exec_options(None);
        opts.ctx.tx_id = id;
        conn.execute_raw(&format!("SAVEPOINT {}", savepoint_name(depth)), opts)
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
        let opts = self.options();
        let db = self.db.clone();
        let id = self.id;
        let conn = self.conn();
        let r = conn
            .execute_raw(&format!("SAVEPOINT {}", savepoint_name(depth)), opts)
            .await;
        db.telemetry().call_done(opts.deadline.start, &r);
        r?;
        Ok(Transaction {
            db,
            conn: TxConn::Nested(conn),
            depth,
            done: false,
            id,
        })
    }

    /// Make the transaction's changes permanent (or release the savepoint).
    pub async fn commit(self) -> Result<()> {
        let start = std::time::Instant::now();
        let db = self.db.clone();
        let r = self.commit_inner().await;
        db.telemetry().call_done(start, &r);
        r
    }

    /// [`commit`](Self::commit), not counted as a call of its own.
    pub(crate) async fn commit_inner(mut self) -> Result<()> {
        let sql = if self.depth == 0 {
            "COMMIT".to_string()
        } else {
            format!("RELEASE SAVEPOINT {}", savepoint_name(self.depth))
        };
        let opts = self.options();
        let r = self.conn().execute_raw(&sql, opts).await;
        if self.depth == 0 {
            self.conn().set_in_transaction(false);
            // committed, or (the COMMIT failed) perhaps: the read cache
            // forgets what the transaction wrote, in every process, before
            // the caller goes on
            self.cache_end(true);
            if let Some(cache) = self.db.cache()
                && cache.has_queued()
            {
                cache.clone().deliver().await;
            }
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
    ///
    /// When the connection was already given up (a statement of the
    /// transaction timed out or lost the connection, and the session was
    /// ended on the server, which rolled the transaction back), there is
    /// nothing left to undo and this returns `Ok`.
    pub async fn rollback(self) -> Result<()> {
        let start = std::time::Instant::now();
        let db = self.db.clone();
        let r = self.rollback_inner().await;
        db.telemetry().call_done(start, &r);
        r
    }

    /// [`rollback`](Self::rollback), not counted as a call of its own.
    pub(crate) async fn rollback_inner(mut self) -> Result<()> {
        self.done = true;
        if self.depth == 0 {
            self.cache_end(false);
        }
        let opts = self.options();
        if self.conn().is_broken() {
            return Ok(());
        }
        if self.depth == 0 {
            let r = self.conn().execute_raw("ROLLBACK", opts).await;
            self.conn().set_in_transaction(false);
            if r.is_err() {
                self.conn().mark_broken();
            }
            r
        } else {
            let name = savepoint_name(self.depth);
            self.conn()
                .execute_raw(
                    &format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
                    opts,
                )
                .await
        }
    }

    /// The transaction ended (`committed`: perhaps committed): tell the
    /// read cache, which invalidates what it wrote, or forgets it.
    fn cache_end(&self, committed: bool) {
        if let Some(cache) = self.db.cache() {
            cache.tx_end(self.id, committed);
        }
    }

    pub(crate) fn options(&self) -> crate::backend::ExecOptions {
        let mut o = self.db.exec_options(None);
        o.ctx.tx_id = self.id;
        o.ctx.attempt = 1;
        o
    }

    /// Count a call of this transaction that started at `start`.
    fn done<T>(&self, start: Instant, r: Result<T>) -> Result<T> {
        self.db.telemetry().call_done(start, &r);
        r
    }

    /// Run a statement that returns no rows.
    pub async fn execute<P: Params>(&mut self, sql: &str, params: P) -> Result<ExecResult> {
        let opts = self.options();
        let r = match self.db.inner.statements.get(sql) {
            Ok(stmt) => self.conn().execute(&stmt, &params, opts).await,
            Err(e) => Err(e),
        };
        self.done(opts.deadline.start, r)
    }

    /// Run one statement once per parameter set; returns the total rows affected.
    pub async fn execute_many<P, I>(&mut self, sql: &str, param_sets: I) -> Result<u64>
    where
        P: Params,
        I: IntoIterator<Item = P>,
    {
        let start = Instant::now();
        let r = self.execute_many_inner(sql, param_sets).await;
        self.done(start, r)
    }

    /// [`execute_many`](Self::execute_many), not counted as a call of its own.
    /// Each statement has its own deadline (the query timeout applies to each).
    pub(crate) async fn execute_many_inner<P, I>(&mut self, sql: &str, param_sets: I) -> Result<u64>
    where
        P: Params,
        I: IntoIterator<Item = P>,
    {
        let stmt = self.db.inner.statements.get(sql)?;
        let mut total = 0;
        for p in param_sets {
            let opts = self.options();
            total += self.conn().execute(&stmt, &p, opts).await?.rows_affected;
        }
        Ok(total)
    }

    /// Run SQL text with no parameters, as is.
    pub async fn execute_script(&mut self, sql: &str) -> Result<()> {
        let opts = self.options();
        let r = self.conn().execute_raw(sql, opts).await;
        self.done(opts.deadline.start, r)
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
        let opts = self.options();
        let r = match self.db.inner.statements.get(sql) {
            Ok(stmt) => {
                self.conn()
                    .fetch_as::<T, P>(&stmt, &params, None, opts)
                    .await
            }
            Err(e) => Err(e),
        };
        self.done(opts.deadline.start, r)
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
        let opts = self.options();
        let r = match self.db.inner.statements.get(sql) {
            Ok(stmt) => {
                self.conn()
                    .fetch_as::<T, P>(&stmt, &params, Some(1), opts)
                    .await
            }
            Err(e) => Err(e),
        };
        Ok(self.done(opts.deadline.start, r)?.into_iter().next())
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
                // SQLite runs it now; the servers before the next statement
                if !matches!(conn.run_now(&sql), Some(Ok(()))) {
                    conn.push_pending(sql);
                }
            }
            TxConn::Root(slot) => {
                // rolled back: nothing it wrote was seen
                if let Some(cache) = self.db.cache() {
                    cache.tx_end(id, false);
                }
                let Some(mut conn) = slot.take() else { return };
                if conn.is_broken() {
                    // given up: the server ends the session, rolling back
                    return;
                }
                match conn.rollback_now() {
                    Some(true) => {}
                    Some(false) => conn.mark_broken(),
                    None => {
                        // roll back on the server now rather than when the
                        // connection is next checked out (locks would stay held)
                        match tokio::runtime::Handle::try_current() {
                            Ok(handle) => {
                                // if the task never runs, the next checkout rolls back
                                conn.set_needs_reset(true);
                                let mut opts = self.db.exec_options(None);
                                opts.ctx.tx_id = id;
                                handle.spawn(async move {
                                    if conn.execute_raw("ROLLBACK", opts).await.is_ok() {
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
    let policy = &db.inner.resilience.retry;
    Retry::starting(policy, db.telemetry(), RetryKind::Transaction, started).next(
        attempt,
        e,
        |_| true,
    )
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
            // the closure's own work (begin, commit, re-runs) is one call; the
            // statements it runs are calls of their own
            let r = loop {
                attempt += 1;
                let (e, during_commit) = match Transaction::begin_at(self, loc).await {
                    Err(e) => (e, false),
                    Ok(mut tx) => match f(&mut tx).await {
                        Ok(v) => match tx.commit_inner().await {
                            Ok(()) => break Ok(v),
                            Err(e) => (e, true),
                        },
                        Err(e) => {
                            let _ = tx.rollback_inner().await;
                            (e, false)
                        }
                    },
                };
                let Some(delay) = rerun_delay(self, &e, during_commit, attempt, start) else {
                    break Err(e);
                };
                tokio::time::sleep(delay).await;
            };
            self.telemetry().call_done(start, &r);
            r
        }
    }

    /// Start a transaction (rolled back if dropped without [`commit`](Transaction::commit)).
    #[track_caller]
    pub fn begin(&self) -> impl Future<Output = Result<Transaction<'static>>> + Send + '_ {
        let loc = Location::caller();
        async move {
            let start = Instant::now();
            let r = Transaction::begin_at(self, loc).await;
            self.telemetry().call_done(start, &r);
            r
        }
    }

    /// Run one statement once per parameter set, all in one transaction; returns
    /// the total number of rows affected. Nothing is applied if any run fails.
    #[track_caller]
    pub fn execute_many<'a, P, I>(
        &'a self,
        sql: &'a str,
        param_sets: I,
    ) -> impl Future<Output = Result<u64>> + Send + 'a
    where
        P: Params + 'a,
        I: IntoIterator<Item = P> + Send + 'a,
        I::IntoIter: Send,
    {
        let loc = Location::caller();
        async move {
            let start = Instant::now();
            let r = async {
                let mut tx = Transaction::begin_at(self, loc).await?;
                let total = tx.execute_many_inner(sql, param_sets).await?;
                tx.commit_inner().await?;
                Ok(total)
            }
            .await;
            self.telemetry().call_done(start, &r);
            r
        }
    }
}
