//! `Db`: the handle applications keep (cheap to clone), with the query methods.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dal_schema::Dialect;

use crate::backend::{Backend, Conn, ExecOptions};
use crate::codec::{Decode, Encode};
use crate::config::DatabaseConfig;
use crate::error::{Error, Result, TimeoutKind};
use crate::params::Params;
use crate::pool::{HeldConnection, PoolSettings, PoolStatus};
use crate::resilience::Resilience;
use crate::resilience::breaker::{BreakerState, Outcome};
use crate::resilience::deadline::{CheckoutSpec, Deadline};
use crate::resilience::retry::{self, Retry, RetryKind};
use crate::result::ExecResult;
use crate::routing::{Lag, Replicas, lag_check_every};
use crate::row::{FromRow, Row};
use crate::statement::{Statement, StatementCache};
use crate::telemetry::stats::{Health, Stats};
use crate::telemetry::{CallContext, Telemetry};

pub(crate) struct DbInner {
    pub(crate) config: DatabaseConfig,
    pub(crate) backend: Backend,
    pub(crate) telemetry: Arc<Telemetry>,
    /// The retry policy and the circuit breaker.
    pub(crate) resilience: Arc<Resilience>,
    pub(crate) statements: StatementCache,
    /// MySQL family: how the ids of a multi-row insert are learnt (read once).
    pub(crate) mysql_ids: std::sync::OnceLock<MySqlIds>,
    /// The read replicas (each a `Db` of its own) and the read routing.
    pub(crate) replicas: Replicas<Db>,
    /// As a replica: how far behind its primary it was last measured.
    pub(crate) lag: Lag,
    /// As a shard: its shard set and place in it (writes are checked).
    pub(crate) shard: std::sync::OnceLock<crate::shard_key::Pin>,
}

/// How the ids a multi-row `INSERT` generated are learnt on the MySQL family
/// (which has no `RETURNING` on MySQL 8): a fact about the server, learnt
/// once per `Db` (see `sequence::mysql_ids`) and kept in [`DbInner`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MySqlIds {
    /// Consecutive from the first one the server reports, spaced by
    /// `auto_increment_increment`: InnoDB's "traditional" and "consecutive"
    /// lock modes (0 and 1, MariaDB's default) allocate them in one go.
    Step(i64),
    /// Returned by `INSERT .. RETURNING` (MariaDB 10.5 and later), needed in
    /// "interleaved" lock mode 2 (MySQL 8's default, required by Galera), where
    /// another statement's rows may take ids in between.
    Returning,
    /// Not knowable from one statement (MySQL 8 in lock mode 2): insert one row
    /// at a time.
    OneByOne,
}

/// A handle to one database: a connection pool plus its configuration.
///
/// Cloning is cheap (an `Arc`); clones share the pool. Every query method takes
/// portable SQL (`[name]` quotes identifiers, `?` marks parameters, see
/// [`dal_schema::sql`]) and a [`Params`] value (a tuple, array, `Vec` or
/// [`params!`](crate::params!)).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// db.execute("CREATE TABLE [notes] ([id] INTEGER PRIMARY KEY, [body] TEXT NOT NULL)", ()).await?;
/// let r = db.execute("INSERT INTO [notes] ([body]) VALUES (?)", ("hello",)).await?;
/// assert_eq!(r.rows_affected, 1);
/// let (body,): (String,) = db.fetch_one_as("SELECT [body] FROM [notes] WHERE [id] = ?", (r.last_insert_id,)).await?;
/// assert_eq!(body, "hello");
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<DbInner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("name", &self.inner.config.name())
            .field("url", &self.inner.config.redacted_url())
            .field("pool", &self.pool_status())
            .finish()
    }
}

/// Per-call options for a statement (see [`Db::query`]).
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Time limit of this call from its start, checkout and retries included
    /// (overrides the configured query timeout).
    pub timeout: Option<Duration>,
    /// Labels recorded with the statement's tracing span.
    pub tags: Vec<(String, String)>,
    /// Never re-run this statement, even when it only reads (for a `SELECT`
    /// that calls a function with side effects).
    pub no_retry: bool,
}

