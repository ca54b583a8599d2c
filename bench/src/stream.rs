//! `stream_1m`: 1,000,000 rows of `bench_stream` streamed through each
//! contender's streaming API, each measurement in a child process (the bench
//! binary re-invoked with `--stream-child`) that reports its rows/s and its
//! peak resident memory (`VmHWM` of `/proc/self/status`), once for 10,000
//! rows and once for 1,000,000: the ratio of the two peaks shows whether
//! memory stays bounded while streaming.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::sqlx_impl::Target;
use crate::workloads::{Backend, STREAM_ROWS, STREAM_SMALL, STREAM_TABLE, shared_row};
use crate::{Env, bench_table, plain};

/// The fingerprint `bench_stream` must have: (rows, max id, sum of ages, active rows).
fn expected_fingerprint() -> (i64, i64, i64, i64) {
    let n = STREAM_ROWS as i64;
    let (mut ages, mut active) = (0i64, 0i64);
    for i in 0..STREAM_ROWS {
        ages += 18 + (i % 60) as i64;
        active += i64::from(!i.is_multiple_of(3));
    }
    (n, n, ages, active)
}

/// Create and fill `bench_stream` unless the server already holds it intact
/// (same row count, max id, sum of ages and active rows as the generator's;
/// every streamed row is checksummed anyway). Untimed.
pub async fn ensure_table(env: &Env) -> Result<()> {
    if env.backend != Backend::Sqlite
        && let Ok(fp) = env.verifier.stream_fingerprint().await
        && fp == expected_fingerprint()
    {
        eprintln!("  [{}] {STREAM_TABLE}: kept (intact)", env.backend.name());
        return Ok(());
    }
    let t0 = Instant::now();
    env.recreate(&bench_table(STREAM_TABLE)).await?;
    env.verifier.fill_stream().await?;
    if env.backend == Backend::Postgres {
        env.verifier
            .execute(format!("ANALYZE {STREAM_TABLE}"))
            .await?;
    }
    let fp = env.verifier.stream_fingerprint().await?;
    ensure!(
        fp == expected_fingerprint(),
        "{STREAM_TABLE} after filling: {fp:?}, wanted {:?}",
        expected_fingerprint()
    );
    eprintln!(
        "  [{}] {STREAM_TABLE}: filled with {STREAM_ROWS} rows in {:.1}s",
        env.backend.name(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The checksum of rows `1..=n` of `bench_stream`.
fn expected_checksum(n: usize) -> u64 {
    static SMALL: OnceLock<u64> = OnceLock::new();
    static BIG: OnceLock<u64> = OnceLock::new();
    let sum = || (1..=n as i64).fold(0u64, |a, id| a.wrapping_add(shared_row(id).hash()));
    match n {
        STREAM_SMALL => *SMALL.get_or_init(sum),
        STREAM_ROWS => *BIG.get_or_init(sum),
        _ => sum(),
    }
}

/// One child process streaming `rows` rows: (rows/s, peak KiB).
async fn one(
    backend: Backend,
    target: &Target,
    contender: &str,
    rows: usize,
    bare: bool,
) -> Result<(f64, u64)> {
    let mut cmd = tokio::process::Command::new(std::env::current_exe()?);
    cmd.args([
        "--stream-child",
        contender,
        "--stream-rows",
        &rows.to_string(),
        "--child-backend",
        backend.name(),
        "--child-url",
        &plain(target),
    ]);
    if bare || contender == "dal-bare" {
        cmd.arg("--bare");
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(600), cmd.output())
        .await
        .context("stream child: no answer within 600 s")??;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("STREAM "))
        .with_context(|| {
            format!(
                "stream child failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            )
        })?;
    let v: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    ensure!(v.len() == 4, "bad stream answer {line:?}");
    let (count, nanos, sum, peak) = (v[0] as usize, v[1], v[2], v[3]);
    ensure!(
        count == rows,
        "{contender} streamed {count} rows, wanted {rows}"
    );
    ensure!(
        sum == expected_checksum(rows),
        "{contender}: streamed rows differ from {STREAM_TABLE} (checksum)"
    );
    Ok((rows as f64 / (nanos as f64 / 1e9), peak))
}

/// One run of `stream_1m` for a contender: the 1,000,000-row stream's rows/s,
/// and the peak KiB of the 10,000-row and of the 1,000,000-row child.
pub async fn measure(
    backend: Backend,
    target: &Target,
    contender: &str,
    bare: bool,
) -> Result<(f64, (u64, u64))> {
    let (_, small) = one(backend, target, contender, STREAM_SMALL, bare).await?;
    let (rate, big) = one(backend, target, contender, STREAM_ROWS, bare).await?;
    Ok((rate, (small, big)))
}

/// Peak resident set of this process so far (KiB).
fn vm_hwm_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .context("no VmHWM in /proc/self/status")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("VmHWM value")?
        .parse()?)
}

/// The child: stream `rows` rows through `contender`, print
/// `STREAM <rows> <nanos> <checksum> <peak KiB>`.
pub async fn child(contender: &str, backend: &str, url: &str, rows: usize) -> Result<()> {
    let backend = Backend::parse(backend).context("--child-backend")?;
    let target = match backend {
        Backend::Sqlite => Target::Lite(url.to_string()),
        Backend::Postgres => Target::Pg(url.to_string()),
        Backend::MySql => Target::My(url.to_string()),
    };
    let t0 = Instant::now();
    let (count, sum) = match contender {
        "dal" | "dal-bare" => {
            let dal_url = match backend {
                Backend::Sqlite => format!("sqlite://{url}"),
                _ => url.to_string(),
            };
            let db = crate::dal_impl::connect(&dal_url, 2).await?;
            let r = crate::dal_impl::stream(&db, rows).await?;
            db.close();
            r
        }
        "sqlx-pool" => crate::sqlx_impl::stream(&target, true, rows).await?,
        "sqlx-conn" => crate::sqlx_impl::stream(&target, false, rows).await?,
        "sea-orm" => crate::seaorm_impl::stream(&target, rows).await?,
        "diesel" => crate::diesel_impl::stream(backend, url, rows)?,
        "diesel-async" => crate::diesel_async_impl::stream(backend, url, rows).await?,
        "floor" => crate::floor::stream(backend, url, rows).await?,
        other => bail!("unknown contender {other:?}"),
    };
    let nanos = t0.elapsed().as_nanos();
    let peak = vm_hwm_kib()?;
    println!("STREAM {count} {nanos} {sum} {peak}");
    Ok(())
}
