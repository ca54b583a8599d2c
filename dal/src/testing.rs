//! Isolated databases for tests: what [`#[dal::test]`](crate::test) runs on,
//! usable directly for tests the attribute cannot express.
//!
//! Each test gets a database of its own, so tests run in parallel and never
//! see each other's rows:
//!
//! | Backend | Isolated as | Server URL |
//! |---|---|---|
//! | SQLite | a temporary file (`<temp dir>/dal_t_<function>_<uuid>.db`) | none |
//! | PostgreSQL | a fresh schema, set as `search_path` on every pooled connection | `DAL_TEST_POSTGRES_URL`, default [`DEFAULT_POSTGRES_URL`] |
//! | MariaDB / MySQL | a fresh database | `DAL_TEST_MYSQL_URL`, default [`DEFAULT_MYSQL_URL`] |
//!
//! After a test passes its schema, database or file is removed. After it
//! fails (a panic, or an `Err` returned) it is kept for inspection and its
//! name and URL (password masked) are printed to the test's output.
//!
//! When a server does not answer, a test on it prints
//! `SKIPPED: … did not answer: …` and passes, unless
//! `DAL_TEST_REQUIRE_SERVERS=1` (or `true`, `yes`), which makes a missing
//! server a failure: set it in CI. SQLite always runs.
//!
//! ```
//! use dal::testing::{Outcome, TestRun};
//! use dal::Dialect;
//!
//! // what `#[dal::test] async fn counts(db: Db)` expands to, written out
//! let outcome = TestRun::new(Dialect::Sqlite, "counts").run(|t| async move {
//!     t.execute("CREATE TABLE [n] ([v] INTEGER)", ()).await?;
//!     let rows: i64 = t.fetch_scalar("SELECT COUNT(*) FROM [n]", ()).await?;
//!     assert_eq!(rows, 0);
//!     Ok::<(), dal::Error>(())
//! });
//! assert_eq!(outcome, Outcome::Passed);
//! ```

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::FutureExt;

use crate::entity::SchemaReport;
use crate::migrate::Migrator;
use crate::{BoxFuture, DatabaseConfig, DatabaseConfigBuilder, Db, Dialect, Entity, Error};

/// The PostgreSQL server tests use when `DAL_TEST_POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// The MariaDB/MySQL server tests use when `DAL_TEST_MYSQL_URL` is not set.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";
/// The environment variable naming the PostgreSQL server for tests.
pub const POSTGRES_URL_VAR: &str = "DAL_TEST_POSTGRES_URL";
/// The environment variable naming the MariaDB/MySQL server for tests.
pub const MYSQL_URL_VAR: &str = "DAL_TEST_MYSQL_URL";
/// The environment variable that turns a server that does not answer into a
/// test failure (`1`, `true` or `yes`) instead of a skip.
pub const REQUIRE_SERVERS_VAR: &str = "DAL_TEST_REQUIRE_SERVERS";

/// The prefix of every schema, database and file made for a test, so leftovers
/// are easy to find.
const NAME_PREFIX: &str = "dal_t_";
/// How much of the test function's name goes into its database's name. Names
/// stay at most 37 characters, so names built from them stay within the
/// servers' limits (63 bytes on PostgreSQL, 64 on MariaDB) too: the
/// migrator's `GET_LOCK` name `dal_migrate.<database>.dal_migrations`, say.
const NAME_LABEL_MAX: usize = 18;
/// How long creating or dropping a test database may wait for the server.
const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);
/// How long connecting to a server may take before it counts as not answering.
const ADMIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The server URL tests use for `dialect`: the environment variable
/// ([`POSTGRES_URL_VAR`], [`MYSQL_URL_VAR`]) or the local default; `None` for
/// SQLite, which needs no server.
///
/// ```
/// use dal::Dialect;
/// assert!(dal::testing::server_url(Dialect::Sqlite).is_none());
/// assert!(dal::testing::server_url(Dialect::Postgres).unwrap().starts_with("postgres"));
/// ```
pub fn server_url(dialect: Dialect) -> Option<String> {
    let (var, default) = match dialect {
        Dialect::Sqlite => return None,
        Dialect::Postgres => (POSTGRES_URL_VAR, DEFAULT_POSTGRES_URL),
        Dialect::MySql => (MYSQL_URL_VAR, DEFAULT_MYSQL_URL),
    };
    Some(std::env::var(var).unwrap_or_else(|_| default.to_string()))
}

