//! Writing dynamic entities (objects validated in `incoming.rs`): chunked multi-row
//! inserts, updates with optimistic version checks, soft delete and restore, and
//! the history row of every write, each in the same transaction as the write.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value as J;

use super::incoming::{Mode, PendingRow, object_error};
use super::kind::{self, Cell, FieldKind};
use super::object::{self, with_system_fields};
use super::schema::{self, Meta, Names};
use crate::codec::SqlKind;
use crate::entity::Operation;
use crate::error::{Error, Result};
use crate::sequence::MySqlIds;
use crate::transaction::Transaction;
use dal_schema::Dialect;

/// Rows per multi-row INSERT: as many as the bind limit allows, at most the
/// database's [`bulk_rows_per_statement`](crate::DatabaseConfig::bulk_rows_per_statement)
/// (the same setting as entities' `save_all`).
fn rows_per_insert(tx: &Transaction<'_>, per_row: usize) -> usize {
    let max = tx.dialect().capabilities().max_bind_params;
    (max / per_row.max(1))
        .min(tx.db().config().bulk_rows_per_statement())
        .max(1)
}

/// Who made a write and why.
#[derive(Debug, Clone)]
pub(crate) struct Audit {
    pub actor: Option<String>,
    pub comment: Option<String>,
    pub now: DateTime<Utc>,
}

impl Audit {
    pub(crate) fn new(actor: Option<String>, comment: Option<String>) -> Self {
        Audit {
            actor,
            comment,
            now: kind::truncate_micros(Utc::now()).unwrap_or_else(Utc::now),
        }
    }
}

/// A history row to write.
struct Version {
    entity_id: i64,
    version: i64,
    operation: Operation,
    data: J,
}

/// A batch of saves, run (and re-run after a deadlock) as one transaction.
pub(crate) struct SaveJob {
    pub names: Arc<Names>,
    pub rows: Vec<PendingRow>,
    /// Field kinds after the schema update (for the columns of inserts).
    pub meta: Arc<Meta>,
    pub audit: Audit,
    pub mode: Mode,
}

impl SaveJob {
    /// Returns the saved objects in the caller's order and, when updates read
    /// it, the field metadata as the transaction saw it.
    pub(crate) async fn run(&self, tx: &mut Transaction<'_>) -> Result<(Vec<J>, Option<Meta>)> {
        let mut out: Vec<Option<J>> = vec![None; self.rows.len()];
        let mut versions = Vec::with_capacity(self.rows.len());
        if self.mode == Mode::Import {
            let rows: Vec<&PendingRow> = self.rows.iter().collect();
            self.import(tx, &rows, &mut out, &mut versions).await?;
        }
        let inserts: Vec<&PendingRow> = self.rows.iter().filter(|r| r.id.is_none()).collect();
        let updates: Vec<&PendingRow> = match self.mode {
            Mode::Save => self.rows.iter().filter(|r| r.id.is_some()).collect(),
            Mode::Import => Vec::new(),
        };
        self.insert(tx, &inserts, false, &mut out, &mut versions)
            .await?;
        let mut fresh = None;
        if !updates.is_empty() {
            // replace semantics: every known column is written, including fields
            // other processes added since this handle read the metadata
            let meta = schema::load_in(tx, &self.names).await?;
            // without RETURNING, the rows' versions are read (and locked) up
            // front in a few statements instead of after each update
            let mut locked = if tx.dialect().capabilities().returning {
                None
            } else {
                Some(self.lock_rows(tx, &updates).await?)
            };
            for row in updates {
                self.update(tx, &meta, row, locked.as_mut(), &mut out, &mut versions)
                    .await?;
            }
            fresh = Some(meta);
        }
        insert_history(tx, &self.names, &self.audit, versions).await?;
        let objects = out
            .into_iter()
            .map(|o| o.ok_or_else(|| Error::Driver("an object of the batch was not saved".into())))
            .collect::<Result<Vec<_>>>()?;
        Ok((objects, fresh))
    }

