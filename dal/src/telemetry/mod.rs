//! Per-database observability: the statement span, the metrics handles
//! (registered once per `Db`), the in-process counters behind `Db::stats` and
//! the hooks.
//!
//! Telemetry only observes. The retry policy, the retry loops and the circuit
//! breaker live in [`crate::resilience`]; telemetry hears of their retries and
//! state changes through [`RetryObserver`] and [`BreakerObserver`] and logs and
//! counts them. A statement's outcome, observed here, is passed on to the
//! breaker of the database (which decides what it means).
//!
//! Everything on the per-statement path is an atomic add, two clock reads and,
//! when a subscriber wants DEBUG spans for `dal`, a span.

pub(crate) mod nplusone;
pub(crate) mod stats;
pub(crate) mod window;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram as MHistogram};

use crate::config::DatabaseConfig;
use crate::error::Error;
use crate::hooks::{Hook, QueryInfo, QueryOutcome};
use crate::pool::status::PoolStatus;
use crate::resilience::Resilience;
use crate::resilience::breaker::{BreakerObserver, BreakerState, Outcome, Transition};
use crate::resilience::retry::{RetryKind, RetryObserver};
use crate::statement::Statement;
use stats::{ErrorKind, Histogram, Stats};

/// The kind of call, for spans and hooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Execute,
    Fetch,
    Script,
    Copy,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Execute => "execute",
            Op::Fetch => "fetch",
            Op::Script => "script",
            Op::Copy => "copy",
        }
    }
}

struct Handles {
    statements: Counter,
    duration: MHistogram,
    errors: [Counter; ErrorKind::ALL.len()],
    retries: [Counter; 3],
    slow: Counter,
    n_plus_one: Counter,
    breaker_state: Gauge,
    breaker_rejections: Counter,
    breaker_opened: Counter,
    breaker_closed: Counter,
    breaker_half_open: Counter,
    pool_size: Gauge,
    pool_idle: Gauge,
    pool_in_use: Gauge,
    acquire_wait: MHistogram,
}

impl Handles {
    fn new(name: &str) -> Handles {
        let db = name.to_string();
        let counter = |n: &'static str| metrics::counter!(n, "db" => db.clone());
        let gauge = |n: &'static str| metrics::gauge!(n, "db" => db.clone());
        Handles {
            statements: counter("dal_queries_total"),
            duration: metrics::histogram!("dal_query_duration_seconds", "db" => db.clone()),
            errors: ErrorKind::ALL.map(
                |k| metrics::counter!("dal_errors_total", "db" => db.clone(), "kind" => k.as_str()),
            ),
            retries: RetryKind::ALL.map(|k| {
                metrics::counter!("dal_retries_total", "db" => db.clone(), "kind" => k.as_str())
            }),
            slow: counter("dal_slow_queries_total"),
            n_plus_one: counter("dal_n_plus_one_total"),
            breaker_state: gauge("dal_breaker_state"),
            breaker_rejections: counter("dal_breaker_rejections_total"),
            breaker_opened: metrics::counter!("dal_breaker_transitions_total", "db" => db.clone(), "to" => "open"),
            breaker_closed: metrics::counter!("dal_breaker_transitions_total", "db" => db.clone(), "to" => "closed"),
            breaker_half_open: metrics::counter!("dal_breaker_transitions_total", "db" => db.clone(), "to" => "half_open"),
            pool_size: gauge("dal_pool_size"),
            pool_idle: gauge("dal_pool_idle"),
            pool_in_use: gauge("dal_pool_in_use"),
            acquire_wait: metrics::histogram!("dal_pool_acquire_wait_seconds", "db" => db.clone()),
        }
    }
}

#[derive(Default)]
struct Counters {
    statements: AtomicU64,
    /// Calls finished (see `Stats::calls`).
    calls: AtomicU64,
    /// Calls that ended in a timeout, by kind.
    call_timeouts: AtomicU64,
    call_acquire_timeouts: AtomicU64,
    call_query_timeouts: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    retries: AtomicU64,
    slow: AtomicU64,
    n_plus_one: AtomicU64,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("name", &self.name)
            .finish()
    }
}

