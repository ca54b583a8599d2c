//! Contracts a caller relies on, on every backend where they apply:
//!
//! * every timeout is a contract: a call gets its error no later than the
//!   limit that bounds it + 10% (+ one scheduler tick), whatever the server,
//!   the network or the retry policy do, and the error states the real
//!   elapsed time and which limit ran out;
//! * input the client itself made invalid is a client error: never retried,
//!   never counted by the circuit breaker, and the connection is kept.
//!
//! The servers are reached directly and through the in-process fault proxy
//! (`support::proxy`); a PostgreSQL backend is also frozen with SIGSTOP.

#[macro_use]
#[allow(unused_macros)]
mod support;

use std::time::{Duration, Instant};

use dal::{DatabaseConfig, Db, Dialect, Error, TimeoutKind};
use support::TestDb;
use support::proxy::{Mode, Proxy, upstream_of};

/// One scheduler tick of slack on top of the contract's 10%.
const TICK: Duration = Duration::from_millis(15);

/// Assert the call that took `took` ended within `limit` + 10% + a tick.
#[track_caller]
fn within_contract(took: Duration, limit: Duration, what: &str) {
    let bound = limit + limit / 10 + TICK;
    assert!(
        took <= bound,
        "{what}: error after {took:?}, the contract is {limit:?} + 10% ({bound:?})"
    );
}

/// The fields of a timeout error (panics on anything else).
#[track_caller]
fn timeout_parts(e: &Error) -> (TimeoutKind, TimeoutKind, Duration, Duration) {
    match e {
        Error::Timeout {
            kind,
            budget,
            after,
            elapsed,
            ..
        } => (*kind, *budget, *after, *elapsed),
        other => panic!("expected a timeout, got {other:?}"),
    }
}

/// The error's `elapsed` is the real time the caller waited (give or take
/// the time between the error and the caller's clock read).
#[track_caller]
fn elapsed_is_real(e: &Error, took: Duration) {
    let (_, _, _, elapsed) = timeout_parts(e);
    assert!(
        elapsed <= took && took - elapsed < Duration::from_millis(50),
        "the error says {elapsed:?}, the caller waited {took:?}: {e}"
    );
    assert!(
        e.to_string().contains(" after "),
        "the message states the elapsed time: {e}"
    );
}

/// A TCP endpoint that accepts connections and never answers.
async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    (format!("127.0.0.1:{}", addr.port()), task)
}

/// A pool of one connection on `url` (so a test's calls share a session).
async fn single_connection(url: &str) -> Db {
    Db::connect(
        DatabaseConfig::builder(url)
            .max_connections(1)
            .build()
            .unwrap(),
    )
    .await
    .unwrap()
}

async fn server(dialect: Dialect) -> Option<TestDb> {
    match dialect {
        Dialect::Postgres => support::postgres().await,
        Dialect::MySql => support::mysql().await,
        Dialect::Sqlite => support::sqlite().await,
    }
}

fn sleep_sql(dialect: Dialect, secs: u32) -> String {
    match dialect {
        Dialect::Postgres => format!("SELECT pg_sleep({secs})"),
        Dialect::MySql => format!("SELECT SLEEP({secs})"),
        // an endless recursive query: only the interrupt stops it
        Dialect::Sqlite => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
                            SELECT COUNT(*) FROM c"
            .to_string(),
    }
}

// ---------------------------------------------------------------- timeouts

/// A connection to a host that accepts TCP and never answers: the first call
/// ends by the acquire timeout (which bounds the whole checkout), not by the
/// connect timeout, and not by a multiple of it when the connect is retried.
#[tokio::test]
async fn connect_to_a_silent_host_ends_by_the_acquire_timeout() {
    let (addr, task) = black_hole().await;
    for scheme in ["postgres", "mysql"] {
        // connect timeout longer than the acquire timeout
        let config = DatabaseConfig::builder(format!("{scheme}://u:p@{addr}/db"))
            .acquire_timeout(Duration::from_millis(600))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let db = Db::connect_lazy(config).unwrap();
        let start = Instant::now();
        let err = db.fetch_all("SELECT 1", ()).await.unwrap_err();
        let took = start.elapsed();
        within_contract(took, Duration::from_millis(600), scheme);
        let (kind, budget, after, _) = timeout_parts(&err);
        assert_eq!(
            (kind, budget),
            (TimeoutKind::Connect, TimeoutKind::Acquire),
            "{err}"
        );
        assert_eq!(after, Duration::from_millis(600));
        elapsed_is_real(&err, took);
        assert!(
            err.is_infrastructure(),
            "a silent server counts for the breaker"
        );

        // connect timeout shorter: attempts are retried, all inside the acquire timeout
        let config = DatabaseConfig::builder(format!("{scheme}://u:p@{addr}/db"))
            .acquire_timeout(Duration::from_millis(900))
            .connect_timeout(Duration::from_millis(200))
            .retry_max_attempts(10)
            .retry_base_delay(Duration::from_millis(10))
            .build()
            .unwrap();
        let db = Db::connect_lazy(config).unwrap();
        let start = Instant::now();
        let err = db.fetch_all("SELECT 1", ()).await.unwrap_err();
        let took = start.elapsed();
        within_contract(took, Duration::from_millis(900), scheme);
        assert!(
            took >= Duration::from_millis(400),
            "{scheme}: the connect was retried within the acquire timeout ({took:?})"
        );
        let (kind, _, _, _) = timeout_parts(&err);
        assert_eq!(kind, TimeoutKind::Connect, "{err}");
        elapsed_is_real(&err, took);
        assert!(db.stats().retries >= 1, "{}", db.stats());

        // and a query timeout shorter than both bounds the checkout too (a
        // fresh pool: the breaker of the one above has opened by now)
        let config = DatabaseConfig::builder(format!("{scheme}://u:p@{addr}/db"))
            .acquire_timeout(Duration::from_millis(900))
            .connect_timeout(Duration::from_millis(200))
            .retry_base_delay(Duration::from_millis(10))
            .build()
            .unwrap();
        let db = Db::connect_lazy(config).unwrap();
        let start = Instant::now();
        let err = db
            .query("SELECT 1")
            .timeout(Duration::from_millis(300))
            .fetch_all()
            .await
            .unwrap_err();
        let took = start.elapsed();
        within_contract(took, Duration::from_millis(300), scheme);
        let (kind, budget, after, _) = timeout_parts(&err);
        assert_eq!(
            (kind, budget),
            (TimeoutKind::Connect, TimeoutKind::Query),
            "{err}"
        );
        assert_eq!(after, Duration::from_millis(300));
        elapsed_is_real(&err, took);
    }
    task.abort();
}

