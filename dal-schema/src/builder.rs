//! The fluent, Laravel-style table builder.
//!
//! ```
//! use dal_schema::{Table, ReferentialAction};
//!
//! let posts = Table::build("posts", |t| {
//!     t.id();
//!     t.foreign_id("user_id").references("users").on_delete(ReferentialAction::Cascade);
//!     t.string("title", 200);
//!     t.text("body").nullable();
//!     t.enumeration("status", ["draft", "published"]).default("draft");
//!     t.decimal("price", 10, 2).default(0);
//!     t.boolean("featured").default(false);
//!     t.timestamps();
//!     t.soft_deletes();
//!     t.index(["title"]);
//!     t.check("[price] >= 0");
//! });
//! assert_eq!(posts.primary_key, vec!["id"]);
//! assert_eq!(posts.columns.len(), 10);
//! ```

use crate::model::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, ReferentialAction, Table, names,
};

/// Builds a [`Table`]; see [`Table::build`].
#[derive(Debug, Clone)]
pub struct TableBuilder {
    table: Table,
}

impl Table {
    /// Build a table with the fluent builder.
    pub fn build(name: &str, f: impl FnOnce(&mut TableBuilder)) -> Table {
        let mut b = TableBuilder::new(name);
        f(&mut b);
        b.finish()
    }
}

impl TableBuilder {
    /// Start a table called `name`.
    pub fn new(name: &str) -> Self {
        TableBuilder {
            table: Table::new(name),
        }
    }

    /// The finished blueprint. Call [`crate::validate_table`] to check it.
    pub fn finish(self) -> Table {
        self.table
    }

    /// The blueprint built so far.
    pub fn table(&self) -> &Table {
        &self.table
    }

