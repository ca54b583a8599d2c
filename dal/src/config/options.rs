//! The option groups of a [`DatabaseConfig`](super::DatabaseConfig): pool sizing,
//! timeouts, retry and circuit-breaker policies, TLS and SQLite open modes.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Pool sizing and connection recycling.
///
/// Each field names its environment variable (after the prefix, `DAL_` by default)
/// and its default.
///
/// ```
/// use dal::{DatabaseConfig, PoolOptions};
///
/// let config = DatabaseConfig::builder("postgres://app@localhost/shop")
///     .pool(PoolOptions {
///         max_connections: 20,
///         idle_timeout: None,
///         ..PoolOptions::default()
///     })
///     .build()?;
/// assert_eq!(config.pool().max_connections, 20);
/// assert_eq!(config.pool().min_connections, 0);
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolOptions {
    /// Most connections open at once (`POOL_MAX`, default 10). At least 1.
    ///
    /// An in-memory SQLite database always gets exactly one connection (see
    /// [`DatabaseConfig::is_sqlite_memory`](super::DatabaseConfig::is_sqlite_memory)).
    pub max_connections: u32,
    /// Connections kept open even when idle (`POOL_MIN`, default 0). At most
    /// `max_connections`.
    pub min_connections: u32,
    /// Close a connection that sat idle longer than this (`IDLE_TIMEOUT`, default
    /// 10 minutes; `None` keeps idle connections open).
    pub idle_timeout: Option<Duration>,
    /// Close a connection once it is older than this, even if busy connections must
    /// be replaced to do it (`MAX_LIFETIME`, default 30 minutes; `None` keeps
    /// connections forever).
    pub max_lifetime: Option<Duration>,
    /// A pooled connection is pinged on checkout only if it sat idle longer than
    /// this (`VALIDATE_AFTER_IDLE`, default 5 seconds). Recently used connections
    /// are handed out without a round trip; zero pings on every checkout.
    pub validate_after_idle: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: 10,
            min_connections: 0,
            idle_timeout: Some(Duration::from_secs(10 * 60)),
            max_lifetime: Some(Duration::from_secs(30 * 60)),
            validate_after_idle: Duration::from_secs(5),
        }
    }
}

/// The four timeouts: connection acquisition, connection creation, pool creation
/// and query execution. Each is a contract: the caller gets its error no later
/// than the limit + 10% (plus a scheduler tick), as
/// [`Error::Timeout`](crate::Error::Timeout) naming what it waited for (`kind`),
/// which limit ran out (`budget`) and the real time it took (`elapsed`).
///
/// The query timeout bounds a whole call from its start (checkout, retries,
/// execution); the acquire timeout a whole checkout (waiting for a free
/// connection, opening new ones and retrying that); the connect timeout one
/// connection attempt; the pool-creation timeout [`Db::connect`](crate::Db::connect).
///
/// ```
/// use std::time::Duration;
/// use dal::{DatabaseConfig, Timeouts};
///
/// let config = DatabaseConfig::builder("sqlite::memory:")
///     .timeouts(Timeouts {
///         query: Some(Duration::from_secs(30)),
///         ..Timeouts::default()
///     })
///     .build()?;
/// assert_eq!(config.timeouts().acquire, Duration::from_secs(5));
/// assert_eq!(config.timeouts().query, Some(Duration::from_secs(30)));
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest time one checkout may take, waiting for a free connection and
    /// opening new ones included (`ACQUIRE_TIMEOUT`, default 5 seconds).
    pub acquire: Duration,
    /// Longest time one attempt to open a connection may take, TLS and
    /// authentication included (`CONNECT_TIMEOUT`, default 10 seconds).
    pub connect: Duration,
    /// Longest time to open the pool's first `min_connections` connections
    /// (`POOL_CREATION_TIMEOUT`, default 30 seconds).
    pub pool_creation: Duration,
    /// Longest time a call may take from its start, checkout, retries and
    /// execution included; at the deadline the statement is cancelled on the
    /// server (`QUERY_TIMEOUT`, default `None`: no limit). Individual calls
    /// may set their own.
    pub query: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            acquire: Duration::from_secs(5),
            connect: Duration::from_secs(10),
            pool_creation: Duration::from_secs(30),
            query: None,
        }
    }
}

