//! Test fixtures: one isolated database per test on each backend.
//!
//! * SQLite: a temporary file, deleted afterwards.
//! * PostgreSQL: a fresh schema (`dal_t_<id>`) used through `search_path`, dropped afterwards.
//! * MariaDB / MySQL: a fresh database (`dal_t_<id>`), dropped afterwards.
//!
//! Server URLs default to the local servers (`DAL_TEST_POSTGRES_URL`,
//! `DAL_TEST_MYSQL_URL` override them). When a server does not answer, its tests
//! print why and pass, unless `DAL_TEST_REQUIRE_SERVERS=1` (set by `.ci/run`),
//! which turns a missing server into a failure.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use dal::{DatabaseConfig, Db, Dialect};

pub mod proxy;

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// An isolated database for one test; cleaned up on drop.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    File(PathBuf),
    Schema { admin_url: String, schema: String },
    Database { admin_url: String, database: String },
}

impl std::ops::Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

pub fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "dal_t_{}_{}_{}",
        std::process::id(),
        n,
        // hexadecimal digits are ASCII: byte 8 is a character boundary
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

fn require_servers() -> bool {
    matches!(
        std::env::var("DAL_TEST_REQUIRE_SERVERS").ok().as_deref(),
        Some("1" | "true" | "yes")
    )
}

fn unavailable(engine: &str, url: &str, why: &dal::Error) -> Option<TestDb> {
    let redacted = DatabaseConfig::from_url(url)
        .map(|c| c.redacted_url())
        .unwrap_or_else(|_| "<invalid url>".into());
    if require_servers() {
        panic!(
            "{engine} is required (DAL_TEST_REQUIRE_SERVERS=1) but {redacted} did not answer: {why}"
        );
    }
    eprintln!("SKIPPED: {engine} tests need a server at {redacted}, which did not answer: {why}");
    None
}

pub fn postgres_url() -> String {
    std::env::var("DAL_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_string())
}

pub fn mysql_url() -> String {
    std::env::var("DAL_TEST_MYSQL_URL").unwrap_or_else(|_| DEFAULT_MYSQL_URL.to_string())
}

fn with_param(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    // indexes of ASCII `://` and `/`: the slices cannot split a character
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{}", &base[..path_start], database);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A fresh SQLite database file.
pub async fn sqlite() -> Option<TestDb> {
    sqlite_with(|b| b).await
}

/// A fresh SQLite database file with configuration changes.
pub async fn sqlite_with(
    f: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
) -> Option<TestDb> {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    let url = format!("sqlite://{}", path.display());
    let config = f(DatabaseConfig::builder(&url))
        .build()
        .expect("sqlite config");
    let db = Db::connect(config).await.expect("open sqlite");
    Some(TestDb {
        db,
        url,
        cleanup: Cleanup::File(path),
    })
}

/// A fresh PostgreSQL schema.
pub async fn postgres() -> Option<TestDb> {
    postgres_with(|b| b).await
}

/// A fresh PostgreSQL schema with configuration changes.
pub async fn postgres_with(
    f: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
) -> Option<TestDb> {
    let admin_url = postgres_url();
    let admin = match Db::connect(
        DatabaseConfig::builder(&admin_url)
            .connect_timeout(std::time::Duration::from_secs(5))
            .max_connections(1)
            .build()
            .expect("postgres url"),
    )
    .await
    {
        Ok(db) => db,
        Err(e) => return unavailable("PostgreSQL", &admin_url, &e),
    };
    let schema = unique_name();
    admin
        .execute_script(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create schema");
    admin.close();
    let url = with_param(
        &admin_url,
        "options",
        &format!("-c%20search_path%3D{schema}"),
    );
    let config = f(DatabaseConfig::builder(&url))
        .build()
        .expect("postgres config");
    let db = Db::connect(config).await.expect("connect to test schema");
    Some(TestDb {
        db,
        url,
        cleanup: Cleanup::Schema { admin_url, schema },
    })
}

/// A fresh MariaDB/MySQL database.
pub async fn mysql() -> Option<TestDb> {
    mysql_with(|b| b).await
}

/// A fresh MariaDB/MySQL database with configuration changes.
pub async fn mysql_with(
    f: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
) -> Option<TestDb> {
    let admin_url = mysql_url();
    let admin = match Db::connect(
        DatabaseConfig::builder(&admin_url)
            .connect_timeout(std::time::Duration::from_secs(5))
            .max_connections(1)
            .build()
            .expect("mysql url"),
    )
    .await
    {
        Ok(db) => db,
        Err(e) => return unavailable("MariaDB/MySQL", &admin_url, &e),
    };
    let database = unique_name();
    admin
        .execute_script(&format!(
            "CREATE DATABASE `{database}` CHARACTER SET utf8mb4"
        ))
        .await
        .expect("create database");
    admin.close();
    let url = replace_database(&admin_url, &database);
    let config = f(DatabaseConfig::builder(&url))
        .build()
        .expect("mysql config");
    let db = Db::connect(config).await.expect("connect to test database");
    Some(TestDb {
        db,
        url,
        cleanup: Cleanup::Database {
            admin_url,
            database,
        },
    })
}

/// A fresh database of `dialect`.
pub async fn for_dialect(dialect: Dialect) -> Option<TestDb> {
    match dialect {
        Dialect::Sqlite => sqlite().await,
        Dialect::Postgres => postgres().await,
        Dialect::MySql => mysql().await,
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.db.close();
        let statement = match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    let _ = std::fs::remove_file(p);
                }
                return;
            }
            Cleanup::Schema { admin_url, schema } => (
                admin_url.clone(),
                format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"),
            ),
            Cleanup::Database {
                admin_url,
                database,
            } => (
                admin_url.clone(),
                format!("DROP DATABASE IF EXISTS `{database}`"),
            ),
        };
        // Drop runs inside the test's runtime: clean up from a thread of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            rt.block_on(async move {
                if let Ok(db) = Db::connect_url(&statement.0).await {
                    let _ = db.execute_script(&statement.1).await;
                    db.close();
                }
            });
        })
        .join();
    }
}

/// Instantiate a behaviour suite for one backend: every listed async fn
/// `suite::module::name(&Db)` becomes `#[tokio::test] fn name()` here.
#[macro_export]
macro_rules! backend_tests {
    ($setup:path; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(t) = $setup().await else { return };
                $crate::suite::$module::$name(&t).await;
            }
        )*
    };
}
