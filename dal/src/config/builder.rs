//! [`DatabaseConfigBuilder`]: options set one by one, then validated together.

use std::fmt;
use std::time::Duration;

use dal_schema::Dialect;

use super::DatabaseConfig;
use super::connection_url::{self, ConnectionUrl, Secret};
use super::options::{BreakerPolicy, PoolOptions, RetryPolicy, Timeouts, TlsMode};
use crate::error::{ConfigErrors, ConfigProblem};

/// Every option, with its builder name and its environment variable suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opt {
    Url,
    Name,
    MaxConnections,
    MinConnections,
    AcquireTimeout,
    ConnectTimeout,
    PoolCreationTimeout,
    QueryTimeout,
    SlowQueryThreshold,
    IdleTimeout,
    MaxLifetime,
    ValidateAfterIdle,
    StatementCache,
    BulkRows,
    LogParameters,
    LeakDetectionThreshold,
    CaptureBacktrace,
    NPlusOneThreshold,
    SqliteBusyTimeout,
    RetryEnabled,
    RetryMaxAttempts,
    RetryBaseDelay,
    RetryMaxDelay,
    RetryBudget,
    BreakerEnabled,
    BreakerFailureThreshold,
    BreakerFailureRate,
    BreakerWindow,
    BreakerMinCalls,
    BreakerOpenDuration,
    BreakerHalfOpenCalls,
    TlsMode,
    TlsRootCert,
    Password,
    Pgbouncer,
    DirectUrl,
    Replicas,
    ReadYourWritesWindow,
    MaxReplicaLag,
    Cache,
    CacheTtl,
}

impl Opt {
    /// Every option, in the order problems are reported.
    pub(super) const ALL: [Opt; 41] = [
        Opt::Url,
        Opt::Name,
        Opt::MaxConnections,
        Opt::MinConnections,
        Opt::AcquireTimeout,
        Opt::ConnectTimeout,
        Opt::PoolCreationTimeout,
        Opt::QueryTimeout,
        Opt::SlowQueryThreshold,
        Opt::IdleTimeout,
        Opt::MaxLifetime,
        Opt::ValidateAfterIdle,
        Opt::StatementCache,
        Opt::BulkRows,
        Opt::LogParameters,
        Opt::LeakDetectionThreshold,
        Opt::CaptureBacktrace,
        Opt::NPlusOneThreshold,
        Opt::SqliteBusyTimeout,
        Opt::RetryEnabled,
        Opt::RetryMaxAttempts,
        Opt::RetryBaseDelay,
        Opt::RetryMaxDelay,
        Opt::RetryBudget,
        Opt::BreakerEnabled,
        Opt::BreakerFailureThreshold,
        Opt::BreakerFailureRate,
        Opt::BreakerWindow,
        Opt::BreakerMinCalls,
        Opt::BreakerOpenDuration,
        Opt::BreakerHalfOpenCalls,
        Opt::TlsMode,
        Opt::TlsRootCert,
        Opt::Password,
        Opt::Pgbouncer,
        Opt::DirectUrl,
        Opt::Replicas,
        Opt::ReadYourWritesWindow,
        Opt::MaxReplicaLag,
        Opt::Cache,
        Opt::CacheTtl,
    ];

