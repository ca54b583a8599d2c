//! DDL generation: typed statements ([`DdlStatement`]) serialised per dialect by one
//! writer, with identifiers quoted only through [`crate::SqlDialect::push_identifier`].
//!
//! ```
//! use dal_schema::{ddl::{self, DdlStatement}, Dialect, Table, Column, ColumnType};
//!
//! let t = Table::build("users", |t| { t.id(); t.string("email", 150).unique(); });
//! let sql = ddl::create_table(&t, Dialect::MySql).unwrap();
//! assert_eq!(sql[0], "CREATE TABLE `users` (`id` BIGINT AUTO_INCREMENT NOT NULL, \
//!     `email` VARCHAR(150) NOT NULL, PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin");
//! assert_eq!(sql[1], "CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`)");
//!
//! let add = DdlStatement::AddColumn {
//!     table: "users".into(),
//!     column: Column { nullable: true, ..Column::new("nick", ColumnType::String { length: 40 }) },
//! };
//! assert_eq!(add.to_sql(Dialect::Postgres).unwrap(),
//!     vec!["ALTER TABLE \"users\" ADD COLUMN \"nick\" VARCHAR(40) NULL"]);
//! ```
//!
//! Over 1,000 lines with its unit tests (the writer is about 760 lines; the
//! golden tests below pin every dialect's DDL).

use std::fmt;

use crate::dialect::{Dialect, SqlDialect};
use crate::model::{Check, Column, ColumnType, ForeignKey, Index, Table, names};

/// One schema change, independent of dialect. [`DdlStatement::to_sql`] writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum DdlStatement {
    /// `CREATE TABLE` with columns, primary key, foreign keys and checks, followed
    /// by one `CREATE INDEX` per index.
    CreateTable {
        /// The table blueprint.
        table: Table,
        /// Write `IF NOT EXISTS`.
        if_not_exists: bool,
    },
    /// `DROP TABLE`.
    DropTable {
        /// Table name.
        name: String,
        /// Write `IF EXISTS`.
        if_exists: bool,
    },
    /// Rename a table.
    RenameTable {
        /// Current name.
        from: String,
        /// New name.
        to: String,
    },
    /// Add a column (its enumeration check included; its unique flag becomes an index).
    AddColumn {
        /// Table name.
        table: String,
        /// The new column.
        column: Column,
    },
    /// Drop a column.
    DropColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// Rename a column.
    RenameColumn {
        /// Table name.
        table: String,
        /// Current name.
        from: String,
        /// New name.
        to: String,
    },
    /// Change a column's type, nullability and default in place (not on SQLite:
    /// use [`DdlStatement::RebuildTable`] there).
    AlterColumn {
        /// Table name.
        table: String,
        /// The column as it is now.
        from: Column,
        /// The column as it should be.
        to: Column,
    },
    /// `CREATE [UNIQUE] INDEX`.
    CreateIndex {
        /// Table name.
        table: String,
        /// The index.
        index: Index,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// Table name (needed by the MySQL family).
        table: String,
        /// Index name.
        name: String,
    },
    /// Add a foreign key to an existing table.
    AddForeignKey {
        /// Table name.
        table: String,
        /// The foreign key.
        foreign_key: ForeignKey,
    },
    /// Drop a foreign key.
    DropForeignKey {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
    },
    /// Add a CHECK constraint to an existing table.
    AddCheck {
        /// Table name.
        table: String,
        /// The check.
        check: Check,
    },
    /// Drop a CHECK constraint.
    DropCheck {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
    },
    /// SQLite's way to make any change: create the new shape under a temporary name,
    /// copy the columns both shapes share, drop the old table and rename the new one
    /// (<https://www.sqlite.org/lang_altertable.html>, "otheralter"). Run it with
    /// `PRAGMA foreign_keys = OFF` and check `PRAGMA foreign_key_check` afterwards.
    RebuildTable {
        /// The table as it is now.
        from: Table,
        /// The table as it should be (same name).
        to: Table,
    },
    /// Raw portable SQL, translated for the dialect.
    Raw(String),
}

/// Why a DDL statement could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DdlError {
    /// The dialect cannot do this in place.
    Unsupported {
        /// The dialect.
        dialect: Dialect,
        /// What was asked.
        operation: String,
        /// What to do instead.
        hint: &'static str,
    },
    /// A CHECK or default expression (portable SQL) could not be translated.
    InvalidExpression {
        /// Where the expression belongs (`users.age_check`).
        location: String,
        /// The translator's message.
        message: String,
    },
}

