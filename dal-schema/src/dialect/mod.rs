//! SQL dialects: what each supported server can do (as data) and how it spells
//! identifiers, placeholders and column types (one module per dialect).

mod mysql;
mod normalize;
mod postgres;
mod sqlite;

use std::fmt;
use std::str::FromStr;

use crate::model::{ColumnType, DefaultValue};

pub use mysql::MySqlDialect;
pub use postgres::PostgresDialect;
pub use sqlite::SqliteDialect;

/// The SQL dialects dal speaks.
///
/// `MySql` covers the MySQL family. MariaDB 10.11 is the server dal is tested on;
/// where MySQL 8 behaves differently the documentation of the affected item says so.
///
/// ```
/// use dal_schema::Dialect;
/// let d: Dialect = "mariadb".parse().unwrap();
/// assert_eq!(d, Dialect::MySql);
/// assert_eq!(Dialect::Postgres.quote_identifier("user"), "\"user\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// PostgreSQL (tested on 15).
    Postgres,
    /// MySQL and MariaDB (tested on MariaDB 10.11).
    MySql,
    /// SQLite 3 (bundled, 3.35 or newer).
    Sqlite,
}

/// How a dialect writes "insert, or update when the key exists".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertStyle {
    /// `INSERT .. ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col` (PostgreSQL, SQLite).
    OnConflict,
    /// `INSERT .. ON DUPLICATE KEY UPDATE col = VALUES(col)` (MySQL family).
    OnDuplicateKey,
}

/// What a dialect can do, as data, so callers ask instead of matching on the dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// `INSERT/UPDATE/DELETE .. RETURNING` is available.
    ///
    /// MariaDB 10.5+ supports `RETURNING` on INSERT and DELETE only (not UPDATE);
    /// MySQL 8 supports none, so dal treats the MySQL family as lacking it and uses
    /// the last-insert id from the OK packet instead.
    pub returning: bool,
    /// DDL statements take part in transactions (and roll back with them).
    pub transactional_ddl: bool,
    /// The server has an inline `ENUM(...)` column type. Where it does not, an
    /// enumeration column is a string column with a `CHECK (col IN (..))` constraint.
    pub native_enum: bool,
    /// The server has a native UUID column type used by dal.
    pub native_uuid: bool,
    /// Has an unsigned 64-bit integer type (`BIGINT UNSIGNED`). Without one,
    /// [`ColumnType::UnsignedBigInteger`] is a `BIGINT` with a `>= 0` check and
    /// holds `0..=i64::MAX`.
    pub unsigned_integers: bool,
    /// Largest number of bind parameters one statement may carry.
    pub max_bind_params: usize,
    /// How an upsert is written.
    pub upsert: UpsertStyle,
    /// Longest identifier the server takes as written: 63 bytes on PostgreSQL (which
    /// silently truncates longer names), 64 characters on the MySQL family (which
    /// refuses longer ones); `usize::MAX` on SQLite, which has no limit. Portable SQL
    /// translation refuses longer identifiers
    /// ([`TranslateErrorKind::IdentifierTooLong`](crate::sql::TranslateErrorKind::IdentifierTooLong)).
    pub max_identifier_len: usize,
    /// `ALTER TABLE .. ALTER COLUMN` (type, nullability, default) is supported in place.
    pub alter_column: bool,
    /// Foreign keys can be added to an existing table with `ALTER TABLE`.
    pub alter_add_foreign_key: bool,
    /// `CREATE INDEX IF NOT EXISTS` / `DROP INDEX IF EXISTS` are understood.
    pub index_if_not_exists: bool,
    /// Savepoints (nested transactions) are available.
    pub savepoints: bool,
    /// Array parameters (`UNNEST($1::int8[])`) can be bound.
    pub array_params: bool,
    /// Row locking clauses `FOR UPDATE` / `SKIP LOCKED` are understood.
    pub row_locking: bool,
    /// Which floats a floating-point column stores and reads back unchanged.
    pub floats: FloatStorage,

    // ---- What the runtime's transactions, telemetry and entity writes ask ----
    /// The server's `db.system` name in OpenTelemetry's conventions
    /// (`postgresql`, `mysql`, `sqlite`).
    pub otel_system: &'static str,
    /// A failed statement aborts the whole enclosing transaction (PostgreSQL:
    /// "current transaction is aborted"), so a savepoint around one unit of
    /// work inside a caller's transaction cannot save the rest of it.
    pub failed_statement_aborts_transaction: bool,
    /// An upsert can report whether it inserted or updated the row in the
    /// same statement (PostgreSQL's `RETURNING (xmax = 0)`).
    pub upsert_reports_insert: bool,
    /// How the ids a server generates for an `INSERT` come back.
    pub generated_ids: GeneratedIds,
    /// Bulk loading with `COPY .. FROM STDIN` is available.
    pub copy_in: bool,
    /// Sequences behind generated keys stay where they are when rows are
    /// inserted with explicit ids (PostgreSQL identity and serial columns), so
    /// a writer of explicit ids must move them forward itself. MySQL's
    /// auto-increment counter and SQLite's `AUTOINCREMENT` follow on their own.
    pub sequence_lags_explicit_ids: bool,

    // -- asked by dynamic (schemaless) entities, dal/src/dynamic --
    /// `ALTER TABLE .. ADD COLUMN IF NOT EXISTS` is understood. PostgreSQL has
    /// it; SQLite and MySQL 8 do not. MariaDB does, but the MySQL family is one
    /// dialect here, so it is `false` there (dal checks the live columns and
    /// tolerates "duplicate column" instead).
    pub add_column_if_not_exists: bool,
    /// Text (and text inside JSON) may contain U+0000. PostgreSQL refuses it in
    /// `text` and `jsonb` values.
    pub nul_in_text: bool,
    /// The `LIMIT` clause that means "no limit", written before an `OFFSET`
    /// that comes without a limit: the MySQL family and SQLite require a
    /// `LIMIT` there; `None` where `OFFSET` may stand alone (PostgreSQL).
    pub limit_all: Option<&'static str>,
}