    /// The builder setter's name.
    pub(super) fn key(self) -> &'static str {
        match self {
            Opt::Url => "url",
            Opt::Name => "name",
            Opt::MaxConnections => "max_connections",
            Opt::MinConnections => "min_connections",
            Opt::AcquireTimeout => "acquire_timeout",
            Opt::ConnectTimeout => "connect_timeout",
            Opt::PoolCreationTimeout => "pool_creation_timeout",
            Opt::QueryTimeout => "query_timeout",
            Opt::SlowQueryThreshold => "slow_query_threshold",
            Opt::IdleTimeout => "idle_timeout",
            Opt::MaxLifetime => "max_lifetime",
            Opt::ValidateAfterIdle => "validate_after_idle",
            Opt::StatementCache => "statement_cache_capacity",
            Opt::BulkRows => "bulk_rows_per_statement",
            Opt::LogParameters => "log_parameters",
            Opt::LeakDetectionThreshold => "leak_detection_threshold",
            Opt::CaptureBacktrace => "capture_backtrace",
            Opt::SqliteBusyTimeout => "sqlite_busy_timeout",
            Opt::NPlusOneThreshold => "n_plus_one_threshold",
            Opt::RetryEnabled => "retry_enabled",
            Opt::RetryMaxAttempts => "retry_max_attempts",
            Opt::RetryBaseDelay => "retry_base_delay",
            Opt::RetryMaxDelay => "retry_max_delay",
            Opt::RetryBudget => "retry_budget",
            Opt::BreakerEnabled => "breaker_enabled",
            Opt::BreakerFailureThreshold => "breaker_failure_threshold",
            Opt::BreakerFailureRate => "breaker_failure_rate",
            Opt::BreakerWindow => "breaker_window",
            Opt::BreakerMinCalls => "breaker_minimum_calls",
            Opt::BreakerOpenDuration => "breaker_open_duration",
            Opt::BreakerHalfOpenCalls => "breaker_half_open_calls",
            Opt::TlsMode => "tls_mode",
            Opt::TlsRootCert => "tls_root_cert",
            Opt::Password => "password",
            Opt::Pgbouncer => "pgbouncer",
            Opt::DirectUrl => "direct_url",
            Opt::Replicas => "replica",
            Opt::ReadYourWritesWindow => "read_your_writes_window",
            Opt::MaxReplicaLag => "max_replica_lag",
            Opt::Cache => "cache",
            Opt::CacheTtl => "cache_ttl",
        }
    }

    /// The environment variable, after the prefix; `None` for builder-only options
    /// (TLS settings and the password belong in the URL).
    pub(super) fn env(self) -> Option<&'static str> {
        Some(match self {
            Opt::Url => "DATABASE_URL",
            Opt::Name => "NAME",
            Opt::MaxConnections => "POOL_MAX",
            Opt::MinConnections => "POOL_MIN",
            Opt::AcquireTimeout => "ACQUIRE_TIMEOUT",
            Opt::ConnectTimeout => "CONNECT_TIMEOUT",
            Opt::PoolCreationTimeout => "POOL_CREATION_TIMEOUT",
            Opt::QueryTimeout => "QUERY_TIMEOUT",
            Opt::SlowQueryThreshold => "SLOW_QUERY_THRESHOLD",
            Opt::IdleTimeout => "IDLE_TIMEOUT",
            Opt::MaxLifetime => "MAX_LIFETIME",
            Opt::ValidateAfterIdle => "VALIDATE_AFTER_IDLE",
            Opt::StatementCache => "STATEMENT_CACHE",
            Opt::BulkRows => "BULK_ROWS",
            Opt::LogParameters => "LOG_PARAMETERS",
            Opt::NPlusOneThreshold => "N_PLUS_ONE_THRESHOLD",
            Opt::LeakDetectionThreshold => "LEAK_DETECTION_THRESHOLD",
            Opt::CaptureBacktrace => "CAPTURE_BACKTRACE",
            Opt::SqliteBusyTimeout => "SQLITE_BUSY_TIMEOUT",
            Opt::RetryEnabled => "RETRY_ENABLED",
            Opt::RetryMaxAttempts => "RETRY_MAX_ATTEMPTS",
            Opt::RetryBaseDelay => "RETRY_BASE_DELAY",
            Opt::RetryMaxDelay => "RETRY_MAX_DELAY",
            Opt::RetryBudget => "RETRY_BUDGET",
            Opt::BreakerEnabled => "BREAKER_ENABLED",
            Opt::BreakerFailureThreshold => "BREAKER_FAILURE_THRESHOLD",
            Opt::BreakerFailureRate => "BREAKER_FAILURE_RATE",
            Opt::BreakerWindow => "BREAKER_WINDOW",
            Opt::BreakerMinCalls => "BREAKER_MIN_CALLS",
            Opt::BreakerOpenDuration => "BREAKER_OPEN_DURATION",
            Opt::BreakerHalfOpenCalls => "BREAKER_HALF_OPEN_CALLS",
            Opt::Pgbouncer => "PGBOUNCER",
            Opt::DirectUrl => "DIRECT_URL",
            Opt::Replicas => "REPLICA_URLS",
            Opt::ReadYourWritesWindow => "READ_YOUR_WRITES_WINDOW",
            Opt::MaxReplicaLag => "MAX_REPLICA_LAG",
            Opt::Cache => "CACHE",
            Opt::CacheTtl => "CACHE_TTL",
            Opt::TlsMode | Opt::TlsRootCert | Opt::Password => return None,
        })
    }
}

/// How problems name options: by builder setter, or by environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Naming {
    Builder,
    /// The (normalized, `_`-terminated) prefix.
    Env(String),
}

impl Naming {
    pub(super) fn name(&self, opt: Opt) -> String {
        match (self, opt.env()) {
            (Naming::Env(prefix), Some(suffix)) => format!("{prefix}{suffix}"),
            _ => opt.key().to_string(),
        }
    }
}

