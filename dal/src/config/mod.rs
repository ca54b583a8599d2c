//! Database configuration: [`DatabaseConfig`] from a URL, from `DAL_*` environment
//! variables or from a builder, validated all at once, with the password kept out
//! of every `Debug`, `Display`, log line and error.

mod builder;
mod connection_url;
mod env;
mod options;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use dal_schema::Dialect;

/// The N+1 detector's default threshold: on in debug builds, off in release builds.
pub(crate) const DEFAULT_N_PLUS_ONE_THRESHOLD: usize = if cfg!(debug_assertions) { 3 } else { 0 };

pub use builder::DatabaseConfigBuilder;
pub use options::{
    BreakerPolicy, PoolOptions, RetryPolicy, SqliteMode, Timeouts, TlsMode, UnknownTlsMode,
};

use crate::error::ConfigProblem;
use connection_url::ConnectionUrl;

/// How to reach one database and how to behave towards it: pool sizes, the four
/// timeouts, retry and circuit-breaker policies, TLS and logging.
///
/// # Sources
///
/// * [`from_url`](Self::from_url): a URL, every other option at its default.
/// * [`from_env`](Self::from_env): `DAL_DATABASE_URL` plus `DAL_*` options
///   ([`from_env_with_prefix`](Self::from_env_with_prefix) for another prefix,
///   [`from_vars`](Self::from_vars) for explicit pairs).
/// * [`builder`](Self::builder): a URL and options set in code.
///
/// Every source validates everything and reports all problems together as
/// [`Error::Config`](crate::Error::Config).
///
/// # URLs
///
/// | Engine | Forms |
/// |---|---|
/// | PostgreSQL | `postgres://user:password@host:5432/database?sslmode=verify-full` (also `postgresql://`, `pg://`; several hosts as `host1:5432,host2:5433`, tried in order, with `target_session_attrs=read-write` to settle on the one that accepts writes; a Unix socket as `?host=/var/run/postgresql`) |
/// | MySQL / MariaDB | `mysql://user:password@host:3306/database?ssl-mode=REQUIRED` (also `mariadb://`; several hosts as `node1:3306,node2:3306`, e.g. the nodes of a Galera cluster: each new connection goes to the first that answers and, for a Galera node, is ready (`wsrep_ready` is `ON`: a node out of the cluster is passed over); a Unix socket as `?socket=/path/mysqld.sock`) |
/// | SQLite | `sqlite://relative/path.db`, `sqlite:path.db`, `sqlite:///absolute/path.db`, `sqlite::memory:`, with `?mode=ro\|rw\|rwc\|memory` (default `rwc`) |
///
/// Engine names are case-insensitive. The user name, password, host and database
/// are percent-decoded (`%40` for `@` in a password). The port defaults to 5432
/// (PostgreSQL) or 3306 (MySQL). Query parameters dal does not interpret are
/// passed to the driver through [`params`](Self::params); dal interprets
/// `sslmode`/`ssl-mode`, `sslrootcert`/`ssl-ca`, `password` (servers) and `mode`
/// (SQLite), and reads the Unix-socket parameters while leaving them in `params`.
///
/// Without a database name, PostgreSQL connects to the database named after the
/// user (as libpq does); MySQL connects with no default database (as sqlx does),
/// so statements must qualify table names.
///
/// # TLS
///
/// The URL's `sslmode` (PostgreSQL spelling) or `ssl-mode` (MySQL spelling) is
/// honoured. When it says nothing, a loopback host (`localhost`, `127.0.0.0/8`,
/// `::1`, a Unix socket) uses [`TlsMode::Disable`] — loopback traffic never
/// leaves the machine, so encrypting it only costs time — and any other host
/// [`TlsMode::VerifyFull`]: a remote database gets verified TLS unless the URL
/// explicitly asks for less. TLS does not apply to SQLite.
///
/// # SQLite in memory
///
/// Every connection to `sqlite::memory:` opens a separate, empty database that
/// disappears when the connection closes. An in-memory configuration therefore
/// always has exactly one connection, opened with the pool and never recycled
/// (`max_connections = min_connections = 1`, no idle timeout, no max lifetime),
/// whatever the options say.
///
/// # Secrets
///
/// The password, and the value of any query parameter whose name is `pass`,
/// `pwd` or contains `password`, `secret` or `token` (case-insensitive), never
/// appear in `Debug`, `Display` ([`redacted_url`](Self::redacted_url)) or
/// errors: they print as `***`.
///
/// ```
/// use std::time::Duration;
/// use dal::{DatabaseConfig, TlsMode};
/// use dal_schema::Dialect;
///
/// let config = DatabaseConfig::from_url("postgres://app:s3cret@db.example.com/shop")?;
/// assert_eq!(config.dialect(), Dialect::Postgres);
/// assert_eq!(config.host(), Some("db.example.com"));
/// assert_eq!(config.port(), Some(5432));
/// assert_eq!(config.database(), Some("shop"));
/// assert_eq!(config.tls_mode(), Some(TlsMode::VerifyFull)); // remote host
/// assert_eq!(config.to_string(), "postgres://app:***@db.example.com/shop");
/// assert!(!format!("{config:?}").contains("s3cret"));
///
/// let pairs = [
///     ("DAL_DATABASE_URL", "sqlite::memory:"),
///     ("DAL_QUERY_TIMEOUT", "30s"),
///     ("DAL_LOG_PARAMETERS", "Yes"),
/// ];
/// let config = DatabaseConfig::from_vars("DAL_", pairs)?;
/// assert!(config.is_sqlite_memory());
/// assert_eq!(config.pool().max_connections, 1);
/// assert_eq!(config.timeouts().query, Some(Duration::from_secs(30)));
/// assert!(config.log_parameters());
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Clone)]
pub struct DatabaseConfig {
    name: String,
    target: ConnectionUrl,
    /// Resolved: explicit or defaulted by host; `None` for SQLite.
    tls_mode: Option<TlsMode>,
    redacted_url: String,
    pool: PoolOptions,
    timeouts: Timeouts,
    slow_query_threshold: Duration,
    statement_cache_capacity: usize,
    bulk_rows: usize,
    log_parameters: bool,
    n_plus_one_threshold: usize,
    leak_detection_threshold: Option<Duration>,
    capture_backtrace: bool,
    sqlite_busy_timeout: Duration,
    retry: RetryPolicy,
    breaker: BreakerPolicy,
    /// Behind pgbouncer in transaction mode.
    pgbouncer: bool,
    /// The URL that bypasses the pooler, with its resolved TLS mode.
    direct: Option<Box<OtherServer>>,
    /// Read replicas, in the order given.
    replicas: Vec<OtherServer>,
    /// How long a task's reads stay on the primary after it wrote.
    read_your_writes_window: Duration,
    max_replica_lag: Option<Duration>,
    cache: Option<crate::cache::CacheConfig>,
}

