//! Reading options from environment variables (`DAL_DATABASE_URL`, `DAL_POOL_MAX`,
//! ...) and parsing their values: booleans, durations, whole numbers and rates.

use std::collections::BTreeMap;
use std::time::Duration;

use super::builder::{DatabaseConfigBuilder, Naming, Opt};
use super::connection_url;
pub(super) use super::options::parse_bool;
use crate::error::ConfigProblem;

/// `ANALYTICS` and `ANALYTICS_` both mean the `ANALYTICS_` prefix.
pub(super) fn normalize_prefix(prefix: &str) -> String {
    let mut p = prefix.to_string();
    if !p.is_empty() && !p.ends_with('_') {
        p.push('_');
    }
    p
}

/// A builder from `(name, value)` pairs; pairs without the prefix are ignored,
/// and when a name repeats the last value wins.
pub(super) fn builder_from_vars(
    prefix: &str,
    vars: impl IntoIterator<Item = (String, String)>,
) -> DatabaseConfigBuilder {
    let prefix = normalize_prefix(prefix);
    let mut ours: BTreeMap<String, String> = vars
        .into_iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix.as_str()).map(|s| (s.to_string(), v)))
        .collect();
    let naming = Naming::Env(prefix.clone());
    let url_var = naming.name(Opt::Url);
    let url = match ours.remove("DATABASE_URL") {
        Some(url) => connection_url::parse(&url, &url_var),
        None => Err(vec![ConfigProblem {
            option: url_var,
            reason: "is not set (expected a URL such as postgres://user@host/database)".to_string(),
        }]),
    };
    let mut builder = DatabaseConfigBuilder::with_naming(url, naming);
    for opt in Opt::ALL {
        let Some(suffix) = opt.env() else { continue };
        let Some(value) = ours.remove(suffix) else {
            continue;
        };
        if let Err(reason) = apply(&mut builder, opt, &value) {
            builder.problems.push(ConfigProblem {
                option: format!("{prefix}{suffix}"),
                reason,
            });
        }
    }
    // With an empty prefix every variable of the process would be "unknown".
    if !prefix.is_empty() {
        let lenient = match ours.remove(IGNORE_UNKNOWN) {
            None => false,
            Some(v) => match parse_bool(&v) {
                Ok(b) => b,
                Err(reason) => {
                    builder.problems.push(ConfigProblem {
                        option: format!("{prefix}{IGNORE_UNKNOWN}"),
                        reason,
                    });
                    false
                }
            },
        };
        let unknown = ours
            .keys()
            .filter(|k| !RESERVED.iter().any(|r| k.starts_with(r)));
        for name in unknown {
            let hint = match closest_option(name) {
                Some(known) => format!("; did you mean {prefix}{known}?"),
                None => String::new(),
            };
            if lenient {
                tracing::warn!("ignoring unknown configuration variable {prefix}{name}{hint}");
            } else {
                builder.problems.push(ConfigProblem {
                    option: format!("{prefix}{name}"),
                    reason: format!(
                        "is not a dal setting{hint} (set {prefix}{IGNORE_UNKNOWN}=true to ignore unknown variables)"
                    ),
                });
            }
        }
    }
    builder
}

/// The variable (after the prefix) that turns unknown variables from
/// configuration errors into warnings, for environments shared with other
/// programs using the same prefix.
pub(super) const IGNORE_UNKNOWN: &str = "IGNORE_UNKNOWN_VARS";

/// Variable name beginnings (after the prefix) left to tools: dal's own
/// test, benchmark and CI settings.
const RESERVED: [&str; 3] = ["TEST_", "BENCH_", "CI_"];

