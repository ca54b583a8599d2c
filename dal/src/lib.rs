//! # dal
//!
//! A data-access layer for PostgreSQL, MySQL/MariaDB and SQLite: derive-based
//! entities, a compile-time-checked schema DSL, portable SQL, and a runtime that
//! survives production faults.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dal::{Db, Table};
//!
//! let db = Db::connect_url("sqlite::memory:").await?;
//! let notes = Table::build("notes", |t| {
//!     t.id();
//!     t.string("title", 200);
//!     t.boolean("done").default(false);
//! });
//! db.create_table(&notes).await?;
//! db.execute("INSERT INTO [notes] ([title]) VALUES (?)", ("write docs",)).await?;
//! let open: Vec<(i64, String)> = db
//!     .fetch_all_as("SELECT [id], [title] FROM [notes] WHERE [done] = ?", (false,))
//!     .await?;
//! assert_eq!(open, vec![(1, "write docs".to_string())]);
//! # Ok::<(), dal::Error>(()) }).unwrap();
//! ```
//!
//! The pieces:
//! - [`DatabaseConfig`]: URL, environment or builder; validated all at once.
//! - [`Db`]: the pool handle with `execute`, `fetch_*`, [`Db::query`] for per-call
//!   options, [`Db::begin`] / [`Db::transaction`] for transactions.
//! - [`Encode`] / [`Decode`] / [`FromRow`]: values in and out.
//! - [`dal_schema`] (re-exported as [`schema`](mod@schema)): blueprints, DDL, diff, portable SQL.
//! - [`schema!`]: the schema DSL, checked at compile time, building a [`schema::Script`].
//! - Live-schema introspection: [`Db::introspect`].
//! - [`migrate`]: migrations grouped by module, applied under a database-level lock,
//!   with a tracking table, drift detection, `up`, `rollback(n)`, `status` and `fresh`.
//! - [`blocking`]: the same API for synchronous programs ([`blocking::Db`] owns a
//!   small runtime; no `.await`, no async runtime of your own).
//! - [`autogen`]: write a migration from the difference between the entities'
//!   blueprints and a live database.
//! - `cli` (cargo feature `cli`, on by default): the `migrate` command line
//!   (`up`, `down`, `status`, `fresh`, `new`, `generate`) an application's
//!   migration binary runs with one call.
//! - [`macro@test`] and [`testing`]: `#[dal::test]` gives each test its own
//!   database (a PostgreSQL schema, a MariaDB database, an SQLite file),
//!   prepared by a migrator or `ensure_schema`, on one or several backends.
//!
//! # Cargo features
//!
//! Each backend is a feature, all on by default; turn off the ones you do not
//! use to compile only the drivers you need:
//!
//! | feature | backend | driver |
//! |---|---|---|
//! | `postgres` | PostgreSQL | tokio-postgres (TLS: rustls) |
//! | `mysql` | MySQL / MariaDB | mysql_async |
//! | `sqlite` | SQLite (bundled) | rusqlite |
//! | `cli` | the `migrate` command line ([`cli`]) | clap |
//!
//! ```toml
//! dal = { version = "0.1", default-features = false, features = ["postgres"] }
//! ```
//!
//! At least one backend must be on. Connecting to a URL whose backend was
//! left out fails with [`Error::Config`] ("dal was built without the
//! `postgres` feature; enable it in Cargo.toml"); the schema language, the
//! derive and portable SQL still produce SQL for every dialect.

#![warn(missing_docs)]
// A build with fewer backends leaves out the callers of what only those
// backends use (PostgreSQL's prepared-statement variants, COPY, ...); the
// default build, with every backend, still reports dead code.
#![cfg_attr(
    not(all(feature = "postgres", feature = "mysql", feature = "sqlite")),
    allow(dead_code)
)]

// the derive's generated code names `::dal`: unit tests deriving entities need it
#[cfg(test)]
extern crate self as dal;