/// Whether a server that does not answer fails the test instead of skipping
/// it ([`REQUIRE_SERVERS_VAR`] is `1`, `true` or `yes`).
pub fn servers_required() -> bool {
    matches!(
        std::env::var(REQUIRE_SERVERS_VAR)
            .ok()
            .map(|v| v.to_ascii_lowercase())
            .as_deref(),
        Some("1" | "true" | "yes")
    )
}

/// The engine's name as the messages print it.
fn engine(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "SQLite",
        Dialect::Postgres => "PostgreSQL",
        Dialect::MySql => "MariaDB/MySQL",
    }
}

/// A URL for messages: the password masked.
fn redact(url: &str) -> String {
    DatabaseConfig::from_url(url)
        .map(|c| c.redacted_url())
        .unwrap_or_else(|_| "<invalid url>".into())
}

/// Why a test database could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The server did not answer: the test is skipped unless
    /// [`servers_required`].
    #[error("{engine} tests need a server at {url}, which did not answer: {source}")]
    ServerUnavailable {
        /// `PostgreSQL` or `MariaDB/MySQL`.
        engine: &'static str,
        /// The server's URL, password masked.
        url: String,
        /// What connecting reported.
        source: Error,
    },
    /// The server answered but creating or opening the test database failed.
    #[error("could not create the test database: {0}")]
    Database(#[from] Error),
}

/// Where a test database lives, and so how it is removed.
#[derive(Clone)]
enum Place {
    File(PathBuf),
    Schema { admin_url: String },
    Database { admin_url: String },
}

/// One test's own database: a pool ([`Db`], also reached through `Deref`)
/// on a fresh PostgreSQL schema, MariaDB database or SQLite file, with its
/// URL and name.
///
/// Cloning shares the pool. Nothing is removed on drop: [`cleanup`](Self::cleanup)
/// removes it, [`keep`](Self::keep) leaves it and says where it is;
/// [`TestRun`] calls one of them after the test body.
#[derive(Clone)]
pub struct TestDatabase {
    db: Db,
    url: String,
    name: String,
    test: String,
    place: Place,
}

impl fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestDatabase")
            .field("dialect", &self.dialect())
            .field("name", &self.name)
            .field("test", &self.test)
            .field("url", &self.redacted_url())
            .finish()
    }
}