/// Builds a [`DatabaseConfig`] from a URL and options set one by one (or a whole
/// group at once); [`build`](DatabaseConfigBuilder::build) validates everything
/// and reports every problem together.
///
/// Setters that take an `Option` accept either a bare value or `None`
/// (`.query_timeout(Duration::from_secs(30))`, `.query_timeout(None)`).
///
/// ```
/// use std::time::Duration;
/// use dal::{DatabaseConfig, TlsMode};
///
/// let config = DatabaseConfig::builder("postgres://app@db.internal:6432/shop")
///     .name("shop")
///     .password("from-the-vault")
///     .max_connections(32)
///     .min_connections(4)
///     .acquire_timeout(Duration::from_secs(2))
///     .query_timeout(Duration::from_secs(30))
///     .statement_cache_capacity(0) // behind pgbouncer in transaction mode
///     .tls_mode(TlsMode::VerifyCa)
///     .tls_root_cert("/etc/ssl/db-ca.pem")
///     .param("application_name", "shop-api")
///     .build()?;
///
/// assert_eq!(config.name(), "shop");
/// assert_eq!(config.port(), Some(6432));
/// assert_eq!(config.pool().max_connections, 32);
/// assert_eq!(config.tls_mode(), Some(TlsMode::VerifyCa));
/// assert_eq!(
///     config.redacted_url(),
///     "postgres://app:***@db.internal:6432/shop?application_name=shop-api",
/// );
///
/// // Every problem is reported at once.
/// let err = DatabaseConfig::builder("postgres://app@db.internal/shop")
///     .max_connections(0)
///     .acquire_timeout(Duration::ZERO)
///     .build()
///     .unwrap_err();
/// let dal::Error::Config(problems) = err else { unreachable!() };
/// assert_eq!(problems.0.len(), 2);
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build()` is called"]
pub struct DatabaseConfigBuilder {
    pub(super) url: Result<ConnectionUrl, Vec<ConfigProblem>>,
    pub(super) naming: Naming,
    /// Problems found before `build()` (unparseable environment values).
    pub(super) problems: Vec<ConfigProblem>,
    pub(super) name: String,
    pub(super) pool: PoolOptions,
    pub(super) timeouts: Timeouts,
    pub(super) slow_query_threshold: Duration,
    pub(super) statement_cache_capacity: usize,
    pub(super) bulk_rows: usize,
    pub(super) log_parameters: bool,
    pub(super) n_plus_one_threshold: usize,
    pub(super) leak_detection_threshold: Option<Duration>,
    pub(super) capture_backtrace: bool,
    pub(super) sqlite_busy_timeout: Duration,
    pub(super) retry: RetryPolicy,
    pub(super) breaker: BreakerPolicy,
    pub(super) tls_mode: Option<TlsMode>,
    pub(super) tls_root_cert: Option<String>,
    pub(super) password: Option<Secret>,
    /// `None`: as the URL says (`pgbouncer=`), else off.
    pub(super) pgbouncer: Option<bool>,
    /// The URL that bypasses the pooler, as given (parsed by `build`).
    pub(super) direct_url: Option<Secret>,
    /// Read replicas' URLs, as given (parsed by `build`).
    pub(super) replica_urls: Vec<Secret>,
    pub(super) read_your_writes_window: Duration,
    pub(super) max_replica_lag: Option<Duration>,
    pub(super) cache: Option<crate::cache::CacheConfig>,
    /// `CACHE_TTL`, applied to the cache when one is configured.
    pub(super) cache_ttl: Option<Duration>,
    pub(super) extra_params: Vec<(String, String)>,
    /// Whether pool options were set explicitly (to warn when SQLite in memory overrides them).
    pub(super) pool_explicit: bool,
}

impl DatabaseConfigBuilder {
    /// A builder with every option at its default.
    pub(super) fn with_naming(
        url: Result<ConnectionUrl, Vec<ConfigProblem>>,
        naming: Naming,
    ) -> Self {
        DatabaseConfigBuilder {
            url,
            naming,
            problems: Vec::new(),
            name: "default".to_string(),
            pool: PoolOptions::default(),
            timeouts: Timeouts::default(),
            slow_query_threshold: Duration::from_secs(1),
            statement_cache_capacity: 256,
            bulk_rows: 1000,
            log_parameters: false,
            n_plus_one_threshold: crate::config::DEFAULT_N_PLUS_ONE_THRESHOLD,
            leak_detection_threshold: None,
            capture_backtrace: false,
            sqlite_busy_timeout: Duration::from_secs(5),
            retry: RetryPolicy::default(),
            breaker: BreakerPolicy::default(),
            tls_mode: None,
            tls_root_cert: None,
            password: None,
            pgbouncer: None,
            direct_url: None,
            replica_urls: Vec::new(),
            read_your_writes_window: Duration::from_secs(2),
            max_replica_lag: Some(Duration::from_secs(10)),
            cache: None,
            cache_ttl: None,
            extra_params: Vec::new(),
            pool_explicit: false,
        }
    }

    pub(super) fn new(url: &str) -> Self {
        let naming = Naming::Builder;
        let parsed = connection_url::parse(url, &naming.name(Opt::Url));
        Self::with_naming(parsed, naming)
    }

    /// The label used in logs, metrics and errors (default `"default"`; env `NAME`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The password, overriding any in the URL. Handy when the URL comes from
    /// configuration and the password from a secret store; it is never printed.
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Secret::new(password.into()));
        self
    }

    /// Appends a driver parameter, as if it were in the URL's query string
    /// (`application_name`, `options`, `charset`, ...).
    pub fn param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_params.push((key.into(), value.into()));
        self
    }

    /// All pool options at once (see [`PoolOptions`]).
    pub fn pool(mut self, pool: PoolOptions) -> Self {
        self.pool = pool;
        self.pool_explicit = true;
        self
    }

    /// Most connections open at once (default 10; env `POOL_MAX`).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.pool.max_connections = max;
        self.pool_explicit = true;
        self
    }

    /// Connections kept open even when idle (default 0; env `POOL_MIN`).
    pub fn min_connections(mut self, min: u32) -> Self {
        self.pool.min_connections = min;
        self.pool_explicit = true;
        self
    }

    /// Close connections idle longer than this (default 10 minutes; `None` never;
    /// env `IDLE_TIMEOUT`).
    pub fn idle_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.pool.idle_timeout = timeout.into();
        self.pool_explicit = true;
        self
    }

    /// Close connections older than this (default 30 minutes; `None` never;
    /// env `MAX_LIFETIME`).
    pub fn max_lifetime(mut self, lifetime: impl Into<Option<Duration>>) -> Self {
        self.pool.max_lifetime = lifetime.into();
        self.pool_explicit = true;
        self
    }

    /// Ping a pooled connection on checkout only if it sat idle longer than this
    /// (default 5 seconds; zero pings every time; env `VALIDATE_AFTER_IDLE`).
    pub fn validate_after_idle(mut self, idle: Duration) -> Self {
        self.pool.validate_after_idle = idle;
        self
    }

    /// All four timeouts at once (see [`Timeouts`]).
    pub fn timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Longest time one checkout may take: waiting for a free pooled
    /// connection and opening a new one, connection attempts and their
    /// retries included (default 5 seconds; env `ACQUIRE_TIMEOUT`). A call
    /// with a shorter query timeout is bounded by that instead.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.acquire = timeout;
        self
    }

    /// Longest time one attempt to open a connection may take, TLS and
    /// authentication included (default 10 seconds; env `CONNECT_TIMEOUT`).
    /// For a call, each attempt is also bounded by what is left of the
    /// acquire timeout.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.connect = timeout;
        self
    }

    /// Longest time to open the pool's initial connections (default 30 seconds;
    /// env `POOL_CREATION_TIMEOUT`).
    pub fn pool_creation_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.pool_creation = timeout;
        self
    }

    /// Longest time a call may take, from its start: checkout, retries and
    /// execution (default `None`: no limit; env `QUERY_TIMEOUT`). At the
    /// deadline the statement is cancelled on the server and the caller gets
    /// [`Error::Timeout`](crate::Error::Timeout) at once. Per call:
    /// [`Query::timeout`](crate::Query::timeout).
    pub fn query_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.timeouts.query = timeout.into();
        self
    }

    /// Statements slower than this are logged as slow (default 1 second; zero logs
    /// every statement; env `SLOW_QUERY_THRESHOLD`).
    pub fn slow_query_threshold(mut self, threshold: Duration) -> Self {
        self.slow_query_threshold = threshold;
        self
    }

    /// Prepared statements cached per connection (default 256; env
    /// `STATEMENT_CACHE`). Zero keeps none: on PostgreSQL every statement then
    /// runs as an unnamed statement (parse, bind and execute in one round
    /// trip; nothing prepared stays on the server, which pgbouncer in
    /// transaction mode requires); on MySQL/MariaDB each statement is
    /// prepared and closed again.
    pub fn statement_cache_capacity(mut self, capacity: usize) -> Self {
        self.statement_cache_capacity = capacity;
        self
    }

    /// Rows per statement of a bulk save (`save_all` of new entities: one
    /// multi-row `INSERT` per chunk; default 1,000; env `BULK_ROWS`). A chunk
    /// never exceeds the dialect's parameter limit (65,535 on PostgreSQL and
    /// MySQL, 32,766 on SQLite), whatever this says; on PostgreSQL a save of 64
    /// or more new rows goes through binary `COPY`, which is not chunked. Must
    /// be at least 1.
    ///
    /// ```
    /// let c = dal::DatabaseConfig::builder("sqlite::memory:")
    ///     .bulk_rows_per_statement(5_000)
    ///     .build()?;
    /// assert_eq!(c.bulk_rows_per_statement(), 5_000);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn bulk_rows_per_statement(mut self, rows: usize) -> Self {
        self.bulk_rows = rows;
        self
    }

    /// The N+1 detector: warn (`dal::n_plus_one`) when the same relation is
    /// loaded lazily, from one call site, for this many different parent rows
    /// within a second of one task (default 3 in debug builds, off in release
    /// builds; 0 turns it off; env `N_PLUS_ONE_THRESHOLD`).
    pub fn n_plus_one_threshold(mut self, parents: usize) -> Self {
        self.n_plus_one_threshold = parents;
        self
    }

    /// Turn the N+1 detector on (threshold 3) or off.
    pub fn n_plus_one_detection(mut self, on: bool) -> Self {
        self.n_plus_one_threshold = if on { 3 } else { 0 };
        self
    }

    /// Whether statement logs (spans, slow-query warnings, hooks) show the SQL
    /// with its literal values (default false: literals masked as `?`; env
    /// `LOG_PARAMETERS`). Bound parameter values are never logged.
    pub fn log_parameters(mut self, log: bool) -> Self {
        self.log_parameters = log;
        self
    }

    /// Warn about connections held longer than this (default `None`: off; env
    /// `LEAK_DETECTION_THRESHOLD`).
    pub fn leak_detection_threshold(mut self, threshold: impl Into<Option<Duration>>) -> Self {
        self.leak_detection_threshold = threshold.into();
        self
    }

    /// Capture a backtrace where each connection is acquired, for leak reports
    /// (default false, as capturing costs; env `CAPTURE_BACKTRACE`).
    pub fn capture_backtrace(mut self, capture: bool) -> Self {
        self.capture_backtrace = capture;
        self
    }

    /// How long one SQLite statement waits for a lock held by another
    /// connection before failing with [`Error::Busy`](crate::Error::Busy)
    /// (default 5 seconds; env `SQLITE_BUSY_TIMEOUT`). The wait happens once
    /// per statement (a busy statement is not re-run by the retry policy) and
    /// never past the call's query timeout.
    pub fn sqlite_busy_timeout(mut self, timeout: Duration) -> Self {
        self.sqlite_busy_timeout = timeout;
        self
    }

    /// The whole retry policy (see [`RetryPolicy`]).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Whether transient failures are retried (default true; env `RETRY_ENABLED`).
    pub fn retry_enabled(mut self, enabled: bool) -> Self {
        self.retry.enabled = enabled;
        self
    }

    /// Attempts in total, the first included (default 3; env `RETRY_MAX_ATTEMPTS`).
    pub fn retry_max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts;
        self
    }

    /// Delay before the first retry (default 50 ms; env `RETRY_BASE_DELAY`).
    pub fn retry_base_delay(mut self, delay: Duration) -> Self {
        self.retry.base_delay = delay;
        self
    }

    /// Upper bound of one retry delay (default 2 seconds; env `RETRY_MAX_DELAY`).
    pub fn retry_max_delay(mut self, delay: Duration) -> Self {
        self.retry.max_delay = delay;
        self
    }

    /// Time after the first attempt past which no retry starts (default 10
    /// seconds; env `RETRY_BUDGET`).
    pub fn retry_budget(mut self, budget: Duration) -> Self {
        self.retry.budget = budget;
        self
    }

    /// The whole circuit-breaker policy (see [`BreakerPolicy`]).
    pub fn breaker(mut self, breaker: BreakerPolicy) -> Self {
        self.breaker = breaker;
        self
    }

    /// Whether the circuit breaker is active (default true; env `BREAKER_ENABLED`).
    pub fn breaker_enabled(mut self, enabled: bool) -> Self {
        self.breaker.enabled = enabled;
        self
    }

    /// Consecutive infrastructure failures that open the circuit (default 5; env
    /// `BREAKER_FAILURE_THRESHOLD`).
    pub fn breaker_failure_threshold(mut self, failures: u32) -> Self {
        self.breaker.failure_threshold = failures;
        self
    }

    /// Failure fraction within the window that opens the circuit, in (0, 1]
    /// (default 0.5; env `BREAKER_FAILURE_RATE`).
    pub fn breaker_failure_rate(mut self, rate: f64) -> Self {
        self.breaker.failure_rate = rate;
        self
    }

    /// The window over which the failure rate is measured (default 10 seconds;
    /// env `BREAKER_WINDOW`).
    pub fn breaker_window(mut self, window: Duration) -> Self {
        self.breaker.window = window;
        self
    }

    /// Calls needed in the window before the rate counts (default 10; env
    /// `BREAKER_MIN_CALLS`).
    pub fn breaker_minimum_calls(mut self, calls: u32) -> Self {
        self.breaker.minimum_calls = calls;
        self
    }

    /// How long the circuit stays open (default 5 seconds; env `BREAKER_OPEN_DURATION`).
    pub fn breaker_open_duration(mut self, duration: Duration) -> Self {
        self.breaker.open_duration = duration;
        self
    }

    /// Trial calls let through while half-open (default 3; env
    /// `BREAKER_HALF_OPEN_CALLS`).
    pub fn breaker_half_open_calls(mut self, calls: u32) -> Self {
        self.breaker.half_open_calls = calls;
        self
    }

    /// The TLS mode, overriding the URL's `sslmode`/`ssl-mode` (server engines only).
    pub fn tls_mode(mut self, mode: TlsMode) -> Self {
        self.tls_mode = Some(mode);
        self
    }

    /// The CA certificate file that verifies the server, overriding the URL's
    /// `sslrootcert`/`ssl-ca` (server engines only).
    pub fn tls_root_cert(mut self, path: impl Into<String>) -> Self {
        self.tls_root_cert = Some(path.into());
        self
    }

    /// Connect through pgbouncer (or another pooler) in transaction mode,
    /// where each transaction (or statement outside one) may run on a
    /// different server connection: overrides the URL's `pgbouncer=true`
    /// (env `PGBOUNCER`; PostgreSQL only). Then:
    ///
    /// - no statement is prepared by name on the server
    ///   ([`statement_cache_capacity`](DatabaseConfig::statement_cache_capacity)
    ///   reads 0): each runs as one unnamed parse, bind and execute;
    /// - nothing session-scoped is set: dal's own session settings are left
    ///   out, and URL parameters that need one (`search_path`,
    ///   `statement_timeout`, `timezone`, `options`) are a configuration
    ///   error, since pgbouncer refuses the `options` startup parameter and
    ///   a `SET` would stay on one server connection. Set them on the role
    ///   or database (`ALTER ROLE app SET search_path = shop`). Values are
    ///   bound and read in binary and do not depend on `TimeZone`; SQL that
    ///   converts between `timestamp` and `timestamptz` uses the database's
    ///   own (`ALTER DATABASE shop SET timezone = 'UTC'`);
    /// - a statement past its deadline is cancelled with the protocol's
    ///   cancel request, which the pooler forwards to the server connection
    ///   running it; a transaction past its deadline is cancelled and its
    ///   connection closed, and the pooler rolls it back;
    /// - migrations, which hold a session-level advisory lock across
    ///   statements, refuse to run and name the [direct URL](Self::direct_url).
    ///
    /// Transactions, savepoints, transaction-level advisory locks, COPY
    /// and every entity call work unchanged. Columns of types PostgreSQL
    /// does not build in (enums, domains, extension types) are read through
    /// a statement the driver prepares by name: cast them to `text` in SQL
    /// read behind a pooler.
    ///
    /// ```
    /// let config = dal::DatabaseConfig::builder("postgres://app@pgbouncer.internal:6432/shop")
    ///     .pgbouncer(true)
    ///     .direct_url("postgres://app@db.internal:5432/shop")
    ///     .build()?;
    /// assert!(config.pgbouncer());
    /// assert_eq!(config.statement_cache_capacity(), 0);
    /// let direct = config.direct().expect("a direct URL was given");
    /// assert!(!direct.pgbouncer());
    /// assert_eq!(direct.port(), Some(5432));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn pgbouncer(mut self, on: bool) -> Self {
        self.pgbouncer = Some(on);
        self
    }

    /// The URL that reaches the PostgreSQL server directly, bypassing the
    /// pooler (env `DIRECT_URL`): what [`DatabaseConfig::direct`] connects
    /// to, and what the error of a migration behind
    /// [`pgbouncer`](Self::pgbouncer) names. It takes every other option of
    /// this configuration; its password, when it has one, is kept secret
    /// like the main URL's.
    pub fn direct_url(mut self, url: impl Into<String>) -> Self {
        self.direct_url = Some(Secret::new(url.into()));
        self
    }

    /// Add a read replica (env `REPLICA_URLS`: URLs separated by spaces):
    /// a server of the same engine that replicates this one, reached with
    /// every other option of this configuration. Reads that run on the pool
    /// (`fetch_*`, entity `get`/`find`/`count`, eager loads, outside a
    /// transaction) go to the replica with the fewest connections in use
    /// (in turn among equals), skipping one whose circuit is open; writes,
    /// transactions, reads that lock rows and everything else go to the
    /// primary.
    /// A read that cannot reach its replica (connection refused or lost, no
    /// connection in time, circuit open) runs on the primary instead. A task
    /// that wrote reads from the primary for the
    /// [read-your-writes window](Self::read_your_writes_window).
    ///
    /// ```
    /// let config = dal::DatabaseConfig::builder("postgres://app@db-primary/shop")
    ///     .replica("postgres://app@db-replica-1/shop")
    ///     .replica("postgres://app@db-replica-2/shop")
    ///     .build()?;
    /// let replicas = config.replicas();
    /// assert_eq!(replicas.len(), 2);
    /// assert_eq!(replicas[1].name(), "default.replica2");
    /// assert_eq!(replicas[1].host(), Some("db-replica-2"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn replica(mut self, url: impl Into<String>) -> Self {
        self.replica_urls.push(Secret::new(url.into()));
        self
    }

    /// How long the reads of a task (a tokio task; outside one, every caller
    /// together) stay on the primary after it wrote, so that it reads its own
    /// writes while the replicas replay them (default 2 seconds; env
    /// `READ_YOUR_WRITES_WINDOW`; zero: reads go to the replicas at once).
    /// Keep it above the replicas' usual lag. A write is anything that is
    /// not a read on the pool: `execute`, a save, a transaction (even one
    /// that only reads).
    pub fn read_your_writes_window(mut self, window: Duration) -> Self {
        self.read_your_writes_window = window;
        self
    }

    /// How far behind its primary a replica may be and still take reads
    /// (default 10 seconds; env `MAX_REPLICA_LAG`, where `off`, `none` or
    /// `0` turns the check off, as `None` does). A replica found further behind is left out, its reads
    /// going to the other replicas or the primary, and rejoins once a later
    /// check finds it within the limit. The lag is asked of each replica
    /// in the background while reads are routed, at most once a second
    /// (every quarter of the limit, when that is shorter): on PostgreSQL
    /// the time since the last transaction it replayed (zero when it has
    /// replayed all it received, or is no standby); on MySQL/MariaDB
    /// `Seconds_Behind_Master` (a replica whose replication threads have
    /// stopped counts as too far behind; one that is no replica as
    /// current). A check that fails (no privilege to read the replication
    /// status, a replica that does not answer) makes the lag unknown: the
    /// replica keeps taking reads (one that does not answer sends them to
    /// the primary itself), and [`Db::replica_lag`](crate::Db::replica_lag)
    /// says `None`. Until its first check answers, a replica takes reads.
    pub fn max_replica_lag(mut self, limit: Option<Duration>) -> Self {
        self.max_replica_lag = limit;
        self
    }

    /// Keep the rows that [`get`](crate::Entity::get) reads, for the
    /// entities marked `#[dal(cache)]`, in a read cache (env `CACHE`:
    /// `memory`, `memory:N` or a `redis://` URL, with `CACHE_TTL`; default:
    /// no cache). Every write made through dal invalidates what it could
    /// have changed, after it committed: see [`CacheConfig`](crate::CacheConfig)
    /// and the README's "Read cache" section for what is cached and what
    /// the cache guarantees.
    ///
    /// ```
    /// use std::time::Duration;
    /// let config = dal::DatabaseConfig::builder("postgres://app@db/shop")
    ///     .cache(dal::CacheConfig::redis("redis://127.0.0.1:6379").ttl(Duration::from_secs(30)))
    ///     .build()?;
    /// assert!(config.cache().unwrap().is_redis());
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn cache(mut self, cache: crate::cache::CacheConfig) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Validates every option and returns the configuration, or
    /// [`Error::Config`](crate::Error::Config) listing every problem found.
    pub fn build(self) -> crate::error::Result<DatabaseConfig> {
        let DatabaseConfigBuilder {
            url,
            naming,
            problems: early,
            name,
            mut pool,
            timeouts,
            slow_query_threshold,
            statement_cache_capacity,
            bulk_rows,
            log_parameters,
            n_plus_one_threshold,
            leak_detection_threshold,
            capture_backtrace,
            sqlite_busy_timeout,
            retry,
            breaker,
            tls_mode,
            tls_root_cert,
            password,
            pgbouncer,
            direct_url,
            replica_urls,
            read_your_writes_window,
            max_replica_lag,
            cache,
            cache_ttl,
            extra_params,
            pool_explicit,
        } = self;
        let mut check = Check {
            naming: &naming,
            problems: Vec::new(),
        };
        let mut target = match url {
            Ok(target) => Some(target),
            Err(url_problems) => {
                check.problems.extend(url_problems);
                None
            }
        };
        check.problems.extend(early);

        if name.trim().is_empty() {
            check.push(Opt::Name, "must not be empty".to_string());
        }
        check_pool(&mut check, &pool);
        if bulk_rows < 1 {
            check.push(Opt::BulkRows, "must be at least 1, got 0".to_string());
        }
        check.positive(Opt::AcquireTimeout, timeouts.acquire);
        check.positive(Opt::ConnectTimeout, timeouts.connect);
        check.positive(Opt::PoolCreationTimeout, timeouts.pool_creation);
        check.positive_opt(Opt::QueryTimeout, timeouts.query);
        check.positive_opt(Opt::LeakDetectionThreshold, leak_detection_threshold);
        check.positive_opt(Opt::MaxReplicaLag, max_replica_lag);
        let cache = match (cache, cache_ttl) {
            (Some(c), Some(ttl)) => Some(c.ttl(ttl)),
            (c, None) => c,
            (None, Some(_)) => {
                check.push(
                    Opt::CacheTtl,
                    "applies only with a cache (`cache`, env CACHE)".to_string(),
                );
                None
            }
        };
        if let Some(c) = &cache {
            for p in c.problems() {
                check.push(Opt::Cache, p);
            }
        }
        check.positive(Opt::SqliteBusyTimeout, sqlite_busy_timeout);
        check_retry(&mut check, &retry);
        check_breaker(&mut check, &breaker);

        let mut resolved_tls = None;
        if let Some(target) = &mut target {
            if let Some(p) = password {
                if target.dialect == Dialect::Sqlite {
                    check.push(Opt::Password, "does not apply to SQLite".to_string());
                } else {
                    target.password = Some(p);
                }
            }
            for (key, value) in extra_params {
                target.push_param(key, value);
            }
            resolved_tls = resolve_tls(&mut check, target, tls_mode, tls_root_cert.clone());
        }
        let pgbouncer = pgbouncer
            .or(target.as_ref().and_then(|t| t.pgbouncer))
            .unwrap_or(false);
        if let Some(target) = &target {
            if pgbouncer {
                check_pgbouncer(&mut check, target);
            }
            check_session_attrs(&mut check, target);
        }
        let mut replicas = Vec::new();
        for raw in replica_urls {
            let Some(r) = other_server(&mut check, Opt::Replicas, raw, tls_mode, &tls_root_cert)
            else {
                continue;
            };
            match target.as_ref().map(|t| t.dialect) {
                Some(Dialect::Sqlite) => check.push(
                    Opt::Replicas,
                    "does not apply to SQLite (one file, no replication)".to_string(),
                ),
                Some(d) if d != r.url.dialect => check.push(
                    Opt::Replicas,
                    format!(
                        "is a {:?} URL, but the primary is {d:?}: a replica runs the \
                         primary's engine",
                        r.url.dialect
                    ),
                ),
                _ => {}
            }
            replicas.push(r);
        }
        let mut direct = None;
        if let Some(raw) = direct_url
            && let Some(mut d) =
                other_server(&mut check, Opt::DirectUrl, raw, tls_mode, &tls_root_cert)
        {
            if d.url.dialect != Dialect::Postgres {
                check.push(
                    Opt::DirectUrl,
                    "must be a PostgreSQL URL (it bypasses pgbouncer)".to_string(),
                );
            } else if d.url.pgbouncer == Some(true) {
                check.push(
                    Opt::DirectUrl,
                    "says pgbouncer=true: it must reach the server directly".to_string(),
                );
            }
            d.url.pgbouncer = Some(false);
            direct = Some(Box::new(d));
        }

        if !check.problems.is_empty() {
            return Err(crate::error::Error::Config(ConfigErrors(check.problems)));
        }
        let Some(target) = target else {
            // Unreachable: a missing target always comes with a problem.
            return Err(crate::error::Error::Config(ConfigErrors(vec![
                ConfigProblem {
                    option: naming.name(Opt::Url),
                    reason: "is not a valid database URL".to_string(),
                },
            ])));
        };

        // Each connection to `:memory:` opens its own, empty database, and the
        // database disappears when its connection closes. So an in-memory database
        // gets exactly one connection, opened at pool creation and never recycled.
        if target.sqlite.as_ref().is_some_and(|s| s.memory) {
            let forced = PoolOptions {
                max_connections: 1,
                min_connections: 1,
                idle_timeout: None,
                max_lifetime: None,
                validate_after_idle: pool.validate_after_idle,
            };
            if pool_explicit && pool != forced {
                tracing::warn!(
                    database = %name,
                    "an in-memory SQLite database uses exactly one connection that is never \
                     closed; the pool size, idle timeout and max lifetime given are ignored"
                );
            }
            pool = forced;
        }

        let redacted_url = target.redacted();
        Ok(DatabaseConfig {
            name,
            target,
            tls_mode: resolved_tls,
            redacted_url,
            pgbouncer,
            direct,
            replicas,
            read_your_writes_window,
            max_replica_lag,
            cache,
            pool,
            timeouts,
            slow_query_threshold,
            statement_cache_capacity,
            bulk_rows,
            log_parameters,
            n_plus_one_threshold,
            leak_detection_threshold,
            capture_backtrace,
            sqlite_busy_timeout,
            retry,
            breaker,
        })
    }
}