pub mod autogen;
mod backend;
pub mod blocking;
mod cache;
mod checks;
#[cfg(feature = "cli")]
pub mod cli;
mod codec;
mod config;
mod db;
mod dialect_sql;
mod dynamic;
pub mod entity;
mod error;
pub mod hooks;
mod introspect;
pub mod migrate;
mod params;
mod pool;
mod resilience;
mod result;
mod routing;
mod row;
mod schema_ops;
mod sequence;
pub mod shard;
mod shard_key;
mod statement;
mod telemetry;
pub mod testing;
mod transaction;
mod value;

#[cfg(test)]
mod workspace_tests;

pub use cache::{CacheConfig, CacheStats};
pub use checks::JSON_MAX_DEPTH;
pub use codec::{Arguments, ArrayElement, Decode, Encode, Json, SqlKind, ValueRef};
pub use config::{
    BreakerPolicy, DatabaseConfig, DatabaseConfigBuilder, PoolOptions, RetryPolicy, SqliteMode,
    Timeouts, TlsMode, UnknownTlsMode,
};
pub use db::{CallOptions, Db, Query};
pub use dynamic::{Dynamic, DynamicField, DynamicFind, DynamicVersion, FieldKind, SaveOptions};
pub use entity::{
    Anywhere, Expr, Here, InScope, JoinOn, JoinQuery, JoinRelation, JoinVia, Joined, Named, NullIn,
    On, Ordering, Projection, Root, Scalar, Select, Single, Sorted, Summable, There,
};
pub use entity::{
    ArrayValue, Assignment, Audit, BelongsTo, Col, ColumnValue, Columns, Cond, Entity, EntityId,
    Executor, Find, FindWith, HasMany, HasOne, HistoryEntry, Hooks, IdKind, Include, Loaded,
    ManyToMany, NotNull, Nullability, Nullable, OnConflict, Operation, Order, Related,
    SchemaReport, SqlType, TimestampField, Tracked, UpdateById, Upsert, With,
};
pub use error::{ConfigErrors, ConfigProblem, ConstraintKind, Error, Result, TimeoutKind};
pub use params::Params;
pub use pool::{HeldConnection, PoolStatus};
pub use resilience::breaker::BreakerState;
pub use result::ExecResult;
pub use row::{ColumnIndex, FromRow, Row};
pub use shard::{MoveReport, ShardKey, ShardMap, ShardedFind, Shards, ShardsBuilder, SlotMove};
pub use telemetry::stats::{ErrorKind, Health, ScalingAdvice, Stats};
pub use transaction::{BoxFuture, Transaction};
pub use value::Value;

/// The pure schema crate ([`dal_schema`]): blueprints, DDL, diff, validation,
/// portable SQL; plus [`Script`](schema::Script), what [`schema!`] builds.
pub mod schema {
    #[doc(inline)]
    pub use dal_schema::script::{Script, ScriptError, Step};
    #[doc(inline)]
    pub use dal_schema::*;
}
pub use dal_schema::{Column, ColumnType, DefaultValue, Dialect, ReferentialAction, Schema, Table};

pub use dal_macros::{Entity, FromRow};

