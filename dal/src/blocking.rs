//! The same API for synchronous programs: [`blocking::Db`](Db),
//! [`blocking::Transaction`](Transaction) and [`blocking::Query`](Query) wrap
//! their async counterparts and wait for each call to finish.
//!
//! A blocking [`Db`] owns a small tokio runtime (two worker threads named
//! `dal-blocking`, shared by every clone of the handle) and an async
//! [`crate::Db`] created on it. Each call runs its future to completion on the
//! calling thread with [`Runtime::block_on`](tokio::runtime::Runtime::block_on);
//! the workers drive the sockets and timers. Any number of threads may use one
//! handle (or its clones) at once.
//!
//! ```
//! use dal::Table;
//!
//! let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
//! db.create_table(&Table::build("notes", |t| {
//!     t.id();
//!     t.string("title", 200);
//!     t.boolean("done").default(false);
//! }))?;
//! db.execute("INSERT INTO [notes] ([title]) VALUES (?)", ("write docs",))?;
//! let open: Vec<(i64, String)> =
//!     db.fetch_all_as("SELECT [id], [title] FROM [notes] WHERE [done] = ?", (false,))?;
//! assert_eq!(open, vec![(1, "write docs".to_string())]);
//! # Ok::<(), dal::Error>(())
//! ```
//!
//! Entities work through the same handle ([`Db::save`], [`Db::get`], [`Db::all`],
//! ...), inside a transaction ([`Transaction::save`], ...), and any other async
//! dal operation runs with [`Db::block_on`] / [`Transaction::block_on`].
//!
//! # Not from async code
//!
//! Blocking a thread of an async runtime stalls every task scheduled on it, and
//! tokio panics when a runtime is started inside another one. So every call that
//! waits for the database first checks for a tokio runtime context on the
//! current thread and, if there is one, fails with [`Error::Unsupported`]
//! instead of blocking, panicking or deadlocking. In async code use the async
//! handle ([`Db::as_async`]). Tokio's `spawn_blocking` threads carry their
//! runtime's context too, and tokio offers no way to tell them apart from its
//! worker threads, so they get the same error: use a plain [`std::thread`].
//! Dropping a handle or a transaction is fine anywhere.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dal_schema::ddl::DdlStatement;
use dal_schema::{Dialect, Schema, Table};

use crate::codec::{Decode, Encode};
use crate::config::DatabaseConfig;
use crate::db::CallOptions;
use crate::entity::{
    Assignment, Audit, Entity, Find, FindWith, HasMany, HistoryEntry, Loaded, Projection,
    SchemaReport, Select,
};
use crate::error::{Error, Result};
use crate::params::Params;
use crate::pool::{HeldConnection, PoolStatus};
use crate::result::ExecResult;
use crate::row::{FromRow, Row};

/// Worker threads of the runtime a blocking [`Db`] owns. They only drive I/O,
/// timers and the pool's background work: each call runs on the calling thread.
const WORKER_THREADS: usize = 2;

/// Name of those worker threads.
const THREAD_NAME: &str = "dal-blocking";

/// The message of the error a blocking call returns inside an async runtime.
const INSIDE_RUNTIME: &str = "dal::blocking was called from inside an async runtime (tokio); \
     use the async dal::Db there (blocking::Db::as_async), or call it from a plain thread \
     (std::thread; tokio's spawn_blocking threads are inside the runtime too)";

/// Fail, rather than block (or panic in tokio), on a thread inside a tokio runtime.
fn ensure_blocking_allowed() -> Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Unsupported(INSIDE_RUNTIME.to_string()));
    }
    Ok(())
}

/// The owned runtime, shut down without waiting when dropped (dropping a tokio
/// `Runtime` the ordinary way panics inside an async context).
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl OwnedRuntime {
    fn start() -> Result<OwnedRuntime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()
            .map(|rt| OwnedRuntime(Some(rt)))
            .map_err(|e| Error::Driver(format!("cannot start the dal-blocking runtime: {e}")))
    }

    fn get(&self) -> &tokio::runtime::Runtime {
        self.0
            .as_ref()
            .expect("the runtime lives until the handle is dropped")
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// What the clones of a blocking [`Db`] share. Field order matters: the async
/// handle is dropped before the runtime its connections belong to.
struct Shared {
    db: crate::Db,
    runtime: OwnedRuntime,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // the runtime is going away: close the pool so a clone of the async handle
        // that outlives it fails with PoolClosed instead of hanging on dead sockets
        let _entered = self.runtime.get().enter();
        self.db.close();
    }
}

/// A blocking handle to one database: the connection pool of an async
/// [`crate::Db`] plus the runtime it runs on.
///
/// Cloning is cheap (an `Arc`); clones share the pool and the runtime, which
/// shuts down when the last clone is dropped. The methods mirror [`crate::Db`]'s,
/// minus the `.await`; see the [module documentation](self) for where they may
/// be called.
///
/// ```
/// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
/// db.execute("CREATE TABLE [notes] ([id] INTEGER PRIMARY KEY, [body] TEXT NOT NULL)", ())?;
/// let r = db.execute("INSERT INTO [notes] ([body]) VALUES (?)", ("hello",))?;
/// assert_eq!(r.rows_affected, 1);
/// let (body,): (String,) =
///     db.fetch_one_as("SELECT [body] FROM [notes] WHERE [id] = ?", (r.last_insert_id,))?;
/// assert_eq!(body, "hello");
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Clone)]
pub struct Db {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Db")
            .field("db", &self.shared.db)
            .finish()
    }
}