/// Behind pgbouncer in transaction mode, nothing session-scoped: the URL
/// parameters that travel in the `options` startup parameter (which
/// pgbouncer refuses) are problems.
fn check_pgbouncer(check: &mut Check<'_>, target: &ConnectionUrl) {
    if target.dialect != Dialect::Postgres {
        check.push(
            Opt::Pgbouncer,
            "applies to PostgreSQL only (a pooler in transaction mode)".to_string(),
        );
        return;
    }
    if target.hosts.len() > 1 {
        check.push(
            Opt::Pgbouncer,
            "cannot be used with several hosts: a cancel request must reach the pgbouncer \
             that holds the connection; put one address (a load balancer's) in the URL"
                .to_string(),
        );
    }
    for (key, _) in &target.params {
        if matches!(
            key.to_ascii_lowercase().as_str(),
            "options" | "search_path" | "statement_timeout" | "timezone"
        ) {
            check.push(
                Opt::Pgbouncer,
                format!(
                    "cannot be used with the URL parameter `{key}`: it is a session setting, \
                     which a pooler in transaction mode cannot keep (pgbouncer refuses the \
                     `options` startup parameter); set it on the role or database instead \
                     (ALTER ROLE .. SET {key} = ..)"
                ),
            );
        }
    }
}

/// PostgreSQL's `target_session_attrs`: which of the URL's hosts a connection
/// settles on (the driver knows `any` and `read-write`).
fn check_session_attrs(check: &mut Check<'_>, target: &ConnectionUrl) {
    for (key, value) in &target.params {
        if key.eq_ignore_ascii_case("target_session_attrs") {
            if target.dialect != Dialect::Postgres {
                check.push(
                    Opt::Url,
                    "`target_session_attrs` applies to PostgreSQL only".to_string(),
                );
            } else if !matches!(value.as_str(), "any" | "read-write") {
                check.push(
                    Opt::Url,
                    format!(
                        "`target_session_attrs={value}` is not supported: use `read-write` \
                         (the first host that accepts writes) or `any` (the first host that answers)"
                    ),
                );
            }
        }
    }
}