/// When and how often a failed operation is re-run.
///
/// Only errors known to be transient are retried, and only where re-running is
/// safe (reads, statements that never reached the server, whole transactions).
/// The delay before retry `n` (1-based) is `base_delay * 2^(n-1)` capped at
/// `max_delay`, with jitter; retrying stops after `max_attempts` attempts or when
/// the next delay would overrun `budget` measured from the first attempt.
///
/// ```
/// use std::time::Duration;
/// use dal::{DatabaseConfig, RetryPolicy};
///
/// let config = DatabaseConfig::builder("sqlite://app.db")
///     .retry(RetryPolicy { max_attempts: 5, ..RetryPolicy::default() })
///     .build()?;
/// assert_eq!(config.retry().max_attempts, 5);
/// assert_eq!(config.retry().base_delay, Duration::from_millis(50));
///
/// let off = DatabaseConfig::builder("sqlite://app.db")
///     .retry(RetryPolicy::disabled())
///     .build()?;
/// assert!(!off.retry().enabled);
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Whether anything is retried at all (`RETRY_ENABLED`, default true).
    pub enabled: bool,
    /// Attempts in total, the first one included (`RETRY_MAX_ATTEMPTS`, default 3).
    /// At least 1; 1 means "never retry".
    pub max_attempts: u32,
    /// Delay before the first retry; doubled for each further one
    /// (`RETRY_BASE_DELAY`, default 50 ms). At most `max_delay`.
    pub base_delay: Duration,
    /// Upper bound of a single delay (`RETRY_MAX_DELAY`, default 2 seconds).
    pub max_delay: Duration,
    /// Total time, from the first attempt, after which no retry is started
    /// (`RETRY_BUDGET`, default 10 seconds).
    pub budget: Duration,
}

impl RetryPolicy {
    /// The default policy with retries turned off.
    ///
    /// ```
    /// assert!(!dal::RetryPolicy::disabled().enabled);
    /// ```
    pub fn disabled() -> Self {
        RetryPolicy {
            enabled: false,
            ..RetryPolicy::default()
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            enabled: true,
            max_attempts: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(2),
            budget: Duration::from_secs(10),
        }
    }
}

/// The circuit breaker kept per database.
///
/// Only infrastructure failures count (see
/// [`Error::is_infrastructure`](crate::Error::is_infrastructure)): lost
/// connections, timeouts, an overloaded server; a constraint violation or a
/// syntax error never opens the circuit. The circuit opens when
/// `failure_threshold` such failures happen in a row, or when, over the last
/// `window`, at least `minimum_calls` calls were made and at least `failure_rate`
/// of them failed. While open, calls fail at once with
/// [`Error::CircuitOpen`](crate::Error::CircuitOpen); after `open_duration` the
/// circuit is half-open and lets `half_open_calls` trial calls through: if they
/// all succeed it closes, if one fails it opens again.
///
/// ```
/// use std::time::Duration;
/// use dal::{BreakerPolicy, DatabaseConfig};
///
/// let config = DatabaseConfig::builder("sqlite://app.db")
///     .breaker(BreakerPolicy {
///         open_duration: Duration::from_secs(30),
///         ..BreakerPolicy::default()
///     })
///     .build()?;
/// assert_eq!(config.breaker().failure_threshold, 5);
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerPolicy {
    /// Whether the breaker is active (`BREAKER_ENABLED`, default true).
    pub enabled: bool,
    /// Consecutive infrastructure failures that open the circuit
    /// (`BREAKER_FAILURE_THRESHOLD`, default 5). At least 1.
    pub failure_threshold: u32,
    /// Fraction of failed calls within `window` that opens the circuit
    /// (`BREAKER_FAILURE_RATE`, default 0.5). Greater than 0 and at most 1.
    pub failure_rate: f64,
    /// The sliding window over which `failure_rate` is measured
    /// (`BREAKER_WINDOW`, default 10 seconds).
    pub window: Duration,
    /// Calls needed within `window` before `failure_rate` is considered
    /// (`BREAKER_MIN_CALLS`, default 10). At least 1.
    pub minimum_calls: u32,
    /// How long the circuit stays open before trial calls are let through
    /// (`BREAKER_OPEN_DURATION`, default 5 seconds).
    pub open_duration: Duration,
    /// Trial calls let through while half-open (`BREAKER_HALF_OPEN_CALLS`,
    /// default 3). At least 1.
    pub half_open_calls: u32,
}