impl std::ops::Deref for TestDatabase {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

impl TestDatabase {
    /// Create a database for the test named `test` (its name goes into the
    /// database's, so leftovers say where they come from) on `dialect`,
    /// opening its pool with the configuration `configure` returns
    /// (`|b| b` for the defaults).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::testing::TestDatabase;
    ///
    /// let t = TestDatabase::create(dal::Dialect::Sqlite, "docs", |b| b.max_connections(2)).await?;
    /// t.execute("CREATE TABLE [t] ([v] INTEGER)", ()).await?;
    /// assert!(t.name().starts_with("dal_t_docs_"));
    /// t.cleanup().await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub async fn create(
        dialect: Dialect,
        test: &str,
        configure: impl FnOnce(DatabaseConfigBuilder) -> DatabaseConfigBuilder,
    ) -> Result<TestDatabase, SetupError> {
        let name = database_name(test);
        let (url, place) = match server_url(dialect) {
            None => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                (format!("sqlite://{}", path.display()), Place::File(path))
            }
            Some(admin_url) => {
                let admin = admin(dialect, &admin_url).await?;
                let created = admin.execute_script(&create_sql(dialect, &name)).await;
                admin.close();
                created?;
                let url = isolated_url(dialect, &admin_url, &name);
                let place = match dialect {
                    Dialect::Postgres => Place::Schema { admin_url },
                    _ => Place::Database { admin_url },
                };
                (url, place)
            }
        };
        let opened = async { Db::connect(configure(DatabaseConfig::builder(&url)).build()?).await };
        match opened.await {
            Ok(db) => Ok(TestDatabase {
                db,
                url,
                test: test.to_string(),
                name,
                place,
            }),
            Err(e) => {
                // nothing was written yet: do not leave an empty database behind
                let _ = remove(&place, &name).await;
                Err(SetupError::Database(e))
            }
        }
    }

    /// The pool on this database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The database's URL, credentials included: hand it to code that opens
    /// its own connections (a child process, a second pool). Print
    /// [`redacted_url`](Self::redacted_url) instead.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL with its password masked.
    pub fn redacted_url(&self) -> String {
        redact(&self.url)
    }

    /// The schema (PostgreSQL), database (MariaDB) or file stem (SQLite):
    /// `dal_t_<function>_<uuid>`, at most 37 characters.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of the test this database was made for, as libtest knows it
    /// (`module::test`, `module::test::postgres` for one backend of several).
    pub fn test_name(&self) -> &str {
        &self.test
    }

    /// The backend.
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// The SQLite file, `None` on the servers.
    pub fn path(&self) -> Option<&std::path::Path> {
        match &self.place {
            Place::File(p) => Some(p),
            _ => None,
        }
    }

    /// Close the pool and remove the database: drop the schema (with
    /// everything in it) or the database, or delete the file and its `-wal`,
    /// `-shm` and `-journal` companions (best effort). Removing what is
    /// already gone is not an error.
    pub async fn cleanup(self) -> crate::error::Result<()> {
        self.db.close();
        remove(&self.place, &self.name).await
    }

    /// Close the pool and leave the database in place, printing to the test's
    /// output where it is and how to look at it (password masked).
    pub fn keep(&self) {
        self.db.close();
        eprintln!("{}", self.kept_message());
    }

    /// What [`keep`](Self::keep) prints.
    fn kept_message(&self) -> String {
        let test = &self.test;
        let name = &self.name;
        match &self.place {
            Place::File(path) => format!(
                "dal::test: `{test}` failed; its SQLite database is kept at {}",
                path.display()
            ),
            Place::Schema { admin_url } => format!(
                "dal::test: `{test}` failed; its PostgreSQL schema `{name}` is kept in {} \
                 (SET search_path TO {name}; remove it with DROP SCHEMA {name} CASCADE)",
                redact(admin_url)
            ),
            Place::Database { .. } => format!(
                "dal::test: `{test}` failed; its MariaDB/MySQL database `{name}` is kept at {} \
                 (remove it with DROP DATABASE `{name}`)",
                self.redacted_url()
            ),
        }
    }
}

/// Remove the test database `name` at `place` (see [`TestDatabase::cleanup`]).
async fn remove(place: &Place, name: &str) -> crate::error::Result<()> {
    let (dialect, admin_url) = match place {
        Place::File(path) => {
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                // best effort: a file left in the temp directory harms nothing
                let _ = std::fs::remove_file(p);
            }
            return Ok(());
        }
        Place::Schema { admin_url } => (Dialect::Postgres, admin_url),
        Place::Database { admin_url } => (Dialect::MySql, admin_url),
    };
    let admin = admin(dialect, admin_url).await.map_err(|e| match e {
        SetupError::ServerUnavailable { source, .. } | SetupError::Database(source) => source,
    })?;
    let dropped = admin.execute_script(&drop_sql(dialect, name)).await;
    admin.close();
    dropped
}

/// A connection to the server itself, to create and drop test databases;
/// [`SetupError::ServerUnavailable`] when it does not answer.
async fn admin(dialect: Dialect, admin_url: &str) -> Result<Db, SetupError> {
    let config = DatabaseConfig::builder(admin_url)
        .connect_timeout(ADMIN_CONNECT_TIMEOUT)
        .query_timeout(ADMIN_TIMEOUT)
        .max_connections(1)
        .build()?;
    Db::connect(config)
        .await
        .map_err(|source| SetupError::ServerUnavailable {
            engine: engine(dialect),
            url: redact(admin_url),
            source,
        })
}

/// `dal_t_<function>_<uuid>`: the test function's name (the last segment of
/// the test's name, or the one before a backend's), in lower case with
/// anything but letters, digits and `_` turned into `_`, cut to
/// [`NAME_LABEL_MAX`] characters, then 12 hex digits of a fresh UUID.
fn database_name(test: &str) -> String {
    let mut segments: Vec<&str> = test.split("::").collect();
    if segments.len() > 1 && matches!(segments.last(), Some(&("sqlite" | "postgres" | "mysql"))) {
        segments.pop();
    }
    let function = segments.last().copied().unwrap_or_default();
    let label: String = function
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(NAME_LABEL_MAX)
        .collect();
    let label = label.trim_matches('_');
    let id = uuid::Uuid::new_v4().simple().to_string();
    let id: String = id.chars().take(12).collect();
    if label.is_empty() {
        format!("{NAME_PREFIX}{id}")
    } else {
        format!("{NAME_PREFIX}{label}_{id}")
    }
}

