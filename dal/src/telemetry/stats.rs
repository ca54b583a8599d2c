//! In-process figures: what [`Db::stats`](crate::Db::stats) and
//! [`Db::health`](crate::Db::health) report.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::pool::status::PoolStatus;
use crate::resilience::breaker::BreakerState;

/// What the recent timeout rate says about capacity, and which fix it points
/// to (see [`Stats::advice`]).
///
/// The severity follows the seed design's table
/// ([`for_timeout_rate`](ScalingAdvice::for_timeout_rate)): under 0.1% of
/// calls timing out is normal, 0.1-1% asks to review the slow queries, 1-5%
/// to scale vertically, over 5% horizontally. From 1% on, [`Db::stats`](crate::Db::stats)
/// names the bottleneck from what dal measured in the same window, so the
/// advice can also be [`GrowPool`](ScalingAdvice::GrowPool) (the pool is the
/// limit, not the database) or stay at
/// [`ReviewSlowQueries`](ScalingAdvice::ReviewSlowQueries) (a few statements
/// run past their timeout while the rest run at their usual speed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ScalingAdvice {
    /// Under 0.1% of calls time out: normal.
    Normal,
    /// 0.1% to 1% of calls time out, or more but only some statements run
    /// long while the others keep their usual speed: look at the slow queries.
    ReviewSlowQueries,
    /// 1% or more of calls time out waiting for a pooled connection while
    /// statements run at their usual speed and the server has connections to
    /// spare: the pool is the bottleneck, not the database. Add app servers
    /// or enlarge the pool.
    GrowPool,
    /// 1% to 5% of calls time out and statements are slower than usual (or
    /// the pool already takes most of the server's connections): the database
    /// needs more resources (CPU, memory, IOPS, connections).
    ScaleVertically,
    /// Over 5% of calls time out and statements are slower than usual: one
    /// server is not enough; add replicas or shards.
    ScaleHorizontally,
}

impl ScalingAdvice {
    /// The seed design's table for a timeout rate (a fraction: 0.01 is 1%),
    /// without looking at the cause.
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
            ScalingAdvice::ReviewSlowQueries => {
                "calls time out on a few slow statements: review the slow queries"
            }
            ScalingAdvice::GrowPool => {
                "calls time out waiting for a pooled connection while the database keeps up: \
                 add app servers or enlarge the pool"
            }
            ScalingAdvice::ScaleVertically => {
                "1-5% of calls time out and the database is slower than usual: scale \
                 vertically (a bigger server)"
            }
            ScalingAdvice::ScaleHorizontally => {
                "over 5% of calls time out and the database is slower than usual: scale \
                 horizontally (replicas, shards)"
            }
        }
    }
}

impl std::fmt::Display for ScalingAdvice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// What dal measured over one recent window (see [`Stats::last_1m`]).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct WindowStats {
    /// The window's length (1, 5 or 15 minutes; less while the `Db` is
    /// younger than that).
    pub window: Duration,
    /// Calls that finished in the window.
    pub calls: u64,
    /// Of those, calls that ended in a timeout (any kind).
    pub timeouts: u64,
    /// Calls that ran out of time waiting for a free pooled connection.
    pub acquire_timeouts: u64,
    /// Calls whose statement ran out of its query timeout.
    pub query_timeouts: u64,
    /// Calls that ran out of time opening a connection.
    pub connect_timeouts: u64,
    /// `timeouts / calls` (0 without calls).
    pub timeout_rate: f64,
    /// Statements that succeeded in the window (internal ones included).
    pub statements: u64,
    /// Mean time those statements took (round trip included).
    pub statement_mean: Duration,
    /// Of those, the ones that took over twice the database's usual time
    /// (the median of statements run while the pool was not saturated).
    pub slow_statements: u64,
    /// Mean time a checkout waited for its connection.
    pub acquire_wait_mean: Duration,
}

