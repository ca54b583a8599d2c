//! dal-bench: the same workloads, on the same tables, in the same process,
//! through dal, raw sqlx (pool and dedicated connection), SeaORM, Diesel,
//! diesel-async and the raw drivers. See bench/README.md.

mod chart;
mod dal_impl;
mod diesel_async_impl;
mod diesel_impl;
mod floor;
mod report;
mod seaorm_impl;
mod sqlx_impl;
mod stream;
mod workloads;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use dal::{Db, Table};

use crate::report::Cell;
use crate::sqlx_impl::{Target, Verifier};
use crate::workloads::*;

/// Compare dal with sqlx, SeaORM, Diesel, diesel-async and the raw drivers.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Backends to run, comma-separated: sqlite, postgres, mysql.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres,mysql")]
    backends: Vec<String>,
    /// Operations per run of insert_one, select_pk, update_pk and save_history.
    #[arg(long, default_value_t = 2000)]
    n: usize,
    /// Measured runs per cell (the median is reported), after one warm-up run.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Where to write every figure.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/results.csv"))]
    csv: String,
    /// Only these workloads (comma-separated): insert_one, bulk_insert,
    /// select_pk, select_10k, update_pk, save_history, eager_has_many,
    /// report_join_group, concurrent.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// `sslmode` added to the PostgreSQL URL when it names none. The floors
    /// (tokio-postgres, diesel-async) connect without TLS, so by default every
    /// contender does; `prefer` shows what libpq/sqlx/dal do by default on a
    /// server with ssl = on (TLS, even on loopback).
    #[arg(long, default_value = "disable")]
    pg_sslmode: String,
    /// Only these contenders (comma-separated): dal, sqlx-pool, sqlx-conn,
    /// sea-orm, diesel, diesel-async, floor.
    #[arg(long, value_delimiter = ',')]
    contenders: Vec<String>,
    /// Run dal without a `tracing` subscriber and `metrics` recorder. By
    /// default both are installed, as in production: a fmt subscriber at INFO
    /// (dal's per-statement spans are DEBUG: created, checked, skipped) and a
    /// Prometheus recorder that really counts. Retries and the circuit breaker
    /// are on either way (dal's defaults).
    #[arg(long)]
    bare: bool,
    /// Rows per multi-row INSERT of bulk_insert for every contender that
    /// chunks (dal excepted: it chooses its own), instead of each one's
    /// measured best (the chunk sweep, bench/chunk-sweep.sh).
    #[arg(long)]
    bulk_chunk: Option<usize>,
    /// Where the chart of the ratios to the floor is written (SVG).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/ratios.svg"))]
    svg: String,
    /// Internal: stream `bench_stream` in this process for one contender, print the figures.
    #[arg(long, hide = true)]
    stream_child: Option<String>,
    /// Internal: rows to stream (`--stream-child`).
    #[arg(long, hide = true, default_value_t = 0)]
    stream_rows: usize,
    /// Internal: run dal without subscriber and recorder, taking orders on stdin.
    #[arg(long, hide = true)]
    bare_worker: bool,
    /// Internal: the backend of `--stream-child` / `--bare-worker`.
    #[arg(long, hide = true, default_value = "")]
    child_backend: String,
    /// Internal: the database URL (or SQLite path) of `--stream-child` / `--bare-worker`.
    #[arg(long, hide = true, default_value = "")]
    child_url: String,
}

const ALL_CONTENDERS: [&str; 8] = [
    "dal",
    "dal-bare",
    "sqlx-pool",
    "sqlx-conn",
    "sea-orm",
    "diesel",
    "diesel-async",
    "floor",
];

// one value per contender: the size difference does not matter
#[allow(clippy::large_enum_variant)]
enum Any {
    Dal(dal_impl::DalContender),
    Sqlx(sqlx_impl::SqlxContender),
    Sea(seaorm_impl::SeaContender),
    Diesel(diesel_impl::DieselContender),
    DAsync(diesel_async_impl::DieselAsyncContender),
    Floor(floor::Floor),
}

macro_rules! dispatch {
    ($a:expr, $c:ident => $body:expr) => {
        match $a {
            Any::Dal($c) => $body,
            Any::Sqlx($c) => $body,
            Any::Sea($c) => $body,
            Any::Diesel($c) => $body,
            Any::DAsync($c) => $body,
            Any::Floor($c) => $body,
        }
    };
}

