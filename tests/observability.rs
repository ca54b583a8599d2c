//! Observability and retry behaviour on every backend: SQLite always,
//! PostgreSQL and MariaDB/MySQL when their servers answer (see `tests/support`).
//!
//! The metrics recorder and the tracing subscriber are process-wide, so both
//! are installed once ([`capture::init`], called first by every test): a
//! recorder over a `metrics_util` registry whose series are read in place
//! (never drained or reset by a read, unlike `DebuggingRecorder`'s snapshots,
//! which swap gauges to zero: one test's read would zero the gauges another
//! test reads next), and a registry with a layer that keeps
//! every closed `db.query` span (with the fields recorded after it opened) and
//! every event of dal's warning targets (`dal::slow`, `dal::retry`,
//! `dal::breaker`, `dal::pool`) and of `LogHook` (`dal::statements`). Each
//! test names its database uniquely
//! and reads only the spans, events and series carrying that name, so the tests
//! run in parallel without seeing each other.
//!
//! * every backend: statement spans, the metrics of a known workload, hooks,
//!   statement errors never opening the breaker, query timeouts and the scaling
//!   advice;
//! * servers, through the fault proxy (`support::proxy`): reads re-run after a
//!   lost connection and writes not, checkouts retried, the breaker opening
//!   under a cut network path and closing after it heals, a transaction re-run
//!   after a real serialization failure (PostgreSQL) or deadlock (MariaDB);
//! * SQLite: under another connection's write lock reads go through, writes
//!   wait for the lock without a retry, and a lock held past the busy timeout
//!   is retried under the retry policy.

#[macro_use]
mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dal::hooks::{Hook, LogHook, QueryInfo, QueryOutcome, TimingHook};
use dal::{
    BreakerState, DatabaseConfig, DatabaseConfigBuilder, Db, Dialect, Error, ErrorKind,
    ScalingAdvice, TimeoutKind,
};

use capture::Fields;
use support::TestDb;
use support::proxy::{Mode, Proxy, upstream_of};

/// Process-wide capture of dal's spans, events and metrics.
mod capture {
    use std::collections::BTreeMap;
    use std::sync::atomic::Ordering as AtomicOrdering;
    use std::sync::{Arc, Mutex, MutexGuard, Once, OnceLock};

    use metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };
    use metrics_util::registry::{AtomicStorage, Registry};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Subscriber};
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::{Context, SubscriberExt as _};
    use tracing_subscriber::registry::LookupSpan;

    /// A span's or an event's fields, by name, as text.
    pub type Fields = BTreeMap<String, String>;

    /// An event of one of the captured targets.
    #[derive(Debug, Clone)]
    pub struct CapturedEvent {
        pub target: String,
        pub level: Level,
        /// Its fields, the message under `message`.
        pub fields: Fields,
    }

    /// The event targets kept.
    const TARGETS: [&str; 5] = [
        "dal::slow",
        "dal::retry",
        "dal::breaker",
        "dal::pool",
        "dal::statements",
    ];

    static SPANS: Mutex<Vec<Fields>> = Mutex::new(Vec::new());
    static EVENTS: Mutex<Vec<CapturedEvent>> = Mutex::new(Vec::new());
    static REGISTRY: OnceLock<Arc<Registry<Key, AtomicStorage>>> = OnceLock::new();

    /// The process's metrics recorder: every series lives in [`REGISTRY`],
    /// where a test reads it without changing it.
    struct TestRecorder(Arc<Registry<Key, AtomicStorage>>);

    impl Recorder for TestRecorder {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            self.0
                .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
        }

        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            self.0
                .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
        }

        fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
            self.0
                .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
        }
    }

    /// Install the metrics recorder and the tracing subscriber (once per
    /// process, before any `Db` exists: metric handles are registered when a
    /// `Db` is created).
    pub fn init() {
        static INIT: Once = Once::new();
        INIT.call_once(|| {
            let registry = Arc::new(Registry::atomic());
            REGISTRY
                .set(registry.clone())
                .unwrap_or_else(|_| panic!("registry set twice"));
            metrics::set_global_recorder(TestRecorder(registry))
                .expect("install the metrics recorder");
            let subscriber = tracing_subscriber::registry().with(Capture.with_filter(
                tracing_subscriber::filter::filter_fn(|m| m.target().starts_with("dal")),
            ));
            tracing::subscriber::set_global_default(subscriber)
                .expect("install the tracing subscriber");
        });
    }

    fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closed `db.query` spans of database `db`, in the order they closed.
    pub fn spans(db: &str) -> Vec<Fields> {
        lock(&SPANS)
            .iter()
            .filter(|f| f.get("db.name").is_some_and(|n| n == db))
            .cloned()
            .collect()
    }

    /// Events on `target` about database `db`, in the order they happened.
    pub fn events(target: &str, db: &str) -> Vec<CapturedEvent> {
        lock(&EVENTS)
            .iter()
            .filter(|e| e.target == target && e.fields.get("db").is_some_and(|n| n == db))
            .cloned()
            .collect()
    }

    struct Visitor<'a>(&'a mut Fields);

    impl Visit for Visitor<'_> {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.insert(field.name().to_string(), value.to_string());
        }
        fn record_u64(&mut self, field: &Field, value: u64) {
            self.0.insert(field.name().to_string(), value.to_string());
        }
        fn record_i64(&mut self, field: &Field, value: i64) {
            self.0.insert(field.name().to_string(), value.to_string());
        }
        fn record_bool(&mut self, field: &Field, value: bool) {
            self.0.insert(field.name().to_string(), value.to_string());
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            // `%value` fields arrive here too, printed with Display
            self.0
                .insert(field.name().to_string(), format!("{value:?}"));
        }
    }

    /// A span's fields so far (kept in the registry's span extensions).
    struct SpanFields(Fields);

    struct Capture;

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            if attrs.metadata().name() != "db.query" {
                return;
            }
            let mut fields = Fields::new();
            attrs.record(&mut Visitor(&mut fields));
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(SpanFields(fields));
            }
        }

        fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
            if let Some(span) = ctx.span(id)
                && let Some(f) = span.extensions_mut().get_mut::<SpanFields>()
            {
                values.record(&mut Visitor(&mut f.0));
            }
        }

        fn on_close(&self, id: Id, ctx: Context<'_, S>) {
            if let Some(span) = ctx.span(&id)
                && let Some(f) = span.extensions_mut().remove::<SpanFields>()
            {
                lock(&SPANS).push(f.0);
            }
        }

        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            let target = event.metadata().target();
            if !TARGETS.contains(&target) {
                return;
            }
            let mut fields = Fields::new();
            event.record(&mut Visitor(&mut fields));
            lock(&EVENTS).push(CapturedEvent {
                target: target.to_string(),
                level: *event.metadata().level(),
                fields,
            });
        }
    }

    /// One series' value.
    #[derive(Debug, Clone)]
    pub enum Value {
        Counter(u64),
        Gauge(f64),
        Histogram(Vec<f64>),
    }

    /// Labels as (key, value) pairs, sorted.
    type Labels = Vec<(String, String)>;

    /// The series of database `db`: name, labels other than `db` (sorted), value.
    fn read(db: &str) -> Vec<(String, Labels, Value)> {
        let registry = REGISTRY.get().expect("init() first");
        let mut series = Vec::new();
        let mut keep = |key: &Key, value: Value| {
            let mut labels: Labels = key
                .labels()
                .map(|l| (l.key().to_string(), l.value().to_string()))
                .collect();
            if !labels.iter().any(|(k, v)| k == "db" && v == db) {
                return;
            }
            labels.retain(|(k, _)| k != "db");
            labels.sort();
            series.push((key.name().to_string(), labels, value));
        };
        registry.visit_counters(|k, c| keep(k, Value::Counter(c.load(AtomicOrdering::SeqCst))));
        registry.visit_gauges(|k, g| {
            keep(
                k,
                Value::Gauge(f64::from_bits(g.load(AtomicOrdering::SeqCst))),
            )
        });
        registry.visit_histograms(|k, h| keep(k, Value::Histogram(h.data())));
        series
    }

    /// Run `f` (typically `db.stats()`, which publishes the pool and breaker
    /// gauges), then read every series of database `db`.
    pub fn metrics_after<T>(db: &str, f: impl FnOnce() -> T) -> (T, Metrics) {
        let out = f();
        let series = read(db);
        (
            out,
            Metrics {
                db: db.to_string(),
                series,
            },
        )
    }

    /// Every series of one database.
    #[derive(Debug)]
    pub struct Metrics {
        db: String,
        /// Name, labels other than `db` (sorted), value.
        series: Vec<(String, Labels, Value)>,
    }

    impl Metrics {
        fn get(&self, name: &str, labels: &[(&str, &str)]) -> &Value {
            let mut want: Labels = labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            want.sort();
            self.series
                .iter()
                .find(|(n, l, _)| n == name && *l == want)
                .map(|(_, _, v)| v)
                .unwrap_or_else(|| {
                    panic!(
                        "no series {name}{labels:?} for db {} (registered: {:?})",
                        self.db,
                        self.series
                            .iter()
                            .map(|(n, l, _)| format!("{n}{l:?}"))
                            .collect::<Vec<_>>()
                    )
                })
        }

        /// A counter's total.
        pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
            match self.get(name, labels) {
                Value::Counter(n) => *n,
                other => panic!("{name} is not a counter: {other:?}"),
            }
        }

        /// A gauge's last value.
        pub fn gauge(&self, name: &str) -> f64 {
            match self.get(name, &[]) {
                Value::Gauge(g) => *g,
                other => panic!("{name} is not a gauge: {other:?}"),
            }
        }

        /// A histogram's observations.
        pub fn histogram(&self, name: &str) -> Vec<f64> {
            match self.get(name, &[]) {
                Value::Histogram(h) => h.clone(),
                other => panic!("{name} is not a histogram: {other:?}"),
            }
        }
    }
}

