//! `dal::Error`: one error type that tells the caller what to do, keeping the
//! SQLSTATE or driver code for those who need it.

use std::fmt;
use std::time::Duration;

/// `Result<T, dal::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A time limit, and what a call waits for under it (see [`Error::Timeout`],
/// whose `kind` and `budget` are both `TimeoutKind`s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// Waiting for a free pooled connection; as a budget, the acquire
    /// timeout, which bounds a whole checkout (waiting, opening new
    /// connections, retrying a failed open).
    Acquire,
    /// Opening a new connection (TCP, TLS, authentication, session set-up);
    /// as a budget, the connect timeout of one attempt.
    Connect,
    /// Opening the pool's initial connections in [`Db::connect`](crate::Db::connect);
    /// as a budget, the pool-creation timeout.
    PoolCreation,
    /// Running a statement (it was cancelled on the server); as a budget, the
    /// call's query timeout, which bounds the whole call from its start.
    Query,
}

impl TimeoutKind {
    /// A short lower-case name (`acquire`, `connect`, `pool_creation`, `query`),
    /// used as a metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            TimeoutKind::Acquire => "acquire",
            TimeoutKind::Connect => "connect",
            TimeoutKind::PoolCreation => "pool_creation",
            TimeoutKind::Query => "query",
        }
    }
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Acquire => "connection acquisition",
            TimeoutKind::Connect => "connection creation",
            TimeoutKind::PoolCreation => "pool creation",
            TimeoutKind::Query => "query execution",
        })
    }
}

/// Which kind of constraint was violated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConstraintKind {
    /// A unique index or primary key.
    Unique,
    /// A foreign key.
    ForeignKey,
    /// A NOT NULL column.
    NotNull,
    /// A CHECK constraint (including enumeration checks).
    Check,
    /// Any other integrity constraint.
    Other,
}

impl fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConstraintKind::Unique => "unique",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::NotNull => "not null",
            ConstraintKind::Check => "check",
            ConstraintKind::Other => "integrity",
        })
    }
}

/// One problem in a [`crate::DatabaseConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The option (`DAL_POOL_MAX`, `url`, `acquire_timeout`, ...).
    pub option: String,
    /// Why it is wrong.
    pub reason: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.option, self.reason)
    }
}