impl fmt::Display for DdlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DdlError::Unsupported {
                dialect,
                operation,
                hint,
            } => write!(f, "{dialect} cannot {operation} in place; {hint}"),
            DdlError::InvalidExpression { location, message } => {
                write!(f, "invalid SQL expression in {location}: {message}")
            }
        }
    }
}

impl std::error::Error for DdlError {}

/// The statements that create `table` (the table, then its indexes).
pub fn create_table(table: &Table, dialect: Dialect) -> Result<Vec<String>, DdlError> {
    DdlStatement::CreateTable {
        table: table.clone(),
        if_not_exists: false,
    }
    .to_sql(dialect)
}

/// The statements that create `table` only when it does not exist yet.
pub fn create_table_if_not_exists(
    table: &Table,
    dialect: Dialect,
) -> Result<Vec<String>, DdlError> {
    DdlStatement::CreateTable {
        table: table.clone(),
        if_not_exists: true,
    }
    .to_sql(dialect)
}

/// `DROP TABLE IF EXISTS name`.
pub fn drop_table_if_exists(name: &str, dialect: Dialect) -> String {
    let mut w = Writer::new(dialect);
    w.push("DROP TABLE IF EXISTS ");
    w.ident(name);
    w.out
}

struct Writer {
    d: &'static dyn SqlDialect,
    out: String,
}

impl Writer {
    fn new(dialect: Dialect) -> Self {
        Writer {
            d: dialect.writer(),
            out: String::with_capacity(128),
        }
    }

    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn ident(&mut self, name: &str) {
        self.d.push_identifier(&mut self.out, name);
    }

    fn ident_list(&mut self, names: &[String]) {
        self.out.push('(');
        for (i, n) in names.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.d.push_identifier(&mut self.out, n);
        }
        self.out.push(')');
    }

    fn take(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}

fn translate_expr(expr: &str, dialect: Dialect, location: &str) -> Result<String, DdlError> {
    crate::sql::translate(expr, dialect)
        .map(|t| t.sql)
        .map_err(|e| DdlError::InvalidExpression {
            location: location.to_string(),
            message: e.to_string(),
        })
}

/// Write one column definition (`name TYPE [NOT NULL] [DEFAULT ..] [CHECK ..]`).
fn column_def(
    w: &mut Writer,
    table: &str,
    column: &Column,
    inline_pk: bool,
) -> Result<(), DdlError> {
    let dialect = w.d.dialect();
    w.ident(&column.name);
    w.push(" ");
    if column.auto_increment {
        let ai = w.d.auto_increment(&column.ty);
        w.push(&ai.type_sql);
        if !ai.inline_primary_key || inline_pk {
            w.push(" ");
            w.push(ai.suffix);
        }
    } else {
        let ty = w.d.column_type(&column.ty);
        w.push(&ty);
    }
    w.push(if column.nullable {
        " NULL"
    } else {
        " NOT NULL"
    });
    if let Some(default) = &column.default {
        let sql = match default {
            crate::model::DefaultValue::Expression(e) => {
                let loc = format!("{table}.{} default", column.name);
                format!("({})", translate_expr(e, dialect, &loc)?)
            }
            other => w.d.default_sql(&column.ty, other),
        };
        w.push(" DEFAULT ");
        w.push(&sql);
    }
    if let ColumnType::Enumeration { variants } = &column.ty
        && !w.d.capabilities().native_enum
    {
        w.push(" CONSTRAINT ");
        w.ident(&names::enum_check(table, &column.name));
        w.push(" CHECK (");
        w.ident(&column.name);
        w.push(" IN (");
        for (i, v) in variants.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.d.push_string_literal(&mut w.out, v);
        }
        w.push("))");
    }
    if column.ty.is_unsigned() && !w.d.capabilities().unsigned_integers {
        w.push(" CONSTRAINT ");
        unsigned_check(w, table, &column.name, &column.ty);
    }
    Ok(())
}

/// `name CHECK (column >= 0)` (with `AND column <= max` for the narrower
/// unsigned types): what keeps an unsigned column in range where the dialect
/// has no unsigned type (named by [`names::unsigned_check`]).
fn unsigned_check(w: &mut Writer, table: &str, column: &str, ty: &ColumnType) {
    w.ident(&names::unsigned_check(table, column));
    w.push(" CHECK (");
    w.ident(column);
    w.push(" >= 0");
    if let Some(max) = ty.unsigned_max() {
        w.push(" AND ");
        w.ident(column);
        w.push(&format!(" <= {max}"));
    }
    w.push(")");
}

