//! Before/after-execute hooks: code that sees every statement a [`Db`](crate::Db)
//! runs, registered with [`Db::add_hook`](crate::Db::add_hook) without touching
//! dal itself.
//!
//! A hook gets the statement as sent to the server with its literals masked
//! (values written into the SQL text show as `?`; bound parameters are never
//! shown), the attempt number, the transaction id, and afterwards the duration,
//! the rows and the error. Hooks run inline on the calling task: keep them
//! quick and never block.
//!
//! Two presets: [`TimingHook`] (per-statement counts and durations, for a
//! "top statements" page) and [`LogHook`] (one `tracing` event per statement,
//! literals masked).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use dal::hooks::{Hook, QueryInfo, QueryOutcome, TimingHook};
//!
//! let db = dal::Db::connect_url("sqlite::memory:").await?;
//! let timing = Arc::new(TimingHook::new());
//! db.add_hook(timing.clone());
//!
//! // a hand-written hook: count failures
//! struct Failures(std::sync::atomic::AtomicU64);
//! impl Hook for Failures {
//!     fn after(&self, _q: &QueryInfo<'_>, o: &QueryOutcome<'_>) {
//!         if o.error.is_some() {
//!             self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
//!         }
//!     }
//! }
//! let failures = Arc::new(Failures(Default::default()));
//! db.add_hook(failures.clone());
//!
//! db.execute("CREATE TABLE t (x INTEGER)", ()).await?;
//! db.execute("INSERT INTO t VALUES (?)", (1,)).await?;
//! db.execute("INSERT INTO t VALUES (?)", (2,)).await?;
//! assert!(db.execute("INSERT INTO nowhere VALUES (1)", ()).await.is_err());
//!
//! let top = timing.snapshot();
//! let insert = top.iter().find(|s| s.statement == "INSERT INTO t VALUES (?)").unwrap();
//! assert_eq!(insert.count, 2);
//! assert_eq!(failures.0.load(std::sync::atomic::Ordering::Relaxed), 1);
//! # Ok::<(), dal::Error>(()) }).unwrap();
//! ```

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::error::Error;

/// What a hook sees of a statement.
#[derive(Debug, Clone, Copy)]
pub struct QueryInfo<'a> {
    /// The database's configured name.
    pub db: &'a str,
    /// `postgresql`, `mysql` or `sqlite` (OpenTelemetry's `db.system`).
    pub system: &'static str,
    /// The SQL as sent, literals masked.
    pub statement: &'a str,
    /// `execute` (no rows), `fetch` (rows), `script` (several statements, no
    /// parameters) or `copy` (PostgreSQL COPY).
    pub operation: &'static str,
    /// Number of bound parameters.
    pub params: usize,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    /// The transaction the statement runs in, if any.
    pub transaction_id: Option<u64>,
}

/// How a statement ended.
#[derive(Debug, Clone, Copy)]
pub struct QueryOutcome<'a> {
    /// Wall time from before sending to the result.
    pub duration: Duration,
    /// Rows returned or affected, on success.
    pub rows: Option<u64>,
    /// The error, on failure.
    pub error: Option<&'a Error>,
}

/// Code run before and after every statement of a database.
pub trait Hook: Send + Sync + 'static {
    /// Called before the statement is sent.
    fn before(&self, _query: &QueryInfo<'_>) {}
    /// Called when the statement finished (or failed).
    fn after(&self, _query: &QueryInfo<'_>, _outcome: &QueryOutcome<'_>) {}
}

/// Figures [`TimingHook`] keeps for one statement text.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementTiming {
    /// The statement, literals masked.
    pub statement: String,
    /// Times it ran.
    pub count: u64,
    /// Times it failed.
    pub errors: u64,
    /// Total time.
    pub total: Duration,
    /// Slowest run.
    pub max: Duration,
}

impl StatementTiming {
    /// Mean time per run.
    pub fn mean(&self) -> Duration {
        if self.count == 0 {
            Duration::ZERO
        } else {
            self.total / self.count as u32
        }
    }
}

/// Preset: per-statement counts, errors, total and maximum time.
#[derive(Debug, Default)]
pub struct TimingHook {
    by_statement: Mutex<HashMap<String, StatementTiming>>,
}

impl TimingHook {
    /// An empty timing table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every statement seen, the most total time first.
    pub fn snapshot(&self) -> Vec<StatementTiming> {
        let map = self.by_statement.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<StatementTiming> = map.values().cloned().collect();
        v.sort_by_key(|t| std::cmp::Reverse(t.total));
        v
    }

    /// Forget everything recorded so far.
    pub fn reset(&self) {
        self.by_statement
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
}

impl Hook for TimingHook {
    fn after(&self, query: &QueryInfo<'_>, outcome: &QueryOutcome<'_>) {
        let mut map = self.by_statement.lock().unwrap_or_else(|p| p.into_inner());
        let entry = match map.get_mut(query.statement) {
            Some(e) => e,
            None => map
                .entry(query.statement.to_string())
                .or_insert_with(|| StatementTiming {
                    statement: query.statement.to_string(),
                    count: 0,
                    errors: 0,
                    total: Duration::ZERO,
                    max: Duration::ZERO,
                }),
        };
        entry.count += 1;
        entry.errors += u64::from(outcome.error.is_some());
        entry.total += outcome.duration;
        entry.max = entry.max.max(outcome.duration);
    }
}

/// Preset: one `tracing` event (target `dal::statements`, level INFO) per
/// finished statement with the masked SQL, duration, rows and error. Bound
/// parameter values are never logged, and literals in the text and quoted
/// values in error messages are masked ([`Error::redacted`]).
#[derive(Debug, Default, Clone, Copy)]
pub struct LogHook {
    errors_only: bool,
}

impl LogHook {
    /// Log every statement.
    pub fn new() -> Self {
        Self::default()
    }

    /// Log only the statements that failed.
    pub fn errors_only() -> Self {
        LogHook { errors_only: true }
    }
}

impl Hook for LogHook {
    fn after(&self, query: &QueryInfo<'_>, outcome: &QueryOutcome<'_>) {
        match outcome.error {
            Some(e) => tracing::info!(
                target: "dal::statements",
                db = query.db,
                statement = query.statement,
                attempt = query.attempt,
                duration_us = outcome.duration.as_micros() as u64,
                error = %e.redacted(),
                "statement failed"
            ),
            None if !self.errors_only => tracing::info!(
                target: "dal::statements",
                db = query.db,
                statement = query.statement,
                attempt = query.attempt,
                duration_us = outcome.duration.as_micros() as u64,
                rows = outcome.rows.unwrap_or(0),
                "statement"
            ),
            None => {}
        }
    }
}