impl WindowStats {
    pub(crate) fn from_sums(window: Duration, s: &super::window::Sums) -> WindowStats {
        let mean = |ns: u64, n: u64| Duration::from_nanos(ns.checked_div(n).unwrap_or(0));
        WindowStats {
            window,
            calls: s.calls,
            timeouts: s.timeouts,
            acquire_timeouts: s.acquire_timeouts,
            query_timeouts: s.query_timeouts,
            connect_timeouts: s.connect_timeouts,
            timeout_rate: if s.calls == 0 {
                0.0
            } else {
                s.timeouts as f64 / s.calls as f64
            },
            statements: s.statements,
            statement_mean: mean(s.statement_ns, s.statements),
            slow_statements: s.slow_statements,
            acquire_wait_mean: mean(s.acquire_wait_ns, s.acquisitions),
        }
    }
}

/// The signals behind [`Stats::advice`].
pub(crate) struct Signals {
    /// The window the advice reads.
    pub window: WindowStats,
    /// Median time of the statements that succeeded on connections checked
    /// out without waiting (the database's usual speed, learnt while the pool
    /// was not saturated).
    pub usual_statement: Option<Duration>,
    /// The pool's maximum size.
    pub pool_max: usize,
    /// The server's connection limit, when known.
    pub server_max_connections: Option<u64>,
}

/// How many times slower than usual statements must run for the database to
/// count as the bottleneck.
const SLOWER: u32 = 2;

/// Read the signals: the severity from the seed's table, the fix from where
/// the time went.
pub(crate) fn diagnose(s: &Signals) -> (ScalingAdvice, String) {
    let w = &s.window;
    let band = ScalingAdvice::for_timeout_rate(w.timeout_rate);
    let pct = w.timeout_rate * 100.0;
    let span = if w.window < Duration::from_secs(60) {
        format!("{} s", w.window.as_secs().max(1))
    } else {
        format!("{:.0} min", w.window.as_secs_f64() / 60.0)
    };
    let head = format!(
        "{pct:.2}% of {} calls timed out in the last {span}",
        w.calls
    );
    match band {
        ScalingAdvice::Normal => return (band, head),
        ScalingAdvice::ReviewSlowQueries => {
            return (
                band,
                format!(
                    "{head}: review the slow queries (statements over their timeout: {}, checkouts over theirs: {})",
                    w.query_timeouts, w.acquire_timeouts
                ),
            );
        }
        _ => {}
    }
    // most statements of the window took over twice their usual time: the
    // window's median is past it
    let slower = w.statements > 0 && w.slow_statements * 2 > w.statements;
    let speed = match s.usual_statement {
        Some(usual) => format!(
            "{} of {} statements took over {SLOWER}x the usual {:?}",
            w.slow_statements, w.statements, usual
        ),
        None => format!("statements take {:?} on average", w.statement_mean),
    };
    let waits_dominate = w.acquire_timeouts * 2 >= w.timeouts;
    if slower || w.connect_timeouts * 2 > w.timeouts {
        return (
            band,
            format!("{head}; the database is the bottleneck ({speed}): {band}"),
        );
    }
    if !waits_dominate {
        return (
            ScalingAdvice::ReviewSlowQueries,
            format!(
                "{head}, most on statements over their timeout while the others keep their usual speed ({speed}): review the slow queries"
            ),
        );
    }
    // the pool is saturated and the database keeps its speed
    match s.server_max_connections {
        Some(max) if (s.pool_max as u64) * 5 >= max * 4 => (
            ScalingAdvice::ScaleVertically,
            format!(
                "{head} waiting for a pooled connection ({:?} mean wait; {speed}), but this pool \
                 already takes {} of the server's {max} connections: raise the server's \
                 connection limit (a bigger server) or put a connection pooler in front",
                w.acquire_wait_mean, s.pool_max
            ),
        ),
        max => (
            ScalingAdvice::GrowPool,
            format!(
                "{head} waiting for a pooled connection ({:?} mean wait; {speed}): the pool \
                 ({} connections{}) is the bottleneck, not the database: add app servers or \
                 enlarge the pool",
                w.acquire_wait_mean,
                s.pool_max,
                max.map(|m| format!(" of the server's {m}"))
                    .unwrap_or_default()
            ),
        ),
    }
}

/// Latency buckets: powers of 2^(1/16) from 1 µs (each about 4.4% wide, so a
/// quantile read at a bucket's middle is within ±2.2%) up to about 2.4 hours.
const STEPS_PER_OCTAVE: f64 = 16.0;
const BUCKETS: usize = 16 * 33;