/// Run an async test on a database of its own: a temporary SQLite file, a
/// fresh PostgreSQL schema or a fresh MariaDB/MySQL database, removed after
/// the test passes and kept (its name and URL printed) after it fails.
///
/// ```no_run
/// use dal::{Db, Entity};
///
/// #[derive(Entity, Debug, Clone)]
/// struct User {
///     #[dal(id)]
///     id: i64,
///     name: String,
/// }
///
/// // SQLite only (the default): a plain `#[test] fn saves()`
/// #[dal::test(entities(User))]
/// async fn saves(db: Db) -> dal::Result<()> {
///     User { id: 0, name: "Ada".into() }.save(&db).await?;
///     assert_eq!(User::find().count(&db).await?, 1);
///     Ok(())
/// }
///
/// // the same body on three backends: tests `everywhere::sqlite`,
/// // `everywhere::postgres` and `everywhere::mysql`
/// #[dal::test(backends(sqlite, postgres, mysql), entities(User))]
/// async fn everywhere(db: Db) {
///     assert_eq!(User::find().count(&db).await.unwrap(), 0);
/// }
/// # fn main() {}
/// ```
///
/// The function is `async`, takes one argument and returns `()` or
/// `Result<(), E>` with `E: Debug` (an `Err` fails the test). The argument is
/// a [`Db`] (the pool on the test's database) or a [`testing::TestDatabase`]
/// (the pool, dereferencing to [`Db`], with the database's URL, name and test
/// name: for tests that open connections of their own).
///
/// Options, all optional:
///
/// | Option | Meaning |
/// |---|---|
/// | `backends(sqlite, postgres, mysql)` | the backends to run on (`postgresql`/`pg` and `mariadb` are aliases); default `sqlite` |
/// | `migrator = expr` | a [`migrate::Migrator`] applied with `up` before the body |
/// | `entities(A, B)` | `ensure_schema` for each entity, in order, after the migrator |
/// | `flavor = "multi_thread"` | the tokio runtime (`"current_thread"` by default, as `#[tokio::test]`) |
/// | `worker_threads = N` | worker threads of a multi-threaded runtime (implies `multi_thread`) |
///
/// **Expansion.** With one backend the function becomes a `#[test] fn` of the
/// same name. With several, it becomes a module of the same name holding one
/// `#[test] fn` per backend (`name::sqlite`, `name::postgres`, `name::mysql`:
/// `cargo test name` runs them all, `cargo test ::postgres` one backend), and
/// a plain function `name(Dialect)` they call; such a function must be an
/// item of a module, not of a function body. `#[ignore]` and
/// `#[should_panic]` go on each test; a test expected to panic has its
/// database removed when it does. Each test builds a [`testing::TestRun`]
/// and runs the body on a tokio runtime of its own.
///
/// **Servers.** `DAL_TEST_POSTGRES_URL` and `DAL_TEST_MYSQL_URL` name them,
/// defaulting to `postgres://postgres@127.0.0.1:5432/postgres` and
/// `mysql://root@127.0.0.1:3306/test`. When a server does not answer, its
/// tests print `SKIPPED: …` and pass; `DAL_TEST_REQUIRE_SERVERS=1` makes that
/// a failure. See [`testing`] for the details and for running a test body
/// without the attribute.
///
/// Misuse is a compile error in dal's words: a function that is not `async`,
/// has no or several arguments, takes something other than a database
/// handle, returns something other than `()` or a `Result`, an unknown
/// option or backend, or a backend listed twice.
pub use dal_macros::test;

/// Store a fieldless Rust enum in a column: `#[derive(DbEnum)]` makes it a
/// field type of entities ([`SqlType`], [`Encode`], [`Decode`]), and its
/// column handles take typed filters (`Task::STATUS.eq(Status::Open)`,
/// `.in_list([..])`).
///
/// Each variant is stored as text under a name: its own name in snake_case
/// by default, or as `#[dal(rename_all = "...")]` on the enum says
/// (`snake_case`, `SCREAMING_SNAKE_CASE`, `kebab-case`, `lowercase`,
/// `UPPERCASE`, `camelCase`, `PascalCase`), or `#[dal(rename = "...")]` on a
/// variant. The column is an enumeration of those names: a native
/// `ENUM(..)` on MariaDB/MySQL, a `VARCHAR(255)` with a `CHECK` listing them
/// on PostgreSQL and SQLite, so the database refuses any other value. A
/// value read back that has no variant (one removed from the code while rows
/// still hold it, or written around dal) is an [`Error::Decode`] naming the
/// value, the enum and the names it accepts; nothing panics.
///
/// The derive also gives the enum `VARIANTS` (the stored names),
/// `as_str()` and `from_stored(name)`. Variants carrying data, generic
/// enums, empty enums and two variants under one name are compile errors.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::{DbEnum, Entity};
///
/// #[derive(DbEnum, Debug, Clone, Copy, PartialEq)]
/// enum Status {
///     Open,
///     InProgress,                     // stored as "in_progress"
///     #[dal(rename = "closed")]
///     Done,
/// }
///
/// #[derive(Entity, Debug, Clone)]
/// #[dal(table = "tickets")]
/// struct Ticket {
///     #[dal(id)]
///     id: i64,
///     status: Status,
///     previous: Option<Status>,
/// }
///
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// Ticket::ensure_schema(&db).await?;
/// let mut t = Ticket { id: 0, status: Status::InProgress, previous: Some(Status::Open) };
/// t.save(&db).await?;
/// let busy = Ticket::find().filter(Ticket::STATUS.eq(Status::InProgress)).all(&db).await?;
/// assert_eq!(busy[0].previous, Some(Status::Open));
/// assert_eq!(Status::Done.as_str(), "closed");
/// assert_eq!(Status::VARIANTS, ["open", "in_progress", "closed"]);
///
/// // the database itself refuses a name that is not a variant
/// let err = db.execute("UPDATE [tickets] SET [status] = 'lost'", ()).await.unwrap_err();
/// assert!(matches!(err, dal::Error::ConstraintViolation { .. }));
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub use dal_macros::DbEnum;