// ------------------------------------------------------------------ helpers

/// A string literal written into SQL text: it must never reach a span, an
/// event or a hook.
const LITERAL: &str = "top-secret";
/// Another literal, in a statement that fails.
const FAILING_LITERAL: &str = "other-secret";
/// Bound parameter values: never shown anywhere.
const BOUND: &str = "bound-secret-1";
const BOUND_IN_TX: &str = "bound-secret-2";

/// A per-test database of `dialect` whose `Db` is named `name` (the label of
/// its spans, events and metrics), with configuration changes.
async fn open(
    dialect: Dialect,
    name: &str,
    f: impl FnOnce(DatabaseConfigBuilder) -> DatabaseConfigBuilder,
) -> Option<TestDb> {
    capture::init();
    let name = name.to_string();
    let f = move |b: DatabaseConfigBuilder| f(b.name(name));
    match dialect {
        Dialect::Sqlite => support::sqlite_with(f).await,
        Dialect::Postgres => support::postgres_with(f).await,
        Dialect::MySql => support::mysql_with(f).await,
    }
}

/// `db.system` of a dialect.
fn system(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "postgresql",
        Dialect::MySql => "mysql",
        Dialect::Sqlite => "sqlite",
    }
}

/// An identifier quoted as dal translates `[name]`.
fn q(dialect: Dialect, ident: &str) -> String {
    match dialect {
        Dialect::MySql => format!("`{ident}`"),
        _ => format!("\"{ident}\""),
    }
}

/// The `n`th (1-based) parameter marker as dal translates `?`.
fn p(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Postgres => format!("${n}"),
        _ => "?".to_string(),
    }
}

/// A statement that takes at least `ms` milliseconds (its literals are masked
/// in logs): a server-side sleep. SQLite has no sleep function, so there it is
/// a write that waits for the database's write lock, held by another
/// connection that lets go `ms` after the statement started
/// ([`hold_sqlite_write_lock`]).
fn sleep_sql(dialect: Dialect, ms: u64) -> String {
    match dialect {
        Dialect::Postgres => format!("SELECT pg_sleep({})", ms as f64 / 1000.0),
        Dialect::MySql => format!("SELECT SLEEP({})", ms as f64 / 1000.0),
        Dialect::Sqlite => "INSERT INTO obs_wait (x) VALUES (1) RETURNING x".to_string(),
    }
}

/// Fires when the next statement of `db` whose text contains `needle` starts
/// (a before-execute hook).
fn statement_started(db: &Db, needle: &'static str) -> tokio::sync::oneshot::Receiver<()> {
    struct Started(
        &'static str,
        Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    );
    impl Hook for Started {
        fn before(&self, q: &QueryInfo<'_>) {
            if q.statement.contains(self.0)
                && let Some(tx) = self.1.lock().unwrap().take()
            {
                let _ = tx.send(());
            }
        }
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    db.add_hook(Arc::new(Started(needle, Mutex::new(Some(tx)))));
    rx
}

/// Make [`sleep_sql`]'s SQLite statement on `db` wait `ms`: another
/// connection takes the write lock now and releases it `ms` after the
/// statement started. Await the handle after the statement.
async fn hold_sqlite_write_lock(url: &str, db: &Db, ms: u64) -> tokio::task::JoinHandle<()> {
    let other = Db::connect_url(url).await.unwrap();
    other
        .execute("CREATE TABLE obs_wait (x INTEGER)", ())
        .await
        .unwrap();
    let mut hold = other.begin().await.unwrap();
    // BEGIN IMMEDIATE took the lock; a write makes sure of it
    hold.execute("INSERT INTO obs_wait (x) VALUES (0)", ())
        .await
        .unwrap();
    let started = statement_started(db, "obs_wait");
    tokio::spawn(async move {
        started.await.expect("the statement started");
        tokio::time::sleep(Duration::from_millis(ms)).await;
        hold.rollback().await.unwrap();
        other.close();
    })
}

/// A statement that runs until it is stopped.
fn endless_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "SELECT pg_sleep(30)",
        Dialect::MySql => "SELECT SLEEP(30)",
        Dialect::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"
        }
    }
}

fn field<'f>(f: &'f Fields, name: &str) -> &'f str {
    f.get(name)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no field `{name}` in {f:?}"))
}

fn num(f: &Fields, name: &str) -> u64 {
    field(f, name)
        .parse()
        .unwrap_or_else(|e| panic!("`{name}` is not a number ({e}) in {f:?}"))
}

/// Assert no secret (literal or bound value) appears in any field.
#[track_caller]
fn assert_no_secrets<'a>(all: impl IntoIterator<Item = &'a Fields>) {
    for f in all {
        for (k, v) in f {
            for secret in [LITERAL, FAILING_LITERAL, BOUND, BOUND_IN_TX] {
                assert!(
                    !v.contains(secret),
                    "`{secret}` shown in field `{k}` of {f:?}"
                );
            }
        }
    }
}

/// Wait until `f` holds (at most 5 seconds).
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Every error kind label but the ones listed is at zero.
#[track_caller]
fn assert_other_error_kinds_zero(m: &capture::Metrics, except: &[&str]) {
    for kind in [
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
    ] {
        if !except.contains(&kind.as_str()) {
            assert_eq!(
                m.counter("dal_errors_total", &[("kind", kind.as_str())]),
                0,
                "kind {}",
                kind.as_str()
            );
        }
    }
}

// ------------------------------------------------------------------ spans

