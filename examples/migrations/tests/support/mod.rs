//! Databases for the end-to-end tests, made and dropped through dal itself:
//! a temporary SQLite file, a fresh PostgreSQL schema (selected with the URL's
//! `search_path` option) and a fresh MariaDB database, when the servers answer.
//!
//! The server URLs are `DAL_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`) and `DAL_TEST_MYSQL_URL`
//! (default `mysql://root@127.0.0.1:3306/test`). When a server does not
//! answer, its tests print `SKIPPED` and pass, unless
//! `DAL_TEST_REQUIRE_SERVERS=1`, which makes that a failure.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dal::{DatabaseConfig, Db};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// One isolated database; dropped with the value.
pub struct TestDb {
    /// Which engine (`sqlite`, `postgres`, `mysql`), for messages.
    pub engine: &'static str,
    /// The URL the binary gets.
    pub url: String,
    /// A scratch directory (migration files written by the tests go there).
    pub dir: PathBuf,
    cleanup: Cleanup,
}

enum Cleanup {
    File,
    Schema { admin_url: String, schema: String },
    Database { admin_url: String, database: String },
}

pub fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Run `f` on a runtime of its own (tests are synchronous).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(f)
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("dal_example"));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A temporary SQLite file.
pub fn sqlite() -> TestDb {
    let dir = scratch_dir();
    TestDb {
        engine: "sqlite",
        url: format!("sqlite://{}", dir.join("app.db").display()),
        dir,
        cleanup: Cleanup::File,
    }
}

fn require_servers() -> bool {
    matches!(
        std::env::var("DAL_TEST_REQUIRE_SERVERS").ok().as_deref(),
        Some("1" | "true" | "yes")
    )
}

/// A fresh PostgreSQL schema, or `None` (after printing SKIPPED) when the
/// server does not answer.
pub fn postgres() -> Option<TestDb> {
    let admin_url =
        std::env::var("DAL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
    let schema = unique("dal_t_cli");
    let made = block_on(async {
        let config = DatabaseConfig::builder(&admin_url)
            .connect_timeout(Duration::from_secs(5))
            .max_connections(1)
            .build()
            .expect("PostgreSQL test URL");
        let shown = config.redacted_url();
        let admin = Db::connect(config).await.map_err(|e| (shown, e))?;
        admin
            .execute_script(&format!("CREATE SCHEMA \"{schema}\""))
            .await
            .expect("create schema");
        admin.close();
        Ok::<(), (String, dal::Error)>(())
    });
    if let Err((shown, e)) = made {
        if require_servers() {
            panic!(
                "PostgreSQL is required (DAL_TEST_REQUIRE_SERVERS=1) but {shown} did not answer: {e}"
            );
        }
        eprintln!("SKIPPED: PostgreSQL tests need a server at {shown}, which did not answer: {e}");
        return None;
    }
    let sep = if admin_url.contains('?') { '&' } else { '?' };
    Some(TestDb {
        engine: "postgres",
        url: format!("{admin_url}{sep}options=-c%20search_path%3D{schema}"),
        dir: scratch_dir(),
        cleanup: Cleanup::Schema { admin_url, schema },
    })
}

/// `url` with its database (path) replaced.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A fresh MariaDB database, or `None` (after printing SKIPPED) when the
/// server does not answer.
pub fn mysql() -> Option<TestDb> {
    let admin_url =
        std::env::var("DAL_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_MYSQL_URL.into());
    let database = unique("dal_t_cli");
    let made = block_on(async {
        let config = DatabaseConfig::builder(&admin_url)
            .connect_timeout(Duration::from_secs(5))
            .max_connections(1)
            .build()
            .expect("MariaDB test URL");
        let shown = config.redacted_url();
        let admin = Db::connect(config).await.map_err(|e| (shown, e))?;
        admin
            .execute_script(&format!("CREATE DATABASE `{database}`"))
            .await
            .expect("create database");
        admin.close();
        Ok::<(), (String, dal::Error)>(())
    });
    if let Err((shown, e)) = made {
        if require_servers() {
            panic!(
                "MariaDB is required (DAL_TEST_REQUIRE_SERVERS=1) but {shown} did not answer: {e}"
            );
        }
        eprintln!("SKIPPED: MariaDB tests need a server at {shown}, which did not answer: {e}");
        return None;
    }
    Some(TestDb {
        engine: "mysql",
        url: replace_database(&admin_url, &database),
        dir: scratch_dir(),
        cleanup: Cleanup::Database {
            admin_url,
            database,
        },
    })
}

/// SQLite, then PostgreSQL and MariaDB when they answer.
pub fn every_backend() -> Vec<TestDb> {
    let mut out = vec![sqlite()];
    out.extend(postgres());
    out.extend(mysql());
    out
}

impl TestDb {
    /// A dal handle on the same database (for set-up and checks).
    pub async fn connect(&self) -> Db {
        Db::connect_url(&self.url).await.expect("connect")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        let cleanup = match &self.cleanup {
            Cleanup::File => None,
            Cleanup::Schema { admin_url, schema } => Some((
                admin_url.clone(),
                format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
            )),
            Cleanup::Database {
                admin_url,
                database,
            } => Some((
                admin_url.clone(),
                format!("DROP DATABASE IF EXISTS `{database}`"),
            )),
        };
        if let Some((url, sql)) = cleanup {
            // a thread of its own: Drop may run inside a runtime
            let _ = std::thread::spawn(move || {
                block_on(async {
                    if let Ok(db) = Db::connect_url(&url).await {
                        let _ = db.execute_script(&sql).await;
                        db.close();
                    }
                })
            })
            .join();
        }
    }
}
