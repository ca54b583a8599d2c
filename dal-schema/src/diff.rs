//! Schema diff: the ordered changes that turn a live schema into the desired one,
//! with changes that can lose data (drops, narrowing type changes) kept apart.
//!
//! ```
//! use dal_schema::{diff_tables, Dialect, Table};
//!
//! let live = Table::build("users", |t| { t.id(); t.string("name", 50); t.integer("age"); });
//! let desired = Table::build("users", |t| {
//!     t.id();
//!     t.string("name", 100);
//!     t.string("email", 150).nullable().unique();
//! });
//! let diff = diff_tables(&desired, &live, Dialect::Postgres);
//! let safe: Vec<String> = diff.changes.iter().map(|c| c.to_string()).collect();
//! assert_eq!(safe, [
//!     "add column users.email",
//!     "alter column users.name (string(50) -> string(100))",
//!     "create index users_email_unique on users",
//! ]);
//! assert_eq!(diff.destructive[0].to_string(), "drop column users.age");
//! ```

use std::fmt;

use crate::ddl::DdlStatement;
use crate::dialect::Dialect;
use crate::model::{Check, Column, ForeignKey, Index, Schema, Table};

/// One change from the live schema towards the desired one.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Create a missing table (with its indexes).
    CreateTable(Table),
    /// Drop a table the desired schema does not have.
    DropTable(String),
    /// Add a missing column.
    AddColumn {
        /// Table name.
        table: String,
        /// The column.
        column: Column,
    },
    /// Drop a column the desired schema does not have.
    DropColumn {
        /// Table name.
        table: String,
        /// Column name.
        column: String,
    },
    /// Change a column's type, nullability or default.
    AlterColumn {
        /// Table name.
        table: String,
        /// The live column.
        from: Column,
        /// The desired column.
        to: Column,
    },
    /// Create a missing index.
    CreateIndex {
        /// Table name.
        table: String,
        /// The index.
        index: Index,
    },
    /// Drop an index the desired schema does not have (or that changed).
    DropIndex {
        /// Table name.
        table: String,
        /// Index name.
        name: String,
    },
    /// Add a missing foreign key.
    AddForeignKey {
        /// Table name.
        table: String,
        /// The foreign key.
        foreign_key: ForeignKey,
    },
    /// Drop a foreign key the desired schema does not have (or that changed).
    DropForeignKey {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
    },
    /// Add a missing check.
    AddCheck {
        /// Table name.
        table: String,
        /// The check.
        check: Check,
    },
    /// Drop a check the desired schema does not have (or that changed).
    DropCheck {
        /// Table name.
        table: String,
        /// Constraint name.
        name: String,
    },
    /// SQLite only: rebuild a table whose columns or constraints changed in a way
    /// `ALTER TABLE` cannot express.
    RebuildTable {
        /// The live table.
        from: Table,
        /// The table to rebuild into.
        to: Table,
    },
}

impl Change {
    /// The DDL statement that performs this change.
    pub fn to_ddl(&self) -> DdlStatement {
        match self.clone() {
            Change::CreateTable(table) => DdlStatement::CreateTable {
                table,
                if_not_exists: false,
            },
            Change::DropTable(name) => DdlStatement::DropTable {
                name,
                if_exists: true,
            },
            Change::AddColumn { table, column } => DdlStatement::AddColumn { table, column },
            Change::DropColumn { table, column } => DdlStatement::DropColumn { table, column },
            Change::AlterColumn { table, from, to } => {
                DdlStatement::AlterColumn { table, from, to }
            }
            Change::CreateIndex { table, index } => DdlStatement::CreateIndex { table, index },
            Change::DropIndex { table, name } => DdlStatement::DropIndex { table, name },
            Change::AddForeignKey { table, foreign_key } => {
                DdlStatement::AddForeignKey { table, foreign_key }
            }
            Change::DropForeignKey { table, name } => DdlStatement::DropForeignKey { table, name },
            Change::AddCheck { table, check } => DdlStatement::AddCheck { table, check },
            Change::DropCheck { table, name } => DdlStatement::DropCheck { table, name },
            Change::RebuildTable { from, to } => DdlStatement::RebuildTable { from, to },
        }
    }