/// One `db.query` span per statement with the system, name, operation, the
/// statement with its literals masked (no literal or bound value in any
/// field), the rows, the duration and the error; statements of a transaction
/// (its BEGIN and COMMIT included) share one non-zero transaction id, the
/// others carry 0.
async fn spans(dialect: Dialect) {
    let name = support::unique_name();
    let Some(t) = open(dialect, &name, |b| b).await else {
        return;
    };
    let db = &t.db;
    let (tbl, id, label) = (q(dialect, "obs"), q(dialect, "id"), q(dialect, "label"));
    db.execute(
        "CREATE TABLE [obs] ([id] INTEGER PRIMARY KEY, [label] VARCHAR(40) NOT NULL)",
        (),
    )
    .await
    .unwrap();
    let sql = format!("INSERT INTO [obs] ([id], [label]) VALUES (1, '{LITERAL}')");
    db.execute(&sql, ()).await.unwrap();
    db.execute(
        "INSERT INTO [obs] ([id], [label]) VALUES (?, ?)",
        (2, BOUND),
    )
    .await
    .unwrap();
    let sql = format!("SELECT [id] FROM [obs] WHERE [label] IN ('{LITERAL}', ?) ORDER BY [id]");
    let rows: Vec<(i64,)> = db.fetch_all_as(&sql, (BOUND,)).await.unwrap();
    assert_eq!(rows, vec![(1,), (2,)]);
    let sql = format!("INSERT INTO [obs] ([id], [label]) VALUES (1, '{FAILING_LITERAL}')");
    let err = db.execute(&sql, ()).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    let mut tx = db.begin().await.unwrap();
    tx.execute(
        "INSERT INTO [obs] ([id], [label]) VALUES (?, ?)",
        (3, BOUND_IN_TX),
    )
    .await
    .unwrap();
    let n: i64 = tx
        .fetch_scalar("SELECT COUNT(*) FROM [obs]", ())
        .await
        .unwrap();
    assert_eq!(n, 3);
    tx.commit().await.unwrap();
    let n: i64 = db
        .fetch_scalar("SELECT COUNT(*) FROM [obs]", ())
        .await
        .unwrap();
    assert_eq!(n, 3);

    let spans = capture::spans(&name);
    let shown: Vec<(&str, &str)> = spans
        .iter()
        .map(|s| (field(s, "db.operation"), field(s, "db.statement")))
        .collect();
    assert_eq!(spans.len(), 10, "{shown:#?}");
    assert_no_secrets(&spans);
    for s in &spans {
        assert_eq!(field(s, "db.system"), system(dialect), "{s:?}");
        assert_eq!(field(s, "otel.kind"), "client");
        assert_eq!(num(s, "dal.attempt"), 1, "{s:?}");
        num(s, "duration_us");
    }
    let (p1, p2) = (p(dialect, 1), p(dialect, 2));
    let count = format!("SELECT COUNT(*) FROM {tbl}");
    let insert_bound = format!("INSERT INTO {tbl} ({id}, {label}) VALUES ({p1}, {p2})");
    let expected: [(&str, String); 10] = [
        ("execute", String::new()), // the CREATE TABLE, checked below
        (
            "execute",
            format!("INSERT INTO {tbl} ({id}, {label}) VALUES (?, ?)"),
        ),
        ("execute", insert_bound.clone()),
        (
            "fetch",
            format!("SELECT {id} FROM {tbl} WHERE {label} IN (?, {p1}) ORDER BY {id}"),
        ),
        (
            "execute",
            format!("INSERT INTO {tbl} ({id}, {label}) VALUES (?, ?)"),
        ),
        (
            "script",
            match dialect {
                Dialect::Postgres => "BEGIN",
                Dialect::MySql => "START TRANSACTION",
                Dialect::Sqlite => "BEGIN IMMEDIATE",
            }
            .to_string(),
        ),
        ("execute", insert_bound),
        ("fetch", count.clone()),
        ("script", "COMMIT".to_string()),
        ("fetch", count),
    ];
    for (i, (s, (op, statement))) in spans.iter().zip(&expected).enumerate() {
        assert_eq!(field(s, "db.operation"), *op, "span {i}: {s:?}");
        if i == 0 {
            assert!(
                field(s, "db.statement").starts_with(&format!("CREATE TABLE {tbl}")),
                "{s:?}"
            );
        } else {
            assert_eq!(field(s, "db.statement"), statement, "span {i}");
        }
    }
    // rows: affected for writes, returned for reads
    assert_eq!(num(&spans[1], "db.rows"), 1);
    assert_eq!(num(&spans[2], "db.rows"), 1);
    assert_eq!(num(&spans[3], "db.rows"), 2);
    assert_eq!(num(&spans[9], "db.rows"), 1);
    // the failed statement records its error, and no rows
    let failed = &spans[4];
    assert!(
        field(failed, "error").contains("unique constraint violated"),
        "{failed:?}"
    );
    assert!(!failed.contains_key("db.rows"), "{failed:?}");
    let errors: Vec<usize> = (0..spans.len())
        .filter(|&i| spans[i].contains_key("error"))
        .collect();
    assert_eq!(errors, vec![4], "only the failed statement has an error");
    // one transaction id for BEGIN .. COMMIT, 0 elsewhere
    let tx_ids: Vec<u64> = spans.iter().map(|s| num(s, "dal.transaction_id")).collect();
    let tx_id = tx_ids[5];
    assert_ne!(tx_id, 0);
    assert_eq!(
        tx_ids,
        vec![0, 0, 0, 0, 0, tx_id, tx_id, tx_id, tx_id, 0],
        "{shown:#?}"
    );
}

// ------------------------------------------------------------------ metrics

/// After a known workload the metrics agree with `stats()` and the spans:
/// statements, errors by kind (a unique violation is `constraint`, bad SQL
/// `database`), one duration observation per statement, one acquire-wait
/// observation per checkout, the pool gauges, and exactly the statements over
/// the slow-query threshold counted as slow, each with a WARN on `dal::slow`
/// showing the masked statement; a connection held past the leak threshold
/// is counted and reported once on `dal::pool`.
async fn metrics(dialect: Dialect) {
    const SLOW: Duration = Duration::from_millis(40);
    let name = support::unique_name();
    let Some(t) = open(dialect, &name, |b| {
        b.slow_query_threshold(SLOW)
            .leak_detection_threshold(Duration::from_millis(100))
            .max_connections(3)
    })
    .await
    else {
        return;
    };
    let db = &t.db;
    db.execute(
        "CREATE TABLE [obs_m] ([id] INTEGER PRIMARY KEY, [email] VARCHAR(60) NOT NULL UNIQUE)",
        (),
    )
    .await
    .unwrap();
    // the pool gauges follow the pool at once (no stats() call, no upkeep
    // tick yet): a scrape right after the first statement sees the connection
    let ((), early) = capture::metrics_after(&name, || ());
    assert!(early.gauge("dal_pool_size") >= 1.0, "{early:?}");
    assert_eq!(early.gauge("dal_pool_in_use"), 0.0, "{early:?}");
    assert_eq!(
        early.gauge("dal_pool_size"),
        early.gauge("dal_pool_idle"),
        "{early:?}"
    );
    for i in 1..=3 {
        db.execute(
            "INSERT INTO [obs_m] ([id], [email]) VALUES (?, ?)",
            (i, format!("u{i}@example.com")),
        )
        .await
        .unwrap();
    }
    let dup = db
        .execute(
            "INSERT INTO [obs_m] ([id], [email]) VALUES (?, ?)",
            (4, "u1@example.com"),
        )
        .await
        .unwrap_err();
    assert!(dup.is_unique_violation(), "{dup:?}");
    assert_eq!(ErrorKind::of(&dup), ErrorKind::Constraint);
    let bad = db
        .fetch_all("SELECT [x] FROM [no_such_table]", ())
        .await
        .unwrap_err();
    assert_eq!(ErrorKind::of(&bad), ErrorKind::Database, "{bad:?}");
    let n: i64 = db
        .fetch_scalar("SELECT COUNT(*) FROM [obs_m]", ())
        .await
        .unwrap();
    assert_eq!(n, 3);
    let slow_sql = sleep_sql(dialect, 80);
    let release = match dialect {
        Dialect::Sqlite => Some(hold_sqlite_write_lock(&t.url, db, 80).await),
        _ => None,
    };
    db.fetch_all(&slow_sql, ()).await.unwrap();
    if let Some(release) = release {
        release.await.unwrap();
    }
    // a connection held past the leak threshold (reported by the pool's upkeep)
    let held = db.begin().await.unwrap();
    eventually("the leak report", || db.stats().leaks == 1).await;
    held.rollback().await.unwrap();

    let (stats, m) = capture::metrics_after(&name, || db.stats());
    let spans = capture::spans(&name);
    // statements: 1 create + 3 inserts + 1 duplicate + 1 bad + 1 count + 1
    // slow + BEGIN + ROLLBACK
    assert_eq!(stats.statements, 10, "{stats}");
    assert_eq!(spans.len() as u64, stats.statements);
    assert_eq!(stats.calls, stats.statements, "no failed checkouts");
    assert_eq!(m.counter("dal_queries_total", &[]), stats.statements);
    let durations = m.histogram("dal_query_duration_seconds");
    assert_eq!(durations.len() as u64, stats.statements, "{durations:?}");
    assert!(
        durations.iter().any(|d| *d >= SLOW.as_secs_f64()),
        "{durations:?}"
    );

    // errors by kind
    assert_eq!(stats.errors_of(ErrorKind::Constraint), 1, "{stats}");
    assert_eq!(stats.errors_of(ErrorKind::Database), 1, "{stats}");
    assert_eq!(stats.errors_total, 2, "{stats}");
    assert_eq!(m.counter("dal_errors_total", &[("kind", "constraint")]), 1);
    assert_eq!(m.counter("dal_errors_total", &[("kind", "database")]), 1);
    assert_other_error_kinds_zero(&m, &["constraint", "database"]);
    for kind in ["read", "connect", "transaction"] {
        assert_eq!(m.counter("dal_retries_total", &[("kind", kind)]), 0);
    }
    assert_eq!(stats.retries, 0);

    // the pool: one acquire-wait observation per checkout, gauges as stats() saw it
    let waits = m.histogram("dal_pool_acquire_wait_seconds");
    assert_eq!(waits.len() as u64, stats.acquisitions, "{stats}");
    // the first connection at connect, 8 statements, the transaction
    assert_eq!(stats.acquisitions, 10, "{stats}");
    assert_eq!(stats.pool.in_use, 0, "{stats}");
    assert!(stats.pool.size >= 1, "{stats}");
    assert_eq!(m.gauge("dal_pool_size"), stats.pool.size as f64);
    assert_eq!(m.gauge("dal_pool_idle"), stats.pool.idle as f64);
    assert_eq!(m.gauge("dal_pool_in_use"), stats.pool.in_use as f64);
    assert_eq!(m.gauge("dal_breaker_state"), 0.0);
    assert_eq!(stats.breaker, BreakerState::Closed);
    assert_eq!(m.counter("dal_breaker_rejections_total", &[]), 0);

    // the leak: counted once, reported once with where it was acquired
    assert_eq!(stats.leaks, 1);
    assert_eq!(m.counter("dal_pool_leaks_total", &[]), 1);
    let leaks = capture::events("dal::pool", &name);
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(leaks[0].level, tracing::Level::WARN);
    assert!(
        field(&leaks[0].fields, "acquired_at").contains("observability.rs"),
        "{leaks:?}"
    );
    assert!(num(&leaks[0].fields, "held_for_ms") >= 100);

    // slow: exactly the statements that took the threshold or longer
    let threshold_us = SLOW.as_micros() as u64;
    let slow_spans: Vec<&str> = spans
        .iter()
        .filter(|s| num(s, "duration_us") >= threshold_us)
        .map(|s| field(s, "db.statement"))
        .collect();
    let masked_slow = match dialect {
        Dialect::Postgres => "SELECT pg_sleep(?)".to_string(),
        Dialect::MySql => "SELECT SLEEP(?)".to_string(),
        Dialect::Sqlite => "INSERT INTO obs_wait (x) VALUES (?) RETURNING x".to_string(),
    };
    assert!(slow_spans.contains(&masked_slow.as_str()), "{slow_spans:?}");
    assert_eq!(stats.slow_queries, slow_spans.len() as u64, "{stats}");
    assert_eq!(m.counter("dal_slow_queries_total", &[]), stats.slow_queries);
    let warnings = capture::events("dal::slow", &name);
    let warned: Vec<&str> = warnings
        .iter()
        .map(|e| field(&e.fields, "statement"))
        .collect();
    assert_eq!(warned, slow_spans);
    for w in &warnings {
        assert_eq!(w.level, tracing::Level::WARN);
        assert_eq!(num(&w.fields, "threshold_ms"), 40);
        assert!(num(&w.fields, "duration_ms") >= 40, "{w:?}");
        assert_eq!(field(&w.fields, "message"), "slow query");
    }
    assert!(capture::events("dal::retry", &name).is_empty());
    assert!(capture::events("dal::breaker", &name).is_empty());
}