/// Per-database telemetry and resilience state (one per `Db`, shared by its clones).
pub(crate) struct Telemetry {
    pub(crate) name: String,
    system: &'static str,
    dialect: dal_schema::Dialect,
    slow_threshold: Duration,
    /// `log_parameters`: logs show the SQL with its literals instead of `?`.
    pub(crate) show_literals: bool,
    /// The database's retry policy and breaker: the breaker hears the
    /// outcome of every statement, and its state is reported in gauges and
    /// `stats()`.
    resilience: Arc<Resilience>,
    /// The read cache, told of every statement that writes (it sees them
    /// all here, whatever API sent them).
    pub(crate) cache: Option<Arc<crate::cache::Cache>>,
    counters: Counters,
    /// Statement latency.
    latency: Histogram,
    /// Latency of the statements that succeeded on connections checked out
    /// without waiting: the database's usual speed.
    uncontended: Histogram,
    /// End-to-end call latency.
    call_latency: Histogram,
    /// Recent figures.
    windows: window::Windows,
    /// The N+1 detector.
    n_plus_one: nplusone::Detector,
    /// The median of `uncontended` (ns; 0 = not known yet), refreshed every
    /// 64 recordings: statements over twice this count as slow.
    usual_ns: AtomicU64,
    /// Recordings into `uncontended`.
    uncontended_n: AtomicU64,
    m: Handles,
    hooks: RwLock<Arc<[Arc<dyn Hook>]>>,
    has_hooks: AtomicBool,
}

/// A statement in flight.
pub(crate) struct Probe {
    start: Instant,
    pub(crate) span: tracing::Span,
    /// The connection was checked out without waiting (its statements show
    /// the database's usual speed).
    pub(crate) uncontended: bool,
}

/// Per-call context recorded with a statement.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CallContext {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The transaction, if any (0 = none).
    pub tx_id: u64,
}

impl Telemetry {
    pub(crate) fn new(
        config: &DatabaseConfig,
        resilience: Arc<Resilience>,
        cache: Option<Arc<crate::cache::Cache>>,
    ) -> Telemetry {
        let name = config.name().to_string();
        Telemetry {
            system: config.dialect().capabilities().otel_system,
            dialect: config.dialect(),
            slow_threshold: config.slow_query_threshold(),
            show_literals: config.log_parameters(),
            resilience,
            cache,
            counters: Counters::default(),
            latency: Histogram::new(),
            uncontended: Histogram::new(),
            call_latency: Histogram::new(),
            windows: window::Windows::new(),
            n_plus_one: nplusone::Detector::new(config.n_plus_one_threshold()),
            usual_ns: AtomicU64::new(0),
            uncontended_n: AtomicU64::new(0),
            m: Handles::new(&name),
            hooks: RwLock::new(Arc::from(Vec::new())),
            has_hooks: AtomicBool::new(false),
            name,
        }
    }

    pub(crate) fn add_hook(&self, hook: Arc<dyn Hook>) {
        let mut hooks = self.hooks.write().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<Arc<dyn Hook>> = hooks.iter().cloned().collect();
        v.push(hook);
        *hooks = Arc::from(v);
        self.has_hooks.store(true, Ordering::Release);
    }

    fn hooks(&self) -> Option<Arc<[Arc<dyn Hook>]>> {
        if !self.has_hooks.load(Ordering::Acquire) {
            return None;
        }
        Some(self.hooks.read().unwrap_or_else(|p| p.into_inner()).clone())
    }