    /// Insert rows with the ids they carry, after checking that no row has one
    /// of them yet, and keep the id sequence ahead of them.
    async fn import(
        &self,
        tx: &mut Transaction<'_>,
        rows: &[&PendingRow],
        out: &mut [Option<J>],
        versions: &mut Vec<Version>,
    ) -> Result<()> {
        let entity = &self.names.entity;
        let ids: Vec<(usize, i64)> = rows
            .iter()
            .map(|r| (r.index, r.id.unwrap_or_default()))
            .collect();
        for (sql, params) in taken_ids_sql(entity, &ids, tx.dialect()) {
            let taken: Vec<(i64,)> = tx.fetch_all_as(&sql, params).await?;
            if let Some(&(id,)) = taken.iter().min() {
                return Err(id_taken(entity, &ids, id));
            }
        }
        let max = ids.iter().map(|&(_, id)| id).max().unwrap_or_default();
        let advance = crate::sequence::before_explicit_ids_in(tx, entity, "id", max).await?;
        self.insert(tx, rows, true, out, versions).await?;
        crate::sequence::after_explicit_ids_in(tx, advance).await
    }

    /// Multi-row inserts: with the rows' own ids (`explicit_ids`), or with ids
    /// the database generates.
    async fn insert(
        &self,
        tx: &mut Transaction<'_>,
        rows: &[&PendingRow],
        explicit_ids: bool,
        out: &mut [Option<J>],
        versions: &mut Vec<Version>,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let dialect = tx.dialect();
        let caps = dialect.capabilities();
        // the union of the batch's fields; absent ones are typed NULLs
        let mut columns: Vec<(&str, FieldKind)> = Vec::new();
        for row in rows {
            for name in row.cells.keys() {
                if !columns.iter().any(|(c, _)| c == name) {
                    let kind = self.meta.fields.get(name).map(|f| f.kind).ok_or_else(|| {
                        Error::Driver(format!("field `{name}` missing after the schema update"))
                    })?;
                    columns.push((name, kind));
                }
            }
        }
        columns.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let nulls: Vec<Cell> = columns
            .iter()
            .map(|(_, k)| Cell::Null(k.sql_kind()))
            .collect();
        let per_row = 3 + usize::from(explicit_ids) + columns.len();
        let mut chunk_rows = rows_per_insert(tx, per_row);
        let mut id_step = 1;
        let mut returning = caps.returning && !explicit_ids;
        if !explicit_ids && !caps.returning && rows.len() > 1 {
            // Without RETURNING the server reports the first id of a multi-row
            // insert; see `MySqlIds` for when the others can be known
            match crate::sequence::mysql_ids_in(tx).await? {
                MySqlIds::Step(step) => id_step = step,
                MySqlIds::Returning => returning = true,
                MySqlIds::OneByOne => chunk_rows = 1,
            }
        }
        let version_cell = Cell::Int(1);
        let now_cell = Cell::Timestamp(self.audit.now);
        let id_cells: Vec<Cell> = if explicit_ids {
            rows.iter()
                .map(|r| Cell::Int(r.id.unwrap_or_default()))
                .collect()
        } else {
            Vec::new()
        };
        for (c, chunk) in rows.chunks(chunk_rows).enumerate() {
            let sql = insert_sql(
                &self.names.entity,
                &columns,
                chunk.len(),
                returning,
                explicit_ids,
            );
            let mut params: Vec<&Cell> = Vec::with_capacity(chunk.len() * per_row);
            for (k, row) in chunk.iter().enumerate() {
                if explicit_ids {
                    params.push(&id_cells[c * chunk_rows + k]);
                }
                params.extend([&version_cell, &now_cell, &now_cell]);
                for ((name, _), null) in columns.iter().zip(&nulls) {
                    params.push(row.cells.get(*name).unwrap_or(null));
                }
            }
            let ids: Vec<i64> = if explicit_ids {
                tx.execute(&sql, params).await?;
                chunk.iter().map(|r| r.id.unwrap_or_default()).collect()
            } else if returning {
                let mut ids: Vec<i64> = tx
                    .fetch_all_as::<(i64,), _>(&sql, params)
                    .await?
                    .into_iter()
                    .map(|(id,)| id)
                    .collect();
                // generated ids grow in the order the VALUES rows are inserted;
                // RETURNING itself promises no order
                ids.sort_unstable();
                ids
            } else {
                let first = tx
                    .execute(&sql, params)
                    .await?
                    .last_insert_id
                    .ok_or_else(|| {
                        Error::Driver("the server reported no id for the inserted row".into())
                    })?;
                (0..chunk.len() as i64)
                    .map(|k| first + k * id_step)
                    .collect()
            };
            if ids.len() != chunk.len() {
                return Err(Error::Driver(format!(
                    "{} rows inserted, {} ids returned",
                    chunk.len(),
                    ids.len()
                )));
            }
            for (row, id) in chunk.iter().zip(ids) {
                let object = with_system_fields(
                    row.data.clone(),
                    id,
                    1,
                    self.audit.now,
                    self.audit.now,
                    None,
                );
                versions.push(Version {
                    entity_id: id,
                    version: 1,
                    operation: Operation::Insert,
                    data: object.clone(),
                });
                out[row.index] = Some(object);
            }
        }
        Ok(())
    }