/// Sets one option from its environment value.
fn apply(b: &mut DatabaseConfigBuilder, opt: Opt, value: &str) -> Result<(), String> {
    match opt {
        Opt::Url | Opt::TlsMode | Opt::TlsRootCert | Opt::Password => {}
        Opt::Name => b.name = value.trim().to_string(),
        Opt::MaxConnections => {
            b.pool.max_connections = parse_u32(value)?;
            b.pool_explicit = true;
        }
        Opt::MinConnections => {
            b.pool.min_connections = parse_u32(value)?;
            b.pool_explicit = true;
        }
        Opt::IdleTimeout => {
            b.pool.idle_timeout = parse_optional_duration(value)?;
            b.pool_explicit = true;
        }
        Opt::MaxLifetime => {
            b.pool.max_lifetime = parse_optional_duration(value)?;
            b.pool_explicit = true;
        }
        Opt::ValidateAfterIdle => b.pool.validate_after_idle = parse_duration(value)?,
        Opt::AcquireTimeout => b.timeouts.acquire = parse_duration(value)?,
        Opt::ConnectTimeout => b.timeouts.connect = parse_duration(value)?,
        Opt::PoolCreationTimeout => b.timeouts.pool_creation = parse_duration(value)?,
        Opt::QueryTimeout => b.timeouts.query = parse_optional_duration(value)?,
        Opt::SlowQueryThreshold => b.slow_query_threshold = parse_duration(value)?,
        Opt::StatementCache => {
            let n = parse_whole(value, usize::MAX as u64)?;
            b.statement_cache_capacity = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Opt::BulkRows => {
            let n = parse_whole(value, usize::MAX as u64)?;
            b.bulk_rows = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Opt::LogParameters => b.log_parameters = parse_bool(value)?,
        Opt::Pgbouncer => b.pgbouncer = Some(parse_bool(value)?),
        Opt::Replicas => {
            b.replica_urls = value
                .split_whitespace()
                .map(|u| super::connection_url::Secret::new(u.to_string()))
                .collect()
        }
        Opt::ReadYourWritesWindow => b.read_your_writes_window = parse_duration(value)?,
        Opt::MaxReplicaLag => b.max_replica_lag = parse_optional_duration(value)?,
        Opt::Cache => b.cache = Some(crate::cache::CacheConfig::parse(value)?),
        Opt::CacheTtl => b.cache_ttl = Some(parse_duration(value)?),
        Opt::DirectUrl => {
            b.direct_url = Some(super::connection_url::Secret::new(value.to_string()))
        }
        Opt::NPlusOneThreshold => {
            let n = parse_whole(value, usize::MAX as u64)?;
            b.n_plus_one_threshold = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Opt::LeakDetectionThreshold => {
            b.leak_detection_threshold = parse_optional_duration(value)?;
        }
        Opt::CaptureBacktrace => b.capture_backtrace = parse_bool(value)?,
        Opt::SqliteBusyTimeout => b.sqlite_busy_timeout = parse_duration(value)?,
        Opt::RetryEnabled => b.retry.enabled = parse_bool(value)?,
        Opt::RetryMaxAttempts => b.retry.max_attempts = parse_u32(value)?,
        Opt::RetryBaseDelay => b.retry.base_delay = parse_duration(value)?,
        Opt::RetryMaxDelay => b.retry.max_delay = parse_duration(value)?,
        Opt::RetryBudget => b.retry.budget = parse_duration(value)?,
        Opt::BreakerEnabled => b.breaker.enabled = parse_bool(value)?,
        Opt::BreakerFailureThreshold => b.breaker.failure_threshold = parse_u32(value)?,
        Opt::BreakerFailureRate => b.breaker.failure_rate = parse_rate(value)?,
        Opt::BreakerWindow => b.breaker.window = parse_duration(value)?,
        Opt::BreakerMinCalls => b.breaker.minimum_calls = parse_u32(value)?,
        Opt::BreakerOpenDuration => b.breaker.open_duration = parse_duration(value)?,
        Opt::BreakerHalfOpenCalls => b.breaker.half_open_calls = parse_u32(value)?,
    }
    Ok(())
}

/// A whole number no larger than `max`.
fn parse_whole(raw: &str, max: u64) -> Result<u64, String> {
    let s = raw.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected a whole number, got {raw:?}"));
    }
    match s.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!(
            "expected a whole number no larger than {max}, got {raw:?}"
        )),
    }
}

pub(super) fn parse_u32(raw: &str) -> Result<u32, String> {
    let n = parse_whole(raw, u64::from(u32::MAX))?;
    u32::try_from(n).map_err(|_| format!("expected a whole number, got {raw:?}"))
}

/// A decimal number; its range is checked by validation, which names the option
/// the same way.
pub(super) fn parse_rate(raw: &str) -> Result<f64, String> {
    let s = raw.trim();
    let (number, scale) = match s.strip_suffix('%') {
        Some(n) => (n.trim_end(), 100.0),
        None => (s, 1.0),
    };
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v / scale),
        _ => Err(format!(
            "expected a rate greater than 0 and at most 1 (e.g. 0.5 or 50%), got {raw:?}"
        )),
    }
}

/// `250ms`, `5s`, `1.5s`, `2m`, `1h`, or a bare number of seconds (`30`, `0.5`).
pub(super) fn parse_duration(raw: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "expected a duration such as 250ms, 5s, 1.5s, 2m or 1h \
             (a bare number means seconds), got {raw:?}"
        )
    };
    let s = raw.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let nanos_per_unit: u128 = match unit.trim().to_ascii_lowercase().as_str() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "" | "s" | "sec" | "secs" => 1_000_000_000,
        "m" | "min" | "mins" => 60_000_000_000,
        "h" | "hr" | "hrs" => 3_600_000_000_000,
        _ => return Err(bad()),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if (whole.is_empty() && fraction.is_empty()) || fraction.contains('.') {
        return Err(bad());
    }
    // Integer arithmetic, so "0.1s" is exactly 100ms; digits past nanoseconds are dropped.
    // `number` holds only ASCII digits and '.', so any byte index is a boundary.
    let fraction = &fraction[..fraction.len().min(18)];
    let whole_value: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let fraction_value: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| bad())?
    };
    let scale = 10u128.pow(fraction.len() as u32);
    let nanos = whole_value
        .checked_mul(nanos_per_unit)
        .and_then(|w| w.checked_add(fraction_value * nanos_per_unit / scale))
        .ok_or_else(bad)?;
    let secs = u64::try_from(nanos / 1_000_000_000).map_err(|_| bad())?;
    // The remainder is below 10^9 and fits in u32.
    let sub = (nanos % 1_000_000_000) as u32;
    Ok(Duration::new(secs, sub))
}

/// A duration, or `none`/`off`/`0` (any zero duration) for "no limit".
pub(super) fn parse_optional_duration(raw: &str) -> Result<Option<Duration>, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "none" | "off" => Ok(None),
        _ => match parse_duration(raw) {
            Ok(d) if d.is_zero() => Ok(None),
            Ok(d) => Ok(Some(d)),
            Err(e) => Err(format!("{e} (or none, off or 0 for no limit)")),
        },
    }
}

/// The known variable suffix nearest to `unknown`, if it is near enough to be a typo.
pub(super) fn closest_option(unknown: &str) -> Option<&'static str> {
    let limit = (unknown.chars().count() / 3).max(2);
    Opt::ALL
        .iter()
        .filter_map(|opt| opt.env())
        .map(|known| (edit_distance(unknown, known), known))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, known)| known)
}

fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}
