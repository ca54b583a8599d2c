//! Unit tests of `DatabaseConfig`: URL forms, environment options, validation,
//! TLS defaults and secrecy.
//!
//! Over 1,000 lines on purpose: one test per configuration rule, kept in one
//! place so the file reads as the table of what a configuration accepts.

use std::path::Path;
use std::time::Duration;

use dal_schema::Dialect;

use super::env::{
    closest_option, parse_bool, parse_duration, parse_optional_duration, parse_rate, parse_u32,
};
use super::*;
use crate::error::ConfigErrors;
use crate::error::Error;

const SECRET: &str = "hunter2-SECRET";

fn url(u: &str) -> DatabaseConfig {
    match DatabaseConfig::from_url(u) {
        Ok(c) => c,
        Err(e) => panic!("{u}: {e}"),
    }
}

fn vars(pairs: &[(&str, &str)]) -> crate::error::Result<DatabaseConfig> {
    DatabaseConfig::from_vars("DAL_", pairs.iter().map(|&(k, v)| (k, v)))
}

fn env_ok(pairs: &[(&str, &str)]) -> DatabaseConfig {
    match vars(pairs) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    }
}

fn problems(result: crate::error::Result<DatabaseConfig>) -> Vec<crate::error::ConfigProblem> {
    match result {
        Err(Error::Config(ConfigErrors(list))) => list,
        Err(other) => panic!("expected a config error, got {other}"),
        Ok(c) => panic!("expected a config error, got {c:?}"),
    }
}

fn options(list: &[crate::error::ConfigProblem]) -> Vec<&str> {
    list.iter().map(|p| p.option.as_str()).collect()
}

// ---------- URLs ----------

#[test]
fn every_engine_alias_in_any_case() {
    for (scheme, dialect, port) in [
        ("postgres", Dialect::Postgres, 5432),
        ("postgresql", Dialect::Postgres, 5432),
        ("pg", Dialect::Postgres, 5432),
        ("PostgreSQL", Dialect::Postgres, 5432),
        ("PG", Dialect::Postgres, 5432),
        ("mysql", Dialect::MySql, 3306),
        ("mariadb", Dialect::MySql, 3306),
        ("MySQL", Dialect::MySql, 3306),
        ("MariaDB", Dialect::MySql, 3306),
    ] {
        let c = url(&format!("{scheme}://app@localhost/shop"));
        assert_eq!(c.dialect(), dialect, "{scheme}");
        assert_eq!(c.port(), Some(port), "{scheme}");
        assert_eq!(c.host(), Some("localhost"));
        assert_eq!(c.username(), Some("app"));
        assert_eq!(c.database(), Some("shop"));
        assert_eq!(c.sqlite_path(), None);
        assert_eq!(c.sqlite_mode(), None);
    }
    for scheme in ["sqlite", "SQLite", "SQLITE", "sqlite3"] {
        let c = url(&format!("{scheme}://app.db"));
        assert_eq!(c.dialect(), Dialect::Sqlite);
        assert_eq!(c.sqlite_path(), Some(Path::new("app.db")));
        assert_eq!(c.host(), None);
        assert_eq!(c.port(), None);
        assert_eq!(c.tls_mode(), None);
    }
}

#[test]
fn server_url_parts_are_decoded() {
    let c = url(
        "postgres://app%40corp:p%40ss%3Aw%2Fd@db.example.com:6543/my%20db?application_name=api&options=-c%20x%3D1",
    );
    assert_eq!(c.username(), Some("app@corp"));
    assert_eq!(c.password(), Some("p@ss:w/d"));
    assert!(c.has_password());
    assert_eq!(c.host(), Some("db.example.com"));
    assert_eq!(c.port(), Some(6543));
    assert_eq!(c.database(), Some("my db"));
    assert_eq!(
        c.params(),
        &[
            ("application_name".to_string(), "api".to_string()),
            ("options".to_string(), "-c x=1".to_string()),
        ]
    );
    assert_eq!(c.param("APPLICATION_NAME"), Some("api"));
}

#[test]
fn unescaped_at_and_colon_in_password() {
    // The last `@` ends the user info; the first `:` splits user and password.
    let c = url("mysql://root:pa:ss@word@db/shop");
    assert_eq!(c.username(), Some("root"));
    assert_eq!(c.password(), Some("pa:ss@word"));
    assert_eq!(c.host(), Some("db"));
}

#[test]
fn ipv6_and_multiple_hosts() {
    let c = url("postgres://app@[::1]:5433/shop");
    assert_eq!(c.host(), Some("::1"));
    assert_eq!(c.port(), Some(5433));
    assert_eq!(c.tls_mode(), Some(TlsMode::Disable));
    let c = url("postgresql://app@primary.internal,replica.internal:5433,[2001:db8::1]/shop");
    assert_eq!(
        c.hosts(),
        &[
            ("primary.internal".to_string(), 5432),
            ("replica.internal".to_string(), 5433),
            ("2001:db8::1".to_string(), 5432),
        ]
    );
    assert_eq!(c.host(), Some("primary.internal"));
    assert_eq!(c.tls_mode(), Some(TlsMode::VerifyFull));
}

#[test]
fn unix_sockets() {
    let c = url("postgres://app@/shop?host=/var/run/postgresql");
    assert_eq!(c.socket(), Some("/var/run/postgresql"));
    assert_eq!(c.host(), None);
    assert_eq!(c.param("host"), Some("/var/run/postgresql"));
    assert_eq!(c.tls_mode(), Some(TlsMode::Disable));

    let c = url("postgres://app@%2Fvar%2Frun%2Fpostgresql/shop");
    assert_eq!(c.socket(), Some("/var/run/postgresql"));

    let c = url("mysql://app@/shop?socket=/run/mysqld/mysqld.sock");
    assert_eq!(c.socket(), Some("/run/mysqld/mysqld.sock"));
    assert_eq!(c.param("socket"), Some("/run/mysqld/mysqld.sock"));
    assert_eq!(c.tls_mode(), Some(TlsMode::Disable));

    // A non-path `host` parameter is the host (libpq).
    let c = url("postgres://app@/shop?host=db.example.com");
    assert_eq!(c.host(), Some("db.example.com"));
    assert_eq!(c.socket(), None);
}

#[test]
fn missing_database_defaults() {
    // PostgreSQL: the user's name, as libpq does.
    let c = url("postgres://alice@localhost");
    assert_eq!(c.database(), Some("alice"));
    let c = url("postgres://alice@localhost/");
    assert_eq!(c.database(), Some("alice"));
    // MySQL: no default database, as sqlx allows.
    let c = url("mysql://root@localhost");
    assert_eq!(c.database(), None);
    // PostgreSQL with neither.
    let p = problems(DatabaseConfig::from_url("postgres://localhost"));
    assert_eq!(options(&p), ["url"]);
    assert!(p[0].reason.contains("no database"), "{}", p[0].reason);
}

