//! The scale-out measurements of issue #17, against the same local servers
//! as the main harness:
//!
//! - **Routing overhead:** point reads (`get` by id) through a `Db` that
//!   routes them to a replica, against the same reads on a `Db` without
//!   replicas. The "replica" is the primary itself (a second pool to the
//!   same server), so that the difference is dal's routing (the replica
//!   choice, the read-your-writes map, the lag-check bookkeeping), not a
//!   second server's speed.
//! - **Cache hit latency:** `get` of an entity marked `#[dal(cache)]`
//!   answered by the in-process cache and by Redis, against the same `get`
//!   reading the database.
//!
//! As in the main harness, dal runs with a tracing subscriber and a
//! metrics recorder installed. Each figure is the median of `--runs` runs
//! of `--n` sequential calls, after one warm-up run.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml --bin scale-out -- --runs 5
//! ```

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use dal::{CacheConfig, DatabaseConfig, Db, Entity};
use serde::{Deserialize, Serialize};

#[derive(Parser, Debug)]
#[command(about = "Routing overhead and cache hit latency (issue #17)")]
struct Args {
    /// Calls per run.
    #[arg(long, default_value_t = 5000)]
    n: usize,
    /// Measured runs (the median is reported), after one warm-up run.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// PostgreSQL (default: `DAL_BENCH_POSTGRES_URL`, or the local server).
    #[arg(long)]
    postgres: Option<String>,
    /// MariaDB/MySQL (default: `DAL_BENCH_MYSQL_URL`, or the local server).
    #[arg(long)]
    mysql: Option<String>,
    /// Redis (default: `DAL_BENCH_REDIS_URL`, or the local server).
    #[arg(long)]
    redis: Option<String>,
}

/// The rows read.
#[derive(Entity, Debug, Clone, Serialize, Deserialize)]
#[dal(table = "bench_so_items", cache)]
struct Item {
    id: i64,
    #[dal(length = 100)]
    name: String,
    #[dal(length = 150)]
    email: String,
    price: i64,
    score: f64,
    active: bool,
    created_at: chrono::NaiveDateTime,
}

const ROWS: i64 = 1000;

/// `n` sequential `get`s of ids in turn: calls per second.
async fn point_reads(db: &Db, n: usize) -> Result<f64> {
    let start = Instant::now();
    for i in 0..n {
        let id = (i as i64 % ROWS) + 1;
        let item = Item::get(db, id).await?.context("a row went missing")?;
        std::hint::black_box(item);
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// The flag's URL, else the environment's, else the local server's.
fn url_of(flag: &Option<String>, var: &str, local: &str) -> String {
    flag.clone()
        .or_else(|| std::env::var(var).ok())
        .unwrap_or_else(|| local.to_string())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Each of `dbs`' rates in every run, the runs interleaved (run 1 of each,
/// then run 2 of each...) so that a slow moment of the machine falls on all.
async fn measure(dbs: &[&Db], args: &Args) -> Result<Vec<Vec<f64>>> {
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); dbs.len()];
    for run in 0..=args.runs {
        for (k, db) in dbs.iter().enumerate() {
            let r = point_reads(db, args.n).await?;
            if run > 0 {
                rates[k].push(r);
            }
        }
    }
    Ok(rates)
}

async fn backend(name: &str, url: &str, args: &Args) -> Result<()> {
    let admin = match Db::connect_url(url).await {
        Ok(db) => db,
        Err(e) => {
            println!("\nSKIPPED {name}: {e}");
            return Ok(());
        }
    };
    admin
        .execute_script("DROP TABLE IF EXISTS bench_so_items")
        .await?;
    Item::ensure_schema(&admin).await?;
    let now = chrono::Utc::now().naive_utc();
    let mut rows: Vec<Item> = (1..=ROWS)
        .map(|i| Item {
            id: 0,
            name: format!("item {i}"),
            email: format!("item{i}@example.com"),
            price: i * 100,
            score: i as f64 / 7.0,
            active: i % 2 == 0,
            created_at: now,
        })
        .collect();
    Item::save_all(&mut rows, &admin).await?;

    let base = || DatabaseConfig::builder(url).max_connections(4);
    let direct = Db::connect(base().build()?).await?;
    let routed = Db::connect(
        base()
            .replica(url)
            .read_your_writes_window(Duration::ZERO)
            .build()?,
    )
    .await?;
    let memory = Db::connect(base().cache(CacheConfig::memory(10_000)).build()?).await?;
    let redis_db = Db::connect(
        base()
            .cache(
                CacheConfig::redis(url_of(
                    &args.redis,
                    "DAL_BENCH_REDIS_URL",
                    "redis://127.0.0.1:6379",
                ))
                .namespace(format!("bench-{name}-{}", std::process::id())),
            )
            .build()?,
    )
    .await?;

    println!("\n##### {name}");
    let names = [
        "direct",
        "routed to a replica",
        "memory cache",
        "Redis cache",
    ];
    let dbs = [&direct, &routed, &memory, &redis_db];
    let runs = measure(&dbs, args).await?;
    // the overhead of each run against the direct reads of the same run
    let overhead = median(
        runs[0]
            .iter()
            .zip(&runs[1])
            .map(|(direct, routed)| direct / routed - 1.0)
            .collect(),
    );
    let rates: Vec<f64> = runs.into_iter().map(median).collect();
    // the routed reads did reach the replica's pool, the caches answered
    anyhow::ensure!(
        routed.replicas()[0].stats().statements > 0,
        "no read reached the replica"
    );
    let m = memory.cache_stats().unwrap();
    let r = redis_db.cache_stats().unwrap();
    anyhow::ensure!(
        m.hits > 0 && r.hits > 0,
        "the caches did not answer: {m:?} {r:?}"
    );
    anyhow::ensure!(r.errors == 0, "Redis failed: {r:?}");

    println!("variant              |      calls/s | µs per call | x direct");
    println!("---------------------|--------------|-------------|---------");
    for (n, rate) in names.iter().zip(&rates) {
        println!(
            "{n:<20} | {rate:>12.0} | {:>11.1} | {:>7.2}x",
            1e6 / rate,
            rate / rates[0]
        );
    }
    println!(
        "routing overhead on point reads: {:+.1}% (median of the runs' own overheads; target: at most 5%)",
        overhead * 100.0
    );
    println!(
        "cache hit latency: memory {:.1} µs, Redis {:.1} µs, against {:.1} µs for a database read",
        1e6 / rates[2],
        1e6 / rates[3],
        1e6 / rates[0]
    );
    println!("cache counts: memory {m:?}; Redis {r:?}");
    for db in [&direct, &routed, &memory, &redis_db] {
        db.close();
    }
    admin
        .execute_script("DROP TABLE IF EXISTS bench_so_items")
        .await?;
    admin.close();
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .context("metrics recorder")?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    println!(
        "command: {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    println!(
        "settings: n = {}, runs = {} (+1 warm-up), {ROWS} rows",
        args.n, args.runs
    );
    rt.block_on(async {
        let pg = url_of(
            &args.postgres,
            "DAL_BENCH_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        );
        let my = url_of(
            &args.mysql,
            "DAL_BENCH_MYSQL_URL",
            "mysql://root@127.0.0.1:3306/test",
        );
        backend("postgres", &pg, &args).await?;
        backend("mysql", &my, &args).await
    })
}
