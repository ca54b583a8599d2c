//! Tables on stdout and the CSV file.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Result;

use crate::workloads::{Backend, CONC_POOL, ConcStats, Workload};

pub const NOISE: &str = "2 vCPU, shared machine: ±10% between runs is noise";

/// One cell: a contender on a workload of a backend.
#[derive(Debug, Clone)]
pub struct Cell {
    pub backend: &'static str,
    pub workload: Workload,
    pub contender: &'static str,
    /// ops/s of each measured run (warm-up excluded).
    pub runs: Vec<f64>,
    /// `concurrent` only: each measured run's stats.
    pub conc: Vec<ConcStats>,
    /// `stream_1m` only: each measured run's peak resident memory (VmHWM,
    /// KiB) of the child process that streamed 10,000 rows and of the one
    /// that streamed 1,000,000.
    pub mem: Vec<(u64, u64)>,
    /// Why there is no figure.
    pub failed: Option<String>,
}

impl Cell {
    pub fn median(&self) -> Option<f64> {
        if self.failed.is_some() || self.runs.is_empty() {
            return None;
        }
        let mut v = self.runs.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        let m = v.len() / 2;
        Some(if v.len() % 2 == 1 {
            v[m]
        } else {
            (v[m - 1] + v[m]) / 2.0
        })
    }

    /// (median peak KiB streaming 10k rows, median peak KiB streaming 1M rows).
    pub fn mem_summary(&self) -> Option<(u64, u64)> {
        if self.mem.is_empty() {
            return None;
        }
        let med = |f: &dyn Fn(&(u64, u64)) -> u64| {
            let mut v: Vec<u64> = self.mem.iter().map(f).collect();
            v.sort_unstable();
            v[v.len() / 2]
        };
        Some((med(&|m| m.0), med(&|m| m.1)))
    }

    /// (median p50 µs, median p99 µs, acquire timeouts over all runs).
    pub fn conc_summary(&self) -> Option<(f64, f64, usize)> {
        if self.conc.is_empty() {
            return None;
        }
        let med = |f: &dyn Fn(&ConcStats) -> f64| {
            let mut v: Vec<f64> = self.conc.iter().map(f).collect();
            v.sort_by(|a, b| a.total_cmp(b));
            v[v.len() / 2]
        };
        Some((
            med(&|s| s.p50.as_secs_f64() * 1e6),
            med(&|s| s.p99.as_secs_f64() * 1e6),
            self.conc.iter().map(|s| s.acquire_timeouts).sum(),
        ))
    }
}

pub fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn find<'a>(cells: &'a [Cell], w: Workload, c: &str) -> Option<&'a Cell> {
    cells.iter().find(|x| x.workload == w && x.contender == c)
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// The name a contender is shown under.
pub fn display(c: &str) -> &str {
    if c == "dal-bare" { "dal (bare)" } else { c }
}

/// What stands beside a `bulk_insert` figure: the rows per statement used.
fn chunk_note(backend: &str, contender: &str) -> String {
    let Some(b) = Backend::parse(backend) else {
        return String::new();
    };
    if contender == "dal" || contender == "dal-bare" {
        return format!("[dal: {}]", b.dal_bulk());
    }
    match b.bulk_chunk(contender) {
        Some(n) => format!("[chunk {n}]"),
        None if b == Backend::Sqlite => "[1 row x 10000 prepared]".to_string(),
        None => "[COPY]".to_string(),
    }
}

pub const POOL_NOTE: &str = "* x pool = vs sqlx-pool, not like-for-like: sqlx's pool tests a connection when it is handed out (test_before_acquire, on by default), \
diesel-async's deadpool runs SELECT 1 at every checkout, dal's pool checks only connections that sat idle; \
the fair ratios are x floor (the raw driver) and x conn (sqlx on one dedicated connection)";

/// One contender's figure with its ratios: vs floor, vs sqlx-conn, then vs sqlx-pool (marked *).
fn cell_text(cells: &[Cell], w: Workload, c: &str) -> String {
    let Some(cell) = find(cells, w, c) else {
        return "-".to_string();
    };
    let m = match (&cell.failed, cell.median()) {
        (Some(_), _) => return "FAILED".to_string(),
        (None, None) => return "-".to_string(),
        (None, Some(m)) => m,
    };
    let mut parts = Vec::new();
    for (other, label) in [
        ("floor", "floor"),
        ("sqlx-conn", "conn"),
        ("sqlx-pool", "pool*"),
    ] {
        if c != other
            && let Some(r) = ratio(Some(m), find(cells, w, other).and_then(Cell::median))
        {
            parts.push(format!("{r:.2}x {label}"));
        }
    }
    let mut text = thousands(m);
    if !parts.is_empty() {
        text = format!("{text} ({})", parts.join(", "));
    }
    if w == Workload::BulkInsert {
        text = format!("{text} {}", chunk_note(cell.backend, c));
    }
    text
}