// ------------------------------------------------------------------ hooks

/// What a hook was told.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    after: bool,
    db: String,
    system: &'static str,
    statement: String,
    operation: &'static str,
    params: usize,
    attempt: u32,
    tx: Option<u64>,
    rows: Option<u64>,
    error: Option<String>,
    /// The error as logs show it ([`dal::Error::redacted`]).
    logged_error: Option<String>,
}

/// A hook that writes down everything it is told.
#[derive(Default)]
struct Recorder(Mutex<Vec<Seen>>);

impl Recorder {
    fn seen(q: &QueryInfo<'_>, after: bool) -> Seen {
        Seen {
            after,
            db: q.db.to_string(),
            system: q.system,
            statement: q.statement.to_string(),
            operation: q.operation,
            params: q.params,
            attempt: q.attempt,
            tx: q.transaction_id,
            rows: None,
            error: None,
            logged_error: None,
        }
    }

    fn calls(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

impl Hook for Recorder {
    fn before(&self, q: &QueryInfo<'_>) {
        self.0.lock().unwrap().push(Recorder::seen(q, false));
    }

    fn after(&self, q: &QueryInfo<'_>, o: &QueryOutcome<'_>) {
        let mut s = Recorder::seen(q, true);
        s.rows = o.rows;
        s.error = o.error.map(|e| e.to_string());
        s.logged_error = o.error.map(|e| e.redacted());
        self.0.lock().unwrap().push(s);
    }
}

/// A custom hook sees each statement before and after, in order, with the
/// masked text, the parameter count, the attempt, the transaction id and the
/// error; `TimingHook` counts the same runs and failures per statement;
/// `LogHook` emits one INFO event on `dal::statements` per statement (only
/// the failures with `errors_only`), without literals or bound values.
async fn hooks(dialect: Dialect) {
    let name = support::unique_name();
    let Some(t) = open(dialect, &name, |b| b).await else {
        return;
    };
    let db = &t.db;
    let recorder = Arc::new(Recorder::default());
    let timing = Arc::new(TimingHook::new());
    db.add_hook(recorder.clone());
    db.add_hook(timing.clone());
    db.add_hook(Arc::new(LogHook::new()));

    db.execute(
        "CREATE TABLE [obs_h] ([id] INTEGER PRIMARY KEY, [label] VARCHAR(40) NOT NULL UNIQUE)",
        (),
    )
    .await
    .unwrap();
    let insert = "INSERT INTO [obs_h] ([id], [label]) VALUES (?, ?)";
    db.execute(insert, (1, BOUND)).await.unwrap();
    // a duplicate id, not label: MariaDB's duplicate-entry message quotes the
    // duplicated value, and the error (with it) is what hooks and logs show
    let err = db.execute(insert, (1, BOUND_IN_TX)).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    let sql = format!("SELECT [id] FROM [obs_h] WHERE [label] <> '{LITERAL}'");
    assert_eq!(db.fetch_all(&sql, ()).await.unwrap().len(), 1);
    let mut tx = db.begin().await.unwrap();
    tx.execute(insert, (3, BOUND_IN_TX)).await.unwrap();
    tx.commit().await.unwrap();

    let calls = recorder.calls();
    // before and after alternate, with the same statement, attempt and transaction
    assert_eq!(calls.len(), 2 * 7, "{calls:#?}");
    for pair in calls.chunks(2) {
        let (b, a) = (&pair[0], &pair[1]);
        assert!(!b.after && a.after, "{pair:?}");
        assert_eq!(
            (&b.statement, b.operation, b.params, b.attempt, b.tx),
            (&a.statement, a.operation, a.params, a.attempt, a.tx)
        );
        assert_eq!(b.db, name);
        assert_eq!(b.system, system(dialect));
        assert_eq!(b.attempt, 1);
        assert_eq!((b.rows, &b.error), (None, &None), "nothing known before");
    }
    let after: Vec<&Seen> = calls.iter().filter(|s| s.after).collect();
    let ops: Vec<&str> = after.iter().map(|s| s.operation).collect();
    assert_eq!(
        ops,
        [
            "execute", "execute", "execute", "fetch", "script", "execute", "script"
        ]
    );
    let params: Vec<usize> = after.iter().map(|s| s.params).collect();
    assert_eq!(params, [0, 2, 2, 0, 0, 2, 0]);
    let masked_insert = format!(
        "INSERT INTO {} ({}, {}) VALUES ({}, {})",
        q(dialect, "obs_h"),
        q(dialect, "id"),
        q(dialect, "label"),
        p(dialect, 1),
        p(dialect, 2)
    );
    assert_eq!(after[1].statement, masked_insert);
    assert_eq!(after[2].statement, masked_insert);
    assert_eq!(
        after[3].statement,
        format!(
            "SELECT {} FROM {} WHERE {} <> ?",
            q(dialect, "id"),
            q(dialect, "obs_h"),
            q(dialect, "label")
        )
    );
    // the outcome
    assert_eq!(after[1].rows, Some(1));
    assert_eq!(after[1].error, None);
    assert_eq!(after[2].rows, None);
    assert!(
        after[2]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("unique constraint violated")),
        "{:?}",
        after[2]
    );
    assert_eq!(after[3].rows, Some(1));
    let with_error: Vec<usize> = (0..after.len())
        .filter(|&i| after[i].error.is_some())
        .collect();
    assert_eq!(with_error, [2]);
    // the transaction: BEGIN, the insert and COMMIT share an id; nothing else has one
    let txs: Vec<Option<u64>> = after.iter().map(|s| s.tx).collect();
    let tx_id = txs[4].expect("BEGIN runs in the transaction");
    assert_eq!(
        txs,
        [
            None,
            None,
            None,
            None,
            Some(tx_id),
            Some(tx_id),
            Some(tx_id)
        ]
    );
    for s in &calls {
        for secret in [LITERAL, BOUND, BOUND_IN_TX] {
            assert!(!s.statement.contains(secret), "{s:?}");
        }
    }

    // TimingHook: the same runs, per statement text
    let table = timing.snapshot();
    let runs: u64 = table.iter().map(|s| s.count).sum();
    assert_eq!(runs, 7, "{table:#?}");
    let ins = table
        .iter()
        .find(|s| s.statement == masked_insert)
        .expect("the insert is timed");
    assert_eq!((ins.count, ins.errors), (3, 1), "{ins:?}");
    let failures: u64 = table.iter().map(|s| s.errors).sum();
    assert_eq!(failures, 1);

    // LogHook: one INFO event per statement, the failure with its error
    let logged = capture::events("dal::statements", &name);
    assert_eq!(logged.len(), 7, "{logged:#?}");
    for (e, s) in logged.iter().zip(&after) {
        assert_eq!(e.level, tracing::Level::INFO);
        assert_eq!(field(&e.fields, "statement"), s.statement);
        assert_eq!(num(&e.fields, "attempt"), 1);
        num(&e.fields, "duration_us");
        match &s.logged_error {
            Some(err) => {
                assert_eq!(field(&e.fields, "message"), "statement failed");
                assert_eq!(field(&e.fields, "error"), err);
            }
            None => {
                assert_eq!(field(&e.fields, "message"), "statement");
                assert_eq!(num(&e.fields, "rows"), s.rows.unwrap_or(0));
            }
        }
    }
    assert_no_secrets(logged.iter().map(|e| &e.fields));

    // LogHook::errors_only on a second handle: only the failure is logged
    let quiet = support::unique_name();
    let db2 = Db::connect(
        DatabaseConfig::builder(&t.url)
            .name(quiet.as_str())
            .max_connections(1)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    db2.add_hook(Arc::new(LogHook::errors_only()));
    db2.fetch_all("SELECT [id] FROM [obs_h]", ()).await.unwrap();
    db2.execute(insert, (1, "x")).await.unwrap_err();
    let logged = capture::events("dal::statements", &quiet);
    assert_eq!(logged.len(), 1, "{logged:#?}");
    assert_eq!(field(&logged[0].fields, "message"), "statement failed");
    assert!(field(&logged[0].fields, "error").contains("unique constraint violated"));
    db2.close();
}

// ------------------------------------------------------------------ breaker: statement errors

/// Statement errors are answers, not outages: with a failure threshold of 2,
/// twenty bad statements and five constraint violations in a row leave the
/// breaker closed, every one counted as an error of its kind.
async fn statement_errors_keep_the_breaker_closed(dialect: Dialect) {
    let name = support::unique_name();
    let Some(t) = open(dialect, &name, |b| b.breaker_failure_threshold(2)).await else {
        return;
    };
    let db = &t.db;
    db.execute("CREATE TABLE [obs_b] ([id] INTEGER PRIMARY KEY)", ())
        .await
        .unwrap();
    db.execute("INSERT INTO [obs_b] ([id]) VALUES (1)", ())
        .await
        .unwrap();
    for _ in 0..20 {
        let e = db
            .fetch_all("SELECT [nope] FROM [no_such_table]", ())
            .await
            .unwrap_err();
        assert!(!e.is_infrastructure(), "{e:?}");
        assert_eq!(db.breaker_state(), BreakerState::Closed);
    }
    for _ in 0..5 {
        let e = db
            .execute("INSERT INTO [obs_b] ([id]) VALUES (?)", (1,))
            .await
            .unwrap_err();
        assert!(e.is_unique_violation(), "{e:?}");
        assert_eq!(db.breaker_state(), BreakerState::Closed);
    }
    let health = db.health().await;
    assert!(health.healthy, "{health}");
    assert_eq!(health.breaker, BreakerState::Closed);
    let (stats, m) = capture::metrics_after(&name, || db.stats());
    assert_eq!(stats.breaker, BreakerState::Closed);
    assert_eq!(stats.breaker_transitions, 0);
    assert_eq!(stats.breaker_rejections, 0);
    assert_eq!(stats.errors_of(ErrorKind::Database), 20, "{stats}");
    assert_eq!(stats.errors_of(ErrorKind::Constraint), 5, "{stats}");
    assert_eq!(m.counter("dal_errors_total", &[("kind", "database")]), 20);
    assert_eq!(m.counter("dal_errors_total", &[("kind", "constraint")]), 5);
    for to in ["open", "half_open", "closed"] {
        assert_eq!(m.counter("dal_breaker_transitions_total", &[("to", to)]), 0);
    }
    assert_eq!(m.gauge("dal_breaker_state"), 0.0);
    assert!(capture::events("dal::breaker", &name).is_empty());
}

// ------------------------------------------------------------------ timeouts and advice

/// A real query timeout is counted as a query timeout (not retried: one
/// statement, one span with the error), and the timeout rate over later calls
/// walks the scaling advice through its boundaries: 1/19 horizontally, 1/20
/// and 1/100 vertically, 1/101 and 1/1000 review slow queries, 1/1001 normal.
async fn query_timeout_and_advice(dialect: Dialect) {
    let name = support::unique_name();
    let Some(t) = open(dialect, &name, |b| b.max_connections(2)).await else {
        return;
    };
    let db = &t.db;
    let start = Instant::now();
    let err = db
        .query(endless_sql(dialect))
        .timeout(Duration::from_millis(150))
        .fetch_all()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Query,
                after,
                ..
            } if after == Duration::from_millis(150)
        ),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let (stats, m) = capture::metrics_after(&name, || db.stats());
    assert_eq!(stats.statements, 1, "not re-run: {stats}");
    assert_eq!(stats.retries, 0);
    assert_eq!(stats.query_timeouts, 1);
    assert_eq!(stats.timeouts, 1);
    assert_eq!(stats.acquire_timeouts, 0);
    assert_eq!(stats.errors_of(ErrorKind::QueryTimeout), 1);
    assert_eq!(stats.timeout_rate, 1.0);
    assert_eq!(stats.timeout_rate_total, 1.0);
    assert_eq!(stats.last_1m.query_timeouts, 1);
    assert_eq!(
        ScalingAdvice::for_timeout_rate(stats.timeout_rate),
        ScalingAdvice::ScaleHorizontally
    );
    // one statement ran past its timeout, nothing else is slow: slow queries
    assert_eq!(stats.advice, ScalingAdvice::ReviewSlowQueries, "{stats}");
    assert_eq!(
        m.counter("dal_errors_total", &[("kind", "query_timeout")]),
        1
    );
    assert_other_error_kinds_zero(&m, &["query_timeout"]);
    assert_eq!(m.counter("dal_retries_total", &[("kind", "read")]), 0);
    let spans = capture::spans(&name);
    assert_eq!(spans.len(), 1);
    assert!(
        field(&spans[0], "error").contains("query execution timed out"),
        "{:?}",
        spans[0]
    );