    fn info<'a>(
        &'a self,
        statement: &'a str,
        op: Op,
        params: usize,
        ctx: CallContext,
    ) -> QueryInfo<'a> {
        QueryInfo {
            db: &self.name,
            system: self.system,
            statement,
            operation: op.as_str(),
            params,
            attempt: ctx.attempt.max(1),
            transaction_id: (ctx.tx_id != 0).then_some(ctx.tx_id),
        }
    }

    /// The statement as logs and hooks show it: literals masked unless
    /// `log_parameters` is on.
    fn text_of(&self, stmt: &Statement) -> Arc<str> {
        if self.show_literals {
            stmt.sql.clone()
        } else {
            stmt.masked().clone()
        }
    }

    /// An error as logs show it: quoted values masked unless `log_parameters`
    /// is on.
    fn loggable(&self, e: &Error) -> String {
        if self.show_literals {
            e.to_string()
        } else {
            e.redacted()
        }
    }

    /// Before a statement: open its span and run the before-hooks.
    pub(crate) fn begin(&self, stmt: &Statement, op: Op, ctx: CallContext) -> Probe {
        self.begin_text(|| self.text_of(stmt), stmt.param_count, op, ctx)
    }

    /// [`begin`](Self::begin) for SQL that is not a cached statement (scripts, COPY).
    pub(crate) fn begin_text(
        &self,
        masked: impl Fn() -> Arc<str>,
        params: usize,
        op: Op,
        ctx: CallContext,
    ) -> Probe {
        let span = tracing::debug_span!(
            target: "dal::query",
            "db.query",
            otel.kind = "client",
            db.system = self.system,
            db.name = %self.name,
            db.operation = op.as_str(),
            db.statement = %masked(),
            dal.attempt = ctx.attempt.max(1),
            dal.transaction_id = ctx.tx_id,
            db.rows = tracing::field::Empty,
            duration_us = tracing::field::Empty,
            error = tracing::field::Empty,
        );
        if let Some(hooks) = self.hooks() {
            let text = masked();
            let info = self.info(&text, op, params, ctx);
            for h in hooks.iter() {
                h.before(&info);
            }
        }
        Probe {
            start: Instant::now(),
            span,
            uncontended: false,
        }
    }

    /// After a statement: count it, time it, tell the breaker, warn when slow,
    /// close the span and run the after-hooks.
    pub(crate) fn end<T>(
        &self,
        probe: Probe,
        stmt: &Statement,
        op: Op,
        ctx: CallContext,
        result: &Result<T, Error>,
        rows: Option<u64>,
    ) {
        if let Some(cache) = &self.cache
            && !stmt.is_read
        {
            cache.wrote(stmt.touched(), ctx.tx_id);
        }
        self.end_text(
            probe,
            || self.text_of(stmt),
            stmt.param_count,
            op,
            ctx,
            result,
            rows,
        )
    }

    /// Tell the read cache that `sql` (not a cached statement: a script,
    /// COPY; in the dialect's own syntax) ran, in transaction `tx` (0: none).
    pub(crate) fn wrote_text(&self, sql: &str, tx: u64) {
        if let Some(cache) = &self.cache {
            cache.wrote(&crate::statement::touched(sql, self.dialect), tx);
        }
    }

    /// [`end`](Self::end) for SQL that is not a cached statement.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn end_text<T>(
        &self,
        probe: Probe,
        masked: impl Fn() -> Arc<str>,
        params: usize,
        op: Op,
        ctx: CallContext,
        result: &Result<T, Error>,
        rows: Option<u64>,
    ) {
        let end = Instant::now();
        let elapsed = end.saturating_duration_since(probe.start);
        self.counters.statements.fetch_add(1, Ordering::Relaxed);
        self.m.statements.increment(1);
        self.m.duration.record(elapsed.as_secs_f64());
        let bucket = Histogram::index(elapsed);
        self.latency.record_at(bucket, elapsed);
        if result.is_ok() {
            if probe.uncontended {
                self.uncontended.record_at(bucket, elapsed);
                if self
                    .uncontended_n
                    .fetch_add(1, Ordering::Relaxed)
                    .is_multiple_of(64)
                {
                    let usual = self.uncontended.quantile(0.5).as_nanos() as u64;
                    self.usual_ns.store(usual, Ordering::Relaxed);
                }
            }
            let usual = self.usual_ns.load(Ordering::Relaxed);
            let slow = usual > 0 && elapsed.as_nanos() as u64 > usual.saturating_mul(2);
            self.windows.statement(end, elapsed, slow);
        }
        if let Err(e) = result {
            self.count_error(e);
        }
        // observed here, decided by the breaker
        self.resilience.record(Outcome::of(result), self);
        if elapsed >= self.slow_threshold && !self.slow_threshold.is_zero() {
            self.counters.slow.fetch_add(1, Ordering::Relaxed);
            self.m.slow.increment(1);
            tracing::warn!(
                target: "dal::slow",
                db = %self.name,
                statement = %masked(),
                duration_ms = elapsed.as_millis() as u64,
                threshold_ms = self.slow_threshold.as_millis() as u64,
                "slow query"
            );
        }
        if !probe.span.is_disabled() {
            probe.span.record("duration_us", elapsed.as_micros() as u64);
            match result {
                Ok(_) => {
                    if let Some(r) = rows {
                        probe.span.record("db.rows", r);
                    }
                }
                Err(e) => {
                    probe
                        .span
                        .record("error", tracing::field::display(self.loggable(e)));
                }
            }
        }
        if let Some(hooks) = self.hooks() {
            let text = masked();
            let info = self.info(&text, op, params, ctx);
            let outcome = QueryOutcome {
                duration: elapsed,
                rows: if result.is_ok() { rows } else { None },
                error: result.as_ref().err(),
            };
            for h in hooks.iter() {
                h.after(&info, &outcome);
            }
        }
    }

    /// Count an error by kind.
    pub(crate) fn count_error(&self, e: &Error) {
        let k = ErrorKind::of(e);
        self.counters.errors[k.index()].fetch_add(1, Ordering::Relaxed);
        self.m.errors[k.index()].increment(1);
    }

    /// A call that started at `start` finished with `result`: one call
    /// (whatever its retries and statements), its end-to-end latency, and
    /// whether it ended in a timeout (see `Stats::calls`).
    pub(crate) fn call_done<T>(&self, start: Instant, result: &Result<T, Error>) {
        self.call_ended(start, result.as_ref().err())
    }

    /// [`call_done`](Self::call_done) with the call's error, if any.
    pub(crate) fn call_ended(&self, start: Instant, error: Option<&Error>) {
        use crate::error::TimeoutKind;
        use window::CallOutcome;
        let c = &self.counters;
        c.calls.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        self.call_latency
            .record(now.saturating_duration_since(start));
        let outcome = match error {
            Some(Error::Timeout { kind, .. }) => {
                c.call_timeouts.fetch_add(1, Ordering::Relaxed);
                match kind {
                    TimeoutKind::Acquire => {
                        c.call_acquire_timeouts.fetch_add(1, Ordering::Relaxed);
                        CallOutcome::AcquireTimeout
                    }
                    TimeoutKind::Query => {
                        c.call_query_timeouts.fetch_add(1, Ordering::Relaxed);
                        CallOutcome::QueryTimeout
                    }
                    TimeoutKind::Connect | TimeoutKind::PoolCreation => CallOutcome::ConnectTimeout,
                }
            }
            _ => CallOutcome::Done,
        };
        self.windows.call(now, outcome);
    }

    /// A relation of one row is loaded lazily (see `nplusone`): warn on
    /// `dal::n_plus_one` and count when it looks like an N+1.
    pub(crate) fn lazy_load(
        &self,
        table: &'static str,
        relation: &'static str,
        site: &'static std::panic::Location<'static>,
        parent: u64,
    ) {
        if let Some(f) = self.n_plus_one.record(table, relation, site, parent) {
            self.counters.n_plus_one.fetch_add(1, Ordering::Relaxed);
            self.m.n_plus_one.increment(1);
            tracing::warn!(
                target: "dal::n_plus_one",
                db = %self.name,
                relation = %format_args!("{}.{}", f.table, f.relation),
                parents = f.parents,
                call_site = %f.site,
                "N+1 queries: `{}.{}` loaded lazily for {} different rows from {} within a second; load it eagerly with `.with(..)` or for all rows at once with `load_for`",
                f.table,
                f.relation,
                f.parents,
                f.site
            );
        }
    }

    /// Record a checkout's wait for a free connection.
    pub(crate) fn acquire_waited(&self, wait: Duration) {
        self.m.acquire_wait.record(wait.as_secs_f64());
        if !wait.is_zero() {
            self.windows.acquired(Instant::now(), wait);
        } else {
            self.windows.acquired_at_once();
        }
    }

    /// Publish the size, idle and in-use gauges (on every checkout and
    /// return).
    pub(crate) fn pool_use_gauges(&self, s: PoolStatus) {
        self.m.pool_size.set(s.size as f64);
        self.m.pool_idle.set(s.idle as f64);
        self.m.pool_in_use.set(s.in_use as f64);
    }

    /// Publish the pool gauges and the breaker state (when a connection
    /// opens or closes, and on the pool's upkeep tick).
    pub(crate) fn pool_gauges(&self, s: PoolStatus) {
        self.m.pool_size.set(s.size as f64);
        self.m.pool_idle.set(s.idle as f64);
        self.m.pool_in_use.set(s.in_use as f64);
        self.m
            .breaker_state
            .set(self.resilience.breaker.state().gauge_value());
    }

    pub(crate) fn stats(
        &self,
        pool: PoolStatus,
        pool_counters: &crate::pool::status::PoolCounters,
        server_max: Option<u64>,
    ) -> Stats {
        let c = &self.counters;
        let errors: Vec<(ErrorKind, u64)> = ErrorKind::ALL
            .iter()
            .map(|k| (*k, c.errors[k.index()].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect();
        let errors_total = errors.iter().map(|(_, n)| n).sum();
        let statements = c.statements.load(Ordering::Relaxed);
        let calls = c.calls.load(Ordering::Relaxed);
        let timeouts = c.call_timeouts.load(Ordering::Relaxed);
        let timeout_rate_total = if calls == 0 {
            0.0
        } else {
            timeouts as f64 / calls as f64
        };
        let acquisitions = pool_counters.acquisitions.load(Ordering::Relaxed);
        let waited = pool_counters.acquire_wait_ns.load(Ordering::Relaxed);
        let age = self.windows.age();
        let window = |minutes: u64| {
            let w = Duration::from_secs(minutes * 60);
            stats::WindowStats::from_sums(w.min(age), &self.windows.sums(w))
        };
        let (last_1m, last_5m, last_15m) = (window(1), window(5), window(15));
        let advice_window = [last_1m, last_5m]
            .into_iter()
            .find(|w| w.calls >= 1000)
            .unwrap_or(last_15m);
        let (advice, advice_detail) = stats::diagnose(&stats::Signals {
            window: advice_window,
            usual_statement: (self.uncontended_n.load(Ordering::Relaxed) > 0)
                .then(|| self.uncontended.quantile(0.5)),
            pool_max: pool.max,
            server_max_connections: server_max,
        });
        Stats {
            name: self.name.clone(),
            calls,
            statements,
            errors,
            errors_total,
            timeouts,
            acquire_timeouts: c.call_acquire_timeouts.load(Ordering::Relaxed),
            query_timeouts: c.call_query_timeouts.load(Ordering::Relaxed),
            timeout_rate: advice_window.timeout_rate,
            timeout_rate_total,
            advice_window: advice_window.window,
            advice,
            advice_detail,
            last_1m,
            last_5m,
            last_15m,
            retries: c.retries.load(Ordering::Relaxed),
            slow_queries: c.slow.load(Ordering::Relaxed),
            n_plus_one: c.n_plus_one.load(Ordering::Relaxed),
            latency_p50: self.latency.quantile(0.5),
            latency_p99: self.latency.quantile(0.99),
            call_latency_p50: self.call_latency.quantile(0.5),
            call_latency_p99: self.call_latency.quantile(0.99),
            acquisitions,
            acquire_wait_mean: Duration::from_nanos(waited.checked_div(acquisitions).unwrap_or(0)),
            leaks: pool_counters.leaks.load(Ordering::Relaxed),
            pool,
            server_max_connections: server_max,
            breaker: self.resilience.breaker.state(),
            breaker_rejections: self.resilience.breaker.rejected.load(Ordering::Relaxed),
            breaker_transitions: self.resilience.breaker.transitions.load(Ordering::Relaxed),
        }
    }
}

impl BreakerObserver for Telemetry {
    /// Log and count a state change of the breaker.
    fn transitioned(&self, t: Transition) {
        self.m.breaker_state.set(t.to.gauge_value());
        match t.to {
            BreakerState::Open => {
                self.m.breaker_opened.increment(1);
                tracing::warn!(
                    target: "dal::breaker",
                    db = %self.name,
                    from = t.from.as_str(),
                    "circuit breaker opened: calls fail fast until the database answers again"
                );
            }
            BreakerState::HalfOpen => {
                self.m.breaker_half_open.increment(1);
                tracing::info!(target: "dal::breaker", db = %self.name, "circuit breaker half-open: trial calls let through");
            }
            BreakerState::Closed => {
                self.m.breaker_closed.increment(1);
                tracing::info!(target: "dal::breaker", db = %self.name, "circuit breaker closed: the database answers again");
            }
            BreakerState::Disabled => {}
        }
    }

    /// Count a call the open circuit turned away.
    fn rejected(&self) {
        self.m.breaker_rejections.increment(1);
    }
}

impl RetryObserver for Telemetry {
    /// Log and count a retry.
    fn retried(&self, kind: RetryKind, attempt: u32, delay: Duration, cause: &Error) {
        self.counters.retries.fetch_add(1, Ordering::Relaxed);
        self.m.retries[kind as usize].increment(1);
        tracing::warn!(
            target: "dal::retry",
            db = %self.name,
            kind = kind.as_str(),
            attempt,
            delay_ms = delay.as_millis() as u64,
            error = %self.loggable(cause),
            "retrying after a transient failure"
        );
    }
}