/// `Db::connect` against a silent host: the connect timeout, reported with
/// the real time, never more than the pool-creation timeout.
#[tokio::test]
async fn pool_creation_reports_the_limit_that_ran_out() {
    let (addr, task) = black_hole().await;
    for scheme in ["postgres", "mysql"] {
        let config = DatabaseConfig::builder(format!("{scheme}://u:p@{addr}/db"))
            .connect_timeout(Duration::from_millis(300))
            .pool_creation_timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        let start = Instant::now();
        let err = Db::connect(config).await.unwrap_err();
        let took = start.elapsed();
        within_contract(took, Duration::from_millis(300), scheme);
        let (kind, budget, after, _) = timeout_parts(&err);
        assert_eq!((kind, budget), (TimeoutKind::Connect, TimeoutKind::Connect));
        assert_eq!(after, Duration::from_millis(300));
        elapsed_is_real(&err, took);

        let config = DatabaseConfig::builder(format!("{scheme}://u:p@{addr}/db"))
            .connect_timeout(Duration::from_secs(10))
            .pool_creation_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let start = Instant::now();
        let err = Db::connect(config).await.unwrap_err();
        let took = start.elapsed();
        within_contract(took, Duration::from_millis(300), scheme);
        let (kind, budget, _, _) = timeout_parts(&err);
        assert_eq!(
            (kind, budget),
            (TimeoutKind::PoolCreation, TimeoutKind::PoolCreation)
        );
        elapsed_is_real(&err, took);
    }
    task.abort();
}