fn foreign_key_def(w: &mut Writer, fk: &ForeignKey) {
    w.push("CONSTRAINT ");
    w.ident(&fk.name);
    w.push(" FOREIGN KEY ");
    w.ident_list(&fk.columns);
    w.push(" REFERENCES ");
    w.ident(&fk.references_table);
    w.push(" ");
    w.ident_list(&fk.references_columns);
    if fk.on_delete != crate::model::ReferentialAction::NoAction {
        w.push(" ON DELETE ");
        w.push(fk.on_delete.sql());
    }
    if fk.on_update != crate::model::ReferentialAction::NoAction {
        w.push(" ON UPDATE ");
        w.push(fk.on_update.sql());
    }
}

fn check_def(w: &mut Writer, table: &str, check: &Check) -> Result<(), DdlError> {
    let dialect = w.d.dialect();
    let expr = translate_expr(
        &check.expression,
        dialect,
        &format!("{table}.{}", check.name),
    )?;
    w.push("CONSTRAINT ");
    w.ident(&check.name);
    w.push(" CHECK (");
    w.push(&expr);
    w.push(")");
    Ok(())
}

fn create_index_sql(w: &mut Writer, table: &str, index: &Index, if_not_exists: bool) -> String {
    w.push(if index.unique {
        "CREATE UNIQUE INDEX "
    } else {
        "CREATE INDEX "
    });
    if if_not_exists && w.d.capabilities().index_if_not_exists {
        w.push("IF NOT EXISTS ");
    }
    w.ident(&index.name);
    w.push(" ON ");
    w.ident(table);
    w.push(" ");
    w.ident_list(&index.columns);
    w.take()
}

fn create_table_sql(
    w: &mut Writer,
    table: &Table,
    if_not_exists: bool,
    create_name: &str,
) -> Result<String, DdlError> {
    let dialect = w.d.dialect();
    w.push("CREATE TABLE ");
    if if_not_exists {
        w.push("IF NOT EXISTS ");
    }
    w.ident(create_name);
    w.push(" (");
    let inline_pk_col: Option<&str> = table
        .columns
        .iter()
        .find(|c| {
            c.auto_increment
                && w.d.auto_increment(&c.ty).inline_primary_key
                && table.primary_key.len() == 1
                && table.primary_key[0] == c.name
        })
        .map(|c| c.name.as_str());
    for (i, column) in table.columns.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        let inline = inline_pk_col == Some(column.name.as_str());
        column_def(w, &table.name, column, inline)?;
    }
    if !table.primary_key.is_empty() && inline_pk_col.is_none() {
        w.push(", PRIMARY KEY ");
        w.ident_list(&table.primary_key);
    }
    for fk in &table.foreign_keys {
        w.push(", ");
        foreign_key_def(w, fk);
    }
    for check in &table.checks {
        w.push(", ");
        check_def(w, &table.name, check)?;
    }
    w.push(")");
    if dialect == Dialect::MySql {
        let collation = table
            .collation
            .as_deref()
            .unwrap_or(crate::model::DEFAULT_MYSQL_COLLATION);
        // the character set is the collation's first word (`utf8mb4_bin`)
        let charset = collation.split('_').next().unwrap_or(collation);
        w.push(&format!(
            " ENGINE=InnoDB DEFAULT CHARSET={charset} COLLATE={collation}"
        ));
    }
    if dialect == Dialect::Sqlite && table.without_rowid {
        w.push(" WITHOUT ROWID");
    }
    Ok(w.take())
}