    /// The table the change concerns.
    pub fn table(&self) -> &str {
        match self {
            Change::CreateTable(t) => &t.name,
            Change::DropTable(n) => n,
            Change::RebuildTable { to, .. } => &to.name,
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::AlterColumn { table, .. }
            | Change::CreateIndex { table, .. }
            | Change::DropIndex { table, .. }
            | Change::AddForeignKey { table, .. }
            | Change::DropForeignKey { table, .. }
            | Change::AddCheck { table, .. }
            | Change::DropCheck { table, .. } => table,
        }
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CreateTable(t) => write!(f, "create table {}", t.name),
            Change::DropTable(n) => write!(f, "drop table {n}"),
            Change::AddColumn { table, column } => write!(f, "add column {table}.{}", column.name),
            Change::DropColumn { table, column } => write!(f, "drop column {table}.{column}"),
            Change::AlterColumn { table, from, to } => {
                let mut what = Vec::new();
                if from.ty != to.ty {
                    what.push(format!("{} -> {}", from.ty, to.ty));
                }
                if from.nullable != to.nullable {
                    what.push(if to.nullable { "nullable" } else { "not null" }.to_string());
                }
                if from.default != to.default {
                    what.push(match &to.default {
                        Some(d) => format!("default {d}"),
                        None => "no default".into(),
                    });
                }
                write!(f, "alter column {table}.{} ({})", to.name, what.join(", "))
            }
            Change::CreateIndex { table, index } => {
                write!(f, "create index {} on {table}", index.name)
            }
            Change::DropIndex { table, name } => write!(f, "drop index {name} on {table}"),
            Change::AddForeignKey { table, foreign_key } => {
                write!(f, "add foreign key {} on {table}", foreign_key.name)
            }
            Change::DropForeignKey { table, name } => {
                write!(f, "drop foreign key {name} on {table}")
            }
            Change::AddCheck { table, check } => write!(f, "add check {} on {table}", check.name),
            Change::DropCheck { table, name } => write!(f, "drop check {name} on {table}"),
            Change::RebuildTable { to, .. } => write!(f, "rebuild table {}", to.name),
        }
    }
}

/// The result of a diff.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaDiff {
    /// Changes that keep every existing value, in an order that can be applied.
    pub changes: Vec<Change>,
    /// Changes that can lose data or remove something the live schema has (drops,
    /// narrowing type changes), in an order that can be applied. Apply them only
    /// when asked to.
    pub destructive: Vec<Change>,
}

impl SchemaDiff {
    /// True when the live schema already matches.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.destructive.is_empty()
    }

    /// The DDL for the non-destructive changes, for `dialect`.
    pub fn statements(&self, dialect: Dialect) -> Result<Vec<String>, crate::ddl::DdlError> {
        let mut out = Vec::new();
        for c in &self.changes {
            out.extend(c.to_ddl().to_sql(dialect)?);
        }
        Ok(out)
    }

    /// The DDL for the destructive changes, for `dialect`.
    pub fn destructive_statements(
        &self,
        dialect: Dialect,
    ) -> Result<Vec<String>, crate::ddl::DdlError> {
        let mut out = Vec::new();
        for c in &self.destructive {
            out.extend(c.to_ddl().to_sql(dialect)?);
        }
        Ok(out)
    }
}

/// Diff two schemas. Tables are compared in the form the dialect can represent
/// ([`Table::normalized_for`]); new tables come in foreign-key dependency order.
pub fn diff_schemas(desired: &Schema, live: &Schema, dialect: Dialect) -> SchemaDiff {
    let mut diff = SchemaDiff::default();
    for table in desired.tables_in_dependency_order() {
        match live.table(&table.name) {
            None => diff.changes.push(Change::CreateTable(table.clone())),
            Some(l) => {
                let d = diff_tables(table, l, dialect);
                diff.changes.extend(d.changes);
                diff.destructive.extend(d.destructive);
            }
        }
    }
    let mut drops: Vec<&Table> = live
        .tables
        .iter()
        .filter(|t| desired.table(&t.name).is_none())
        .collect();
    // drop referencing tables before the tables they reference
    let ordered = Schema {
        tables: drops.iter().map(|t| (*t).clone()).collect(),
    };
    let order: Vec<String> = ordered
        .tables_in_dependency_order()
        .into_iter()
        .rev()
        .map(|t| t.name.clone())
        .collect();
    drops.sort_by_key(|t| order.iter().position(|n| *n == t.name));
    for t in drops {
        diff.destructive.push(Change::DropTable(t.name.clone()));
    }
    diff
}