    let checkpoints = [
        (19, ScalingAdvice::ScaleHorizontally),
        (20, ScalingAdvice::ScaleVertically),
        (100, ScalingAdvice::ScaleVertically),
        (101, ScalingAdvice::ReviewSlowQueries),
        (1000, ScalingAdvice::ReviewSlowQueries),
        (1001, ScalingAdvice::Normal),
    ];
    let mut calls = 1;
    for (until, advice) in checkpoints {
        while calls < until {
            let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
            assert_eq!(one, 1);
            calls += 1;
        }
        let s = db.stats();
        assert_eq!(s.calls, until, "{s}");
        assert_eq!(s.last_1m.calls, until, "{s}");
        assert_eq!(s.timeout_rate, 1.0 / until as f64);
        // the seed's table gives the severity ...
        assert_eq!(
            ScalingAdvice::for_timeout_rate(s.timeout_rate),
            advice,
            "after {until} calls: {s}"
        );
        // ... and the diagnosis the fix: statements keep their usual speed
        let expected = if advice == ScalingAdvice::Normal {
            ScalingAdvice::Normal
        } else {
            ScalingAdvice::ReviewSlowQueries
        };
        assert_eq!(s.advice, expected, "after {until} calls: {s}");
    }
}

/// The advice table's boundaries: under 0.1% normal, from 0.1% review the
/// slow queries, from 1% up to and including 5% scale vertically, over 5%
/// scale horizontally.
#[test]
fn scaling_advice_boundaries() {
    let cases = [
        (0.0, ScalingAdvice::Normal),
        (0.0009, ScalingAdvice::Normal),
        (0.000_999_999, ScalingAdvice::Normal),
        (0.001, ScalingAdvice::ReviewSlowQueries),
        (0.0099, ScalingAdvice::ReviewSlowQueries),
        (0.01, ScalingAdvice::ScaleVertically),
        (0.03, ScalingAdvice::ScaleVertically),
        (0.05, ScalingAdvice::ScaleVertically),
        (0.050_001, ScalingAdvice::ScaleHorizontally),
        (1.0, ScalingAdvice::ScaleHorizontally),
    ];
    for (rate, advice) in cases {
        assert_eq!(ScalingAdvice::for_timeout_rate(rate), advice, "rate {rate}");
    }
    assert!(ScalingAdvice::Normal.to_string().starts_with("normal"));
    assert!(
        ScalingAdvice::ReviewSlowQueries
            .to_string()
            .contains("review the slow queries")
    );
    assert!(
        ScalingAdvice::ScaleVertically
            .to_string()
            .contains("scale vertically")
    );
    assert!(
        ScalingAdvice::ScaleHorizontally
            .to_string()
            .contains("scale horizontally")
    );
}

// ------------------------------------------------------------------ retries (servers)