/// How the ids a server generates for an `INSERT` come back
/// ([`Capabilities::generated_ids`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeneratedIds {
    /// From `INSERT .. RETURNING`, one row per inserted row (PostgreSQL).
    Returning,
    /// As the last-insert id of the OK packet, which is the id of the first
    /// row of a multi-row insert (MySQL family; MariaDB 10.5+ can also return
    /// them with `RETURNING`).
    FirstInsertId,
    /// As the last-insert id, which is the id of the last row of a multi-row
    /// insert (SQLite's `last_insert_rowid()`).
    LastInsertId,
}

/// Which IEEE 754 values a dialect's floating-point columns store and read back
/// unchanged (every dialect keeps the finite non-zero ones): data, so the runtime
/// refuses a value up front instead of asking which server it talks to.
///
/// ```
/// use dal_schema::Dialect;
/// let pg = Dialect::Postgres.capabilities().floats;
/// assert!(pg.nan && pg.infinity && pg.negative_zero);
/// let sqlite = Dialect::Sqlite.capabilities().floats;
/// assert!(!sqlite.nan && sqlite.infinity && !sqlite.negative_zero);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FloatStorage {
    /// NaN is kept (SQLite stores it as NULL; the MySQL family refuses it).
    pub nan: bool,
    /// Positive and negative infinity are kept (the MySQL family refuses them).
    pub infinity: bool,
    /// `-0.0` reads back as `-0.0`, not `0.0`.
    pub negative_zero: bool,
}

/// Statements the runtime sends on its own behalf (not built from a
/// blueprint), spelled for one dialect: data, like [`Capabilities`].
///
/// ```
/// use dal_schema::Dialect;
/// assert_eq!(Dialect::Sqlite.runtime_sql().begin_write, "BEGIN IMMEDIATE");
/// assert_eq!(Dialect::Postgres.runtime_sql().begin_write, "BEGIN");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeSql {
    /// Opens a transaction that will write: on SQLite `BEGIN IMMEDIATE`, which
    /// takes the write lock at once (a deferred transaction that reads first
    /// could not upgrade its lock later), `START TRANSACTION` on the MySQL
    /// family, `BEGIN` on PostgreSQL. Every transaction dal opens starts with it.
    pub begin_write: &'static str,
    /// Counts the tables named by its one parameter in the current schema
    /// (PostgreSQL), database (MySQL family) or `main` database (SQLite): one
    /// row, one `COUNT(*)` column.
    pub table_exists: &'static str,
    /// Serialises schema changes of dynamic entities until the end of the
    /// current transaction, where one is needed. PostgreSQL takes a
    /// transaction-scoped advisory lock per schema (released with the
    /// transaction whatever happens, and avoiding the catalog races of concurrent
    /// `CREATE TABLE IF NOT EXISTS`); SQLite's `BEGIN IMMEDIATE` already holds the
    /// write lock; the MySQL family commits DDL implicitly, so there is no
    /// transaction to hold a lock in and every step is idempotent instead.
    pub dynamic_schema_lock: Option<&'static str>,
    /// Lists the base tables of the current schema / database that a reset
    /// drops (one `name` column, sorted), leaving out the tables that are not
    /// the application's: a PostgreSQL extension's, SQLite's own `sqlite_*`.
    pub list_tables: &'static str,
    /// How every table is dropped at once, whatever references what.
    pub drop_tables: DropTables,
}