/// Every problem found in a configuration, reported together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid database configuration ({} problem",
            self.0.len()
        )?;
        if self.0.len() != 1 {
            f.write_str("s")?;
        }
        f.write_str("): ")?;
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// The error type of every dal operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A row that was required does not exist.
    #[error("not found: {0}")]
    NotFound(String),

    /// The statement violated a constraint; fix the data, do not retry.
    #[error("{kind} constraint violated{}: {message}", constraint.as_deref().map(|c| format!(" ({c})")).unwrap_or_default())]
    ConstraintViolation {
        /// The kind of constraint.
        kind: ConstraintKind,
        /// The constraint (or, on SQLite, the columns) named by the server.
        constraint: Option<String>,
        /// The server's message.
        message: String,
        /// SQLSTATE (PostgreSQL), error number (MySQL) or extended result code (SQLite).
        code: Option<String>,
    },

    /// A time limit ran out; see [`TimeoutKind`] and the README's timeout table.
    ///
    /// `kind` says what the call was waiting for when time ran out, `budget`
    /// which configured limit ran out (`after`), and `elapsed` the real time
    /// from the start of the call. They differ when one limit covers several
    /// steps: a call's query timeout may run out while it waits for a pooled
    /// connection (`kind: Acquire, budget: Query`), and the acquire timeout
    /// bounds the connection attempts made for a checkout (`kind: Connect,
    /// budget: Acquire`).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use std::time::Duration;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let err = db
    ///     .query("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")
    ///     .timeout(Duration::from_millis(50))
    ///     .fetch_scalar::<i64>()
    ///     .await
    ///     .unwrap_err();
    /// match err {
    ///     dal::Error::Timeout { kind, budget, after, elapsed, .. } => {
    ///         assert_eq!((kind, budget), (dal::TimeoutKind::Query, dal::TimeoutKind::Query));
    ///         assert_eq!(after, Duration::from_millis(50));
    ///         assert!(elapsed >= after);
    ///     }
    ///     other => panic!("{other}"),
    /// }
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    #[error("{kind} timed out after {} ({budget} limit {})", fmt_duration(*elapsed), fmt_duration(*after))]
    #[non_exhaustive]
    Timeout {
        /// What the call was waiting for.
        kind: TimeoutKind,
        /// The configured limit that ran out (the one `budget` names).
        after: Duration,
        /// Which configured limit ran out.
        budget: TimeoutKind,
        /// Real time from the start of the call (or of the checkout, for
        /// [`TimeoutKind::Acquire`] and [`TimeoutKind::Connect`] budgets) to the error.
        elapsed: Duration,
    },

    /// The circuit breaker is open: the database failed repeatedly and calls are
    /// rejected at once until `retry_after` has passed.
    #[error("circuit breaker open for database `{database}`; retry after {retry_after:?}")]
    CircuitOpen {
        /// The database's configured name.
        database: String,
        /// How long until a trial call is let through.
        retry_after: Duration,
    },

    /// The connection to the server failed or was lost. Safe to retry only when
    /// the statement is known not to have run (reads, or failures before sending).
    #[error("connection lost: {message}")]
    ConnectionLost {
        /// What happened.
        message: String,
        /// Driver code, if any.
        code: Option<String>,
    },

    /// The transaction conflicted with another (serialization failure or deadlock)
    /// and was rolled back; re-running the whole transaction is safe.
    #[error("{} ({}): {message}", if *deadlock { "deadlock" } else { "serialization failure" }, code.as_deref().unwrap_or("-"))]
    Serialization {
        /// True for a deadlock, false for a serialization failure.
        deadlock: bool,
        /// The server's message.
        message: String,
        /// SQLSTATE or driver code.
        code: Option<String>,
    },

    /// A lock the statement needed stayed held by another connection for
    /// longer than the lock wait allows: SQLite's `SQLITE_BUSY` /
    /// `SQLITE_LOCKED` after the busy timeout, MySQL's lock wait timeout
    /// (1205), PostgreSQL's `lock_not_available` (55P03, `NOWAIT` or
    /// `lock_timeout`). The statement did not take effect. It is transient
    /// (the lock holder will finish), but dal does not re-run it on its own:
    /// the wait was already spent, and waiting again would multiply the
    /// caller's wait. It does not count towards the circuit breaker.
    #[error("database busy ({}): {message}", code.as_deref().unwrap_or("-"))]
    Busy {
        /// The server's message.
        message: String,
        /// SQLite extended result code, MySQL error number or SQLSTATE.
        code: Option<String>,
    },

    /// The row was changed by someone else since it was read (optimistic locking):
    /// nothing was written.
    #[error(
        "stale {entity} {id}: expected version {expected}, the row has another version or is gone"
    )]
    StaleVersion {
        /// The entity's table.
        entity: String,
        /// The row's id.
        id: String,
        /// The version the caller held.
        expected: i64,
    },

    /// The configuration is invalid; every problem is listed.
    #[error("{0}")]
    Config(ConfigErrors),

    /// An argument given to dal is invalid.
    #[error("invalid input for `{field}`: {reason}")]
    InvalidInput {
        /// What was wrong (a parameter, a field, an SQL text).
        field: String,
        /// Why.
        reason: String,
    },

    /// A value read from the database could not be converted to the requested type.
    #[error("cannot decode column `{column}`: {reason}")]
    Decode {
        /// Column name or index.
        column: String,
        /// Why.
        reason: String,
    },

    /// An applied migration changed after it was applied.
    #[error(
        "migration {module}/{name} changed after it was applied (checksum {applied} in the database, {current} now)"
    )]
    MigrationDrift {
        /// Migration module.
        module: String,
        /// Migration name.
        name: String,
        /// Checksum recorded when it was applied.
        applied: String,
        /// Checksum of the migration as it is now.
        current: String,
    },

    /// A migration failed; `applied` lists what was applied before it.
    #[error("migration {module}/{name} failed: {message}")]
    Migration {
        /// Migration module.
        module: String,
        /// Migration name.
        name: String,
        /// What happened.
        message: String,
        /// The steps that did take effect (important on MySQL, where DDL commits).
        applied: Vec<String>,
    },

    /// Another migration run held the migration lock for longer than the lock
    /// timeout (see [`Migrator::lock_timeout`](crate::migrate::Migrator::lock_timeout));
    /// nothing was applied. Run again once the other run finished.
    #[error("migration lock `{lock}` is held by another run; gave up after {waited:?}")]
    MigrationLocked {
        /// The lock (advisory lock key, lock name or database file).
        lock: String,
        /// How long this run waited.
        waited: Duration,
    },

    /// The server rejected the statement (syntax, permissions, unknown table, ...).
    #[error("database error{}: {message}", code.as_deref().map(|c| format!(" [{c}]")).unwrap_or_default())]
    Database {
        /// The server's message.
        message: String,
        /// SQLSTATE (PostgreSQL), error number (MySQL) or extended result code (SQLite).
        code: Option<String>,
        /// Whether retrying may succeed (lock timeouts, too many connections, busy).
        transient: bool,
    },

    /// A write was sent to a read-only server (a replica, or a read-only transaction).
    #[error("read-only: {message}")]
    ReadOnly {
        /// The server's message.
        message: String,
        /// SQLSTATE or driver code.
        code: Option<String>,
    },

    /// A schema blueprint is invalid; every problem is listed.
    #[error("invalid schema: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Schema(Vec<dal_schema::SchemaError>),

    /// The pool was closed.
    #[error("the connection pool is closed")]
    PoolClosed,

    /// The operation is not available on this database or in this context.
    #[error("unsupported: {0}")]
    Unsupported(String),

    /// A protocol, TLS or I/O problem not covered above.
    #[error("driver error: {0}")]
    Driver(String),

    /// A write went to a shard that does not hold the row's shard key:
    /// through a shard's [`Db`](crate::Db), or inside a transaction on one
    /// (a transaction stays on one shard). Nothing was sent.
    #[error("wrong shard: {message}")]
    WrongShard {
        /// Which row, which shard holds it, which shard was used.
        message: String,
    },

    /// The row's hash slot is being moved to another shard
    /// ([`Shards::begin_move`](crate::Shards::begin_move)): its writes wait
    /// for the switch. Transient: retry shortly. Nothing was sent.
    #[error("shard slot {slot} is moving to shard `{to}`: writes to it resume after the switch")]
    ShardMoving {
        /// The slot.
        slot: u32,
        /// The shard it moves to.
        to: String,
    },

    /// One shard of a call over several shards failed (the call fails as a
    /// whole); `source` is that shard's error.
    #[error("shard `{shard}`: {source}")]
    Shard {
        /// The shard's name.
        shard: String,
        /// Its error.
        source: Box<Error>,
    },
}

