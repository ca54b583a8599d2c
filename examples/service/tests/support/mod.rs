//! Fixtures for the end-to-end test: an isolated database per test on each
//! backend, and the service binary run as a child process.
//!
//! Server URLs default to the local servers (`DAL_TEST_POSTGRES_URL`,
//! `DAL_TEST_MYSQL_URL` override them), as in the workspace's own tests. When
//! a server does not answer, its test prints `SKIPPED: ...` and passes, unless
//! `DAL_TEST_REQUIRE_SERVERS=1`, which makes that a failure.

pub mod http;
pub mod outage;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dal::{DatabaseConfig, Db};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

pub fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "dal_t_svc_{}_{}_{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

fn require_servers() -> bool {
    matches!(
        std::env::var("DAL_TEST_REQUIRE_SERVERS").ok().as_deref(),
        Some("1" | "true" | "yes")
    )
}

/// A database of its own for one test, removed on drop.
pub struct TestDatabase {
    /// The service's URL, pointing at the real server.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Sql {
        admin_url: String,
        statement: String,
    },
}

/// A SQLite file in a directory of its own; the directory is not created.
pub fn sqlite() -> TestDatabase {
    let dir = std::env::temp_dir().join(unique_name());
    TestDatabase {
        url: format!("sqlite://{}", dir.join("service.db").display()),
        cleanup: Cleanup::File(dir),
    }
}

/// A fresh PostgreSQL schema, reached through `search_path`.
pub async fn postgres() -> Option<TestDatabase> {
    let admin_url =
        std::env::var("DAL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let schema = unique_name();
    let admin = admin(&admin_url, "PostgreSQL").await?;
    admin
        .execute_script(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create schema");
    admin.close();
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    Some(TestDatabase {
        url: format!("{admin_url}{sep}options=-c%20search_path%3D{schema}"),
        cleanup: Cleanup::Sql {
            admin_url,
            statement: format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
        },
    })
}

/// A fresh MariaDB/MySQL database.
pub async fn mysql() -> Option<TestDatabase> {
    let admin_url =
        std::env::var("DAL_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_MYSQL_URL.into());
    let database = unique_name();
    let admin = admin(&admin_url, "MariaDB/MySQL").await?;
    admin
        .execute_script(&format!(
            "CREATE DATABASE `{database}` CHARACTER SET utf8mb4"
        ))
        .await
        .expect("create database");
    admin.close();
    let (base, query) = match admin_url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (admin_url.as_str(), String::new()),
    };
    let authority_end = base
        .find("://")
        .and_then(|s| base[s + 3..].find('/').map(|i| i + s + 3))
        .unwrap_or(base.len());
    Some(TestDatabase {
        url: format!("{}/{database}{query}", &base[..authority_end]),
        cleanup: Cleanup::Sql {
            admin_url,
            statement: format!("DROP DATABASE IF EXISTS `{database}`"),
        },
    })
}

async fn admin(url: &str, engine: &str) -> Option<Db> {
    let config = DatabaseConfig::builder(url)
        .connect_timeout(Duration::from_secs(5))
        .max_connections(1)
        .build()
        .expect("server url");
    let shown = config.redacted_url();
    match Db::connect(config).await {
        Ok(db) => Some(db),
        Err(e) if require_servers() => {
            panic!(
                "{engine} is required (DAL_TEST_REQUIRE_SERVERS=1) but {shown} did not answer: {e}"
            )
        }
        Err(e) => {
            eprintln!(
                "SKIPPED: {engine} tests need a server at {shown}, which did not answer: {e}"
            );
            None
        }
    }
}

impl TestDatabase {
    /// `host:port` of the server.
    pub fn server(&self) -> String {
        let config = DatabaseConfig::from_url(&self.url).expect("test url");
        format!(
            "{}:{}",
            config.host().expect("a server url"),
            config.port().expect("a port")
        )
    }

    /// The URL with the server's `host:port` replaced by `addr` (a relay).
    pub fn url_via(&self, addr: SocketAddr) -> String {
        let start = self.url.find("://").expect("a url") + 3;
        let end = self.url[start..]
            .find(['/', '?'])
            .map_or(self.url.len(), |i| i + start);
        let authority = &self.url[start..end];
        let host_start = authority.rfind('@').map_or(start, |i| start + i + 1);
        format!("{}{addr}{}", &self.url[..host_start], &self.url[end..])
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, statement) = match &self.cleanup {
            Cleanup::File(dir) => {
                let _ = std::fs::remove_dir_all(dir);
                return;
            }
            Cleanup::Sql {
                admin_url,
                statement,
            } => (admin_url.clone(), statement.clone()),
        };
        // Drop runs inside the test's runtime: clean up from a thread of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            rt.block_on(async move {
                if let Ok(db) = Db::connect_url(&admin_url).await {
                    let _ = db.execute_script(&statement).await;
                    db.close();
                }
            });
        })
        .join();
    }
}