/// How a dialect drops a set of tables that may reference each other
/// (the tables' quoted names joined by `, `).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropTables {
    /// One `DROP TABLE IF EXISTS a, b CASCADE` (PostgreSQL).
    Cascade,
    /// One `DROP TABLE IF EXISTS a, b` between `off` and `on`, which turn
    /// foreign-key checks off and on again for the session (MySQL family).
    WithoutForeignKeyChecks {
        /// Turns the session's foreign-key checks off.
        off: &'static str,
        /// Turns them on again (also after a failed drop).
        on: &'static str,
    },
    /// One `DROP TABLE IF EXISTS a` per table, in name order (SQLite).
    OneByOne,
}

impl Dialect {
    /// All dialects, in a fixed order (useful for generating per-dialect constants).
    pub const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite];

    /// The dialect's SQL writer: quoting, placeholders, type names.
    pub fn writer(self) -> &'static dyn SqlDialect {
        match self {
            Dialect::Postgres => &PostgresDialect,
            Dialect::MySql => &MySqlDialect,
            Dialect::Sqlite => &SqliteDialect,
        }
    }

    /// What the dialect can do.
    pub fn capabilities(self) -> &'static Capabilities {
        self.writer().capabilities()
    }

    /// The statements the runtime sends on its own behalf in this dialect.
    pub fn runtime_sql(self) -> &'static RuntimeSql {
        match self {
            Dialect::Postgres => &postgres::RUNTIME_SQL,
            Dialect::MySql => &mysql::RUNTIME_SQL,
            Dialect::Sqlite => &sqlite::RUNTIME_SQL,
        }
    }

    /// The server's name as messages print it: `PostgreSQL`, `MySQL/MariaDB`,
    /// `SQLite`.
    pub fn display_name(self) -> &'static str {
        match self {
            Dialect::Postgres => "PostgreSQL",
            Dialect::MySql => "MySQL/MariaDB",
            Dialect::Sqlite => "SQLite",
        }
    }

    /// The canonical lower-case name (`postgres`, `mysql`, `sqlite`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::MySql => "mysql",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Quote an identifier for this dialect, doubling any embedded quote character.
    pub fn quote_identifier(self, ident: &str) -> String {
        let mut out = String::with_capacity(ident.len() + 2);
        self.writer().push_identifier(&mut out, ident);
        out
    }

    /// Append the placeholder for the 1-based parameter `index` (`$1` or `?`).
    pub fn push_placeholder(self, out: &mut String, index: usize) {
        self.writer().push_placeholder(out, index);
    }

    /// The length of `ident` in the unit [`Capabilities::max_identifier_len`] counts
    /// for this dialect: characters on the MySQL family, bytes elsewhere.
    pub(crate) fn identifier_len(self, ident: &str) -> usize {
        match self {
            Dialect::MySql => ident.chars().count(),
            Dialect::Postgres | Dialect::Sqlite => ident.len(),
        }
    }

    /// The unit of [`Capabilities::max_identifier_len`] for this dialect, in words.
    pub(crate) fn identifier_len_unit(self) -> &'static str {
        match self {
            Dialect::MySql => "characters",
            Dialect::Postgres | Dialect::Sqlite => "bytes",
        }
    }

    /// The SQL type name the dialect uses for a column type.
    pub fn column_type_sql(self, ty: &ColumnType) -> String {
        self.writer().column_type(ty)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error returned when a dialect name is not recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownDialect(pub String);

impl fmt::Display for UnknownDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown database engine `{}` (expected one of: postgres, postgresql, pg, mysql, mariadb, sqlite)",
            self.0
        )
    }
}

