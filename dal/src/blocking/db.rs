//! The blocking [`Db`]: the handle, its runtime, the methods that do more than
//! wait (connecting, transactions, the statement builder) and the list of its
//! twins of async `dal::Db`, entity and query methods.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dal_schema::ddl::DdlStatement;
use dal_schema::{Dialect, Schema, Table};

use super::{OwnedRuntime, Query, Transaction, ensure_blocking_allowed};
use crate::codec::Decode;
use crate::config::DatabaseConfig;
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::params::Params;
use crate::pool::{HeldConnection, PoolStatus};
use crate::result::ExecResult;
use crate::row::{FromRow, Row};

/// What the clones of a blocking [`Db`] share. Field order matters: the async
/// handle is dropped before the runtime its connections belong to.
pub(super) struct Shared {
    pub(super) db: crate::db::Db,
    pub(super) runtime: OwnedRuntime,
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
/// minus the `.await`; see the [module documentation](super) for where they may
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
    pub(super) shared: Arc<Shared>,
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
        let db = runtime.get().block_on(crate::db::Db::connect(config))?;
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
            crate::db::Db::connect_lazy(config)?
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
    pub fn as_async(&self) -> &crate::db::Db {
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
                .block_on(crate::transaction::Transaction::begin_at(
                    &self.shared.db,
                    location,
                ))
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
}

blocking_twins! { Db(db) {
    /// Check out a connection, make one round trip and report how long it took.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let took = db.ping()?;
    /// assert!(took < std::time::Duration::from_secs(5));
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    fn ping() -> Duration
        => db.ping();

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
    fn execute[P: Params](sql: &str, params: P) -> ExecResult
        => db.execute(sql, params);

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
    fn execute_many[P, I](sql: &str, param_sets: I) -> u64 where [P: Params, I: IntoIterator<Item = P> + Send, I::IntoIter: Send]
        => db.execute_many(sql, param_sets);

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
    fn execute_script(sql: &str) -> ()
        => db.execute_script(sql);

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
    fn fetch_all[P: Params](sql: &str, params: P) -> Vec<Row<'static>>
        => db.fetch_all(sql, params);

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
    fn fetch_one[P: Params](sql: &str, params: P) -> Row<'static>
        => db.fetch_one(sql, params);

    /// Run a query and return the first row, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(db.fetch_optional("SELECT 1 WHERE 1 = ?", (0,))?.is_none());
    /// assert!(db.fetch_optional("SELECT 1 WHERE 1 = ?", (1,))?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    fn fetch_optional[P: Params](sql: &str, params: P) -> Option<Row<'static>>
        => db.fetch_optional(sql, params);

    /// Run a query and decode every row as `T`.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let pairs: Vec<(i64, String)> = db.fetch_all_as("SELECT 1, 'a' UNION ALL SELECT 2, 'b'", ())?;
    /// assert_eq!(pairs, [(1, "a".to_string()), (2, "b".to_string())]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    fn fetch_all_as[T: FromRow + Send, P: Params](sql: &str, params: P) -> Vec<T>
        => db.fetch_all_as(sql, params);

    /// Run a query and decode the first row as `T`; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let (a, b): (i64, bool) = db.fetch_one_as("SELECT ?, ?", (5, true))?;
    /// assert_eq!((a, b), (5, true));
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    fn fetch_one_as[T: FromRow + Send, P: Params](sql: &str, params: P) -> T
        => db.fetch_one_as(sql, params);

    /// Run a query and decode the first row as `T`, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let none: Option<(i64,)> = db.fetch_optional_as("SELECT 1 WHERE 1 = 0", ())?;
    /// assert_eq!(none, None);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    fn fetch_optional_as[T: FromRow + Send, P: Params](sql: &str, params: P) -> Option<T>
        => db.fetch_optional_as(sql, params);

    /// Run a query and decode the first column of the first row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let n: i64 = db.fetch_scalar("SELECT ? * 2", (21,))?;
    /// assert_eq!(n, 42);
    /// # Ok::<(), dal::Error>(())
    /// ```
    #[track_caller]
    fn fetch_scalar[T: Decode + Send, P: Params](sql: &str, params: P) -> T
        => db.fetch_scalar(sql, params);

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
    fn create_table(table: &Table) -> ()
        => db.create_table(table);

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
    fn create_table_if_not_exists(table: &Table) -> ()
        => db.create_table_if_not_exists(table);

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
    fn drop_table_if_exists(name: &str) -> ()
        => db.drop_table_if_exists(name);

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
    fn apply_ddl(statement: &DdlStatement) -> ()
        => db.apply_ddl(statement);

    /// Whether a table called `name` exists (in the current schema / database).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(!db.table_exists("nope")?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn table_exists(name: &str) -> bool
        => db.table_exists(name);

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
    fn introspect() -> Schema
        => db.introspect();

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
    fn introspect_table(name: &str) -> Option<Table>
        => db.introspect_table(name);

    /// The names of the base tables [`Db::introspect`] reads, sorted.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute_script("CREATE TABLE b (x INTEGER); CREATE TABLE a (y TEXT);")?;
    /// assert_eq!(db.table_names()?, ["a", "b"]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn table_names() -> Vec<String>
        => db.table_names();
} }
