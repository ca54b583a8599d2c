//! Migrations: schema changes written as [`Script`]s, grouped by module with an
//! explicit order, applied and rolled back by a [`Migrator`].
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dal::migrate::{Migration, Migrator, Module, State};
//! use dal::schema::ddl::DdlStatement;
//! use dal::schema::script::Script;
//! use dal::{Db, Table};
//!
//! fn create_users() -> Migration {
//!     let mut up = Script::new();
//!     up.create_table(Table::build("users", |t| {
//!         t.id();
//!         t.string("email", 150).unique();
//!     }));
//!     let down = Script::from(vec![DdlStatement::DropTable { name: "users".into(), if_exists: false }]);
//!     Migration::new("0001_create_users", up).down(down)
//! }
//!
//! let migrator = Migrator::new().module(Module::new("accounts").migration(create_users()));
//!
//! let db = Db::connect_url("sqlite::memory:").await?;
//! let report = migrator.up(&db).await?;
//! assert_eq!(report.applied.len(), 1);
//! assert!(db.table_exists("users").await?);
//!
//! let status = migrator.status(&db).await?;
//! assert_eq!(status[0].state, State::Applied);
//!
//! migrator.rollback(&db, 1).await?;
//! assert!(!db.table_exists("users").await?);
//! # Ok::<(), dal::Error>(()) }).unwrap();
//! ```
//!
//! # What a run does
//!
//! Every run ([`Migrator::up`], [`up_to`](Migrator::up_to),
//! [`rollback`](Migrator::rollback), [`fresh`](Migrator::fresh)) works on one
//! connection that it keeps for the whole run:
//!
//! 1. It takes a database-level lock, so that concurrent runners (several
//!    application instances starting at once) apply each migration exactly once:
//!    * PostgreSQL: a session-level `pg_advisory_lock` (tried every few
//!      milliseconds until [`Migrator::lock_timeout`]), keyed by the current
//!      schema and the tracking table's name;
//!    * MySQL / MariaDB: `GET_LOCK(name, timeout)`, named after the database and
//!      the tracking table;
//!    * SQLite: the database's write lock, taken with `BEGIN IMMEDIATE` and held
//!      for the whole run (one exclusive transaction; each migration runs in a
//!      savepoint inside it). SQLite releases it when the process dies, so a
//!      crashed runner never leaves a stale lock behind. Other writers of the
//!      same file wait while a run is in progress.
//!
//!    A runner that cannot take the lock within the timeout fails with
//!    [`Error::MigrationLocked`]. The lock is
//!    released on success and on error. On PostgreSQL, run migrations over a
//!    direct or session-pooled connection: a session-level advisory lock does
//!    not hold behind pgbouncer in transaction-pooling mode, so a run on a
//!    database configured with
//!    [`pgbouncer`](crate::DatabaseConfigBuilder::pgbouncer) stops before
//!    connecting with [`Error::Config`] naming the
//!    [direct URL](crate::DatabaseConfigBuilder::direct_url) to use
//!    ([`DatabaseConfig::direct`](crate::DatabaseConfig::direct)).
//! 2. It creates the tracking table when it is missing (default name
//!    `dal_migrations`, see [`Migrator::table_name`]) and reads it, *after*
//!    taking the lock: a runner that waited for another sees what that one
//!    applied.
//! 3. It checks every applied migration against the code: when the SHA-256
//!    checksum of a migration's generated SQL changed since it was applied, the
//!    run stops with [`Error::MigrationDrift`]
//!    before anything is applied.
//! 4. It applies (or rolls back) migrations one at a time. On PostgreSQL and
//!    SQLite, a migration's statements and its tracking row are one transaction:
//!    a failure leaves nothing of that migration behind. MySQL and MariaDB
//!    commit every DDL statement implicitly, so there the statements run one by
//!    one, the tracking row is written only after all of them succeeded, and a
//!    failure ([`Error::Migration`]) lists exactly the
//!    statements that did take effect, which have to be undone (or completed) by
//!    hand before running again. Migrations applied before a failure stay applied.
//!
//! Each migration applied or rolled back is logged with `tracing` (target
//! `dal::migrate`, level INFO) and reported to the [`Migrator::on_progress`]
//! callback.
//!
//! # The tracking table
//!
//! | column | |
//! |---|---|
//! | `module`, `name` | the migration (primary key) |
//! | `order_index` | its position in its module (0-based) |
//! | `applied_at` | when it was applied (UTC) |
//! | `checksum` | hex SHA-256 of its `up` script's SQL for the database's dialect |
//! | `duration_ms` | how long applying it took |
//! | `applied_seq` | 1, 2, 3, ... in the order migrations were applied; rollbacks undo the highest first |
//!
//! # Checksums
//!
//! A checksum hashes the SQL dal generates for the dialect (see
//! [`Migration::checksum`]), not the Rust source: reformatting a migration, or
//! building the same table with the builder calls in another layout, changes
//! nothing; changing a column, a type, a default or a raw statement's text is
//! drift.
//!
//! # Scripts
//!
//! Write scripts with the blueprint builder ([`Table::build`](crate::Table::build)),
//! typed [`DdlStatement`](dal_schema::ddl::DdlStatement)s or raw portable SQL
//! ([`Script::sql`]). Raw statements must not manage transactions themselves
//! (`BEGIN`, `COMMIT`): the runner does. On SQLite, a run that contains a
//! table rebuild ([`DdlStatement::RebuildTable`](dal_schema::ddl::DdlStatement::RebuildTable))
//! or a [`fresh`](Migrator::fresh) turns foreign-key enforcement off for the run
//! (SQLite cannot change it inside a transaction) and checks every foreign key
//! (`PRAGMA foreign_key_check`) before each migration is kept instead.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use dal_schema::Dialect;
use dal_schema::script::Script;