/// A `Db` named `name` on the fixture's database through `proxy`: one
/// connection, never pinged on checkout (so a killed connection is found by
/// the statement itself), short retry delays, no breaker.
async fn through_proxy(t: &TestDb, proxy: &Proxy, name: &str) -> Db {
    let config = DatabaseConfig::builder(proxy.url_for(&t.url))
        .name(name)
        .max_connections(1)
        .validate_after_idle(Duration::from_secs(3600))
        .connect_timeout(Duration::from_secs(2))
        .retry_base_delay(Duration::from_millis(5))
        .retry_max_delay(Duration::from_millis(20))
        .breaker_enabled(false)
        .build()
        .unwrap();
    Db::connect(config).await.unwrap()
}

/// Reset the proxied connections and wait until the proxy dropped them.
async fn kill_connections(proxy: &Proxy) {
    proxy.reset_all();
    eventually("the proxied connections to close", || {
        proxy.live_connections() == 0
    })
    .await;
}

/// After the pooled connection is killed: a SELECT succeeds after exactly one
/// read retry (a WARN on `dal::retry`, a second span and hook call with
/// attempt 2); with
/// `no_retry` it fails with `ConnectionLost`; an INSERT fails and is not run
/// again (no retry, no row); checkouts whose connects are reset are retried
/// as `connect` until the attempts run out.
async fn lost_connection_retries(dialect: Dialect) {
    let fixture_name = support::unique_name();
    let Some(t) = open(dialect, &fixture_name, |b| b).await else {
        return;
    };
    t.execute("CREATE TABLE [obs_r] ([id] INTEGER PRIMARY KEY)", ())
        .await
        .unwrap();
    let proxy = Proxy::start(&upstream_of(&t.url).unwrap()).await.unwrap();
    let name = support::unique_name();
    let db = through_proxy(&t, &proxy, &name).await;
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    assert_eq!(db.pool_status().size, 1);

    // a read: re-run once on a fresh connection
    let recorder = Arc::new(Recorder::default());
    db.add_hook(recorder.clone());
    kill_connections(&proxy).await;
    let spans_before = capture::spans(&name).len();
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    let (stats, m) = capture::metrics_after(&name, || db.stats());
    assert_eq!(stats.retries, 1, "{stats}");
    assert_eq!(m.counter("dal_retries_total", &[("kind", "read")]), 1);
    assert_eq!(m.counter("dal_retries_total", &[("kind", "connect")]), 0);
    assert_eq!(stats.errors_of(ErrorKind::Connection), 1, "{stats}");
    let spans = capture::spans(&name);
    let read = &spans[spans_before..];
    assert_eq!(read.len(), 2, "{read:#?}");
    assert_eq!(num(&read[0], "dal.attempt"), 1);
    assert!(
        field(&read[0], "error").contains("connection lost"),
        "{read:?}"
    );
    assert_eq!(num(&read[1], "dal.attempt"), 2);
    assert!(!read[1].contains_key("error"), "{read:?}");
    assert_eq!(num(&read[1], "db.rows"), 1);
    let seen: Vec<(bool, u32, bool)> = recorder
        .calls()
        .iter()
        .map(|s| (s.after, s.attempt, s.error.is_some()))
        .collect();
    assert_eq!(
        seen,
        [
            (false, 1, false),
            (true, 1, true),
            (false, 2, false),
            (true, 2, false)
        ],
        "hooks see both attempts"
    );
    let retries = capture::events("dal::retry", &name);
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(retries[0].level, tracing::Level::WARN);
    assert_eq!(field(&retries[0].fields, "kind"), "read");
    assert_eq!(num(&retries[0].fields, "attempt"), 1);
    assert!(field(&retries[0].fields, "error").contains("connection lost"));

    // the same read, told not to retry
    kill_connections(&proxy).await;
    let err = db
        .query("SELECT 1")
        .no_retry()
        .fetch_scalar::<i64>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    assert_eq!(db.stats().retries, 1);

    // a write whose connection died is never sent again
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    kill_connections(&proxy).await;
    let err = db
        .execute("INSERT INTO [obs_r] ([id]) VALUES (?)", (1,))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    let stats = db.stats();
    assert_eq!(stats.retries, 1, "{stats}");
    assert_eq!(stats.errors_of(ErrorKind::Connection), 3, "{stats}");
    let rows: i64 = t
        .fetch_scalar("SELECT COUNT(*) FROM [obs_r]", ())
        .await
        .unwrap();
    assert_eq!(rows, 0, "the insert ran");

    // checkouts that never reach the server are retried (as `connect`)
    assert_eq!(db.pool_status().size, 0);
    let statements = stats.statements;
    proxy.set_mode(Mode::Reset);
    let err = db.fetch_scalar::<i64, _>("SELECT 1", ()).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let (after, m) = capture::metrics_after(&name, || db.stats());
    assert_eq!(after.statements, statements, "nothing was sent");
    assert_eq!(after.retries, 1 + 2, "two more attempts: {after}");
    assert_eq!(
        after.calls,
        stats.calls + 1,
        "one call, whatever its attempts: {after}"
    );
    assert_eq!(m.counter("dal_retries_total", &[("kind", "connect")]), 2);
    assert_eq!(m.counter("dal_retries_total", &[("kind", "read")]), 1);
    assert_eq!(
        m.counter("dal_retries_total", &[("kind", "transaction")]),
        0
    );
    let kinds: Vec<String> = capture::events("dal::retry", &name)
        .iter()
        .map(|e| field(&e.fields, "kind").to_string())
        .collect();
    assert_eq!(kinds, ["read", "connect", "connect"]);

    proxy.set_mode(Mode::Pass);
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    db.close();
}

// ------------------------------------------------------------------ breaker (servers)

/// Under a cut network path (proxy black hole, 200 ms connect and query
/// timeouts) the breaker opens after two failures (one transition, a WARN on
/// `dal::breaker`), calls then fail at once with `CircuitOpen` and `health()`
/// reports the open breaker; once the path heals and the open duration has
/// passed, one trial call closes it and `health()` is healthy again.
async fn breaker_opens_and_closes(dialect: Dialect) {
    let fixture_name = support::unique_name();
    let Some(t) = open(dialect, &fixture_name, |b| b).await else {
        return;
    };
    let proxy = Proxy::start(&upstream_of(&t.url).unwrap()).await.unwrap();
    let name = support::unique_name();
    let open_for = Duration::from_millis(300);
    let db = Db::connect(
        DatabaseConfig::builder(proxy.url_for(&t.url))
            .name(name.as_str())
            .max_connections(1)
            .connect_timeout(Duration::from_millis(200))
            .query_timeout(Duration::from_millis(200))
            .retry_enabled(false)
            .breaker_failure_threshold(2)
            .breaker_open_duration(open_for)
            .breaker_half_open_calls(1)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);

    proxy.set_mode(Mode::BlackHole);
    let mut failures = Vec::new();
    while db.breaker_state() != BreakerState::Open {
        assert!(failures.len() < 2, "still closed after {failures:?}");
        let e = db.fetch_scalar::<i64, _>("SELECT 1", ()).await.unwrap_err();
        assert!(e.is_infrastructure(), "{e:?}");
        failures.push(e);
    }
    assert_eq!(failures.len(), 2, "{failures:?}");
    let opened = capture::events("dal::breaker", &name);
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].level, tracing::Level::WARN);
    assert_eq!(field(&opened[0].fields, "from"), "closed");

    let sent = db.stats().statements;
    let start = Instant::now();
    let err = db.fetch_scalar::<i64, _>("SELECT 1", ()).await.unwrap_err();
    let took = start.elapsed();
    assert_eq!(
        db.stats().statements,
        sent,
        "a rejected call sent a statement"
    );
    let retry_after = match &err {
        Error::CircuitOpen {
            database,
            retry_after,
        } => {
            assert_eq!(database, &name);
            assert!(*retry_after <= open_for, "{retry_after:?}");
            *retry_after
        }
        other => panic!("expected CircuitOpen, got {other:?}"),
    };
    // at once: without waiting for the 200 ms timeouts any network attempt
    // through the black hole would wait for
    assert!(took < Duration::from_millis(200), "rejected after {took:?}");
    let health = db.health().await;
    assert!(!health.healthy, "{health}");
    assert_eq!(health.breaker, BreakerState::Open);
    assert!(
        health
            .error
            .as_deref()
            .is_some_and(|e| e.contains("circuit breaker open")),
        "{health}"
    );
    let (stats, m) = capture::metrics_after(&name, || db.stats());
    assert_eq!(stats.breaker, BreakerState::Open);
    assert_eq!(stats.breaker_transitions, 1);
    assert_eq!(stats.breaker_rejections, 2, "the call and the health check");
    assert_eq!(m.counter("dal_breaker_rejections_total", &[]), 2);
    assert_eq!(
        m.counter("dal_breaker_transitions_total", &[("to", "open")]),
        1
    );
    assert_eq!(
        m.counter("dal_breaker_transitions_total", &[("to", "half_open")]),
        0
    );
    assert_eq!(m.gauge("dal_breaker_state"), 2.0);
    assert_eq!(
        m.counter("dal_errors_total", &[("kind", "circuit_open")]),
        2
    );

    // heal the path; after the open duration one trial call closes the circuit
    proxy.set_mode(Mode::Pass);
    tokio::time::sleep(retry_after + Duration::from_millis(20)).await;
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    assert_eq!(db.breaker_state(), BreakerState::Closed);
    let health = db.health().await;
    assert!(health.healthy, "{health}");
    assert_eq!(health.breaker, BreakerState::Closed);
    assert_eq!(health.error, None);
    let (stats, m) = capture::metrics_after(&name, || db.stats());
    assert_eq!(stats.breaker_transitions, 3, "open, half-open, closed");
    for to in ["open", "half_open", "closed"] {
        assert_eq!(
            m.counter("dal_breaker_transitions_total", &[("to", to)]),
            1,
            "{to}"
        );
    }
    assert_eq!(m.gauge("dal_breaker_state"), 0.0);
    let levels: Vec<tracing::Level> = capture::events("dal::breaker", &name)
        .iter()
        .map(|e| e.level)
        .collect();
    assert_eq!(
        levels,
        [
            tracing::Level::WARN,
            tracing::Level::INFO,
            tracing::Level::INFO
        ]
    );
    db.close();
}