/// A duration as people read it in an error: `1.503s`, `500.2ms`, `80µs`.
pub(crate) fn fmt_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs >= 1.0 {
        format!("{secs:.3}s")
    } else if d >= Duration::from_millis(1) {
        format!("{:.1}ms", secs * 1e3)
    } else {
        format!("{}µs", d.as_micros())
    }
}

impl Error {
    /// An [`Error::Timeout`]: `kind` is what the call waited for, `budget`
    /// the limit (`after`) that ran out, `elapsed` the real time taken.
    pub(crate) fn timeout(
        kind: TimeoutKind,
        budget: TimeoutKind,
        after: Duration,
        elapsed: Duration,
    ) -> Error {
        Error::Timeout {
            kind,
            after,
            budget,
            elapsed,
        }
    }

    /// A configuration error about one option.
    pub(crate) fn config(option: &str, reason: impl Into<String>) -> Error {
        Error::Config(ConfigErrors(vec![ConfigProblem {
            option: option.to_string(),
            reason: reason.into(),
        }]))
    }

    /// `e` as the error of shard `shard` (an [`Error::Shard`]; one already
    /// naming its shard stays as it is).
    pub(crate) fn in_shard(shard: &str, e: Error) -> Error {
        match e {
            Error::Shard { .. } => e,
            other => Error::Shard {
                shard: shard.to_string(),
                source: Box::new(other),
            },
        }
    }