/// Another server reached with this configuration's options (a replica,
/// the direct URL): its URL parsed, with problems reported under `opt`, and
/// its TLS mode resolved; `None` when the URL does not parse.
fn other_server(
    check: &mut Check<'_>,
    opt: Opt,
    raw: Secret,
    tls_mode: Option<TlsMode>,
    tls_root_cert: &Option<String>,
) -> Option<super::OtherServer> {
    let option = check.naming.name(opt);
    match connection_url::parse(raw.expose(), &option) {
        Ok(mut url) => {
            let tls_mode = resolve_tls(check, &mut url, tls_mode, tls_root_cert.clone());
            Some(super::OtherServer { url, tls_mode, raw })
        }
        Err(problems) => {
            check.problems.extend(problems);
            None
        }
    }
}

/// Applies the builder's TLS overrides and resolves the default: explicit modes
/// win; otherwise loopback hosts get `Prefer` and any other host `VerifyFull`.
fn resolve_tls(
    check: &mut Check<'_>,
    target: &mut ConnectionUrl,
    mode: Option<TlsMode>,
    root_cert: Option<String>,
) -> Option<TlsMode> {
    if target.dialect == Dialect::Sqlite {
        if mode.is_some() {
            check.push(Opt::TlsMode, "TLS does not apply to SQLite".to_string());
        }
        if root_cert.is_some() {
            check.push(Opt::TlsRootCert, "TLS does not apply to SQLite".to_string());
        }
        return None;
    }
    let from_builder = mode.is_some() || root_cert.is_some();
    if mode.is_some() {
        target.tls_mode = mode;
    }
    if let Some(cert) = root_cert {
        if cert.trim().is_empty() {
            check.push(Opt::TlsRootCert, "must not be empty".to_string());
        }
        target.tls_root_cert = Some(cert);
    }
    if target.tls_mode == Some(TlsMode::Disable) && target.tls_root_cert.is_some() {
        let opt = if from_builder {
            Opt::TlsRootCert
        } else {
            Opt::Url
        };
        check.push(
            opt,
            "a TLS root certificate (sslrootcert / ssl-ca) is given but TLS is disabled \
             (sslmode=disable): remove one of them"
                .to_string(),
        );
    }
    let local = if target.hosts.is_empty() {
        target.socket.is_some()
    } else {
        target
            .hosts
            .iter()
            .all(|(host, _)| connection_url::is_loopback(host))
    };
    // Loopback traffic never leaves the machine: encrypting it costs CPU and
    // latency for nothing, so it is off unless the URL asks for it.
    Some(target.tls_mode.unwrap_or(if local {
        TlsMode::Disable
    } else {
        TlsMode::VerifyFull
    }))
}