    /// `id -> (version, created_at)` of the live rows `rows` update, locked
    /// until the end of the transaction (`SELECT .. FOR UPDATE`).
    async fn lock_rows(
        &self,
        tx: &mut Transaction<'_>,
        rows: &[&PendingRow],
    ) -> Result<HashMap<i64, (i64, DateTime<Utc>)>> {
        let mut locked = HashMap::with_capacity(rows.len());
        let per_statement = tx.dialect().capabilities().max_bind_params.clamp(1, 1000);
        for chunk in rows.chunks(per_statement) {
            let sql = format!(
                "SELECT [id], [version], [created_at] FROM [{}] WHERE [id] IN ({}) AND [deleted_at] IS NULL FOR UPDATE",
                self.names.entity,
                vec!["?"; chunk.len()].join(", ")
            );
            let ids: Vec<Cell> = chunk
                .iter()
                .map(|r| Cell::Int(r.id.unwrap_or_default()))
                .collect();
            let found: Vec<(i64, i64, DateTime<Utc>)> = tx.fetch_all_as(&sql, ids).await?;
            locked.extend(found.into_iter().map(|(id, v, c)| (id, (v, c))));
        }
        Ok(locked)
    }

    async fn update(
        &self,
        tx: &mut Transaction<'_>,
        meta: &Meta,
        row: &PendingRow,
        locked: Option<&mut HashMap<i64, (i64, DateTime<Utc>)>>,
        out: &mut [Option<J>],
        versions: &mut Vec<Version>,
    ) -> Result<()> {
        let dialect = tx.dialect();
        let returning = dialect.capabilities().returning;
        let id = row.id.unwrap_or_default();
        let mut sql = format!("UPDATE [{}] SET ", self.names.entity);
        if let Some(name) = row.cells.keys().find(|n| !meta.fields.contains_key(*n)) {
            return Err(Error::Driver(format!(
                "field `{name}` missing after the schema update"
            )));
        }
        let mut params: Vec<Cell> = Vec::with_capacity(meta.fields.len() + 3);
        for (name, f) in &meta.fields {
            sql.push('[');
            sql.push_str(name);
            sql.push_str("] = ?, ");
            params.push(
                row.cells
                    .get(name)
                    .cloned()
                    .unwrap_or(Cell::Null(f.kind.sql_kind())),
            );
        }
        sql.push_str(
            "[version] = [version] + 1, [updated_at] = ? WHERE [id] = ? AND [deleted_at] IS NULL",
        );
        params.push(Cell::Timestamp(self.audit.now));
        params.push(Cell::Int(id));
        if let Some(v) = row.expected_version {
            sql.push_str(" AND [version] = ?");
            params.push(Cell::Int(v));
        }
        let updated: Option<(i64, DateTime<Utc>)> = if returning {
            sql.push_str(" RETURNING [version], [created_at]");
            tx.fetch_optional_as(&sql, params).await?
        } else if let Some(locked) = locked {
            // the row is locked: its version can only change by this batch
            match locked.get(&id).copied() {
                Some((version, created_at))
                    if row.expected_version.is_none_or(|v| v == version)
                        && tx.execute(&sql, params).await?.rows_affected > 0 =>
                {
                    locked.insert(id, (version + 1, created_at));
                    Some((version + 1, created_at))
                }
                _ => None,
            }
        } else if tx.execute(&sql, params).await?.rows_affected > 0 {
            let select = format!(
                "SELECT [version], [created_at] FROM [{}] WHERE [id] = ?",
                self.names.entity
            );
            tx.fetch_optional_as(&select, (id,)).await?
        } else {
            None
        };
        let Some((version, created_at)) = updated else {
            return Err(self.why_not_updated(tx, id, row.expected_version).await);
        };
        let object = with_system_fields(
            row.data.clone(),
            id,
            version,
            created_at,
            self.audit.now,
            None,
        );
        versions.push(Version {
            entity_id: id,
            version,
            operation: Operation::Update,
            data: object.clone(),
        });
        out[row.index] = Some(object);
        Ok(())
    }