    /// Shorthand for [`Error::InvalidInput`].
    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Shorthand for [`Error::Decode`].
    pub fn decode(column: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Decode {
            column: column.into(),
            reason: reason.into(),
        }
    }

    /// The SQLSTATE (PostgreSQL), error number (MySQL) or extended result code
    /// (SQLite) the server gave, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::ConstraintViolation { code, .. }
            | Error::ConnectionLost { code, .. }
            | Error::Serialization { code, .. }
            | Error::Busy { code, .. }
            | Error::Database { code, .. }
            | Error::ReadOnly { code, .. } => code.as_deref(),
            Error::Shard { source, .. } => source.code(),
            _ => None,
        }
    }

    /// Whether the failure is known to be temporary: retrying later (the same read,
    /// or the whole transaction) may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::ConnectionLost { .. } | Error::Serialization { .. } | Error::Busy { .. } => true,
            Error::Timeout { kind, .. } => {
                matches!(kind, TimeoutKind::Acquire | TimeoutKind::Connect)
            }
            Error::Database { transient, .. } => *transient,
            Error::ShardMoving { .. } => true,
            Error::Shard { source, .. } => source.is_transient(),
            _ => false,
        }
    }

    /// Whether the same call is worth trying again later, unchanged: the
    /// [transient](Error::is_transient) failures (a lost connection, a
    /// serialization conflict, a busy SQLite database, no connection or no
    /// free pooled connection in time, a server error it marks as
    /// temporary) and an open circuit breaker ([`Error::CircuitOpen`]: try
    /// after its `retry_after`, see [`retry_after`](Error::retry_after)).
    /// Not worth it: errors of the statement or its data (constraints, SQL
    /// errors, invalid input), a query that ran out of its timeout (it will
    /// likely do so again), a closed pool, configuration errors. A write is
    /// safe to re-run only when it [never reached the
    /// server](Error::never_reached_server) or runs in a transaction that is
    /// re-run whole.
    ///
    /// ```
    /// use std::time::Duration;
    /// let open = dal::Error::CircuitOpen { database: "main".into(), retry_after: Duration::from_secs(2) };
    /// assert!(open.is_retryable_later());
    /// assert_eq!(open.retry_after(), Some(Duration::from_secs(2)));
    /// assert!(!dal::Error::NotFound("no such user".into()).is_retryable_later());
    /// ```
    pub fn is_retryable_later(&self) -> bool {
        match self {
            Error::Shard { source, .. } => source.is_retryable_later(),
            _ => self.is_transient() || matches!(self, Error::CircuitOpen { .. }),
        }
    }

    /// How long to wait before retrying, when the error says
    /// ([`Error::CircuitOpen`]'s `retry_after`).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::CircuitOpen { retry_after, .. } => Some(*retry_after),
            Error::Shard { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// Whether the failure is about the database infrastructure (connections,
    /// timeouts, server overload) rather than the statement or its data. Only
    /// these count towards opening the circuit breaker.
    ///
    /// Not infrastructure: anything the statement or its input caused
    /// (constraint violations, SQL errors, invalid input refused before
    /// sending, a statement the driver refused), lock waits
    /// ([`Error::Busy`]), conflicts ([`Error::Serialization`]), configuration
    /// errors (a TLS certificate the client refuses, a missing root
    /// certificate file) and waiting for a free pooled connection
    /// ([`TimeoutKind::Acquire`]: local capacity, every connection busy).
    pub fn is_infrastructure(&self) -> bool {
        match self {
            Error::Timeout {
                kind: TimeoutKind::Acquire,
                ..
            } => false,
            Error::ConnectionLost { .. } | Error::Timeout { .. } | Error::Driver(_) => true,
            Error::Database { transient, .. } => *transient,
            Error::Shard { source, .. } => source.is_infrastructure(),
            _ => false,
        }
    }

    /// Whether the statement certainly did not reach the server (so re-running a
    /// write is safe): acquire and connect failures, an open circuit, a closed
    /// pool, a write refused by shard routing.
    pub fn never_reached_server(&self) -> bool {
        match self {
            Error::Shard { source, .. } => source.never_reached_server(),
            _ => matches!(
                self,
                Error::Timeout {
                    kind: TimeoutKind::Acquire | TimeoutKind::Connect | TimeoutKind::PoolCreation,
                    ..
                } | Error::CircuitOpen { .. }
                    | Error::PoolClosed
                    | Error::WrongShard { .. }
                    | Error::ShardMoving { .. }
            ),
        }
    }

    /// The message with every single-quoted value masked as `'?'`, for logs:
    /// servers quote values in some messages (MariaDB's `Duplicate entry
    /// 'ada@example.com' for key 'email'`), bound ones included. dal's spans,
    /// retry warnings and [`LogHook`](crate::hooks::LogHook) log this form
    /// (unless `log_parameters` is on); the error itself keeps the full text.
    ///
    /// ```
    /// let e = dal::Error::Database {
    ///     message: "Duplicate entry 'ada@example.com' for key 'email'".into(),
    ///     code: Some("1062".into()),
    ///     transient: false,
    /// };
    /// assert_eq!(
    ///     e.redacted(),
    ///     "database error [1062]: Duplicate entry '?' for key '?'"
    /// );
    /// ```
    pub fn redacted(&self) -> String {
        mask_quoted(&self.to_string())
    }

    /// True for [`Error::NotFound`].
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound(_))
    }

    /// True for a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Error::ConstraintViolation {
                kind: ConstraintKind::Unique,
                ..
            }
        )
    }
}