/// Diff one table (same name) against its live version.
pub fn diff_tables(desired: &Table, live: &Table, dialect: Dialect) -> SchemaDiff {
    let want = desired.normalized_for(dialect);
    let have = live.normalized_for(dialect);
    let name = &want.name;
    let mut safe = Vec::new();
    let mut destructive = Vec::new();
    let mut rebuild_needed = false;
    let caps = dialect.capabilities();

    let mut add_columns = Vec::new();
    let mut alters = Vec::new();
    for c in &want.columns {
        match have.column(&c.name) {
            None => {
                let mut col = c.clone();
                col.unique = false; // the unique index is created below
                add_columns.push(Change::AddColumn {
                    table: name.clone(),
                    column: col,
                });
            }
            Some(h) => {
                let same = h.ty == c.ty && h.nullable == c.nullable && h.default == c.default;
                if !same {
                    let mut from = h.clone();
                    let mut to = c.clone();
                    from.unique = false;
                    to.unique = false;
                    let change = Change::AlterColumn {
                        table: name.clone(),
                        from: from.clone(),
                        to: to.clone(),
                    };
                    if !caps.alter_column {
                        rebuild_needed = true;
                    }
                    if from.ty.widens_to(&to.ty) {
                        alters.push(change);
                    } else {
                        destructive.push(change);
                    }
                }
            }
        }
    }
    safe.extend(add_columns);
    if caps.alter_column {
        safe.extend(alters);
    }

    // indexes (including unique column flags)
    let want_idx = want.all_indexes();
    let have_idx = have.all_indexes();
    let mut drop_idx = Vec::new();
    for i in &have_idx {
        match want_idx.iter().find(|w| w.name == i.name) {
            Some(w) if w == i => {}
            Some(_) => drop_idx.push(Change::DropIndex {
                table: name.clone(),
                name: i.name.clone(),
            }),
            None => drop_idx.push(Change::DropIndex {
                table: name.clone(),
                name: i.name.clone(),
            }),
        }
    }
    let mut create_idx = Vec::new();
    for i in &want_idx {
        if have_idx.iter().find(|h| h.name == i.name) != Some(i) {
            create_idx.push(Change::CreateIndex {
                table: name.clone(),
                index: i.clone(),
            });
        }
    }
    // an index whose definition changed must be dropped before it is re-created
    let changed_idx: Vec<Change> = drop_idx
        .iter()
        .filter(|d| matches!(d, Change::DropIndex { name: n, .. } if want_idx.iter().any(|w| &w.name == n)))
        .cloned()
        .collect();
    safe.extend(changed_idx.iter().cloned());
    safe.extend(create_idx);
    destructive.extend(drop_idx.into_iter().filter(|d| !changed_idx.contains(d)));

    // foreign keys
    for fk in &want.foreign_keys {
        match have.foreign_keys.iter().find(|h| h.name == fk.name) {
            Some(h) if h == fk => {}
            found => {
                if !caps.alter_add_foreign_key {
                    rebuild_needed = true;
                    continue;
                }
                if found.is_some() {
                    safe.push(Change::DropForeignKey {
                        table: name.clone(),
                        name: fk.name.clone(),
                    });
                }
                safe.push(Change::AddForeignKey {
                    table: name.clone(),
                    foreign_key: fk.clone(),
                });
            }
        }
    }
    for fk in &have.foreign_keys {
        if !want.foreign_keys.iter().any(|w| w.name == fk.name) {
            destructive.push(Change::DropForeignKey {
                table: name.clone(),
                name: fk.name.clone(),
            });
        }
    }

    // checks (compared by name and normalized expression)
    for ck in &want.checks {
        match have.checks.iter().find(|h| h.name == ck.name) {
            Some(h) if h.expression == ck.expression => {}
            found => {
                if dialect == Dialect::Sqlite {
                    rebuild_needed = true;
                    continue;
                }
                if found.is_some() {
                    safe.push(Change::DropCheck {
                        table: name.clone(),
                        name: ck.name.clone(),
                    });
                }
                let original = desired
                    .checks
                    .iter()
                    .find(|c| c.name == ck.name)
                    .cloned()
                    .unwrap_or_else(|| ck.clone());
                safe.push(Change::AddCheck {
                    table: name.clone(),
                    check: original,
                });
            }
        }
    }
    for ck in &have.checks {
        if !want.checks.iter().any(|w| w.name == ck.name) {
            destructive.push(Change::DropCheck {
                table: name.clone(),
                name: ck.name.clone(),
            });
        }
    }

    // column drops last (after dropping what references them)
    for c in &have.columns {
        if want.column(&c.name).is_none() {
            destructive.push(Change::DropColumn {
                table: name.clone(),
                column: c.name.clone(),
            });
        }
    }

    if rebuild_needed {
        // SQLite: rebuild into the desired shape while keeping the columns,
        // indexes and constraints only the live table has (dropping them is a
        // destructive change reported separately).
        let mut to = desired.clone();
        for c in &live.columns {
            if to.column(&c.name).is_none() {
                to.columns.push(c.clone());
            }
        }
        for fk in &live.foreign_keys {
            if !to.foreign_keys.iter().any(|f| f.name == fk.name) {
                to.foreign_keys.push(fk.clone());
            }
        }
        for ck in &live.checks {
            if !to.checks.iter().any(|c| c.name == ck.name) {
                to.checks.push(ck.clone());
            }
        }
        for idx in &live.indexes {
            if !to.indexes.iter().any(|i| i.name == idx.name) {
                to.indexes.push(idx.clone());
            }
        }
        let narrowing = destructive
            .iter()
            .any(|d| matches!(d, Change::AlterColumn { .. }));
        destructive.retain(|d| !matches!(d, Change::AlterColumn { .. }));
        safe.retain(|c| {
            !matches!(
                c,
                Change::AddColumn { .. }
                    | Change::AlterColumn { .. }
                    | Change::CreateIndex { .. }
                    | Change::DropIndex { .. }
            )
        });
        let rebuild = Change::RebuildTable {
            from: live.clone(),
            to,
        };
        if narrowing {
            destructive.insert(0, rebuild);
        } else {
            safe.push(rebuild);
        }
    }

    SchemaDiff {
        changes: safe,
        destructive,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ColumnType, ReferentialAction};

    #[test]
    fn identical_tables_have_no_diff() {
        let t = Table::build("t", |t| {
            t.id();
            t.string("a", 10).unique();
            t.timestamps();
            t.check("[a] <> ''");
        });
        for d in Dialect::ALL {
            assert!(diff_tables(&t, &t, d).is_empty());
        }
    }

    #[test]
    fn timestamp_tz_matches_datetime_on_mysql_only() {
        let want = Table::build("t", |t| {
            t.timestamp_tz("at");
        });
        let live = Table::build("t", |t| {
            t.timestamp("at");
        });
        assert!(diff_tables(&want, &live, Dialect::MySql).is_empty());
        let d = diff_tables(&want, &live, Dialect::Postgres);
        assert_eq!(d.changes.len(), 1);
    }

    #[test]
    fn new_tables_in_dependency_order_and_drops_reported() {
        let desired = Schema::new()
            .create("posts", |t| {
                t.id();
                t.foreign_id("user_id").references("users");
            })
            .create("users", |t| {
                t.id();
            });
        let live = Schema::new().create("legacy", |t| {
            t.id();
        });
        let diff = diff_schemas(&desired, &live, Dialect::Postgres);
        let names: Vec<String> = diff.changes.iter().map(|c| c.to_string()).collect();
        assert_eq!(names, ["create table users", "create table posts"]);
        assert_eq!(diff.destructive, vec![Change::DropTable("legacy".into())]);
    }

    #[test]
    fn narrowing_is_destructive() {
        let live = Table::build("t", |t| {
            t.big_integer("n");
        });
        let want = Table::build("t", |t| {
            t.integer("n");
        });
        let d = diff_tables(&want, &live, Dialect::Postgres);
        assert!(d.changes.is_empty());
        assert!(matches!(d.destructive[0], Change::AlterColumn { .. }));
    }

    #[test]
    fn signedness_changes_are_destructive_both_ways() {
        let signed = Table::build("t", |t| {
            t.big_integer("n");
        });
        let unsigned = Table::build("t", |t| {
            t.unsigned_big_integer("n");
        });
        for d in Dialect::ALL {
            assert!(diff_tables(&unsigned, &unsigned, d).is_empty(), "{d}");
            for (want, live) in [(&unsigned, &signed), (&signed, &unsigned)] {
                let diff = diff_tables(want, live, d);
                assert_eq!(diff.destructive.len(), 1, "{d}: {diff:?}");
                assert!(diff.changes.is_empty(), "{d}: {diff:?}");
            }
        }
        let wide = Table::build("t", |t| {
            t.decimal("n", 20, 0);
        });
        let d = diff_tables(&wide, &unsigned, Dialect::Postgres);
        assert_eq!(d.changes.len(), 1, "every u64 fits 20 digits: {d:?}");
    }

    #[test]
    fn sqlite_rebuilds_for_alter_and_keeps_live_only_columns() {
        let live = Table::build("t", |t| {
            t.id();
            t.integer("n");
            t.integer("extra");
        });
        let want = Table::build("t", |t| {
            t.id();
            t.integer("n").nullable();
            t.foreign_id("p")
                .references("t")
                .on_delete(ReferentialAction::Cascade)
                .nullable();
        });
        let d = diff_tables(&want, &live, Dialect::Sqlite);
        assert_eq!(d.changes.len(), 1, "{:?}", d.changes);
        match &d.changes[0] {
            Change::RebuildTable { to, .. } => {
                assert!(to.column("extra").is_some());
                assert!(to.column("p").is_some());
                assert!(to.column("n").unwrap().nullable);
            }
            other => panic!("unexpected {other}"),
        }
        assert_eq!(d.destructive.len(), 1);
        assert_eq!(d.destructive[0].to_string(), "drop column t.extra");
        let _ = ColumnType::Text;
    }
}
