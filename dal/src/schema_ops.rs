//! Running DDL from blueprints: create and drop tables, apply schema changes.
//!
//! On PostgreSQL and SQLite a group of statements runs in one transaction, so a
//! failure leaves nothing half-done. MySQL and MariaDB commit every DDL statement
//! implicitly; there the statements run one by one and an error says which ones
//! had already been applied.

use std::panic::Location;

use dal_schema::ddl::{self, DdlStatement};
use dal_schema::{Dialect, Table};

use crate::backend::Conn;
use crate::db::Db;
use crate::error::{Error, Result};

impl Db {
    /// Validate `table` and create it with its indexes.
    pub async fn create_table(&self, table: &Table) -> Result<()> {
        dal_schema::validate_table(table)?;
        let sql = ddl::create_table(table, self.dialect())?;
        self.run_ddl(&sql, false).await
    }

    /// Create `table` and its indexes unless a table of that name exists.
    pub async fn create_table_if_not_exists(&self, table: &Table) -> Result<()> {
        dal_schema::validate_table(table)?;
        if !self.dialect().capabilities().index_if_not_exists {
            // MySQL 8 has no CREATE INDEX IF NOT EXISTS: check the table instead
            if self.table_exists(&table.name).await? {
                return Ok(());
            }
            return self.create_table(table).await;
        }
        let sql = ddl::create_table_if_not_exists(table, self.dialect())?;
        self.run_ddl(&sql, false).await
    }

    /// `DROP TABLE IF EXISTS name`.
    pub async fn drop_table_if_exists(&self, name: &str) -> Result<()> {
        self.run_ddl(&[ddl::drop_table_if_exists(name, self.dialect())], false)
            .await
    }

    /// Apply one DDL statement (several SQL statements on some dialects).
    pub async fn apply_ddl(&self, statement: &DdlStatement) -> Result<()> {
        let sql = statement.to_sql(self.dialect())?;
        let rebuild = matches!(statement, DdlStatement::RebuildTable { .. });
        self.run_ddl(&sql, rebuild).await
    }

    /// Whether a table called `name` exists (in the current schema / database).
    pub async fn table_exists(&self, name: &str) -> Result<bool> {
        let sql = self.dialect().runtime_sql().table_exists;
        let n: i64 = self.fetch_scalar(sql, (name,)).await?;
        Ok(n > 0)
    }

    /// Run DDL statements: in one transaction where DDL is transactional, one by
    /// one (reporting what was applied) where it is not (MySQL).
    pub(crate) async fn run_ddl(&self, statements: &[String], sqlite_rebuild: bool) -> Result<()> {
        let busy = self.ddl_options();
        let mut conn = self
            .acquire_conn(Location::caller(), &self.exec_options(None).deadline)
            .await?;
        if !self.dialect().capabilities().transactional_ddl {
            for (i, sql) in statements.iter().enumerate() {
                if let Err(e) = conn.execute_raw(sql, busy).await {
                    return Err(partial_ddl_error(e, &statements[..i]));
                }
            }
            return Ok(());
        }
        if sqlite_rebuild {
            conn.execute_raw("PRAGMA foreign_keys = OFF", busy).await?;
        }
        let r = run_in_transaction(&mut conn, statements, busy, self.dialect()).await;
        if sqlite_rebuild {
            let check = if r.is_ok() {
                foreign_key_violations(&mut conn).await
            } else {
                Ok(())
            };
            conn.execute_raw("PRAGMA foreign_keys = ON", busy).await?;
            check?;
        }
        r
    }
}

async fn run_in_transaction(
    conn: &mut Conn,
    statements: &[String],
    busy: crate::backend::ExecOptions,
    dialect: Dialect,
) -> Result<()> {
    conn.execute_raw(dialect.runtime_sql().begin_write, busy)
        .await?;
    conn.set_in_transaction(true);
    for sql in statements {
        if let Err(e) = conn.execute_raw(sql, busy).await {
            conn.set_in_transaction(false);
            if conn.execute_raw("ROLLBACK", busy).await.is_err() {
                conn.mark_broken();
            }
            return Err(e);
        }
    }
    conn.set_in_transaction(false);
    if let Err(e) = conn.execute_raw("COMMIT", busy).await {
        conn.mark_broken();
        return Err(e);
    }
    Ok(())
}

async fn foreign_key_violations(conn: &mut Conn) -> Result<()> {
    if let Some((table, parent)) = conn.sqlite_foreign_key_violation()? {
        return Err(Error::ConstraintViolation {
            kind: crate::error::ConstraintKind::ForeignKey,
            constraint: None,
            message: format!(
                "after rebuilding, rows of `{table}` reference missing rows of `{parent}`"
            ),
            code: None,
        });
    }
    Ok(())
}

fn partial_ddl_error(e: Error, applied: &[String]) -> Error {
    if applied.is_empty() {
        return e;
    }
    Error::Migration {
        module: String::new(),
        name: String::from("ddl"),
        message: e.to_string(),
        applied: applied.to_vec(),
    }
}