/// The pool for `config`, its connections opened by the backend's manager
/// (which builds the connect options: see `backend/<dialect>`).
fn build_backend(config: &DatabaseConfig, telemetry: Arc<Telemetry>) -> Result<Backend> {
    let pool = config.pool();
    let timeouts = config.timeouts();
    let settings = PoolSettings {
        max_connections: pool.max_connections as usize,
        min_connections: pool.min_connections as usize,
        connect_timeout: timeouts.connect,
        idle_timeout: pool.idle_timeout,
        max_lifetime: pool.max_lifetime,
        validate_after_idle: pool.validate_after_idle,
        leak_detection_threshold: config.leak_detection_threshold(),
        capture_backtrace: config.capture_backtrace(),
        name: config.name().to_string(),
        telemetry,
    };
    Backend::open(config, settings)
}

impl Db {
    /// Open a pool for `config`, connecting `min_connections` (at least one)
    /// within the pool-creation timeout.
    ///
    /// Fails with [`Error::Timeout`] of kind [`TimeoutKind::PoolCreation`] when the
    /// server does not answer in time, or with the connection error when it refuses.
    pub async fn connect(config: DatabaseConfig) -> Result<Db> {
        let db = Db::connect_lazy(config)?;
        let n = (db.inner.config.pool().min_connections as usize).max(1);
        let spec = CheckoutSpec::own(
            TimeoutKind::PoolCreation,
            db.inner.config.timeouts().pool_creation,
        );
        let limit = spec.fix(std::time::Instant::now());
        let filled = match limit.at {
            Some(at) => tokio::time::timeout_at(at.into(), db.inner.backend.fill(n, &spec))
                .await
                .unwrap_or_else(|_| Err(limit.error(TimeoutKind::PoolCreation))),
            None => db.inner.backend.fill(n, &spec).await,
        };
        match filled {
            Ok(()) => Ok(db),
            // the pool-creation limit ran out (while connecting)
            Err(Error::Timeout {
                budget: TimeoutKind::PoolCreation,
                after,
                elapsed,
                ..
            }) => {
                db.close();
                Err(Error::timeout(
                    TimeoutKind::PoolCreation,
                    TimeoutKind::PoolCreation,
                    after,
                    elapsed,
                ))
            }
            Err(e) => {
                db.close();
                Err(e)
            }
        }
    }

    /// [`Db::connect`] with a URL and default options.
    pub async fn connect_url(url: &str) -> Result<Db> {
        Db::connect(DatabaseConfig::from_url(url)?).await
    }

    /// [`Db::connect`] with the configuration from `DAL_DATABASE_URL` and `DAL_*`.
    pub async fn connect_env() -> Result<Db> {
        Db::connect(DatabaseConfig::from_env()?).await
    }