fn check_pool(check: &mut Check<'_>, pool: &PoolOptions) {
    if pool.max_connections < 1 {
        check.push(Opt::MaxConnections, "must be at least 1, got 0".to_string());
    }
    if pool.min_connections > pool.max_connections {
        let max = check.name(Opt::MaxConnections);
        check.push(
            Opt::MinConnections,
            format!(
                "must not exceed {max} ({}), got {}",
                pool.max_connections, pool.min_connections
            ),
        );
    }
    check.positive_opt(Opt::IdleTimeout, pool.idle_timeout);
    check.positive_opt(Opt::MaxLifetime, pool.max_lifetime);
}

fn check_retry(check: &mut Check<'_>, retry: &RetryPolicy) {
    if retry.max_attempts < 1 {
        let enabled = check.name(Opt::RetryEnabled);
        check.push(
            Opt::RetryMaxAttempts,
            format!(
                "must be at least 1 (the first attempt counts), got 0 \
                 (to turn retries off, set {enabled} to false)"
            ),
        );
    }
    if retry.base_delay > retry.max_delay {
        let max = check.name(Opt::RetryMaxDelay);
        check.push(
            Opt::RetryBaseDelay,
            format!(
                "must not exceed {max} ({:?}), got {:?}",
                retry.max_delay, retry.base_delay
            ),
        );
    }
    check.positive(Opt::RetryBudget, retry.budget);
}