/// The service binary, started with its database URL and `BIND=127.0.0.1:0`;
/// its JSON log lines are collected (and echoed to stderr, shown on failure).
pub struct Service {
    child: Child,
    pub client: http::Client,
    logs: Arc<Mutex<Vec<Value>>>,
}

/// dal options for the test: short limits, so an outage is seen in about a
/// second and the breaker lets a trial call through soon after the database
/// is back.
const TEST_OPTIONS: &[(&str, &str)] = &[
    ("DAL_QUERY_TIMEOUT", "2s"),
    ("DAL_ACQUIRE_TIMEOUT", "1s"),
    ("DAL_CONNECT_TIMEOUT", "1s"),
    ("DAL_BREAKER_OPEN_DURATION", "300ms"),
    ("DAL_POOL_MAX", "4"),
];

impl Service {
    pub async fn start(database_url: &str) -> Service {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dal-example-service"));
        // only what this test sets: no DAL_* or DATABASE_URL from the caller's shell
        for (key, _) in std::env::vars() {
            if key.starts_with("DAL_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                cmd.env_remove(key);
            }
        }
        cmd.envs(TEST_OPTIONS.iter().copied())
            .env("DAL_DATABASE_URL", database_url)
            .env("BIND", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("start the service binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
        let collected = logs.clone();
        tokio::spawn(async move {
            let mut addr_tx = Some(addr_tx);
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("service| {line}");
                let event: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| Value::String(format!("NOT JSON ({e}): {line}")));
                if event["message"] == "listening"
                    && let Some(tx) = addr_tx.take()
                {
                    let _ = tx.send(event["addr"].as_str().unwrap_or_default().to_string());
                }
                collected.lock().unwrap().push(event);
            }
        });
        let addr = tokio::time::timeout(Duration::from_secs(20), addr_rx)
            .await
            .expect("the service logs `listening` within 20 s")
            .expect("the service exited before listening");
        Service {
            child,
            client: http::Client {
                addr: addr.parse().expect("a socket address"),
            },
            logs,
        }
    }

    /// Every log line so far, parsed (a line that was not JSON is a string).
    pub fn logs(&self) -> Vec<Value> {
        self.logs.lock().unwrap().clone()
    }

    /// Poll `GET /healthz` until it answers `status`; panics after `limit`.
    pub async fn wait_health(&self, status: u16, limit: Duration) -> Value {
        let start = Instant::now();
        loop {
            let r = self.client.get("/healthz").await;
            if r.status == status {
                return r.json();
            }
            assert!(
                start.elapsed() < limit,
                "/healthz still {} after {limit:?}, wanted {status}: {}",
                r.status,
                r.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then wait for the process to exit.
    pub async fn stop(mut self) -> (ExitStatus, Vec<Value>) {
        let pid = self.child.id().expect("still running") as libc::pid_t;
        // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "SIGTERM to the service");
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the service exits within 10 s of SIGTERM")
            .expect("wait for the service");
        // let the log reader take the last lines
        tokio::time::sleep(Duration::from_millis(100)).await;
        let logs = self.logs();
        (status, logs)
    }
}