impl From<ConfigErrors> for Error {
    fn from(e: ConfigErrors) -> Self {
        Error::Config(e)
    }
}

impl From<dal_schema::TranslateError> for Error {
    fn from(e: dal_schema::TranslateError) -> Self {
        Error::invalid_input("sql", e.to_string())
    }
}

impl From<dal_schema::ddl::DdlError> for Error {
    fn from(e: dal_schema::ddl::DdlError) -> Self {
        Error::Unsupported(e.to_string())
    }
}

impl From<Vec<dal_schema::SchemaError>> for Error {
    fn from(e: Vec<dal_schema::SchemaError>) -> Self {
        Error::Schema(e)
    }
}

/// Replace the contents of every single-quoted segment (`''` is an escaped
/// quote inside one) with `?`; an unterminated segment is masked to the end.
fn mask_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '\'' {
            continue;
        }
        // inside a quoted value: skip to its closing quote
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                Some('\'') => {
                    out.push_str("?'");
                    break;
                }
                Some(_) => {}
                None => {
                    out.push('?');
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod redaction_tests {
    use super::mask_quoted;

    #[test]
    fn masks_quoted_values() {
        assert_eq!(mask_quoted("no quotes"), "no quotes");
        assert_eq!(mask_quoted("a 'x' b 'y'"), "a '?' b '?'");
        assert_eq!(mask_quoted("it''s 'o''brien' ok"), "it'?'s '?' ok");
        assert_eq!(mask_quoted("open 'secret"), "open '?");
        assert_eq!(mask_quoted("''"), "'?'");
    }
}