/// Build a [`schema::Script`] from the schema DSL, checked at compile time.
///
/// `schema! { ... }` is an expression evaluating to a [`schema::Script`]: the
/// ordered steps of a schema change, typed DDL statements
/// ([`schema::ddl::DdlStatement`]) or raw portable SQL, written for any dialect by
/// [`Script::to_sql`](schema::Script::to_sql). Tables are built with the fluent
/// builder ([`Table::build`]), so column types, defaults and generated index and
/// constraint names are exactly the builder's. The macro never touches a
/// database, and the generated code needs no imports.
///
/// ```
/// use dal::Dialect;
///
/// let script = dal::schema! {
///     create users {
///         id();
///         string(email, 150).unique();
///         boolean(active).default(true);
///         enumeration(role, ["admin", "user"]).default("user");
///         timestamps();
///         soft_deletes();
///     }
///     create posts {
///         id();
///         foreign_id(user_id).references(users).on_delete(cascade);
///         string(title);
///         index(title);
///     }
///     alter users { add string(nick, 40).nullable(); add_index(nick); }
///     rename posts to articles;
///     drop articles;
/// };
/// let sql = script.to_sql(Dialect::Postgres)?;
/// assert!(sql[0].starts_with("CREATE TABLE \"users\" (\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY"));
/// assert!(sql.contains(&"CREATE INDEX \"users_nick_index\" ON \"users\" (\"nick\")".to_string()));
/// assert_eq!(sql.last().unwrap(), "DROP TABLE \"articles\"");
///
/// // the same script runs on every backend
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// for statement in script.to_sql(db.dialect())? {
///     db.execute_script(&statement).await?;
/// }
/// assert!(db.table_exists("users").await? && !db.table_exists("articles").await?);
/// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Grammar
///
/// Statements, in order, each adding steps:
///
/// | Statement | Steps |
/// |---|---|
/// | `create <table> { <table item>; ... }` | `CreateTable` (its indexes included) |
/// | `alter <table> { <alter item>; ... }` | one or more per item, below |
/// | `drop <table>;` | `DropTable { if_exists: false }` |
/// | `drop_if_exists <table>;` | `DropTable { if_exists: true }` |
/// | `rename <table> to <new>;` | `RenameTable` |
/// | `sql("portable SQL");` | [`Step::Sql`](schema::Step::Sql): `[name]` quoting, no parameters |
///
/// Table items (the [`TableBuilder`](schema::TableBuilder) methods, same names and defaults):
///
/// - columns: `id()`, `id(name)`, `uuid_id()`, `uuid_id(name)` (primary keys:
///   an auto-increment big integer, or a UUID); `string(col, LEN)` (`LEN` optional,
///   255 by default), `text(col)`, `small_integer(col)`, `integer(col)`,
///   `big_integer(col)`, `unsigned_integer(col)` (`INT UNSIGNED` on the MySQL
///   family, a `BIGINT` checked to `0..=4294967295` elsewhere),
///   `unsigned_big_integer(col)` (`BIGINT UNSIGNED` on the
///   MySQL family, a `BIGINT` with a `>= 0` check elsewhere), `boolean(col)`, `float(col)`, `double(col)`,
///   `decimal(col, PRECISION, SCALE)`, `date(col)`, `time(col)`, `timestamp(col)`,
///   `timestamp_tz(col)`, `uuid(col)`, `json(col)`, `binary(col)`,
///   `enumeration(col, ["a", "b"])`, `foreign_id(col)` (a big integer),
///   `foreign_uuid(col)`;
/// - `timestamps()` (`created_at`, `updated_at`), `soft_deletes()` (`deleted_at`),
///   `without_rowid()`;
/// - `history()`: keep every version of the rows, as an entity with
///   `#[dal(history)]` does: the hidden audit columns are appended to the
///   table, then its history table and triggers are created for the dialect
///   the script runs on ([`HistoryAction::Add`](schema::script::HistoryAction::Add));
///   the table needs a one-column primary key;
/// - `primary(a, b)`, `index(a, b)`, `unique_index(a, b)`,
///   `index_named("name", a, b)`, `unique_index_named("name", a, b)`;
/// - `check("portable SQL expression")`, `check_named("name", "expression")`.
///
/// Column modifiers, chained on a column: `.nullable()`, `.default(<literal>)`,
/// `.use_current()`, `.unique()`, `.index()`, `.auto_increment()`, `.primary()`,
/// `.references(table)` (to `table.id`), `.references(table, column)`,
/// `.on_delete(<action>)`, `.on_update(<action>)`, `.named("fk_name")`,
/// `.external()`; where `<action>` is one of `cascade`, `set_null`, `restrict`,
/// `no_action`, `set_default`, and `<literal>` is an integer, a float, a string,
/// `true`/`false` or `null`. The foreign-key modifiers need `.references(..)`.
///
/// Alter items:
///
/// | Item | Steps |
/// |---|---|
/// | `add <column definition with modifiers>;` | `AddColumn`, then `CreateIndex` for `.index()`, `AddForeignKey` for `.references(..)` |
/// | `drop_column(col);` | `DropColumn` |
/// | `rename_column(from, to);` | `RenameColumn` |
/// | `add_index(a, b);`, `add_unique_index(a, b);`, `add_index_named("name", a, b);` | `CreateIndex` |
/// | `drop_index(name);` or `drop_index("name");` | `DropIndex` |
/// | `add_check("name", "expression");` | `AddCheck` |
/// | `drop_check(name);` | `DropCheck` |
/// | `drop_foreign(col);` (the key on that column) or `drop_foreign("fk_name");` | `DropForeignKey` |
/// | `add_history();` | [`Step::History`](schema::Step::History): audit columns, history table, triggers ([`HistoryAction::Add`](schema::script::HistoryAction::Add)) |
/// | `refresh_history();` | `Step::History`: the history table gains the table's new columns, the triggers are written again ([`HistoryAction::Refresh`](schema::script::HistoryAction::Refresh)) |
/// | `drop_history();` | `Step::History`: triggers, history table and audit columns dropped ([`HistoryAction::Drop`](schema::script::HistoryAction::Drop)) |
///
/// Names are Rust identifiers (keywords and `r#` raw identifiers too), or string
/// literals (`"like this"`) where a name is not a Rust identifier; either way they
/// must be portable SQL identifiers ([`schema::is_valid_identifier`]). The `;`
/// after the last item of a block, and after a `}`, may be left out.
///
/// # Checked at compile time
///
/// Every problem is reported, each on the token that is wrong, with the valid
/// names or the closest one ("did you mean `string`?"):
///
/// - unknown statements, column types, modifiers, alter items and referential
///   actions; wrong argument counts; modifiers on items that are not columns;
/// - identifiers that are not portable SQL identifiers or are longer than 63 bytes;
/// - a table created twice, a column declared twice (also by `timestamps()`,
///   `soft_deletes()` or `history()`), a primary key declared twice;
/// - `history()` given twice, on a table without a one-column primary key, or
///   whose history table name is taken; `add_history()` on a table that keeps a
///   history above, `refresh_history()` or `drop_history()` on one that does not;
/// - a string length of 0 or above [`schema::MAX_STRING_LENGTH`], a decimal
///   precision outside 1..=65 or a scale above the precision or 30, an
///   enumeration without variants or with a repeated one;
/// - a default of the wrong type for the column, an enumeration default that is
///   not one of the variants, a string default longer than the column;
/// - index, unique index and primary-key columns that the table does not have;
/// - a foreign key to a table or column not created above in the same `schema!`
///   (unless marked `.external()`), of another type, or to a column that is not
///   unique;
/// - for a table created above: adding a column it has, dropping or renaming a
///   column, index, check or foreign key it does not have, dropping a column an
///   index, key or foreign key still uses; altering, dropping or renaming a table
///   dropped or renamed above; dropping a table another one references;
/// - raw SQL that is not portable SQL or has parameters;
/// - and everything [`schema::validate_table`], the validator the runtime uses,
///   finds in each created table.
///
/// A table not created in the same `schema!` exists elsewhere (so does one
/// created by a `sql(..)` step): its alters are checked only for names, and a
/// foreign key to it is marked `.external()`.
///
/// ```compile_fail
/// let script = dal::schema! {
///     create users { id(); strng(email); }  // unknown column type `strng`: did you mean `string`?
/// };
/// ```
///
/// # Dialect limits
///
/// SQLite cannot add or drop a foreign key or a check on an existing table: a
/// script with such a step fails in `to_sql(Dialect::Sqlite)` with a
/// [`schema::ScriptError`] saying so (rebuild the table with
/// [`DdlStatement::RebuildTable`](schema::ddl::DdlStatement::RebuildTable)
/// instead). SQLite also refuses to add a `NOT NULL` column without a default and
/// a column whose default is not a constant (`.use_current()`). MySQL and
/// MariaDB commit each DDL statement implicitly, so a failing script may stop
/// half-way there.
pub use dal_macros::schema;