/// Another server reached with this configuration's options: the one
/// behind the pooler ([`DatabaseConfig::direct`]) or a read replica.
#[derive(Debug, Clone)]
struct OtherServer {
    url: ConnectionUrl,
    tls_mode: Option<TlsMode>,
    /// As given (for [`DatabaseConfig::to_builder`]).
    raw: connection_url::Secret,
}

/// The process environment's variables with `prefix`, and the problems of
/// those that are not UTF-8.
fn env_pairs(prefix: &str) -> (Vec<(String, String)>, Vec<ConfigProblem>) {
    let wanted = env::normalize_prefix(prefix);
    let mut pairs = Vec::new();
    let mut problems = Vec::new();
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str().filter(|k| k.starts_with(wanted.as_str())) else {
            continue;
        };
        match value.into_string() {
            Ok(value) => pairs.push((key.to_string(), value)),
            Err(_) => problems.push(ConfigProblem {
                option: key.to_string(),
                reason: "is not valid UTF-8".to_string(),
            }),
        }
    }
    (pairs, problems)
}

/// `pairs` with `{prefix}DATABASE_URL` set to `url` (replacing any).
fn with_url(prefix: &str, url: &str, mut pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    let key = format!("{}DATABASE_URL", env::normalize_prefix(prefix));
    pairs.retain(|(k, _)| *k != key);
    pairs.push((key, url.to_string()));
    pairs
}