    /// Create the pool without connecting; connections open on first use.
    pub fn connect_lazy(config: DatabaseConfig) -> Result<Db> {
        let resilience = Arc::new(Resilience::new(&config));
        let cache = match config.cache() {
            Some(c) => {
                // every process using this database shares the Redis entries
                // (and the schema PostgreSQL resolves table names in)
                let mut namespace = format!(
                    "{}:{}/{}",
                    config.host().unwrap_or("local"),
                    config.port().map(|p| p.to_string()).unwrap_or_default(),
                    config.database().unwrap_or_default()
                );
                for key in ["search_path", "options"] {
                    if let Some(v) = config.param(key) {
                        namespace.push_str(&format!("?{key}={v}"));
                    }
                }
                Some(Arc::new(crate::cache::Cache::new(
                    c,
                    config.name(),
                    namespace,
                )?))
            }
            None => None,
        };
        let telemetry = Arc::new(Telemetry::new(&config, resilience.clone(), cache));
        let backend = build_backend(&config, telemetry.clone())?;
        let statements = StatementCache::new(config.dialect());
        // replicas connect on first use: one that is down does not stop the primary
        let replicas = Replicas::new(
            config
                .replicas()
                .into_iter()
                .map(Db::connect_lazy)
                .collect::<Result<Vec<_>>>()?,
            config.read_your_writes_window(),
        );
        Ok(Db {
            inner: Arc::new(DbInner {
                config,
                backend,
                telemetry,
                resilience,
                statements,
                mysql_ids: std::sync::OnceLock::new(),
                replicas,
                lag: Lag::new(),
                shard: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.inner.backend.dialect()
    }

    /// The configuration this handle was opened with.
    pub fn config(&self) -> &DatabaseConfig {
        &self.inner.config
    }

    /// The pool's current size.
    pub fn pool_status(&self) -> PoolStatus {
        self.inner.backend.status()
    }

    /// Connections held longer than the leak-detection threshold, with where they
    /// were acquired (empty when leak detection is off).
    pub fn held_connections(&self) -> Vec<HeldConnection> {
        self.inner.backend.held_connections()
    }

    /// Close the pool (and the replicas'). Idle connections close now,
    /// checked-out ones when returned; later calls fail with
    /// [`Error::PoolClosed`].
    pub fn close(&self) {
        self.inner.backend.close();
        for r in self.inner.replicas.nodes() {
            r.close();
        }
    }

    /// The read replicas (see [`DatabaseConfigBuilder::replica`](crate::DatabaseConfigBuilder::replica)),
    /// each a `Db` of its own, in the order configured: their
    /// [`stats`](Db::stats), [`health`](Db::health), pool and breaker are
    /// each node's, and their metrics carry the name `{name}.replica{n}`.
    /// Empty without replicas.
    pub fn replicas(&self) -> &[Db] {
        self.inner.replicas.nodes()
    }

    /// The read cache's counts (see
    /// [`DatabaseConfigBuilder::cache`](crate::DatabaseConfigBuilder::cache)),
    /// also exported as `dal_cache_{hits,misses,evictions,errors}_total`;
    /// `None` without a cache.
    pub fn cache_stats(&self) -> Option<crate::cache::CacheStats> {
        self.telemetry().cache.as_ref().map(|c| c.stats())
    }

    pub(crate) fn cache(&self) -> Option<&Arc<crate::cache::Cache>> {
        self.telemetry().cache.as_ref()
    }

    /// For one of [`Db::replicas`]: how far behind its primary it was when
    /// last checked (see
    /// [`DatabaseConfigBuilder::max_replica_lag`](crate::DatabaseConfigBuilder::max_replica_lag)),
    /// also exported as the gauge `dal_replica_lag_seconds{db="{name}.replica{n}"}`.
    /// `None` before the first check, after one that failed, with the check
    /// off, and for a `Db` that is no replica; [`Duration::MAX`] when its
    /// replication has stopped (MySQL/MariaDB).
    pub fn replica_lag(&self) -> Option<Duration> {
        self.inner.lag.behind()
    }

    /// Start a lag check of each replica that is due one (in the
    /// background: the read that starts it does not wait).
    fn check_replica_lag(&self, limit: Duration) {
        let every = lag_check_every(limit);
        for node in self.inner.replicas.nodes() {
            if node.inner.lag.claim(every) {
                let node = node.clone();
                tokio::spawn(async move {
                    let answer = measure_lag(&node, every.max(Duration::from_secs(1))).await;
                    node.inner.lag.record(answer);
                    let seconds = match node.inner.lag.behind() {
                        None => f64::NAN,
                        Some(Duration::MAX) => f64::INFINITY,
                        Some(d) => d.as_secs_f64(),
                    };
                    metrics::gauge!("dal_replica_lag_seconds", "db" => node.config().name().to_string())
                        .set(seconds);
                });
            }
        }
    }

    /// Whether [`Db::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.backend.is_closed()
    }

    /// The options of a call starting now: its deadline (`timeout`, or the
    /// configured query timeout) is fixed here.
    pub(crate) fn exec_options(&self, timeout: Option<Duration>) -> ExecOptions {
        ExecOptions {
            deadline: Deadline::new(timeout.or(self.inner.config.timeouts().query)),
            busy_timeout: self.inner.config.sqlite_busy_timeout(),
            ctx: CallContext::default(),
            primary: false,
        }
    }

    /// Options for schema work (DDL, migrations): not bounded by the query
    /// timeout, which is meant for the application's statements.
    pub(crate) fn ddl_options(&self) -> ExecOptions {
        let mut o = self.exec_options(None);
        o.deadline = Deadline::new(None);
        o
    }

    pub(crate) fn telemetry(&self) -> &Telemetry {
        &self.inner.telemetry
    }

    /// Check out a connection for a call with `deadline`: the circuit breaker
    /// first (an open circuit fails at once), then the pool, within the
    /// acquire timeout and what is left of the deadline. A checkout that
    /// failed before anything was sent (the server refused or did not answer a
    /// new connection) is retried under the retry policy, inside that same
    /// limit; running out of time waiting for a free connection (pool
    /// exhausted) is not retried.
    pub(crate) fn acquire_conn<'a>(
        &'a self,
        location: &'static Location<'static>,
        deadline: &'a Deadline,
    ) -> impl Future<Output = Result<Conn>> + Send + 'a {
        // anything but a read on the pool may write: this task now reads
        // its own writes from here (noted when the checkout is made, which
        // every caller awaits at once; the checkout's future is returned as
        // it is, not wrapped in another)
        self.inner.replicas.note_write();
        self.checkout(location, deadline)
    }

    /// [`Db::acquire_conn`] for a read on the pool (which does not start
    /// the read-your-writes window).
    async fn checkout(
        &self,
        location: &'static Location<'static>,
        deadline: &Deadline,
    ) -> Result<Conn> {
        let tel = self.telemetry();
        let res = &self.inner.resilience;
        let spec = deadline.checkout(self.inner.config.timeouts().acquire);
        // fixed by the first attempt that needs it, kept for the retries
        let mut fixed = None;
        let mut attempt = 1;
        let mut retries = Retry::new(&res.retry, tel, RetryKind::Connect);
        let mut previous: Option<Error> = None;
        loop {
            let r = match res.admit(tel) {
                Ok(()) => {
                    self.inner
                        .backend
                        .acquire(location, &spec, &mut fixed)
                        .await
                }
                Err(e) => {
                    tel.count_error(&e);
                    res.checkout_failed(&e, tel);
                    // a re-try refused by the circuit: report what failed
                    return Err(previous.unwrap_or(e));
                }
            };
            match r {
                Ok(c) => return Ok(c),
                Err(e) => {
                    tel.count_error(&e);
                    res.checkout_failed(&e, tel);
                    let again = retry::reconnectable(&e)
                        && retries
                            .pause(attempt, &e, |d| {
                                fixed
                                    .get_or_insert_with(|| spec.fix(Instant::now()))
                                    .allows(d)
                            })
                            .await;
                    if !again {
                        return Err(e);
                    }
                    attempt += 1;
                    previous = Some(e);
                }
            }
        }
    }

    /// Run a query, re-running it after a transient failure when it only reads
    /// (and `retry` allows), under the retry policy. Checkout failures were
    /// already retried (or deliberately not) by [`Db::acquire_conn`] and end
    /// the call; when a re-run is refused by an open circuit, the caller gets
    /// the failure that caused the re-run rather than `CircuitOpen`.
    pub(crate) async fn run_fetch<T: FromRow + Send, P: Params + ?Sized>(
        &self,
        stmt: &Statement,
        params: &P,
        limit: Option<usize>,
        opts: ExecOptions,
        retry: bool,
        location: &'static Location<'static>,
    ) -> Result<Vec<T>> {
        let mut rows = crate::backend::sink::Collect::new(limit);
        self.run_fetch_into::<T, P, _>(stmt, params, &mut rows, opts, retry, location)
            .await
            .map(|()| rows.rows)
    }

    /// [`run_fetch`](Db::run_fetch), the rows put into `sink` (a stream's
    /// hand-over, say): a re-run happens only while the sink can start again
    /// (no row went to a stream's reader yet).
    pub(crate) async fn run_fetch_into<
        T: FromRow + Send,
        P: Params + ?Sized,
        S: crate::backend::sink::Sink<T>,
    >(
        &self,
        stmt: &Statement,
        params: &P,
        sink: &mut S,
        opts: ExecOptions,
        retry: bool,
        location: &'static Location<'static>,
    ) -> Result<()> {
        // a read that locks rows, or one the caller will not have re-run
        // (it may have side effects), stays on the primary
        let replica = match stmt.replica_safe && retry && !opts.primary {
            true => {
                let limit = self.inner.config.max_replica_lag();
                if let Some(limit) = limit {
                    self.check_replica_lag(limit);
                }
                self.inner.replicas.for_read(
                    |r| {
                        r.breaker_state() != BreakerState::Open
                            && !r.is_closed()
                            && r.inner.lag.within(limit)
                    },
                    |r| r.pool_status().in_use,
                )
            }
            false => None,
        };
        let on = replica.unwrap_or(self);
        let mut r = on
            .run_fetch_retried(stmt, params, &mut *sink, opts, retry, location)
            .await;
        if let (Some(replica), Err(e)) = (replica, &r)
            && unreachable(e)
            && sink.restart()
        {
            // the replica could not be reached: the primary answers (boxed:
            // the rare path keeps the call's future small)
            tracing::debug!(
                target: "dal::routing",
                replica = replica.config().name(),
                error = %e.redacted(),
                "a read went to the primary: its replica did not answer"
            );
            r = Box::pin(self.run_fetch_retried(stmt, params, sink, opts, retry, location)).await;
        }
        self.telemetry().call_done(opts.deadline.start, &r);
        r
    }

    async fn run_fetch_retried<
        T: FromRow + Send,
        P: Params + ?Sized,
        S: crate::backend::sink::Sink<T>,
    >(
        &self,
        stmt: &Statement,
        params: &P,
        sink: &mut S,
        mut opts: ExecOptions,
        retry: bool,
        location: &'static Location<'static>,
    ) -> Result<()> {
        let res = &self.inner.resilience;
        let mut retries = Retry::new(&res.retry, self.telemetry(), RetryKind::Read);
        let mut previous: Option<Error> = None;
        opts.ctx.attempt = 1;
        loop {
            if !stmt.is_read {
                self.inner.replicas.note_write();
            }
            let mut conn = match self.checkout(location, &opts.deadline).await {
                Ok(conn) => conn,
                Err(e @ Error::CircuitOpen { .. }) => return Err(previous.unwrap_or(e)),
                Err(e) => return Err(e),
            };
            let r = conn
                .fetch_into::<T, P, S>(stmt, params, &mut *sink, opts)
                .await;
            drop(conn);
            match r {
                Err(e) if retry && stmt.is_read && retry::rereadable(&e) && sink.restart() => {
                    if !retries
                        .pause(opts.ctx.attempt, &e, |d| opts.deadline.allows(d))
                        .await
                    {
                        return Err(e);
                    }
                    opts.ctx.attempt += 1;
                    previous = Some(e);
                }
                r => return r,
            }
        }
    }

    /// Run a statement that returns no rows. A write whose outcome is unknown
    /// (the connection died, it timed out) is never sent again; one the server
    /// rolled back as a whole (a serialization failure or deadlock of this
    /// auto-commit statement) is, under the retry policy and within the call's
    /// deadline.
    pub(crate) async fn run_execute<P: Params + ?Sized>(
        &self,
        stmt: &Statement,
        params: &P,
        opts: ExecOptions,
        location: &'static Location<'static>,
    ) -> Result<ExecResult> {
        let r = self.run_execute_retried(stmt, params, opts, location).await;
        self.telemetry().call_done(opts.deadline.start, &r);
        r
    }

    async fn run_execute_retried<P: Params + ?Sized>(
        &self,
        stmt: &Statement,
        params: &P,
        mut opts: ExecOptions,
        location: &'static Location<'static>,
    ) -> Result<ExecResult> {
        let mut started: Option<Instant> = None;
        opts.ctx.attempt = 1;
        loop {
            let r = async {
                let mut conn = self.acquire_conn(location, &opts.deadline).await?;
                conn.execute(stmt, params, opts).await
            }
            .await;
            match r {
                Err(e)
                    if self
                        .rerun_rolled_back(&e, opts.ctx.attempt, &mut started, &opts.deadline)
                        .await =>
                {
                    opts.ctx.attempt += 1;
                }
                r => return r,
            }
        }
    }

    /// After a failed auto-commit unit of work: when the server rolled it back
    /// as a whole (serialization failure, deadlock), the retry policy allows
    /// another attempt and the call's deadline leaves time for it, wait the
    /// backoff (logged and counted) and say yes.
    pub(crate) async fn rerun_rolled_back(
        &self,
        e: &Error,
        attempt: u32,
        started: &mut Option<Instant>,
        deadline: &Deadline,
    ) -> bool {
        if !retry::rolled_back(e) {
            return false;
        }
        let start = *started.get_or_insert_with(Instant::now);
        let res = &self.inner.resilience;
        Retry::starting(&res.retry, self.telemetry(), RetryKind::Transaction, start)
            .pause(attempt, e, |d| deadline.allows(d))
            .await
    }

    /// A snapshot of this database's figures: statements, errors by kind,
    /// retries, timeouts and the timeout rate with the scaling advice, latency
    /// percentiles, the pool and the circuit breaker.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// db.execute("CREATE TABLE t (x INTEGER)", ()).await?;
    /// let stats = db.stats();
    /// assert!(stats.statements >= 1);
    /// assert_eq!(stats.advice, dal::ScalingAdvice::Normal);
    /// println!("{stats}");
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn stats(&self) -> Stats {
        let (status, counters) = self.inner.backend.status_and_counters();
        let stats = self.telemetry().stats(
            status,
            counters,
            self.inner.backend.server_max_connections(),
        );
        self.inner.backend.publish_gauges();
        stats
    }

    /// Check the database: one checkout and round trip (through the circuit
    /// breaker), with its latency, the pool and the breaker state. Never fails:
    /// a problem is reported in [`Health::error`].
    #[track_caller]
    pub fn health(&self) -> impl Future<Output = Health> + Send + '_ {
        let ping = self.ping();
        async move {
            let start = Instant::now();
            let r = ping.await;
            Health {
                healthy: r.is_ok(),
                latency: start.elapsed(),
                error: r.err().map(|e| e.to_string()),
                pool: self.pool_status(),
                breaker: self.breaker_state(),
            }
        }
    }