impl Db {
    /// Start the runtime and open a pool for `config` (see [`crate::Db::connect`]).
    ///
    /// ```
    /// let config = dal::DatabaseConfig::from_url("sqlite::memory:")?;
    /// let db = dal::blocking::Db::connect(config)?;
    /// assert!(db.test_connection());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn connect(config: DatabaseConfig) -> Result<Db> {
        ensure_blocking_allowed()?;
        let runtime = OwnedRuntime::start()?;
        let db = runtime.get().block_on(crate::Db::connect(config))?;
        Ok(Db {
            shared: Arc::new(Shared { db, runtime }),
        })
    }

    /// [`Db::connect`] with a URL and default options.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert_eq!(db.dialect(), dal::Dialect::Sqlite);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn connect_url(url: &str) -> Result<Db> {
        Db::connect(DatabaseConfig::from_url(url)?)
    }

    /// [`Db::connect`] with the configuration from `DAL_DATABASE_URL` and `DAL_*`
    /// (see [`DatabaseConfig::from_env`]).
    ///
    /// ```no_run
    /// // DAL_DATABASE_URL=postgres://app@db.internal/shop DAL_MAX_CONNECTIONS=20
    /// let db = dal::blocking::Db::connect_env()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn connect_env() -> Result<Db> {
        Db::connect(DatabaseConfig::from_env()?)
    }

    /// Start the runtime and create the pool without connecting; connections
    /// open on first use (see [`crate::Db::connect_lazy`]). It does not wait for
    /// anything, so it may also be called from async code (to hand the handle to
    /// a plain thread).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_lazy(dal::DatabaseConfig::from_url("sqlite::memory:")?)?;
    /// assert_eq!(db.pool_status().size, 0);
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT 1", ())?, 1);
    /// assert_eq!(db.pool_status().size, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn connect_lazy(config: DatabaseConfig) -> Result<Db> {
        let runtime = OwnedRuntime::start()?;
        let db = {
            // the pool starts its background task on the runtime it is created in
            let _entered = runtime.get().enter();
            crate::Db::connect_lazy(config)?
        };
        Ok(Db {
            shared: Arc::new(Shared { db, runtime }),
        })
    }

    /// The async handle on the same pool, to mix both styles or to pass to
    /// async dal APIs through [`Db::block_on`].
    ///
    /// It works while a blocking handle to this database is alive: dropping the
    /// last one closes the pool and shuts the runtime down, after which a clone
    /// of the async handle fails with [`Error::PoolClosed`].
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let names = db.block_on(db.as_async().table_names())?;
    /// assert!(names.is_empty());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn as_async(&self) -> &crate::Db {
        &self.shared.db
    }

    /// Run a dal future to completion on this handle's runtime and return its
    /// result: any async operation without a blocking twin, such as entity
    /// operations on [`as_async`](Db::as_async).
    ///
    /// The future runs on the calling thread. Inside an async runtime this
    /// returns [`Error::Unsupported`] without polling it.
    ///
    /// ```
    /// use dal::Entity;
    ///
    /// #[derive(Entity, Debug, Clone)]
    /// struct Note {
    ///     id: i64,
    ///     #[dal(length = 200)]
    ///     title: String,
    /// }
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.block_on(Note::ensure_schema(db.as_async()))?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.block_on(note.save(db.as_async()))?;
    /// let n = db.block_on(Note::find().filter(Note::TITLE.eq("hello")).count(db.as_async()))?;
    /// assert_eq!(n, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn block_on<T>(&self, future: impl Future<Output = Result<T>>) -> Result<T> {
        ensure_blocking_allowed()?;
        self.shared.runtime.get().block_on(future)
    }

    /// The dialect of this database.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert_eq!(db.dialect(), dal::Dialect::Sqlite);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn dialect(&self) -> Dialect {
        self.shared.db.dialect()
    }

    /// The configuration this handle was opened with.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(db.config().is_sqlite_memory());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn config(&self) -> &DatabaseConfig {
        self.shared.db.config()
    }

    /// The pool's current size.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let status = db.pool_status();
    /// assert_eq!((status.size, status.in_use), (1, 0));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn pool_status(&self) -> PoolStatus {
        self.shared.db.pool_status()
    }

    /// Connections held longer than the leak-detection threshold (see
    /// [`crate::Db::held_connections`]).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(db.held_connections().is_empty());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn held_connections(&self) -> Vec<HeldConnection> {
        self.shared.db.held_connections()
    }

    /// The figures this database has gathered (see [`crate::Db::stats`]).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE t (x INTEGER)", ())?;
    /// let stats = db.stats();
    /// assert!(stats.statements >= 1);
    /// assert_eq!(stats.advice, dal::ScalingAdvice::Normal);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn stats(&self) -> crate::Stats {
        self.shared.db.stats()
    }

    /// One checkout and round trip with its latency, the pool and the breaker
    /// state (see [`crate::Db::health`]). Never fails: a problem, including a
    /// call from inside an async runtime, is reported in
    /// [`Health::error`](crate::Health::error).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let health = db.health();
    /// assert!(health.healthy, "{health}");
    /// assert_eq!(health.breaker, dal::BreakerState::Closed);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn health(&self) -> crate::Health {
        let start = Instant::now();
        match ensure_blocking_allowed() {
            Ok(()) => self.shared.runtime.get().block_on(self.shared.db.health()),
            Err(e) => crate::Health {
                healthy: false,
                latency: start.elapsed(),
                error: Some(e.to_string()),
                pool: self.pool_status(),
                breaker: self.breaker_state(),
            },
        }
    }

    /// The circuit breaker's state.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert_eq!(db.breaker_state(), dal::BreakerState::Closed);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn breaker_state(&self) -> crate::BreakerState {
        self.shared.db.breaker_state()
    }

    /// Register a hook that sees every statement of this database (see
    /// [`hooks`](crate::hooks)).
    ///
    /// ```
    /// use std::sync::Arc;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let timing = Arc::new(dal::hooks::TimingHook::new());
    /// db.add_hook(timing.clone());
    /// db.execute("SELECT 1", ())?;
    /// assert_eq!(timing.snapshot().len(), 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn add_hook(&self, hook: Arc<dyn crate::hooks::Hook>) {
        self.shared.db.add_hook(hook);
    }

    /// Close the pool (for every clone). Idle connections close now, checked-out
    /// ones when returned; later calls fail with [`Error::PoolClosed`].
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.close();
    /// assert!(db.is_closed());
    /// assert!(matches!(db.execute("SELECT 1", ()), Err(dal::Error::PoolClosed)));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn close(&self) {
        self.shared.db.close();
    }

    /// Whether [`Db::close`] was called.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(!db.is_closed());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.db.is_closed()
    }

    /// True when a connection can be checked out and answers a round trip;
    /// false (never an error or a panic) when the server is down, and when
    /// called from inside an async runtime ([`Db::ping`] says why).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(db.test_connection());
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn test_connection(&self) -> bool {
        self.ping().is_ok()
    }

    /// Check out a connection, make one round trip and report how long it took.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let took = db.ping()?;
    /// assert!(took < std::time::Duration::from_secs(5));
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn ping(&self) -> Result<Duration> {
        self.block_on(self.shared.db.ping())
    }

    /// Run a statement that returns no rows.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let r = db.execute("INSERT INTO [t] ([n]) VALUES (?), (?)", (1, 2))?;
    /// assert_eq!(r.rows_affected, 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<ExecResult> {
        self.block_on(self.shared.db.execute(sql, params))
    }

    /// Run one statement once per parameter set, all in one transaction; returns
    /// the total number of rows affected. Nothing is applied if any run fails.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let n = db.execute_many("INSERT INTO [t] ([n]) VALUES (?)", [(1,), (2,), (3,)])?;
    /// assert_eq!(n, 3);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn execute_many<P, I>(&self, sql: &str, param_sets: I) -> Result<u64>
    where
        P: Params,
        I: IntoIterator<Item = P> + Send,
        I::IntoIter: Send,
    {
        self.block_on(self.shared.db.execute_many(sql, param_sets))
    }

    /// Run SQL text that may hold several statements and no parameters, as is
    /// (no translation, no preparation): scripts, DDL, session settings.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute_script("CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (7);")?;
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT x FROM a", ())?, 7);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn execute_script(&self, sql: &str) -> Result<()> {
        self.block_on(self.shared.db.execute_script(sql))
    }

    /// Run a query and return every row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let rows = db.fetch_all("SELECT ? AS [n] UNION ALL SELECT ?", (1, 2))?;
    /// assert_eq!(rows.len(), 2);
    /// assert_eq!(rows[1].get::<i64, _>("n")?, 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn fetch_all<P: Params>(&self, sql: &str, params: P) -> Result<Vec<Row<'static>>> {
        self.block_on(self.shared.db.fetch_all(sql, params))
    }

    /// Run a query and return the first row; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let row = db.fetch_one("SELECT ? AS [greeting]", ("hi",))?;
    /// assert_eq!(row.get::<String, _>("greeting")?, "hi");
    /// assert!(db.fetch_one("SELECT 1 WHERE 1 = 0", ()).unwrap_err().is_not_found());
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn fetch_one<P: Params>(&self, sql: &str, params: P) -> Result<Row<'static>> {
        self.block_on(self.shared.db.fetch_one(sql, params))
    }

    /// Run a query and return the first row, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(db.fetch_optional("SELECT 1 WHERE 1 = ?", (0,))?.is_none());
    /// assert!(db.fetch_optional("SELECT 1 WHERE 1 = ?", (1,))?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn fetch_optional<P: Params>(&self, sql: &str, params: P) -> Result<Option<Row<'static>>> {
        self.block_on(self.shared.db.fetch_optional(sql, params))
    }

    /// Run a query and decode every row as `T`.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let pairs: Vec<(i64, String)> = db.fetch_all_as("SELECT 1, 'a' UNION ALL SELECT 2, 'b'", ())?;
    /// assert_eq!(pairs, [(1, "a".to_string()), (2, "b".to_string())]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn fetch_all_as<T: FromRow + Send, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>> {
        self.block_on(self.shared.db.fetch_all_as(sql, params))
    }

    /// Run a query and decode the first row as `T`; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let (a, b): (i64, bool) = db.fetch_one_as("SELECT ?, ?", (5, true))?;
    /// assert_eq!((a, b), (5, true));
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn fetch_one_as<T: FromRow + Send, P: Params>(&self, sql: &str, params: P) -> Result<T> {
        self.block_on(self.shared.db.fetch_one_as(sql, params))
    }

    /// Run a query and decode the first row as `T`, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let none: Option<(i64,)> = db.fetch_optional_as("SELECT 1 WHERE 1 = 0", ())?;
    /// assert_eq!(none, None);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn fetch_optional_as<T: FromRow + Send, P: Params>(
        &self,
        sql: &str,
        params: P,
    ) -> Result<Option<T>> {
        self.block_on(self.shared.db.fetch_optional_as(sql, params))
    }

    /// Run a query and decode the first column of the first row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let n: i64 = db.fetch_scalar("SELECT ? * 2", (21,))?;
    /// assert_eq!(n, 42);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn fetch_scalar<T: Decode + Send, P: Params>(&self, sql: &str, params: P) -> Result<T> {
        self.block_on(self.shared.db.fetch_scalar(sql, params))
    }

    /// Start a statement with per-call options (timeout, tags) and parameters
    /// bound one by one.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let n: i64 = db
    ///     .query("SELECT ? + ?")
    ///     .bind(40)
    ///     .bind(2)
    ///     .timeout(Duration::from_secs(2))
    ///     .tag("feature", "answer")
    ///     .fetch_scalar()?;
    /// assert_eq!(n, 42);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn query<'a>(&'a self, sql: &'a str) -> Query<'a> {
        Query {
            db: self,
            inner: self.shared.db.query(sql),
        }
    }

    /// Start a transaction, rolled back if dropped without
    /// [`commit`](Transaction::commit).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// tx.execute("INSERT INTO [t] VALUES (?)", (1,))?;
    /// tx.commit()?;
    /// {
    ///     let mut tx = db.begin()?;
    ///     tx.execute("INSERT INTO [t] VALUES (?)", (2,))?;
    ///     // dropped: rolled back
    /// }
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT SUM([n]) FROM [t]", ())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn begin(&self) -> Result<Transaction<'static>> {
        let inner = self.block_on(self.shared.db.begin())?;
        Ok(Transaction {
            db: self.clone(),
            inner: Some(inner),
        })
    }

    /// Run `f` in a transaction: committed when it returns `Ok`, rolled back when
    /// it returns `Err` (or panics). Like [`crate::Db::transaction`], when the
    /// transaction fails with a serialization failure or deadlock (or loses its
    /// connection before committing), `f` runs again on a fresh transaction, with
    /// exponential backoff and jitter, within the configured
    /// [retry policy](crate::RetryPolicy).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [acct] ([id] INTEGER PRIMARY KEY, [bal] INTEGER)", ())?;
    /// db.execute("INSERT INTO [acct] VALUES (1, 100), (2, 0)", ())?;
    /// let moved = db.transaction(|tx| {
    ///     tx.execute("UPDATE [acct] SET [bal] = [bal] - ? WHERE [id] = ?", (30, 1))?;
    ///     tx.execute("UPDATE [acct] SET [bal] = [bal] + ? WHERE [id] = ?", (30, 2))?;
    ///     Ok(30)
    /// })?;
    /// assert_eq!(moved, 30);
    /// let b: i64 = db.fetch_scalar("SELECT [bal] FROM [acct] WHERE [id] = 2", ())?;
    /// assert_eq!(b, 30);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    pub fn transaction<R, F>(&self, mut f: F) -> Result<R>
    where
        F: FnMut(&mut Transaction<'static>) -> Result<R>,
    {
        let location = Location::caller();
        ensure_blocking_allowed()?;
        let start = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let begin_start = Instant::now();
            let begun = self
                .block_on(crate::Transaction::begin_at(&self.shared.db, location))
                .map(|inner| Transaction {
                    db: self.clone(),
                    inner: Some(inner),
                });
            if let Err(e) = &begun {
                // a begin that failed is a call; a commit counts as its own
                self.shared.db.telemetry().call_ended(begin_start, Some(e));
            }
            let (e, during_commit) = match begun {
                Err(e) => (e, false),
                Ok(mut tx) => match f(&mut tx) {
                    Ok(v) => match tx.commit() {
                        Ok(()) => return Ok(v),
                        Err(e) => (e, true),
                    },
                    Err(e) => {
                        let _ = tx.rollback();
                        (e, false)
                    }
                },
            };
            let Some(delay) =
                crate::transaction::rerun_delay(&self.shared.db, &e, during_commit, attempt, start)
            else {
                return Err(e);
            };
            std::thread::sleep(delay);
        }
    }

    /// Validate `table` and create it with its indexes.
    ///
    /// ```
    /// use dal::Table;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.create_table(&Table::build("notes", |t| {
    ///     t.id();
    ///     t.text("body");
    /// }))?;
    /// assert!(db.table_exists("notes")?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn create_table(&self, table: &Table) -> Result<()> {
        self.block_on(self.shared.db.create_table(table))
    }

    /// Create `table` and its indexes unless a table of that name exists.
    ///
    /// ```
    /// use dal::Table;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let notes = Table::build("notes", |t| {
    ///     t.id();
    /// });
    /// db.create_table_if_not_exists(&notes)?;
    /// db.create_table_if_not_exists(&notes)?; // no error the second time
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn create_table_if_not_exists(&self, table: &Table) -> Result<()> {
        self.block_on(self.shared.db.create_table_if_not_exists(table))
    }

    /// `DROP TABLE IF EXISTS name`.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute_script("CREATE TABLE gone (x INTEGER)")?;
    /// db.drop_table_if_exists("gone")?;
    /// db.drop_table_if_exists("gone")?;
    /// assert!(!db.table_exists("gone")?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn drop_table_if_exists(&self, name: &str) -> Result<()> {
        self.block_on(self.shared.db.drop_table_if_exists(name))
    }

    /// Apply one DDL statement (several SQL statements on some dialects).
    ///
    /// ```
    /// use dal::Table;
    /// use dal::schema::ddl::DdlStatement;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let table = Table::build("t", |t| {
    ///     t.id();
    /// });
    /// db.apply_ddl(&DdlStatement::CreateTable { table, if_not_exists: false })?;
    /// db.apply_ddl(&DdlStatement::RenameTable { from: "t".into(), to: "u".into() })?;
    /// assert_eq!(db.table_names()?, ["u"]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn apply_ddl(&self, statement: &DdlStatement) -> Result<()> {
        self.block_on(self.shared.db.apply_ddl(statement))
    }

    /// Whether a table called `name` exists (in the current schema / database).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(!db.table_exists("nope")?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn table_exists(&self, name: &str) -> Result<bool> {
        self.block_on(self.shared.db.table_exists(name))
    }

    /// Read the live schema (see [`crate::Db::introspect`]).
    ///
    /// ```
    /// use dal::{Dialect, Table};
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let notes = Table::build("notes", |t| {
    ///     t.id();
    ///     t.string("title", 200);
    /// });
    /// db.create_table(&notes)?;
    /// let schema = db.introspect()?;
    /// assert_eq!(
    ///     schema.table("notes").unwrap().normalized_for(Dialect::Sqlite),
    ///     notes.normalized_for(Dialect::Sqlite)
    /// );
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn introspect(&self) -> Result<Schema> {
        self.block_on(self.shared.db.introspect())
    }

    /// Read one base table; `None` when there is no base table called `name`
    /// (see [`crate::Db::introspect_table`]).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute_script("CREATE TABLE t (id INTEGER PRIMARY KEY)")?;
    /// assert_eq!(db.introspect_table("t")?.unwrap().primary_key, ["id"]);
    /// assert!(db.introspect_table("missing")?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn introspect_table(&self, name: &str) -> Result<Option<Table>> {
        self.block_on(self.shared.db.introspect_table(name))
    }

    /// The names of the base tables [`Db::introspect`] reads, sorted.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute_script("CREATE TABLE b (x INTEGER); CREATE TABLE a (y TEXT);")?;
    /// assert_eq!(db.table_names()?, ["a", "b"]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn table_names(&self) -> Result<Vec<String>> {
        self.block_on(self.shared.db.table_names())
    }

    // ------------------------------------------------------------- entities

    /// Create the entity's table (with its indexes and history table) when
    /// missing and add the columns the struct gained ([`Entity::ensure_schema`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let report = db.ensure_schema::<Note>()?;
    /// assert_eq!(report.created, ["notes"]);
    /// assert!(db.ensure_schema::<Note>()?.is_unchanged());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn ensure_schema<E: Entity>(&self) -> Result<SchemaReport> {
        self.block_on(E::ensure_schema(&self.shared.db))
    }

    /// Insert the entity, or update it when its id exists ([`Entity::save`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "draft".into() };
    /// db.save(&mut note)?;                 // INSERT, fills the id
    /// assert_eq!(note.id, 1);
    /// note.title = "final".into();
    /// db.save(&mut note)?;                 // UPDATE
    /// assert_eq!(db.get::<Note>(1)?.unwrap().title, "final");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn save<E: Entity>(&self, entity: &mut E) -> Result<()> {
        self.block_on(entity.save(&self.shared.db))
    }

    /// [`save`](Db::save), recording who made the change and why
    /// ([`Entity::save_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "draft".into() };
    /// db.save_with(&mut note, &dal::Audit::by("ada").comment("first"))?;
    /// assert_eq!(db.history::<Note>(note.id)?[0].actor.as_deref(), Some("ada"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn save_with<E: Entity>(&self, entity: &mut E, audit: &Audit) -> Result<()> {
        self.block_on(entity.save_with(&self.shared.db, audit))
    }

    /// Save many entities in one transaction ([`Entity::save_all`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut notes: Vec<Note> =
    ///     (1..=3).map(|i| Note { id: 0, title: format!("n{i}") }).collect();
    /// db.save_all(&mut notes)?;
    /// assert_eq!(notes.iter().map(|n| n.id).collect::<Vec<_>>(), [1, 2, 3]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn save_all<E: Entity>(&self, entities: &mut [E]) -> Result<()> {
        self.block_on(E::save_all(entities, &self.shared.db))
    }

    /// [`save_all`](Db::save_all), recording who made the change and why
    /// ([`Entity::save_all_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut notes = vec![Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }];
    /// db.save_all_with(&mut notes, &dal::Audit::by("import"))?;
    /// assert_eq!(db.history::<Note>(notes[1].id)?[0].actor.as_deref(), Some("import"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn save_all_with<E: Entity>(&self, entities: &mut [E], audit: &Audit) -> Result<()> {
        self.block_on(E::save_all_with(entities, &self.shared.db, audit))
    }

    /// Load by id; soft-deleted rows are not returned ([`Entity::get`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "hello".into() })?;
    /// assert_eq!(db.get::<Note>(1)?.unwrap().title, "hello");
    /// assert!(db.get::<Note>(2)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn get<E: Entity>(&self, id: E::Id) -> Result<Option<E>> {
        self.block_on(E::get(&self.shared.db, id))
    }

    /// Load by id, soft-deleted or not ([`Entity::get_with_deleted`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// db.delete(&mut note)?;
    /// assert!(db.get::<Note>(note.id)?.is_none());
    /// assert!(db.get_with_deleted::<Note>(note.id)?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn get_with_deleted<E: Entity>(&self, id: E::Id) -> Result<Option<E>> {
        self.block_on(E::get_with_deleted(&self.shared.db, id))
    }

    /// Delete: a soft delete when the entity has `soft_delete`, else a permanent
    /// one; returns whether a row changed ([`Entity::delete`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// assert!(db.delete(&mut note)?);
    /// assert!(!db.delete(&mut note)?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete<E: Entity>(&self, entity: &mut E) -> Result<bool> {
        self.block_on(entity.delete(&self.shared.db))
    }

    /// [`delete`](Db::delete), recording who made the change and why
    /// ([`Entity::delete_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history, soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// assert!(db.delete_with(&mut note, &dal::Audit::by("ada"))?);
    /// assert_eq!(db.history::<Note>(note.id)?[1].operation, dal::Operation::Delete);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete_with<E: Entity>(&self, entity: &mut E, audit: &Audit) -> Result<bool> {
        self.block_on(entity.delete_with(&self.shared.db, audit))
    }

    /// Remove the row for good ([`Entity::delete_permanently`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// assert!(db.delete_permanently(&mut note)?);
    /// assert!(db.get_with_deleted::<Note>(note.id)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete_permanently<E: Entity>(&self, entity: &mut E) -> Result<bool> {
        self.block_on(entity.delete_permanently(&self.shared.db))
    }

    /// Undo a soft delete; returns whether a row changed ([`Entity::restore`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// db.delete(&mut note)?;
    /// assert!(db.restore(&mut note)?);
    /// assert!(db.get::<Note>(note.id)?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn restore<E: Entity>(&self, entity: &mut E) -> Result<bool> {
        self.block_on(entity.restore(&self.shared.db))
    }

    /// [`restore`](Db::restore), recording who made the change and why
    /// ([`Entity::restore_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history, soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// db.delete(&mut note)?;
    /// assert!(db.restore_with(&mut note, &dal::Audit::by("ada").comment("oops"))?);
    /// let last = db.history::<Note>(note.id)?.pop().unwrap();
    /// assert_eq!(last.comment.as_deref(), Some("oops"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn restore_with<E: Entity>(&self, entity: &mut E, audit: &Audit) -> Result<bool> {
        self.block_on(entity.restore_with(&self.shared.db, audit))
    }

    /// Every recorded version of a row, oldest first; needs `history`
    /// ([`Entity::history`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "v1".into() };
    /// db.save(&mut note)?;
    /// note.title = "v2".into();
    /// db.save(&mut note)?;
    /// let versions = db.history::<Note>(note.id)?;
    /// assert_eq!(versions.iter().map(|v| v.entity.title.as_str()).collect::<Vec<_>>(), ["v1", "v2"]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn history<E: Entity>(&self, id: E::Id) -> Result<Vec<HistoryEntry<E>>> {
        self.block_on(E::history(&self.shared.db, id))
    }

    /// One recorded version of a row; needs `history` ([`Entity::at_version`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "v1".into() };
    /// db.save(&mut note)?;
    /// note.title = "v2".into();
    /// db.save(&mut note)?;
    /// assert_eq!(db.at_version::<Note>(note.id, 1)?.unwrap().entity.title, "v1");
    /// assert!(db.at_version::<Note>(note.id, 3)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn at_version<E: Entity>(
        &self,
        id: E::Id,
        version: i64,
    ) -> Result<Option<HistoryEntry<E>>> {
        self.block_on(E::at_version(&self.shared.db, id, version))
    }

    /// Every row of a query with its relations loaded eagerly
    /// ([`FindWith::all`]). Lazy loads and the other relation operations run
    /// through [`block_on`](Db::block_on) with [`as_async`](Db::as_async).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(table = "authors", has_many(books = Book::AUTHOR))]
    /// # struct Author { id: i64, name: String }
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(table = "books")]
    /// # struct Book { id: i64, #[dal(belongs_to = Author)] author_id: i64, title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Author>()?;
    /// db.ensure_schema::<Book>()?;
    /// let mut author = Author { id: 0, name: "Le Guin".into() };
    /// let mut books = vec![Book { id: 0, author_id: 0, title: "The Dispossessed".into() }];
    /// db.save_with_children(Author::BOOKS, &mut author, &mut books)?;
    ///
    /// let authors = db.all_with(Author::find().with(Author::BOOKS))?;
    /// assert_eq!(authors[0].related(Author::BOOKS)?[0].title, "The Dispossessed");
    /// // a lazy load
    /// let owner = db.block_on(books[0].author(db.as_async()))?;
    /// assert_eq!(owner.unwrap().name, "Le Guin");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn all_with<E: Entity>(&self, find: FindWith<E>) -> Result<Vec<Loaded<E>>> {
        self.block_on(find.all(&self.shared.db))
    }

    /// The first row of a query with its relations, if any ([`FindWith::optional`]).
    pub fn optional_with<E: Entity>(&self, find: FindWith<E>) -> Result<Option<Loaded<E>>> {
        self.block_on(find.optional(&self.shared.db))
    }

    /// The first row of a query with its relations; [`Error::NotFound`] when
    /// there is none ([`FindWith::one`]).
    pub fn one_with<E: Entity>(&self, find: FindWith<E>) -> Result<Loaded<E>> {
        self.block_on(find.one(&self.shared.db))
    }

    /// Save a parent and its children in one transaction ([`HasMany::save`]).
    pub fn save_with_children<P: Entity, C: Entity>(
        &self,
        relation: HasMany<P, C>,
        parent: &mut P,
        children: &mut [C],
    ) -> Result<()> {
        self.block_on(relation.save(parent, children, &self.shared.db))
    }

    /// Every row of a projection ([`Select::all`]): columns, aggregates,
    /// joins.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String, stars: i32 }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "a".into(), stars: 3 })?;
    /// db.save(&mut Note { id: 0, title: "a".into(), stars: 4 })?;
    /// let per_title: Vec<(String, Option<i64>)> = db.select_all(
    ///     Note::find().select((Note::TITLE, Note::STARS.sum())).group_by(Note::TITLE),
    /// )?;
    /// assert_eq!(per_title, [("a".to_string(), Some(7))]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn select_all<E: Entity, S, P: Projection<S, I>, I>(
        &self,
        select: Select<E, S, P, I>,
    ) -> Result<Vec<P::Out>> {
        self.block_on(select.all(&self.shared.db))
    }

    /// The first row of a projection, if any ([`Select::optional`]).
    pub fn select_optional<E: Entity, S, P: Projection<S, I>, I>(
        &self,
        select: Select<E, S, P, I>,
    ) -> Result<Option<P::Out>> {
        self.block_on(select.optional(&self.shared.db))
    }

    /// The first row of a projection; [`Error::NotFound`] when there is none
    /// ([`Select::one`]).
    pub fn select_one<E: Entity, S, P: Projection<S, I>, I>(
        &self,
        select: Select<E, S, P, I>,
    ) -> Result<P::Out> {
        self.block_on(select.one(&self.shared.db))
    }

    /// Every row of a projection as a `FromRow` struct ([`Select::all_as`]).
    pub fn select_all_as<R: FromRow + Send + 'static, E: Entity, S, P: Projection<S, I>, I>(
        &self,
        select: Select<E, S, P, I>,
    ) -> Result<Vec<R>> {
        self.block_on(select.all_as(&self.shared.db))
    }

    /// Every row matching a typed query ([`Find::all`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// for t in ["b", "a", "c"] {
    ///     db.save(&mut Note { id: 0, title: t.into() })?;
    /// }
    /// let notes = db.all(Note::find().filter(Note::TITLE.ne("c")).order_by(Note::TITLE.asc()))?;
    /// assert_eq!(notes.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn all<E: Entity>(&self, find: Find<E>) -> Result<Vec<E>> {
        self.block_on(find.all(&self.shared.db))
    }

    /// The first row matching a typed query, if any ([`Find::optional`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// assert!(db.optional(Note::find().filter(Note::TITLE.eq("x")))?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn optional<E: Entity>(&self, find: Find<E>) -> Result<Option<E>> {
        self.block_on(find.optional(&self.shared.db))
    }

    /// The first row matching a typed query; [`Error::NotFound`] when there is
    /// none ([`Find::one`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "x".into() })?;
    /// assert_eq!(db.one(Note::find().filter(Note::TITLE.eq("x")))?.id, 1);
    /// assert!(db.one(Note::find().filter(Note::TITLE.eq("y"))).unwrap_err().is_not_found());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn one<E: Entity>(&self, find: Find<E>) -> Result<E> {
        self.block_on(find.one(&self.shared.db))
    }

    /// How many rows match a typed query ([`Find::count`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save_all(&mut [Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }])?;
    /// assert_eq!(db.count(Note::find())?, 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn count<E: Entity>(&self, find: Find<E>) -> Result<i64> {
        self.block_on(find.count(&self.shared.db))
    }

    /// Whether any row matches a typed query ([`Find::exists`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// assert!(!db.exists(Note::find())?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn exists<E: Entity>(&self, find: Find<E>) -> Result<bool> {
        self.block_on(find.exists(&self.shared.db))
    }

    /// Set columns on every row matching a typed query; returns how many rows
    /// changed ([`Find::update_many`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save_all(&mut [Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }])?;
    /// let n = db.update_many(Note::find().filter(Note::ID.gt(1)), vec![Note::TITLE.set("z")])?;
    /// assert_eq!(n, 1);
    /// assert_eq!(db.get::<Note>(2)?.unwrap().title, "z");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn update_many<E: Entity>(
        &self,
        find: Find<E>,
        assignments: Vec<Assignment<E>>,
    ) -> Result<u64> {
        self.block_on(find.update_many(&self.shared.db, assignments))
    }

    /// [`update_many`](Db::update_many), recording who made the change and why
    /// ([`Find::update_many_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "a".into() })?;
    /// let audit = dal::Audit::by("bulk");
    /// assert_eq!(db.update_many_with(Note::find(), vec![Note::TITLE.set("b")], &audit)?, 1);
    /// assert_eq!(db.history::<Note>(1)?[1].actor.as_deref(), Some("bulk"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn update_many_with<E: Entity>(
        &self,
        find: Find<E>,
        assignments: Vec<Assignment<E>>,
        audit: &Audit,
    ) -> Result<u64> {
        self.block_on(find.update_many_with(&self.shared.db, assignments, audit))
    }

    /// Delete every row matching a typed query (soft delete when the entity has
    /// `soft_delete`); returns how many rows changed ([`Find::delete_many`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save_all(&mut [Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }])?;
    /// assert_eq!(db.delete_many(Note::find().filter(Note::TITLE.eq("a")))?, 1);
    /// assert_eq!(db.count(Note::find())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete_many<E: Entity>(&self, find: Find<E>) -> Result<u64> {
        self.block_on(find.delete_many(&self.shared.db))
    }

    /// Permanently delete every row matching a typed query
    /// ([`Find::delete_many_permanently`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(db.delete_many_permanently(Note::find())?, 1);
    /// assert_eq!(db.count(Note::find().include_deleted())?, 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete_many_permanently<E: Entity>(&self, find: Find<E>) -> Result<u64> {
        self.block_on(find.delete_many_permanently(&self.shared.db))
    }
}

