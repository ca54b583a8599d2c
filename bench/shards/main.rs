//! The fan-out cost of issue #18: queries over three shards (`dal::Shards`)
//! against the same queries on one database holding the same rows.
//!
//! Each backend gets four databases on its local server: three shards
//! (3,000 rows of 300 tenants, routed by the tenant, 64 hash slots) and
//! one database with all 3,000 rows; the tenant and the price are indexed.
//! All four databases are on one server (two cores here): the shards'
//! parallel scans share its CPU. Queries:
//!
//! - **keyed**: one tenant's 10 rows, by price (the filter holds the shard
//!   key: one shard answers);
//! - **top 20**: the 20 most expensive rows (every shard returns its 20,
//!   merged, cut to 20);
//! - **count**: the rows over a price (each shard counts; summed);
//! - **all**: every row, by price (3,000 rows merged).
//!
//! As in the main harness, dal runs with a tracing subscriber and a
//! metrics recorder. Each figure is the median of `--runs` runs of `--n`
//! sequential calls, after one warm-up run.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml --bin shards -- --runs 5
//! ```

use std::future::Future;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;
use dal::{DatabaseConfig, Db, Entity, Shards};

#[derive(Parser, Debug)]
#[command(about = "Fan-out query cost over shards (issue #18)")]
struct Args {
    /// Calls per run (the `all` query makes a tenth of them).
    #[arg(long, default_value_t = 1000)]
    n: usize,
    /// Measured runs (the median is reported), after one warm-up run.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// PostgreSQL (default: `DAL_BENCH_POSTGRES_URL`, or the local server).
    #[arg(long)]
    postgres: Option<String>,
    /// MySQL/MariaDB (default: `DAL_BENCH_MYSQL_URL`, or the local server).
    #[arg(long)]
    mysql: Option<String>,
}

#[derive(Entity, Debug, Clone)]
#[dal(table = "bench_sh_items")]
struct Item {
    #[dal(id)]
    id: uuid::Uuid,
    #[dal(shard_key, index)]
    tenant: i64,
    #[dal(length = 40)]
    name: String,
    #[dal(index)]
    price: i64,
}

const TENANTS: i64 = 300;
const PER_TENANT: i64 = 10;

fn url_of(flag: &Option<String>, var: &str, local: &str) -> String {
    flag.clone()
        .or_else(|| std::env::var(var).ok())
        .unwrap_or_else(|| local.to_string())
}

fn with_database(url: &str, database: &str) -> String {
    let (base, rest) = url.rsplit_once('/').expect("a URL with a database");
    let query = rest
        .split_once('?')
        .map(|(_, q)| format!("?{q}"))
        .unwrap_or_default();
    format!("{base}/{database}{query}")
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Median microseconds per call of `f` over the runs.
async fn time<F, Fut>(n: usize, runs: usize, mut f: F) -> Result<f64>
where
    F: FnMut(usize) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let mut per_call = Vec::new();
    for run in 0..=runs {
        let start = Instant::now();
        for i in 0..n {
            f(i).await?;
        }
        if run > 0 {
            per_call.push(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        }
    }
    Ok(median(per_call))
}

async fn backend(name: &str, url: &str, args: &Args) -> Result<()> {
    let admin = match Db::connect_url(url).await {
        Ok(db) => db,
        Err(e) => {
            println!("\nSKIPPED {name}: {e}");
            return Ok(());
        }
    };
    let names = [
        "dal_bench_sh_0",
        "dal_bench_sh_1",
        "dal_bench_sh_2",
        "dal_bench_sh_one",
    ];
    for n in names {
        admin
            .execute_script(&format!("DROP DATABASE IF EXISTS {n}"))
            .await?;
        admin
            .execute_script(&format!("CREATE DATABASE {n}"))
            .await?;
    }
    admin.close();
    let connect = |db: &str| {
        Db::connect(
            DatabaseConfig::builder(with_database(url, db))
                .max_connections(4)
                .build()
                .expect("a configuration"),
        )
    };
    let mut b = Shards::builder().slots(64);
    for (i, n) in names[..3].iter().enumerate() {
        b = b.shard(format!("s{i}"), connect(n).await?);
    }
    let shards = b.build()?;
    let one = connect(names[3]).await?;
    shards.ensure_schema::<Item>().await?;
    Item::ensure_schema(&one).await?;
    let mut rows: Vec<Item> = (0..TENANTS * PER_TENANT)
        .map(|i| Item {
            id: uuid::Uuid::new_v4(),
            tenant: i / PER_TENANT,
            name: format!("item {i}"),
            price: (i * 7919) % 100_000,
        })
        .collect();
    Item::save_all(&mut rows.clone(), &one).await?;
    for (shard, db) in shards.iter() {
        let mut mine: Vec<Item> = rows
            .iter()
            .filter(|r| {
                shards
                    .shard_name_for(&r.tenant)
                    .map(|n| n == shard)
                    .unwrap_or(false)
            })
            .cloned()
            .collect();
        Item::save_all(&mut mine, db).await?;
    }
    rows.clear();

    println!("\n##### {name}");
    println!("query              | one database µs | 3 shards µs | shards x one");
    println!("-------------------|-----------------|-------------|-------------");
    let n = args.n;
    let runs = args.runs;
    let keyed = |t: i64| {
        Item::find()
            .filter(Item::TENANT.eq(t))
            .order_by(Item::PRICE.asc())
    };
    let top = || Item::find().order_by(Item::PRICE.desc()).limit(20);
    let over = || Item::find().filter(Item::PRICE.gt(50_000));
    let all = || Item::find().order_by(Item::PRICE.asc());
    let report = |what: &str, single: f64, fan: f64| {
        println!(
            "{what:<18} | {single:>15.1} | {fan:>11.1} | {:>11.2}x",
            fan / single
        );
    };
    let single = time(n, runs, |i| {
        let q = keyed(i as i64 % TENANTS);
        let one = &one;
        async move { q.all(one).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let fan = time(n, runs, |i| {
        let q = shards.find(keyed(i as i64 % TENANTS));
        async move { q.all().await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    report("keyed (1 shard)", single, fan);
    let single = time(n, runs, |_| {
        let (q, one) = (top(), &one);
        async move { q.all(one).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let fan = time(n, runs, |_| {
        let q = shards.find(top());
        async move { q.all().await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    report("top 20", single, fan);
    let single = time(n, runs, |_| {
        let (q, one) = (over(), &one);
        async move { q.count(one).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let fan = time(n, runs, |_| {
        let q = shards.find(over());
        async move { q.count().await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    report("count", single, fan);
    let few = (n / 10).max(1);
    let single = time(few, runs, |_| {
        let (q, one) = (all(), &one);
        async move { q.all(one).await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    let fan = time(few, runs, |_| {
        let q = shards.find(all());
        async move { q.all().await.map(|_| ()).map_err(Into::into) }
    })
    .await?;
    report("all 3,000 rows", single, fan);
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
        "settings: n = {}, runs = {} (+1 warm-up), {} rows over 3 shards (64 slots) and on one database",
        args.n,
        args.runs,
        TENANTS * PER_TENANT
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