/// The statement creating a test database. Names come from [`database_name`]
/// (letters, digits, `_`), so quoting them is enough.
fn create_sql(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("CREATE SCHEMA \"{name}\""),
        _ => format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
    }
}

/// The statement removing a test database.
fn drop_sql(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"),
        _ => format!("DROP DATABASE IF EXISTS `{name}`"),
    }
}

/// The URL of the isolated database on the server at `admin_url`: PostgreSQL
/// sets the schema as `search_path` for every connection (the `options`
/// startup parameter), MariaDB names the database in the path.
fn isolated_url(dialect: Dialect, admin_url: &str, name: &str) -> String {
    match dialect {
        Dialect::Postgres => {
            let sep = if admin_url.contains('?') { '&' } else { '?' };
            format!("{admin_url}{sep}options=-c%20search_path%3D{name}")
        }
        _ => replace_database(admin_url, name),
    }
}

/// `url` with its path (the database) replaced by `database`, query kept.
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

/// What a test function can take as its argument: `#[dal::test]` builds it
/// from the test's [`TestDatabase`].
#[diagnostic::on_unimplemented(
    message = "`#[dal::test]` cannot hand a test a `{Self}`",
    label = "not a database handle",
    note = "take a `dal::Db` (the pool on the test's own database) or a `dal::testing::TestDatabase` (the pool with its URL and name)"
)]
pub trait TestArgument: Sized {
    /// The argument for the test using `db`.
    fn from_test_database(db: TestDatabase) -> Self;
}

impl TestArgument for Db {
    fn from_test_database(db: TestDatabase) -> Self {
        db.db
    }
}

impl TestArgument for TestDatabase {
    fn from_test_database(db: TestDatabase) -> Self {
        db
    }
}

/// What a test function can return: `()`, or a `Result<(), E>` whose `Err`
/// fails the test (printed with `Debug`).
#[diagnostic::on_unimplemented(
    message = "`#[dal::test]` functions return `()` or `Result<(), E>` with `E: Debug`, not `{Self}`",
    label = "not a test result"
)]
pub trait TestOutcome {
    /// `None` when the test passed, else why it failed.
    fn into_failure(self) -> Option<String>;
}

impl TestOutcome for () {
    fn into_failure(self) -> Option<String> {
        None
    }
}

impl<E: fmt::Debug> TestOutcome for Result<(), E> {
    fn into_failure(self) -> Option<String> {
        self.err().map(|e| format!("the test returned Err({e:?})"))
    }
}

/// How a [`TestRun`] ended when it did not panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The body ran and passed; its database is removed.
    Passed,
    /// The server did not answer and [`servers_required`] is off: the body
    /// did not run.
    Skipped,
}

/// The tokio runtime a test body runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread { workers: Option<usize> },
}

type EnsureFn = for<'a> fn(&'a Db) -> BoxFuture<'a, crate::error::Result<SchemaReport>>;

/// A preparation step run on the fresh database before the body.
enum Step {
    Migrator(Box<Migrator>),
    Entity {
        name: &'static str,
        ensure: EnsureFn,
    },
}

fn ensure_entity<E: Entity>(db: &Db) -> BoxFuture<'_, crate::error::Result<SchemaReport>> {
    Box::pin(E::ensure_schema(db))
}

type Configure = Box<dyn FnOnce(DatabaseConfigBuilder) -> DatabaseConfigBuilder>;

/// One run of a test body on one backend: create its database, prepare it,
/// run the body on a tokio runtime of its own, then remove the database or,
/// when the body failed, keep it and say where it is.
///
/// `#[dal::test]` expands to this; use it directly for what the attribute
/// does not offer (a configuration closure, a computed backend).
///
/// * A server that does not answer: [`Outcome::Skipped`], printed, unless
///   [`servers_required`], then a panic.
/// * Setup (creating the database, the migrator, `ensure_schema`) failing:
///   a panic saying which step; the database is kept.
/// * The body panicking: the database is kept and the panic goes on (a body
///   expected to panic, [`expect_panic`](Self::expect_panic), has its
///   database removed instead).
/// * The body returning `Err(e)`: the database is kept and the run panics
///   with `e`'s `Debug`.
pub struct TestRun {
    dialect: Dialect,
    test: String,
    steps: Vec<Step>,
    configure: Option<Configure>,
    flavor: Flavor,
    expect_panic: bool,
}

