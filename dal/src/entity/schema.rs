//! `ensure_schema`: create an entity's table and history table, add columns the
//! struct gained, and report (not apply) differences that would lose data.

use dal_schema::{Change, Table, diff_tables};

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
    dal_schema::entity::history_table(table, E::INFO.id_column)
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
    refuse_spider(db, &table.name).await?;
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

/// A MariaDB Spider table is a front over tables of other servers: its
/// columns and history triggers belong to those backend tables (triggers on
/// the front would record every version a second time), so `ensure_schema`
/// there is refused.
async fn refuse_spider(db: &Db, table: &str) -> Result<()> {
    if db.dialect() != dal_schema::Dialect::MySql {
        return Ok(());
    }
    let engine: Option<(String,)> = db
        .fetch_optional_as(
            "SELECT ENGINE FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
            (table,),
        )
        .await?;
    if engine.is_some_and(|(e,)| e.eq_ignore_ascii_case("SPIDER")) {
        return Err(Error::Unsupported(format!(
            "`{table}` is a Spider table: its schema and history triggers belong to the backend \
             servers' tables (run ensure_schema or the migrations on each backend, then create \
             the Spider table on the front by hand)"
        )));
    }
    Ok(())
}