// ------------------------------------------------------------------ transaction re-run

/// A transaction closure that hits a real serialization failure (PostgreSQL:
/// write skew between two SERIALIZABLE transactions) or deadlock (MariaDB:
/// two transactions locking two rows in opposite orders, the closure's being
/// the lighter one and so the victim) on its first run is run again on a new
/// transaction and commits; the re-run is counted as a `transaction` retry
/// with a WARN on `dal::retry`.
async fn transaction_rerun(dialect: Dialect) {
    let name = support::unique_name();
    let Some(t) = open(dialect, &name, |b| {
        b.max_connections(4)
            .retry_base_delay(Duration::from_millis(5))
            .retry_max_delay(Duration::from_millis(20))
    })
    .await
    else {
        return;
    };
    let db = t.db.clone();
    db.execute(
        "CREATE TABLE [obs_t] ([id] INTEGER PRIMARY KEY, [n] INTEGER NOT NULL)",
        (),
    )
    .await
    .unwrap();
    db.execute("CREATE TABLE [obs_filler] ([x] INTEGER NOT NULL)", ())
        .await
        .unwrap();
    if dialect == Dialect::MySql {
        db.execute("INSERT INTO [obs_t] ([id], [n]) VALUES (1, 0), (2, 0)", ())
            .await
            .unwrap();
    }

    // the other transaction, driven step by step from the closure's first run
    let (to_other, mut other_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (other_tx, from_other) = tokio::sync::mpsc::unbounded_channel::<()>();
    let from_other = Arc::new(tokio::sync::Mutex::new(from_other));
    let other = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut tx = db.begin().await.unwrap();
            match tx.dialect() {
                Dialect::Postgres => {
                    tx.execute_script("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                        .await
                        .unwrap();
                    other_rx.recv().await.unwrap(); // the closure has read
                    let _: i64 = tx
                        .fetch_scalar("SELECT COUNT(*) FROM [obs_t]", ())
                        .await
                        .unwrap();
                    tx.execute("INSERT INTO [obs_t] ([id], [n]) VALUES (2, 0)", ())
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                    other_tx.send(()).unwrap(); // committed
                }
                _ => {
                    // heavier than the closure's transaction: InnoDB picks the
                    // lighter one as the deadlock victim
                    tx.execute("UPDATE [obs_t] SET [n] = [n] + 1 WHERE [id] = 2", ())
                        .await
                        .unwrap();
                    tx.execute_many(
                        "INSERT INTO [obs_filler] ([x]) VALUES (?)",
                        (0..50).map(|i| (i,)),
                    )
                    .await
                    .unwrap();
                    other_tx.send(()).unwrap(); // row 2 locked
                    other_rx.recv().await.unwrap(); // the closure holds row 1
                    other_tx.send(()).unwrap(); // about to wait for row 1
                    tx.execute("UPDATE [obs_t] SET [n] = [n] + 1 WHERE [id] = 1", ())
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                }
            }
        })
    };

    let runs = Arc::new(AtomicU32::new(0));
    let to_other = Arc::new(to_other);
    let outcome = db
        .transaction(|tx| {
            let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
            let (to_other, from_other) = (to_other.clone(), from_other.clone());
            let db = tx.db().clone();
            Box::pin(async move {
                match tx.dialect() {
                    Dialect::Postgres => {
                        tx.execute_script("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                            .await?;
                        let _: i64 = tx.fetch_scalar("SELECT COUNT(*) FROM [obs_t]", ()).await?;
                        if run == 1 {
                            to_other.send(()).unwrap();
                            from_other.lock().await.recv().await.unwrap();
                        }
                        tx.execute("INSERT INTO [obs_t] ([id], [n]) VALUES (1, 0)", ())
                            .await?;
                    }
                    _ => {
                        if run == 1 {
                            from_other.lock().await.recv().await.unwrap();
                        }
                        tx.execute("UPDATE [obs_t] SET [n] = [n] + 1 WHERE [id] = 1", ())
                            .await?;
                        if run == 1 {
                            to_other.send(()).unwrap();
                            from_other.lock().await.recv().await.unwrap();
                            // until the other transaction waits for row 1 (a
                            // loaded machine can take a while to get it there)
                            let deadline = Instant::now() + Duration::from_secs(30);
                            loop {
                                let waiting: i64 = db
                                    .fetch_scalar(
                                        "SELECT COUNT(*) FROM information_schema.INNODB_TRX \
                                         WHERE trx_state = 'LOCK WAIT' AND trx_query LIKE ?",
                                        ("%obs_t%",),
                                    )
                                    .await?;
                                if waiting > 0 {
                                    break;
                                }
                                assert!(Instant::now() < deadline, "no lock wait");
                                tokio::time::sleep(Duration::from_millis(2)).await;
                            }
                        }
                        tx.execute("UPDATE [obs_t] SET [n] = [n] + 1 WHERE [id] = 2", ())
                            .await?;
                    }
                }
                Ok(run)
            })
        })
        .await;
    other.await.unwrap();
    assert_eq!(outcome.unwrap(), 2, "committed on the second run");
    assert_eq!(runs.load(Ordering::SeqCst), 2);

    let rows: Vec<(i64, i64)> = db
        .fetch_all_as("SELECT [id], [n] FROM [obs_t] ORDER BY [id]", ())
        .await
        .unwrap();
    match dialect {
        Dialect::Postgres => assert_eq!(rows, [(1, 0), (2, 0)]),
        _ => assert_eq!(rows, [(1, 2), (2, 2)], "both transactions applied once"),
    }
    let (stats, m) = capture::metrics_after(&name, || db.stats());
    assert_eq!(stats.retries, 1, "{stats}");
    assert_eq!(stats.errors_of(ErrorKind::Serialization), 1, "{stats}");
    assert_eq!(
        m.counter("dal_retries_total", &[("kind", "transaction")]),
        1
    );
    assert_eq!(m.counter("dal_retries_total", &[("kind", "read")]), 0);
    assert_eq!(
        m.counter("dal_errors_total", &[("kind", "serialization")]),
        1
    );
    let retries = capture::events("dal::retry", &name);
    assert_eq!(retries.len(), 1, "{retries:?}");
    assert_eq!(field(&retries[0].fields, "kind"), "transaction");
    let cause = field(&retries[0].fields, "error");
    match dialect {
        Dialect::Postgres => assert!(cause.contains("serialization failure (40001)"), "{cause}"),
        _ => assert!(cause.contains("deadlock (1213)"), "{cause}"),
    }
    // the failed statement and the re-run carry different transaction ids
    let spans = capture::spans(&name);
    let failed = spans
        .iter()
        .find(|s| s.contains_key("error"))
        .expect("the failed statement's span");
    let failed_tx = num(failed, "dal.transaction_id");
    let last_commit = spans
        .iter()
        .rfind(|s| field(s, "db.statement") == "COMMIT")
        .expect("a COMMIT span");
    let committed_tx = num(last_commit, "dal.transaction_id");
    assert_ne!(failed_tx, 0);
    assert_ne!(committed_tx, 0);
    assert_ne!(failed_tx, committed_tx);
}

// ------------------------------------------------------------------ SQLite locks