impl fmt::Debug for TestRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<&str> = self
            .steps
            .iter()
            .map(|s| match s {
                Step::Migrator(_) => "migrator",
                Step::Entity { name, .. } => name,
            })
            .collect();
        f.debug_struct("TestRun")
            .field("dialect", &self.dialect)
            .field("test", &self.test)
            .field("steps", &steps)
            .field("flavor", &self.flavor)
            .field("expect_panic", &self.expect_panic)
            .finish_non_exhaustive()
    }
}

impl TestRun {
    /// A run of the test named `test` on `dialect`, on a current-thread
    /// runtime, with no preparation.
    pub fn new(dialect: Dialect, test: impl Into<String>) -> TestRun {
        TestRun {
            dialect,
            test: test.into(),
            steps: Vec::new(),
            configure: None,
            flavor: Flavor::CurrentThread,
            expect_panic: false,
        }
    }

    /// Apply `migrator` ([`Migrator::up`]) before the body.
    pub fn migrator(mut self, migrator: Migrator) -> TestRun {
        self.steps.push(Step::Migrator(Box::new(migrator)));
        self
    }

    /// Run `E::ensure_schema` before the body (after the steps added before).
    pub fn entity<E: Entity>(mut self) -> TestRun {
        self.steps.push(Step::Entity {
            name: std::any::type_name::<E>(),
            ensure: ensure_entity::<E>,
        });
        self
    }

    /// Change the test pool's configuration (the URL is set already).
    pub fn configure(
        mut self,
        f: impl FnOnce(DatabaseConfigBuilder) -> DatabaseConfigBuilder + 'static,
    ) -> TestRun {
        self.configure = Some(Box::new(f));
        self
    }

    /// Run the body on a multi-threaded runtime (tokio's default number of
    /// worker threads unless [`worker_threads`](Self::worker_threads) says).
    pub fn multi_thread(mut self) -> TestRun {
        if self.flavor == Flavor::CurrentThread {
            self.flavor = Flavor::MultiThread { workers: None };
        }
        self
    }

    /// Run the body on a multi-threaded runtime with `n` worker threads (at
    /// least one).
    pub fn worker_threads(mut self, n: usize) -> TestRun {
        self.flavor = Flavor::MultiThread {
            workers: Some(n.max(1)),
        };
        self
    }

    /// The body is expected to panic (`#[should_panic]`): remove its database
    /// when it does.
    pub fn expect_panic(mut self) -> TestRun {
        self.expect_panic = true;
        self
    }

    /// Create the database, prepare it, run `body` with it, and clean up.
    /// Returns when the body passed or the run was skipped; panics when the
    /// body or the setup failed (see the type's documentation).
    pub fn run<F, Fut>(self, body: F) -> Outcome
    where
        F: FnOnce(TestDatabase) -> Fut,
        Fut: Future,
        Fut::Output: TestOutcome,
    {
        let mut builder = match self.flavor {
            Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
            Flavor::MultiThread { workers } => {
                let mut b = tokio::runtime::Builder::new_multi_thread();
                if let Some(n) = workers {
                    b.worker_threads(n);
                }
                b
            }
        };
        let runtime = builder
            .enable_all()
            .build()
            .expect("dal::test: could not start a tokio runtime");
        runtime.block_on(self.run_on_runtime(body))
    }