/// Every connection busy: the acquire timeout, or the call's query timeout
/// when that ends first.
async fn exhausted_pool_ends_by_the_earlier_limit(dialect: Dialect) {
    let Some(t) = server(dialect).await else {
        return;
    };
    let db = Db::connect(
        DatabaseConfig::builder(&t.url)
            .max_connections(1)
            .acquire_timeout(Duration::from_millis(400))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let held = db.begin().await.unwrap();
    let start = Instant::now();
    let err = db.fetch_all("SELECT 1", ()).await.unwrap_err();
    let took = start.elapsed();
    within_contract(took, Duration::from_millis(400), "acquire");
    assert!(took >= Duration::from_millis(400), "{took:?}");
    let (kind, budget, after, _) = timeout_parts(&err);
    assert_eq!((kind, budget), (TimeoutKind::Acquire, TimeoutKind::Acquire));
    assert_eq!(after, Duration::from_millis(400));
    elapsed_is_real(&err, took);
    assert!(!err.is_infrastructure(), "a full pool is local capacity");

    let start = Instant::now();
    let err = db
        .query("SELECT 1")
        .timeout(Duration::from_millis(150))
        .fetch_all()
        .await
        .unwrap_err();
    let took = start.elapsed();
    within_contract(
        took,
        Duration::from_millis(150),
        "query timeout while waiting",
    );
    let (kind, budget, after, _) = timeout_parts(&err);
    assert_eq!((kind, budget), (TimeoutKind::Acquire, TimeoutKind::Query));
    assert_eq!(after, Duration::from_millis(150));
    elapsed_is_real(&err, took);
    drop(held);
    assert_eq!(db.breaker_state(), dal::BreakerState::Closed);
    db.close();
}

#[tokio::test]
async fn exhausted_pool_sqlite() {
    exhausted_pool_ends_by_the_earlier_limit(Dialect::Sqlite).await
}
#[tokio::test]
async fn exhausted_pool_postgres() {
    exhausted_pool_ends_by_the_earlier_limit(Dialect::Postgres).await
}
#[tokio::test]
async fn exhausted_pool_mysql() {
    exhausted_pool_ends_by_the_earlier_limit(Dialect::MySql).await
}

/// A statement longer than its timeout: the error by the limit + 10%, both
/// for a call on the pool and for a statement inside a transaction (whose
/// connection is then given up and its session ended on the server).
async fn long_statement_ends_by_its_timeout(dialect: Dialect) {
    let Some(t) = server(dialect).await else {
        return;
    };
    // the table the transaction part writes, made with the default limits
    // (DDL on a loaded server may itself take longer than 300 ms)
    t.db.execute_script("CREATE TABLE tx_probe (n INTEGER)")
        .await
        .unwrap();
    let db = Db::connect(
        DatabaseConfig::builder(&t.url)
            .max_connections(2)
            .query_timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let sql = sleep_sql(dialect, 20);
    // the configured default
    let start = Instant::now();
    let err = db.fetch_all(&sql, ()).await.unwrap_err();
    let took = start.elapsed();
    within_contract(took, Duration::from_millis(300), "default query timeout");
    let (kind, budget, after, _) = timeout_parts(&err);
    assert_eq!((kind, budget), (TimeoutKind::Query, TimeoutKind::Query));
    assert_eq!(after, Duration::from_millis(300));
    elapsed_is_real(&err, took);
    // a per-call one
    let start = Instant::now();
    let err = db
        .query(&sql)
        .timeout(Duration::from_millis(200))
        .fetch_all()
        .await
        .unwrap_err();
    let took = start.elapsed();
    within_contract(took, Duration::from_millis(200), "per-call query timeout");
    elapsed_is_real(&err, took);
    // a script
    let start = Instant::now();
    let err = db.execute_script(&sql).await.unwrap_err();
    within_contract(start.elapsed(), Duration::from_millis(300), "script");
    assert_eq!(timeout_parts(&err).0, TimeoutKind::Query);

    // inside a transaction
    let mut tx = db.begin().await.unwrap();
    tx.execute("INSERT INTO [tx_probe] ([n]) VALUES (?)", (1,))
        .await
        .unwrap();
    let start = Instant::now();
    let err = tx.fetch_all(&sql, ()).await.unwrap_err();
    let took = start.elapsed();
    within_contract(
        took,
        Duration::from_millis(300),
        "statement in a transaction",
    );
    assert_eq!(timeout_parts(&err).0, TimeoutKind::Query);
    let start = Instant::now();
    let _ = tx.rollback().await;
    assert!(
        start.elapsed() < Duration::from_millis(330),
        "rollback after a timeout waits for nothing"
    );
    // the transaction's write is gone, the pool works
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let n: i64 = db
            .fetch_scalar("SELECT COUNT(*) FROM [tx_probe]", ())
            .await
            .unwrap();
        if n == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the timed-out transaction was not rolled back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(db.stats().query_timeouts, 4, "{}", db.stats());
    db.close();
}

#[tokio::test]
async fn long_statement_sqlite() {
    long_statement_ends_by_its_timeout(Dialect::Sqlite).await
}
#[tokio::test]
async fn long_statement_postgres() {
    long_statement_ends_by_its_timeout(Dialect::Postgres).await
}
#[tokio::test]
async fn long_statement_mysql() {
    long_statement_ends_by_its_timeout(Dialect::MySql).await
}

/// A server that stops answering mid-statement (the path black-holed, so the
/// cancel cannot reach it either): the caller still gets its error by the
/// query timeout + 10%, with no confirmation grace added; the connection is
/// given up in the background.
async fn hung_path_ends_by_the_query_timeout(dialect: Dialect) {
    let Some(t) = server(dialect).await else {
        return;
    };
    let upstream = upstream_of(&t.url).expect("server url names a host");
    let proxy = Proxy::start(&upstream).await.unwrap();
    let db = Db::connect(
        DatabaseConfig::builder(proxy.url_for(&t.url))
            .max_connections(1)
            .query_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    proxy.set_mode(Mode::BlackHole);
    let start = Instant::now();
    let err = db.fetch_all("SELECT 1", ()).await.unwrap_err();
    let took = start.elapsed();
    within_contract(took, Duration::from_millis(500), "hung path");
    let (kind, budget, _, _) = timeout_parts(&err);
    assert_eq!(
        (budget, kind),
        (TimeoutKind::Query, TimeoutKind::Query),
        "{err}"
    );
    elapsed_is_real(&err, took);
    // the next call, still in the dark, keeps the same contract (the
    // connection is being recovered in the background, so this waits for a
    // free one, or opens a new one that never answers)
    let start = Instant::now();
    let err = db.fetch_all("SELECT 1", ()).await.unwrap_err();
    within_contract(start.elapsed(), Duration::from_millis(500), "second call");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    // a health check is bounded the same way, and reports the problem
    let start = Instant::now();
    let health = db.health().await;
    within_contract(start.elapsed(), Duration::from_millis(500), "health");
    assert!(!health.healthy, "{health}");
    assert!(!db.test_connection().await);
    proxy.set_mode(Mode::Pass);
    proxy.reset_all();
    // after the path heals, calls succeed again
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match db.fetch_scalar::<i64, _>("SELECT 1", ()).await {
            Ok(1) => break,
            r => {
                assert!(Instant::now() < deadline, "never recovered: {r:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    db.close();
}

#[tokio::test]
async fn hung_path_postgres() {
    hung_path_ends_by_the_query_timeout(Dialect::Postgres).await
}
#[tokio::test]
async fn hung_path_mysql() {
    hung_path_ends_by_the_query_timeout(Dialect::MySql).await
}

/// Restarts a stopped process when dropped (also when the test fails).
struct Continue(i64);

impl Drop for Continue {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &self.0.to_string()])
            .status();
    }
}

/// A PostgreSQL backend frozen with SIGSTOP (a hung server process): the
/// query timeout holds to the limit + 10%; once the process runs again, its
/// session is ended (the cancellation was never confirmed) and the pool
/// carries on with a new connection.
#[tokio::test]
async fn frozen_postgres_backend_keeps_the_query_timeout() {
    let Some(t) = server(Dialect::Postgres).await else {
        return;
    };
    let db = single_connection(&t.url).await;
    let pid: i64 = db
        .fetch_scalar("SELECT pg_backend_pid()", ())
        .await
        .unwrap();
    let stopped = std::process::Command::new("kill")
        .args(["-STOP", &pid.to_string()])
        .status();
    if !stopped.is_ok_and(|s| s.success()) {
        // not allowed to signal the server's processes (another user)
        assert!(
            std::env::var("DAL_TEST_REQUIRE_SERVERS").is_err(),
            "cannot SIGSTOP the PostgreSQL backend {pid}"
        );
        eprintln!("SKIPPED: cannot signal PostgreSQL backend {pid}");
        return;
    }
    let resume = Continue(pid);
    let start = Instant::now();
    let err = db
        .query("SELECT 1")
        .timeout(Duration::from_millis(500))
        .fetch_all()
        .await
        .unwrap_err();
    let took = start.elapsed();
    within_contract(took, Duration::from_millis(500), "frozen backend");
    assert_eq!(timeout_parts(&err).0, TimeoutKind::Query, "{err}");
    elapsed_is_real(&err, took);
    // the background recovery gives the session up after its grace
    tokio::time::sleep(Duration::from_millis(1300)).await;
    drop(resume);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive: i64 =
            t.db.fetch_scalar(
                "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = ?",
                (pid as i32,),
            )
            .await
            .unwrap();
        if alive == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the frozen session was not ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again: i64 = db
        .fetch_scalar("SELECT pg_backend_pid()", ())
        .await
        .unwrap();
    assert_ne!(again, pid, "a new connection replaced the frozen one");
    db.close();
}

/// Reads are retried after transient failures only inside what is left of
/// the call's deadline, however generous the retry policy.
async fn retries_stay_inside_the_deadline(dialect: Dialect) {
    let Some(t) = server(dialect).await else {
        return;
    };
    let upstream = upstream_of(&t.url).expect("server url names a host");
    let proxy = Proxy::start(&upstream).await.unwrap();
    let db = Db::connect(
        DatabaseConfig::builder(proxy.url_for(&t.url))
            .max_connections(2)
            .retry_max_attempts(50)
            .retry_base_delay(Duration::from_millis(100))
            .retry_max_delay(Duration::from_secs(1))
            .retry_budget(Duration::from_secs(60))
            .breaker_enabled(false)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    proxy.set_mode(Mode::Reset);
    proxy.reset_all();
    let start = Instant::now();
    let err = db
        .query("SELECT 1")
        .timeout(Duration::from_millis(700))
        .fetch_all()
        .await
        .unwrap_err();
    let took = start.elapsed();
    within_contract(took, Duration::from_millis(700), "retried read");
    assert!(db.stats().retries >= 1, "it was retried: {}", db.stats());
    assert!(
        err.is_transient() || matches!(err, Error::Timeout { .. }),
        "{err:?}"
    );
    proxy.set_mode(Mode::Pass);
    db.close();
}

#[tokio::test]
async fn retries_inside_the_deadline_postgres() {
    retries_stay_inside_the_deadline(Dialect::Postgres).await
}
#[tokio::test]
async fn retries_inside_the_deadline_mysql() {
    retries_stay_inside_the_deadline(Dialect::MySql).await
}

/// SQLite: a write waiting for another connection's lock waits the busy
/// timeout once (not once per retry), and reports `Error::Busy`; a query
/// timeout shorter than the busy timeout ends the wait at the deadline.
#[tokio::test]
async fn sqlite_busy_waits_once() {
    let Some(t) = support::sqlite_with(|b| b.sqlite_busy_timeout(Duration::from_millis(700))).await
    else {
        return;
    };
    t.db.execute_script("CREATE TABLE [w] ([n] INTEGER)")
        .await
        .unwrap();
    // another pool holds the write lock
    let other = Db::connect_url(&t.url).await.unwrap();
    let mut holder = other.begin().await.unwrap();
    holder
        .execute("INSERT INTO [w] ([n]) VALUES (?)", (0,))
        .await
        .unwrap();

    let start = Instant::now();
    let err =
        t.db.execute("INSERT INTO [w] ([n]) VALUES (?)", (1,))
            .await
            .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, Error::Busy { .. }), "{err:?}");
    assert!(took >= Duration::from_millis(700), "{took:?}");
    within_contract(took, Duration::from_millis(700), "busy write");
    assert!(err.is_transient() && !err.is_infrastructure());
    assert_eq!(t.db.stats().errors_of(dal::ErrorKind::Busy), 1);

    // a transaction closure: BEGIN IMMEDIATE waits once, and is not re-run
    let start = Instant::now();
    let err =
        t.db.transaction(|tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO [w] ([n]) VALUES (?)", (2,)).await?;
                Ok(())
            })
        })
        .await
        .unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, Error::Busy { .. }), "{err:?}");
    within_contract(took, Duration::from_millis(700), "busy transaction");

    // the query timeout ends the wait first
    let start = Instant::now();
    let err =
        t.db.query("INSERT INTO [w] ([n]) VALUES (?)")
            .bind(3)
            .timeout(Duration::from_millis(250))
            .execute()
            .await
            .unwrap_err();
    let took = start.elapsed();
    within_contract(
        took,
        Duration::from_millis(250),
        "busy write with a query timeout",
    );
    let (kind, budget, _, _) = timeout_parts(&err);
    assert_eq!((kind, budget), (TimeoutKind::Query, TimeoutKind::Query));
    assert_eq!(t.db.stats().retries, 0, "a lock wait is never re-run");
    assert_eq!(t.db.breaker_state(), dal::BreakerState::Closed);

    holder.commit().await.unwrap();
    t.db.execute("INSERT INTO [w] ([n]) VALUES (?)", (4,))
        .await
        .unwrap();
    let rows: Vec<(i64,)> =
        t.db.fetch_all_as("SELECT [n] FROM [w] ORDER BY [n]", ())
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![(0,), (4,)],
        "only the writes that succeeded are there"
    );
    other.close();
}