    /// Add a column of any type.
    pub fn column(&mut self, name: &str, ty: ColumnType) -> ColumnBuilder<'_> {
        self.table.columns.push(Column::new(name, ty));
        let index = self.table.columns.len() - 1;
        ColumnBuilder {
            table: &mut self.table,
            index,
        }
    }

    /// `id`: an auto-incrementing 64-bit integer primary key.
    pub fn id(&mut self) -> ColumnBuilder<'_> {
        self.id_named("id")
    }

    /// An auto-incrementing 64-bit integer primary key with another name.
    pub fn id_named(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.table.primary_key = vec![name.to_string()];
        let mut c = self.column(name, ColumnType::BigInteger);
        c.column_mut().auto_increment = true;
        c
    }

    /// `id`: a UUID primary key (the application generates the value).
    pub fn uuid_id(&mut self) -> ColumnBuilder<'_> {
        self.uuid_id_named("id")
    }

    /// A UUID primary key with another name.
    pub fn uuid_id_named(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.table.primary_key = vec![name.to_string()];
        self.column(name, ColumnType::Uuid)
    }

    /// Make `columns` the (possibly composite) primary key.
    pub fn primary<I, S>(&mut self, columns: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.table.primary_key = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Store rows in primary-key order (SQLite `WITHOUT ROWID`; see
    /// [`Table::without_rowid`]). The table needs a primary key and no
    /// auto-increment column.
    pub fn without_rowid(&mut self) -> &mut Self {
        self.table.without_rowid = true;
        self
    }

    /// The table's collation on the MySQL family (see [`Table::collation`];
    /// ignored elsewhere). Without it the table gets
    /// [`DEFAULT_MYSQL_COLLATION`](crate::model::DEFAULT_MYSQL_COLLATION).
    ///
    /// ```
    /// use dal_schema::{ddl, Dialect, Table};
    /// let t = Table::build("names", |t| { t.string("name", 80); t.collation("utf8mb4_unicode_ci"); });
    /// assert!(ddl::create_table(&t, Dialect::MySql).unwrap()[0]
    ///     .ends_with("DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"));
    /// ```
    pub fn collation(&mut self, collation: &str) -> &mut Self {
        self.table.collation = Some(collation.to_string());
        self
    }

    /// `VARCHAR(length)`.
    pub fn string(&mut self, name: &str, length: u32) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::String { length })
    }

    /// Unbounded text.
    pub fn text(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Text)
    }

    /// 16-bit integer.
    pub fn small_integer(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::SmallInteger)
    }

    /// 32-bit integer.
    pub fn integer(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Integer)
    }

    /// 64-bit integer.
    pub fn big_integer(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::BigInteger)
    }

    /// Unsigned 32-bit integer (the column of a `u32`): `INT UNSIGNED` on the
    /// MySQL family (Laravel's `increments()` keys), a `BIGINT` checked to
    /// `0..=4294967295` elsewhere; see [`ColumnType::UnsignedInteger`].
    ///
    /// ```
    /// use dal_schema::{ddl, Dialect, Table};
    /// let t = Table::build("votes", |t| { t.unsigned_integer("n"); });
    /// assert!(ddl::create_table(&t, Dialect::MySql).unwrap()[0].contains("`n` INT UNSIGNED NOT NULL"));
    /// assert!(ddl::create_table(&t, Dialect::Postgres).unwrap()[0]
    ///     .contains("CHECK (\"n\" >= 0 AND \"n\" <= 4294967295)"));
    /// ```
    pub fn unsigned_integer(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::UnsignedInteger)
    }

    /// Unsigned 64-bit integer (the column of a `u64`): `BIGINT UNSIGNED` on the
    /// MySQL family, a `BIGINT` with a `>= 0` check elsewhere (which holds up to
    /// `i64::MAX`); see [`ColumnType::UnsignedBigInteger`].
    ///
    /// ```
    /// use dal_schema::{ddl, Dialect, Table};
    /// let t = Table::build("counters", |t| { t.unsigned_big_integer("hits"); });
    /// assert_eq!(
    ///     ddl::create_table(&t, Dialect::MySql).unwrap()[0],
    ///     "CREATE TABLE `counters` (`hits` BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    /// );
    /// assert_eq!(
    ///     ddl::create_table(&t, Dialect::Postgres).unwrap()[0],
    ///     "CREATE TABLE \"counters\" (\"hits\" BIGINT NOT NULL \
    ///      CONSTRAINT \"counters_hits_unsigned\" CHECK (\"hits\" >= 0))"
    /// );
    /// ```
    pub fn unsigned_big_integer(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::UnsignedBigInteger)
    }

    /// Boolean.
    pub fn boolean(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Boolean)
    }

    /// Single-precision float.
    pub fn float(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Float)
    }

    /// Double-precision float.
    pub fn double(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Double)
    }

    /// Exact decimal.
    pub fn decimal(&mut self, name: &str, precision: u8, scale: u8) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Decimal { precision, scale })
    }

    /// Calendar date.
    pub fn date(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Date)
    }

    /// Time of day.
    pub fn time(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Time)
    }

    /// Date and time without time zone.
    pub fn timestamp(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Timestamp)
    }

    /// An instant, stored in UTC.
    pub fn timestamp_tz(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::TimestampTz)
    }

    /// UUID.
    pub fn uuid(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Uuid)
    }

    /// JSON document.
    pub fn json(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Json)
    }

    /// A list of scalars ([`ColumnType::Array`]): a native array on PostgreSQL
    /// (`TEXT[]`, `BIGINT[]`, ...), a JSON array in a `JSON` column on MySQL,
    /// MariaDB and SQLite. The element must be a scalar
    /// ([`ColumnType::is_array_element`]); validation refuses any other.
    ///
    /// ```
    /// use dal_schema::{ColumnType, Dialect, Table};
    /// let t = Table::build("posts", |t| {
    ///     t.id();
    ///     t.array("tags", ColumnType::Text);
    /// });
    /// let ddl = dal_schema::ddl::create_table(&t, Dialect::Postgres).unwrap().join("; ");
    /// assert!(ddl.contains("\"tags\" TEXT[] NOT NULL"), "{ddl}");
    /// ```
    pub fn array(&mut self, name: &str, element: ColumnType) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::array(element))
    }

    /// Binary data.
    pub fn binary(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Binary)
    }

    /// One of a fixed set of strings.
    pub fn enumeration<I, S>(&mut self, name: &str, variants: I) -> ColumnBuilder<'_>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let variants = variants.into_iter().map(Into::into).collect();
        self.column(name, ColumnType::Enumeration { variants })
    }

    /// A 64-bit integer column meant to reference another table's `id`; chain
    /// [`ColumnBuilder::references`] to add the foreign key.
    pub fn foreign_id(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::BigInteger)
    }

    /// A UUID column meant to reference another table's UUID key.
    pub fn foreign_uuid(&mut self, name: &str) -> ColumnBuilder<'_> {
        self.column(name, ColumnType::Uuid)
    }

    /// `created_at` and `updated_at`: non-null instants defaulting to the current time.
    pub fn timestamps(&mut self) -> &mut Self {
        for name in ["created_at", "updated_at"] {
            self.timestamp_tz(name)
                .default(DefaultValue::CurrentTimestamp);
        }
        self
    }

    /// `deleted_at`: a nullable instant marking soft-deleted rows.
    pub fn soft_deletes(&mut self) -> &mut Self {
        self.timestamp_tz("deleted_at").nullable();
        self
    }

    /// A non-unique index over `columns`, named `{table}_{cols}_index`.
    pub fn index<I, S>(&mut self, columns: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let columns: Vec<String> = columns.into_iter().map(Into::into).collect();
        let name = names::index(&self.table.name, &columns);
        self.push_index(name, columns, false)
    }

    /// A non-unique index with an explicit name.
    pub fn index_named<I, S>(&mut self, name: &str, columns: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let columns = columns.into_iter().map(Into::into).collect();
        self.push_index(name.to_string(), columns, false)
    }

    /// A unique index over `columns`, named `{table}_{cols}_unique`.
    pub fn unique_index<I, S>(&mut self, columns: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let columns: Vec<String> = columns.into_iter().map(Into::into).collect();
        if columns.len() == 1
            && let Some(c) = self.table.column_mut(&columns[0])
        {
            c.unique = true;
            return self;
        }
        let name = names::unique_index(&self.table.name, &columns);
        self.push_index(name, columns, true)
    }

    /// A unique index with an explicit name.
    pub fn unique_index_named<I, S>(&mut self, name: &str, columns: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let columns = columns.into_iter().map(Into::into).collect();
        self.push_index(name.to_string(), columns, true)
    }

    fn push_index(&mut self, name: String, columns: Vec<String>, unique: bool) -> &mut Self {
        self.table.indexes.push(Index {
            name,
            columns,
            unique,
        });
        self
    }

    /// A CHECK constraint; `expression` is portable SQL (`[col]` quotes a name).
    /// Its name is derived from the expression: `{table}_{hash}_check`.
    pub fn check(&mut self, expression: &str) -> &mut Self {
        let name = names::check(&self.table.name, expression);
        self.check_named(&name, expression)
    }

    /// A CHECK constraint with an explicit name.
    pub fn check_named(&mut self, name: &str, expression: &str) -> &mut Self {
        self.table.checks.push(Check {
            name: name.to_string(),
            expression: expression.to_string(),
        });
        self
    }
}