/// A statement being prepared with per-call options; see [`Db::query`].
pub struct Query<'a> {
    db: &'a Db,
    inner: crate::Query<'a>,
}

impl std::fmt::Debug for Query<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

impl<'a> Query<'a> {
    /// Bind the next parameter.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let s: String = db.query("SELECT ? || ?").bind("a").bind(String::from("b")).fetch_scalar()?;
    /// assert_eq!(s, "ab");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn bind<T: Encode + 'a>(mut self, value: T) -> Self {
        self.inner = self.inner.bind(value);
        self
    }

    /// Limit how long the statement may run (cancelled when exceeded, failing
    /// with [`Error::Timeout`]).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
    ///             SELECT COUNT(*) FROM c";
    /// let err = db.query(slow).timeout(Duration::from_millis(50)).fetch_scalar::<i64>().unwrap_err();
    /// assert!(matches!(err, dal::Error::Timeout { kind: dal::TimeoutKind::Query, .. }));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.timeout(timeout);
        self
    }

    /// Attach a label to the statement's tracing span.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let q = db.query("SELECT 1").tag("feature", "health");
    /// assert_eq!(q.options().tags, [("feature".to_string(), "health".to_string())]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner = self.inner.tag(key, value);
        self
    }

    /// The options set so far.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let q = db.query("SELECT 1").timeout(Duration::from_secs(1));
    /// assert_eq!(q.options().timeout, Some(Duration::from_secs(1)));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn options(&self) -> &CallOptions {
        self.inner.options()
    }

    /// Run it as a statement that returns no rows.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let r = db.query("INSERT INTO [t] VALUES (?)").bind(1).execute()?;
    /// assert_eq!(r.rows_affected, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn execute(self) -> Result<ExecResult> {
        self.db.block_on(self.inner.execute())
    }

    /// Run it and decode every row as `T`.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let rows: Vec<(i64,)> = db.query("SELECT ? UNION ALL SELECT ?").bind(1).bind(2).fetch_all_as()?;
    /// assert_eq!(rows, [(1,), (2,)]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_all_as<T: FromRow + Send>(self) -> Result<Vec<T>> {
        self.db.block_on(self.inner.fetch_all_as::<T>())
    }

    /// Run it and return every row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let rows = db.query("SELECT ? AS [n]").bind(3).fetch_all()?;
    /// assert_eq!(rows[0].get::<i64, _>("n")?, 3);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_all(self) -> Result<Vec<Row<'static>>> {
        self.db.block_on(self.inner.fetch_all())
    }

    /// Run it and decode the first row as `T`, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let r: Option<(i64,)> = db.query("SELECT 1 WHERE 1 = ?").bind(0).fetch_optional_as()?;
    /// assert_eq!(r, None);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_optional_as<T: FromRow + Send>(self) -> Result<Option<T>> {
        self.db.block_on(self.inner.fetch_optional_as::<T>())
    }

    /// Run it and return the first row, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(db.query("SELECT 1 WHERE 1 = ?").bind(1).fetch_optional()?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_optional(self) -> Result<Option<Row<'static>>> {
        self.db.block_on(self.inner.fetch_optional())
    }

    /// Run it and return the first row; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let row = db.query("SELECT ? AS [x]").bind("y").fetch_one()?;
    /// assert_eq!(row.get::<String, _>("x")?, "y");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_one(self) -> Result<Row<'static>> {
        self.db.block_on(self.inner.fetch_one())
    }

    /// Run it and decode the first column of the first row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let n: f64 = db.query("SELECT ? / 2.0").bind(5).fetch_scalar()?;
    /// assert_eq!(n, 2.5);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_scalar<T: Decode + Send>(self) -> Result<T> {
        self.db.block_on(self.inner.fetch_scalar::<T>())
    }
}