impl DatabaseConfig {
    /// A configuration from a URL, every other option at its default.
    ///
    /// ```
    /// let config = dal::DatabaseConfig::from_url("mysql://app:pw@127.0.0.1/shop")?;
    /// assert_eq!(config.port(), Some(3306));
    /// assert_eq!(config.tls_mode(), Some(dal::TlsMode::Disable)); // loopback
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn from_url(url: &str) -> crate::error::Result<Self> {
        Self::builder(url).build()
    }

    /// A builder starting from `url`, every option at its default. URL problems
    /// are reported by [`DatabaseConfigBuilder::build`] together with the rest.
    ///
    /// ```
    /// let config = dal::DatabaseConfig::builder("sqlite://app.db")
    ///     .name("local")
    ///     .max_connections(4)
    ///     .build()?;
    /// assert_eq!(config.pool().max_connections, 4);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn builder(url: impl AsRef<str>) -> DatabaseConfigBuilder {
        DatabaseConfigBuilder::new(url.as_ref())
    }

    /// A configuration from the process environment: `DAL_DATABASE_URL` and the
    /// `DAL_*` options (see [`from_vars`](Self::from_vars) for the list).
    pub fn from_env() -> crate::error::Result<Self> {
        Self::from_env_with_prefix("DAL_")
    }

    /// Like [`from_env`](Self::from_env) with another prefix: `ANALYTICS_` reads
    /// `ANALYTICS_DATABASE_URL`, `ANALYTICS_POOL_MAX`, ... (`ANALYTICS` works too:
    /// a missing trailing `_` is added).
    pub fn from_env_with_prefix(prefix: &str) -> crate::error::Result<Self> {
        let (pairs, problems) = env_pairs(prefix);
        let mut builder = env::builder_from_vars(prefix, pairs);
        builder.problems.extend(problems);
        builder.build()
    }

    /// The URL `url` (from wherever the application keeps it: a
    /// `DATABASE_URL` variable, a secret store) with the `DAL_*` options of the
    /// process environment ([`from_env`](Self::from_env) without needing
    /// `DAL_DATABASE_URL`; when that is set too, `url` wins).
    ///
    /// ```no_run
    /// let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite://app.db".into());
    /// let config = dal::DatabaseConfig::from_env_with_url(&url)?; // + DAL_POOL_MAX, ...
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn from_env_with_url(url: &str) -> crate::error::Result<Self> {
        let (pairs, problems) = env_pairs("DAL_");
        let mut builder = env::builder_from_vars("DAL_", with_url("DAL_", url, pairs));
        builder.problems.extend(problems);
        builder.build()
    }

    /// [`from_vars`](Self::from_vars) with the URL given apart (see
    /// [`from_env_with_url`](Self::from_env_with_url)).
    ///
    /// ```
    /// let config = dal::DatabaseConfig::from_vars_with_url(
    ///     "DAL_",
    ///     "sqlite://app.db",
    ///     [("DAL_POOL_MAX", "3"), ("DAL_DATABASE_URL", "sqlite://other.db")],
    /// )?;
    /// assert_eq!(config.pool().max_connections, 3);
    /// assert!(config.to_string().contains("app.db"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn from_vars_with_url<I, K, V>(
        prefix: &str,
        url: &str,
        vars: I,
    ) -> crate::error::Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let pairs = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        env::builder_from_vars(prefix, with_url(prefix, url, pairs)).build()
    }

    /// A configuration from `(name, value)` pairs, read the way
    /// [`from_env_with_prefix`](Self::from_env_with_prefix) reads the environment
    /// (tests use this instead of changing the process environment).
    ///
    /// | Variable (after the prefix) | Option | Default |
    /// |---|---|---|
    /// | `DATABASE_URL` | the URL (required) | |
    /// | `NAME` | [`name`](Self::name) | `default` |
    /// | `POOL_MAX`, `POOL_MIN` | [`PoolOptions`] sizes | 10, 0 |
    /// | `IDLE_TIMEOUT`, `MAX_LIFETIME` | [`PoolOptions`] recycling | 10m, 30m |
    /// | `VALIDATE_AFTER_IDLE` | [`PoolOptions::validate_after_idle`] | 5s |
    /// | `ACQUIRE_TIMEOUT`, `CONNECT_TIMEOUT`, `POOL_CREATION_TIMEOUT`, `QUERY_TIMEOUT` | [`Timeouts`] | 5s, 10s, 30s, none |
    /// | `SLOW_QUERY_THRESHOLD` | [`slow_query_threshold`](Self::slow_query_threshold) | 1s |
    /// | `STATEMENT_CACHE` | [`statement_cache_capacity`](Self::statement_cache_capacity) | 256 |
    /// | `BULK_ROWS` | [`bulk_rows_per_statement`](Self::bulk_rows_per_statement) | 1000 |
    /// | `LOG_PARAMETERS` | [`log_parameters`](Self::log_parameters) | false |
    /// | `N_PLUS_ONE_THRESHOLD` | [`n_plus_one_threshold`](Self::n_plus_one_threshold) | 3 in debug builds, 0 (off) in release builds |
    /// | `LEAK_DETECTION_THRESHOLD` | [`leak_detection_threshold`](Self::leak_detection_threshold) | none |
    /// | `CAPTURE_BACKTRACE` | [`capture_backtrace`](Self::capture_backtrace) | false |
    /// | `SQLITE_BUSY_TIMEOUT` | [`sqlite_busy_timeout`](Self::sqlite_busy_timeout) | 5s |
    /// | `RETRY_ENABLED`, `RETRY_MAX_ATTEMPTS`, `RETRY_BASE_DELAY`, `RETRY_MAX_DELAY`, `RETRY_BUDGET` | [`RetryPolicy`] | true, 3, 50ms, 2s, 10s |
    /// | `BREAKER_ENABLED`, `BREAKER_FAILURE_THRESHOLD`, `BREAKER_FAILURE_RATE`, `BREAKER_WINDOW`, `BREAKER_MIN_CALLS`, `BREAKER_OPEN_DURATION`, `BREAKER_HALF_OPEN_CALLS` | [`BreakerPolicy`] | true, 5, 0.5, 10s, 10, 5s, 3 |
    /// | `PGBOUNCER` | [`pgbouncer`](DatabaseConfigBuilder::pgbouncer) | false (or the URL's `pgbouncer=`) |
    /// | `DIRECT_URL` | [`direct_url`](DatabaseConfigBuilder::direct_url) | none |
    /// | `REPLICA_URLS` | [`replica`](DatabaseConfigBuilder::replica) (URLs separated by spaces) | none |
    /// | `READ_YOUR_WRITES_WINDOW` | [`read_your_writes_window`](DatabaseConfigBuilder::read_your_writes_window) | 2s |
    /// | `MAX_REPLICA_LAG` | [`max_replica_lag`](DatabaseConfigBuilder::max_replica_lag) | 10s |
    /// | `CACHE`, `CACHE_TTL` | [`cache`](DatabaseConfigBuilder::cache) (`memory`, `memory:N` or a `redis://` URL) | none, 60s |
    ///
    /// Booleans: `true/false`, `yes/no`, `on/off`, `1/0` in any case. Durations:
    /// `250ms`, `5s`, `1.5s`, `2m`, `1h`, or a bare number of seconds; optional
    /// ones (`QUERY_TIMEOUT`, `IDLE_TIMEOUT`, `MAX_LIFETIME`,
    /// `LEAK_DETECTION_THRESHOLD`, `MAX_REPLICA_LAG`) also take `none`, `off` or `0` for "no limit".
    /// Rates: `0.5` or `50%`. A value that does not parse is a problem naming the
    /// variable. A prefixed variable that is not an option is a problem too,
    /// suggesting the closest name (`DAL_POOL_MAXX: is not a dal setting; did
    /// you mean DAL_POOL_MAX?`), so a misspelling never goes unnoticed; where
    /// other programs share the prefix, `{prefix}IGNORE_UNKNOWN_VARS=true`
    /// turns those problems into warnings. `{prefix}TEST_*`, `{prefix}BENCH_*`
    /// and `{prefix}CI_*` are left to tools (dal's test suites, benchmarks and
    /// CI) and ignored silently.
    ///
    /// ```
    /// let config = dal::DatabaseConfig::from_vars(
    ///     "ANALYTICS_",
    ///     [
    ///         ("ANALYTICS_DATABASE_URL", "postgres://etl@localhost/warehouse"),
    ///         ("ANALYTICS_POOL_MAX", "40"),
    ///         ("DAL_POOL_MAX", "5"), // another prefix: not read
    ///     ],
    /// )?;
    /// assert_eq!(config.pool().max_connections, 40);
    ///
    /// let err = dal::DatabaseConfig::from_vars(
    ///     "DAL_",
    ///     [("DAL_DATABASE_URL", "sqlite://app.db"), ("DAL_POOL_MAX", "ten")],
    /// )
    /// .unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     r#"invalid database configuration (1 problem): DAL_POOL_MAX: expected a whole number, got "ten""#,
    /// );
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn from_vars<I, K, V>(prefix: &str, vars: I) -> crate::error::Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let pairs = vars.into_iter().map(|(k, v)| (k.into(), v.into()));
        env::builder_from_vars(prefix, pairs).build()
    }

    /// A builder holding this configuration, to change a few options.
    ///
    /// ```
    /// let base = dal::DatabaseConfig::from_url("sqlite://app.db")?;
    /// let small = base.to_builder().max_connections(2).build()?;
    /// assert_eq!(small.pool().max_connections, 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn to_builder(&self) -> DatabaseConfigBuilder {
        let mut b =
            DatabaseConfigBuilder::with_naming(Ok(self.target.clone()), builder::Naming::Builder);
        b.name = self.name.clone();
        b.pool = self.pool;
        b.timeouts = self.timeouts;
        b.slow_query_threshold = self.slow_query_threshold;
        b.statement_cache_capacity = self.statement_cache_capacity;
        b.bulk_rows = self.bulk_rows;
        b.log_parameters = self.log_parameters;
        b.n_plus_one_threshold = self.n_plus_one_threshold;
        b.leak_detection_threshold = self.leak_detection_threshold;
        b.capture_backtrace = self.capture_backtrace;
        b.sqlite_busy_timeout = self.sqlite_busy_timeout;
        b.retry = self.retry;
        b.breaker = self.breaker;
        b.pgbouncer = Some(self.pgbouncer);
        b.direct_url = self.direct.as_ref().map(|d| d.raw.clone());
        b.replica_urls = self.replicas.iter().map(|r| r.raw.clone()).collect();
        b.read_your_writes_window = self.read_your_writes_window;
        b.max_replica_lag = self.max_replica_lag;
        b.cache = self.cache.clone();
        b
    }

    /// The label used in logs, metrics and errors (default `"default"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The engine.
    pub fn dialect(&self) -> Dialect {
        self.target.dialect
    }

    /// The first host (a host name, an IP address without brackets, or for
    /// PostgreSQL a socket directory); `None` for SQLite and socket-only URLs.
    pub fn host(&self) -> Option<&str> {
        self.target.hosts.first().map(|(h, _)| h.as_str())
    }

    /// The first host's port (default 5432 for PostgreSQL, 3306 for MySQL);
    /// `None` for SQLite and socket-only URLs.
    pub fn port(&self) -> Option<u16> {
        self.target.hosts.first().map(|&(_, p)| p)
    }

    /// Every host with its port, in URL order (`postgres://a:5432,b:5433/db`),
    /// to try in turn for failover. Empty for SQLite and socket-only URLs.
    pub fn hosts(&self) -> &[(String, u16)] {
        &self.target.hosts
    }

    /// The Unix socket: PostgreSQL's socket directory (`?host=/var/run/postgresql`
    /// or a percent-encoded path as the host), MySQL's socket file
    /// (`?socket=/path/mysqld.sock`).
    pub fn socket(&self) -> Option<&str> {
        self.target.socket.as_deref()
    }

    /// The user name, percent-decoded.
    pub fn username(&self) -> Option<&str> {
        self.target.username.as_deref()
    }

    /// The password, for the connector only.
    #[allow(dead_code)] // used by the connector
    pub(crate) fn password(&self) -> Option<&str> {
        self.target.password.as_ref().map(|p| p.expose())
    }

    /// Whether a password is configured (without revealing it).
    pub fn has_password(&self) -> bool {
        self.target.password.is_some()
    }

    /// The database name: the URL's path; for PostgreSQL without one, the user
    /// name; for MySQL possibly `None` (no default database). `None` for SQLite.
    pub fn database(&self) -> Option<&str> {
        self.target.database.as_deref()
    }

    /// The SQLite file (relative paths are relative to the working directory), or
    /// the name of a `?mode=memory` database; `None` for `sqlite::memory:` and
    /// server engines.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.target.sqlite.as_ref()?.path.as_deref()
    }

    /// Whether this is an in-memory SQLite database (`sqlite::memory:` or
    /// `?mode=memory`), which always has exactly one connection.
    pub fn is_sqlite_memory(&self) -> bool {
        self.target.sqlite.as_ref().is_some_and(|s| s.memory)
    }

    /// How the SQLite database is opened (default [`SqliteMode::ReadWriteCreate`];
    /// [`SqliteMode::Memory`] in memory); `None` for server engines.
    pub fn sqlite_mode(&self) -> Option<SqliteMode> {
        self.target.sqlite.as_ref().map(|s| s.mode)
    }

    /// The TLS mode, explicit or defaulted from the host (see the type's docs);
    /// `None` for SQLite.
    pub fn tls_mode(&self) -> Option<TlsMode> {
        self.tls_mode
    }

    /// The CA certificate file that verifies the server (`sslrootcert` / `ssl-ca`).
    pub fn tls_root_cert(&self) -> Option<&str> {
        self.target.tls_root_cert.as_deref()
    }

    /// Query parameters for the driver, decoded, in URL order (then those added
    /// with [`DatabaseConfigBuilder::param`]). Values of secret-looking parameters
    /// are here in clear: do not log them.
    pub fn params(&self) -> &[(String, String)] {
        &self.target.params
    }

    /// The first parameter named `key` (ASCII case-insensitive).
    pub fn param(&self, key: &str) -> Option<&str> {
        self.target
            .params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Pool sizing and recycling.
    pub fn pool(&self) -> &PoolOptions {
        &self.pool
    }

    /// Acquire, connect, pool-creation and query timeouts.
    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    /// Statements slower than this are logged as slow.
    pub fn slow_query_threshold(&self) -> Duration {
        self.slow_query_threshold
    }

    /// Prepared statements cached per connection; zero means no server-side
    /// prepared statements. Always zero behind [`pgbouncer`](Self::pgbouncer).
    pub fn statement_cache_capacity(&self) -> usize {
        if self.pgbouncer {
            0
        } else {
            self.statement_cache_capacity
        }
    }

    /// Whether connections go through pgbouncer (or another pooler) in
    /// transaction mode (see [`DatabaseConfigBuilder::pgbouncer`]).
    pub fn pgbouncer(&self) -> bool {
        self.pgbouncer
    }

    /// This configuration pointed at the [direct URL](DatabaseConfigBuilder::direct_url)
    /// (every other option kept, `pgbouncer` off): what migrations and
    /// other session-scoped work connect to. `None` when no direct URL was given.
    pub fn direct(&self) -> Option<DatabaseConfig> {
        let d = self.direct.as_ref()?;
        Some(DatabaseConfig {
            target: d.url.clone(),
            tls_mode: d.tls_mode,
            redacted_url: d.url.redacted(),
            pgbouncer: false,
            direct: None,
            replicas: Vec::new(),
            ..self.clone()
        })
    }

    /// One configuration per [read replica](DatabaseConfigBuilder::replica),
    /// in the order given: every option of this one, the replica's URL, and
    /// the name `{name}.replica{n}` (1, 2, ..), which labels its logs and
    /// metrics.
    pub fn replicas(&self) -> Vec<DatabaseConfig> {
        self.replicas
            .iter()
            .enumerate()
            .map(|(i, r)| DatabaseConfig {
                name: format!("{}.replica{}", self.name, i + 1),
                target: r.url.clone(),
                tls_mode: r.tls_mode,
                redacted_url: r.url.redacted(),
                pgbouncer: r.url.pgbouncer.unwrap_or(false),
                direct: None,
                replicas: Vec::new(),
                ..self.clone()
            })
            .collect()
    }

    /// How long the reads of a task that wrote stay on the primary (see
    /// [`DatabaseConfigBuilder::read_your_writes_window`]).
    pub fn read_your_writes_window(&self) -> Duration {
        self.read_your_writes_window
    }

    /// How far behind a replica may be and still take reads; `None`: not
    /// checked (see [`DatabaseConfigBuilder::max_replica_lag`]).
    pub fn max_replica_lag(&self) -> Option<Duration> {
        self.max_replica_lag
    }

    /// The read cache (see [`DatabaseConfigBuilder::cache`]), if any.
    pub fn cache(&self) -> Option<&crate::cache::CacheConfig> {
        self.cache.as_ref()
    }

    /// The [direct URL](DatabaseConfigBuilder::direct_url) with its password
    /// masked, when one was given.
    pub fn redacted_direct_url(&self) -> Option<String> {
        self.direct.as_ref().map(|d| d.url.redacted())
    }

    /// Rows per statement of a bulk save (see
    /// [`DatabaseConfigBuilder::bulk_rows_per_statement`]).
    pub fn bulk_rows_per_statement(&self) -> usize {
        self.bulk_rows
    }

    /// Whether statement logs (spans, slow-query warnings, hooks) show the SQL
    /// with its literal values; otherwise literals are masked as `?`. Bound
    /// parameter values are never logged.
    pub fn log_parameters(&self) -> bool {
        self.log_parameters
    }

    /// How many different parent rows one call site may load a relation for,
    /// lazily, within a second of one task before the N+1 detector warns (0:
    /// off).
    pub fn n_plus_one_threshold(&self) -> usize {
        self.n_plus_one_threshold
    }

    /// Connections held longer than this are reported as possible leaks.
    pub fn leak_detection_threshold(&self) -> Option<Duration> {
        self.leak_detection_threshold
    }

    /// Whether a backtrace is captured where each connection is acquired.
    pub fn capture_backtrace(&self) -> bool {
        self.capture_backtrace
    }

    /// How long SQLite waits for another connection's lock.
    pub fn sqlite_busy_timeout(&self) -> Duration {
        self.sqlite_busy_timeout
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The circuit-breaker policy.
    pub fn breaker(&self) -> &BreakerPolicy {
        &self.breaker
    }

    /// The URL with the password and secret parameters replaced by `***`, safe
    /// to log. Same as `to_string()`.
    ///
    /// ```
    /// let config = dal::DatabaseConfig::from_url("mysql://app:pw@db:3307/shop?token=abc")?;
    /// assert_eq!(config.redacted_url(), "mysql://app:***@db:3307/shop?token=***");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn redacted_url(&self) -> String {
        self.redacted_url.clone()
    }
}