    /// The circuit breaker's state.
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.resilience.breaker.state()
    }

    /// Register a hook that sees every statement of this database (and of its
    /// clones) from now on; see [`hooks`](crate::hooks).
    pub fn add_hook(&self, hook: Arc<dyn crate::hooks::Hook>) {
        self.telemetry().add_hook(hook);
    }

    /// True when a connection can be checked out and answers a round trip;
    /// false (never an error or a panic) when the server is down.
    pub async fn test_connection(&self) -> bool {
        self.ping().await.is_ok()
    }

    /// Check out a connection, make one round trip and report how long it took.
    ///
    /// The whole check is bounded like a statement: by the configured query
    /// timeout when there is one, otherwise by the acquire timeout (a server
    /// that takes longer than that to answer a round trip is not healthy).
    #[track_caller]
    pub fn ping(&self) -> impl Future<Output = Result<Duration>> + Send + '_ {
        let loc = Location::caller();
        async move {
            let timeouts = self.inner.config.timeouts();
            let deadline = Deadline::new(Some(timeouts.query.unwrap_or(timeouts.acquire)));
            let mut conn = self.acquire_conn(loc, &deadline).await?;
            let r = conn.ping(&deadline).await;
            self.inner
                .resilience
                .record(Outcome::of(&r), self.telemetry());
            r?;
            Ok(deadline.start.elapsed())
        }
    }

    /// Run a statement that returns no rows.
    #[track_caller]
    pub fn execute<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<ExecResult>> + Send + 'a {
        let loc = Location::caller();
        async move {
            let opts = self.exec_options(None);
            let stmt = self.inner.statements.get(sql)?;
            self.run_execute(&stmt, &params, opts, loc).await
        }
    }

    /// Run SQL text that may hold several statements and no parameters, as is
    /// (no translation, no preparation): scripts, DDL, session settings.
    #[track_caller]
    pub fn execute_script<'a>(
        &'a self,
        sql: &'a str,
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        let loc = Location::caller();
        async move {
            let opts = self.exec_options(None);
            let r = async {
                let mut conn = self.acquire_conn(loc, &opts.deadline).await?;
                conn.execute_raw(sql, opts).await
            }
            .await;
            self.telemetry().call_done(opts.deadline.start, &r);
            r
        }
    }

    /// Run a query and return every row.
    #[track_caller]
    pub fn fetch_all<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Vec<Row<'static>>>> + Send + 'a {
        self.fetch_all_as::<Row<'static>, P>(sql, params)
    }

    /// Run a query and return the first row; [`Error::NotFound`] when there is none.
    #[track_caller]
    pub fn fetch_one<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Row<'static>>> + Send + 'a {
        self.fetch_one_as::<Row<'static>, P>(sql, params)
    }

    /// Run a query and return the first row, if any.
    #[track_caller]
    pub fn fetch_optional<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Option<Row<'static>>>> + Send + 'a {
        self.fetch_optional_as::<Row<'static>, P>(sql, params)
    }

    /// Run a query and decode every row as `T`.
    #[track_caller]
    pub fn fetch_all_as<'a, T: FromRow + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Vec<T>>> + Send + 'a {
        let loc = Location::caller();
        async move {
            let opts = self.exec_options(None);
            let stmt = self.inner.statements.get(sql)?;
            self.run_fetch::<T, P>(&stmt, &params, None, opts, true, loc)
                .await
        }
    }

    /// Run a query and decode the first row as `T`; [`Error::NotFound`] when there is none.
    #[track_caller]
    pub fn fetch_one_as<'a, T: FromRow + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<T>> + Send + 'a {
        let f = self.fetch_optional_as::<T, P>(sql, params);
        async move { f.await?.ok_or_else(|| not_found(sql)) }
    }

    /// Run a query and decode the first row as `T`, if any.
    #[track_caller]
    pub fn fetch_optional_as<'a, T: FromRow + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Option<T>>> + Send + 'a {
        let loc = Location::caller();
        async move {
            let opts = self.exec_options(None);
            let stmt = self.inner.statements.get(sql)?;
            let rows = self
                .run_fetch::<T, P>(&stmt, &params, Some(1), opts, true, loc)
                .await?;
            Ok(rows.into_iter().next())
        }
    }

    /// Run a query and decode the first column of the first row.
    #[track_caller]
    pub fn fetch_scalar<'a, T: Decode + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<T>> + Send + 'a {
        let f = self.fetch_one_as::<(T,), P>(sql, params);
        async move { f.await.map(|(v,)| v) }
    }

    /// Start a statement with per-call options (timeout, tags) and parameters
    /// bound one by one.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// use std::time::Duration;
    /// let n: i64 = db
    ///     .query("SELECT ? + ?")
    ///     .bind(40)
    ///     .bind(2)
    ///     .timeout(Duration::from_secs(2))
    ///     .tag("feature", "answer")
    ///     .fetch_scalar()
    ///     .await?;
    /// assert_eq!(n, 42);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn query<'a>(&'a self, sql: &'a str) -> Query<'a> {
        Query {
            db: self,
            sql,
            params: Vec::new(),
            options: CallOptions::default(),
            location: Location::caller(),
        }
    }
}