impl DdlStatement {
    /// The SQL statements, in order, that perform this change on `dialect`.
    pub fn to_sql(&self, dialect: Dialect) -> Result<Vec<String>, DdlError> {
        let mut w = Writer::new(dialect);
        let caps = dialect.capabilities();
        let unsupported = |operation: String, hint: &'static str| DdlError::Unsupported {
            dialect,
            operation,
            hint,
        };
        match self {
            DdlStatement::CreateTable {
                table,
                if_not_exists,
            } => {
                let mut out = vec![create_table_sql(
                    &mut w,
                    table,
                    *if_not_exists,
                    &table.name,
                )?];
                for index in table.all_indexes() {
                    out.push(create_index_sql(
                        &mut w,
                        &table.name,
                        &index,
                        *if_not_exists,
                    ));
                }
                Ok(out)
            }
            DdlStatement::DropTable { name, if_exists } => {
                w.push("DROP TABLE ");
                if *if_exists {
                    w.push("IF EXISTS ");
                }
                w.ident(name);
                Ok(vec![w.take()])
            }
            DdlStatement::RenameTable { from, to } => {
                if dialect == Dialect::MySql {
                    w.push("RENAME TABLE ");
                    w.ident(from);
                    w.push(" TO ");
                } else {
                    w.push("ALTER TABLE ");
                    w.ident(from);
                    w.push(" RENAME TO ");
                }
                w.ident(to);
                Ok(vec![w.take()])
            }
            DdlStatement::AddColumn { table, column } => {
                w.push("ALTER TABLE ");
                w.ident(table);
                w.push(" ADD COLUMN ");
                column_def(&mut w, table, column, false)?;
                let mut out = vec![w.take()];
                if column.unique {
                    let index = Index {
                        name: names::unique_index(table, std::slice::from_ref(&column.name)),
                        columns: vec![column.name.clone()],
                        unique: true,
                    };
                    out.push(create_index_sql(&mut w, table, &index, false));
                }
                Ok(out)
            }
            DdlStatement::DropColumn { table, column } => {
                w.push("ALTER TABLE ");
                w.ident(table);
                w.push(" DROP COLUMN ");
                w.ident(column);
                Ok(vec![w.take()])
            }
            DdlStatement::RenameColumn { table, from, to } => {
                w.push("ALTER TABLE ");
                w.ident(table);
                w.push(" RENAME COLUMN ");
                w.ident(from);
                w.push(" TO ");
                w.ident(to);
                Ok(vec![w.take()])
            }
            DdlStatement::AlterColumn { table, from, to } => {
                if !caps.alter_column {
                    return Err(unsupported(
                        format!("alter column {table}.{}", to.name),
                        "rebuild the table (DdlStatement::RebuildTable)",
                    ));
                }
                alter_column_sql(&mut w, table, from, to)
            }
            DdlStatement::CreateIndex { table, index } => {
                Ok(vec![create_index_sql(&mut w, table, index, false)])
            }
            DdlStatement::DropIndex { table, name } => {
                if dialect == Dialect::MySql {
                    w.push("DROP INDEX ");
                    w.ident(name);
                    w.push(" ON ");
                    w.ident(table);
                } else {
                    w.push("DROP INDEX IF EXISTS ");
                    w.ident(name);
                }
                Ok(vec![w.take()])
            }
            DdlStatement::AddForeignKey { table, foreign_key } => {
                if !caps.alter_add_foreign_key {
                    return Err(unsupported(
                        format!("add foreign key {}", foreign_key.name),
                        "rebuild the table (DdlStatement::RebuildTable)",
                    ));
                }
                w.push("ALTER TABLE ");
                w.ident(table);
                w.push(" ADD ");
                foreign_key_def(&mut w, foreign_key);
                Ok(vec![w.take()])
            }
            DdlStatement::DropForeignKey { table, name } => {
                if !caps.alter_add_foreign_key {
                    return Err(unsupported(
                        format!("drop foreign key {name}"),
                        "rebuild the table (DdlStatement::RebuildTable)",
                    ));
                }
                w.push("ALTER TABLE ");
                w.ident(table);
                w.push(if dialect == Dialect::MySql {
                    " DROP FOREIGN KEY "
                } else {
                    " DROP CONSTRAINT "
                });
                w.ident(name);
                Ok(vec![w.take()])
            }
            DdlStatement::AddCheck { table, check } => {
                if dialect == Dialect::Sqlite {
                    return Err(unsupported(
                        format!("add check {}", check.name),
                        "rebuild the table (DdlStatement::RebuildTable)",
                    ));
                }
                w.push("ALTER TABLE ");
                w.ident(table);
                w.push(" ADD ");
                check_def(&mut w, table, check)?;
                Ok(vec![w.take()])
            }
            DdlStatement::DropCheck { table, name } => {
                if dialect == Dialect::Sqlite {
                    return Err(unsupported(
                        format!("drop check {name}"),
                        "rebuild the table (DdlStatement::RebuildTable)",
                    ));
                }
                // `DROP CONSTRAINT` on the MySQL family too: MariaDB has no
                // `DROP CHECK` (MySQL 8.0.16+ only); both understand this form.
                w.push("ALTER TABLE ");
                w.ident(table);
                w.push(" DROP CONSTRAINT ");
                w.ident(name);
                Ok(vec![w.take()])
            }
            DdlStatement::RebuildTable { from, to } => rebuild_table_sql(&mut w, from, to),
            DdlStatement::Raw(sql) => Ok(vec![translate_expr(sql, dialect, "raw statement")?]),
        }
    }
}

