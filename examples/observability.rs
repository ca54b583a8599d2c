//! Observability: what dal tells operators while it works.
//!
//! Installs a `tracing` subscriber (dal's warnings: slow queries, leaks,
//! retries, breaker changes; `RUST_LOG=dal::query=debug` adds one span per
//! statement) and a Prometheus recorder for the `metrics` facade, runs a small
//! workload with a slow query, a timed-out query, a constraint violation and a
//! connection held too long, then prints:
//!
//! - the per-statement timing table of a [`TimingHook`],
//! - `db.stats()` (timeout rate and scaling advice included),
//! - `db.health()`,
//! - the `dal_*` series the metrics recorder collected.
//!
//! Run with `cargo run --example observability` (embedded SQLite), or pass a
//! server URL: `cargo run --example observability -- postgres://postgres@127.0.0.1/postgres`.

use std::sync::Arc;
use std::time::Duration;

use dal::hooks::TimingHook;
use dal::{DatabaseConfig, Db, Dialect, Entity, Error};

#[derive(Entity, Debug, Clone)]
#[dal(table = "obs_accounts", history)]
struct Account {
    #[dal(id)]
    id: i64,
    #[dal(length = 120, unique)]
    email: String,
    balance: i64,
}

/// A statement that takes about `ms` milliseconds on each dialect.
fn slow_sql(dialect: Dialect, ms: u64) -> String {
    match dialect {
        Dialect::Postgres => format!("SELECT pg_sleep({})", ms as f64 / 1000.0),
        Dialect::MySql => format!("SELECT SLEEP({})", ms as f64 / 1000.0),
        // about 1,500 rows per millisecond in a debug build on a small machine
        Dialect::Sqlite => format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {}) \
             SELECT COUNT(*) FROM c",
            ms * 1_500
        ),
    }
}

#[tokio::main]
async fn main() -> dal::Result<()> {
    // dal logs through `tracing`: warnings by default, spans with RUST_LOG.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "dal=info".into()),
        )
        .with_target(true)
        .init();
    // ... and counts through `metrics`: any recorder works; Prometheus here.
    let prometheus = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| Error::Driver(format!("metrics recorder: {e}")))?;

    // a SQLite file (a pool of several connections), replaced on each run
    let file = std::env::temp_dir().join("dal-observability-example.db");
    let _ = std::fs::remove_file(&file);
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("sqlite://{}", file.display()));
    let config = DatabaseConfig::builder(&url)
        .name("shop")
        .max_connections(4)
        .slow_query_threshold(Duration::from_millis(50))
        .leak_detection_threshold(Duration::from_millis(200))
        .capture_backtrace(false)
        .build()?;
    let db = Db::connect(config).await?;
    let dialect = db.dialect();

    // A hook sees every statement (literals masked) without touching dal.
    let timing = Arc::new(TimingHook::new());
    db.add_hook(timing.clone());

    // Ordinary work.
    db.drop_table_if_exists("obs_accounts_history").await?;
    db.drop_table_if_exists("obs_accounts").await?;
    Account::ensure_schema(&db).await?;
    for i in 0..20 {
        let mut a = Account {
            id: 0,
            email: format!("user{i}@example.com"),
            balance: 100,
        };
        a.save(&db).await?;
        a.balance += i;
        a.save(&db).await?;
    }
    let rich = Account::find()
        .filter(Account::BALANCE.gt(110))
        .count(&db)
        .await?;
    println!("accounts with more than 110: {rich}");

    // A constraint violation: counted as an error, never as an outage.
    let mut dup = Account {
        id: 0,
        email: "user0@example.com".into(),
        balance: 0,
    };
    let err = dup.save(&db).await.unwrap_err();
    println!("duplicate email refused: {err}");

    // A slow query: a warning on the `dal::slow` target and a counter.
    db.query(&slow_sql(dialect, 120)).fetch_all().await?;

    // A query over its timeout: stopped on the server, Error::Timeout here.
    let err = db
        .query(&slow_sql(dialect, 5_000))
        .timeout(Duration::from_millis(200))
        .fetch_all()
        .await
        .unwrap_err();
    println!("long query: {err}");

    // A connection held longer than the leak threshold is reported once.
    let tx = db.begin().await?;
    tokio::time::sleep(Duration::from_millis(600)).await;
    for held in db.held_connections() {
        println!(
            "held connection: {:?} so far, acquired at {}",
            held.held_for, held.acquired_at
        );
    }
    tx.rollback().await?;

    println!("\n== slowest statements (TimingHook) ==");
    for t in timing.snapshot().iter().take(5) {
        println!(
            "{:>4} x {:>9.3?} mean, {:>9.3?} max, {} errors  {}",
            t.count,
            t.mean(),
            t.max,
            t.errors,
            shorten(&t.statement, 70)
        );
    }

    println!("\n== db.stats() ==\n{}", db.stats());
    println!("\n== db.health() ==\n{}", db.health().await);

    println!("\n== metrics (Prometheus text, dal_* series) ==");
    prometheus.run_upkeep();
    for line in prometheus.render().lines() {
        if line.starts_with("dal_") && !line.contains("quantile=\"0.") {
            println!("{line}");
        }
    }
    db.close();
    Ok(())
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}