#[test]
fn sqlite_url_forms() {
    let cases: [(&str, Option<&str>, bool, SqliteMode); 10] = [
        ("sqlite::memory:", None, true, SqliteMode::Memory),
        ("sqlite://:memory:", None, true, SqliteMode::Memory),
        (
            "sqlite://relative/dir/app.db",
            Some("relative/dir/app.db"),
            false,
            SqliteMode::ReadWriteCreate,
        ),
        (
            "sqlite://./data/app.db",
            Some("./data/app.db"),
            false,
            SqliteMode::ReadWriteCreate,
        ),
        (
            "sqlite:app.db",
            Some("app.db"),
            false,
            SqliteMode::ReadWriteCreate,
        ),
        (
            "sqlite:///abs/path/app.db",
            Some("/abs/path/app.db"),
            false,
            SqliteMode::ReadWriteCreate,
        ),
        (
            "sqlite://app.db?mode=ro",
            Some("app.db"),
            false,
            SqliteMode::ReadOnly,
        ),
        (
            "sqlite://app.db?mode=RW",
            Some("app.db"),
            false,
            SqliteMode::ReadWrite,
        ),
        (
            "sqlite://app.db?mode=rwc",
            Some("app.db"),
            false,
            SqliteMode::ReadWriteCreate,
        ),
        (
            "sqlite://shared?mode=memory&cache=shared",
            Some("shared"),
            true,
            SqliteMode::Memory,
        ),
    ];
    for (u, path, memory, mode) in cases {
        let c = url(u);
        assert_eq!(c.dialect(), Dialect::Sqlite, "{u}");
        assert_eq!(c.sqlite_path(), path.map(Path::new), "{u}");
        assert_eq!(c.is_sqlite_memory(), memory, "{u}");
        assert_eq!(c.sqlite_mode(), Some(mode), "{u}");
        assert_eq!(c.tls_mode(), None, "{u}");
        assert_eq!(c.to_string(), u, "{u}");
    }
    assert_eq!(
        url("sqlite://a%20b.db").sqlite_path(),
        Some(Path::new("a b.db"))
    );
    assert_eq!(
        url("sqlite://app.db?cache=shared").param("cache"),
        Some("shared")
    );
}

#[test]
fn sqlite_url_problems() {
    for bad in [
        "sqlite://",
        "sqlite:",
        "sqlite://app.db?mode=rx",
        "sqlite::memory:?mode=ro",
        "sqlite://app.db?sslmode=require",
    ] {
        let p = problems(DatabaseConfig::from_url(bad));
        assert_eq!(options(&p), ["url"], "{bad}");
    }
}

#[test]
fn sqlite_memory_forces_one_connection() {
    let c = url("sqlite::memory:");
    let pool = c.pool();
    assert_eq!((pool.max_connections, pool.min_connections), (1, 1));
    assert_eq!(pool.idle_timeout, None);
    assert_eq!(pool.max_lifetime, None);

    let c = DatabaseConfig::builder("sqlite::memory:")
        .max_connections(8)
        .min_connections(2)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.pool().max_connections, 1);

    let c = env_ok(&[
        ("DAL_DATABASE_URL", "sqlite://x?mode=memory"),
        ("DAL_POOL_MAX", "20"),
    ]);
    assert_eq!(c.pool().max_connections, 1);

    // A file database keeps what it was given.
    let c = env_ok(&[
        ("DAL_DATABASE_URL", "sqlite://x.db"),
        ("DAL_POOL_MAX", "20"),
    ]);
    assert_eq!(c.pool().max_connections, 20);
}

#[test]
fn url_problems_are_reported_without_values() {
    let cases = [
        ("", "is empty"),
        ("   ", "is empty"),
        ("localhost", "not a database URL"),
        (
            "oracle://db/x",
            "unknown engine `oracle` (expected postgres, postgresql, pg, mysql, mariadb or sqlite)",
        ),
        ("postgres:db/x", "expected postgres://"),
        ("postgres://app@db:99999/x", "port"),
        ("postgres://app@db:0/x", "port"),
        ("postgres://app@db:54x2/x", "port"),
        ("postgres:///x", "names no host"),
        ("mysql://root@/x", "?socket="),
        (
            "postgres://app@db/x?sslmode=sometimes",
            "unknown TLS mode `sometimes`",
        ),
        ("postgres://app@::1/x", "brackets"),
        ("postgres://app@[::zz]/x", "IPv6"),
        ("postgres://app@db/a/b", "`/`"),
        (
            "postgres://app@db/x?sslmode=disable&ssl-mode=REQUIRED",
            "conflicting TLS modes",
        ),
    ];
    for (u, expected) in cases {
        let p = problems(DatabaseConfig::from_url(u));
        assert_eq!(p.len(), 1, "{u}: {p:?}");
        assert_eq!(p[0].option, "url");
        assert!(p[0].reason.contains(expected), "{u}: {}", p[0].reason);
    }
}

#[test]
fn unescaped_slash_in_password_is_caught_without_leaking() {
    for u in [
        "postgres://app:hunter2/SECRET@db/shop",
        "postgres://app:5/hunter2-SECRET@db/shop",
        "postgres://app:5?hunter2-SECRET@db/shop",
    ] {
        let err = DatabaseConfig::from_url(u).expect_err(u);
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("SECRET"), "{shown}");
    }
}

// ---------- TLS ----------

#[test]
fn tls_defaults_by_host() {
    for host in [
        "localhost",
        "LocalHost",
        "app.localhost",
        "127.0.0.1",
        "127.8.9.10",
        "[::1]",
        "[::ffff:127.0.0.1]",
    ] {
        let c = url(&format!("postgres://app@{host}/shop"));
        assert_eq!(c.tls_mode(), Some(TlsMode::Disable), "{host}");
        let c = url(&format!("mysql://app@{host}/shop"));
        assert_eq!(c.tls_mode(), Some(TlsMode::Disable), "{host}");
    }
    for host in [
        "db.example.com",
        "10.0.0.5",
        "[2001:db8::1]",
        "localhost.example.com",
        "128.0.0.1",
    ] {
        let c = url(&format!("postgres://app@{host}/shop"));
        assert_eq!(c.tls_mode(), Some(TlsMode::VerifyFull), "{host}");
        let c = url(&format!("mariadb://app@{host}/shop"));
        assert_eq!(c.tls_mode(), Some(TlsMode::VerifyFull), "{host}");
    }
    // One remote host among several is enough for verified TLS.
    assert_eq!(
        url("postgres://app@localhost,db.example.com/x").tls_mode(),
        Some(TlsMode::VerifyFull)
    );
}

