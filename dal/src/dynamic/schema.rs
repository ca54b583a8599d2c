//! The tables of dynamic entities and their field metadata: blueprints, reading
//! the metadata, and the schema session that creates tables, adds columns and
//! widens them, safe against other processes doing the same at the same time.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dal_schema::ddl::{self, DdlStatement};
use dal_schema::{Column, Table};

use super::kind::{self, Cell, FieldKind, Fit};
use super::rules;
use crate::error::{Error, Result};
use crate::row::Row;
use crate::transaction::Transaction;

/// The table recording every dynamic field's kind.
pub(crate) const FIELDS_TABLE: &str = "dal_dynamic_fields";

/// Columns every entity table has, maintained by dal.
pub(crate) const SYSTEM_COLUMNS: [&str; 5] =
    ["id", "version", "created_at", "updated_at", "deleted_at"];

/// The names of one entity's tables.
#[derive(Debug)]
pub(crate) struct Names {
    pub entity: String,
    pub history: String,
}

/// One known field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FieldMeta {
    pub kind: FieldKind,
    pub position: i64,
    pub added_at: Option<DateTime<Utc>>,
}

/// What a handle knows about an entity's schema.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Meta {
    /// The entity's table exists.
    pub exists: bool,
    /// Known fields by name.
    pub fields: BTreeMap<String, FieldMeta>,
}

impl Meta {
    /// The known field whose name equals `name` ignoring ASCII case (column names
    /// are case-insensitive on MySQL and SQLite).
    pub(crate) fn same_name_other_case(&self, name: &str) -> Option<&str> {
        self.fields
            .keys()
            .find(|k| k.as_str() != name && k.eq_ignore_ascii_case(name))
            .map(String::as_str)
    }

    /// A short hash of the field names and kinds, written into SELECT texts so a
    /// changed column type never reuses a statement prepared for the old one.
    pub(crate) fn signature(&self) -> u64 {
        let mut h: u64 = 0xcbf29ce484222325;
        for (name, f) in &self.fields {
            for b in name
                .bytes()
                .chain([b':'])
                .chain(f.kind.as_str().bytes())
                .chain([b';'])
            {
                h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
            }
        }
        h
    }
}

pub(crate) fn fields_table() -> Table {
    Table::build(FIELDS_TABLE, |t| {
        t.string("entity", 63);
        t.string("field", 63);
        t.string("kind", 32);
        t.integer("position");
        t.timestamp_tz("added_at");
        t.primary(["entity", "field"]);
    })
}

pub(crate) fn entity_table(name: &str) -> Table {
    Table::build(name, |t| {
        t.id();
        t.big_integer("version");
        t.timestamp_tz("created_at");
        t.timestamp_tz("updated_at");
        t.timestamp_tz("deleted_at").nullable();
    })
}

pub(crate) fn history_table(name: &str) -> Table {
    Table::build(name, |t| {
        t.id();
        t.big_integer("entity_id");
        t.big_integer("version");
        t.string("operation", 16);
        t.string("actor", 255).nullable();
        t.text("comment").nullable();
        t.timestamp_tz("recorded_at");
        t.json("data");
        t.unique_index(["entity_id", "version"]);
    })
}

const READ_FIELDS: &str =
    "SELECT [field], [kind], [position], [added_at] FROM [dal_dynamic_fields] WHERE [entity] = ?";