impl std::error::Error for UnknownDialect {}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    /// Accepts the engine aliases `postgres`/`postgresql`/`pg`, `mysql`/`mariadb`
    /// and `sqlite`/`sqlite3`, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Ok(Dialect::Postgres),
            "mysql" | "mariadb" => Ok(Dialect::MySql),
            "sqlite" | "sqlite3" => Ok(Dialect::Sqlite),
            _ => Err(UnknownDialect(s.to_string())),
        }
    }
}

/// The per-dialect SQL writer. Identifiers are quoted in exactly one place
/// ([`SqlDialect::push_identifier`]); everything else builds on it.
pub trait SqlDialect: Send + Sync + 'static {
    /// Which dialect this is.
    fn dialect(&self) -> Dialect;
    /// What the dialect can do.
    fn capabilities(&self) -> &'static Capabilities;
    /// Append `ident` quoted, doubling any embedded quote character.
    fn push_identifier(&self, out: &mut String, ident: &str);
    /// Append the placeholder for the 1-based parameter `index`.
    fn push_placeholder(&self, out: &mut String, index: usize);
    /// The SQL type for a column type (without nullability or default).
    fn column_type(&self, ty: &ColumnType) -> String;
    /// The SQL text of a default value for a column of type `ty`.
    fn default_sql(&self, ty: &ColumnType, value: &DefaultValue) -> String;
    /// The column definition suffix that makes a column an auto-incrementing key
    /// (written after the type), and the type to use instead if the dialect needs one.
    fn auto_increment(&self, ty: &ColumnType) -> AutoIncrement;
    /// Append a string literal (single quotes, escaped for the dialect).
    fn push_string_literal(&self, out: &mut String, value: &str) {
        out.push('\'');
        for c in value.chars() {
            if c == '\'' {
                out.push('\'');
            }
            out.push(c);
        }
        out.push('\'');
    }
}

/// How a dialect spells an auto-incrementing primary key column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoIncrement {
    /// The column type to write (may differ from the blueprint's, e.g. `INTEGER` on SQLite).
    pub type_sql: String,
    /// Text written after the type (e.g. `AUTO_INCREMENT`).
    pub suffix: &'static str,
    /// Whether `PRIMARY KEY` must be written inline on the column (SQLite's rowid alias).
    pub inline_primary_key: bool,
}

pub(crate) fn push_quoted(out: &mut String, ident: &str, quote: char) {
    out.reserve(ident.len() + 2);
    out.push(quote);
    for c in ident.chars() {
        if c == quote {
            out.push(quote);
        }
        out.push(c);
    }
    out.push(quote);
}

pub(crate) fn format_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_engine_aliases_case_insensitively() {
        for (s, d) in [
            ("postgres", Dialect::Postgres),
            ("PostgreSQL", Dialect::Postgres),
            ("PG", Dialect::Postgres),
            ("mysql", Dialect::MySql),
            ("MariaDB", Dialect::MySql),
            ("sqlite", Dialect::Sqlite),
            ("SQLite3", Dialect::Sqlite),
        ] {
            assert_eq!(s.parse::<Dialect>().unwrap(), d, "{s}");
        }
        let err = "oracle".parse::<Dialect>().unwrap_err();
        assert!(err.to_string().contains("oracle"));
    }

    #[test]
    fn quoting_doubles_embedded_quotes() {
        assert_eq!(Dialect::Postgres.quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(Dialect::MySql.quote_identifier("a`b"), "`a``b`");
        assert_eq!(Dialect::Sqlite.quote_identifier("x"), "\"x\"");
    }

    #[test]
    fn placeholders() {
        let mut s = String::new();
        Dialect::Postgres.push_placeholder(&mut s, 3);
        Dialect::MySql.push_placeholder(&mut s, 3);
        Dialect::Sqlite.push_placeholder(&mut s, 3);
        assert_eq!(s, "$3??");
    }

    #[test]
    fn capabilities_are_data() {
        assert!(Dialect::Postgres.capabilities().returning);
        assert!(!Dialect::MySql.capabilities().transactional_ddl);
        assert!(Dialect::MySql.capabilities().native_enum);
        assert!(Dialect::MySql.capabilities().unsigned_integers);
        assert!(!Dialect::Postgres.capabilities().unsigned_integers);
        assert!(!Dialect::Sqlite.capabilities().unsigned_integers);
        assert_eq!(Dialect::Postgres.capabilities().max_bind_params, 65535);
        assert_eq!(Dialect::Sqlite.capabilities().max_bind_params, 32766);
    }
}
