//! In-process figures: what [`Db::stats`](crate::Db::stats) and
//! [`Db::health`](crate::Db::health) report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::breaker::BreakerState;
use crate::pool::PoolStatus;

/// What the timeout rate says about capacity (the seed design's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScalingAdvice {
    /// Under 0.1% of calls time out: normal.
    Normal,
    /// 0.1% to 1%: look at the slow queries first.
    ReviewSlowQueries,
    /// 1% to 5%: the database needs more resources (CPU, memory, IOPS) or the
    /// pool more connections.
    ScaleVertically,
    /// Over 5%: one server is not enough; add replicas or shards.
    ScaleHorizontally,
}

impl ScalingAdvice {
    /// The advice for a timeout rate (a fraction: 0.01 is 1%).
    ///
    /// ```
    /// use dal::ScalingAdvice;
    /// assert_eq!(ScalingAdvice::for_timeout_rate(0.0005), ScalingAdvice::Normal);
    /// assert_eq!(ScalingAdvice::for_timeout_rate(0.005), ScalingAdvice::ReviewSlowQueries);
    /// assert_eq!(ScalingAdvice::for_timeout_rate(0.03), ScalingAdvice::ScaleVertically);
    /// assert_eq!(ScalingAdvice::for_timeout_rate(0.2), ScalingAdvice::ScaleHorizontally);
    /// ```
    pub fn for_timeout_rate(rate: f64) -> ScalingAdvice {
        if rate < 0.001 {
            ScalingAdvice::Normal
        } else if rate < 0.01 {
            ScalingAdvice::ReviewSlowQueries
        } else if rate <= 0.05 {
            ScalingAdvice::ScaleVertically
        } else {
            ScalingAdvice::ScaleHorizontally
        }
    }

    /// A one-line explanation for operators.
    pub fn message(self) -> &'static str {
        match self {
            ScalingAdvice::Normal => "normal: under 0.1% of calls time out",
            ScalingAdvice::ReviewSlowQueries => "0.1-1% of calls time out: review the slow queries",
            ScalingAdvice::ScaleVertically => {
                "1-5% of calls time out: scale vertically (a bigger server or a larger pool)"
            }
            ScalingAdvice::ScaleHorizontally => {
                "over 5% of calls time out: scale horizontally (replicas, shards)"
            }
        }
    }
}

impl std::fmt::Display for ScalingAdvice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// Latency buckets: powers of 2^(1/4) from 1 µs (so ±10% resolution) up to about
/// 70 minutes.
const BUCKETS: usize = 128;

/// A lock-free latency histogram (log buckets).
pub(crate) struct Histogram {
    counts: [AtomicU64; BUCKETS],
}

impl Histogram {
    pub(crate) fn new() -> Histogram {
        Histogram {
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn index(d: Duration) -> usize {
        let us = d.as_secs_f64() * 1e6;
        if us <= 1.0 {
            return 0;
        }
        ((us.log2() * 4.0).ceil() as usize).min(BUCKETS - 1)
    }

    fn upper(i: usize) -> Duration {
        Duration::from_secs_f64(2f64.powf(i as f64 / 4.0) / 1e6)
    }

    pub(crate) fn record(&self, d: Duration) {
        self.counts[Self::index(d)].fetch_add(1, Ordering::Relaxed);
    }

    /// The `q` quantile (0..=1), as the upper bound of its bucket; zero when empty.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Self::upper(i);
            }
        }
        Self::upper(BUCKETS - 1)
    }
}

/// Errors counted by kind (the `kind` label of `dal_errors_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A constraint violation.
    Constraint,
    /// A query ran longer than its timeout.
    QueryTimeout,
    /// No pooled connection within the acquire timeout.
    AcquireTimeout,
    /// A new connection could not be opened in time.
    ConnectTimeout,
    /// The connection failed or was lost.
    Connection,
    /// Serialization failure or deadlock.
    Serialization,
    /// A lock wait ran out ([`Error::Busy`](crate::Error::Busy)).
    Busy,
    /// Rejected by the open circuit breaker.
    CircuitOpen,
    /// Any other error the server reported.
    Database,
    /// Anything else (decoding, invalid input, driver problems).
    Other,
}