pub(crate) fn not_found(sql: &str) -> Error {
    let short: String = sql.chars().take(80).collect();
    Error::NotFound(format!("no row returned by `{short}`"))
}

/// A statement being prepared with per-call options; see [`Db::query`].
pub struct Query<'a> {
    db: &'a Db,
    sql: &'a str,
    params: Vec<Box<dyn Encode + 'a>>,
    options: CallOptions,
    location: &'static Location<'static>,
}

impl std::fmt::Debug for Query<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("sql", &self.sql)
            .field("params", &self.params.len())
            .field("options", &self.options)
            .finish()
    }
}

impl<'a> Query<'a> {
    /// Bind the next parameter.
    pub fn bind<T: Encode + 'a>(mut self, value: T) -> Self {
        self.params.push(Box::new(value));
        self
    }

    /// Limit how long this call may take from its start: checkout, retries
    /// and execution (overrides the configured query timeout). At the
    /// deadline the statement is cancelled on the server and the call fails
    /// with [`Error::Timeout`] at once.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Attach a label to the statement's tracing span.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.tags.push((key.into(), value.into()));
        self
    }

    /// Never re-run this statement after a transient failure, even if it only
    /// reads (reads are retried by default; writes never are).
    pub fn no_retry(mut self) -> Self {
        self.options.no_retry = true;
        self
    }

    /// The span the statement's own span nests in, carrying the tags.
    fn tag_span(&self) -> tracing::Span {
        if self.options.tags.is_empty() {
            return tracing::Span::none();
        }
        let span =
            tracing::debug_span!(target: "dal::query", "dal.call", tags = tracing::field::Empty);
        if !span.is_disabled() {
            let tags = self
                .options
                .tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            span.record("tags", tags);
        }
        span
    }

    /// The options set so far.
    pub fn options(&self) -> &CallOptions {
        &self.options
    }

    /// Run it as a statement that returns no rows.
    pub async fn execute(self) -> Result<ExecResult> {
        use tracing::Instrument as _;
        let opts = self.db.exec_options(self.options.timeout);
        let stmt = self.db.inner.statements.get(self.sql)?;
        let span = self.tag_span();
        self.db
            .run_execute(&stmt, &self.params, opts, self.location)
            .instrument(span)
            .await
    }

    async fn fetch_limit<T: FromRow + Send>(self, limit: Option<usize>) -> Result<Vec<T>> {
        use tracing::Instrument as _;
        let opts = self.db.exec_options(self.options.timeout);
        let stmt = self.db.inner.statements.get(self.sql)?;
        let span = self.tag_span();
        self.db
            .run_fetch::<T, _>(
                &stmt,
                &self.params,
                limit,
                opts,
                !self.options.no_retry,
                self.location,
            )
            .instrument(span)
            .await
    }

    /// Run it and decode every row as `T`.
    pub async fn fetch_all_as<T: FromRow + Send>(self) -> Result<Vec<T>> {
        self.fetch_limit(None).await
    }

    /// Run it and return every row.
    pub async fn fetch_all(self) -> Result<Vec<Row<'static>>> {
        self.fetch_all_as::<Row<'static>>().await
    }

    /// Run it and decode the first row as `T`, if any.
    pub async fn fetch_optional_as<T: FromRow + Send>(self) -> Result<Option<T>> {
        Ok(self.fetch_limit(Some(1)).await?.into_iter().next())
    }

    /// Run it and return the first row, if any.
    pub async fn fetch_optional(self) -> Result<Option<Row<'static>>> {
        self.fetch_optional_as::<Row<'static>>().await
    }

    /// Run it and return the first row; [`Error::NotFound`] when there is none.
    pub async fn fetch_one(self) -> Result<Row<'static>> {
        let sql = self.sql;
        self.fetch_optional().await?.ok_or_else(|| not_found(sql))
    }

    /// Run it and decode the first column of the first row.
    pub async fn fetch_scalar<T: Decode + Send>(self) -> Result<T> {
        let sql = self.sql;
        self.fetch_optional_as::<(T,)>()
            .await?
            .map(|(v,)| v)
            .ok_or_else(|| not_found(sql))
    }
}

