//! Live-schema introspection: read the tables of a database back as blueprints
//! ([`Table`]) that compare equal to the blueprints that created them.
//!
//! Each backend reads its server's catalog (`backend/<dialect>/introspect.rs`);
//! this module holds the [`Db`] methods, which dispatch once into the backend,
//! and [`shape`], what the backends share (parsers for column defaults, string
//! literals and type names, and the final clean-up that brings every table into
//! one shape).
//!
//! The shape of an introspected table is documented on [`Db::introspect`].

pub(crate) mod shape;

use dal_schema::{Schema, Table};

use crate::codec::Decode;
use crate::db::Db;
use crate::error::Result;
use crate::params::Params;
use crate::row::Row;
use shape::{Catalog, CatalogFuture};

impl Db {
    /// Read every base table of the database as a [`Schema`], tables sorted by name.
    ///
    /// Which tables: on PostgreSQL the ordinary and partitioned tables of
    /// `current_schema()` (not the partitions themselves, nor views); on the MySQL
    /// family the base tables of `DATABASE()`; on SQLite the tables of the `main`
    /// database except SQLite's own `sqlite_*` tables and virtual tables.
    ///
    /// Each table is complete, in this shape:
    ///
    /// - Columns come in ordinal order with their type, nullability, default and
    ///   auto-increment flag (PostgreSQL identity or `serial` columns, MySQL
    ///   `AUTO_INCREMENT`, SQLite `INTEGER PRIMARY KEY AUTOINCREMENT`, which is
    ///   reported as a [`ColumnType::BigInteger`](crate::ColumnType::BigInteger) since that is what `id()` writes).
    ///   The primary key lists its columns in key order.
    /// - A single-column unique index named the way dal names it
    ///   (`{table}_{column}_unique`) is reported as `column.unique = true`, as the
    ///   builder's `unique()` produces it, and not among the indexes; every other
    ///   index (not the primary key) is listed in `indexes`. Indexes dal cannot
    ///   describe (expression, partial, prefix, full-text and spatial indexes) are
    ///   left out, so a schema diff never proposes to drop them. On the MySQL
    ///   family the index InnoDB creates for a foreign key (a non-unique index with
    ///   the name and the columns of the foreign key) is not reported.
    /// - Foreign keys and checks keep their names. SQLite does not name foreign
    ///   keys in its catalog: their names (and the checks) are read from the stored
    ///   `CREATE TABLE` text; an unnamed one gets the name dal would give it.
    /// - Enumerations are [`ColumnType::Enumeration`](crate::ColumnType::Enumeration): a native `ENUM` on the MySQL
    ///   family; on PostgreSQL and SQLite a `VARCHAR(255)` column with a check named
    ///   `{table}_{column}_enum`, whose string literals are the variants (that check
    ///   is not listed among the table's checks). Likewise an unsigned big integer
    ///   is [`ColumnType::UnsignedBigInteger`](crate::ColumnType::UnsignedBigInteger): a `BIGINT UNSIGNED` on the MySQL
    ///   family; on PostgreSQL and SQLite a `BIGINT` with a check named
    ///   `{table}_{column}_unsigned` (`column >= 0`), not listed among the checks;
    ///   an unsigned integer ([`ColumnType::UnsignedInteger`](crate::ColumnType::UnsignedInteger)) is an `INT UNSIGNED`
    ///   there and a `BIGINT` checked `column >= 0 AND column <= 4294967295` here.
    /// - On the MySQL family, [`Table::collation`] is the table's collation when it
    ///   is not [`dal_schema::DEFAULT_MYSQL_COLLATION`] (`None` when it is).
    ///   A MariaDB `JSON` column (a
    ///   `LONGTEXT` with an automatic `json_valid` check) is [`ColumnType::Json`](crate::ColumnType::Json).
    /// - Indexes, foreign keys and checks are sorted by name.
    /// - Types dal does not write map to the closest blueprint type (a `numeric`
    ///   without precision is `Decimal { precision: 65, scale: 30 }`, `char(n)` a
    ///   string, `mediumint` an integer, ...); a type nothing resembles is
    ///   [`ColumnType::Text`](crate::ColumnType::Text). Introspection never fails because of a column type.
    ///
    /// Compare an introspected table with a blueprint through
    /// [`Table::normalized_for`], which brings both to what the dialect can
    /// represent (a MySQL `TimestampTz` is a `DATETIME(6)`, a default `1` on a
    /// float column is `1.0`, ...):
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::{Db, Dialect, ReferentialAction, Table};
    ///
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// let teams = Table::build("teams", |t| {
    ///     t.id();
    ///     t.string("name", 100).unique();
    /// });
    /// let users = Table::build("users", |t| {
    ///     t.id();
    ///     t.foreign_id("team_id").references("teams").on_delete(ReferentialAction::Cascade);
    ///     t.enumeration("role", ["admin", "member"]).default("member");
    ///     t.timestamps();
    ///     t.check("[team_id] > 0");
    /// });
    /// db.create_table(&teams).await?;
    /// db.create_table(&users).await?;
    ///
    /// let schema = db.introspect().await?;
    /// assert_eq!(schema.tables.len(), 2);
    /// let live = schema.table("users").unwrap();
    /// assert_eq!(
    ///     live.normalized_for(Dialect::Sqlite),
    ///     users.normalized_for(Dialect::Sqlite)
    /// );
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn introspect(&self) -> Result<Schema> {
        let tables = crate::backend::introspect_tables(self, self.dialect(), None).await?;
        Ok(Schema { tables })
    }

    /// Read one base table (see [`Db::introspect`]); `None` when there is no base
    /// table called `name` in the current schema / database.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::{ColumnType, Db, Table};
    ///
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// db.create_table(&Table::build("notes", |t| {
    ///     t.id();
    ///     t.decimal("price", 10, 2).default(0);
    /// }))
    /// .await?;
    /// let notes = db.introspect_table("notes").await?.expect("notes exists");
    /// assert_eq!(notes.primary_key, ["id"]);
    /// assert_eq!(
    ///     notes.column("price").unwrap().ty,
    ///     ColumnType::Decimal { precision: 10, scale: 2 }
    /// );
    /// assert!(db.introspect_table("missing").await?.is_none());
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn introspect_table(&self, name: &str) -> Result<Option<Table>> {
        let tables = crate::backend::introspect_tables(self, self.dialect(), Some(name)).await?;
        Ok(tables.into_iter().find(|t| t.name == name))
    }

    /// The names of the base tables [`Db::introspect`] reads, sorted.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// db.execute_script("CREATE TABLE b (x INTEGER); CREATE TABLE a (y TEXT);").await?;
    /// assert_eq!(db.table_names().await?, ["a", "b"]);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn table_names(&self) -> Result<Vec<String>> {
        let mut names = crate::backend::introspect_table_names(self, self.dialect(), None).await?;
        names.sort();
        Ok(names)
    }
}

impl Catalog for Db {
    fn fetch_all<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> CatalogFuture<'a, Vec<Row<'static>>> {
        Box::pin(Db::fetch_all(self, sql, params))
    }

    fn fetch_scalar<'a, T: Decode + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> CatalogFuture<'a, T> {
        Box::pin(Db::fetch_scalar(self, sql, params))
    }
}