#[test]
fn explicit_tls_modes() {
    let pg = [
        ("disable", TlsMode::Disable),
        ("allow", TlsMode::Prefer),
        ("prefer", TlsMode::Prefer),
        ("require", TlsMode::Require),
        ("verify-ca", TlsMode::VerifyCa),
        ("verify-full", TlsMode::VerifyFull),
        ("Verify-Full", TlsMode::VerifyFull),
    ];
    for (value, mode) in pg {
        let c = url(&format!("postgres://app@db.example.com/x?sslmode={value}"));
        assert_eq!(c.tls_mode(), Some(mode), "{value}");
        assert!(
            c.params().is_empty(),
            "sslmode is interpreted, not passed on"
        );
    }
    let my = [
        ("DISABLED", TlsMode::Disable),
        ("PREFERRED", TlsMode::Prefer),
        ("REQUIRED", TlsMode::Require),
        ("VERIFY_CA", TlsMode::VerifyCa),
        ("VERIFY_IDENTITY", TlsMode::VerifyFull),
        ("verify_identity", TlsMode::VerifyFull),
    ];
    for (value, mode) in my {
        for key in ["ssl-mode", "sslmode"] {
            let c = url(&format!("mysql://app@db.example.com/x?{key}={value}"));
            assert_eq!(c.tls_mode(), Some(mode), "{key}={value}");
        }
    }
    // Asking for less than the default is honoured, on a remote host too.
    assert_eq!(
        url("postgres://app@db.example.com/x?sslmode=disable").tls_mode(),
        Some(TlsMode::Disable)
    );
    // And more than the default on loopback.
    assert_eq!(
        url("postgres://app@localhost/x?sslmode=verify-full").tls_mode(),
        Some(TlsMode::VerifyFull)
    );
}

#[test]
fn tls_root_cert_and_conflicts() {
    let c = url("postgres://app@db/x?sslmode=verify-ca&sslrootcert=/etc/ca.pem");
    assert_eq!(c.tls_root_cert(), Some("/etc/ca.pem"));
    assert_eq!(c.tls_mode(), Some(TlsMode::VerifyCa));
    let c = url("mysql://app@db/x?ssl-ca=/etc/ca.pem");
    assert_eq!(c.tls_root_cert(), Some("/etc/ca.pem"));
    assert_eq!(c.tls_mode(), Some(TlsMode::VerifyFull));

    let p = problems(DatabaseConfig::from_url(
        "postgres://app@db/x?sslmode=disable&sslrootcert=/etc/ca.pem",
    ));
    assert_eq!(options(&p), ["url"]);
    assert!(p[0].reason.contains("TLS is disabled"));

    let p = problems(
        DatabaseConfig::builder("postgres://app@db/x")
            .tls_mode(TlsMode::Disable)
            .tls_root_cert("/etc/ca.pem")
            .build(),
    );
    assert_eq!(options(&p), ["tls_root_cert"]);

    let p = problems(
        DatabaseConfig::builder("sqlite://a.db")
            .tls_mode(TlsMode::Require)
            .build(),
    );
    assert_eq!(options(&p), ["tls_mode"]);

    // The builder overrides the URL.
    let c = DatabaseConfig::builder("postgres://app@db/x?sslmode=require")
        .tls_mode(TlsMode::VerifyFull)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.tls_mode(), Some(TlsMode::VerifyFull));
}

// ---------- defaults and options ----------

#[test]
fn defaults() {
    let c = url("postgres://app@localhost/shop");
    assert_eq!(c.name(), "default");
    assert_eq!(c.pool(), &PoolOptions::default());
    assert_eq!(c.pool().max_connections, 10);
    assert_eq!(c.pool().min_connections, 0);
    assert_eq!(c.pool().idle_timeout, Some(Duration::from_secs(600)));
    assert_eq!(c.pool().max_lifetime, Some(Duration::from_secs(1800)));
    assert_eq!(c.pool().validate_after_idle, Duration::from_secs(5));
    assert_eq!(c.timeouts().acquire, Duration::from_secs(5));
    assert_eq!(c.timeouts().connect, Duration::from_secs(10));
    assert_eq!(c.timeouts().pool_creation, Duration::from_secs(30));
    assert_eq!(c.timeouts().query, None);
    assert_eq!(c.slow_query_threshold(), Duration::from_secs(1));
    assert_eq!(c.statement_cache_capacity(), 256);
    assert!(!c.log_parameters());
    assert_eq!(c.leak_detection_threshold(), None);
    assert!(!c.capture_backtrace());
    assert_eq!(c.sqlite_busy_timeout(), Duration::from_secs(5));
    let r = c.retry();
    assert!(r.enabled);
    assert_eq!(r.max_attempts, 3);
    assert_eq!(r.base_delay, Duration::from_millis(50));
    assert_eq!(r.max_delay, Duration::from_secs(2));
    assert_eq!(r.budget, Duration::from_secs(10));
    let b = c.breaker();
    assert!(b.enabled);
    assert_eq!(b.failure_threshold, 5);
    assert_eq!(b.failure_rate, 0.5);
    assert_eq!(b.window, Duration::from_secs(10));
    assert_eq!(b.minimum_calls, 10);
    assert_eq!(b.open_duration, Duration::from_secs(5));
    assert_eq!(b.half_open_calls, 3);
    assert_eq!(c.tls_root_cert(), None);
    // from_env with only the URL gives the same.
    let e = env_ok(&[("DAL_DATABASE_URL", "postgres://app@localhost/shop")]);
    assert_eq!(format!("{e:?}"), format!("{c:?}"));
}