fn alter_column_sql(
    w: &mut Writer,
    table: &str,
    from: &Column,
    to: &Column,
) -> Result<Vec<String>, DdlError> {
    let dialect = w.d.dialect();
    if dialect == Dialect::MySql {
        // MODIFY restates the whole definition.
        w.push("ALTER TABLE ");
        w.ident(table);
        w.push(" MODIFY COLUMN ");
        column_def(w, table, to, false)?;
        return Ok(vec![w.take()]);
    }
    let mut parts: Vec<String> = Vec::new();
    let mut out = Vec::new();
    // the same SQL type (an unsigned big integer is a `BIGINT` with a check here,
    // an enumeration a `VARCHAR(255)`): only the checks below change
    if w.d.column_type(&from.ty) != w.d.column_type(&to.ty) {
        let ty = w.d.column_type(&to.ty);
        let mut p = String::from("ALTER COLUMN ");
        w.d.push_identifier(&mut p, &to.name);
        p.push_str(" TYPE ");
        p.push_str(&ty);
        p.push_str(" USING ");
        w.d.push_identifier(&mut p, &to.name);
        p.push_str("::");
        p.push_str(&ty);
        parts.push(p);
    }
    if from.nullable != to.nullable {
        let mut p = String::from("ALTER COLUMN ");
        w.d.push_identifier(&mut p, &to.name);
        p.push_str(if to.nullable {
            " DROP NOT NULL"
        } else {
            " SET NOT NULL"
        });
        parts.push(p);
    }
    if from.default != to.default {
        let mut p = String::from("ALTER COLUMN ");
        w.d.push_identifier(&mut p, &to.name);
        match &to.default {
            None => p.push_str(" DROP DEFAULT"),
            Some(d) => {
                p.push_str(" SET DEFAULT ");
                p.push_str(&w.d.default_sql(&to.ty, d));
            }
        }
        parts.push(p);
    }
    let enum_check = names::enum_check(table, &to.name);
    let from_enum = matches!(from.ty, ColumnType::Enumeration { .. });
    if from_enum && from.ty != to.ty {
        w.push("ALTER TABLE ");
        w.ident(table);
        w.push(" DROP CONSTRAINT IF EXISTS ");
        w.ident(&enum_check);
        out.push(w.take());
    }
    // the check changes with the type (an unsigned integer's has an upper bound)
    let unsigned_changed = from.ty.is_unsigned() && to.ty.is_unsigned() && from.ty != to.ty;
    if from.ty.is_unsigned() && (!to.ty.is_unsigned() || unsigned_changed) {
        w.push("ALTER TABLE ");
        w.ident(table);
        w.push(" DROP CONSTRAINT IF EXISTS ");
        w.ident(&names::unsigned_check(table, &to.name));
        out.push(w.take());
    }
    if !parts.is_empty() {
        w.push("ALTER TABLE ");
        w.ident(table);
        w.push(" ");
        w.push(&parts.join(", "));
        out.push(w.take());
    }
    if let ColumnType::Enumeration { variants } = &to.ty
        && from.ty != to.ty
    {
        w.push("ALTER TABLE ");
        w.ident(table);
        w.push(" ADD CONSTRAINT ");
        w.ident(&enum_check);
        w.push(" CHECK (");
        w.ident(&to.name);
        w.push(" IN (");
        for (i, v) in variants.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.d.push_string_literal(&mut w.out, v);
        }
        w.push("))");
        out.push(w.take());
    }
    if to.ty.is_unsigned() && (!from.ty.is_unsigned() || unsigned_changed) {
        w.push("ALTER TABLE ");
        w.ident(table);
        w.push(" ADD CONSTRAINT ");
        unsigned_check(w, table, &to.name, &to.ty);
        out.push(w.take());
    }
    Ok(out)
}