impl FromStr for DatabaseConfig {
    type Err = crate::error::Error;

    /// Same as [`DatabaseConfig::from_url`].
    fn from_str(url: &str) -> crate::error::Result<Self> {
        Self::from_url(url)
    }
}

impl fmt::Display for DatabaseConfig {
    /// The redacted URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted_url)
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.target;
        f.debug_struct("DatabaseConfig")
            .field("name", &self.name)
            .field("url", &self.redacted_url)
            .field("dialect", &t.dialect)
            .field("hosts", &t.hosts)
            .field("socket", &t.socket)
            .field("username", &t.username)
            .field("password", &t.password)
            .field("database", &t.database)
            .field("sqlite", &t.sqlite)
            .field("tls_mode", &self.tls_mode)
            .field("tls_root_cert", &t.tls_root_cert)
            .field("params", &RedactedParams(&t.params))
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
            .field("pgbouncer", &self.pgbouncer)
            .field("direct_url", &self.redacted_direct_url())
            .field(
                "replicas",
                &self
                    .replicas
                    .iter()
                    .map(|r| r.url.redacted())
                    .collect::<Vec<_>>(),
            )
            .field("read_your_writes_window", &self.read_your_writes_window)
            .field("max_replica_lag", &self.max_replica_lag)
            .field("cache", &self.cache)
            .finish()
    }
}

/// Prints parameters with secret values as `***`.
struct RedactedParams<'a>(&'a [(String, String)]);

impl fmt::Debug for RedactedParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, v)| {
                let shown = if connection_url::is_secret_param(k) {
                    "***"
                } else {
                    v.as_str()
                };
                (k.as_str(), shown)
            }))
            .finish()
    }
}