fn parse_fields(rows: &[Row<'static>]) -> Result<BTreeMap<String, FieldMeta>> {
    let mut fields = BTreeMap::new();
    for row in rows {
        let name: String = row.get(0)?;
        let kind: String = row.get(1)?;
        let kind = kind
            .parse::<FieldKind>()
            .map_err(|e| Error::decode("kind", e))?;
        fields.insert(
            name,
            FieldMeta {
                kind,
                position: row.get(2)?,
                added_at: row.get(3)?,
            },
        );
    }
    Ok(fields)
}

/// Read an entity's metadata through the pool (no transaction).
pub(crate) async fn load(db: &crate::db::Db, names: &Names) -> Result<Meta> {
    if !db.table_exists(&names.entity).await? {
        return Ok(Meta::default());
    }
    match load_fields(db, names).await {
        // a table of that name that dal did not create (no metadata table yet)
        Err(_) if !db.table_exists(FIELDS_TABLE).await? => Ok(Meta {
            exists: true,
            fields: BTreeMap::new(),
        }),
        r => r,
    }
}

/// Read the metadata of an entity whose tables exist through the pool: one
/// statement of its own, so it sees everything committed before it.
async fn load_fields(db: &crate::db::Db, names: &Names) -> Result<Meta> {
    let rows = db.fetch_all(READ_FIELDS, (names.entity.as_str(),)).await?;
    Ok(Meta {
        exists: true,
        fields: parse_fields(&rows)?,
    })
}

/// Read an entity's metadata inside a transaction whose tables exist.
pub(crate) async fn load_in(tx: &mut Transaction<'_>, names: &Names) -> Result<Meta> {
    let rows = tx.fetch_all(READ_FIELDS, (names.entity.as_str(),)).await?;
    Ok(Meta {
        exists: true,
        fields: parse_fields(&rows)?,
    })
}

/// A schema change one save needs.
#[derive(Debug, Clone, PartialEq)]
enum Change {
    Add(String, FieldKind),
    Widen(String, FieldKind, FieldKind),
}

/// The changes that let `meta` store values of the `wanted` kinds, or the
/// [`Error::InvalidInput`] explaining why a value does not fit.
fn plan(meta: &Meta, wanted: &BTreeMap<String, FieldKind>) -> Result<Vec<Change>> {
    let mut changes = Vec::new();
    for (name, &incoming) in wanted {
        if let Some(other) = meta.same_name_other_case(name) {
            return Err(Error::invalid_input(
                name.as_str(),
                format!(
                    "field `{name}` differs only in letter case from the existing field `{other}`; \
                     column names ignore case on MySQL and SQLite, so use `{other}`"
                ),
            ));
        }
        match meta.fields.get(name) {
            None => changes.push(Change::Add(name.clone(), incoming)),
            Some(f) => match kind::fit(name, f.kind, incoming)
                .map_err(|reason| Error::invalid_input(name.as_str(), reason))?
            {
                Fit::Fits => {}
                Fit::Widen(to) => changes.push(Change::Widen(name.clone(), f.kind, to)),
            },
        }
    }
    Ok(changes)
}

/// Whether saving values of the `wanted` kinds needs schema changes first
/// (`Err` when a value can never fit).
pub(crate) fn needs_changes(meta: &Meta, wanted: &BTreeMap<String, FieldKind>) -> Result<bool> {
    Ok(!meta.exists || !plan(meta, wanted)?.is_empty())
}

/// Create the entity's tables if needed and make every `wanted` field storable:
/// add missing columns and widen integer columns that must hold doubles,
/// recording each field in the metadata table. Returns the metadata afterwards.
///
/// Runs in one transaction under the dialect's schema lock (see
/// [`RuntimeSql::dynamic_schema_lock`](dal_schema::RuntimeSql::dynamic_schema_lock)); on the MySQL family every step commits on its own
/// and tolerates another process having done it already.
pub(crate) async fn ensure(
    db: &crate::db::Db,
    names: Arc<Names>,
    wanted: Arc<BTreeMap<String, FieldKind>>,
) -> Result<Meta> {
    let session_names = names.clone();
    let meta = db
        .transaction(move |tx| {
            let names = session_names.clone();
            let wanted = wanted.clone();
            Box::pin(async move { session(tx, &names, &wanted).await })
        })
        .await?;
    if db.dialect().capabilities().transactional_ddl {
        // under the lock nobody else changed the fields: what the session
        // recorded is what the table holds
        return Ok(meta);
    }
    // On the MySQL family another process may have recorded a field first (then
    // our `INSERT .. ON DUPLICATE KEY UPDATE` changed nothing), so the table is
    // the truth, and it must be read after the session's transaction ended, not
    // inside it: InnoDB's REPEATABLE READ serves every plain SELECT of a
    // transaction from the snapshot taken at its first read. A session that ran
    // no DDL (the other process had already added every column, which
    // `information_schema` shows at once) is still in that transaction, whose
    // snapshot predates the other process's metadata row; it would leave that
    // field out, and the save would fail with "field missing after the schema
    // update". Once the session has committed, every field it needed has a
    // committed row (its own, or the one its insert found and waited for), so
    // this one read sees them all.
    load_fields(db, &names).await
}

async fn session(
    tx: &mut Transaction<'static>,
    names: &Names,
    wanted: &BTreeMap<String, FieldKind>,
) -> Result<Meta> {
    let dialect = tx.dialect();
    if let Some(lock) = dialect.runtime_sql().dynamic_schema_lock {
        tx.execute(lock, ()).await?;
    }
    for table in [
        fields_table(),
        entity_table(&names.entity),
        history_table(&names.history),
    ] {
        if live_columns(tx, &table.name).await?.is_empty() {
            for sql in ddl::create_table_if_not_exists(&table, dialect)? {
                run_ddl(tx, &sql).await?;
            }
        }
    }
    let mut meta = load_in(tx, names).await?;
    let changes = plan(&meta, wanted)?;
    if changes.is_empty() {
        return Ok(meta);
    }
    let mut live = live_columns(tx, &names.entity).await?;
    let mut position = meta.fields.values().map(|f| f.position).max().unwrap_or(0);
    let now = kind::truncate_micros(Utc::now()).unwrap_or_else(Utc::now);
    for change in changes {
        match change {
            Change::Add(field, wanted_kind) => {
                let mut existing = live.get(&field).cloned();
                if existing.is_none() {
                    match add_column(tx, &names.entity, &field, wanted_kind).await {
                        Ok(()) => {}
                        // another process added it first (MySQL family)
                        Err(e) if rules::is_already_there(&e) => {
                            tracing::debug!(entity = %names.entity, %field, "column added concurrently by another process");
                            live = live_columns(tx, &names.entity).await?;
                            existing = live.get(&field).cloned();
                        }
                        Err(e) => return Err(e),
                    }
                }
                // a column without metadata (a concurrent or interrupted save
                // created it): its live type decides the kind
                let kind = match existing {
                    None => wanted_kind,
                    Some(ty) => {
                        let live_kind = rules::kind_of_live_type(dialect, &ty).ok_or_else(|| {
                            Error::invalid_input(
                                field.as_str(),
                                format!(
                                    "table `{}` already has a column `{field}` of type {ty}, which dynamic entities do not use",
                                    names.entity
                                ),
                            )
                        })?;
                        match kind::fit(&field, live_kind, wanted_kind)
                            .map_err(|reason| Error::invalid_input(field.as_str(), reason))?
                        {
                            Fit::Fits => live_kind,
                            Fit::Widen(to) => {
                                widen(tx, &names.entity, &field, live_kind, to).await?;
                                to
                            }
                        }
                    }
                };
                position += 1;
                let sql = format!(
                    "INSERT INTO [dal_dynamic_fields] ([entity], [field], [kind], [position], [added_at]) VALUES (?, ?, ?, ?, ?){}",
                    rules::insert_ignore_suffix(dialect)
                );
                tx.execute(
                    &sql,
                    [
                        Cell::Text(names.entity.clone()),
                        Cell::Text(field.clone()),
                        Cell::Text(kind.as_str().into()),
                        Cell::Int(position),
                        Cell::Timestamp(now),
                    ],
                )
                .await?;
                meta.fields.insert(
                    field,
                    FieldMeta {
                        kind,
                        position,
                        added_at: Some(now),
                    },
                );
            }
            Change::Widen(field, from, to) => {
                widen(tx, &names.entity, &field, from, to).await?;
                if let Some(f) = meta.fields.get_mut(&field) {
                    f.kind = to;
                }
            }
        }
    }
    // on the MySQL family `ensure` reads the fields again after the commit
    Ok(meta)
}

/// Run one DDL statement, tolerating "already there" on the MySQL family (where
/// there is no lock and a concurrent process may have created it).
async fn run_ddl(tx: &mut Transaction<'_>, sql: &str) -> Result<()> {
    match tx.execute_script(sql).await {
        Err(e) if rules::is_already_there(&e) => {
            tracing::debug!(error = %e, "schema object created concurrently by another process");
            Ok(())
        }
        r => r,
    }
}

/// Live columns of `table` (name -> type); empty when the table does not exist.
async fn live_columns(tx: &mut Transaction<'_>, table: &str) -> Result<BTreeMap<String, String>> {
    let sql = rules::storage(tx.dialect()).live_columns_sql;
    let rows: Vec<(String, String)> = tx.fetch_all_as(sql, (table,)).await?;
    Ok(rows.into_iter().collect())
}

async fn add_column(
    tx: &mut Transaction<'_>,
    table: &str,
    field: &str,
    kind: FieldKind,
) -> Result<()> {
    let dialect = tx.dialect();
    let mut sql = format!(
        "ALTER TABLE {} ADD COLUMN ",
        dialect.quote_identifier(table)
    );
    if dialect.capabilities().add_column_if_not_exists {
        sql.push_str("IF NOT EXISTS ");
    }
    sql.push_str(&dialect.quote_identifier(field));
    sql.push(' ');
    sql.push_str(&rules::field_column_sql(dialect, kind));
    sql.push_str(" NULL");
    tx.execute_script(&sql).await
}

/// Change a field's column from kind `from` to kind `to` (where the dialect can
/// alter a column in place; SQLite's integer-affinity column already keeps reals)
/// and record the new kind.
async fn widen(
    tx: &mut Transaction<'_>,
    table: &str,
    field: &str,
    from: FieldKind,
    to: FieldKind,
) -> Result<()> {
    let dialect = tx.dialect();
    if dialect.capabilities().alter_column {
        let column = |kind: FieldKind| Column {
            nullable: true,
            ..Column::new(field, kind.column_type())
        };
        let change = DdlStatement::AlterColumn {
            table: table.to_string(),
            from: column(from),
            to: column(to),
        };
        for sql in change.to_sql(dialect)? {
            tx.execute_script(&sql).await?;
        }
    }
    tx.execute(
        "UPDATE [dal_dynamic_fields] SET [kind] = ? WHERE [entity] = ? AND [field] = ?",
        (to.as_str(), table, field),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use dal_schema::Dialect;

    /// Dynamic entities' tables, columns, metadata values and the PostgreSQL
    /// schema lock are what deployed databases hold and concurrent processes
    /// (of different versions, in a rolling deploy) agree on. NEVER CHANGE
    /// THESE VALUES without a migration plan: a new version would not find the
    /// fields, history or metadata earlier versions recorded, or would add
    /// columns while an older version holds a different lock.
    #[test]
    fn dynamic_layout_is_pinned() {
        fn layout(t: &Table) -> Vec<String> {
            let mut out: Vec<String> = t
                .columns
                .iter()
                .map(|c| {
                    format!(
                        "{} {:?}{}",
                        c.name,
                        c.ty,
                        if c.nullable { " NULL" } else { "" }
                    )
                })
                .collect();
            out.push(format!("key {:?}", t.primary_key));
            out.extend(
                t.indexes
                    .iter()
                    .map(|i| format!("index {} {:?}", i.name, i.columns)),
            );
            out
        }
        assert_eq!(FIELDS_TABLE, "dal_dynamic_fields");
        assert_eq!(
            layout(&fields_table()),
            [
                "entity String { length: 63 }",
                "field String { length: 63 }",
                "kind String { length: 32 }",
                "position Integer",
                "added_at TimestampTz",
                "key [\"entity\", \"field\"]",
            ]
        );
        assert_eq!(
            SYSTEM_COLUMNS,
            ["id", "version", "created_at", "updated_at", "deleted_at"]
        );
        assert_eq!(
            layout(&entity_table("people")),
            [
                "id BigInteger",
                "version BigInteger",
                "created_at TimestampTz",
                "updated_at TimestampTz",
                "deleted_at TimestampTz NULL",
                "key [\"id\"]",
            ]
        );
        assert_eq!(
            layout(&history_table("people_history")),
            [
                "id BigInteger",
                "entity_id BigInteger",
                "version BigInteger",
                "operation String { length: 16 }",
                "actor String { length: 255 } NULL",
                "comment Text NULL",
                "recorded_at TimestampTz",
                "data Json",
                "key [\"id\"]",
                "index people_history_entity_id_version_unique [\"entity_id\", \"version\"]",
            ]
        );
        // the kinds recorded in the metadata table, and the column types of fields
        let kinds: Vec<&str> = FieldKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "big_integer",
                "double",
                "boolean",
                "date",
                "timestamp_tz",
                "text",
                "json"
            ]
        );
        // (kind_of_live_type maps these back: a changed type would make the
        // columns earlier versions created unrecognisable)
        let types = |d| -> Vec<String> {
            FieldKind::ALL
                .iter()
                .map(|&k| rules::field_column_sql(d, k))
                .collect()
        };
        assert_eq!(
            types(Dialect::Postgres),
            [
                "BIGINT",
                "DOUBLE PRECISION",
                "BOOLEAN",
                "DATE",
                "TIMESTAMPTZ",
                "TEXT",
                "JSONB"
            ]
        );
        assert_eq!(
            types(Dialect::MySql),
            [
                "BIGINT",
                "DOUBLE",
                "TINYINT(1)",
                "DATE",
                "DATETIME(6)",
                "MEDIUMTEXT",
                "JSON"
            ]
        );
        assert_eq!(
            types(Dialect::Sqlite),
            [
                "BIGINT",
                "DOUBLE",
                "BOOLEAN",
                "DATE",
                "TIMESTAMPTZ",
                "TEXT",
                "JSON"
            ]
        );
        assert_eq!(
            Dialect::Postgres.runtime_sql().dynamic_schema_lock,
            Some(
                "SELECT pg_advisory_xact_lock(hashtextextended('dal_dynamic:' || coalesce(current_schema(), ''), 0))"
            )
        );
        assert_eq!(Dialect::MySql.runtime_sql().dynamic_schema_lock, None);
        assert_eq!(Dialect::Sqlite.runtime_sql().dynamic_schema_lock, None);
    }

    #[test]
    fn blueprints_are_valid_on_every_dialect() {
        let long = "e".repeat(55);
        for table in [
            fields_table(),
            entity_table(&long),
            history_table(&format!("{long}_history")),
        ] {
            dal_schema::validate_table(&table).unwrap();
            for d in Dialect::ALL {
                ddl::create_table_if_not_exists(&table, d).unwrap();
            }
        }
    }

    #[test]
    fn plans_additions_widenings_and_refusals() {
        let mut meta = Meta {
            exists: true,
            fields: BTreeMap::new(),
        };
        meta.fields.insert(
            "age".into(),
            FieldMeta {
                kind: FieldKind::BigInteger,
                position: 1,
                added_at: None,
            },
        );
        let wanted = |pairs: &[(&str, FieldKind)]| {
            pairs
                .iter()
                .map(|(n, k)| (n.to_string(), *k))
                .collect::<BTreeMap<_, _>>()
        };
        assert_eq!(
            plan(&meta, &wanted(&[("age", FieldKind::BigInteger)])).unwrap(),
            vec![]
        );
        assert_eq!(
            plan(
                &meta,
                &wanted(&[("age", FieldKind::Double), ("x", FieldKind::Text)])
            )
            .unwrap(),
            vec![
                Change::Widen("age".into(), FieldKind::BigInteger, FieldKind::Double),
                Change::Add("x".into(), FieldKind::Text)
            ]
        );
        assert!(matches!(
            plan(&meta, &wanted(&[("age", FieldKind::Text)])),
            Err(Error::InvalidInput { field, .. }) if field == "age"
        ));
        assert!(matches!(
            plan(&meta, &wanted(&[("Age", FieldKind::BigInteger)])),
            Err(Error::InvalidInput { field, .. }) if field == "Age"
        ));
    }
}