/// An open transaction (or, when nested, a savepoint) on a blocking [`Db`].
///
/// Dropping it without [`commit`](Transaction::commit) rolls it back, as
/// [`crate::Transaction`] does: at once on SQLite and for a savepoint; for a
/// top-level transaction on a server, `ROLLBACK` is sent by a task on the
/// handle's runtime (so dropping never blocks, even during a panic) and the
/// connection is reset before its next use should that task not get to run.
///
/// ```
/// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
/// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
/// let mut tx = db.begin()?;
/// tx.execute("INSERT INTO [t] VALUES (?)", (1,))?;
/// {
///     let mut inner = tx.begin()?;          // SAVEPOINT
///     inner.execute("INSERT INTO [t] VALUES (?)", (2,))?;
///     // dropped: rolled back to the savepoint
/// }
/// assert_eq!(tx.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [t]", ())?, 1);
/// tx.commit()?;
/// assert_eq!(db.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [t]", ())?, 1);
/// # Ok::<(), dal::Error>(())
/// ```
pub struct Transaction<'c> {
    db: Db,
    /// `None` only while `commit` or `rollback` consume it.
    inner: Option<crate::Transaction<'c>>,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Transaction")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // dal's own drop: synchronous on SQLite and for savepoints; on a server
            // it spawns the ROLLBACK on the current runtime, which must be ours
            // (the connection's sockets belong to it)
            let _entered = self.db.shared.runtime.get().enter();
            drop(inner);
        }
    }
}