fn check_breaker(check: &mut Check<'_>, breaker: &BreakerPolicy) {
    check.at_least_one(Opt::BreakerFailureThreshold, breaker.failure_threshold);
    let rate = breaker.failure_rate;
    // Written so that NaN fails too.
    if !(rate > 0.0 && rate <= 1.0) {
        check.push(
            Opt::BreakerFailureRate,
            format!("must be greater than 0 and at most 1, got {rate}"),
        );
    }
    check.positive(Opt::BreakerWindow, breaker.window);
    check.at_least_one(Opt::BreakerMinCalls, breaker.minimum_calls);
    check.positive(Opt::BreakerOpenDuration, breaker.open_duration);
    check.at_least_one(Opt::BreakerHalfOpenCalls, breaker.half_open_calls);
}

/// Collects problems, naming options the way the configuration was given.
struct Check<'a> {
    naming: &'a Naming,
    problems: Vec<ConfigProblem>,
}

impl Check<'_> {
    fn name(&self, opt: Opt) -> String {
        self.naming.name(opt)
    }

    fn push(&mut self, opt: Opt, reason: String) {
        self.problems.push(ConfigProblem {
            option: self.name(opt),
            reason,
        });
    }

    fn positive(&mut self, opt: Opt, value: Duration) {
        if value.is_zero() {
            self.push(opt, "must be greater than zero".to_string());
        }
    }

    fn positive_opt(&mut self, opt: Opt, value: Option<Duration>) {
        if value.is_some_and(|d| d.is_zero()) {
            self.push(
                opt,
                "must be greater than zero (use None to turn it off)".to_string(),
            );
        }
    }

    fn at_least_one(&mut self, opt: Opt, value: u32) {
        if value < 1 {
            self.push(opt, "must be at least 1, got 0".to_string());
        }
    }
}