impl BreakerPolicy {
    /// The default policy with the breaker turned off.
    ///
    /// ```
    /// assert!(!dal::BreakerPolicy::disabled().enabled);
    /// ```
    pub fn disabled() -> Self {
        BreakerPolicy {
            enabled: false,
            ..BreakerPolicy::default()
        }
    }
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            enabled: true,
            failure_threshold: 5,
            failure_rate: 0.5,
            window: Duration::from_secs(10),
            minimum_calls: 10,
            open_duration: Duration::from_secs(5),
            half_open_calls: 3,
        }
    }
}

/// How a server connection uses TLS, from weakest to strongest.
///
/// Parsed from PostgreSQL's `sslmode` (`disable`, `allow`, `prefer`, `require`,
/// `verify-ca`, `verify-full`) or MySQL's `ssl-mode` (`DISABLED`, `PREFERRED`,
/// `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`), case-insensitively; either
/// vocabulary is accepted for either engine. PostgreSQL's `allow` (plain first,
/// TLS if the server insists) has no equivalent here and is read as `Prefer`,
/// which is never weaker.
///
/// When the URL does not say, a loopback host (`localhost`, `127.0.0.0/8`, `::1`,
/// a Unix socket) gets `Prefer` and any other host `VerifyFull`.
///
/// ```
/// use dal::TlsMode;
///
/// assert_eq!("verify-full".parse::<TlsMode>(), Ok(TlsMode::VerifyFull));
/// assert_eq!("VERIFY_IDENTITY".parse::<TlsMode>(), Ok(TlsMode::VerifyFull));
/// assert!(TlsMode::VerifyCa.verifies_certificate());
/// assert!(!TlsMode::VerifyCa.verifies_hostname());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsMode {
    /// Never use TLS.
    Disable,
    /// Use TLS when the server offers it, without verifying the certificate.
    Prefer,
    /// Always use TLS, without verifying the certificate.
    Require,
    /// Always use TLS and verify the certificate chain, but not the host name.
    VerifyCa,
    /// Always use TLS and verify the certificate chain and that it names the host.
    VerifyFull,
}

impl TlsMode {
    /// The PostgreSQL spelling (`disable`, `prefer`, `require`, `verify-ca`,
    /// `verify-full`).
    ///
    /// ```
    /// assert_eq!(dal::TlsMode::VerifyCa.as_str(), "verify-ca");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }

    /// The MySQL spelling (`DISABLED`, `PREFERRED`, `REQUIRED`, `VERIFY_CA`,
    /// `VERIFY_IDENTITY`).
    ///
    /// ```
    /// assert_eq!(dal::TlsMode::VerifyFull.as_mysql_str(), "VERIFY_IDENTITY");
    /// ```
    pub fn as_mysql_str(self) -> &'static str {
        match self {
            TlsMode::Disable => "DISABLED",
            TlsMode::Prefer => "PREFERRED",
            TlsMode::Require => "REQUIRED",
            TlsMode::VerifyCa => "VERIFY_CA",
            TlsMode::VerifyFull => "VERIFY_IDENTITY",
        }
    }

    /// Whether the connection fails when TLS cannot be established.
    ///
    /// ```
    /// assert!(!dal::TlsMode::Prefer.requires_tls());
    /// ```
    pub fn requires_tls(self) -> bool {
        self >= TlsMode::Require
    }

    /// Whether the server's certificate chain is checked against trusted roots.
    ///
    /// ```
    /// assert!(!dal::TlsMode::Require.verifies_certificate());
    /// ```
    pub fn verifies_certificate(self) -> bool {
        self >= TlsMode::VerifyCa
    }

    /// Whether the certificate must also name the host connected to.
    ///
    /// ```
    /// assert!(dal::TlsMode::VerifyFull.verifies_hostname());
    /// ```
    pub fn verifies_hostname(self) -> bool {
        self == TlsMode::VerifyFull
    }
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TLS mode that is neither a PostgreSQL `sslmode` nor a MySQL `ssl-mode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTlsMode(pub String);

impl fmt::Display for UnknownTlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown TLS mode `{}` (expected disable, allow, prefer, require, verify-ca or \
             verify-full, or DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)",
            self.0
        )
    }
}

impl std::error::Error for UnknownTlsMode {}

impl FromStr for TlsMode {
    type Err = UnknownTlsMode;

    /// Accepts both the PostgreSQL and the MySQL names, case-insensitively, with
    /// `-` and `_` interchangeable.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "disable" | "disabled" => Ok(TlsMode::Disable),
            // `allow` tries plain text first; `prefer` is the closest mode that is not weaker.
            "allow" | "prefer" | "preferred" => Ok(TlsMode::Prefer),
            "require" | "required" => Ok(TlsMode::Require),
            "verify-ca" => Ok(TlsMode::VerifyCa),
            "verify-full" | "verify-identity" => Ok(TlsMode::VerifyFull),
            _ => Err(UnknownTlsMode(s.to_string())),
        }
    }
}

/// How a SQLite database file is opened (the URL's `?mode=`).
///
/// ```
/// use dal::{DatabaseConfig, SqliteMode};
///
/// let config = DatabaseConfig::from_url("sqlite://data/app.db?mode=ro")?;
/// assert_eq!(config.sqlite_mode(), Some(SqliteMode::ReadOnly));
/// assert_eq!(
///     DatabaseConfig::from_url("sqlite://data/app.db")?.sqlite_mode(),
///     Some(SqliteMode::ReadWriteCreate),
/// );
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqliteMode {
    /// `ro`: open an existing file read-only.
    ReadOnly,
    /// `rw`: open an existing file for reading and writing.
    ReadWrite,
    /// `rwc` (the default): open for reading and writing, creating the file if needed.
    ReadWriteCreate,
    /// `memory`: a database that lives in memory and disappears with its connection.
    Memory,
}

impl SqliteMode {
    /// The URL spelling: `ro`, `rw`, `rwc` or `memory`.
    ///
    /// ```
    /// assert_eq!(dal::SqliteMode::ReadWriteCreate.as_str(), "rwc");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            SqliteMode::ReadOnly => "ro",
            SqliteMode::ReadWrite => "rw",
            SqliteMode::ReadWriteCreate => "rwc",
            SqliteMode::Memory => "memory",
        }
    }
}

impl fmt::Display for SqliteMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SqliteMode {
    /// The rejected text.
    type Err = String;

    /// Accepts `ro`, `rw`, `rwc` and `memory`, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ro" => Ok(SqliteMode::ReadOnly),
            "rw" => Ok(SqliteMode::ReadWrite),
            "rwc" => Ok(SqliteMode::ReadWriteCreate),
            "memory" => Ok(SqliteMode::Memory),
            _ => Err(s.to_string()),
        }
    }
}

/// A boolean option's value: `true/false`, `yes/no`, `on/off`, `1/0`, in any case.
pub(super) fn parse_bool(raw: &str) -> Result<bool, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(format!(
            "expected a boolean (true/false, yes/no, on/off, 1/0), got {raw:?}"
        )),
    }
}