impl<'c> Transaction<'c> {
    /// The blocking handle and the async transaction, borrowed together.
    fn split(&mut self) -> (&Db, &mut crate::Transaction<'c>) {
        let inner = self
            .inner
            .as_mut()
            .expect("a transaction is open until commit or rollback consumes it");
        (&self.db, inner)
    }

    /// The database this transaction runs on.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let tx = db.begin()?;
    /// assert_eq!(tx.db().dialect(), dal::Dialect::Sqlite);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The dialect of the database.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert_eq!(db.begin()?.dialect(), dal::Dialect::Sqlite);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// 0 for a top-level transaction, 1 for a savepoint inside it, and so on.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.depth(), 0);
    /// assert_eq!(tx.begin()?.depth(), 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn depth(&self) -> u32 {
        self.inner.as_ref().map_or(0, |t| t.depth())
    }

    /// The async transaction underneath, e.g. for an async dal API that takes
    /// `&mut dal::Transaction` (run its future with [`Transaction::block_on`]).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.as_async().depth(), 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn as_async(&mut self) -> &mut crate::Transaction<'c> {
        self.split().1
    }

    /// Run an async operation on the async transaction underneath, waiting for
    /// it: an async closure receiving `&mut dal::Transaction`, typically for an
    /// entity operation without a blocking twin here. Inside an async runtime
    /// this returns [`Error::Unsupported`] without running it.
    ///
    /// ```
    /// use dal::Entity;
    ///
    /// #[derive(Entity, Debug, Clone)]
    /// struct Note {
    ///     id: i64,
    ///     #[dal(length = 200)]
    ///     title: String,
    /// }
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// tx.block_on(async |t| note.save(t).await)?;
    /// let n = tx.block_on(async |t| Note::find().count(t).await)?;
    /// assert_eq!(n, 1);
    /// tx.commit()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn block_on<T, F>(&mut self, f: F) -> Result<T>
    where
        F: AsyncFnOnce(&mut crate::Transaction<'c>) -> Result<T>,
    {
        ensure_blocking_allowed()?;
        let (db, tx) = self.split();
        db.block_on(f(tx))
    }

    /// Start a nested transaction: a savepoint, committed by releasing it and
    /// rolled back to on [`rollback`](Transaction::rollback) or drop.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// let mut sp = tx.begin()?;
    /// sp.execute("INSERT INTO [t] VALUES (1)", ())?;
    /// sp.commit()?;                        // RELEASE SAVEPOINT
    /// let mut sp = tx.begin()?;
    /// sp.execute("INSERT INTO [t] VALUES (2)", ())?;
    /// sp.rollback()?;                      // ROLLBACK TO SAVEPOINT
    /// tx.commit()?;
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT SUM([n]) FROM [t]", ())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn begin(&mut self) -> Result<Transaction<'_>> {
        ensure_blocking_allowed()?;
        let db = self.db.clone();
        let (_, tx) = self.split();
        let inner = db.block_on(tx.begin())?;
        Ok(Transaction {
            db,
            inner: Some(inner),
        })
    }

    /// Make the transaction's changes permanent (or release the savepoint).
    ///
    /// Inside an async runtime it fails with [`Error::Unsupported`] and the
    /// transaction is rolled back as if dropped.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// tx.execute("INSERT INTO [t] VALUES (1)", ())?;
    /// tx.commit()?;
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [t]", ())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn commit(mut self) -> Result<()> {
        ensure_blocking_allowed()?;
        let inner = self
            .inner
            .take()
            .expect("a transaction is open until commit or rollback consumes it");
        self.db.block_on(inner.commit())
    }

    /// Undo the transaction's changes (or roll back to the savepoint).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// tx.execute("INSERT INTO [t] VALUES (1)", ())?;
    /// tx.rollback()?;
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [t]", ())?, 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn rollback(mut self) -> Result<()> {
        ensure_blocking_allowed()?;
        let inner = self
            .inner
            .take()
            .expect("a transaction is open until commit or rollback consumes it");
        self.db.block_on(inner.rollback())
    }

    /// Run a statement that returns no rows.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.execute("INSERT INTO [t] VALUES (?)", (1,))?.rows_affected, 1);
    /// tx.commit()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn execute<P: Params>(&mut self, sql: &str, params: P) -> Result<ExecResult> {
        let (db, tx) = self.split();
        db.block_on(tx.execute(sql, params))
    }

    /// Run one statement once per parameter set; returns the total rows affected.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.execute_many("INSERT INTO [t] VALUES (?)", vec![(1,), (2,)])?, 2);
    /// tx.commit()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn execute_many<P, I>(&mut self, sql: &str, param_sets: I) -> Result<u64>
    where
        P: Params,
        I: IntoIterator<Item = P>,
    {
        let (db, tx) = self.split();
        db.block_on(tx.execute_many(sql, param_sets))
    }

    /// Run SQL text with no parameters, as is.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// tx.execute_script("CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);")?;
    /// tx.commit()?;
    /// assert!(db.table_exists("a")?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn execute_script(&mut self, sql: &str) -> Result<()> {
        let (db, tx) = self.split();
        db.block_on(tx.execute_script(sql))
    }

    /// Run a query and return every row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.fetch_all("SELECT 1 UNION ALL SELECT 2", ())?.len(), 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_all<P: Params>(&mut self, sql: &str, params: P) -> Result<Vec<Row<'static>>> {
        let (db, tx) = self.split();
        db.block_on(tx.fetch_all(sql, params))
    }

    /// Run a query and return the first row; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.fetch_one("SELECT ? AS [n]", (4,))?.get::<i64, _>("n")?, 4);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_one<P: Params>(&mut self, sql: &str, params: P) -> Result<Row<'static>> {
        let (db, tx) = self.split();
        db.block_on(tx.fetch_one(sql, params))
    }

    /// Run a query and return the first row, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert!(tx.fetch_optional("SELECT 1 WHERE 1 = 0", ())?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_optional<P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Option<Row<'static>>> {
        let (db, tx) = self.split();
        db.block_on(tx.fetch_optional(sql, params))
    }

    /// Run a query and decode every row as `T`.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// let v: Vec<(String,)> = tx.fetch_all_as("SELECT 'a' UNION ALL SELECT 'b'", ())?;
    /// assert_eq!(v, [("a".to_string(),), ("b".to_string(),)]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_all_as<T: FromRow + Send, P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Vec<T>> {
        let (db, tx) = self.split();
        db.block_on(tx.fetch_all_as(sql, params))
    }

    /// Run a query and decode the first row as `T`; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// let (a, b): (i64, String) = tx.fetch_one_as("SELECT ?, ?", (1, "x"))?;
    /// assert_eq!((a, b.as_str()), (1, "x"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_one_as<T: FromRow + Send, P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<T> {
        let (db, tx) = self.split();
        db.block_on(tx.fetch_one_as(sql, params))
    }

    /// Run a query and decode the first row as `T`, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// let r: Option<(i64,)> = tx.fetch_optional_as("SELECT 9", ())?;
    /// assert_eq!(r, Some((9,)));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_optional_as<T: FromRow + Send, P: Params>(
        &mut self,
        sql: &str,
        params: P,
    ) -> Result<Option<T>> {
        let (db, tx) = self.split();
        db.block_on(tx.fetch_optional_as(sql, params))
    }

    /// Run a query and decode the first column of the first row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.fetch_scalar::<i64, _>("SELECT ? + 1", (1,))?, 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn fetch_scalar<T: Decode + Send, P: Params>(&mut self, sql: &str, params: P) -> Result<T> {
        let (db, tx) = self.split();
        db.block_on(tx.fetch_scalar(sql, params))
    }

    // ------------------------------------------------------------- entities

    /// [`Entity::save`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// assert_eq!(tx.get::<Note>(note.id)?.unwrap().title, "a");
    /// drop(tx);                                // rolled back
    /// assert!(db.get::<Note>(note.id)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn save<E: Entity>(&mut self, entity: &mut E) -> Result<()> {
        let (db, tx) = self.split();
        db.block_on(entity.save(tx))
    }

    /// [`Entity::save_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save_with(&mut note, &dal::Audit::by("ada"))?;
    /// tx.commit()?;
    /// assert_eq!(db.history::<Note>(note.id)?[0].actor.as_deref(), Some("ada"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn save_with<E: Entity>(&mut self, entity: &mut E, audit: &Audit) -> Result<()> {
        let (db, tx) = self.split();
        db.block_on(entity.save_with(tx, audit))
    }

    /// [`Entity::save_all`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save_all(&mut [Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }])?;
    /// assert_eq!(tx.count(Note::find())?, 2);
    /// tx.commit()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn save_all<E: Entity>(&mut self, entities: &mut [E]) -> Result<()> {
        let (db, tx) = self.split();
        db.block_on(E::save_all(entities, tx))
    }

    /// [`Entity::save_all_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut notes = vec![Note { id: 0, title: "a".into() }];
    /// tx.save_all_with(&mut notes, &dal::Audit::by("import"))?;
    /// assert_eq!(tx.history::<Note>(notes[0].id)?[0].actor.as_deref(), Some("import"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn save_all_with<E: Entity>(&mut self, entities: &mut [E], audit: &Audit) -> Result<()> {
        let (db, tx) = self.split();
        db.block_on(E::save_all_with(entities, tx, audit))
    }

    /// [`Entity::get`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "a".into() })?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.get::<Note>(1)?.unwrap().title, "a");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn get<E: Entity>(&mut self, id: E::Id) -> Result<Option<E>> {
        let (db, tx) = self.split();
        db.block_on(E::get(tx, id))
    }

    /// [`Entity::get_with_deleted`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// tx.delete(&mut note)?;
    /// assert!(tx.get::<Note>(note.id)?.is_none());
    /// assert!(tx.get_with_deleted::<Note>(note.id)?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn get_with_deleted<E: Entity>(&mut self, id: E::Id) -> Result<Option<E>> {
        let (db, tx) = self.split();
        db.block_on(E::get_with_deleted(tx, id))
    }

    /// [`Entity::delete`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// db.save(&mut note)?;
    /// let mut tx = db.begin()?;
    /// assert!(tx.delete(&mut note)?);
    /// tx.commit()?;
    /// assert!(db.get::<Note>(note.id)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete<E: Entity>(&mut self, entity: &mut E) -> Result<bool> {
        let (db, tx) = self.split();
        db.block_on(entity.delete(tx))
    }

    /// [`Entity::delete_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// db.save(&mut note)?;
    /// let mut tx = db.begin()?;
    /// assert!(tx.delete_with(&mut note, &dal::Audit::by("ada"))?);
    /// tx.commit()?;
    /// assert_eq!(db.history::<Note>(note.id)?.len(), 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete_with<E: Entity>(&mut self, entity: &mut E, audit: &Audit) -> Result<bool> {
        let (db, tx) = self.split();
        db.block_on(entity.delete_with(tx, audit))
    }

    /// [`Entity::delete_permanently`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// assert!(tx.delete_permanently(&mut note)?);
    /// assert!(tx.get_with_deleted::<Note>(note.id)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete_permanently<E: Entity>(&mut self, entity: &mut E) -> Result<bool> {
        let (db, tx) = self.split();
        db.block_on(entity.delete_permanently(tx))
    }

    /// [`Entity::restore`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// tx.delete(&mut note)?;
    /// assert!(tx.restore(&mut note)?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn restore<E: Entity>(&mut self, entity: &mut E) -> Result<bool> {
        let (db, tx) = self.split();
        db.block_on(entity.restore(tx))
    }

    /// [`Entity::restore_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// tx.delete(&mut note)?;
    /// assert!(tx.restore_with(&mut note, &dal::Audit::by("ada"))?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn restore_with<E: Entity>(&mut self, entity: &mut E, audit: &Audit) -> Result<bool> {
        let (db, tx) = self.split();
        db.block_on(entity.restore_with(tx, audit))
    }

    /// [`Entity::history`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// assert_eq!(tx.history::<Note>(note.id)?.len(), 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn history<E: Entity>(&mut self, id: E::Id) -> Result<Vec<HistoryEntry<E>>> {
        let (db, tx) = self.split();
        db.block_on(E::history(tx, id))
    }

    /// [`Entity::at_version`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// assert_eq!(tx.at_version::<Note>(note.id, 1)?.unwrap().entity.title, "a");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn at_version<E: Entity>(
        &mut self,
        id: E::Id,
        version: i64,
    ) -> Result<Option<HistoryEntry<E>>> {
        let (db, tx) = self.split();
        db.block_on(E::at_version(tx, id, version))
    }

    /// [`FindWith::all`] inside this transaction.
    pub fn all_with<E: Entity>(&mut self, find: FindWith<E>) -> Result<Vec<Loaded<E>>> {
        let (db, tx) = self.split();
        db.block_on(find.all(tx))
    }

    /// [`FindWith::optional`] inside this transaction.
    pub fn optional_with<E: Entity>(&mut self, find: FindWith<E>) -> Result<Option<Loaded<E>>> {
        let (db, tx) = self.split();
        db.block_on(find.optional(tx))
    }

    /// [`HasMany::save`] inside this transaction (in a savepoint).
    pub fn save_with_children<P: Entity, C: Entity>(
        &mut self,
        relation: HasMany<P, C>,
        parent: &mut P,
        children: &mut [C],
    ) -> Result<()> {
        let (db, tx) = self.split();
        db.block_on(relation.save(parent, children, tx))
    }

    /// [`Select::all`] inside this transaction.
    pub fn select_all<E: Entity, S, P: Projection<S, I>, I>(
        &mut self,
        select: Select<E, S, P, I>,
    ) -> Result<Vec<P::Out>> {
        let (db, tx) = self.split();
        db.block_on(select.all(tx))
    }

    /// [`Select::optional`] inside this transaction.
    pub fn select_optional<E: Entity, S, P: Projection<S, I>, I>(
        &mut self,
        select: Select<E, S, P, I>,
    ) -> Result<Option<P::Out>> {
        let (db, tx) = self.split();
        db.block_on(select.optional(tx))
    }

    /// [`Select::one`] inside this transaction.
    pub fn select_one<E: Entity, S, P: Projection<S, I>, I>(
        &mut self,
        select: Select<E, S, P, I>,
    ) -> Result<P::Out> {
        let (db, tx) = self.split();
        db.block_on(select.one(tx))
    }

    /// [`Select::all_as`] inside this transaction.
    pub fn select_all_as<R: FromRow + Send + 'static, E: Entity, S, P: Projection<S, I>, I>(
        &mut self,
        select: Select<E, S, P, I>,
    ) -> Result<Vec<R>> {
        let (db, tx) = self.split();
        db.block_on(select.all_as(tx))
    }

    /// [`Find::all`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.all(Note::find())?.len(), 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn all<E: Entity>(&mut self, find: Find<E>) -> Result<Vec<E>> {
        let (db, tx) = self.split();
        db.block_on(find.all(tx))
    }

    /// [`Find::optional`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// assert!(tx.optional(Note::find())?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn optional<E: Entity>(&mut self, find: Find<E>) -> Result<Option<E>> {
        let (db, tx) = self.split();
        db.block_on(find.optional(tx))
    }

    /// [`Find::one`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.one(Note::find().filter(Note::TITLE.eq("a")))?.id, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn one<E: Entity>(&mut self, find: Find<E>) -> Result<E> {
        let (db, tx) = self.split();
        db.block_on(find.one(tx))
    }

    /// [`Find::count`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.count(Note::find())?, 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn count<E: Entity>(&mut self, find: Find<E>) -> Result<i64> {
        let (db, tx) = self.split();
        db.block_on(find.count(tx))
    }

    /// [`Find::exists`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert!(tx.exists(Note::find())?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn exists<E: Entity>(&mut self, find: Find<E>) -> Result<bool> {
        let (db, tx) = self.split();
        db.block_on(find.exists(tx))
    }

    /// [`Find::update_many`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.update_many(Note::find(), vec![Note::TITLE.set("b")])?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn update_many<E: Entity>(
        &mut self,
        find: Find<E>,
        assignments: Vec<Assignment<E>>,
    ) -> Result<u64> {
        let (db, tx) = self.split();
        db.block_on(find.update_many(tx, assignments))
    }

    /// [`Find::update_many_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// let audit = dal::Audit::by("ada");
    /// assert_eq!(tx.update_many_with(Note::find(), vec![Note::TITLE.set("b")], &audit)?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn update_many_with<E: Entity>(
        &mut self,
        find: Find<E>,
        assignments: Vec<Assignment<E>>,
        audit: &Audit,
    ) -> Result<u64> {
        let (db, tx) = self.split();
        db.block_on(find.update_many_with(tx, assignments, audit))
    }

    /// [`Find::delete_many`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.delete_many(Note::find())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete_many<E: Entity>(&mut self, find: Find<E>) -> Result<u64> {
        let (db, tx) = self.split();
        db.block_on(find.delete_many(tx))
    }

    /// [`Find::delete_many_permanently`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.delete_many_permanently(Note::find())?, 1);
    /// assert_eq!(tx.count(Note::find().include_deleted())?, 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn delete_many_permanently<E: Entity>(&mut self, find: Find<E>) -> Result<u64> {
        let (db, tx) = self.split();
        db.block_on(find.delete_many_permanently(tx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::rerunnable;

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}

    #[test]
    fn handles_are_send_and_sync() {
        assert_send_sync::<Db>();
        assert_send::<Transaction<'static>>();
    }

    #[test]
    fn rerun_policy_matches_the_async_one() {
        let ser = Error::Serialization {
            deadlock: true,
            message: "x".into(),
            code: None,
        };
        let lost = Error::ConnectionLost {
            message: "x".into(),
            code: None,
        };
        assert!(rerunnable(&ser, false) && rerunnable(&ser, true));
        assert!(rerunnable(&lost, false) && !rerunnable(&lost, true));
        assert!(rerunnable(&Error::PoolClosed, false));
        assert!(!rerunnable(&Error::NotFound("x".into()), false));
        assert!(!rerunnable(
            &Error::Unsupported(INSIDE_RUNTIME.into()),
            false
        ));
    }

    #[test]
    fn refuses_inside_a_runtime() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt
            .block_on(async { ensure_blocking_allowed() })
            .unwrap_err();
        assert!(matches!(&err, Error::Unsupported(m) if m.contains("inside an async runtime")));
        assert!(ensure_blocking_allowed().is_ok());
    }
}