use crate::db::Db;
use crate::error::{Error, Result};

mod lock;
mod runner;

mod tracking;

/// The tracking table's default name.
pub const DEFAULT_TABLE: &str = "dal_migrations";

/// How long a run waits for another run's lock by default (one minute).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// One migration: a name unique within its module, an `up` script and,
/// optionally, a `down` script that undoes it.
///
/// ```
/// use dal::migrate::Migration;
/// use dal::schema::ddl::DdlStatement;
/// use dal::schema::script::Script;
/// use dal::{Dialect, Table};
///
/// let mut up = Script::new();
/// up.create_table(Table::build("teams", |t| {
///     t.id();
///     t.string("name", 100);
/// }));
/// let m = Migration::new("0001_teams", up);
/// assert!(m.down_script().is_none()); // irreversible until `.down(..)`
///
/// let m = m.down(Script::from(vec![DdlStatement::DropTable { name: "teams".into(), if_exists: false }]));
/// assert_eq!(m.name(), "0001_teams");
/// assert_eq!(m.checksum(Dialect::Postgres)?.len(), 64);
/// # Ok::<(), dal::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    name: String,
    up: Script,
    down: Option<Script>,
}

impl Migration {
    /// A migration applying `up`; irreversible until [`down`](Migration::down) is given.
    pub fn new(name: impl Into<String>, up: Script) -> Migration {
        Migration {
            name: name.into(),
            up,
            down: None,
        }
    }

    /// The script that undoes this migration (used by [`Migrator::rollback`]).
    pub fn down(mut self, down: Script) -> Migration {
        self.down = Some(down);
        self
    }

    /// The migration's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The script that applies the migration.
    pub fn up_script(&self) -> &Script {
        &self.up
    }

    /// The script that undoes the migration, if it is reversible.
    pub fn down_script(&self) -> Option<&Script> {
        self.down.as_ref()
    }

    /// Whether the migration has a `down` script.
    pub fn is_reversible(&self) -> bool {
        self.down.is_some()
    }