#[test]
fn every_env_option_is_read() {
    let c = env_ok(&[
        ("DAL_DATABASE_URL", "postgres://app@localhost/shop"),
        ("DAL_NAME", "orders"),
        ("DAL_POOL_MAX", "40"),
        ("DAL_POOL_MIN", "4"),
        ("DAL_ACQUIRE_TIMEOUT", "2s"),
        ("DAL_CONNECT_TIMEOUT", "3s"),
        ("DAL_POOL_CREATION_TIMEOUT", "1m"),
        ("DAL_QUERY_TIMEOUT", "45s"),
        ("DAL_SLOW_QUERY_THRESHOLD", "250ms"),
        ("DAL_IDLE_TIMEOUT", "5m"),
        ("DAL_MAX_LIFETIME", "1h"),
        ("DAL_VALIDATE_AFTER_IDLE", "0"),
        ("DAL_STATEMENT_CACHE", "0"),
        ("DAL_BULK_ROWS", "250"),
        ("DAL_LOG_PARAMETERS", "true"),
        ("DAL_LEAK_DETECTION_THRESHOLD", "30s"),
        ("DAL_CAPTURE_BACKTRACE", "on"),
        ("DAL_SQLITE_BUSY_TIMEOUT", "1.5s"),
        ("DAL_RETRY_ENABLED", "no"),
        ("DAL_RETRY_MAX_ATTEMPTS", "7"),
        ("DAL_RETRY_BASE_DELAY", "10ms"),
        ("DAL_RETRY_MAX_DELAY", "5s"),
        ("DAL_RETRY_BUDGET", "20"),
        ("DAL_BREAKER_ENABLED", "0"),
        ("DAL_BREAKER_FAILURE_THRESHOLD", "9"),
        ("DAL_BREAKER_FAILURE_RATE", "0.25"),
        ("DAL_BREAKER_WINDOW", "30s"),
        ("DAL_BREAKER_MIN_CALLS", "20"),
        ("DAL_BREAKER_OPEN_DURATION", "15s"),
        ("DAL_BREAKER_HALF_OPEN_CALLS", "1"),
    ]);
    assert_eq!(c.name(), "orders");
    assert_eq!(
        *c.pool(),
        PoolOptions {
            max_connections: 40,
            min_connections: 4,
            idle_timeout: Some(Duration::from_secs(300)),
            max_lifetime: Some(Duration::from_secs(3600)),
            validate_after_idle: Duration::ZERO,
        }
    );
    assert_eq!(
        *c.timeouts(),
        Timeouts {
            acquire: Duration::from_secs(2),
            connect: Duration::from_secs(3),
            pool_creation: Duration::from_secs(60),
            query: Some(Duration::from_secs(45)),
        }
    );
    assert_eq!(c.slow_query_threshold(), Duration::from_millis(250));
    assert_eq!(c.statement_cache_capacity(), 0);
    assert_eq!(c.bulk_rows_per_statement(), 250);
    assert!(c.log_parameters());
    assert_eq!(c.leak_detection_threshold(), Some(Duration::from_secs(30)));
    assert!(c.capture_backtrace());
    assert_eq!(c.sqlite_busy_timeout(), Duration::from_millis(1500));
    assert_eq!(
        *c.retry(),
        RetryPolicy {
            enabled: false,
            max_attempts: 7,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(5),
            budget: Duration::from_secs(20),
        }
    );
    assert_eq!(
        *c.breaker(),
        BreakerPolicy {
            enabled: false,
            failure_threshold: 9,
            failure_rate: 0.25,
            window: Duration::from_secs(30),
            minimum_calls: 20,
            open_duration: Duration::from_secs(15),
            half_open_calls: 1,
        }
    );
}

#[test]
fn optional_durations_turn_off() {
    for off in ["0", "none", "NONE", "off", "Off", "0s", "0ms"] {
        let c = env_ok(&[
            ("DAL_DATABASE_URL", "sqlite://a.db"),
            ("DAL_QUERY_TIMEOUT", off),
            ("DAL_IDLE_TIMEOUT", off),
            ("DAL_MAX_LIFETIME", off),
            ("DAL_LEAK_DETECTION_THRESHOLD", off),
        ]);
        assert_eq!(c.timeouts().query, None, "{off}");
        assert_eq!(c.pool().idle_timeout, None, "{off}");
        assert_eq!(c.pool().max_lifetime, None, "{off}");
        assert_eq!(c.leak_detection_threshold(), None, "{off}");
    }
}

#[test]
fn other_prefixes() {
    let pairs = [
        (
            "ANALYTICS_DATABASE_URL",
            "postgres://etl@localhost/warehouse",
        ),
        ("ANALYTICS_POOL_MAX", "40"),
        ("DAL_DATABASE_URL", "sqlite://other.db"),
        ("DAL_POOL_MAX", "5"),
    ];
    for prefix in ["ANALYTICS_", "ANALYTICS"] {
        let c = DatabaseConfig::from_vars(prefix, pairs).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.database(), Some("warehouse"));
        assert_eq!(c.pool().max_connections, 40);
    }
    let p = problems(DatabaseConfig::from_vars(
        "ANALYTICS_",
        [("ANALYTICS_POOL_MAX", "ten")],
    ));
    assert_eq!(
        options(&p),
        ["ANALYTICS_DATABASE_URL", "ANALYTICS_POOL_MAX"]
    );
}

#[test]
fn booleans_in_every_casing() {
    let truthy = [
        "true", "TRUE", "True", "tRuE", "yes", "YES", "Yes", "on", "ON", "On", "1", " true ",
    ];
    let falsy = [
        "false", "FALSE", "False", "fAlSe", "no", "NO", "No", "off", "OFF", "Off", "0",
    ];
    for v in truthy {
        assert_eq!(parse_bool(v), Ok(true), "{v}");
        let c = env_ok(&[
            ("DAL_DATABASE_URL", "sqlite://a.db"),
            ("DAL_LOG_PARAMETERS", v),
        ]);
        assert!(c.log_parameters(), "{v}");
    }
    for v in falsy {
        assert_eq!(parse_bool(v), Ok(false), "{v}");
        let c = env_ok(&[
            ("DAL_DATABASE_URL", "sqlite://a.db"),
            ("DAL_RETRY_ENABLED", v),
        ]);
        assert!(!c.retry().enabled, "{v}");
    }
    for v in ["", "maybe", "2", "t", "y", "enabled"] {
        assert!(parse_bool(v).is_err(), "{v}");
    }
}

#[test]
fn durations_in_every_unit() {
    let ms = Duration::from_millis;
    let cases = [
        ("250ms", ms(250)),
        ("250 ms", ms(250)),
        ("250MS", ms(250)),
        ("5s", ms(5_000)),
        ("5sec", ms(5_000)),
        ("1.5s", ms(1_500)),
        ("0.1s", ms(100)),
        (".5s", ms(500)),
        ("2m", ms(120_000)),
        ("2min", ms(120_000)),
        ("1.5m", ms(90_000)),
        ("1h", ms(3_600_000)),
        ("1H", ms(3_600_000)),
        ("0.5h", ms(1_800_000)),
        ("30", ms(30_000)),
        ("0.25", ms(250)),
        ("1.", ms(1_000)),
        ("0", Duration::ZERO),
        ("1500us", ms(1) + Duration::from_micros(500)),
        ("7ns", Duration::from_nanos(7)),
        ("1.000000001s", Duration::new(1, 1)),
    ];
    for (raw, expected) in cases {
        assert_eq!(parse_duration(raw), Ok(expected), "{raw}");
    }
    for raw in [
        "",
        "s",
        "soon",
        "5 parsecs",
        "-1s",
        "1.2.3s",
        "1e3",
        "5d",
        "99999999999999999999999h",
    ] {
        let err = parse_duration(raw).expect_err(raw);
        assert!(err.contains("expected a duration"), "{err}");
    }
    assert_eq!(
        parse_optional_duration("10s"),
        Ok(Some(Duration::from_secs(10)))
    );
    assert!(parse_optional_duration("never").is_err());
}