/// The command line that produced this output, as typed (quoted where
/// needed), after the `DAL_BENCH_*` variables that change what is measured.
pub fn command_line() -> String {
    let mut vars: Vec<String> = std::env::vars()
        // the server URLs stay out: they may hold a password
        .filter(|(k, _)| k.starts_with("DAL_BENCH_") && !k.ends_with("_URL"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    vars.sort();
    vars.into_iter()
        .chain(std::env::args())
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> Result<()> {
    let args = Args::parse();
    CHUNK_OVERRIDE
        .set(args.bulk_chunk)
        .expect("set once, before any contender opens");
    // the bare worker is dal without subscriber and recorder, whatever the flags
    if !args.bare && !args.bare_worker {
        // DAL_BENCH_SPAN_EVENTS=1 prints every span as it opens (with
        // RUST_LOG=dal::query=debug: each statement dal sends, with its SQL)
        let span_events = if std::env::var_os("DAL_BENCH_SPAN_EVENTS").is_some() {
            tracing_subscriber::fmt::format::FmtSpan::NEW
        } else {
            tracing_subscriber::fmt::format::FmtSpan::NONE
        };
        tracing_subscriber::fmt()
            .with_span_events(span_events)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .with_writer(std::io::stderr)
            .init();
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .context("metrics recorder")?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if let Some(contender) = args.stream_child.clone() {
        return rt.block_on(async {
            tokio::spawn(async move {
                stream::child(
                    &contender,
                    &args.child_backend,
                    &args.child_url,
                    args.stream_rows,
                )
                .await
            })
            .await
        })?;
    }
    if args.bare_worker {
        return rt.block_on(async { tokio::spawn(bare_worker(args)).await })?;
    }
    // Everything runs inside a spawned task, on a runtime worker, as a server's code would.
    let ok = rt.block_on(async { tokio::spawn(run(args)).await })??;
    if !ok {
        bail!("some measurements FAILED (see above)");
    }
    Ok(())
}

/// Replace the database name of a URL.
fn with_database(url: &str, db: &str) -> Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let auth = base.find("://").context("URL without scheme")? + 3;
    let path = base[auth..].find('/').map_or(base.len(), |i| i + auth);
    let mut out = format!("{}/{db}", &base[..path]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    Ok(out)
}

fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!(
        "machine: {cpu}, {cores} cores, {mem} RAM; rustc release build; tokio multi-thread runtime ({cores} workers)"
    )
}

fn bench_table(name: &str) -> Table {
    Table::build(name, |t| {
        t.id();
        t.string("name", 100);
        t.string("email", 150);
        t.integer("age");
        t.double("score");
        t.boolean("active");
        t.timestamp("created_at");
    })
}

/// The ten-data-column table of `partial_update`.
fn wide_table(name: &str) -> Table {
    Table::build(name, |t| {
        t.id();
        for c in ["s1", "s2", "s3", "s4"] {
            t.string(c, 100);
        }
        for c in ["n1", "n2", "n3"] {
            t.integer(c);
        }
        t.double("f1");
        t.double("f2");
        t.boolean("b1");
    })
}

/// `bench_children`: the bench columns plus `parent_id`, a foreign key to
/// `bench_parents` (which has the bench columns) with its index, as dal's
/// `#[dal(belongs_to = ..)]` declares it.
fn children_table() -> Table {
    Table::build(CHILDREN_TABLE, |t| {
        t.id();
        t.foreign_id("parent_id").index().references(PARENTS_TABLE);
        t.string("name", 100);
        t.string("email", 150);
        t.integer("age");
        t.double("score");
        t.boolean("active");
        t.timestamp("created_at");
    })
}

/// `rep_users` and `rep_orders` of `report_join_group`, as the entities in
/// dal_impl declare them (`rep_orders.user_id` a foreign key to `rep_users`
/// with its index).
fn report_tables() -> (Table, Table) {
    let users = Table::build(REPORT_USERS_TABLE, |t| {
        t.id();
        t.string("name", 60);
        t.string("city", 40);
    });
    let orders = Table::build(REPORT_ORDERS_TABLE, |t| {
        t.id();
        t.foreign_id("user_id")
            .index()
            .references(REPORT_USERS_TABLE);
        t.integer("amount");
        t.boolean("done");
    });
    (users, orders)
}

/// The history table, column for column what dal's `ensure_schema` creates for
/// a `#[dal(history)]` entity (history_at gets a default so the peers can omit it).
fn history_table(table: &str) -> Table {
    Table::build(&format!("{table}_history"), |t| {
        t.big_integer("history_version");
        t.string("history_operation", 16);
        t.string("history_actor", 255).nullable();
        t.text("history_comment").nullable();
        t.timestamp_tz("history_at").use_current();
        t.big_integer("id");
        t.string("name", 100).nullable();
        t.string("email", 150).nullable();
        t.integer("age").nullable();
        t.double("score").nullable();
        t.boolean("active").nullable();
        t.timestamp("created_at").nullable();
        t.primary(["id", "history_version"]);
        t.without_rowid();
    })
}

struct Env {
    backend: Backend,
    url: String,
    admin: Db,
    verifier: Verifier,
    n: usize,
    expected_all: u64,
    expected_eager: u64,
    expected_report: Vec<ReportRow>,
}

impl Env {
    async fn recreate(&self, table: &Table) -> Result<()> {
        self.admin.drop_table_if_exists(&table.name).await?;
        self.admin.create_table(table).await?;
        Ok(())
    }
}

/// What one timed run measured.
struct Sample {
    ops: usize,
    elapsed: Duration,
}

/// Check the rows in `table` against `rows` (inserted in that order with `ids`).
async fn verify_inserted(env: &Env, table: &str, rows: &[Row], ids: &[i64]) -> Result<()> {
    let db_rows = env.verifier.rows(table).await?;
    ensure!(
        db_rows.len() == rows.len(),
        "{table}: {} rows in the table, {} inserted",
        db_rows.len(),
        rows.len()
    );
    ensure!(
        checksum_no_id(&db_rows) == checksum_no_id(rows),
        "{table}: stored values differ from the inserted ones (checksum)"
    );
    if !ids.is_empty() {
        check_ids(table, ids, rows.len())?;
        let by_id: HashMap<i64, &Row> = db_rows.iter().map(|r| (r.id, r)).collect();
        for (i, (id, r)) in ids.iter().zip(rows).enumerate() {
            let got = by_id.get(id).with_context(|| {
                format!("{table}: returned id {id} (row {i}) is not in the table")
            })?;
            ensure!(
                got.email == r.email,
                "{table}: returned id {id} belongs to {} but row {i} is {}",
                got.email,
                r.email
            );
        }
    }
    Ok(())
}

async fn measure_once<C: Contender>(
    c: &mut C,
    env: &Env,
    w: Workload,
    run: usize,
) -> Result<Sample> {
    let prefix = c.prefix();
    let seed = 1000 + run as u64;
    match w {
        Workload::InsertOne => {
            let table = w.table(prefix).unwrap();
            env.recreate(&bench_table(&table)).await?;
            let rows = gen_rows(env.n);
            let t0 = Instant::now();
            let ids = c.insert_one(&rows).await?;
            let elapsed = t0.elapsed();
            check_ids(&table, &ids, rows.len())?;
            verify_inserted(env, &table, &rows, &ids).await?;
            Ok(Sample {
                ops: rows.len(),
                elapsed,
            })
        }
        Workload::BulkInsert => {
            let table = w.table(prefix).unwrap();
            env.recreate(&bench_table(&table)).await?;
            let rows = gen_rows(TABLE_ROWS);
            let t0 = Instant::now();
            let ids = c.bulk_insert(&rows).await?;
            let elapsed = t0.elapsed();
            verify_inserted(env, &table, &rows, &ids).await?;
            Ok(Sample {
                ops: rows.len(),
                elapsed,
            })
        }
        Workload::SelectPk => {
            let ids = random_ids(env.n, seed);
            let t0 = Instant::now();
            let sum = c.select_pk(&ids).await?;
            let elapsed = t0.elapsed();
            ensure!(
                sum == expected_pk_checksum(&ids),
                "select_pk: wrong rows (checksum)"
            );
            Ok(Sample {
                ops: ids.len(),
                elapsed,
            })
        }
        Workload::Select10k => {
            let t0 = Instant::now();
            for _ in 0..SELECT_ALL_REPEAT {
                let (count, sum) = c.select_all().await?;
                ensure!(count == TABLE_ROWS, "select_10k: {count} rows");
                ensure!(sum == env.expected_all, "select_10k: wrong rows (checksum)");
            }
            Ok(Sample {
                ops: SELECT_ALL_REPEAT * TABLE_ROWS,
                elapsed: t0.elapsed(),
            })
        }
        Workload::UpdatePk => {
            let table = w.table(prefix).unwrap();
            env.recreate(&bench_table(&table)).await?;
            let copied = env
                .verifier
                .execute(format!(
                    "INSERT INTO {table} (id, name, email, age, score, active, created_at) \
                     SELECT id, name, email, age, score, active, created_at FROM {SHARED_TABLE}"
                ))
                .await?;
            ensure!(copied as usize == TABLE_ROWS, "copied {copied} rows");
            let ids = distinct_ids(env.n, seed);
            let ups = updates_for(&ids);
            c.prepare_update(&ids).await?;
            let t0 = Instant::now();
            c.update_pk(&ups).await?;
            let elapsed = t0.elapsed();
            let mut expected: Vec<Row> = (1..=TABLE_ROWS as i64).map(shared_row).collect();
            for u in &ups {
                let r = &mut expected[(u.id - 1) as usize];
                r.age = u.age;
                r.score = u.score;
            }
            let got = env.verifier.rows(&table).await?;
            ensure!(got.len() == TABLE_ROWS, "{table}: {} rows", got.len());
            ensure!(
                checksum(&got) == checksum(&expected),
                "{table}: table content after the updates is wrong (checksum)"
            );
            Ok(Sample {
                ops: ups.len(),
                elapsed,
            })
        }
        Workload::SaveHistory => {
            let table = w.table(prefix).unwrap();
            env.recreate(&bench_table(&table)).await?;
            env.recreate(&history_table(&table)).await?;
            if prefix != "dal" && env.backend.history_method() != HistoryMethod::Transaction {
                // the peers' best one-statement method: a trigger writes the
                // history row (created untimed, as dal's own trigger is); the
                // CTE needs no trigger
                if env.backend.history_method() == HistoryMethod::Trigger {
                    for ddl in sqlx_impl::history_trigger_sql(env.backend, &table) {
                        env.admin.execute_script(&ddl).await?;
                    }
                }
            }
            c.prepare_history(&table).await?;
            let rows = gen_rows(env.n);
            let t0 = Instant::now();
            let ids = c.save_history(&rows).await?;
            let elapsed = t0.elapsed();
            check_ids(&table, &ids, rows.len())?;
            verify_inserted(env, &table, &rows, &ids).await?;
            let htable = format!("{table}_history");
            let hist = env.verifier.rows(&htable).await?;
            let main = env.verifier.rows(&table).await?;
            ensure!(
                hist.len() == rows.len(),
                "{htable}: {} rows for {} saves",
                hist.len(),
                rows.len()
            );
            ensure!(
                checksum(&hist) == checksum(&main),
                "{htable}: history rows differ from the saved rows"
            );
            let versions = env
                .verifier
                .count(&format!(
                    "{htable} WHERE history_version = 1 AND history_operation = 'insert'"
                ))
                .await?;
            ensure!(
                versions == rows.len(),
                "{htable}: {versions} rows are version 1 inserts"
            );
            Ok(Sample {
                ops: rows.len(),
                elapsed,
            })
        }
        Workload::EagerHasMany => {
            let t0 = Instant::now();
            for _ in 0..EAGER_REPEAT {
                let got = c.eager_has_many().await?;
                ensure!(
                    got.parents == EAGER_PARENTS && got.children == EAGER_CHILDREN,
                    "eager_has_many: {} parents and {} children loaded, wanted {EAGER_PARENTS} and {EAGER_CHILDREN}",
                    got.parents,
                    got.children
                );
                ensure!(
                    got.sum == env.expected_eager,
                    "eager_has_many: wrong rows or children under the wrong parent (checksum)"
                );
            }
            Ok(Sample {
                ops: EAGER_REPEAT * (EAGER_PARENTS + EAGER_CHILDREN),
                elapsed: t0.elapsed(),
            })
        }
        Workload::ReportJoinGroup => {
            // only the statement is timed; the rows are compared afterwards
            let mut elapsed = Duration::ZERO;
            for _ in 0..REPORT_REPEAT {
                let t0 = Instant::now();
                let rows = c.report_join_group().await?;
                elapsed += t0.elapsed();
                if rows != env.expected_report {
                    let first = rows
                        .iter()
                        .zip(&env.expected_report)
                        .position(|(a, b)| a != b)
                        .unwrap_or(rows.len().min(env.expected_report.len()));
                    bail!(
                        "report_join_group: {} rows, wanted {}; first difference at row {first}: got {:?}, wanted {:?}",
                        rows.len(),
                        env.expected_report.len(),
                        rows.get(first),
                        env.expected_report.get(first)
                    );
                }
            }
            Ok(Sample {
                ops: REPORT_REPEAT * REPORT_ORDERS,
                elapsed,
            })
        }
        Workload::PartialUpdate => {
            let table = w.table(prefix).unwrap();
            env.recreate(&wide_table(&table)).await?;
            let copied = env
                .verifier
                .execute(format!(
                    "INSERT INTO {table} ({WIDE_COLS}) SELECT {WIDE_COLS} FROM {WIDE_TABLE}"
                ))
                .await?;
            ensure!(copied as usize == TABLE_ROWS, "copied {copied} rows");
            let ids = distinct_ids(env.n, seed);
            let ups = partial_updates(&ids);
            c.prepare_partial(&ids).await?;
            let t0 = Instant::now();
            c.partial_update(&ups).await?;
            let elapsed = t0.elapsed();
            let (count, sum) = env.verifier.wide_checksum(&table).await?;
            ensure!(count == TABLE_ROWS, "{table}: {count} rows");
            ensure!(
                sum == expected_wide_checksum(&ups),
                "{table}: table content after the updates is wrong (checksum)"
            );
            Ok(Sample {
                ops: ups.len(),
                elapsed,
            })
        }
        Workload::Stream1m => bail!("stream_1m is measured by child processes"),
        Workload::Concurrent => bail!("concurrent is measured by measure_concurrent"),
    }
}

/// Warm-up plus `runs` runs of `concurrent` over one pool.
async fn measure_concurrent<C: Contender>(c: &mut C, runs: usize) -> Result<Vec<ConcStats>> {
    let pool = c.conc_pool().await?;
    let mut out = Vec::new();
    let mut result = Ok(());
    for run in 0..=runs {
        match run_concurrent(&pool, 5000 + run as u64).await {
            Ok(s) => {
                if run > 0 {
                    out.push(s);
                }
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    pool.close().await;
    result.map(|()| out)
}

async fn open_contenders(
    backend: Backend,
    target: &Target,
    url: &str,
    wanted: &[String],
) -> Vec<(&'static str, Result<Any>)> {
    let want = |n: &str| wanted.is_empty() || wanted.iter().any(|w| w == n);
    let mut out: Vec<(&'static str, Result<Any>)> = Vec::new();
    if want("dal") {
        out.push(("dal", dal_impl::DalContender::new(url).await.map(Any::Dal)));
    }
    if want("sqlx-pool") {
        out.push((
            "sqlx-pool",
            sqlx_impl::SqlxContender::new(target.clone(), true)
                .await
                .map(Any::Sqlx),
        ));
    }
    if want("sqlx-conn") {
        out.push((
            "sqlx-conn",
            sqlx_impl::SqlxContender::new(target.clone(), false)
                .await
                .map(Any::Sqlx),
        ));
    }
    if want("sea-orm") {
        out.push((
            "sea-orm",
            seaorm_impl::SeaContender::new(target.clone(), backend)
                .await
                .map(Any::Sea),
        ));
    }
    let plain = match target {
        Target::Lite(p) => p.clone(),
        Target::Pg(u) | Target::My(u) => u.clone(),
    };
    if want("diesel") {
        out.push((
            "diesel",
            diesel_impl::DieselContender::new(backend, &plain).map(Any::Diesel),
        ));
    }
    if want("diesel-async") && backend != Backend::Sqlite {
        out.push((
            "diesel-async",
            diesel_async_impl::DieselAsyncContender::new(backend, &plain)
                .await
                .map(Any::DAsync),
        ));
    }
    if want("floor") {
        out.push((
            "floor",
            floor::Floor::new(backend, &plain).await.map(Any::Floor),
        ));
    }
    out
}

/// Connect to the server, create the `dal_bench` database (or the one named
/// by `DAL_BENCH_DB`: two harnesses on one server must not share tables);
/// `Err` = skip the backend.
async fn prepare_server(backend: Backend, url: &str) -> Result<(String, String)> {
    let db = std::env::var("DAL_BENCH_DB").unwrap_or_else(|_| "dal_bench".into());
    ensure!(
        !db.is_empty() && db.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "DAL_BENCH_DB must be letters, digits and underscores"
    );
    let admin = tokio::time::timeout(Duration::from_secs(10), dal_impl::connect(url, 2))
        .await
        .map_err(|_| anyhow::anyhow!("no answer within 10 s"))??;
    let version: String = match backend {
        Backend::Postgres => admin.fetch_scalar("SELECT version()", ()).await?,
        Backend::MySql => {
            admin
                .fetch_scalar("SELECT CONCAT('MariaDB/MySQL ', VERSION())", ())
                .await?
        }
        Backend::Sqlite => {
            admin
                .fetch_scalar("SELECT 'SQLite ' || sqlite_version()", ())
                .await?
        }
    };
    let bench_url = match backend {
        Backend::Postgres => {
            let exists: i64 = admin
                .fetch_scalar(
                    &format!("SELECT COUNT(*) FROM pg_database WHERE datname = '{db}'"),
                    (),
                )
                .await?;
            if exists == 0 {
                admin.execute(&format!("CREATE DATABASE {db}"), ()).await?;
            }
            with_database(url, &db)?
        }
        Backend::MySql => {
            admin
                .execute(&format!("CREATE DATABASE IF NOT EXISTS {db}"), ())
                .await?;
            with_database(url, &db)?
        }
        Backend::Sqlite => url.to_string(),
    };
    admin.close();
    Ok((bench_url, version))
}

/// Where a backend's contenders connect: (dal URL, sqlx target).
fn backend_target(backend: Backend, args: &Args, sqlite_path: &str) -> (String, Target) {
    match backend {
        Backend::Sqlite => (
            format!("sqlite://{sqlite_path}"),
            Target::Lite(sqlite_path.to_string()),
        ),
        Backend::Postgres => {
            let u = std::env::var("DAL_BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
            let u = if u.contains("sslmode=") {
                u
            } else {
                let sep = if u.contains('?') { '&' } else { '?' };
                format!("{u}{sep}sslmode={}", args.pg_sslmode)
            };
            (u.clone(), Target::Pg(u))
        }
        Backend::MySql => {
            let u = std::env::var("DAL_BENCH_MYSQL_URL")
                .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into());
            (u.clone(), Target::My(u))
        }
    }
}

/// The harness's view of a backend for `measure_once`, without creating or
/// filling any shared table (the bare worker reuses the parent's).
async fn open_env(backend: Backend, url: &str, target: &Target, n: usize) -> Result<Env> {
    Ok(Env {
        backend,
        url: url.to_string(),
        admin: dal_impl::connect(url, 2).await?,
        verifier: Verifier::new(target).await?,
        n,
        expected_all: checksum(&(1..=TABLE_ROWS as i64).map(shared_row).collect::<Vec<_>>()),
        expected_eager: expected_eager_checksum(),
        expected_report: expected_report(),
    })
}

/// The plain connection string of a target (a SQLite path, a server URL).
fn plain(target: &Target) -> String {
    match target {
        Target::Lite(p) => p.clone(),
        Target::Pg(u) | Target::My(u) => u.clone(),
    }
}

/// `dal (bare)`: dal in a child process with no `tracing` subscriber and no
/// `metrics` recorder, measuring what it is told to on the same tables, so
/// its runs interleave with everyone else's.
struct BareWorker {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl BareWorker {
    async fn spawn(backend: Backend, target: &Target, n: usize) -> Result<BareWorker> {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args([
                "--bare-worker",
                "--child-backend",
                backend.name(),
                "--child-url",
                &plain(target),
                "--n",
                &n.to_string(),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("spawn the bare worker")?;
        let stdin = child.stdin.take().context("worker stdin")?;
        let stdout = tokio::io::BufReader::new(child.stdout.take().context("worker stdout")?);
        let mut w = BareWorker {
            child,
            stdin,
            stdout: stdout.lines(),
        };
        let hello = w.ask("hello").await?;
        ensure!(hello == "ready", "bare worker said {hello:?}");
        Ok(w)
    }

    async fn ask(&mut self, order: &str) -> Result<String> {
        use tokio::io::AsyncWriteExt;
        self.stdin
            .write_all(format!("{order}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        let line = self
            .stdout
            .next_line()
            .await?
            .context("the bare worker exited")?;
        match line.strip_prefix("err ") {
            Some(e) => bail!("{e}"),
            None => Ok(line.strip_prefix("ok ").unwrap_or(&line).to_string()),
        }
    }

    async fn measure(&mut self, w: Workload, run: usize) -> Result<Sample> {
        let a = self.ask(&format!("run {} {run}", w.name())).await?;
        let (ops, nanos) = a.split_once(' ').context("bad answer")?;
        Ok(Sample {
            ops: ops.parse()?,
            elapsed: Duration::from_nanos(nanos.parse()?),
        })
    }

    async fn concurrent(&mut self, runs: usize) -> Result<Vec<ConcStats>> {
        let a = self.ask(&format!("concurrent {runs}")).await?;
        a.split(';')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let v: Vec<u64> = s.split(',').map(str::parse).collect::<Result<_, _>>()?;
                ensure!(v.len() == 5, "bad concurrent answer {s:?}");
                Ok(ConcStats {
                    elapsed: Duration::from_nanos(v[0]),
                    queries: v[1] as usize,
                    acquire_timeouts: v[2] as usize,
                    p50: Duration::from_nanos(v[3]),
                    p99: Duration::from_nanos(v[4]),
                })
            })
            .collect()
    }

    async fn close(mut self) {
        drop(self.stdin);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// The child side of [`BareWorker`]: orders on stdin, answers on stdout.
async fn bare_worker(args: Args) -> Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let backend = Backend::parse(&args.child_backend).context("--child-backend")?;
    let target = match backend {
        Backend::Sqlite => Target::Lite(args.child_url.clone()),
        Backend::Postgres => Target::Pg(args.child_url.clone()),
        Backend::MySql => Target::My(args.child_url.clone()),
    };
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}", args.child_url),
        _ => args.child_url.clone(),
    };
    let env = open_env(backend, &url, &target, args.n).await?;
    let mut dal = dal_impl::DalContender::new(&url).await?;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    while let Some(line) = lines.next_line().await? {
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer: Result<String> = match words.as_slice() {
            ["hello"] => Ok("ready".to_string()),
            ["run", w, run] => match Workload::parse(w) {
                Some(w) => measure_once(&mut dal, &env, w, run.parse()?)
                    .await
                    .map(|s| format!("{} {}", s.ops, s.elapsed.as_nanos())),
                None => Err(anyhow::anyhow!("unknown workload {w}")),
            },
            ["concurrent", runs] => {
                measure_concurrent(&mut dal, runs.parse()?)
                    .await
                    .map(|stats| {
                        stats
                            .iter()
                            .map(|s| {
                                format!(
                                    "{},{},{},{},{};",
                                    s.elapsed.as_nanos(),
                                    s.queries,
                                    s.acquire_timeouts,
                                    s.p50.as_nanos(),
                                    s.p99.as_nanos()
                                )
                            })
                            .collect()
                    })
            }
            _ => Err(anyhow::anyhow!("unknown order {line:?}")),
        };
        let text = match answer {
            Ok(a) => format!("ok {a}\n"),
            Err(e) => format!("err {}\n", format!("{e:#}").replace('\n', " ")),
        };
        out.write_all(text.as_bytes()).await?;
        out.flush().await?;
    }
    dal.close();
    env.verifier.close().await;
    env.admin.close();
    Ok(())
}

async fn run_backend(backend: Backend, args: &Args, all_cells: &mut Vec<Cell>) -> Result<bool> {
    let tmp = tempfile::tempdir()?;
    let sqlite_path = tmp.path().join("bench.db").to_string_lossy().into_owned();
    let (url, target) = backend_target(backend, args, &sqlite_path);
    let (url, version) = match prepare_server(backend, &url).await {
        Ok(v) => v,
        Err(e) => {
            println!(
                "\nSKIPPED {}: the server did not answer: {e:#}",
                backend.name()
            );
            return Ok(true);
        }
    };
    let target = match target {
        Target::Pg(_) => Target::Pg(url.clone()),
        Target::My(_) => Target::My(url.clone()),
        t => t,
    };
    println!("\n##### {} — {version}", backend.name());
    let env = open_env(backend, &url, &target, args.n).await?;
    let selected = |w: Workload| args.only.is_empty() || args.only.iter().any(|o| o == w.name());
    env.recreate(&bench_table(SHARED_TABLE)).await?;
    env.verifier.fill_shared(TABLE_ROWS).await?;
    // eager_has_many's parents and children (children first: the foreign key)
    env.admin.drop_table_if_exists(CHILDREN_TABLE).await?;
    env.recreate(&bench_table(PARENTS_TABLE)).await?;
    env.admin.create_table(&children_table()).await?;
    env.verifier.fill_eager().await?;
    // report_join_group's users and orders (100,000 rows): only when it runs
    let report = selected(Workload::ReportJoinGroup);
    if report {
        let (users, orders) = report_tables();
        env.admin.drop_table_if_exists(REPORT_ORDERS_TABLE).await?;
        env.recreate(&users).await?;
        env.admin.create_table(&orders).await?;
        env.verifier.fill_report().await?;
    }
    // partial_update's source table (10,000 rows of ten columns)
    if selected(Workload::PartialUpdate) {
        env.recreate(&wide_table(WIDE_TABLE)).await?;
        env.verifier.fill_wide().await?;
    }
    // stream_1m's million rows: kept between runs of the harness when intact
    if selected(Workload::Stream1m) {
        stream::ensure_table(&env).await?;
    }
    if backend == Backend::Postgres {
        for t in [SHARED_TABLE, PARENTS_TABLE, CHILDREN_TABLE] {
            env.verifier.execute(format!("ANALYZE {t}")).await?;
        }
        if report {
            for t in [REPORT_USERS_TABLE, REPORT_ORDERS_TABLE] {
                env.verifier.execute(format!("ANALYZE {t}")).await?;
            }
        }
    }

    // every contender's tables exist before it opens (the floors prepare up front)
    for prefix in [
        "dal",
        "sqlx_pool",
        "sqlx_conn",
        "seaorm",
        "diesel",
        "dasync",
        "floor",
    ] {
        for w in [
            Workload::InsertOne,
            Workload::BulkInsert,
            Workload::UpdatePk,
            Workload::SaveHistory,
            Workload::PartialUpdate,
        ] {
            let table = w.table(prefix).unwrap();
            if w == Workload::PartialUpdate {
                env.recreate(&wide_table(&table)).await?;
                continue;
            }
            env.recreate(&bench_table(&table)).await?;
            if w == Workload::SaveHistory {
                env.recreate(&history_table(&table)).await?;
            }
        }
    }

    let mut ok = true;
    let mut contenders = Vec::new();
    for (name, c) in open_contenders(backend, &target, &url, &args.contenders).await {
        match c {
            Ok(c) => contenders.push((name, c)),
            Err(e) => {
                ok = false;
                println!("FAILED to open {name} on {}: {e:#}", backend.name());
            }
        }
    }
    let want = |n: &str| args.contenders.is_empty() || args.contenders.iter().any(|w| w == n);
    let mut bare = None;
    if want("dal-bare") {
        match BareWorker::spawn(backend, &target, args.n).await {
            Ok(w) => bare = Some(w),
            Err(e) => {
                ok = false;
                println!("FAILED to open dal-bare on {}: {e:#}", backend.name());
            }
        }
    }
    let mut names: Vec<&'static str> = contenders.iter().map(|(n, _)| *n).collect();
    if bare.is_some() {
        names.push("dal-bare");
    }
    let workloads: Vec<Workload> = Workload::ALL.into_iter().filter(|w| selected(*w)).collect();
    let mut cells: Vec<Cell> = Vec::new();

    for &w in &workloads {
        let t0 = Instant::now();
        let mut wcells: Vec<Cell> = ALL_CONTENDERS
            .iter()
            .copied()
            .filter(|name| names.contains(name))
            .filter(|name| match contenders.iter().find(|(n, _)| n == name) {
                Some((_, c)) => dispatch!(c, c => c.supports(w)),
                None => true, // dal-bare: as dal
            })
            .filter(|name| {
                !(w == Workload::Stream1m && *name == "diesel-async" && backend == Backend::Sqlite)
            })
            .map(|name| Cell {
                backend: backend.name(),
                workload: w,
                contender: name,
                runs: Vec::new(),
                conc: Vec::new(),
                mem: Vec::new(),
                failed: None,
            })
            .collect();
        if w == Workload::Stream1m {
            // child processes: one per contender, per size, per run
            for run in 0..=args.runs {
                for cell in wcells.iter_mut().filter(|c| c.failed.is_none()) {
                    match stream::measure(backend, &target, cell.contender, args.bare).await {
                        Ok((rate, mem)) => {
                            if run > 0 {
                                cell.runs.push(rate);
                                cell.mem.push(mem);
                            }
                        }
                        Err(e) => {
                            println!(
                                "FAILED {} {} {}: {e:#}",
                                backend.name(),
                                w.name(),
                                cell.contender
                            );
                            cell.failed = Some(format!("{e:#}"));
                            ok = false;
                        }
                    }
                }
            }
        } else if w == Workload::Concurrent {
            // one contender at a time: each pool holds 20 server connections
            for cell in wcells.iter_mut() {
                let res = if cell.contender == "dal-bare" {
                    bare.as_mut().expect("listed").concurrent(args.runs).await
                } else {
                    let (_, c) = contenders
                        .iter_mut()
                        .find(|(n, _)| *n == cell.contender)
                        .unwrap();
                    dispatch!(c, c => measure_concurrent(c, args.runs).await)
                };
                match res {
                    Ok(stats) => {
                        cell.runs = stats
                            .iter()
                            .map(|s| s.queries as f64 / s.elapsed.as_secs_f64())
                            .collect();
                        cell.conc = stats;
                    }
                    Err(e) => {
                        println!(
                            "FAILED {} {} {}: {e:#}",
                            backend.name(),
                            w.name(),
                            cell.contender
                        );
                        cell.failed = Some(format!("{e:#}"));
                        ok = false;
                    }
                }
            }
        } else {
            // runs interleaved across contenders, so drift hits everyone alike
            for run in 0..=args.runs {
                for cell in wcells.iter_mut().filter(|c| c.failed.is_none()) {
                    let res = if cell.contender == "dal-bare" {
                        bare.as_mut().expect("listed").measure(w, run).await
                    } else {
                        let (_, c) = contenders
                            .iter_mut()
                            .find(|(n, _)| *n == cell.contender)
                            .unwrap();
                        dispatch!(c, c => measure_once(c, &env, w, run).await)
                    };
                    match res {
                        Ok(s) => {
                            if run > 0 {
                                cell.runs.push(s.ops as f64 / s.elapsed.as_secs_f64());
                            }
                        }
                        Err(e) => {
                            println!(
                                "FAILED {} {} {}: {e:#}",
                                backend.name(),
                                w.name(),
                                cell.contender
                            );
                            cell.failed = Some(format!("{e:#}"));
                            ok = false;
                        }
                    }
                }
            }
        }
        eprintln!(
            "  [{}] {} done in {:.1}s",
            backend.name(),
            w.name(),
            t0.elapsed().as_secs_f64()
        );
        cells.extend(wcells);
    }
    let shown: Vec<&'static str> = ALL_CONTENDERS
        .iter()
        .copied()
        .filter(|c| names.contains(c))
        .collect();
    print!("{}", report::backend_table(backend.name(), &shown, &cells));
    all_cells.extend(cells);

    // leave nothing behind in the server but the dal_bench database
    if let Some(b) = bare {
        b.close().await;
    }
    for (_, c) in contenders {
        if let Any::Dal(d) = &c {
            d.close();
        }
        if let Any::Sqlx(x) = &c {
            x.close().await;
        }
        drop(c);
    }
    env.verifier.close().await;
    env.admin.close();
    let _ = (&env.url, env.backend);
    drop(tmp);
    Ok(ok)
}

async fn run(args: Args) -> Result<bool> {
    for o in &args.only {
        if Workload::parse(o).is_none() {
            bail!("unknown workload {o:?}");
        }
    }
    for c in &args.contenders {
        if !ALL_CONTENDERS.contains(&c.as_str()) {
            bail!("unknown contender {c:?}");
        }
    }
    println!("command: {}", command_line());
    println!("{}", machine_description());
    println!(
        "settings: n = {}, runs = {} (+1 warm-up), bulk = {TABLE_ROWS} rows, select_10k = {SELECT_ALL_REPEAT} x {TABLE_ROWS} rows, eager_has_many = {EAGER_REPEAT} x ({EAGER_PARENTS} parents + {EAGER_CHILDREN} children), report_join_group = {REPORT_REPEAT} x ({REPORT_ORDERS} orders joined to {REPORT_USERS} users, grouped), concurrent = {CONC_TASKS} tasks x {CONC_QUERIES} queries on {CONC_POOL} connections",
        args.n, args.runs
    );
    println!("{}", report::NOISE);
    let mut ok = true;
    let mut cells = Vec::new();
    for b in &args.backends {
        let Some(backend) = Backend::parse(b) else {
            bail!("unknown backend {b:?} (sqlite, postgres, mysql)");
        };
        match run_backend(backend, &args, &mut cells).await {
            Ok(true) => {}
            Ok(false) => ok = false,
            Err(e) => {
                println!("FAILED {}: {e:#}", backend.name());
                ok = false;
            }
        }
        report::write_csv(&args.csv, &cells)?;
    }
    println!("\nCSV: {}", args.csv);
    match chart::write_svg(&args.svg, &cells) {
        Ok(()) => println!("chart: {}", args.svg),
        Err(e) => {
            println!("FAILED to draw the chart {}: {e:#}", args.svg);
            ok = false;
        }
    }
    Ok(ok)
}
