//! `ensure_schema`: create an entity's table and history table, add columns the
//! struct gained, and report (not apply) differences that would lose data.

use dal_schema::entity::{history_columns as h, history_table_name};
use dal_schema::{Change, Column, ColumnType, Table, diff_tables};

use super::Entity;
use crate::db::Db;
use crate::error::{Error, Result};

/// What [`Entity::ensure_schema`] did and found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaReport {
    /// Tables created (the entity's and its history table).
    pub created: Vec<String>,
    /// Changes applied to existing tables (new columns, indexes, ...).
    pub applied: Vec<Change>,
    /// Differences that would lose data or remove something (dropped columns,
    /// narrowing types, removed indexes): reported, not applied.
    pub destructive: Vec<Change>,
}

impl SchemaReport {
    /// True when nothing was created or changed.
    pub fn is_unchanged(&self) -> bool {
        self.created.is_empty() && self.applied.is_empty()
    }
}

/// The history table of an entity: bookkeeping columns, then a copy of every
/// column of the entity's table but the audit ones (nullable but the id, no
/// other keys or constraints, so old versions survive later schema changes),
/// keyed by (id, version) and stored in key order (a `WITHOUT ROWID` table on
/// SQLite, clustered by InnoDB): one b-tree to write per version. The table's
/// triggers fill it.
pub(crate) fn history_blueprint<E: Entity>(table: &Table) -> Table {
    let info = E::INFO;
    let name = history_table_name(info.table);
    let id = info.id_column.to_string();
    let mut t = Table::build(&name, |t| {
        t.big_integer(h::VERSION);
        t.string(h::OPERATION, 16);
        t.string(h::ACTOR, 255).nullable();
        t.text(h::COMMENT).nullable();
        t.timestamp_tz(h::AT);
        t.primary([id.clone(), h::VERSION.to_string()]);
        t.without_rowid();
    });
    // the copies compare their strings as the table does
    t.collation = table.collation.clone();
    let audit: Vec<&str> = info
        .columns
        .iter()
        .filter(|c| c.role.is_audit())
        .map(|c| c.name)
        .collect();
    for c in table
        .columns
        .iter()
        .filter(|c| !audit.contains(&c.name.as_str()))
    {
        let ty = match &c.ty {
            // the history keeps values the enumeration may later drop
            ColumnType::Enumeration { .. } => ColumnType::String { length: 255 },
            other => other.clone(),
        };
        let key = c.name == id;
        // old versions get the column's default when a column is added later
        let default = c
            .default
            .clone()
            .filter(|d| !key && !matches!(d, dal_schema::DefaultValue::CurrentTimestamp));
        t.columns.push(Column {
            nullable: !key,
            default,
            ..Column::new(c.name.clone(), ty)
        });
    }
    t
}

async fn ensure_table(db: &Db, want: &Table, report: &mut SchemaReport) -> Result<()> {
    match db.introspect_table(&want.name).await? {
        None => {
            db.create_table(want).await?;
            report.created.push(want.name.clone());
        }
        Some(live) => {
            let diff = diff_tables(want, &live, db.dialect());
            for change in diff.changes {
                if let Change::AddColumn { column, .. } = &change
                    && !column.nullable
                    && column.default.is_none()
                    && !column.auto_increment
                {
                    // the existing rows would have no value for it
                    report.destructive.push(change);
                    continue;
                }
                db.apply_ddl(&change.to_ddl()).await?;
                report.applied.push(change);
            }
            report.destructive.extend(diff.destructive);
        }
    }
    Ok(())
}

pub(crate) async fn ensure_schema<E: Entity>(db: &Db) -> Result<SchemaReport> {
    let table = E::blueprint();
    dal_schema::validate_table(&table).map_err(Error::Schema)?;
    let mut report = SchemaReport::default();
    ensure_table(db, &table, &mut report).await?;
    if E::INFO.history {
        let history = history_blueprint::<E>(&table);
        ensure_table(db, &history, &mut report).await?;
        // the triggers name every column: recreate them after any change
        let triggers = dal_schema::entity::history_triggers(&E::INFO.shape(), db.dialect());
        db.run_ddl(&triggers, false).await?;
    }
    Ok(report)
}