/// Items the macros' generated code refers to. Not public API: no stability promise.
#[doc(hidden)]
pub mod __private {
    /// What `#[dal::test]` expands to names.
    pub mod testing {
        pub use crate::Dialect;
        pub use crate::testing::{
            __outcome as outcome, __test_name as test_name, TestArgument, TestDatabase, TestRun,
        };
    }
    pub use crate::codec::{Arguments, Decode, Encode, Json, SqlKind, ValueRef};
    pub use crate::entity::{
        Col, Entity, EntityColumnInfo, EntityId, EntityInfo, EntitySqlText, IdKind, NotNull,
        Nullable, SqlType, TimestampField,
    };
    pub use chrono::{DateTime, Utc};

    /// Compile-time check that a field's type can be stored.
    pub fn assert_sql_type<T: SqlType>() {}
    /// Read a column into a field (requiring `SqlType`, so an unsupported field
    /// type is reported in dal's words), from a borrowed row or one the
    /// decoder owns (see [`FieldSource`]).
    pub fn decode_field<T: SqlType, S: FieldSource>(
        row: &mut S,
        hint: usize,
        column: &str,
    ) -> Result<T> {
        row.read::<T>(hint, column)
    }
    /// Where an entity's fields are read from: a borrowed row, or a row the
    /// decoder owns, whose values can be moved out instead of copied (text
    /// from MySQL).
    pub trait FieldSource {
        /// Column `name` (looked for at position `hint` first) as `T`.
        fn read<T: Decode>(&mut self, hint: usize, name: &str) -> Result<T>;
        /// The row, for reads that only borrow.
        fn row(&self) -> &Row<'_>;
    }
    impl FieldSource for &Row<'_> {
        fn read<T: Decode>(&mut self, hint: usize, name: &str) -> Result<T> {
            self.get_hinted::<T>(hint, name)
        }
        fn row(&self) -> &Row<'_> {
            self
        }
    }
    impl FieldSource for Row<'static> {
        fn read<T: Decode>(&mut self, hint: usize, name: &str) -> Result<T> {
            T::__take(self, hint, name)
        }
        fn row(&self) -> &Row<'_> {
            self
        }
    }
    /// Bind a field (requiring `SqlType`, see `decode_field`); a value the
    /// dialect cannot store is an invalid-input error naming the column.
    pub fn encode_field<'q, T: SqlType>(
        value: &'q T,
        out: &mut Arguments<'q>,
        column: &str,
    ) -> Result<()> {
        value.encode(out).map_err(|e| match e {
            Error::InvalidInput { reason, .. } => Error::InvalidInput {
                field: column.to_string(),
                reason,
            },
            other => other,
        })
    }
    /// Name the column in an [`Error::InvalidInput`] raised while its value was
    /// encoded (the codecs say "json parameter", "float parameter", ...).
    pub fn field_error(e: Error, column: &str) -> Error {
        match e {
            Error::InvalidInput { field, reason } if field.ends_with("parameter") => {
                Error::InvalidInput {
                    field: column.to_string(),
                    reason,
                }
            }
            other => other,
        }
    }
    /// Compile-time check that a field's type can be a primary key.
    pub fn assert_entity_id<T: EntityId>() {}
    /// An entity as the read cache keeps it (`#[dal(cache)]` needs
    /// `serde::Serialize`).
    pub fn cache_encode<T: serde::Serialize>(value: &T) -> Option<Vec<u8>> {
        serde_json::to_vec(value).ok()
    }
    /// An entity back from the read cache (`#[dal(cache)]` needs
    /// `serde::Deserialize`).
    pub fn cache_decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
        serde_json::from_slice(bytes).ok()
    }
    /// Compile-time check that a relation points at an entity.
    pub fn assert_relation_target<T: crate::entity::RelationTarget>() {}
    pub use crate::entity::{BelongsTo, Executor, Find, HasMany, HasOne, ManyToMany, RelationKey};
    /// Compile-time check that a field can hold a managed timestamp.
    pub fn assert_timestamp<T: TimestampField>() {}
    pub use crate::entity::Hooks;
    pub use crate::error::{Error, Result};
    pub use crate::row::{FromRow, Row};
    pub use crate::transaction::{BoxFuture, Transaction};
    pub use crate::value::Value;
    pub use dal_schema::entity::ColumnRole;
    pub use dal_schema::{
        Column, ColumnType, DefaultValue, ForeignKey, Index, ReferentialAction, Table,
    };
    pub use std::sync::OnceLock;

    // `Entity::blueprint`: one call per column, index and key, compiled once
    // here instead of inlined into every entity of the user's crate

    /// Add a column to an entity's blueprint.
    #[inline(never)]
    pub fn bp_column(
        t: &mut Table,
        name: &'static str,
        ty: ColumnType,
        nullable: bool,
        default: Option<DefaultValue>,
        unique: bool,
        auto_increment: bool,
    ) {
        t.columns.push(Column {
            name: name.to_string(),
            ty,
            nullable,
            default,
            unique,
            auto_increment,
        });
    }
    /// Add a one-column, non-unique index to an entity's blueprint.
    #[inline(never)]
    pub fn bp_index(t: &mut Table, name: &'static str, column: &'static str) {
        t.indexes.push(Index {
            name: name.to_string(),
            columns: vec![column.to_string()],
            unique: false,
        });
    }
    /// Add a one-column foreign key to an entity's blueprint.
    #[inline(never)]
    pub fn bp_foreign_key(
        t: &mut Table,
        name: &'static str,
        column: &'static str,
        references: (&'static str, &'static str),
        on_delete: ReferentialAction,
        on_update: ReferentialAction,
    ) {
        t.foreign_keys.push(ForeignKey {
            name: name.to_string(),
            columns: vec![column.to_string()],
            references_table: references.0.to_string(),
            references_columns: vec![references.1.to_string()],
            on_delete,
            on_update,
            external: true,
        });
    }

    // `schema!`
    pub use dal_schema::TableBuilder;
    pub use dal_schema::script::Script;
}

/// The README's Rust snippets, compiled and run as doctests. Each is a
/// whole program as written (no hidden lines: what a reader copies runs);
/// the ones that need a server are `no_run`: compiled, not run.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