/// Left-aligned first column, right-aligned others, with a rule under the head.
fn grid(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for (k, r) in rows.iter().enumerate() {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let pad = widths[i] - s.chars().count();
                if i == 0 {
                    format!("{s}{}", " ".repeat(pad))
                } else {
                    format!("{}{s}", " ".repeat(pad))
                }
            })
            .collect();
        let _ = writeln!(out, "{}", line.join(" | "));
        if k == 0 {
            let _ = writeln!(
                out,
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("-|-")
            );
        }
    }
    out
}

/// The per-backend tables: the fair ratios, every figure, the concurrency
/// details, the streaming memory and the history ratios.
pub fn backend_table(backend: &str, contenders: &[&'static str], cells: &[Cell]) -> String {
    let mut out = String::new();
    let workloads: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| cells.iter().any(|c| c.workload == *w))
        .collect();
    let _ = writeln!(out, "\ncommand: {}", crate::command_line());

    // the fair ratios first: dal against the floor and sqlx's dedicated connection
    let dals: Vec<&str> = ["dal", "dal-bare"]
        .into_iter()
        .filter(|d| contenders.contains(d))
        .collect();
    if !dals.is_empty() {
        let _ = writeln!(
            out,
            "\n=== {backend}: the fair ratios === dal vs the raw driver (floor) and vs sqlx on one dedicated connection (sqlx-conn); higher is better"
        );
        let mut head = vec!["workload".to_string()];
        for d in &dals {
            head.push(format!("{} x floor", display(d)));
            head.push(format!("{} x conn", display(d)));
        }
        let mut rows = vec![head];
        for &w in &workloads {
            let mut row = vec![w.name().to_string()];
            for d in &dals {
                let m = find(cells, w, d).and_then(Cell::median);
                for other in ["floor", "sqlx-conn"] {
                    row.push(
                        ratio(m, find(cells, w, other).and_then(Cell::median))
                            .map(|r| format!("{r:.2}x"))
                            .unwrap_or_else(|| "-".into()),
                    );
                }
            }
            rows.push(row);
        }
        out.push_str(&grid(&rows));
    }

    let _ = writeln!(
        out,
        "\n=== {backend} === ops/s, median of runs; (ratio vs floor, vs sqlx-conn, vs sqlx-pool*); higher is better"
    );
    let _ = writeln!(out, "    ({NOISE})");
    let _ = writeln!(out, "    {POOL_NOTE}");
    let _ = writeln!(
        out,
        "    bulk_insert [..]: rows per multi-row INSERT (each peer's best measured chunk), COPY, or what dal chose itself; save_history: the peers use a {} (dal: its own trigger)",
        Backend::parse(backend).map_or("?", |b| b.history_method().name())
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["workload (unit)".to_string()];
    head.extend(contenders.iter().map(|c| display(c).to_string()));
    rows.push(head);
    for &w in &workloads {
        let mut row = vec![format!("{} ({})", w.name(), w.unit())];
        for &c in contenders {
            row.push(cell_text(cells, w, c));
        }
        rows.push(row);
    }
    out.push_str(&grid(&rows));

    // streaming: peak resident memory of the child processes
    let streams: Vec<&Cell> = contenders
        .iter()
        .filter_map(|c| find(cells, Workload::Stream1m, c))
        .filter(|c| c.failed.is_none() && !c.mem.is_empty())
        .collect();
    if !streams.is_empty() {
        let _ = writeln!(
            out,
            "\nstream_1m memory: peak resident set (VmHWM) of a child process that streamed 10,000 rows and of one that streamed 1,000,000 (median of runs); dal's target: ratio < 2x"
        );
        let mut rows = vec![vec![
            "contender".to_string(),
            "peak 10k (MiB)".to_string(),
            "peak 1M (MiB)".to_string(),
            "ratio 1M/10k".to_string(),
        ]];
        for cell in streams {
            let (a, b) = cell.mem_summary().unwrap_or_default();
            rows.push(vec![
                display(cell.contender).to_string(),
                format!("{:.1}", a as f64 / 1024.0),
                format!("{:.1}", b as f64 / 1024.0),
                if a > 0 {
                    format!("{:.2}x", b as f64 / a as f64)
                } else {
                    "-".into()
                },
            ]);
        }
        out.push_str(&grid(&rows));
    }

    // concurrency details
    let conc: Vec<&Cell> = contenders
        .iter()
        .filter_map(|c| find(cells, Workload::Concurrent, c))
        .filter(|c| c.failed.is_none() && !c.conc.is_empty())
        .collect();
    if !conc.is_empty() {
        let _ = writeln!(
            out,
            "\nconcurrent: 1000 tasks x 10 selects by pk, pool of {CONC_POOL}, 5 s acquire timeout; latency per query includes the pool wait;\n\
             theoretical = {CONC_POOL} / (that contender's single-connection select_pk latency)"
        );
        let _ = writeln!(
            out,
            "{:<14} | {:>11} | {:>9} | {:>9} | {:>16} | {:>11} | {:>8}",
            "contender",
            "queries/s",
            "p50 µs",
            "p99 µs",
            "acquire timeouts",
            "theoretical",
            "achieved"
        );
        for cell in conc {
            let (p50, p99, to) = cell.conc_summary().unwrap_or_default();
            let m = cell.median().unwrap_or(0.0);
            let single = find(cells, Workload::SelectPk, cell.contender).and_then(Cell::median);
            let theo = single.map(|s| s * f64::from(CONC_POOL));
            let _ = writeln!(
                out,
                "{:<14} | {:>11} | {:>9.0} | {:>9.0} | {:>16} | {:>11} | {:>8}",
                display(cell.contender),
                thousands(m),
                p50,
                p99,
                to,
                theo.map(thousands).unwrap_or_else(|| "-".into()),
                theo.map(|t| format!("{:.1}%", m / t * 100.0))
                    .unwrap_or_else(|| "-".into()),
            );
        }
    }

    // history overhead: insert_one (no history) vs save_history
    let mut hist = Vec::new();
    for &c in contenders {
        let plain = find(cells, Workload::InsertOne, c).and_then(Cell::median);
        let with = find(cells, Workload::SaveHistory, c).and_then(Cell::median);
        if let Some(r) = ratio(plain, with) {
            hist.push(format!("{} {r:.2}x", display(c)));
        }
    }
    if !hist.is_empty() {
        let _ = writeln!(
            out,
            "\nhistory cost = time per save with history / time per insert without (insert_one ops/s ÷ save_history ops/s; dal target ≤ 1.6x):\n  {}",
            hist.join(", ")
        );
    }
    out
}

pub fn write_csv(path: &str, cells: &[Cell]) -> Result<()> {
    if let Some(dir) = std::path::Path::new(path).parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::File::create(path)?;
    writeln!(f, "# command: {}", crate::command_line())?;
    writeln!(
        f,
        "backend,workload,unit,contender,median_ops_per_s,vs_sqlx_pool,vs_floor,vs_sqlx_conn,runs_ops_per_s,p50_us,p99_us,acquire_timeouts,theoretical_ops_per_s,achieved_fraction,bulk_rows_per_statement,peak_kib_10k,peak_kib_1m,failed"
    )?;
    for c in cells {
        let m = c.median();
        let other = |name: &str| {
            cells
                .iter()
                .find(|x| x.backend == c.backend && x.workload == c.workload && x.contender == name)
                .and_then(Cell::median)
        };
        let pool = other("sqlx-pool");
        let floor = other("floor");
        let conn = other("sqlx-conn");
        let f2 = |v: Option<f64>| v.map(|v| format!("{v:.4}")).unwrap_or_default();
        let (p50, p99, to) = match c.conc_summary() {
            Some((a, b, t)) => (format!("{a:.1}"), format!("{b:.1}"), t.to_string()),
            None => Default::default(),
        };
        let theo = if c.workload == Workload::Concurrent {
            cells
                .iter()
                .find(|x| {
                    x.backend == c.backend
                        && x.workload == Workload::SelectPk
                        && x.contender == c.contender
                })
                .and_then(Cell::median)
                .map(|s| s * f64::from(CONC_POOL))
        } else {
            None
        };
        let chunk = if c.workload == Workload::BulkInsert {
            chunk_note(c.backend, c.contender)
                .trim_matches(|ch| ch == '[' || ch == ']')
                .to_string()
        } else {
            String::new()
        };
        let (m10k, m1m) = match c.mem_summary() {
            Some((a, b)) => (a.to_string(), b.to_string()),
            None => Default::default(),
        };
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            c.backend,
            c.workload.name(),
            c.workload.unit(),
            c.contender,
            m.map(|v| format!("{v:.1}")).unwrap_or_default(),
            f2(ratio(m, pool)),
            f2(ratio(m, floor)),
            f2(ratio(m, conn)),
            c.runs
                .iter()
                .map(|v| format!("{v:.1}"))
                .collect::<Vec<_>>()
                .join(";"),
            p50,
            p99,
            to,
            theo.map(|v| format!("{v:.1}")).unwrap_or_default(),
            f2(ratio(m, theo)),
            chunk.replace(',', " "),
            m10k,
            m1m,
            c.failed.as_deref().unwrap_or("").replace([',', '\n'], " "),
        )?;
    }
    Ok(())
}