/// Modifiers for the column just added. Returned by every column method of
/// [`TableBuilder`].
#[derive(Debug)]
pub struct ColumnBuilder<'a> {
    table: &'a mut Table,
    index: usize,
}

impl<'a> ColumnBuilder<'a> {
    fn column_mut(&mut self) -> &mut Column {
        &mut self.table.columns[self.index]
    }

    /// The column as built so far.
    pub fn column(&self) -> &Column {
        &self.table.columns[self.index]
    }

    /// Allow NULL.
    pub fn nullable(mut self) -> Self {
        self.column_mut().nullable = true;
        self
    }

    /// Set the default value (`true`, `0`, `1.5`, `"text"`, or a [`DefaultValue`]).
    pub fn default(mut self, value: impl Into<DefaultValue>) -> Self {
        self.column_mut().default = Some(value.into());
        self
    }

    /// Default to the current timestamp (or the current date for date columns).
    pub fn use_current(mut self) -> Self {
        let v = if self.column().ty == ColumnType::Date {
            DefaultValue::CurrentDate
        } else {
            DefaultValue::CurrentTimestamp
        };
        self.column_mut().default = Some(v);
        self
    }

    /// Make the column unique (a unique index `{table}_{column}_unique`).
    pub fn unique(mut self) -> Self {
        self.column_mut().unique = true;
        self
    }

    /// Add a non-unique index on this column alone.
    pub fn index(self) -> Self {
        let name = self.column().name.clone();
        let idx_name = names::index(&self.table.name, std::slice::from_ref(&name));
        self.table.indexes.push(Index {
            name: idx_name,
            columns: vec![name],
            unique: false,
        });
        self
    }

    /// Make the server generate the value (identity / auto-increment).
    pub fn auto_increment(mut self) -> Self {
        self.column_mut().auto_increment = true;
        self
    }

    /// Make this column the table's primary key.
    pub fn primary(self) -> Self {
        self.table.primary_key = vec![self.column().name.clone()];
        self
    }