/// A lock-free latency histogram (log buckets).
pub(crate) struct Histogram {
    counts: Box<[AtomicU64]>,
    /// Sum of everything recorded (ns), for the mean (tests only).
    #[cfg(test)]
    sum_ns: AtomicU64,
}

impl Histogram {
    pub(crate) fn new() -> Histogram {
        Histogram {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            #[cfg(test)]
            sum_ns: AtomicU64::new(0),
        }
    }

    /// The bucket of `d`.
    pub(crate) fn index(d: Duration) -> usize {
        let us = d.as_secs_f64() * 1e6;
        if us <= 1.0 {
            return 0;
        }
        ((us.log2() * STEPS_PER_OCTAVE).ceil() as usize).min(BUCKETS - 1)
    }

    /// The middle (geometric) of bucket `i`.
    fn middle(i: usize) -> Duration {
        if i == 0 {
            return Duration::from_micros(1);
        }
        Duration::from_secs_f64(2f64.powf((i as f64 - 0.5) / STEPS_PER_OCTAVE) / 1e6)
    }

    pub(crate) fn record(&self, d: Duration) {
        self.record_at(Self::index(d), d);
    }

    /// Record `d`, whose bucket (`index(d)`) is known.
    pub(crate) fn record_at(&self, index: usize, d: Duration) {
        self.counts[index].fetch_add(1, Ordering::Relaxed);
        #[cfg(test)]
        self.sum_ns
            .fetch_add(d.as_nanos() as u64, Ordering::Relaxed);
        let _ = d;
    }

    /// How many values were recorded.
    #[cfg(test)]
    pub(crate) fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// The mean of what was recorded (`None` when empty).
    #[cfg(test)]
    pub(crate) fn mean(&self) -> Option<Duration> {
        let n = self.count();
        (n > 0).then(|| Duration::from_nanos(self.sum_ns.load(Ordering::Relaxed) / n))
    }

    /// The `q` quantile (0..=1), as the middle of its bucket; zero when empty.
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
                return Self::middle(i);
            }
        }
        Self::middle(BUCKETS - 1)
    }
}

