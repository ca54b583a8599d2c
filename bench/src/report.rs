//! Tables on stdout and the CSV file.

use std::fmt::Write as _;
use std::io::Write as _;

use anyhow::Result;

use crate::workloads::{CONC_POOL, ConcStats, Workload};

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

/// The per-backend table, the concurrency table and the history ratios.
pub fn backend_table(backend: &str, contenders: &[&'static str], cells: &[Cell]) -> String {
    let mut out = String::new();
    let workloads: Vec<Workload> = Workload::ALL
        .into_iter()
        .filter(|w| cells.iter().any(|c| c.workload == *w))
        .collect();
    let _ = writeln!(
        out,
        "\n=== {backend} === ops/s, median of runs; (ratio vs sqlx-pool, vs floor); higher is better"
    );
    let _ = writeln!(out, "    ({NOISE})");
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head = vec!["workload (unit)".to_string()];
    head.extend(contenders.iter().map(|c| c.to_string()));
    rows.push(head);
    for &w in &workloads {
        let mut row = vec![format!("{} ({})", w.name(), w.unit())];
        let pool = find(cells, w, "sqlx-pool").and_then(Cell::median);
        let floor = find(cells, w, "floor").and_then(Cell::median);
        for &c in contenders {
            let text = match find(cells, w, c) {
                None => "-".to_string(),
                Some(cell) => match (&cell.failed, cell.median()) {
                    (Some(_), _) => "FAILED".to_string(),
                    (None, None) => "-".to_string(),
                    (None, Some(m)) => {
                        let mut parts = Vec::new();
                        if c != "sqlx-pool"
                            && let Some(r) = ratio(Some(m), pool)
                        {
                            parts.push(format!("{r:.2}x pool"));
                        }
                        if c != "floor"
                            && let Some(r) = ratio(Some(m), floor)
                        {
                            parts.push(format!("{r:.2}x floor"));
                        }
                        if parts.is_empty() {
                            thousands(m)
                        } else {
                            format!("{} ({})", thousands(m), parts.join(", "))
                        }
                    }
                },
            };
            row.push(text);
        }
        rows.push(row);
    }
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
                cell.contender,
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
            hist.push(format!("{c} {r:.2}x"));
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
    writeln!(
        f,
        "backend,workload,unit,contender,median_ops_per_s,vs_sqlx_pool,vs_floor,runs_ops_per_s,p50_us,p99_us,acquire_timeouts,theoretical_ops_per_s,achieved_fraction,failed"
    )?;
    for c in cells {
        let m = c.median();
        let pool = cells
            .iter()
            .find(|x| {
                x.backend == c.backend && x.workload == c.workload && x.contender == "sqlx-pool"
            })
            .and_then(Cell::median);
        let floor = cells
            .iter()
            .find(|x| x.backend == c.backend && x.workload == c.workload && x.contender == "floor")
            .and_then(Cell::median);
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
        writeln!(
            f,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            c.backend,
            c.workload.name(),
            c.workload.unit(),
            c.contender,
            m.map(|v| format!("{v:.1}")).unwrap_or_default(),
            f2(ratio(m, pool)),
            f2(ratio(m, floor)),
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
            c.failed.as_deref().unwrap_or("").replace([',', '\n'], " "),
        )?;
    }
    Ok(())
}