impl fmt::Debug for DatabaseConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = match &self.url {
            Ok(target) => target.redacted(),
            Err(_) => "<invalid>".to_string(),
        };
        f.debug_struct("DatabaseConfigBuilder")
            .field("url", &url)
            .field("name", &self.name)
            .field("password", &self.password)
            .field("pool", &self.pool)
            .field("timeouts", &self.timeouts)
            .field("slow_query_threshold", &self.slow_query_threshold)
            .field("statement_cache_capacity", &self.statement_cache_capacity)
            .field("bulk_rows_per_statement", &self.bulk_rows)
            .field("log_parameters", &self.log_parameters)
            .field("n_plus_one_threshold", &self.n_plus_one_threshold)
            .field("leak_detection_threshold", &self.leak_detection_threshold)
            .field("capture_backtrace", &self.capture_backtrace)
            .field("sqlite_busy_timeout", &self.sqlite_busy_timeout)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker)
            .field("tls_mode", &self.tls_mode)
            .field("tls_root_cert", &self.tls_root_cert)
            .field("extra_params", &super::RedactedParams(&self.extra_params))
            .field("pgbouncer", &self.pgbouncer)
            // the URLs as given may hold a password: parsed (and redacted) by `build`
            .field("direct_url", &self.direct_url.as_ref().map(|_| "***"))
            .field("replicas", &self.replica_urls.len())
            .field("read_your_writes_window", &self.read_your_writes_window)
            .field("max_replica_lag", &self.max_replica_lag)
            .field("cache", &self.cache)
            .finish()
    }
}