#[test]
fn numbers_and_rates() {
    assert_eq!(parse_u32("42"), Ok(42));
    assert_eq!(parse_u32(" 7 "), Ok(7));
    assert_eq!(
        parse_u32("ten"),
        Err(r#"expected a whole number, got "ten""#.to_string())
    );
    assert!(parse_u32("-1").is_err());
    assert!(parse_u32("1.5").is_err());
    assert!(parse_u32("4294967296").is_err());
    assert_eq!(parse_rate("0.25"), Ok(0.25));
    assert_eq!(parse_rate("50%"), Ok(0.5));
    assert_eq!(parse_rate("1"), Ok(1.0));
    assert!(parse_rate("half").is_err());
    assert!(parse_rate("NaN").is_err());
}

#[test]
fn unparseable_env_values_name_the_variable() {
    let p = problems(vars(&[
        ("DAL_DATABASE_URL", "sqlite://a.db"),
        ("DAL_POOL_MAX", "ten"),
        ("DAL_LOG_PARAMETERS", "maybe"),
        ("DAL_ACQUIRE_TIMEOUT", "soon"),
        ("DAL_QUERY_TIMEOUT", "forever"),
        ("DAL_BREAKER_FAILURE_RATE", "most"),
        ("DAL_STATEMENT_CACHE", "lots"),
    ]));
    // Reported in the order options are documented, whatever the input order.
    assert_eq!(
        options(&p),
        [
            "DAL_POOL_MAX",
            "DAL_ACQUIRE_TIMEOUT",
            "DAL_QUERY_TIMEOUT",
            "DAL_STATEMENT_CACHE",
            "DAL_LOG_PARAMETERS",
            "DAL_BREAKER_FAILURE_RATE",
        ]
    );
    let text = Error::Config(ConfigErrors(p)).to_string();
    assert!(
        text.contains(r#"DAL_POOL_MAX: expected a whole number, got "ten""#),
        "{text}"
    );
    assert!(
        text.starts_with("invalid database configuration (6 problems): "),
        "{text}"
    );
}

#[test]
fn unknown_variables_are_problems_unless_ignored() {
    let vars = [
        ("DAL_DATABASE_URL", "sqlite://a.db"),
        ("DAL_POOL_MAXX", "oops"),
        ("DAL_TEST_POSTGRES_URL", "postgres://x@y/z"),
        ("DAL_BENCH_RUNS", "3"),
        ("DAL_CI_CACHE", "/tmp"),
        ("DAL_SOMETHING_ELSE", "1"),
        ("OTHER_POOL_MAX", "3"),
        ("PATH", "/usr/bin"),
    ];
    let text = DatabaseConfig::from_vars("DAL_", vars)
        .unwrap_err()
        .to_string();
    assert!(
        text.starts_with("invalid database configuration (2 problems): "),
        "{text}"
    );
    assert!(
        text.contains("DAL_POOL_MAXX: is not a dal setting; did you mean DAL_POOL_MAX?"),
        "{text}"
    );
    assert!(
        text.contains("DAL_SOMETHING_ELSE: is not a dal setting (set DAL_IGNORE_UNKNOWN_VARS=true"),
        "{text}"
    );
    // the opt-out for shared environments
    let mut lenient = vars.to_vec();
    lenient.push(("DAL_IGNORE_UNKNOWN_VARS", "yes"));
    let c = env_ok(&lenient);
    assert_eq!(c.pool().max_connections, 10);
    let bad = DatabaseConfig::from_vars(
        "DAL_",
        [
            ("DAL_DATABASE_URL", "sqlite://a.db"),
            ("DAL_IGNORE_UNKNOWN_VARS", "maybe"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(bad.contains("DAL_IGNORE_UNKNOWN_VARS"), "{bad}");
    assert_eq!(closest_option("POOL_MAXX"), Some("POOL_MAX"));
    assert_eq!(closest_option("POOLMAX"), Some("POOL_MAX"));
    assert_eq!(closest_option("QUERY_TIMOUT"), Some("QUERY_TIMEOUT"));
    assert_eq!(closest_option("DATABASE_UR"), Some("DATABASE_URL"));
    assert_eq!(
        closest_option("BREAKER_MINIMUM_CALLS"),
        Some("BREAKER_MIN_CALLS")
    );
    assert_eq!(closest_option("SOMETHING_ELSE"), None);
}

// ---------- validation ----------

#[test]
fn all_builder_problems_reported_together() {
    let p = problems(
        DatabaseConfig::builder("oracle://db/x")
            .name(" ")
            .max_connections(0)
            .min_connections(3)
            .acquire_timeout(Duration::ZERO)
            .connect_timeout(Duration::ZERO)
            .pool_creation_timeout(Duration::ZERO)
            .query_timeout(Duration::ZERO)
            .idle_timeout(Duration::ZERO)
            .max_lifetime(Duration::ZERO)
            .leak_detection_threshold(Duration::ZERO)
            .sqlite_busy_timeout(Duration::ZERO)
            .retry_max_attempts(0)
            .retry_base_delay(Duration::from_secs(5))
            .retry_max_delay(Duration::from_secs(1))
            .retry_budget(Duration::ZERO)
            .breaker_failure_threshold(0)
            .breaker_failure_rate(1.5)
            .breaker_window(Duration::ZERO)
            .breaker_minimum_calls(0)
            .breaker_open_duration(Duration::ZERO)
            .breaker_half_open_calls(0)
            .build(),
    );
    let mut names = options(&p);
    names.sort_unstable();
    let mut expected = vec![
        "url",
        "name",
        "max_connections",
        "min_connections",
        "acquire_timeout",
        "connect_timeout",
        "pool_creation_timeout",
        "query_timeout",
        "idle_timeout",
        "max_lifetime",
        "leak_detection_threshold",
        "sqlite_busy_timeout",
        "retry_max_attempts",
        "retry_base_delay",
        "retry_budget",
        "breaker_failure_threshold",
        "breaker_failure_rate",
        "breaker_window",
        "breaker_minimum_calls",
        "breaker_open_duration",
        "breaker_half_open_calls",
    ];
    expected.sort_unstable();
    assert_eq!(names, expected);
    assert_eq!(p.len(), 21);
    assert_eq!(p[0].option, "url", "URL problems come first");
}

#[test]
fn all_env_problems_reported_together() {
    let p = problems(vars(&[
        (
            "DAL_DATABASE_URL",
            "postgres://app@db:70000/shop?sslmode=bogus",
        ),
        ("DAL_POOL_MAX", "0"),
        ("DAL_POOL_MIN", "2"),
        ("DAL_CONNECT_TIMEOUT", "0s"),
        ("DAL_RETRY_MAX_ATTEMPTS", "0"),
        ("DAL_RETRY_BASE_DELAY", "3s"),
        ("DAL_BREAKER_FAILURE_RATE", "0"),
        ("DAL_BREAKER_HALF_OPEN_CALLS", "0"),
        ("DAL_CAPTURE_BACKTRACE", "sometimes"),
    ]));
    assert_eq!(
        options(&p),
        [
            "DAL_DATABASE_URL",
            "DAL_DATABASE_URL",
            "DAL_CAPTURE_BACKTRACE",
            "DAL_POOL_MAX",
            "DAL_POOL_MIN",
            "DAL_CONNECT_TIMEOUT",
            "DAL_RETRY_MAX_ATTEMPTS",
            "DAL_RETRY_BASE_DELAY",
            "DAL_BREAKER_FAILURE_RATE",
            "DAL_BREAKER_HALF_OPEN_CALLS",
        ]
    );
    let by = |o: &str| {
        p.iter()
            .filter(|x| x.option == o)
            .map(|x| x.reason.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        by("DAL_POOL_MIN"),
        ["must not exceed DAL_POOL_MAX (0), got 2"]
    );
    assert_eq!(
        by("DAL_RETRY_BASE_DELAY"),
        ["must not exceed DAL_RETRY_MAX_DELAY (2s), got 3s"]
    );
    assert!(by("DAL_RETRY_MAX_ATTEMPTS")[0].contains("DAL_RETRY_ENABLED"));
}

#[test]
fn missing_or_empty_url() {
    let p = problems(vars(&[("DAL_POOL_MAX", "3")]));
    assert_eq!(options(&p), ["DAL_DATABASE_URL"]);
    assert!(p[0].reason.contains("is not set"));
    let p = problems(vars(&[("DAL_DATABASE_URL", "")]));
    assert_eq!(options(&p), ["DAL_DATABASE_URL"]);
    assert!(p[0].reason.contains("is empty"));
    let p = problems(DatabaseConfig::from_url(""));
    assert_eq!(options(&p), ["url"]);
}

#[test]
fn several_url_problems_at_once() {
    let p = problems(DatabaseConfig::from_url(
        "postgres://db:0,:5/a/b?sslmode=x&sslrootcert=",
    ));
    assert_eq!(options(&p), ["url"; 5]);
}

#[test]
fn failure_rate_bounds() {
    for (rate, ok) in [
        (0.0, false),
        (-0.1, false),
        (f64::NAN, false),
        (1.01, false),
        (0.01, true),
        (1.0, true),
    ] {
        let r = DatabaseConfig::builder("sqlite://a.db")
            .breaker_failure_rate(rate)
            .build();
        assert_eq!(r.is_ok(), ok, "{rate}");
    }
}

// ---------- builder ----------

#[test]
fn builder_setters_and_groups() {
    let c = DatabaseConfig::builder("postgres://app@localhost/shop")
        .name("shop")
        .pool(PoolOptions {
            max_connections: 3,
            ..PoolOptions::default()
        })
        .min_connections(1)
        .timeouts(Timeouts {
            query: Some(Duration::from_secs(9)),
            ..Timeouts::default()
        })
        .acquire_timeout(Duration::from_secs(1))
        .validate_after_idle(Duration::from_secs(2))
        .slow_query_threshold(Duration::from_millis(100))
        .statement_cache_capacity(0)
        .log_parameters(true)
        .leak_detection_threshold(Duration::from_secs(60))
        .capture_backtrace(true)
        .retry(RetryPolicy::disabled())
        .retry_max_attempts(4)
        .breaker(BreakerPolicy::disabled())
        .breaker_window(Duration::from_secs(1))
        .param("application_name", "api")
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.name(), "shop");
    assert_eq!(c.pool().max_connections, 3);
    assert_eq!(c.pool().min_connections, 1);
    assert_eq!(c.pool().validate_after_idle, Duration::from_secs(2));
    assert_eq!(c.timeouts().query, Some(Duration::from_secs(9)));
    assert_eq!(c.timeouts().acquire, Duration::from_secs(1));
    assert_eq!(c.slow_query_threshold(), Duration::from_millis(100));
    assert_eq!(c.statement_cache_capacity(), 0);
    assert!(c.log_parameters());
    assert_eq!(c.leak_detection_threshold(), Some(Duration::from_secs(60)));
    assert!(c.capture_backtrace());
    assert!(!c.retry().enabled);
    assert_eq!(c.retry().max_attempts, 4);
    assert!(!c.breaker().enabled);
    assert_eq!(c.breaker().window, Duration::from_secs(1));
    assert_eq!(c.param("application_name"), Some("api"));
    assert_eq!(
        c.to_string(),
        "postgres://app@localhost/shop?application_name=api"
    );

    let again = c.to_builder().build().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(format!("{again:?}"), format!("{c:?}"));
    let parsed: DatabaseConfig = "sqlite::memory:".parse().unwrap_or_else(|e| panic!("{e}"));
    assert!(parsed.is_sqlite_memory());
}

// ---------- secrets ----------

fn assert_hidden(text: &str) {
    assert!(!text.contains(SECRET), "secret leaked: {text}");
    assert!(!text.contains("hunter2"), "secret leaked: {text}");
}

#[test]
fn password_never_shown() {
    let c = url(&format!(
        "postgres://app:{SECRET}@db.example.com:5433/shop?sslmode=require"
    ));
    assert_eq!(c.password(), Some(SECRET));
    assert_hidden(&format!("{c:?}"));
    assert_hidden(&format!("{c:#?}"));
    assert_hidden(&c.to_string());
    assert_hidden(&c.redacted_url());
    assert_eq!(
        c.redacted_url(),
        "postgres://app:***@db.example.com:5433/shop?sslmode=require"
    );
    assert!(format!("{c:?}").contains("\"***\""));
    assert_hidden(&format!("{:?}", c.to_builder()));

    // Percent-encoded too.
    let c = url("mysql://root:hunter2%2DSECRET@db/shop");
    assert_eq!(c.password(), Some(SECRET));
    assert_hidden(&format!("{c:?} {c}"));
}

#[test]
fn secret_query_params_never_shown() {
    let u = format!(
        "postgres://app@db/shop?password={SECRET}&application_name=api&token={SECRET}&Client_Secret={SECRET}&PWD={SECRET}&sslpassword={SECRET}"
    );
    let c = url(&u);
    assert_eq!(
        c.password(),
        Some(SECRET),
        "`password` parameter is the password"
    );
    assert_eq!(
        c.param("token"),
        Some(SECRET),
        "the driver still gets the value"
    );
    assert_hidden(&format!("{c:?}"));
    assert_hidden(&c.to_string());
    assert_eq!(
        c.to_string(),
        "postgres://app:***@db/shop?password=***&application_name=api&token=***&Client_Secret=***&PWD=***&sslpassword=***"
    );

    let b = DatabaseConfig::builder("sqlite://a.db").param("auth_token", SECRET);
    assert_hidden(&format!("{b:?}"));
    let c = b.build().unwrap_or_else(|e| panic!("{e}"));
    assert_hidden(&format!("{c:?} {c}"));
}

#[test]
fn password_never_in_errors() {
    let pairs = [
        (
            "DAL_DATABASE_URL",
            format!("postgres://app:{SECRET}@db:notaport/shop?sslmode=nope&token={SECRET}"),
        ),
        ("DAL_POOL_MAX", "zero".to_string()),
    ];
    let err = DatabaseConfig::from_vars("DAL_", pairs).expect_err("invalid");
    assert_hidden(&format!("{err} {err:?}"));

    let err = DatabaseConfig::builder(format!("oracle://app:{SECRET}@db/x"))
        .password(SECRET)
        .max_connections(0)
        .build()
        .expect_err("invalid");
    assert_hidden(&format!("{err} {err:?}"));

    let err =
        DatabaseConfig::from_url(&format!("postgres://app:{SECRET}@/shop")).expect_err("no host");
    assert_hidden(&format!("{err} {err:?}"));

    let err = DatabaseConfig::from_url(&format!("postgres://app:%FF{SECRET}@db/shop"))
        .expect_err("bad utf-8");
    assert_hidden(&format!("{err} {err:?}"));

    let err = DatabaseConfig::from_url(SECRET).expect_err("not a URL");
    assert_hidden(&format!("{err} {err:?}"));
}

#[test]
fn builder_password_overrides_and_is_hidden() {
    let b = DatabaseConfig::builder("postgres://app:old@db/shop").password(SECRET);
    assert_hidden(&format!("{b:?}"));
    let c = b.build().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.password(), Some(SECRET));
    assert_eq!(c.to_string(), "postgres://app:***@db/shop");
    let c = DatabaseConfig::builder("postgres://app@db/shop")
        .password(SECRET)
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.to_string(), "postgres://app:***@db/shop");
    assert_hidden(&format!("{c:?}"));
}

#[test]
fn password_given_twice_is_a_problem() {
    let err = DatabaseConfig::from_url(&format!(
        "postgres://app:{SECRET}@db/shop?password={SECRET}"
    ))
    .expect_err("twice");
    assert_hidden(&format!("{err}"));
}

#[test]
fn reasons_do_not_contain_the_problem_separator() {
    let mut all = problems(
        DatabaseConfig::builder("sqlite://a.db")
            .password(SECRET)
            .build(),
    );
    assert_eq!(options(&all), ["password"]);
    for u in [
        "",
        "x",
        "oracle://a",
        "postgres://db:0/a/b?sslmode=x&sslrootcert=",
        "postgres://",
        "sqlite://",
        "mysql://@db/x?ssl-ca=",
        "postgres://a@[::1/x",
        "postgres://a@b/c@d",
    ] {
        all.extend(problems(DatabaseConfig::from_url(u)));
    }
    all.extend(problems(vars(&[
        ("DAL_QUERY_TIMEOUT", "x"),
        ("DAL_RETRY_MAX_ATTEMPTS", "0"),
    ])));
    for p in &all {
        assert!(!p.reason.contains("; "), "{p}");
    }
}

// ---------- pgbouncer and the direct URL ----------

#[test]
fn pgbouncer_from_the_url_builder_and_environment() {
    let c = url("postgres://app@pool:6432/shop?pgbouncer=true");
    assert!(c.pgbouncer());
    assert_eq!(c.statement_cache_capacity(), 0);
    assert!(c.redacted_url().contains("pgbouncer=true"));
    // the URL's parameter is dal's, not the driver's
    assert!(c.params().iter().all(|(k, _)| k != "pgbouncer"));
    assert!(!url("postgres://app@db/shop").pgbouncer());
    assert_eq!(
        url("postgres://app@db/shop").statement_cache_capacity(),
        256
    );
    assert!(!url("postgres://app@db/shop?pgbouncer=off").pgbouncer());

    // the builder overrides the URL, both ways
    let off = DatabaseConfig::builder("postgres://app@pool/shop?pgbouncer=1")
        .pgbouncer(false)
        .build()
        .unwrap();
    assert!(!off.pgbouncer());
    assert_eq!(off.statement_cache_capacity(), 256);

    let c = env_ok(&[
        ("DAL_DATABASE_URL", "postgres://app@pool:6432/shop"),
        ("DAL_PGBOUNCER", "yes"),
        (
            "DAL_DIRECT_URL",
            &format!("postgres://app:{SECRET}@db:5432/shop?sslmode=disable"),
        ),
    ]);
    assert!(c.pgbouncer());
    let shown = c.redacted_direct_url().unwrap();
    assert_eq!(shown, "postgres://app:***@db:5432/shop?sslmode=disable");
    assert!(!format!("{c:?}").contains(SECRET));
    let direct = c.direct().unwrap();
    assert!(!direct.pgbouncer());
    assert_eq!(direct.port(), Some(5432));
    assert_eq!(
        direct.target.password.as_ref().map(|p| p.expose()),
        Some(SECRET)
    );
    assert_eq!(direct.tls_mode(), Some(TlsMode::Disable));
    assert_eq!(direct.statement_cache_capacity(), 256);
    assert!(direct.direct().is_none());

    // to_builder keeps both
    let again = c.to_builder().build().unwrap();
    assert!(again.pgbouncer());
    assert_eq!(again.redacted_direct_url().as_deref(), Some(shown.as_str()));
    assert!(!format!("{:?}", c.to_builder()).contains(SECRET));
}

#[test]
fn pgbouncer_problems() {
    // PostgreSQL only
    let list = problems(DatabaseConfig::from_url("mysql://u@db/x?pgbouncer=true"));
    assert!(list[0].reason.contains("PostgreSQL only"), "{list:?}");
    let list = problems(
        DatabaseConfig::builder("sqlite://x.db")
            .pgbouncer(true)
            .build(),
    );
    assert_eq!(options(&list), ["pgbouncer"]);
    // session settings cannot travel through a pooler in transaction mode
    let list = problems(DatabaseConfig::from_url(
        "postgres://u@pool/x?pgbouncer=true&search_path=shop&options=-c%20work_mem%3D64MB",
    ));
    assert_eq!(options(&list), ["pgbouncer", "pgbouncer"]);
    assert!(list[0].reason.contains("`search_path`"), "{list:?}");
    assert!(list[0].reason.contains("ALTER ROLE"), "{list:?}");
    // a direct URL that is not PostgreSQL, or goes through the pooler
    let list = problems(
        DatabaseConfig::builder("postgres://u@pool/x")
            .pgbouncer(true)
            .direct_url(format!("mysql://u:{SECRET}@db/x"))
            .build(),
    );
    assert_eq!(options(&list), ["direct_url"]);
    let list = problems(
        DatabaseConfig::builder("postgres://u@pool/x")
            .direct_url("postgres://u@pool/x?pgbouncer=true")
            .build(),
    );
    assert_eq!(options(&list), ["direct_url"]);
    let list = problems(vars(&[
        ("DAL_DATABASE_URL", "postgres://u@pool/x"),
        ("DAL_PGBOUNCER", "maybe"),
        ("DAL_DIRECT_URL", "postgres://"),
    ]));
    let mut named = options(&list);
    named.sort_unstable();
    named.dedup();
    assert_eq!(named, ["DAL_DIRECT_URL", "DAL_PGBOUNCER"]);
    for p in &list {
        assert!(!p.reason.contains(SECRET));
    }
}

#[test]
fn several_hosts_and_target_session_attrs() {
    let c = url("postgres://app@h1:5432,h2:5433/shop?target_session_attrs=read-write");
    assert_eq!(
        c.hosts(),
        [("h1".to_string(), 5432), ("h2".to_string(), 5433)]
    );
    assert_eq!(c.host(), Some("h1"));
    assert!(
        c.params()
            .iter()
            .any(|(k, v)| k == "target_session_attrs" && v == "read-write")
    );
    url("postgres://app@h1,h2/shop?target_session_attrs=any");
    let list = problems(DatabaseConfig::from_url(
        "postgres://app@h1,h2/shop?target_session_attrs=standby",
    ));
    assert_eq!(options(&list), ["url"]);
    assert!(list[0].reason.contains("read-write"), "{list:?}");
    let list = problems(DatabaseConfig::from_url(
        "mysql://app@h1/shop?target_session_attrs=any",
    ));
    assert!(list[0].reason.contains("PostgreSQL only"), "{list:?}");
    // a cancel request must reach the pgbouncer holding the connection
    let list = problems(DatabaseConfig::from_url(
        "postgres://app@pool1,pool2/shop?pgbouncer=true",
    ));
    assert_eq!(options(&list), ["pgbouncer"]);
    assert!(list[0].reason.contains("several hosts"), "{list:?}");
}

#[test]
fn replicas_from_the_builder_and_environment() {
    let c = DatabaseConfig::builder("postgres://app@primary/shop")
        .name("shop")
        .max_connections(7)
        .replica(format!("postgres://app:{SECRET}@replica-1/shop"))
        .replica("postgres://app@replica-2:5433/shop?sslmode=disable")
        .read_your_writes_window(Duration::from_millis(1500))
        .build()
        .unwrap();
    let r = c.replicas();
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].name(), "shop.replica1");
    assert_eq!(r[0].host(), Some("replica-1"));
    assert_eq!(r[0].pool().max_connections, 7);
    assert!(r[0].replicas().is_empty());
    assert_eq!(r[1].port(), Some(5433));
    assert_eq!(r[1].tls_mode(), Some(TlsMode::Disable));
    assert_eq!(c.read_your_writes_window(), Duration::from_millis(1500));
    assert!(!format!("{c:?}").contains(SECRET));
    assert!(format!("{c:?}").contains("replica-1"));
    let again = c.to_builder().build().unwrap();
    assert_eq!(again.replicas().len(), 2);
    assert_eq!(again.read_your_writes_window(), Duration::from_millis(1500));

    let e = env_ok(&[
        ("DAL_DATABASE_URL", "mysql://app@primary/shop"),
        (
            "DAL_REPLICA_URLS",
            "mysql://app@r1/shop  mysql://app@r2/shop",
        ),
        ("DAL_READ_YOUR_WRITES_WINDOW", "0"),
    ]);
    assert_eq!(e.replicas().len(), 2);
    assert_eq!(e.replicas()[1].host(), Some("r2"));
    assert_eq!(e.read_your_writes_window(), Duration::ZERO);
    assert_eq!(
        url("postgres://a@b/c").read_your_writes_window(),
        Duration::from_secs(2)
    );

    // the replicas' lag limit: 10 s by default, `off` turns it off
    assert_eq!(
        url("postgres://a@b/c").max_replica_lag(),
        Some(Duration::from_secs(10))
    );
    assert_eq!(
        c.to_builder()
            .max_replica_lag(Some(Duration::from_millis(300)))
            .build()
            .unwrap()
            .max_replica_lag(),
        Some(Duration::from_millis(300))
    );
    for (raw, want) in [("750ms", Some(Duration::from_millis(750))), ("off", None)] {
        let e = env_ok(&[
            ("DAL_DATABASE_URL", "mysql://app@primary/shop"),
            ("DAL_MAX_REPLICA_LAG", raw),
        ]);
        assert_eq!(e.max_replica_lag(), want, "{raw}");
    }
    let zero = DatabaseConfig::builder("postgres://a@b/c")
        .max_replica_lag(Some(Duration::ZERO))
        .build()
        .unwrap_err()
        .to_string();
    assert!(zero.contains("max_replica_lag"), "{zero}");

    // a replica runs the primary's engine; SQLite has none
    let list = problems(
        DatabaseConfig::builder("postgres://app@primary/shop")
            .replica(format!("mysql://app:{SECRET}@r/shop"))
            .build(),
    );
    assert_eq!(options(&list), ["replica"]);
    assert!(!list[0].reason.contains(SECRET));
    let list = problems(
        DatabaseConfig::builder("sqlite://x.db")
            .replica("sqlite://y.db")
            .build(),
    );
    assert_eq!(options(&list), ["replica"]);
    let list = problems(vars(&[
        ("DAL_DATABASE_URL", "postgres://app@primary/shop"),
        ("DAL_REPLICA_URLS", "postgres://"),
    ]));
    assert!(
        options(&list).iter().all(|o| *o == "DAL_REPLICA_URLS"),
        "{list:?}"
    );
}
