//! The tracking table: its blueprint and the statements that read and write it.

use chrono::{DateTime, Utc};
use dal_schema::{Dialect, Table};

use crate::db::Db;
use crate::error::Result;

/// One row of the tracking table.
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub module: String,
    pub name: String,
    pub order_index: i64,
    pub applied_at: DateTime<Utc>,
    pub checksum: String,
    pub duration_ms: i64,
    pub applied_seq: i64,
}

type RecordRow = (String, String, i64, DateTime<Utc>, String, i64, i64);

impl From<RecordRow> for Record {
    fn from(r: RecordRow) -> Record {
        Record {
            module: r.0,
            name: r.1,
            order_index: r.2,
            applied_at: r.3,
            checksum: r.4,
            duration_ms: r.5,
            applied_seq: r.6,
        }
    }
}

/// The tracking table's blueprint.
pub(super) fn blueprint(name: &str) -> Table {
    Table::build(name, |t| {
        t.string("module", 255);
        t.string("name", 255);
        t.big_integer("order_index");
        t.timestamp_tz("applied_at");
        t.string("checksum", 64);
        t.big_integer("duration_ms");
        t.big_integer("applied_seq");
        t.primary(["module", "name"]);
    })
}

/// `CREATE TABLE IF NOT EXISTS` for the tracking table.
pub(super) fn create_sql(name: &str, dialect: Dialect) -> Result<Vec<String>> {
    Ok(dal_schema::ddl::create_table_if_not_exists(
        &blueprint(name),
        dialect,
    )?)
}

/// Every row, oldest first (portable SQL).
pub(super) fn select_sql(table: &str) -> String {
    format!(
        "SELECT [module], [name], [order_index], [applied_at], [checksum], [duration_ms], [applied_seq] \
         FROM [{table}] ORDER BY [applied_seq], [module], [name]"
    )
}

/// Record an applied migration (portable SQL, 7 parameters).
pub(super) fn insert_sql(table: &str) -> String {
    format!(
        "INSERT INTO [{table}] ([module], [name], [order_index], [applied_at], [checksum], [duration_ms], [applied_seq]) \
         VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
}

/// Forget a rolled-back migration (portable SQL, 2 parameters).
pub(super) fn delete_sql(table: &str) -> String {
    format!("DELETE FROM [{table}] WHERE [module] = ? AND [name] = ?")
}

/// Read the rows through the pool (no lock; for `status`). Empty when the
/// table does not exist.
pub(super) async fn read(db: &Db, table: &str) -> Result<Vec<Record>> {
    if !db.table_exists(table).await? {
        return Ok(Vec::new());
    }
    let sql = select_sql(table);
    let rows: Vec<RecordRow> = db.fetch_all_as(&sql, ()).await?;
    Ok(rows.into_iter().map(Record::from).collect())
}

/// Decode rows read on a session.
pub(super) fn decode(rows: Vec<RecordRow>) -> Vec<Record> {
    rows.into_iter().map(Record::from).collect()
}

pub(super) type Row = RecordRow;

#[cfg(test)]
mod tests {
    use super::*;

    /// The tracking table deployed databases have. NEVER CHANGE IT without a
    /// migration plan: every version must read and write the tables earlier
    /// versions created (name, columns, types, key), or deployed databases
    /// break at their next migration run.
    #[test]
    fn tracking_table_is_pinned() {
        assert_eq!(crate::migrate::DEFAULT_TABLE, "dal_migrations");
        let ddl = |d| create_sql(crate::migrate::DEFAULT_TABLE, d).unwrap();
        assert_eq!(
            ddl(Dialect::Postgres),
            [
                "CREATE TABLE IF NOT EXISTS \"dal_migrations\" (\"module\" VARCHAR(255) NOT NULL, \
                 \"name\" VARCHAR(255) NOT NULL, \"order_index\" BIGINT NOT NULL, \
                 \"applied_at\" TIMESTAMPTZ NOT NULL, \"checksum\" VARCHAR(64) NOT NULL, \
                 \"duration_ms\" BIGINT NOT NULL, \"applied_seq\" BIGINT NOT NULL, \
                 PRIMARY KEY (\"module\", \"name\"))"
            ]
        );
        assert_eq!(
            ddl(Dialect::MySql),
            [
                "CREATE TABLE IF NOT EXISTS `dal_migrations` (`module` VARCHAR(255) NOT NULL, \
                 `name` VARCHAR(255) NOT NULL, `order_index` BIGINT NOT NULL, \
                 `applied_at` DATETIME(6) NOT NULL, `checksum` VARCHAR(64) NOT NULL, \
                 `duration_ms` BIGINT NOT NULL, `applied_seq` BIGINT NOT NULL, \
                 PRIMARY KEY (`module`, `name`)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
            ]
        );
        assert_eq!(
            ddl(Dialect::Sqlite),
            [
                "CREATE TABLE IF NOT EXISTS \"dal_migrations\" (\"module\" VARCHAR(255) NOT NULL, \
                 \"name\" VARCHAR(255) NOT NULL, \"order_index\" BIGINT NOT NULL, \
                 \"applied_at\" TIMESTAMPTZ NOT NULL, \"checksum\" VARCHAR(64) NOT NULL, \
                 \"duration_ms\" BIGINT NOT NULL, \"applied_seq\" BIGINT NOT NULL, \
                 PRIMARY KEY (\"module\", \"name\"))"
            ]
        );
    }
}
