//! Test fixtures: one isolated database per test on each backend, made by
//! `dal::testing` (what `#[dal::test]` runs on), for the suites that call a
//! setup function rather than use the attribute.
//!
//! * SQLite: a temporary file, deleted afterwards.
//! * PostgreSQL: a fresh schema (`dal_t_<id>`) used through `search_path`, dropped afterwards.
//! * MariaDB / MySQL: a fresh database (`dal_t_<id>`), dropped afterwards.
//!
//! A test that panics keeps its database and prints where it is. Server URLs
//! default to the local servers (`DAL_TEST_POSTGRES_URL`, `DAL_TEST_MYSQL_URL`
//! override them). When a server does not answer, its tests print why and
//! pass, unless `DAL_TEST_REQUIRE_SERVERS=1` (set by `.ci/run`), which turns a
//! missing server into a failure.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};

use dal::testing::{SetupError, TestDatabase};
use dal::{DatabaseConfig, Db, Dialect};

pub mod pg_cluster;
pub mod proxy;

pub const DEFAULT_POSTGRES_URL: &str = dal::testing::DEFAULT_POSTGRES_URL;
pub const DEFAULT_MYSQL_URL: &str = dal::testing::DEFAULT_MYSQL_URL;

/// An isolated database for one test; removed on drop, kept (and its place
/// printed) when the test is panicking.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    inner: TestDatabase,
}

impl std::ops::Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl TestDb {
    /// The `dal::testing` handle (name, redacted URL, path).
    pub fn test_database(&self) -> &TestDatabase {
        &self.inner
    }
}

/// A name no other test uses (for tables, keys, metrics).
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

fn unavailable(engine: &str, url: &str, why: &dal::Error) -> Option<TestDb> {
    let redacted = DatabaseConfig::from_url(url)
        .map(|c| c.redacted_url())
        .unwrap_or_else(|_| "<invalid url>".into());
    if dal::testing::servers_required() {
        panic!(
            "{engine} is required (DAL_TEST_REQUIRE_SERVERS=1) but {redacted} did not answer: {why}"
        );
    }
    eprintln!("SKIPPED: {engine} tests need a server at {redacted}, which did not answer: {why}");
    None
}

pub fn postgres_url() -> String {
    dal::testing::server_url(Dialect::Postgres).expect("a server backend")
}

pub fn mysql_url() -> String {
    dal::testing::server_url(Dialect::MySql).expect("a server backend")
}

/// A fresh database of `dialect` with configuration changes: `None` (after
/// saying so) when its server does not answer.
async fn create(
    dialect: Dialect,
    f: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
) -> Option<TestDb> {
    match TestDatabase::create(dialect, "", f).await {
        Ok(inner) => Some(TestDb {
            db: inner.db().clone(),
            url: inner.url().to_string(),
            inner,
        }),
        Err(SetupError::ServerUnavailable { engine, source, .. }) => {
            let url = dal::testing::server_url(dialect).expect("a server backend");
            unavailable(engine, &url, &source)
        }
        Err(e) => panic!("creating a {dialect:?} test database: {e}"),
    }
}

/// A fresh SQLite database file.
pub async fn sqlite() -> Option<TestDb> {
    sqlite_with(|b| b).await
}

/// A fresh SQLite database file with configuration changes.
pub async fn sqlite_with(
    f: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
) -> Option<TestDb> {
    create(Dialect::Sqlite, f).await
}

/// A fresh PostgreSQL schema.
pub async fn postgres() -> Option<TestDb> {
    postgres_with(|b| b).await
}

/// A fresh PostgreSQL schema with configuration changes.
pub async fn postgres_with(
    f: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
) -> Option<TestDb> {
    create(Dialect::Postgres, f).await
}

/// A fresh MariaDB/MySQL database.
pub async fn mysql() -> Option<TestDb> {
    mysql_with(|b| b).await
}

/// A fresh MariaDB/MySQL database with configuration changes.
pub async fn mysql_with(
    f: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
) -> Option<TestDb> {
    create(Dialect::MySql, f).await
}

/// A fresh database of `dialect`.
pub async fn for_dialect(dialect: Dialect) -> Option<TestDb> {
    create(dialect, |b| b).await
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.db.close();
        // a failing test keeps its database for inspection
        if std::thread::panicking() {
            self.inner.keep();
            return;
        }
        let inner = self.inner.clone();
        // Drop runs inside the test's runtime: clean up from a thread of our own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            if let Err(e) = rt.block_on(inner.cleanup()) {
                eprintln!("could not remove the test database: {e}");
            }
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