/// How far `replica` is behind its primary: `Ok(None)` when its
/// replication has stopped, `Err(())` when it cannot tell (see
/// [`DatabaseConfigBuilder::max_replica_lag`](crate::DatabaseConfigBuilder::max_replica_lag)).
async fn measure_lag(replica: &Db, timeout: Duration) -> std::result::Result<Option<Duration>, ()> {
    let failed = |e: Error| {
        tracing::debug!(
            target: "dal::routing",
            replica = replica.config().name(),
            error = %e.redacted(),
            "a replica's lag could not be read"
        );
    };
    let ask = |sql| replica.query(sql).timeout(timeout).no_retry();
    match replica.dialect() {
        Dialect::Postgres => {
            // nothing left to replay (or no standby): current; otherwise the
            // age of the last transaction replayed
            let seconds: Option<f64> = ask(
                "SELECT CASE WHEN NOT pg_is_in_recovery() THEN 0::float8 \
                 WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8 \
                 ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 END",
            )
            .fetch_scalar()
            .await
            .map_err(failed)?;
            // NULL: it has replayed nothing yet
            seconds
                .map(|s| Some(Duration::from_secs_f64(s.clamp(0.0, 1e9))))
                .ok_or(())
        }
        Dialect::MySql => {
            let rows = match ask("SHOW REPLICA STATUS").fetch_all().await {
                Ok(rows) => rows,
                // before MySQL 8.0.22 and MariaDB 10.5.1
                Err(_) => ask("SHOW SLAVE STATUS").fetch_all().await.map_err(failed)?,
            };
            // no replication configured: it is no replica, hence current
            let Some(row) = rows.first() else {
                return Ok(Some(Duration::ZERO));
            };
            let behind = match row.get_opt::<i64>("Seconds_Behind_Master") {
                Ok(None) => row.get_opt::<i64>("Seconds_Behind_Source"),
                found => found,
            }
            .map_err(failed)?;
            // NULL: a replication thread is not running
            Ok(behind.map(|s| Duration::from_secs(s.max(0) as u64)))
        }
        Dialect::Sqlite => Ok(Some(Duration::ZERO)),
    }
}

/// A read's replica did not answer (it refused or lost the connection, had
/// no connection in time, or its circuit is open), or refused the read as
/// a write: nothing ran there, and the primary can answer.
fn unreachable(e: &Error) -> bool {
    match e {
        // or refused the read as a write (a function with side effects):
        // nothing ran there either
        Error::CircuitOpen { .. } | Error::PoolClosed | Error::ReadOnly { .. } => true,
        Error::Timeout { kind, .. } => {
            matches!(kind, TimeoutKind::Acquire | TimeoutKind::Connect)
        }
        e => retry::reconnectable(e),
    }
}