    /// The error for an UPDATE that matched no row.
    async fn why_not_updated(
        &self,
        tx: &mut Transaction<'_>,
        id: i64,
        expected: Option<i64>,
    ) -> Error {
        let entity = &self.names.entity;
        let sql = format!("SELECT [version], [deleted_at] FROM [{entity}] WHERE [id] = ?");
        match tx
            .fetch_optional_as::<(i64, Option<DateTime<Utc>>), _>(&sql, (id,))
            .await
        {
            Err(e) => e,
            Ok(None) => Error::NotFound(format!(
                "{entity} {id} does not exist (leave `id` out to insert a new object)"
            )),
            Ok(Some((_, Some(_)))) => Error::NotFound(format!(
                "{entity} {id} is deleted; restore it before saving it"
            )),
            Ok(Some((_, None))) => Error::StaleVersion {
                entity: entity.clone(),
                id: id.to_string(),
                expected: expected.unwrap_or_default(),
            },
        }
    }
}

/// `SELECT` statements (within the bind limit) finding which of `ids` (object
/// index, id) a row of `entity` has already.
pub(crate) fn taken_ids_sql(
    entity: &str,
    ids: &[(usize, i64)],
    dialect: Dialect,
) -> Vec<(String, Vec<Cell>)> {
    let per_statement = dialect.capabilities().max_bind_params.clamp(1, 1000);
    ids.chunks(per_statement)
        .map(|chunk| {
            let sql = format!(
                "SELECT [id] FROM [{entity}] WHERE [id] IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            (sql, chunk.iter().map(|&(_, id)| Cell::Int(id)).collect())
        })
        .collect()
}

/// The error for importing an id a row already has.
pub(crate) fn id_taken(entity: &str, ids: &[(usize, i64)], id: i64) -> Error {
    let index = ids
        .iter()
        .find(|&&(_, i)| i == id)
        .map_or(0, |&(index, _)| index);
    object_error(
        index,
        ids.len() > 1,
        "id",
        format!(
            "{entity} {id} already exists (import inserts new rows only; save the object to update that row)"
        ),
    )
}

fn insert_sql(
    entity: &str,
    columns: &[(&str, FieldKind)],
    rows: usize,
    returning: bool,
    with_id: bool,
) -> String {
    let id = if with_id { "[id], " } else { "" };
    let mut sql = format!("INSERT INTO [{entity}] ({id}[version], [created_at], [updated_at]");
    for (name, _) in columns {
        sql.push_str(", [");
        sql.push_str(name);
        sql.push(']');
    }
    sql.push_str(") VALUES ");
    let one = format!(
        "({}?, ?, ?{})",
        if with_id { "?, " } else { "" },
        ", ?".repeat(columns.len())
    );
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&one);
    }
    if returning {
        sql.push_str(" RETURNING [id]");
    }
    sql
}