    /// The hex SHA-256 (64 lower-case characters) of the `up` script's SQL for
    /// `dialect`, statements joined by `"\n"`: what the tracking table records
    /// and drift detection compares. A history step (`history()`,
    /// `add_history()`, ...) counts as one line naming it
    /// ([`Script::fingerprint`](crate::schema::script::Script::fingerprint)):
    /// its SQL follows the table's columns when it runs.
    ///
    /// Fails with [`Error::InvalidInput`] when the script cannot be written for
    /// the dialect.
    ///
    /// ```
    /// use dal::migrate::Migration;
    /// use dal::schema::script::Script;
    /// use dal::{Dialect, Table};
    ///
    /// // the same table, built in two layouts: same SQL, same checksum
    /// let mut a = Script::new();
    /// a.create_table(Table::build("t", |t| { t.id(); t.string("x", 10).nullable(); }));
    /// let mut b = Script::new();
    /// b.create_table(Table::build("t", |t| {
    ///     t.id();
    ///     t.string("x", 10)
    ///         .nullable();
    /// }));
    /// let (a, b) = (Migration::new("m", a), Migration::new("m", b));
    /// assert_eq!(a.checksum(Dialect::Sqlite)?, b.checksum(Dialect::Sqlite)?);
    /// assert_ne!(a.checksum(Dialect::Sqlite)?, a.checksum(Dialect::MySql)?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn checksum(&self, dialect: Dialect) -> Result<String> {
        let sql = self.up.fingerprint(dialect).map_err(|e| {
            Error::invalid_input(
                format!("migration `{}`", self.name),
                format!(
                    "the up script cannot be written for {}: {e}",
                    dialect.name()
                ),
            )
        })?;
        Ok(checksum_of(&sql))
    }
}

/// Hex SHA-256 of the statements joined by `"\n"`.
pub(crate) fn checksum_of(statements: &[String]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(statements.join("\n").as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest.iter() {
        use std::fmt::Write as _;
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The migrations of one module (a feature, a crate, a plugin), in their
/// explicit order.
///
/// ```
/// use dal::migrate::{Migration, Module};
/// use dal::schema::script::Script;
///
/// let blog = Module::new("blog")
///     .migration(Migration::new("0001_posts", Script::new()))
///     .migration(Migration::new("0002_comments", Script::new()));
/// assert_eq!(blog.name(), "blog");
/// assert_eq!(blog.migrations().len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    name: String,
    migrations: Vec<Migration>,
}

impl Module {
    /// An empty module.
    pub fn new(name: impl Into<String>) -> Module {
        Module {
            name: name.into(),
            migrations: Vec::new(),
        }
    }

    /// Append a migration (it applies after the ones added before it).
    pub fn migration(mut self, m: Migration) -> Module {
        self.migrations.push(m);
        self
    }

    /// The module's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The migrations, in order.
    pub fn migrations(&self) -> &[Migration] {
        &self.migrations
    }
}

/// Whether [`Migrator::fresh`] may drop every table. The default is
/// [`Fresh::Refuse`]: a caller that did not explicitly ask gets a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Fresh {
    /// Do not drop anything ([`Migrator::fresh`] fails with [`Error::InvalidInput`]).
    #[default]
    Refuse,
    /// The caller confirmed: drop every table and re-apply every migration.
    Confirmed,
}

/// The state of one migration, as [`Migrator::status`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Applied, and unchanged since.
    Applied,
    /// Not applied yet.
    Pending,
    /// Applied, but its `up` script's SQL changed since (its checksum differs).
    Drifted,
    /// Applied, but no longer registered in the code.
    Missing,
}