// ------------------------------------------------- client errors vs the breaker

/// Calls the client made invalid: each is a clear client error, none is
/// retried or counted by the breaker (a threshold of 2 would otherwise open
/// it), and the pool's connection is kept.
async fn invalid_input_never_trips_the_breaker(dialect: Dialect) {
    let Some(t) = server(dialect).await else {
        return;
    };
    let db = Db::connect(
        DatabaseConfig::builder(&t.url)
            .max_connections(1)
            .breaker_failure_threshold(2)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let connects = |db: &Db| db.stats().pool.size;
    let before = connects(&db);
    for _ in 0..3 {
        // a NUL byte in the statement text
        let err = db.fetch_all("SELECT 1 \0", ()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        let err = db.execute_script("SELECT 1;\0").await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        // two statements where one is expected
        let err = db.fetch_all("SELECT 1; SELECT 2", ()).await.unwrap_err();
        assert!(!err.is_infrastructure(), "{err:?}");
        // a syntax error and a wrong parameter count
        let err = db.fetch_all("SELEC 1", ()).await.unwrap_err();
        assert!(!err.is_infrastructure() && !err.is_transient(), "{err:?}");
        let err = db.fetch_all("SELECT ?", ()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
    let stats = db.stats();
    assert_eq!(stats.breaker, dal::BreakerState::Closed, "{stats}");
    assert_eq!(stats.retries, 0, "{stats}");
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    assert_eq!(connects(&db), before, "the connection was kept");
    assert_eq!(db.stats().pool.size, 1);
    db.close();
}

#[tokio::test]
async fn invalid_input_breaker_sqlite() {
    invalid_input_never_trips_the_breaker(Dialect::Sqlite).await
}
#[tokio::test]
async fn invalid_input_breaker_postgres() {
    invalid_input_never_trips_the_breaker(Dialect::Postgres).await
}
#[tokio::test]
async fn invalid_input_breaker_mysql() {
    invalid_input_never_trips_the_breaker(Dialect::MySql).await
}

/// A caller that goes away mid-statement (its future dropped, not dal's
/// deadline) leaves the pool usable: the next calls on the same single
/// connection get their own answers, never the abandoned statement's. On
/// MySQL the abandoned statement is cancelled on the server (the pool
/// recovers the connection before reuse), so the next call does not wait
/// for it.
async fn dropped_call_leaves_the_pool_usable(dialect: Dialect) {
    let Some(t) = server(dialect).await else {
        return;
    };
    let db = single_connection(&t.url).await;
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    let gone = tokio::time::timeout(
        Duration::from_millis(200),
        db.fetch_all(&sleep_sql(dialect, 3), ()),
    )
    .await;
    assert!(gone.is_err(), "the caller went away first");
    let start = Instant::now();
    for i in 0..5i64 {
        let v: i64 = db.fetch_scalar("SELECT 40 + ?", (i,)).await.unwrap();
        assert_eq!(v, 40 + i);
    }
    if dialect == Dialect::MySql {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "waited {:?} for the abandoned statement",
            start.elapsed()
        );
    }
    db.close();
}

#[tokio::test]
async fn dropped_call_postgres() {
    dropped_call_leaves_the_pool_usable(Dialect::Postgres).await
}
#[tokio::test]
async fn dropped_call_mysql() {
    dropped_call_leaves_the_pool_usable(Dialect::MySql).await
}

/// Every call on `url` fails with a configuration error whose message
/// contains `needle`: not transient, not retried, not counted by the breaker.
async fn refused_as_configuration(url: &str, needle: &str) {
    let db = Db::connect_lazy(
        DatabaseConfig::builder(url)
            .breaker_failure_threshold(1)
            .build()
            .unwrap(),
    )
    .unwrap();
    for _ in 0..3 {
        let err = db.fetch_all("SELECT 1", ()).await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{url}: {err:?}");
        assert!(!err.is_transient() && !err.is_infrastructure(), "{err:?}");
        assert!(err.to_string().contains(needle), "{url}: {err}");
    }
    let stats = db.stats();
    assert_eq!(stats.retries, 0, "{stats}");
    assert_eq!(stats.breaker, dal::BreakerState::Closed, "{stats}");
}

/// The PostgreSQL test server, its URL and the separator to add a URL
/// parameter with, when the server offers TLS (`None`, saying why, when not).
async fn postgres_with_tls() -> Option<(TestDb, String, char)> {
    let t = server(Dialect::Postgres).await?;
    let ssl: String = t.db.fetch_scalar("SHOW ssl", ()).await.unwrap();
    if ssl != "on" {
        eprintln!("SKIPPED: the PostgreSQL server has no TLS");
        return None;
    }
    let base = support::postgres_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    Some((t, base, sep))
}

/// TLS: a certificate the client refuses and a root certificate file that
/// does not exist are configuration errors: not transient, not retried, not
/// counted by the breaker, with the cause (and the file) in the message.
#[tokio::test]
async fn tls_refusals_are_configuration_errors() {
    let Some((_t, base, sep)) = postgres_with_tls().await else {
        return;
    };
    let cases = [
        (format!("{base}{sep}sslmode=verify-full"), "certificate"),
        (
            format!("{base}{sep}sslmode=verify-full&sslrootcert=/nonexistent-dal-ca/root.pem"),
            "/nonexistent-dal-ca/root.pem",
        ),
    ];
    for (url, needle) in cases {
        refused_as_configuration(&url, needle).await;
    }
    // a certificate valid for another name (the snakeoil certificate names
    // the host, not 127.0.0.1) is refused the same way
    let cert = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    if std::path::Path::new(cert).exists() && base.contains("127.0.0.1") {
        let url = format!("{base}{sep}sslmode=verify-full&sslrootcert={cert}");
        let err = Db::connect_url(&url).await.unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        assert!(err.to_string().contains("not valid for name"), "{err}");
    }
}

/// PostgreSQL TLS modes really encrypt: `require` and `verify-ca` (the
/// server's own certificate as the root: the chain is checked, the name is
/// not) connect over TLS, `disable` does not.
#[tokio::test]
async fn postgres_tls_modes() {
    let Some((t, base, sep)) = postgres_with_tls().await else {
        return;
    };
    let encrypted = |url: String| async move {
        let db = Db::connect_url(&url).await.unwrap();
        let on: bool = db
            .fetch_scalar(
                "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                (),
            )
            .await
            .unwrap();
        db.close();
        on
    };
    assert!(!encrypted(format!("{base}{sep}sslmode=disable")).await);
    assert!(encrypted(format!("{base}{sep}sslmode=require")).await);
    let cert = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    let server_cert: String =
        t.db.fetch_scalar(
            "SELECT setting FROM pg_settings WHERE name = 'ssl_cert_file'",
            (),
        )
        .await
        .unwrap();
    if server_cert == cert && std::path::Path::new(cert).exists() {
        assert!(encrypted(format!("{base}{sep}sslmode=verify-ca&sslrootcert={cert}")).await);
    } else {
        eprintln!("verify-ca not checked: the server's certificate is {server_cert}");
    }
}

/// Every PostgreSQL session starts in UTC with ISO dates, unless the URL
/// names its own time zone; settings in the URL (`timezone`, `options`)
/// reach the session.
#[tokio::test]
async fn postgres_session_settings() {
    let Some(_t) = server(Dialect::Postgres).await else {
        return;
    };
    let base = support::postgres_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    let settings = |url: String| async move {
        let db = Db::connect_url(&url).await.unwrap();
        let got: (String, String, String) = db
            .fetch_one_as(
                "SELECT current_setting('TimeZone'), current_setting('DateStyle'), \
                 current_setting('application_name')",
                (),
            )
            .await
            .unwrap();
        db.close();
        got
    };
    let (zone, style, app) = settings(base.clone()).await;
    assert_eq!((zone.as_str(), style.as_str()), ("UTC", "ISO, MDY"));
    assert_eq!(app, "dal");
    let (zone, ..) = settings(format!("{base}{sep}timezone=Europe/Paris")).await;
    assert_eq!(zone, "Europe/Paris");
    let (zone, ..) = settings(format!("{base}{sep}options=-c%20TimeZone%3DAsia/Tokyo")).await;
    assert_eq!(zone, "Asia/Tokyo");
}

/// `statement_cache_capacity(0)` on PostgreSQL leaves nothing prepared on
/// the server (every statement unnamed); the default keeps what it ran.
#[tokio::test]
async fn postgres_statement_cache_zero_prepares_nothing() {
    let Some(t) = server(Dialect::Postgres).await else {
        return;
    };
    let prepared = |capacity: usize| {
        let url = t.url.clone();
        async move {
            let db = Db::connect(
                DatabaseConfig::builder(&url)
                    .max_connections(1)
                    .statement_cache_capacity(capacity)
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap();
            for i in 0..3i64 {
                let v: i64 = db.fetch_scalar("SELECT ? + 1", (i,)).await.unwrap();
                assert_eq!(v, i + 1);
            }
            let n: i64 = db
                .fetch_scalar("SELECT COUNT(*) FROM pg_prepared_statements", ())
                .await
                .unwrap();
            db.close();
            n
        }
    };
    assert_eq!(prepared(0).await, 0);
    assert!(prepared(256).await >= 1);
}

/// MySQL/MariaDB TLS modes: `PREFERRED` (the default) connects whether or
/// not the server offers TLS; `REQUIRED` against a server without TLS, and a
/// root certificate file that does not exist, are configuration errors
/// saying why, never retried or counted by the breaker.
#[tokio::test]
async fn mysql_tls_modes() {
    let Some(t) = server(Dialect::MySql).await else {
        return;
    };
    let have_ssl: Option<(String, String)> =
        t.db.fetch_optional_as("SHOW VARIABLES LIKE 'have_ssl'", ())
            .await
            .unwrap();
    let tls_on = have_ssl.is_some_and(|(_, v)| v == "YES");
    let base = support::mysql_url();
    let sep = if base.contains('?') { '&' } else { '?' };
    // the default and PREFERRED connect either way
    for url in [base.clone(), format!("{base}{sep}ssl-mode=PREFERRED")] {
        let db = Db::connect_url(&url).await.unwrap();
        let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
        assert_eq!(one, 1);
        // later connections of the pool too (the answer "no TLS" is remembered)
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(db.begin().await.unwrap());
        }
        for tx in held {
            tx.rollback().await.unwrap();
        }
        db.close();
    }
    let mut cases = vec![(
        format!("{base}{sep}ssl-mode=VERIFY_CA&ssl-ca=/nonexistent-dal-ca/root.pem"),
        "/nonexistent-dal-ca/root.pem",
    )];
    if !tls_on {
        cases.push((format!("{base}{sep}ssl-mode=REQUIRED"), "does not offer it"));
    }
    for (url, needle) in cases {
        refused_as_configuration(&url, needle).await;
    }
}

// ------------------------------------------------------------ scaling signals

fn short_sleep(dialect: Dialect, ms: u32) -> String {
    let secs = ms as f64 / 1000.0;
    match dialect {
        Dialect::Postgres => format!("SELECT 1 FROM (SELECT pg_sleep({secs})) s"),
        Dialect::MySql => format!("SELECT 1 FROM (SELECT SLEEP({secs})) s"),
        Dialect::Sqlite => unreachable!("no server-side sleep"),
    }
}

/// Run `tasks` concurrent callers, each making `each` calls of `sql`;
/// returns (calls that succeeded, calls that timed out).
async fn overload(db: &Db, sql: &str, tasks: usize, each: usize) -> (u64, u64) {
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let db = db.clone();
        let sql = sql.to_string();
        set.spawn(async move {
            let (mut ok, mut timed_out) = (0u64, 0u64);
            for _ in 0..each {
                match db.fetch_all(&sql, ()).await {
                    Ok(_) => ok += 1,
                    Err(Error::Timeout { .. }) => timed_out += 1,
                    Err(e) => panic!("{e:?}"),
                }
            }
            (ok, timed_out)
        });
    }
    let (mut ok, mut timed_out) = (0, 0);
    while let Some(r) = set.join_next().await {
        let (o, t) = r.unwrap();
        ok += o;
        timed_out += t;
    }
    (ok, timed_out)
}

/// A pool too small for its callers in front of a database that keeps its
/// speed: the advice names the pool, the counts match the callers' exactly
/// (calls, not statements), and the end-to-end latency shows the waits the
/// statement latency does not.
async fn full_pool_is_told_apart_from_a_slow_database(dialect: Dialect) {
    let Some(t) = server(dialect).await else {
        return;
    };
    let db = Db::connect(
        DatabaseConfig::builder(&t.url)
            .max_connections(2)
            .acquire_timeout(Duration::from_millis(60))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let sql = short_sleep(dialect, 20);
    // the database's usual speed, learnt without contention
    for _ in 0..10 {
        db.fetch_all(&sql, ()).await.unwrap();
    }
    let (ok, timed_out) = overload(&db, &sql, 16, 6).await;
    let s = db.stats();
    assert_eq!(s.calls, 10 + ok + timed_out, "{s}");
    assert_eq!(s.timeouts, timed_out, "{s}");
    assert_eq!(s.acquire_timeouts, timed_out, "{s}");
    assert_eq!(s.last_1m.calls, s.calls, "{s}");
    assert!(timed_out >= 10, "the pool was overloaded: {s}");
    assert!(s.timeout_rate >= 0.01, "{s}");
    assert_eq!(s.advice, dal::ScalingAdvice::GrowPool, "{s}");
    assert!(s.advice_detail.contains("pool"), "{s}");
    assert!(
        s.call_latency_p99 > s.latency_p99,
        "the waits show end to end: {s}"
    );
    if dialect != Dialect::Sqlite {
        assert!(s.server_max_connections.is_some_and(|m| m >= 2), "{s}");
    }

    db.close();

    // a database that slows down (statements take 10x their usual time)
    // under overload: the advice points at the database
    let db = Db::connect(
        DatabaseConfig::builder(&t.url)
            .max_connections(2)
            .acquire_timeout(Duration::from_millis(250))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    for _ in 0..5 {
        db.fetch_all(&sql, ()).await.unwrap();
    }
    let slow = short_sleep(dialect, 200);
    let (ok2, timed_out2) = overload(&db, &slow, 8, 2).await;
    let s = db.stats();
    assert_eq!(s.calls, 5 + ok2 + timed_out2, "{s}");
    assert!(timed_out2 > 0 && ok2 > 5, "{s}");
    assert!(
        matches!(
            s.advice,
            dal::ScalingAdvice::ScaleVertically | dal::ScalingAdvice::ScaleHorizontally
        ),
        "{s}"
    );
    assert_eq!(
        s.advice,
        dal::ScalingAdvice::for_timeout_rate(s.timeout_rate),
        "{s}"
    );
    assert!(
        s.advice_detail.contains("database is the bottleneck"),
        "{s}"
    );
    db.close();
}

#[tokio::test]
async fn scaling_signals_postgres() {
    full_pool_is_told_apart_from_a_slow_database(Dialect::Postgres).await
}
#[tokio::test]
async fn scaling_signals_mysql() {
    full_pool_is_told_apart_from_a_slow_database(Dialect::MySql).await
}

/// With enough calls, the advice reads the last minute; the timeout rate is
/// over calls, and a call's retries and statements are part of the one call.
#[tokio::test]
async fn timeout_rate_counts_calls() {
    let Some(t) = server(Dialect::Sqlite).await else {
        return;
    };
    let db = &t.db;
    db.execute_script("CREATE TABLE [c] ([n] INTEGER)")
        .await
        .unwrap();
    let before = db.stats();
    // one call each, whatever it sends: a statement, a transaction's begin,
    // statement and commit, a multi-statement script
    db.execute("INSERT INTO [c] ([n]) VALUES (?)", (1,))
        .await
        .unwrap();
    let mut tx = db.begin().await.unwrap();
    tx.execute("INSERT INTO [c] ([n]) VALUES (?)", (2,))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    db.execute_script("INSERT INTO [c] ([n]) VALUES (3); INSERT INTO [c] ([n]) VALUES (4)")
        .await
        .unwrap();
    db.execute_many("INSERT INTO [c] ([n]) VALUES (?)", [(5,), (6,), (7,)])
        .await
        .unwrap();
    let err = db
        .query(&sleep_sql(Dialect::Sqlite, 0))
        .timeout(Duration::from_millis(30))
        .fetch_all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }));
    let after = db.stats();
    assert_eq!(after.calls - before.calls, 1 + 3 + 1 + 1 + 1, "{after}");
    assert!(
        after.statements - before.statements > after.calls - before.calls,
        "more statements than calls: {after}"
    );
    assert_eq!(after.timeouts - before.timeouts, 1);
    for _ in 0..1000 {
        db.fetch_scalar::<i64, _>("SELECT 1", ()).await.unwrap();
    }
    let s = db.stats();
    assert_eq!(s.advice_window, s.last_1m.window, "{s}");
    assert!(s.last_1m.calls >= 1000);
    assert_eq!(s.timeout_rate, s.last_1m.timeout_rate);
    assert_eq!(s.timeout_rate, 1.0 / s.last_1m.calls as f64);
    assert_eq!(s.advice, dal::ScalingAdvice::Normal, "{s}");
    assert_eq!(s.last_5m.calls, s.last_1m.calls);
    assert_eq!(s.last_15m.calls, s.calls);
    let text = s.to_string();
    assert!(text.contains("timeout rate 1 min"), "{text}");
    assert!(text.contains("calls (end to end)"), "{text}");
}