    async fn run_on_runtime<F, Fut>(self, body: F) -> Outcome
    where
        F: FnOnce(TestDatabase) -> Fut,
        Fut: Future,
        Fut::Output: TestOutcome,
    {
        let TestRun {
            dialect,
            test,
            steps,
            configure,
            expect_panic,
            ..
        } = self;
        let configure = configure.unwrap_or_else(|| Box::new(|b| b));
        let t = match TestDatabase::create(dialect, &test, configure).await {
            Ok(t) => t,
            Err(e @ SetupError::ServerUnavailable { .. }) => {
                if servers_required() {
                    panic!("`{test}`: {e} ({REQUIRE_SERVERS_VAR}=1 makes this a failure)");
                }
                eprintln!("SKIPPED: `{test}`: {e}");
                return Outcome::Skipped;
            }
            Err(e) => panic!("`{test}`: {e}"),
        };
        for step in steps {
            let (what, r) = match step {
                Step::Migrator(m) => (
                    "applying the migrator".to_string(),
                    m.up(&t).await.map(drop),
                ),
                Step::Entity { name, ensure } => (
                    format!("ensure_schema of `{name}`"),
                    ensure(&t).await.map(drop),
                ),
            };
            if let Err(e) = r {
                t.keep();
                panic!("`{test}`: setup failed while {what}: {e}");
            }
        }
        let ran = AssertUnwindSafe(async { body(t.clone()).await.into_failure() })
            .catch_unwind()
            .await;
        match ran {
            Ok(None) => {
                if let Err(e) = t.clone().cleanup().await {
                    eprintln!(
                        "dal::test: `{test}` passed but its database `{}` could not be removed: {e}",
                        t.name()
                    );
                }
                Outcome::Passed
            }
            Ok(Some(failure)) => {
                t.keep();
                panic!("`{test}`: {failure}");
            }
            Err(payload) => {
                if expect_panic {
                    let _ = t.cleanup().await;
                } else {
                    t.keep();
                }
                std::panic::resume_unwind(payload)
            }
        }
    }
}

/// The name libtest gives a test: `module_path` without the crate's name,
/// then the function, then the backend when the test runs on several.
#[doc(hidden)]
pub fn __test_name(module_path: &str, function: &str, backend: Option<&str>) -> String {
    let mut name = match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{function}"),
        None => function.to_string(),
    };
    if let Some(b) = backend {
        name.push_str("::");
        name.push_str(b);
    }
    name
}

/// A test result the macro has already checked: `Err` carries the message.
#[doc(hidden)]
pub struct __Failure(String);

impl fmt::Debug for __Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Check a test function's result type (the macro spans the call on the
/// return type, so a wrong type is reported there).
#[doc(hidden)]
pub fn __outcome<T: TestOutcome>(outcome: T) -> Result<(), __Failure> {
    match outcome.into_failure() {
        None => Ok(()),
        Some(message) => Err(__Failure(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers_with_the_test_in_them() {
        let n = database_name("backends::saves::postgres");
        assert!(n.starts_with("dal_t_saves_"), "{n}");
        assert_eq!(n.len(), "dal_t_saves_".len() + 12);
        assert!(database_name("users::saves").starts_with("dal_t_saves_"));
        assert!(database_name("mysql").starts_with("dal_t_mysql_"));
        let long = database_name(&"x".repeat(200));
        assert!(long.len() <= 37, "{long}");
        assert!(database_name("").starts_with("dal_t_"));
        let odd = database_name("tests::Ünïcode-Name");
        assert!(
            odd.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{odd}"
        );
        assert_ne!(database_name("a"), database_name("a"));
    }

    #[test]
    fn urls_point_at_the_isolated_database() {
        assert_eq!(
            isolated_url(Dialect::Postgres, "postgres://u@h/db", "dal_t_x"),
            "postgres://u@h/db?options=-c%20search_path%3Ddal_t_x"
        );
        assert_eq!(
            isolated_url(Dialect::Postgres, "postgres://u@h/db?sslmode=disable", "s"),
            "postgres://u@h/db?sslmode=disable&options=-c%20search_path%3Ds"
        );
        assert_eq!(
            isolated_url(Dialect::MySql, "mysql://root@127.0.0.1:3306/test", "d"),
            "mysql://root@127.0.0.1:3306/d"
        );
        assert_eq!(
            isolated_url(Dialect::MySql, "mysql://root@h:3306?ssl-mode=disabled", "d"),
            "mysql://root@h:3306/d?ssl-mode=disabled"
        );
    }

    #[test]
    fn test_names_are_libtest_names() {
        assert_eq!(__test_name("backends", "saves", None), "saves");
        assert_eq!(
            __test_name("backends::users", "saves", Some("mysql")),
            "users::saves::mysql"
        );
    }

    #[test]
    fn outcomes() {
        assert_eq!(().into_failure(), None);
        assert_eq!(Ok::<(), &str>(()).into_failure(), None);
        assert_eq!(
            Err::<(), _>("boom").into_failure().as_deref(),
            Some("the test returned Err(\"boom\")")
        );
        assert_eq!(
            format!("{:?}", __outcome(Err::<(), _>(7)).unwrap_err()),
            "the test returned Err(7)"
        );
    }
}