    /// Add a foreign key from this column to `table.id`.
    pub fn references(self, table: &str) -> ForeignKeyBuilder<'a> {
        self.references_column(table, "id")
    }

    /// Add a foreign key from this column to `table.column`.
    pub fn references_column(self, table: &str, column: &str) -> ForeignKeyBuilder<'a> {
        let name = self.column().name.clone();
        let fk_name = names::foreign_key(&self.table.name, std::slice::from_ref(&name));
        self.table.foreign_keys.push(ForeignKey {
            name: fk_name,
            columns: vec![name],
            references_table: table.to_string(),
            references_columns: vec![column.to_string()],
            on_delete: ReferentialAction::NoAction,
            on_update: ReferentialAction::NoAction,
            external: false,
        });
        let index = self.table.foreign_keys.len() - 1;
        ForeignKeyBuilder {
            table: self.table,
            index,
        }
    }
}

/// Options of the foreign key just added by [`ColumnBuilder::references`].
#[derive(Debug)]
pub struct ForeignKeyBuilder<'a> {
    table: &'a mut Table,
    index: usize,
}

impl ForeignKeyBuilder<'_> {
    fn fk(&mut self) -> &mut ForeignKey {
        &mut self.table.foreign_keys[self.index]
    }

    /// What happens when the referenced row is deleted.
    pub fn on_delete(mut self, action: ReferentialAction) -> Self {
        self.fk().on_delete = action;
        self
    }

    /// What happens when the referenced key changes.
    pub fn on_update(mut self, action: ReferentialAction) -> Self {
        self.fk().on_update = action;
        self
    }

    /// `on_delete(Cascade)`.
    pub fn cascade_on_delete(self) -> Self {
        self.on_delete(ReferentialAction::Cascade)
    }

    /// `on_delete(SetNull)`.
    pub fn null_on_delete(self) -> Self {
        self.on_delete(ReferentialAction::SetNull)
    }

    /// Give the constraint an explicit name.
    pub fn named(mut self, name: &str) -> Self {
        self.fk().name = name.to_string();
        self
    }

    /// The referenced table is managed elsewhere: do not require it in the same schema.
    pub fn external(mut self) -> Self {
        self.fk().external = true;
        self
    }

    /// Allow NULL in the referencing column.
    pub fn nullable(mut self) -> Self {
        let col = self.fk().columns[0].clone();
        if let Some(c) = self.table.column_mut(&col) {
            c.nullable = true;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_column_kind() {
        let t = Table::build("all_types", |t| {
            t.id();
            t.string("s", 10).unique();
            t.text("tx").nullable();
            t.small_integer("si").default(1);
            t.integer("i").index();
            t.big_integer("bi");
            t.unsigned_big_integer("ubi").default(0);
            t.boolean("b").default(true);
            t.float("f");
            t.double("d").default(1.5);
            t.decimal("dec", 12, 3);
            t.date("dt").use_current();
            t.time("tm");
            t.timestamp("ts");
            t.timestamp_tz("tstz");
            t.uuid("u");
            t.json("j");
            t.binary("bin");
            t.enumeration("e", ["a", "b"]).default("a");
            t.foreign_id("parent_id")
                .references("all_types")
                .on_delete(ReferentialAction::SetNull)
                .nullable();
            t.timestamps();
            t.soft_deletes();
            t.unique_index(["i", "bi"]);
            t.check("[i] > 0");
        });
        assert_eq!(t.columns.len(), 23);
        assert_eq!(t.column("ubi").unwrap().ty, ColumnType::UnsignedBigInteger);
        assert!(t.column("s").unwrap().unique);
        assert!(t.column("parent_id").unwrap().nullable);
        assert!(t.column("id").unwrap().auto_increment);
        assert_eq!(t.indexes.len(), 2);
        assert_eq!(t.indexes[0].name, "all_types_i_index");
        assert_eq!(t.indexes[1].name, "all_types_i_bi_unique");
        assert_eq!(t.foreign_keys[0].name, "all_types_parent_id_foreign");
        assert_eq!(t.foreign_keys[0].on_delete, ReferentialAction::SetNull);
        assert_eq!(t.checks.len(), 1);
        assert!(t.checks[0].name.ends_with("_check"));
    }

    #[test]
    fn single_column_unique_index_is_a_column_flag() {
        let t = Table::build("u", |t| {
            t.string("email", 100);
            t.unique_index(["email"]);
        });
        assert!(t.column("email").unwrap().unique);
        assert!(t.indexes.is_empty());
    }
}