impl ErrorKind {
    pub(crate) const ALL: [ErrorKind; 10] = [
        ErrorKind::Constraint,
        ErrorKind::QueryTimeout,
        ErrorKind::AcquireTimeout,
        ErrorKind::ConnectTimeout,
        ErrorKind::Connection,
        ErrorKind::Serialization,
        ErrorKind::Busy,
        ErrorKind::CircuitOpen,
        ErrorKind::Database,
        ErrorKind::Other,
    ];

    /// The metrics label.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Constraint => "constraint",
            ErrorKind::QueryTimeout => "query_timeout",
            ErrorKind::AcquireTimeout => "acquire_timeout",
            ErrorKind::ConnectTimeout => "connect_timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::Serialization => "serialization",
            ErrorKind::Busy => "busy",
            ErrorKind::CircuitOpen => "circuit_open",
            ErrorKind::Database => "database",
            ErrorKind::Other => "other",
        }
    }

    /// The kind of an error.
    pub fn of(e: &crate::Error) -> ErrorKind {
        use crate::{Error, TimeoutKind};
        match e {
            Error::ConstraintViolation { .. } | Error::StaleVersion { .. } => ErrorKind::Constraint,
            Error::Timeout { kind, .. } => match kind {
                TimeoutKind::Query => ErrorKind::QueryTimeout,
                TimeoutKind::Acquire => ErrorKind::AcquireTimeout,
                TimeoutKind::Connect | TimeoutKind::PoolCreation => ErrorKind::ConnectTimeout,
            },
            Error::ConnectionLost { .. } => ErrorKind::Connection,
            Error::Serialization { .. } => ErrorKind::Serialization,
            Error::Busy { .. } => ErrorKind::Busy,
            Error::CircuitOpen { .. } => ErrorKind::CircuitOpen,
            Error::Database { .. } | Error::ReadOnly { .. } => ErrorKind::Database,
            _ => ErrorKind::Other,
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// Whether this kind is a timeout (counted in the timeout rate).
    pub fn is_timeout(self) -> bool {
        matches!(
            self,
            ErrorKind::QueryTimeout | ErrorKind::AcquireTimeout | ErrorKind::ConnectTimeout
        )
    }
}

/// A snapshot of one database's figures since it was opened (see
/// [`Db::stats`](crate::Db::stats)).
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The database's configured name.
    pub name: String,
    /// Calls: statements sent plus checkouts that failed before one could be
    /// sent (the denominator of the timeout rate).
    pub calls: u64,
    /// Statements sent to the server (every attempt).
    pub statements: u64,
    /// Calls that failed, by kind (kinds with no errors are left out).
    pub errors: Vec<(ErrorKind, u64)>,
    /// Calls that failed, in total.
    pub errors_total: u64,
    /// Timeouts of any kind (query, acquire, connect).
    pub timeouts: u64,
    /// Connection checkouts that ran out of time (pool exhausted).
    pub acquire_timeouts: u64,
    /// Query timeouts (the statement was cancelled on the server).
    pub query_timeouts: u64,
    /// `timeouts / calls` (0 when there were no calls).
    pub timeout_rate: f64,
    /// What the timeout rate suggests.
    pub advice: ScalingAdvice,
    /// Retries made (reads, failed checkouts, transactions).
    pub retries: u64,
    /// Statements slower than the slow-query threshold.
    pub slow_queries: u64,
    /// Median statement latency.
    pub latency_p50: Duration,
    /// 99th-percentile statement latency.
    pub latency_p99: Duration,
    /// Successful connection checkouts.
    pub acquisitions: u64,
    /// Mean time a checkout waited for a free connection (over all checkouts).
    pub acquire_wait_mean: Duration,
    /// Connections held longer than the leak-detection threshold (reported once each).
    pub leaks: u64,
    /// The pool now.
    pub pool: PoolStatus,
    /// The circuit breaker now.
    pub breaker: BreakerState,
    /// Calls the open breaker rejected.
    pub breaker_rejections: u64,
    /// Breaker state changes so far.
    pub breaker_transitions: u64,
}