/// Write history rows with multi-row inserts within the bind limit.
async fn insert_history(
    tx: &mut Transaction<'_>,
    names: &Names,
    audit: &Audit,
    versions: Vec<Version>,
) -> Result<()> {
    const PER_ROW: usize = 7;
    if versions.is_empty() {
        return Ok(());
    }
    let chunk_rows = rows_per_insert(tx, PER_ROW);
    let actor = Cell::opt_text(audit.actor.as_deref());
    let comment = Cell::opt_text(audit.comment.as_deref());
    let at = Cell::Timestamp(audit.now);
    let mut versions = versions.into_iter().peekable();
    while versions.peek().is_some() {
        let chunk: Vec<Version> = versions.by_ref().take(chunk_rows).collect();
        let mut sql = format!(
            "INSERT INTO [{}] ([entity_id], [version], [operation], [actor], [comment], [recorded_at], [data]) VALUES ",
            names.history
        );
        let mut params: Vec<Cell> = Vec::with_capacity(chunk.len() * PER_ROW);
        for (i, v) in chunk.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str("(?, ?, ?, ?, ?, ?, ?)");
            params.extend([
                Cell::Int(v.entity_id),
                Cell::Int(v.version),
                Cell::Text(v.operation.as_str().into()),
                actor.clone(),
                comment.clone(),
                at.clone(),
                Cell::Json(v.data),
            ]);
        }
        tx.execute(&sql, params).await?;
    }
    Ok(())
}

/// Soft delete (`delete == true`) or restore one row, with its history row.
pub(crate) struct StateJob {
    pub names: Arc<Names>,
    pub id: i64,
    pub delete: bool,
    pub audit: Audit,
}

impl StateJob {
    /// `Ok((false, _))` when there is no live row to delete (or deleted row to restore).
    pub(crate) async fn run(&self, tx: &mut Transaction<'_>) -> Result<(bool, Meta)> {
        let meta = schema::load_in(tx, &self.names).await?;
        let (deleted_at, condition) = if self.delete {
            (Cell::Timestamp(self.audit.now), "IS NULL")
        } else {
            (Cell::Null(SqlKind::TimestampTz), "IS NOT NULL")
        };
        let sql = format!(
            "UPDATE [{}] SET [deleted_at] = ?, [updated_at] = ?, [version] = [version] + 1 WHERE [id] = ? AND [deleted_at] {condition}",
            self.names.entity
        );
        let changed = tx
            .execute(
                &sql,
                [
                    deleted_at,
                    Cell::Timestamp(self.audit.now),
                    Cell::Int(self.id),
                ],
            )
            .await?
            .rows_affected;
        if changed == 0 {
            return Ok((false, meta));
        }
        let select = object::select_sql(&self.names, &meta);
        let sql = format!("{} WHERE [id] = ?", select.sql);
        let row = tx.fetch_optional(&sql, (self.id,)).await?.ok_or_else(|| {
            Error::NotFound(format!(
                "{} {} vanished while being changed",
                self.names.entity, self.id
            ))
        })?;
        let object = object::row_object(&row, &select.fields)?;
        let version = object
            .get("version")
            .and_then(J::as_i64)
            .unwrap_or_default();
        let operation = if self.delete {
            Operation::Delete
        } else {
            Operation::Restore
        };
        let history = vec![Version {
            entity_id: self.id,
            version,
            operation,
            data: object,
        }];
        insert_history(tx, &self.names, &self.audit, history).await?;
        Ok((true, meta))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_text_has_one_group_per_row() {
        let sql = insert_sql("t", &[("a", FieldKind::Text)], 2, true, false);
        assert_eq!(
            sql,
            "INSERT INTO [t] ([version], [created_at], [updated_at], [a]) VALUES (?, ?, ?, ?), (?, ?, ?, ?) RETURNING [id]"
        );
        let sql = insert_sql("t", &[("a", FieldKind::Text)], 2, false, true);
        assert_eq!(
            sql,
            "INSERT INTO [t] ([id], [version], [created_at], [updated_at], [a]) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)"
        );
    }
}