/// Errors counted by kind (the `kind` label of `dal_errors_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
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
    pub fn of(e: &crate::error::Error) -> ErrorKind {
        use crate::error::{Error, TimeoutKind};
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

/// A snapshot of one database's figures (see [`Db::stats`](crate::Db::stats)).
///
/// Counts marked "since opened" are totals since the `Db` was created; the
/// timeout rate and the advice read a recent window (see
/// [`advice_window`](Stats::advice_window)), so they follow the load as it is
/// now rather than averaged over the process's life.
///
/// A **call** is one operation of the API as the application sees it: one
/// `execute`, `fetch_*`, `query(..)` run or script on the `Db`, one statement
/// (or `commit`, `rollback`) of a [`Transaction`](crate::Transaction), one
/// entity operation (`save`, `get`, `find().all()`, `delete`, ...), one
/// `begin`. Its retries, the checkouts and the several statements it may
/// send are part of the one call.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// The database's configured name.
    pub name: String,
    /// Calls finished since opened (the denominator of the timeout rates).
    pub calls: u64,
    /// Statements sent to the server since opened (every attempt, internal
    /// ones such as `BEGIN` and history inserts included).
    pub statements: u64,
    /// Errors since opened, by kind (kinds with no errors are left out):
    /// every failed statement and failed checkout, retried ones included.
    pub errors: Vec<(ErrorKind, u64)>,
    /// Errors since opened, in total.
    pub errors_total: u64,
    /// Calls that ended in a timeout of any kind since opened.
    pub timeouts: u64,
    /// Calls that ran out of time waiting for a pooled connection since opened.
    pub acquire_timeouts: u64,
    /// Calls whose statement ran out of its query timeout since opened.
    pub query_timeouts: u64,
    /// The timeout rate the advice reads: `timeouts / calls` over
    /// [`advice_window`](Stats::advice_window).
    pub timeout_rate: f64,
    /// `timeouts / calls` since opened.
    pub timeout_rate_total: f64,
    /// The window the advice reads: the shortest of the last 1, 5 and 15
    /// minutes holding at least 1,000 calls (enough to tell 0.1% apart), or
    /// the 15-minute window when none does.
    pub advice_window: Duration,
    /// What the recent timeouts say, and the fix they point to.
    pub advice: ScalingAdvice,
    /// The advice in a sentence, with the figures it is based on.
    pub advice_detail: String,
    /// The last minute.
    pub last_1m: WindowStats,
    /// The last 5 minutes.
    pub last_5m: WindowStats,
    /// The last 15 minutes.
    pub last_15m: WindowStats,
    /// Retries made since opened (reads, failed checkouts, transactions).
    pub retries: u64,
    /// Statements slower than the slow-query threshold since opened.
    pub slow_queries: u64,
    /// N+1 patterns the detector reported since opened (see
    /// [`DatabaseConfigBuilder::n_plus_one_threshold`](crate::DatabaseConfigBuilder::n_plus_one_threshold)).
    pub n_plus_one: u64,
    /// Median statement latency (on the server, round trip included) since
    /// opened; about ±2% (log buckets).
    pub latency_p50: Duration,
    /// 99th-percentile statement latency since opened.
    pub latency_p99: Duration,
    /// Median end-to-end call latency since opened: what callers waited,
    /// from the call to its result or error (checkout, retries and every
    /// statement of the call included).
    pub call_latency_p50: Duration,
    /// 99th-percentile end-to-end call latency since opened.
    pub call_latency_p99: Duration,
    /// Successful connection checkouts since opened.
    pub acquisitions: u64,
    /// Mean time a checkout waited for a free connection (over all checkouts
    /// since opened).
    pub acquire_wait_mean: Duration,
    /// Connections held longer than the leak-detection threshold (reported once each).
    pub leaks: u64,
    /// The pool now.
    pub pool: PoolStatus,
    /// The server's connection limit (`max_connections`), read when the
    /// first connection opened; `None` for SQLite or before any connection.
    pub server_max_connections: Option<u64>,
    /// The circuit breaker now.
    pub breaker: BreakerState,
    /// Calls the open breaker rejected since opened.
    pub breaker_rejections: u64,
    /// Breaker state changes since opened.
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
            "  calls {} (statements {}), errors {}, retries {}, slow {}, n+1 {}",
            self.calls,
            self.statements,
            self.errors_total,
            self.retries,
            self.slow_queries,
            self.n_plus_one
        )?;
        for (k, n) in &self.errors {
            writeln!(f, "    {}: {n}", k.as_str())?;
        }
        writeln!(
            f,
            "  latency: statements p50 {:?}, p99 {:?}; calls (end to end) p50 {:?}, p99 {:?}",
            self.latency_p50, self.latency_p99, self.call_latency_p50, self.call_latency_p99
        )?;
        writeln!(
            f,
            "  pool {}/{} open{}, {} in use, {} idle; {} checkouts, mean wait {:?}, {} acquire timeouts, {} leaks",
            self.pool.size,
            self.pool.max,
            self.server_max_connections
                .map(|m| format!(" (server limit {m})"))
                .unwrap_or_default(),
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
        writeln!(
            f,
            "  timeout rate 1 min {:.3}%, 5 min {:.3}%, 15 min {:.3}%, since opened {:.3}%",
            self.last_1m.timeout_rate * 100.0,
            self.last_5m.timeout_rate * 100.0,
            self.last_15m.timeout_rate * 100.0,
            self.timeout_rate_total * 100.0
        )?;
        write!(f, "  advice: {}", self.advice_detail)
    }
}