impl Stats {
    /// The count of errors of one kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n)
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "database {}", self.name)?;
        writeln!(
            f,
            "  calls {} (statements {}), errors {}, retries {}, slow {}",
            self.calls, self.statements, self.errors_total, self.retries, self.slow_queries
        )?;
        for (k, n) in &self.errors {
            writeln!(f, "    {}: {n}", k.as_str())?;
        }
        writeln!(
            f,
            "  latency p50 {:?}, p99 {:?}",
            self.latency_p50, self.latency_p99
        )?;
        writeln!(
            f,
            "  pool {}/{} open, {} in use, {} idle; {} checkouts, mean wait {:?}, {} acquire timeouts, {} leaks",
            self.pool.size,
            self.pool.max,
            self.pool.in_use,
            self.pool.idle,
            self.acquisitions,
            self.acquire_wait_mean,
            self.acquire_timeouts,
            self.leaks
        )?;
        writeln!(
            f,
            "  breaker {} ({} rejected, {} transitions)",
            self.breaker, self.breaker_rejections, self.breaker_transitions
        )?;
        write!(
            f,
            "  timeout rate {:.3}%: {}",
            self.timeout_rate * 100.0,
            self.advice
        )
    }
}

/// The answer of [`Db::health`](crate::Db::health).
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    /// True when a connection could be checked out and answered a round trip.
    pub healthy: bool,
    /// How long the checkout plus round trip took (also when it failed).
    pub latency: Duration,
    /// Why it failed, when it did (never contains secrets).
    pub error: Option<String>,
    /// The pool after the check.
    pub pool: PoolStatus,
    /// The circuit breaker after the check.
    pub breaker: BreakerState,
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} in {:?}; pool {}/{} open, {} in use; breaker {}",
            if self.healthy { "healthy" } else { "UNHEALTHY" },
            self.latency,
            self.pool.size,
            self.pool.max,
            self.pool.in_use,
            self.breaker
        )?;
        if let Some(e) = &self.error {
            write!(f, "; {e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles() {
        let h = Histogram::new();
        assert_eq!(h.quantile(0.5), Duration::ZERO);
        for _ in 0..98 {
            h.record(Duration::from_micros(100));
        }
        h.record(Duration::from_millis(50));
        h.record(Duration::from_millis(50));
        let p50 = h.quantile(0.5);
        assert!(
            p50 >= Duration::from_micros(100) && p50 < Duration::from_micros(120),
            "{p50:?}"
        );
        let p99 = h.quantile(0.99);
        assert!(
            p99 >= Duration::from_millis(50) && p99 < Duration::from_millis(60),
            "{p99:?}"
        );
    }

    #[test]
    fn error_kinds() {
        use crate::{Error, TimeoutKind};
        let t = |kind| Error::timeout(kind, kind, Duration::from_secs(1), Duration::from_secs(1));
        assert_eq!(
            ErrorKind::of(&t(TimeoutKind::Acquire)),
            ErrorKind::AcquireTimeout
        );
        assert_eq!(
            ErrorKind::of(&t(TimeoutKind::Query)),
            ErrorKind::QueryTimeout
        );
        assert!(ErrorKind::of(&t(TimeoutKind::Connect)).is_timeout());
        assert_eq!(ErrorKind::of(&Error::PoolClosed), ErrorKind::Other);
        for (i, k) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
        }
    }
}