impl State {
    /// A lower-case name (`applied`, `pending`, `drifted`, `missing`).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Drifted => "drifted",
            State::Missing => "missing",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of [`Migrator::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The module.
    pub module: String,
    /// The migration's name.
    pub name: String,
    /// Its position in its module (0-based; for a [`State::Missing`] migration,
    /// the position it had when it was applied).
    pub order: u32,
    /// Applied, pending, drifted or missing.
    pub state: State,
    /// When it was applied (`None` when pending).
    pub applied_at: Option<DateTime<Utc>>,
    /// The checksum recorded when it was applied (`None` when pending; the
    /// current one is [`Migration::checksum`]).
    pub checksum: Option<String>,
    /// How long applying it took (`None` when pending).
    pub duration: Option<Duration>,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The migrations applied, in the order they were applied.
    pub applied: Vec<Applied>,
    /// The migrations rolled back, in the order they were rolled back (newest first).
    pub rolled_back: Vec<Applied>,
}

impl Report {
    /// True when the run neither applied nor rolled back anything.
    pub fn is_empty(&self) -> bool {
        self.applied.is_empty() && self.rolled_back.is_empty()
    }
}

/// One migration applied (or rolled back) by a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The module.
    pub module: String,
    /// The migration's name.
    pub name: String,
    /// How long it took.
    pub duration: Duration,
}

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Applying (`up`).
    Up,
    /// Rolling back (`down`).
    Down,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

/// What [`Migrator::on_progress`] callbacks receive, before and after each
/// migration of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress<'a> {
    /// A migration is about to run.
    Starting {
        /// The module.
        module: &'a str,
        /// The migration's name.
        name: &'a str,
        /// Its position in this run (0-based).
        index: usize,
        /// How many migrations this run applies (or rolls back).
        total: usize,
        /// Applying or rolling back.
        direction: Direction,
    },
    /// A migration ran successfully (and its tracking row is written or deleted).
    Finished {
        /// The module.
        module: &'a str,
        /// The migration's name.
        name: &'a str,
        /// How long it took.
        duration: Duration,
        /// Applying or rolling back.
        direction: Direction,
    },
}

type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// The registry of migrations and the runner.
///
/// Modules apply in registration order, and the migrations of a module in
/// their order. Module names must be unique (and contain no `/`), migration
/// names unique within their module; this is checked when a run starts
/// ([`Error::InvalidInput`]).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use dal::migrate::{Migration, Migrator, Module, Progress};
/// use dal::schema::script::Script;
/// use dal::{Db, Table};
///
/// let mut posts = Script::new();
/// posts.create_table(Table::build("posts", |t| { t.id(); t.text("body"); }));
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let migrator = Migrator::new()
///     .module(Module::new("blog").migration(Migration::new("0001_posts", posts)))
///     .table_name("schema_history")
///     .lock_timeout(Duration::from_secs(10))
///     .on_progress(move |p| {
///         if let Progress::Finished { module, name, .. } = p {
///             log.lock().unwrap().push(format!("{module}/{name}"));
///         }
///     });
/// assert_eq!(migrator.migrations().count(), 1);
///
/// let db = Db::connect_url("sqlite::memory:").await?;
/// migrator.up(&db).await?;
/// assert_eq!(*seen.lock().unwrap(), ["blog/0001_posts"]);
/// assert!(db.table_exists("schema_history").await?);
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Migrator {
    modules: Vec<Module>,
    table: String,
    lock_timeout: Duration,
    progress: Option<ProgressFn>,
}

impl fmt::Debug for Migrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrator")
            .field("modules", &self.modules)
            .field("table", &self.table)
            .field("lock_timeout", &self.lock_timeout)
            .field("on_progress", &self.progress.is_some())
            .finish()
    }
}

impl Default for Migrator {
    fn default() -> Self {
        Migrator::new()
    }
}

impl Migrator {
    /// An empty registry using the tracking table [`DEFAULT_TABLE`] and the
    /// lock timeout [`DEFAULT_LOCK_TIMEOUT`].
    pub fn new() -> Migrator {
        Migrator {
            modules: Vec::new(),
            table: DEFAULT_TABLE.to_string(),
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            progress: None,
        }
    }

    /// Register a module; modules apply in registration order.
    pub fn module(mut self, m: Module) -> Migrator {
        self.modules.push(m);
        self
    }

    /// Use another tracking table (a plain identifier; checked when a run starts).
    pub fn table_name(mut self, name: &str) -> Migrator {
        self.table = name.to_string();
        self
    }

    /// How long a run waits for the lock held by another run before failing
    /// with [`Error::MigrationLocked`] (default [`DEFAULT_LOCK_TIMEOUT`];
    /// MySQL / MariaDB round it up to whole seconds).
    pub fn lock_timeout(mut self, d: Duration) -> Migrator {
        self.lock_timeout = d;
        self
    }

    /// Call `f` before and after each migration of a run (for a progress bar).
    /// It runs on the task driving the run: keep it quick.
    pub fn on_progress(mut self, f: impl Fn(&Progress<'_>) + Send + Sync + 'static) -> Migrator {
        self.progress = Some(Arc::new(f));
        self
    }

    /// The tracking table's name.
    pub fn tracking_table(&self) -> &str {
        &self.table
    }

    /// The registered modules, in registration order.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// Every registered migration with its module, in the order they apply.
    pub fn migrations(&self) -> impl Iterator<Item = (&str, &Migration)> {
        self.modules
            .iter()
            .flat_map(|m| m.migrations.iter().map(move |g| (m.name.as_str(), g)))
    }

    /// Apply every pending migration, in order. Returns what was applied
    /// (nothing when everything already was).
    ///
    /// # Errors
    ///
    /// * [`Error::MigrationDrift`] when an applied migration's SQL changed
    ///   since: nothing is applied.
    /// * [`Error::Migration`] when a migration fails: the migrations before it
    ///   stay applied (and recorded); of the failed one nothing is kept on
    ///   PostgreSQL and SQLite, and on MySQL / MariaDB the error lists the
    ///   statements that took effect (the migration is not recorded).
    /// * [`Error::MigrationLocked`] when another run held the lock for longer
    ///   than the [lock timeout](Migrator::lock_timeout): nothing is applied.
    /// * [`Error::InvalidInput`] for an invalid registry (duplicate names, a
    ///   bad tracking table name); [`Error::Migration`] for a script that
    ///   cannot be written for the database's dialect. Nothing is applied.
    pub async fn up(&self, db: &Db) -> Result<Report> {
        runner::up(self, db, None).await
    }

    /// Apply the pending migrations up to and including `target`: either
    /// `"module/name"` or a `name` that only one module has. Pending
    /// migrations after it stay pending. An unknown or ambiguous target is
    /// [`Error::InvalidInput`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::migrate::{Migration, Migrator, Module, State};
    /// use dal::schema::script::Script;
    ///
    /// let step = |sql: &str| { let mut s = Script::new(); s.sql(sql); s };
    /// let migrator = Migrator::new().module(
    ///     Module::new("app")
    ///         .migration(Migration::new("one", step("CREATE TABLE [a] ([x] INTEGER)")))
    ///         .migration(Migration::new("two", step("CREATE TABLE [b] ([x] INTEGER)"))),
    /// );
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// migrator.up_to(&db, "app/one").await?;
    /// let states: Vec<State> = migrator.status(&db).await?.iter().map(|s| s.state).collect();
    /// assert_eq!(states, [State::Applied, State::Pending]);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn up_to(&self, db: &Db, target: &str) -> Result<Report> {
        runner::up(self, db, Some(target)).await
    }

    /// Roll back the last `n` applied migrations (fewer when fewer are applied),
    /// newest first, whatever their modules, by running their `down` scripts.
    ///
    /// Refused ([`Error::InvalidInput`], nothing rolled back) when one of them
    /// has no `down` script or is no longer registered, and, like
    /// [`up`](Migrator::up), with [`Error::MigrationDrift`] when an applied
    /// migration changed. A failing `down` script is reported like a failing
    /// `up` ([`Error::Migration`]); the migration then stays recorded as applied.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::migrate::{Migration, Migrator, Module};
    /// use dal::schema::script::Script;
    ///
    /// let step = |sql: &str| { let mut s = Script::new(); s.sql(sql); s };
    /// let migrator = Migrator::new().module(
    ///     Module::new("app")
    ///         .migration(Migration::new("one", step("CREATE TABLE [a] ([x] INTEGER)")).down(step("DROP TABLE [a]")))
    ///         .migration(Migration::new("two", step("INSERT INTO [a] VALUES (1)"))), // no down
    /// );
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// migrator.up(&db).await?;
    /// let refused = migrator.rollback(&db, 2).await.unwrap_err();
    /// assert!(refused.to_string().contains("app/two is irreversible"));
    /// assert!(db.table_exists("a").await?); // nothing was rolled back
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn rollback(&self, db: &Db, n: usize) -> Result<Report> {
        runner::rollback(self, db, n).await
    }

    /// Every registered migration (in order) with its state, followed by the
    /// applied migrations that are no longer registered ([`State::Missing`]).
    /// Reads only: takes no lock and creates nothing.
    pub async fn status(&self, db: &Db) -> Result<Vec<MigrationStatus>> {
        runner::status(self, db).await
    }

    /// Drop every table of the database (PostgreSQL: of the current schema,
    /// with `CASCADE`), the tracking table included, then apply every
    /// migration. Only with [`Fresh::Confirmed`]; [`Fresh::Refuse`] fails
    /// with [`Error::InvalidInput`] and changes nothing.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::migrate::{Fresh, Migration, Migrator, Module};
    /// use dal::schema::script::Script;
    ///
    /// let mut up = Script::new();
    /// up.sql("CREATE TABLE [a] ([x] INTEGER)");
    /// let migrator = Migrator::new().module(Module::new("app").migration(Migration::new("one", up)));
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// db.execute("CREATE TABLE [scratch] ([y] TEXT)", ()).await?;
    ///
    /// assert!(migrator.fresh(&db, Fresh::Refuse).await.is_err());
    /// assert!(db.table_exists("scratch").await?);
    ///
    /// let report = migrator.fresh(&db, Fresh::Confirmed).await?;
    /// assert_eq!(report.applied.len(), 1);
    /// assert!(!db.table_exists("scratch").await?);
    /// assert!(db.table_exists("a").await?);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn fresh(&self, db: &Db, confirm: Fresh) -> Result<Report> {
        runner::fresh(self, db, confirm).await
    }

    pub(crate) fn emit(&self, p: Progress<'_>) {
        if let Some(f) = &self.progress {
            f(&p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How a checksum is framed: lower-case hex SHA-256 of the statements
    /// joined by "\n" (UTF-8). NEVER CHANGE THIS without a migration plan: the
    /// tracking tables of deployed databases hold checksums made this way, and
    /// any other framing reports every applied migration as drifted. (Expected
    /// values computed independently; the DDL side is pinned by
    /// `checksums_are_pinned` in tests/migrations.rs.)
    #[test]
    fn checksum_framing_is_pinned() {
        assert_eq!(
            checksum_of(&[]),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            checksum_of(&[
                "CREATE TABLE \"a\" (\"x\" INTEGER)".to_string(),
                "DROP TABLE \"b\"".to_string()
            ]),
            "406b394a1a3b108af8484cfa00846ce4efc53007c6ff919a146b7090f46cfa55"
        );
        assert_eq!(
            checksum_of(&["SELECT 'é'".to_string()]),
            "d3294563d51ee68e13015d1c86c1829e4b28d91642986e3ddfddd12f1a4b6d34"
        );
        // an empty up script (a migration that only records itself)
        assert_eq!(
            Migration::new("m", Script::new())
                .checksum(Dialect::Postgres)
                .unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