/// The answer of [`Db::health`](crate::Db::health). Serializes (durations as
/// `{secs, nanos}`) for a health endpoint's body.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
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
            p50 >= Duration::from_micros(98) && p50 <= Duration::from_micros(102),
            "{p50:?}"
        );
        let p99 = h.quantile(0.99);
        assert!(
            p99 >= Duration::from_micros(48_900) && p99 <= Duration::from_micros(51_100),
            "{p99:?}"
        );
        assert_eq!(h.count(), 100);
        let mean = h.mean().unwrap();
        assert!(
            mean > Duration::from_micros(1097) && mean < Duration::from_micros(1099),
            "{mean:?}"
        );
        // every value reads back within ±2.2% at its bucket's middle
        for us in [3u64, 17, 250, 1_000, 99_999, 1_234_567, 60_000_000] {
            let h = Histogram::new();
            let d = Duration::from_micros(us);
            h.record(d);
            let q = h.quantile(0.5).as_secs_f64();
            let err = (q - d.as_secs_f64()).abs() / d.as_secs_f64();
            assert!(err <= 0.023, "{us} µs read as {q} s");
        }
    }

    #[test]
    fn error_kinds() {
        use crate::error::{Error, TimeoutKind};
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

#[cfg(test)]
mod diagnosis_tests {
    use super::*;

    fn signals(
        calls: u64,
        acquire_timeouts: u64,
        query_timeouts: u64,
        statement_ms: u64,
        usual_ms: Option<u64>,
        pool_max: usize,
        server_max: Option<u64>,
    ) -> Signals {
        let timeouts = acquire_timeouts + query_timeouts;
        Signals {
            window: WindowStats {
                window: Duration::from_secs(60),
                calls,
                timeouts,
                acquire_timeouts,
                query_timeouts,
                connect_timeouts: 0,
                timeout_rate: timeouts as f64 / calls as f64,
                statements: calls,
                statement_mean: Duration::from_millis(statement_ms),
                slow_statements: match usual_ms {
                    Some(u) if statement_ms > 2 * u => calls,
                    _ => 0,
                },
                acquire_wait_mean: Duration::from_millis(900),
            },
            usual_statement: usual_ms.map(Duration::from_millis),
            pool_max,
            server_max_connections: server_max,
        }
    }

    #[test]
    fn the_band_comes_from_the_seed_table() {
        let (a, why) = diagnose(&signals(10_000, 0, 0, 100, Some(100), 20, Some(100)));
        assert_eq!(a, ScalingAdvice::Normal, "{why}");
        let (a, _) = diagnose(&signals(10_000, 9, 0, 100, Some(100), 20, Some(100)));
        assert_eq!(a, ScalingAdvice::Normal);
        let (a, why) = diagnose(&signals(10_000, 50, 0, 100, Some(100), 20, Some(100)));
        assert_eq!(a, ScalingAdvice::ReviewSlowQueries, "{why}");
        assert!(
            why.starts_with("0.50% of 10000 calls timed out in the last 1 min"),
            "{why}"
        );
    }

    #[test]
    fn a_full_pool_in_front_of_an_idle_database_asks_for_a_bigger_pool() {
        // 1.3% of calls time out waiting for a connection, statements at their usual speed
        let (a, why) = diagnose(&signals(10_000, 130, 0, 100, Some(100), 20, Some(100)));
        assert_eq!(a, ScalingAdvice::GrowPool, "{why}");
        assert!(why.contains("20 connections of the server's 100"), "{why}");
        // the same at 8%: still the pool, not the database
        let (a, _) = diagnose(&signals(10_000, 800, 0, 105, Some(100), 20, None));
        assert_eq!(a, ScalingAdvice::GrowPool);
        // but a pool that already takes most of the server's connections cannot grow
        let (a, why) = diagnose(&signals(10_000, 130, 0, 100, Some(100), 90, Some(100)));
        assert_eq!(a, ScalingAdvice::ScaleVertically, "{why}");
        assert!(why.contains("90 of the server's 100"), "{why}");
    }

    #[test]
    fn slower_statements_point_at_the_database() {
        let (a, why) = diagnose(&signals(10_000, 200, 100, 450, Some(100), 20, Some(100)));
        assert_eq!(a, ScalingAdvice::ScaleVertically, "{why}");
        assert!(why.contains("the database is the bottleneck"), "{why}");
        let (a, _) = diagnose(&signals(10_000, 900, 100, 450, Some(100), 20, Some(100)));
        assert_eq!(a, ScalingAdvice::ScaleHorizontally);
    }

    #[test]
    fn a_few_statements_over_their_timeout_are_slow_queries() {
        let (a, why) = diagnose(&signals(10_000, 0, 300, 110, Some(100), 20, Some(100)));
        assert_eq!(a, ScalingAdvice::ReviewSlowQueries, "{why}");
        // with no usual speed known yet, query timeouts still read as slow queries
        let (a, _) = diagnose(&signals(10_000, 0, 300, 110, None, 20, Some(100)));
        assert_eq!(a, ScalingAdvice::ReviewSlowQueries);
    }
}