/// SQLite under a write lock held by another connection (the file is in WAL
/// mode): a read is not blocked; a write waits for the lock with async sleeps
/// (the test runs on a single-threaded runtime, where the task releasing the
/// lock only gets to run if the wait yields) and succeeds as one attempt, with
/// no retry counted; a lock held past the busy timeout fails with
/// `Error::Busy` after waiting the busy timeout once: it is not re-run (that
/// would multiply the caller's wait), and it is counted as `busy`.
async fn sqlite_busy() {
    let name = support::unique_name();
    let Some(t) = open(Dialect::Sqlite, &name, |b| {
        b.max_connections(3)
            .sqlite_busy_timeout(Duration::from_millis(60))
            .retry_max_attempts(3)
            .retry_base_delay(Duration::from_millis(5))
            .retry_max_delay(Duration::from_millis(10))
    })
    .await
    else {
        return;
    };
    let db = t.db.clone();
    db.execute("CREATE TABLE [obs_l] ([id] INTEGER PRIMARY KEY)", ())
        .await
        .unwrap();
    let count = "SELECT COUNT(*) FROM [obs_l]";
    let insert = "INSERT INTO [obs_l] ([id]) VALUES (?)";

    // a writer holds the lock (BEGIN IMMEDIATE): a read goes through at once
    let mut tx = db.begin().await.unwrap();
    tx.execute(insert, (100,)).await.unwrap();
    let n: i64 = db.fetch_scalar(count, ()).await.unwrap();
    assert_eq!(n, 0, "the uncommitted row is not seen");
    let stats = db.stats();
    assert_eq!((stats.errors_total, stats.retries), (0, 0), "{stats}");

    // a write waits for the lock, released within the busy timeout (20 ms
    // after the write started)
    let started = statement_started(&db, "INSERT INTO");
    let release = tokio::spawn(async move {
        started.await.expect("the write started");
        tokio::time::sleep(Duration::from_millis(20)).await;
        tx.commit().await.unwrap();
    });
    let spans_before = capture::spans(&name).len();
    let start = Instant::now();
    db.execute(insert, (1,)).await.unwrap();
    let waited = start.elapsed();
    release.await.unwrap();
    assert!(
        waited >= Duration::from_millis(15),
        "did not wait: {waited:?}"
    );
    let spans = capture::spans(&name);
    let waits: Vec<&Fields> = spans[spans_before..]
        .iter()
        .filter(|s| field(s, "db.operation") == "execute")
        .collect();
    assert_eq!(waits.len(), 1, "one attempt: {waits:?}");
    assert_eq!(num(waits[0], "dal.attempt"), 1);
    assert!(!waits[0].contains_key("error"), "{waits:?}");
    assert!(num(waits[0], "duration_us") >= 15_000, "{waits:?}");
    let stats = db.stats();
    assert_eq!((stats.errors_total, stats.retries), (0, 0), "{stats}");
    assert!(capture::events("dal::retry", &name).is_empty());

    // the lock held past the busy timeout: one attempt, waiting once, fails busy
    let holder = db.begin().await.unwrap();
    let spans_before = capture::spans(&name).len();
    let start = Instant::now();
    let err = db.execute(insert, (2,)).await.unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, Error::Busy { .. }), "{err:?}");
    assert!(
        took >= Duration::from_millis(60),
        "waited the busy timeout: {took:?}"
    );
    assert_eq!(ErrorKind::of(&err), ErrorKind::Busy);
    holder.rollback().await.unwrap();
    let spans = capture::spans(&name);
    let attempts: Vec<(u64, bool)> = spans[spans_before..]
        .iter()
        .filter(|s| field(s, "db.operation") == "execute")
        .map(|s| (num(s, "dal.attempt"), s.contains_key("error")))
        .collect();
    assert_eq!(attempts, [(1, true)]);
    let (stats, m) = capture::metrics_after(&name, || db.stats());
    assert_eq!(stats.retries, 0, "{stats}");
    assert_eq!(stats.errors_of(ErrorKind::Busy), 1, "{stats}");
    assert_eq!(stats.errors_total, 1, "{stats}");
    assert_eq!(
        m.counter("dal_retries_total", &[("kind", "transaction")]),
        0
    );
    assert_eq!(m.counter("dal_retries_total", &[("kind", "read")]), 0);
    assert_eq!(m.counter("dal_retries_total", &[("kind", "connect")]), 0);
    assert_eq!(m.counter("dal_errors_total", &[("kind", "busy")]), 1);
    assert!(capture::events("dal::retry", &name).is_empty());

    // the lock gone: the write goes through, once
    db.execute(insert, (2,)).await.unwrap();
    let ids: Vec<(i64,)> = db
        .fetch_all_as("SELECT [id] FROM [obs_l] ORDER BY [id]", ())
        .await
        .unwrap();
    assert_eq!(ids, [(1,), (2,), (100,)]);
}

// ------------------------------------------------------------------ per backend

/// A server message that quotes a bound value (MariaDB's duplicate entry) is
/// logged with the value masked (span `error`, `LogHook`), while the error the
/// caller gets keeps the full text. With `log_parameters` on, literals written
/// into the SQL show in the span's statement.
async fn redaction(dialect: Dialect) {
    let name = support::unique_name();
    let Some(t) = open(dialect, &name, |b| b).await else {
        return;
    };
    let db = &t.db;
    db.add_hook(Arc::new(LogHook::errors_only()));
    db.execute(
        "CREATE TABLE [obs_r] ([id] INTEGER PRIMARY KEY, [label] VARCHAR(40) NOT NULL UNIQUE)",
        (),
    )
    .await
    .unwrap();
    let insert = "INSERT INTO [obs_r] ([id], [label]) VALUES (?, ?)";
    db.execute(insert, (1, BOUND)).await.unwrap();
    let err = db.execute(insert, (2, BOUND)).await.unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    if dialect == Dialect::MySql {
        // the server quotes the value: the caller sees it, the logs do not
        assert!(err.to_string().contains(BOUND), "{err}");
        assert!(!err.redacted().contains(BOUND), "{}", err.redacted());
    }
    let spans = capture::spans(&name);
    let failed: Vec<_> = spans.iter().filter(|f| f.contains_key("error")).collect();
    assert_eq!(failed.len(), 1, "{spans:?}");
    assert_eq!(field(failed[0], "error"), err.redacted());
    let logged = capture::events("dal::statements", &name);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(field(&logged[0].fields, "error"), err.redacted());
    assert_no_secrets(spans.iter().chain(logged.iter().map(|e| &e.fields)));

    // log_parameters: literals in the SQL text are shown
    let shown = support::unique_name();
    let Some(t2) = open(dialect, &shown, |b| b.log_parameters(true)).await else {
        return;
    };
    let sql = format!("SELECT '{LITERAL}' AS [x]");
    t2.db.fetch_all(&sql, ()).await.unwrap();
    let spans = capture::spans(&shown);
    assert!(
        spans
            .iter()
            .any(|f| field(f, "db.statement").contains(LITERAL)),
        "{spans:?}"
    );
}

/// The pool gauges end where the pool ends: after many concurrent checkouts
/// and returns (and the pool's upkeep running alongside), a scrape without a
/// `stats()` call in between shows every connection idle, none in use. A
/// gauge write computed from an older state must never land after a newer
/// one.
async fn gauges_follow_concurrent_use(dialect: Dialect) {
    let name = support::unique_name();
    let Some(t) = open(dialect, &name, |b| b.max_connections(4)).await else {
        return;
    };
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let db = t.db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..40 {
                let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
                assert_eq!(one, 1);
                tokio::task::yield_now().await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let ((), m) = capture::metrics_after(&name, || ());
    let size = m.gauge("dal_pool_size");
    assert!((1.0..=4.0).contains(&size), "{m:?}");
    assert_eq!(m.gauge("dal_pool_in_use"), 0.0, "{m:?}");
    assert_eq!(m.gauge("dal_pool_idle"), size, "{m:?}");
    let stats = t.db.stats();
    assert_eq!(stats.pool.size as f64, size, "{stats}");
    assert_eq!(stats.pool.in_use, 0, "{stats}");
}

macro_rules! observability_tests {
    ($dialect:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                crate::$name($dialect).await;
            }
        )*
    };
}

mod sqlite {
    observability_tests!(dal::Dialect::Sqlite;
        spans, metrics, gauges_follow_concurrent_use, hooks, statement_errors_keep_the_breaker_closed,
        query_timeout_and_advice, redaction);

    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_busy() {
        crate::sqlite_busy().await;
    }
}

mod postgres {
    observability_tests!(dal::Dialect::Postgres;
        spans, metrics, gauges_follow_concurrent_use, hooks, statement_errors_keep_the_breaker_closed,
        query_timeout_and_advice, lost_connection_retries, breaker_opens_and_closes,
        transaction_rerun, redaction);
}

mod mysql {
    observability_tests!(dal::Dialect::MySql;
        spans, metrics, gauges_follow_concurrent_use, hooks, statement_errors_keep_the_breaker_closed,
        query_timeout_and_advice, lost_connection_retries, breaker_opens_and_closes,
        transaction_rerun, redaction);
}