fn rebuild_table_sql(w: &mut Writer, from: &Table, to: &Table) -> Result<Vec<String>, DdlError> {
    let temp = format!("_dal_rebuild_{}", to.name);
    let mut out = vec![create_table_sql(w, to, false, &temp)?];
    let shared: Vec<String> = to
        .columns
        .iter()
        .filter(|c| from.column(&c.name).is_some())
        .map(|c| c.name.clone())
        .collect();
    if !shared.is_empty() {
        w.push("INSERT INTO ");
        w.ident(&temp);
        w.push(" ");
        w.ident_list(&shared);
        w.push(" SELECT ");
        for (i, c) in shared.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident(c);
        }
        w.push(" FROM ");
        w.ident(&from.name);
        out.push(w.take());
    }
    w.push("DROP TABLE ");
    w.ident(&from.name);
    out.push(w.take());
    w.push("ALTER TABLE ");
    w.ident(&temp);
    w.push(" RENAME TO ");
    w.ident(&to.name);
    out.push(w.take());
    for index in to.all_indexes() {
        out.push(create_index_sql(w, &to.name, &index, false));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReferentialAction;

    fn sample() -> Table {
        Table::build("posts", |t| {
            t.id();
            t.foreign_id("user_id")
                .references("users")
                .on_delete(ReferentialAction::Cascade);
            t.string("title", 200).unique();
            t.enumeration("status", ["draft", "it's"]).default("draft");
            t.boolean("pinned").default(false);
            t.decimal("price", 10, 2).default(0);
            t.timestamps();
            t.index(["title", "status"]);
            t.check("[price] >= 0");
        })
    }

    #[test]
    fn without_rowid_only_changes_sqlite() {
        let t = Table::build("pairs", |t| {
            t.big_integer("a");
            t.integer("b");
            t.primary(["a", "b"]);
            t.without_rowid();
        });
        assert_eq!(
            create_table(&t, Dialect::Sqlite).unwrap(),
            [
                "CREATE TABLE \"pairs\" (\"a\" BIGINT NOT NULL, \"b\" INTEGER NOT NULL, PRIMARY KEY (\"a\", \"b\")) WITHOUT ROWID"
            ]
        );
        assert!(!create_table(&t, Dialect::Postgres).unwrap()[0].contains("ROWID"));
        assert!(!create_table(&t, Dialect::MySql).unwrap()[0].contains("ROWID"));
        assert!(t.normalized_for(Dialect::Sqlite).without_rowid);
        assert!(!t.normalized_for(Dialect::Postgres).without_rowid);
    }

    #[test]
    fn golden_postgres() {
        let sql = create_table(&sample(), Dialect::Postgres).unwrap();
        let check = names::check("posts", "[price] >= 0");
        assert_eq!(
            sql,
            vec![
                format!(
                    "CREATE TABLE \"posts\" (\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL, \
                     \"user_id\" BIGINT NOT NULL, \"title\" VARCHAR(200) NOT NULL, \
                     \"status\" VARCHAR(255) NOT NULL DEFAULT 'draft' CONSTRAINT \"posts_status_enum\" CHECK (\"status\" IN ('draft', 'it''s')), \
                     \"pinned\" BOOLEAN NOT NULL DEFAULT FALSE, \"price\" NUMERIC(10, 2) NOT NULL DEFAULT 0, \
                     \"created_at\" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                     \"updated_at\" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                     PRIMARY KEY (\"id\"), \
                     CONSTRAINT \"posts_user_id_foreign\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE, \
                     CONSTRAINT \"{check}\" CHECK (\"price\" >= 0))"
                ),
                "CREATE UNIQUE INDEX \"posts_title_unique\" ON \"posts\" (\"title\")".to_string(),
                "CREATE INDEX \"posts_title_status_index\" ON \"posts\" (\"title\", \"status\")"
                    .to_string(),
            ]
        );
    }

    #[test]
    fn golden_mysql() {
        let sql = create_table(&sample(), Dialect::MySql).unwrap();
        let check = names::check("posts", "[price] >= 0");
        assert_eq!(
            sql[0],
            format!(
                "CREATE TABLE `posts` (`id` BIGINT AUTO_INCREMENT NOT NULL, `user_id` BIGINT NOT NULL, \
                 `title` VARCHAR(200) NOT NULL, `status` ENUM('draft', 'it''s') NOT NULL DEFAULT 'draft', \
                 `pinned` TINYINT(1) NOT NULL DEFAULT 0, `price` DECIMAL(10, 2) NOT NULL DEFAULT 0, \
                 `created_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), \
                 `updated_at` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (`id`), \
                 CONSTRAINT `posts_user_id_foreign` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE, \
                 CONSTRAINT `{check}` CHECK (`price` >= 0)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
            )
        );
        assert_eq!(
            sql[2],
            "CREATE INDEX `posts_title_status_index` ON `posts` (`title`, `status`)"
        );
    }

    #[test]
    fn golden_sqlite() {
        let sql = create_table(&sample(), Dialect::Sqlite).unwrap();
        assert!(
            sql[0].starts_with(
                "CREATE TABLE \"posts\" (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, \
                 \"user_id\" BIGINT NOT NULL, "
            ),
            "{}",
            sql[0]
        );
        assert!(!sql[0].contains(", PRIMARY KEY"));
        assert!(sql[0].contains(
            "\"pinned\" BOOLEAN NOT NULL DEFAULT 0, \"price\" DECIMAL(10, 2) NOT NULL DEFAULT 0"
        ));
        assert!(sql[0].contains("\"created_at\" TIMESTAMPTZ NOT NULL DEFAULT CURRENT_TIMESTAMP"));
    }

    #[test]
    fn mysql_escapes_backslashes_in_literals() {
        let t = Table::build("t", |t| {
            t.string("s", 10).default("a\\b'c");
        });
        let sql = create_table(&t, Dialect::MySql).unwrap();
        assert!(sql[0].contains("DEFAULT 'a\\\\b''c'"), "{}", sql[0]);
        let sql = create_table(&t, Dialect::Postgres).unwrap();
        assert!(sql[0].contains("DEFAULT 'a\\b''c'"), "{}", sql[0]);
    }

    #[test]
    fn alter_operations_per_dialect() {
        let drop_idx = DdlStatement::DropIndex {
            table: "t".into(),
            name: "t_a_index".into(),
        };
        assert_eq!(
            drop_idx.to_sql(Dialect::MySql).unwrap(),
            vec!["DROP INDEX `t_a_index` ON `t`"]
        );
        assert_eq!(
            drop_idx.to_sql(Dialect::Postgres).unwrap(),
            vec!["DROP INDEX IF EXISTS \"t_a_index\""]
        );
        let rename = DdlStatement::RenameColumn {
            table: "t".into(),
            from: "a".into(),
            to: "b".into(),
        };
        assert_eq!(
            rename.to_sql(Dialect::Sqlite).unwrap(),
            vec!["ALTER TABLE \"t\" RENAME COLUMN \"a\" TO \"b\""]
        );
        let rt = DdlStatement::RenameTable {
            from: "a".into(),
            to: "b".into(),
        };
        assert_eq!(
            rt.to_sql(Dialect::MySql).unwrap(),
            vec!["RENAME TABLE `a` TO `b`"]
        );
        let from = Column::new("n", ColumnType::Integer);
        let to = Column {
            nullable: true,
            ..Column::new("n", ColumnType::BigInteger)
        };
        let alter = DdlStatement::AlterColumn {
            table: "t".into(),
            from,
            to,
        };
        assert_eq!(
            alter.to_sql(Dialect::Postgres).unwrap(),
            vec![
                "ALTER TABLE \"t\" ALTER COLUMN \"n\" TYPE BIGINT USING \"n\"::BIGINT, ALTER COLUMN \"n\" DROP NOT NULL"
            ]
        );
        assert_eq!(
            alter.to_sql(Dialect::MySql).unwrap(),
            vec!["ALTER TABLE `t` MODIFY COLUMN `n` BIGINT NULL"]
        );
        let err = alter.to_sql(Dialect::Sqlite).unwrap_err();
        assert!(err.to_string().contains("rebuild"), "{err}");
    }

    fn counters() -> Table {
        Table::build("counters", |t| {
            t.id();
            t.unsigned_big_integer("hits").default(0);
            t.unsigned_big_integer("peak").nullable();
        })
    }

    #[test]
    fn golden_unsigned_postgres() {
        assert_eq!(
            create_table(&counters(), Dialect::Postgres).unwrap(),
            [
                "CREATE TABLE \"counters\" (\"id\" BIGINT GENERATED BY DEFAULT AS IDENTITY NOT NULL, \
                 \"hits\" BIGINT NOT NULL DEFAULT 0 CONSTRAINT \"counters_hits_unsigned\" CHECK (\"hits\" >= 0), \
                 \"peak\" BIGINT NULL CONSTRAINT \"counters_peak_unsigned\" CHECK (\"peak\" >= 0), \
                 PRIMARY KEY (\"id\"))"
            ]
        );
    }

    #[test]
    fn golden_unsigned_mysql() {
        assert_eq!(
            create_table(&counters(), Dialect::MySql).unwrap(),
            [
                "CREATE TABLE `counters` (`id` BIGINT AUTO_INCREMENT NOT NULL, \
                 `hits` BIGINT UNSIGNED NOT NULL DEFAULT 0, `peak` BIGINT UNSIGNED NULL, \
                 PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
            ]
        );
        // an unsigned auto-increment key (a `u64` id)
        let mut t = Table::build("accounts", |t| {
            t.unsigned_big_integer("id").primary();
        });
        t.columns[0].auto_increment = true;
        assert_eq!(
            create_table(&t, Dialect::MySql).unwrap(),
            [
                "CREATE TABLE `accounts` (`id` BIGINT UNSIGNED AUTO_INCREMENT NOT NULL, \
                 PRIMARY KEY (`id`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
            ]
        );
    }

    #[test]
    fn golden_unsigned_sqlite() {
        assert_eq!(
            create_table(&counters(), Dialect::Sqlite).unwrap(),
            [
                "CREATE TABLE \"counters\" (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, \
                 \"hits\" BIGINT NOT NULL DEFAULT 0 CONSTRAINT \"counters_hits_unsigned\" CHECK (\"hits\" >= 0), \
                 \"peak\" BIGINT NULL CONSTRAINT \"counters_peak_unsigned\" CHECK (\"peak\" >= 0))"
            ]
        );
        let add = DdlStatement::AddColumn {
            table: "counters".into(),
            column: Column {
                nullable: true,
                ..Column::new("low", ColumnType::UnsignedBigInteger)
            },
        };
        assert_eq!(
            add.to_sql(Dialect::Sqlite).unwrap(),
            ["ALTER TABLE \"counters\" ADD COLUMN \"low\" BIGINT NULL \
                 CONSTRAINT \"counters_low_unsigned\" CHECK (\"low\" >= 0)"]
        );
    }

    #[test]
    fn altering_to_and_from_unsigned() {
        let signed = Column::new("n", ColumnType::BigInteger);
        let unsigned = Column::new("n", ColumnType::UnsignedBigInteger);
        let alter = |from: &Column, to: &Column, d| {
            DdlStatement::AlterColumn {
                table: "t".into(),
                from: from.clone(),
                to: to.clone(),
            }
            .to_sql(d)
            .unwrap()
        };
        // PostgreSQL: the type stays BIGINT, only the check comes and goes
        assert_eq!(
            alter(&signed, &unsigned, Dialect::Postgres),
            ["ALTER TABLE \"t\" ADD CONSTRAINT \"t_n_unsigned\" CHECK (\"n\" >= 0)"]
        );
        assert_eq!(
            alter(&unsigned, &signed, Dialect::Postgres),
            ["ALTER TABLE \"t\" DROP CONSTRAINT IF EXISTS \"t_n_unsigned\""]
        );
        let int = Column::new("n", ColumnType::Integer);
        assert_eq!(
            alter(&int, &unsigned, Dialect::Postgres),
            [
                "ALTER TABLE \"t\" ALTER COLUMN \"n\" TYPE BIGINT USING \"n\"::BIGINT",
                "ALTER TABLE \"t\" ADD CONSTRAINT \"t_n_unsigned\" CHECK (\"n\" >= 0)"
            ]
        );
        let dec = Column::new(
            "n",
            ColumnType::Decimal {
                precision: 20,
                scale: 0,
            },
        );
        assert_eq!(
            alter(&unsigned, &dec, Dialect::Postgres),
            [
                "ALTER TABLE \"t\" DROP CONSTRAINT IF EXISTS \"t_n_unsigned\"",
                "ALTER TABLE \"t\" ALTER COLUMN \"n\" TYPE NUMERIC(20, 0) USING \"n\"::NUMERIC(20, 0)"
            ]
        );
        // the MySQL family restates the definition
        assert_eq!(
            alter(&signed, &unsigned, Dialect::MySql),
            ["ALTER TABLE `t` MODIFY COLUMN `n` BIGINT UNSIGNED NOT NULL"]
        );
        assert_eq!(
            alter(&unsigned, &signed, Dialect::MySql),
            ["ALTER TABLE `t` MODIFY COLUMN `n` BIGINT NOT NULL"]
        );
        // SQLite rebuilds the table, which writes the check with the column
        let from = Table::build("t", |t| {
            t.big_integer("n");
        });
        let to = Table::build("t", |t| {
            t.unsigned_big_integer("n");
        });
        let sql = DdlStatement::RebuildTable { from, to }
            .to_sql(Dialect::Sqlite)
            .unwrap();
        assert_eq!(
            sql[0],
            "CREATE TABLE \"_dal_rebuild_t\" (\"n\" BIGINT NOT NULL \
             CONSTRAINT \"t_n_unsigned\" CHECK (\"n\" >= 0))"
        );
    }

    #[test]
    fn rebuild_copies_shared_columns() {
        let from = Table::build("t", |t| {
            t.id();
            t.integer("a");
            t.integer("gone");
        });
        let to = Table::build("t", |t| {
            t.id();
            t.big_integer("a").index();
            t.string("new", 5).nullable();
        });
        let sql = DdlStatement::RebuildTable { from, to }
            .to_sql(Dialect::Sqlite)
            .unwrap();
        assert!(sql[0].starts_with("CREATE TABLE \"_dal_rebuild_t\""));
        assert_eq!(
            sql[1],
            "INSERT INTO \"_dal_rebuild_t\" (\"id\", \"a\") SELECT \"id\", \"a\" FROM \"t\""
        );
        assert_eq!(sql[2], "DROP TABLE \"t\"");
        assert_eq!(sql[3], "ALTER TABLE \"_dal_rebuild_t\" RENAME TO \"t\"");
        assert_eq!(sql[4], "CREATE INDEX \"t_a_index\" ON \"t\" (\"a\")");
    }
}
