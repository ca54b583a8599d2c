//! The entity operations: save (insert / upsert / versioned update), bulk save,
//! get, soft and permanent delete, restore, history.
//!
//! Why one file of over 1,000 lines: every write here shares one context
//! (`Ctx`), the row parameter types (`RowParams`, `Rows`) and the
//! managed-column helpers (`managed_for_insert`, `managed_for_update`), and
//! the single-row save is the fallback of the bulk and upsert paths. The
//! seams are marked below (bulk save, upsert by another key, partial saves);
//! splitting along them means moving that shared core into a lower module
//! first, so that the parts import it and not each other.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use dal_schema::entity::ColumnRole;
use dal_schema::{Dialect, GeneratedIds, UpsertStyle};

use std::fmt::Write as _;

use super::executor::{Session, Unit};
use super::sql::{Param, ParamList, quoted};
use super::types::{EntityId, IdKind};
use super::{Entity, EntityInfo, EntityStatements, Managed, audit_values, now_micros};
use crate::backend::ExecOptions;
use crate::cache::Lookup;
use crate::codec::{Arguments, Encode};
use crate::db::Db;
use crate::error::{ConstraintKind, Error, Result};
use crate::params::Params;
use crate::row::{FromRow, Row};
use crate::sequence::MySqlIds;
use crate::statement::Statement;

/// Who made a change and why, recorded in the entity's history.
///
/// ```
/// let audit = dal::Audit::by("alice").comment("fixed a typo");
/// assert_eq!(audit.actor.as_deref(), Some("alice"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    /// Who made the change.
    pub actor: Option<String>,
    /// Why.
    pub comment: Option<String>,
}

impl Audit {
    /// A change made by `actor`.
    pub fn by(actor: impl Into<String>) -> Self {
        Audit {
            actor: Some(actor.into()),
            comment: None,
        }
    }

    /// Add a comment.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

/// What a history entry records (serialized as `"insert"`, `"update"`,
/// `"delete"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// The row was created.
    Insert,
    /// The row was changed.
    Update,
    /// The row was deleted (soft or permanently).
    Delete,
    /// A soft-deleted row was restored.
    Restore,
}

impl Operation {
    /// The stored name (`insert`, `update`, `delete`, `restore`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Restore => "restore",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "insert" => Operation::Insert,
            "update" => Operation::Update,
            "delete" => Operation::Delete,
            "restore" => Operation::Restore,
            other => {
                return Err(Error::decode(
                    "history_operation",
                    format!("unknown operation {other:?}"),
                ));
            }
        })
    }
}

/// One recorded version of an entity (serializable when the entity is, for
/// an API that shows a row's history).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoryEntry<E> {
    /// Version number, from 1.
    pub version: i64,
    /// What happened.
    pub operation: Operation,
    /// Who did it, when given.
    pub actor: Option<String>,
    /// Why, when given.
    pub comment: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// The whole row as it was after the change (before it, for a permanent delete).
    pub entity: E,
}

impl<E: Entity> FromRow for HistoryEntry<E> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        use dal_schema::entity::history_columns as h;
        Ok(HistoryEntry {
            version: row.get(h::VERSION)?,
            operation: Operation::parse(&row.get::<String, _>(h::OPERATION)?)?,
            actor: row.get(h::ACTOR)?,
            comment: row.get(h::COMMENT)?,
            at: row.get(h::AT)?,
            entity: E::from_row(row)?,
        })
    }
}

/// The parameters of one entity row: optionally the id, the data columns, the
/// managed values, then a WHERE clause's id (and version).
struct RowParams<'e, E: Entity> {
    entity: &'e E,
    lead_id: Option<E::Id>,
    data: bool,
    managed: Vec<Managed>,
    where_id: Option<E::Id>,
    where_version: Option<i64>,
}

impl<'e, E: Entity> RowParams<'e, E> {
    fn bind_row<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        if let Some(id) = &self.lead_id {
            id.encode(args)?;
        }
        if self.data {
            self.entity.__bind_data(args)?;
        }
        for m in &self.managed {
            m.encode(args)?;
        }
        if let Some(id) = &self.where_id {
            id.encode(args)?;
        }
        if let Some(v) = self.where_version {
            args.push_i64(v)?;
        }
        Ok(())
    }

    fn row_len(&self) -> usize {
        usize::from(self.lead_id.is_some())
            + if self.data { E::INFO.data_count() } else { 0 }
            + self.managed.len()
            + usize::from(self.where_id.is_some())
            + usize::from(self.where_version.is_some())
    }
}

impl<E: Entity> Params for RowParams<'_, E> {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        self.bind_row(args)
    }
    fn len(&self) -> usize {
        self.row_len()
    }
}

/// Several rows, bound one after the other (multi-row statements).
struct Rows<'e, E: Entity>(Vec<RowParams<'e, E>>);

impl<E: Entity> Params for Rows<'_, E> {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        for r in &self.0 {
            r.bind_row(args)?;
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.0.iter().map(RowParams::row_len).sum()
    }
}

/// The history statement's parameters.
struct HistoryParams<'a, I> {
    op: &'static str,
    actor: Option<&'a str>,
    comment: Option<&'a str>,
    at: DateTime<Utc>,
    id: I,
}

impl<I: Encode> Params for HistoryParams<'_, I> {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        args.push_str(self.op)?;
        self.actor.encode(args)?;
        self.comment.encode(args)?;
        args.push_timestamp_tz(self.at)?;
        self.id.encode(args)
    }
    fn len(&self) -> usize {
        5
    }
}

fn managed_for_insert<E: Entity>(
    entity: &E,
    now: DateTime<Utc>,
    version: i64,
    audit: Option<&Audit>,
) -> (Vec<Managed>, Option<DateTime<Utc>>) {
    let info = E::INFO;
    let mut m = Vec::with_capacity(7);
    if info.column(ColumnRole::Version).is_some() {
        m.push(Managed::Version(version));
    }
    let mut created = None;
    if info.column(ColumnRole::CreatedAt).is_some() {
        let c = entity.__created_at().unwrap_or(now);
        created = Some(c);
        m.push(Managed::Time(Some(c)));
    }
    if info.column(ColumnRole::UpdatedAt).is_some() {
        m.push(Managed::Time(Some(now)));
    }
    if info.column(ColumnRole::DeletedAt).is_some_and(|c| c.mapped) {
        m.push(Managed::Time(entity.__deleted_at()));
    }
    if info.history {
        m.extend(audit_values(audit));
    }
    (m, created)
}

fn managed_for_update<E: Entity>(
    entity: &E,
    now: DateTime<Utc>,
    version: i64,
    audit: Option<&Audit>,
) -> Vec<Managed> {
    let info = E::INFO;
    let mut m = Vec::with_capacity(6);
    if info.column(ColumnRole::Version).is_some() {
        m.push(Managed::Version(version));
    }
    if info.column(ColumnRole::UpdatedAt).is_some() {
        m.push(Managed::Time(Some(now)));
    }
    if info.column(ColumnRole::DeletedAt).is_some_and(|c| c.mapped) {
        m.push(Managed::Time(entity.__deleted_at()));
    }
    if info.history {
        m.extend(audit_values(audit));
    }
    m
}

fn need_history(info: &EntityInfo) -> Result<()> {
    if info.history {
        Ok(())
    } else {
        Err(Error::Unsupported(format!(
            "entity `{}` keeps no history (add `#[dal(history)]` to it)",
            info.table
        )))
    }
}

fn missing(what: &str, info: &EntityInfo) -> Error {
    Error::Unsupported(format!("entity `{}` has no {what} statement", info.table))
}

/// What one operation needs besides the connection.
struct Ctx<'a> {
    info: &'static EntityInfo,
    db: &'a Db,
    dialect: Dialect,
    opts: ExecOptions,
    stmts: Arc<EntityStatements>,
    now: DateTime<Utc>,
    audit: Option<&'a Audit>,
    /// Whether a row inserted with its own id moves the id sequence past it
    /// itself (single saves; `save_all` does it once for the whole batch).
    advance_ids: bool,
}

impl<'a> Ctx<'a> {
    fn new<E: Entity>(session: &Session<'a>, audit: Option<&'a Audit>) -> Self {
        let dialect = session.dialect();
        Ctx {
            info: E::INFO,
            db: session.db,
            dialect,
            opts: session.options(),
            stmts: E::INFO.statements(dialect).clone(),
            now: now_micros(),
            audit,
            advance_ids: true,
        }
    }

    /// After inserting a row with its own integer id on PostgreSQL: keep the id
    /// sequence ahead of it (see [`crate::sequence`]).
    async fn inserted_with_id<I: EntityId>(&self, unit: &mut Unit<'_>, id: &I) -> Result<()> {
        match id.integer_value() {
            Some(id) if self.advance_ids && I::KIND == IdKind::AutoIncrement => {
                crate::sequence::advance_past(
                    self.db,
                    unit.conn(),
                    self.opts,
                    self.info.table,
                    self.info.id_column,
                    id,
                )
                .await
            }
            _ => Ok(()),
        }
    }

    /// Copy the current state of row `id` into the history table (before a
    /// permanent delete); returns how many rows were copied.
    async fn record<I: EntityId>(&self, unit: &mut Unit<'_>, id: I, op: Operation) -> Result<u64> {
        let stmt = self
            .stmts
            .history_insert
            .as_ref()
            .ok_or_else(|| missing("history", self.info))?;
        let params = HistoryParams {
            op: op.as_str(),
            actor: self.audit.and_then(|a| a.actor.as_deref()),
            comment: self.audit.and_then(|a| a.comment.as_deref()),
            at: self.now,
            id,
        };
        Ok(unit.execute(stmt, &params, self.opts).await?.rows_affected)
    }
}

/// What a single save did.
struct Saved {
    version: Option<i64>,
    created: Option<DateTime<Utc>>,
}

/// Save one entity on `unit` (id already generated for UUID keys), including its
/// history entry.
async fn save_one<E: Entity>(ctx: &Ctx<'_>, unit: &mut Unit<'_>, entity: &mut E) -> Result<Saved> {
    let info = ctx.info;
    let stmts = &ctx.stmts;
    let (opts, now) = (ctx.opts, ctx.now);
    if entity.id().is_unset() && E::Id::KIND == IdKind::AutoIncrement {
        let (managed, created) = managed_for_insert(entity, now, 1, ctx.audit);
        let params = RowParams {
            entity: &*entity,
            lead_id: None,
            data: true,
            managed,
            where_id: None,
            where_version: None,
        };
        let new_id = if ctx.dialect.capabilities().generated_ids == GeneratedIds::Returning {
            let rows: Vec<(i64,)> = unit
                .fetch_as(&stmts.insert_generated_id, &params, Some(1), opts)
                .await?;
            rows.first().map(|r| r.0)
        } else {
            unit.execute(&stmts.insert_generated_id, &params, opts)
                .await?
                .last_insert_id
        };
        let new_id = new_id.ok_or_else(|| {
            Error::Driver(format!(
                "the server did not report the new {} id",
                info.table
            ))
        })?;
        entity.__set_id(E::Id::from_generated(new_id)?);
        return Ok(Saved {
            version: Some(1),
            created,
        });
    }
    if entity.id().is_unset() {
        return Err(Error::invalid_input(
            info.id_column,
            format!("a {} needs an id before it can be saved", info.table),
        ));
    }
    if info.versioned {
        let current = entity.__version().unwrap_or(0);
        if current == 0 {
            let (managed, created) = managed_for_insert(entity, now, 1, ctx.audit);
            let params = RowParams {
                entity: &*entity,
                lead_id: Some(entity.id()),
                data: true,
                managed,
                where_id: None,
                where_version: None,
            };
            unit.execute(&stmts.insert, &params, opts).await?;
            drop(params);
            ctx.inserted_with_id(unit, &entity.id()).await?;
            return Ok(Saved {
                version: Some(1),
                created,
            });
        }
        let next = current + 1;
        let params = RowParams {
            entity: &*entity,
            lead_id: None,
            data: true,
            managed: managed_for_update(entity, now, next, ctx.audit),
            where_id: Some(entity.id()),
            where_version: Some(current),
        };
        let stmt = stmts
            .update_versioned
            .as_ref()
            .ok_or_else(|| missing("versioned update", info))?;
        if unit.execute(stmt, &params, opts).await?.rows_affected == 0 {
            return Err(Error::StaleVersion {
                entity: info.table.to_string(),
                id: format!("{:?}", entity.id()),
                expected: current,
            });
        }
        return Ok(Saved {
            version: Some(next),
            created: None,
        });
    }
    if let Some(upsert) = &stmts.upsert {
        let (managed, created) = managed_for_insert(entity, now, 1, ctx.audit);
        let params = RowParams {
            entity: &*entity,
            lead_id: Some(entity.id()),
            data: true,
            managed,
            where_id: None,
            where_version: None,
        };
        match &stmts.upsert_inserted {
            Some(stmt) if ctx.advance_ids && E::Id::KIND == IdKind::AutoIncrement => {
                let inserted: Vec<(bool,)> = unit.fetch_as(stmt, &params, Some(1), opts).await?;
                drop(params);
                if inserted.first().is_some_and(|(i,)| *i) {
                    ctx.inserted_with_id(unit, &entity.id()).await?;
                }
            }
            _ => {
                unit.execute(upsert, &params, opts).await?;
            }
        }
        return Ok(Saved {
            version: None,
            created,
        });
    }
    // MySQL family with other unique keys: update, and insert when nothing matched
    let params = RowParams {
        entity: &*entity,
        lead_id: None,
        data: true,
        managed: managed_for_update(entity, now, 1, ctx.audit),
        where_id: Some(entity.id()),
        where_version: None,
    };
    if unit
        .execute(&stmts.update, &params, opts)
        .await?
        .rows_affected
        > 0
    {
        return Ok(Saved {
            version: None,
            created: None,
        });
    }
    let (managed, created) = managed_for_insert(entity, now, 1, ctx.audit);
    let params = RowParams {
        entity: &*entity,
        lead_id: Some(entity.id()),
        data: true,
        managed,
        where_id: None,
        where_version: None,
    };
    unit.execute(&stmts.insert, &params, opts).await?;
    Ok(Saved {
        version: None,
        created,
    })
}

fn apply_saved<E: Entity>(entity: &mut E, saved: &Saved, now: DateTime<Utc>) {
    if let Some(v) = saved.version {
        entity.__set_version(v);
    }
    if let Some(c) = saved.created {
        entity.__set_created_at(c);
    }
    entity.__set_updated_at(now);
}

fn prepare_id<E: Entity>(entity: &mut E) {
    if entity.id().is_unset()
        && E::Id::KIND == IdKind::Uuid
        && let Some(g) = E::Id::generate()
    {
        entity.__set_id(g);
    }
}

pub(crate) async fn save<E: Entity>(
    entity: &mut E,
    session: Session<'_>,
    audit: Option<&Audit>,
) -> Result<()> {
    let ctx = Ctx::new::<E>(&session, audit);
    prepare_id(entity);
    super::check_shard(session.db, entity)?;
    let generated = entity.id().is_unset() && E::Id::KIND == IdKind::AutoIncrement;
    let split = ctx.dialect.capabilities().upsert == UpsertStyle::OnDuplicateKey
        && ctx.stmts.upsert.is_none()
        && !ctx.info.versioned
        && !generated;
    // history is written by triggers in the same statement: only MySQL's
    // update-then-insert needs a transaction around two statements
    let (mut session, mut attempt, mut started) = (session, 1, None);
    loop {
        let again = session.again();
        let mut unit = session.unit(split).await?;
        let result = save_one(&ctx, &mut unit, entity).await;
        match unit.finish(result).await {
            Ok(saved) => {
                apply_saved(entity, &saved, ctx.now);
                return Ok(());
            }
            // rolled back as a whole on the pool: run it again
            Err(e) => {
                let Some(s) = again else { return Err(e) };
                if !ctx
                    .db
                    .rerun_rolled_back(&e, attempt, &mut started, &ctx.opts.deadline)
                    .await
                {
                    return Err(e);
                }
                session = s;
                attempt += 1;
            }
        }
    }
}

pub(crate) async fn get<E: Entity>(
    session: Session<'_>,
    id: E::Id,
    with_deleted: bool,
) -> Result<Option<E>> {
    let opts = session.options();
    let stmts = E::INFO.statements(session.dialect()).clone();
    let stmt = if with_deleted {
        &stmts.select_by_id_with_deleted
    } else {
        &stmts.select_by_id
    };
    // the read cache, for the entities that ask for it
    let looked_up = match E::__CACHED {
        true => {
            let entry = format!("{}{id:?}", if with_deleted { "d" } else { "" });
            cache_lookup::<E>(session.db, session.in_transaction(), &entry).await
        }
        false => None,
    };
    let Some((cache, lookup)) = looked_up else {
        let rows: Vec<E> = session.read(stmt, &(id,), Some(1), opts).await?;
        return Ok(rows.into_iter().next());
    };
    let key = match lookup {
        Lookup::Hit(bytes) => {
            // bytes that do not decode (another version of the struct) are
            // read again from the database
            if let Some(e) = E::__cache_decode(&bytes) {
                session
                    .db
                    .telemetry()
                    .call_done(opts.deadline.start, &Ok(()));
                return Ok(Some(e));
            }
            None
        }
        Lookup::Miss(k) => Some(k),
        Lookup::Bypass => None,
    };
    // what is cached comes from the primary: a replica's row may predate
    // a write the generation has already counted
    let mut opts = opts;
    opts.primary = key.is_some();
    let rows: Vec<E> = session.read(stmt, &(id,), Some(1), opts).await?;
    let found = rows.into_iter().next();
    if let (Some(key), Some(e)) = (key, &found)
        && let Some(bytes) = e.__cache_encode()
    {
        cache.store(key, bytes).await;
    }
    Ok(found)
}

/// The read cache's answer for entry `entry` of `E`'s table: `None`
/// without a cache, and inside a transaction (which must see its own
/// writes); else the cache and its answer.
pub(crate) async fn cache_lookup<E: Entity>(
    db: &Db,
    in_transaction: bool,
    entry: &str,
) -> Option<(Arc<crate::cache::Cache>, Lookup)> {
    let cache = db.cache().filter(|_| !in_transaction)?.clone();
    let lookup = if cache.register(E::INFO.table, cascading_parents::<E>).await {
        cache.lookup(E::INFO.table, entry).await
    } else {
        Lookup::Bypass
    };
    Some((cache, lookup))
}

/// The tables whose writes change `E`'s rows through its foreign keys
/// (`ON DELETE`/`ON UPDATE` `CASCADE`, `SET NULL`, `SET DEFAULT`).
fn cascading_parents<E: Entity>() -> Vec<String> {
    use dal_schema::ReferentialAction as A;
    let changes = |a: A| matches!(a, A::Cascade | A::SetNull | A::SetDefault);
    E::blueprint()
        .foreign_keys
        .iter()
        .filter(|fk| changes(fk.on_delete) || changes(fk.on_update))
        .map(|fk| fk.references_table.clone())
        .collect()
}

pub(crate) async fn delete<E: Entity>(
    entity: &mut E,
    session: Session<'_>,
    audit: Option<&Audit>,
    permanently: bool,
) -> Result<bool> {
    let ctx = Ctx::new::<E>(&session, audit);
    super::check_shard(session.db, entity)?;
    let info = ctx.info;
    let soft = info.soft_delete && !permanently;
    // a permanent delete with history snapshots the row first: two statements
    let (mut session, mut attempt, mut started) = (session, 1, None);
    let changed = loop {
        let again = session.again();
        let r = delete_once(&ctx, session, entity, soft).await;
        match r {
            Err(e) => {
                let Some(s) = again else { return Err(e) };
                if !ctx
                    .db
                    .rerun_rolled_back(&e, attempt, &mut started, &ctx.opts.deadline)
                    .await
                {
                    return Err(e);
                }
                session = s;
                attempt += 1;
            }
            Ok(changed) => break changed,
        }
    };
    if changed && soft {
        entity.__set_deleted_at(Some(ctx.now));
        if let Some(v) = entity.__version() {
            entity.__set_version(v + 1);
        }
        entity.__set_updated_at(ctx.now);
    }
    Ok(changed)
}

async fn delete_once<E: Entity>(
    ctx: &Ctx<'_>,
    session: Session<'_>,
    entity: &E,
    soft: bool,
) -> Result<bool> {
    let info = ctx.info;
    let id = entity.id();
    let mut unit = session.unit(info.history && !soft).await?;
    let result: Result<bool> = async {
        if soft {
            let stmt = ctx
                .stmts
                .soft_delete
                .as_ref()
                .ok_or_else(|| missing("soft delete", info))?;
            let mut managed = vec![Managed::Time(Some(ctx.now))];
            if info.column(ColumnRole::UpdatedAt).is_some() {
                managed.push(Managed::Time(Some(ctx.now)));
            }
            if info.history {
                managed.extend(audit_values(ctx.audit));
            }
            let params = RowParams {
                entity: &*entity,
                lead_id: None,
                data: false,
                managed,
                where_id: Some(id.clone()),
                where_version: None,
            };
            Ok(unit.execute(stmt, &params, ctx.opts).await?.rows_affected > 0)
        } else {
            // with history, snapshot the row before it goes
            if info.history && ctx.record(&mut unit, id.clone(), Operation::Delete).await? == 0 {
                return Ok(false);
            }
            let r = unit
                .execute(&ctx.stmts.delete, &(id.clone(),), ctx.opts)
                .await?;
            Ok(r.rows_affected > 0)
        }
    }
    .await;
    unit.finish(result).await
}

pub(crate) async fn restore<E: Entity>(
    entity: &mut E,
    session: Session<'_>,
    audit: Option<&Audit>,
) -> Result<bool> {
    let ctx = Ctx::new::<E>(&session, audit);
    super::check_shard(session.db, entity)?;
    let info = ctx.info;
    let stmt = ctx.stmts.restore.as_ref().ok_or_else(|| {
        Error::Unsupported(format!(
            "entity `{}` has no soft delete (add `#[dal(soft_delete)]` to it)",
            info.table
        ))
    })?;
    let id = entity.id();
    let mut unit = session.unit(false).await?;
    let result: Result<bool> = async {
        let mut managed = Vec::new();
        if info.column(ColumnRole::UpdatedAt).is_some() {
            managed.push(Managed::Time(Some(ctx.now)));
        }
        if info.history {
            managed.extend(audit_values(ctx.audit));
        }
        let params = RowParams {
            entity: &*entity,
            lead_id: None,
            data: false,
            managed,
            where_id: Some(id.clone()),
            where_version: None,
        };
        Ok(unit.execute(stmt, &params, ctx.opts).await?.rows_affected > 0)
    }
    .await;
    let changed = unit.finish(result).await?;
    if changed {
        entity.__set_deleted_at(None);
        if let Some(v) = entity.__version() {
            entity.__set_version(v + 1);
        }
        entity.__set_updated_at(ctx.now);
    }
    Ok(changed)
}

pub(crate) async fn history<E: Entity>(
    session: Session<'_>,
    id: E::Id,
) -> Result<Vec<HistoryEntry<E>>> {
    need_history(E::INFO)?;
    let opts = session.options();
    let stmts = E::INFO.statements(session.dialect()).clone();
    let stmt = stmts
        .history_select
        .as_ref()
        .ok_or_else(|| missing("history", E::INFO))?;
    session.read(stmt, &(id,), None, opts).await
}

pub(crate) async fn at_version<E: Entity>(
    session: Session<'_>,
    id: E::Id,
    version: i64,
) -> Result<Option<HistoryEntry<E>>> {
    need_history(E::INFO)?;
    let opts = session.options();
    let stmts = E::INFO.statements(session.dialect()).clone();
    let stmt = stmts
        .history_at_version
        .as_ref()
        .ok_or_else(|| missing("history", E::INFO))?;
    let rows: Vec<HistoryEntry<E>> = session.read(stmt, &(id, version), Some(1), opts).await?;
    Ok(rows.into_iter().next())
}

// ------------------------------------------------------------------ bulk save

/// From this many new rows on, PostgreSQL bulk saves use binary COPY (its two
/// extra round trips pay off; measured faster than multi-row VALUES and UNNEST).
const COPY_MIN_ROWS: usize = 64;

/// PostgreSQL: reserve ids from the key's sequence (one round trip), then stream
/// every new row with binary COPY.
#[cfg(feature = "postgres")]
async fn copy_new_rows<E: Entity>(
    ctx: &Ctx<'_>,
    unit: &mut Unit<'_>,
    entities: &mut [E],
    rows: &[usize],
    saved: &mut [Option<Saved>],
) -> Result<()> {
    let info = ctx.info;
    let dialect = ctx.dialect;
    // the sequence is looked up once (an InitPlan), not once per row, and the
    // ids come back as one array rather than one row each
    let ids_sql = "SELECT array_agg(nextval((SELECT pg_get_serial_sequence(?, ?))::regclass)) \
                   FROM generate_series(1, ?)";
    let stmt = ctx.db.inner.statements.get(ids_sql)?;
    let qualified = dialect.quote_identifier(info.table);
    let ids: Vec<(crate::backend::PgIds,)> = unit
        .fetch_as(
            &stmt,
            &(qualified.as_str(), info.id_column, rows.len() as i64),
            Some(1),
            ctx.opts,
        )
        .await?;
    let ids = ids.into_iter().next().map(|(a,)| a.0).unwrap_or_default();
    if ids.len() != rows.len() {
        return Err(Error::Driver(format!(
            "reserved {} ids for {} rows of {}",
            ids.len(),
            rows.len(),
            info.table
        )));
    }
    let mut created = Vec::with_capacity(rows.len());
    for (&i, id) in rows.iter().zip(&ids) {
        entities[i].__set_id(E::Id::from_generated(*id)?);
    }
    // columns in the order the values are pushed: id, data, managed
    let shape = info.shape();
    let blueprint = E::blueprint();
    let mut names: Vec<&str> = vec![info.id_column];
    names.extend(shape.data_columns());
    names.extend(shape.insert_managed());
    let columns: std::sync::Arc<[(String, dal_schema::ColumnType)]> = names
        .iter()
        .map(|n| {
            blueprint
                .column(n)
                .map(|c| (n.to_string(), c.ty.clone()))
                .ok_or_else(|| Error::Driver(format!("column {n} missing from the blueprint")))
        })
        .collect::<Result<Vec<_>>>()?
        .into();
    let extra: Vec<(E::Id, Vec<Managed>)> = rows
        .iter()
        .map(|&i| {
            let e = &entities[i];
            let (managed, c) = managed_for_insert(e, ctx.now, 1, ctx.audit);
            created.push(c);
            (e.id(), managed)
        })
        .collect();
    let mut args = crate::codec::Arguments::pg_copy(columns, rows.len() * 64);
    for (&i, (id, managed)) in rows.iter().zip(&extra) {
        // the id first, then the fields, then the managed values
        id.encode(&mut args)?;
        entities[i].__bind_data(&mut args)?;
        for m in managed {
            m.encode(&mut args)?;
        }
    }
    let (data, copied) = args
        .into_copy()
        .ok_or_else(|| Error::Driver("COPY arguments expected".into()))?
        .finish()?;
    let sql = format!(
        "COPY {} ({}) FROM STDIN (FORMAT binary)",
        qualified,
        names
            .iter()
            .map(|n| dialect.quote_identifier(n))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let n = unit.conn().pg_copy_in(&sql, data, ctx.opts).await?;
    if n as usize != copied || copied != rows.len() {
        return Err(Error::Driver(format!(
            "copied {n} of {} {} rows",
            rows.len(),
            info.table
        )));
    }
    for (&i, c) in rows.iter().zip(created) {
        saved[i] = Some(Saved {
            version: Some(1),
            created: c,
        });
    }
    Ok(())
}

/// The spacing of consecutive ids.
fn inc_of(ids_by: MySqlIds) -> i64 {
    match ids_by {
        MySqlIds::Step(inc) => inc,
        _ => 1,
    }
}

/// Rows per multi-row statement: within the dialect's parameter limit, and at
/// most 1000 so statements stay a reasonable size.
/// Rows per multi-row statement: the configured
/// [`bulk_rows_per_statement`](crate::DatabaseConfigBuilder::bulk_rows_per_statement),
/// never past the dialect's parameter limit.
fn chunk_rows(dialect: Dialect, per_row: usize, configured: usize) -> usize {
    let max = dialect.capabilities().max_bind_params;
    (max / per_row.max(1)).min(configured).max(1)
}

pub(crate) async fn save_all<E: Entity>(
    entities: &mut [E],
    session: Session<'_>,
    audit: Option<&Audit>,
) -> Result<()> {
    if entities.is_empty() {
        return Ok(());
    }
    let mut ctx = Ctx::new::<E>(&session, audit);
    ctx.advance_ids = false;
    let info = ctx.info;
    for e in entities.iter_mut() {
        prepare_id(e);
        super::check_shard(session.db, e)?;
    }
    // ids the server generates are filled in chunk by chunk: when the whole
    // save fails (and rolls back), no entity may keep an id that was never saved
    let unsaved: Vec<(usize, E::Id)> = entities
        .iter()
        .enumerate()
        .filter(|(_, e)| e.id().is_unset())
        .map(|(i, e)| (i, e.id()))
        .collect();
    let mut unit = session.unit(true).await?;
    let result = save_all_on(&ctx, &mut unit, entities).await;
    let saved = match unit.finish(result).await {
        Ok(saved) => saved,
        Err(e) => {
            for (i, id) in unsaved {
                entities[i].__set_id(id);
            }
            return Err(e);
        }
    };
    for (e, s) in entities.iter_mut().zip(saved) {
        apply_saved(e, &s, ctx.now);
    }
    let _ = info;
    Ok(())
}

async fn save_all_on<E: Entity>(
    ctx: &Ctx<'_>,
    unit: &mut Unit<'_>,
    entities: &mut [E],
) -> Result<Vec<Saved>> {
    let info = ctx.info;
    let shape = info.shape();
    let mut saved: Vec<Option<Saved>> = (0..entities.len()).map(|_| None).collect();

    let generated: Vec<usize> = (0..entities.len())
        .filter(|&i| entities[i].id().is_unset() && E::Id::KIND == IdKind::AutoIncrement)
        .collect();
    // ON DUPLICATE KEY fires on any unique key, not only the id
    let bulk_upsert = !info.versioned
        && (ctx.dialect.capabilities().upsert != UpsertStyle::OnDuplicateKey
            || !info.other_unique_keys);
    let keyed: Vec<usize> = (0..entities.len())
        .filter(|&i| !entities[i].id().is_unset() && bulk_upsert)
        .collect();

    // Rows that carry their own ids are written first, then the key's sequence
    // is moved past the highest of them (PostgreSQL; the other backends do it
    // themselves), then the new rows get their generated ids: after it.
    let max_explicit = if E::Id::KIND == IdKind::AutoIncrement {
        entities.iter().filter_map(|e| e.id().integer_value()).max()
    } else {
        None
    };
    let advance = match max_explicit {
        Some(max) => {
            crate::sequence::before_explicit_ids(
                ctx.db,
                unit.conn(),
                ctx.opts,
                info.table,
                info.id_column,
                max,
            )
            .await?
        }
        None => None,
    };
    save_keyed(ctx, unit, entities, &keyed, &mut saved).await?;
    // the rest of the rows with ids, one by one (versioned rows, MySQL with
    // other unique keys)
    for (i, slot) in saved.iter_mut().enumerate() {
        if slot.is_none() && !entities[i].id().is_unset() {
            *slot = Some(save_one(ctx, unit, &mut entities[i]).await?);
        }
    }
    crate::sequence::after_explicit_ids(ctx.db, unit.conn(), ctx.opts, advance).await?;

    // new rows with server-generated ids: multi-row inserts
    let caps = ctx.dialect.capabilities();
    let ids_by = if caps.generated_ids == GeneratedIds::FirstInsertId && !generated.is_empty() {
        crate::sequence::mysql_ids(ctx.db, unit.conn(), ctx.opts).await?
    } else {
        MySqlIds::Step(1)
    };
    let per_row = info.data_count() + shape.insert_managed().len();
    // COPY is PostgreSQL's, compiled in with its backend
    if cfg!(feature = "postgres") && caps.copy_in && generated.len() >= COPY_MIN_ROWS {
        #[cfg(feature = "postgres")]
        copy_new_rows(ctx, unit, entities, &generated, &mut saved).await?;
    } else if ids_by != MySqlIds::OneByOne {
        for chunk in generated.chunks(chunk_rows(
            ctx.dialect,
            per_row,
            ctx.db.config().bulk_rows_per_statement(),
        )) {
            let mut sql =
                dal_schema::entity::insert_many(&shape, ctx.dialect, chunk.len(), false, false);
            if ids_by == MySqlIds::Returning {
                sql.push_str(" RETURNING ");
                sql.push_str(&ctx.dialect.quote_identifier(info.id_column));
            }
            let stmt = ctx.db.inner.statements.get_native(sql);
            let mut rows = Vec::with_capacity(chunk.len());
            let mut created = Vec::with_capacity(chunk.len());
            for &i in chunk {
                let (managed, c) = managed_for_insert(&entities[i], ctx.now, 1, ctx.audit);
                created.push(c);
                rows.push(RowParams {
                    entity: &entities[i],
                    lead_id: None,
                    data: true,
                    managed,
                    where_id: None,
                    where_version: None,
                });
            }
            let params = Rows(rows);
            let ids: Vec<i64> = match caps.generated_ids {
                GeneratedIds::Returning => {
                    let r: Vec<(i64,)> = unit.fetch_as(&stmt, &params, None, ctx.opts).await?;
                    r.into_iter().map(|(id,)| id).collect()
                }
                GeneratedIds::FirstInsertId => match ids_by {
                    MySqlIds::Returning => {
                        let r: Vec<(i64,)> = unit.fetch_as(&stmt, &params, None, ctx.opts).await?;
                        // generated in the order of the VALUES rows
                        let mut ids: Vec<i64> = r.into_iter().map(|(id,)| id).collect();
                        ids.sort_unstable();
                        ids
                    }
                    MySqlIds::Step(_) | MySqlIds::OneByOne => {
                        let first = unit
                            .execute(&stmt, &params, ctx.opts)
                            .await?
                            .last_insert_id
                            .ok_or_else(|| Error::Driver("no insert id reported".into()))?;
                        (0..chunk.len() as i64)
                            .map(|k| first + k * inc_of(ids_by))
                            .collect()
                    }
                },
                GeneratedIds::LastInsertId => {
                    let last = unit
                        .execute(&stmt, &params, ctx.opts)
                        .await?
                        .last_insert_id
                        .ok_or_else(|| Error::Driver("no insert id reported".into()))?;
                    let n = chunk.len() as i64;
                    (0..n).map(|k| last - n + 1 + k).collect()
                }
            };
            drop(params);
            if ids.len() != chunk.len() {
                return Err(Error::Driver(format!(
                    "inserted {} {} rows but got {} ids back",
                    chunk.len(),
                    info.table,
                    ids.len()
                )));
            }
            for (&i, (id, c)) in chunk.iter().zip(ids.into_iter().zip(created)) {
                entities[i].__set_id(E::Id::from_generated(id)?);
                saved[i] = Some(Saved {
                    version: Some(1),
                    created: c,
                });
            }
        }
    }

    // the rest one by one (new rows when MySQL's ids of a multi-row insert
    // cannot be known)
    for (i, slot) in saved.iter_mut().enumerate() {
        if slot.is_none() {
            *slot = Some(save_one(ctx, unit, &mut entities[i]).await?);
        }
    }
    Ok(saved
        .into_iter()
        .map(|s| {
            s.unwrap_or(Saved {
                version: None,
                created: None,
            })
        })
        .collect())
}

/// Rows with ids: multi-row upserts.
async fn save_keyed<E: Entity>(
    ctx: &Ctx<'_>,
    unit: &mut Unit<'_>,
    entities: &[E],
    keyed: &[usize],
    saved: &mut [Option<Saved>],
) -> Result<()> {
    let info = ctx.info;
    let shape = info.shape();
    let per_row = 1 + info.data_count() + shape.insert_managed().len();
    for chunk in keyed.chunks(chunk_rows(
        ctx.dialect,
        per_row,
        ctx.db.config().bulk_rows_per_statement(),
    )) {
        let sql = dal_schema::entity::insert_many(&shape, ctx.dialect, chunk.len(), true, true);
        let stmt = ctx.db.inner.statements.get_native(sql);
        let mut rows = Vec::with_capacity(chunk.len());
        let mut created = Vec::with_capacity(chunk.len());
        for &i in chunk {
            let (managed, c) = managed_for_insert(&entities[i], ctx.now, 1, ctx.audit);
            created.push(c);
            rows.push(RowParams {
                entity: &entities[i],
                lead_id: Some(entities[i].id()),
                data: true,
                managed,
                where_id: None,
                where_version: None,
            });
        }
        unit.execute(&stmt, &Rows(rows), ctx.opts).await?;
        for (&i, c) in chunk.iter().zip(created) {
            saved[i] = Some(Saved {
                version: None,
                created: c,
            });
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ upsert

/// What an upsert does: the unique key it conflicts on, and the columns it
/// updates on a conflict (`None`: leave the existing row alone).
pub(crate) struct UpsertPlan {
    pub target: Vec<&'static str>,
    pub update: Option<Vec<&'static str>>,
}

/// Refuse a plan the entity cannot run: the target must be its id or one of
/// its unique indexes, the updated columns its data columns. Returns the
/// name of the unique index (None for the primary key).
fn check_plan<E: Entity>(plan: &UpsertPlan) -> Result<Option<String>> {
    let info = E::INFO;
    if plan.target.is_empty() {
        return Err(Error::invalid_input(
            "on_conflict",
            "name the unique key the rows conflict on",
        ));
    }
    let same = |cols: &[String]| {
        cols.len() == plan.target.len() && plan.target.iter().all(|t| cols.iter().any(|c| c == t))
    };
    let blueprint = E::blueprint();
    let index = if same(&blueprint.primary_key) {
        None
    } else {
        let column_unique = match plan.target.as_slice() {
            [one] => blueprint
                .columns
                .iter()
                .find(|c| c.name == *one && c.unique)
                .map(|c| {
                    dal_schema::model::names::unique_index(
                        &blueprint.name,
                        std::slice::from_ref(&c.name),
                    )
                }),
            _ => None,
        };
        match blueprint
            .indexes
            .iter()
            .find(|i| i.unique && same(&i.columns))
            .map(|i| i.name.clone())
            .or(column_unique)
        {
            Some(name) => Some(name),
            None => {
                return Err(Error::invalid_input(
                    "on_conflict",
                    format!(
                        "({}) is not a unique key of `{}`: conflicts are detected on the primary key or a unique index (mark the field `#[dal(unique)]`)",
                        plan.target.join(", "),
                        info.table
                    ),
                ));
            }
        }
    };
    if let Some(cols) = &plan.update {
        if cols.is_empty() {
            return Err(Error::invalid_input(
                "update",
                "name the columns to update on a conflict, or use `do_nothing`",
            ));
        }
        for c in cols {
            let data = info
                .columns
                .iter()
                .any(|x| x.name == *c && x.role == ColumnRole::Data);
            if !data {
                return Err(Error::invalid_input(
                    *c,
                    format!(
                        "`{c}` is not a data column of `{}`: the key and the managed columns (version, timestamps) are not set by an upsert",
                        info.table
                    ),
                ));
            }
        }
    }
    Ok(index)
}

/// Insert each entity, or on a conflict on the plan's unique key update the
/// listed columns of the existing row (or leave it). Returns, per entity,
/// whether a row was written; a written entity holds the row as stored.
pub(crate) async fn upsert<E: Entity>(
    entities: &mut [E],
    session: Session<'_>,
    plan: &UpsertPlan,
    audit: Option<&Audit>,
) -> Result<Vec<bool>> {
    let index = check_plan::<E>(plan)?;
    if entities.is_empty() {
        return Ok(Vec::new());
    }
    let ctx = Ctx::new::<E>(&session, audit);
    let before: Vec<E::Id> = entities.iter().map(|e| e.id()).collect();
    for e in entities.iter_mut() {
        prepare_id(e);
    }
    for e in entities.iter() {
        super::check_shard(session.db, e)?;
    }
    // without RETURNING the row is read back by a second statement
    let read_back = !ctx.dialect.capabilities().returning;
    let mut unit = session.unit(entities.len() > 1 || read_back).await?;
    let mut outcomes = Vec::with_capacity(entities.len());
    let result: Result<()> = async {
        for e in entities.iter() {
            outcomes.push(upsert_one(&ctx, &mut unit, e, plan, index.as_deref()).await?);
        }
        Ok(())
    }
    .await;
    match unit.finish(result).await {
        // the entities change only once everything is stored
        Ok(()) => Ok(entities
            .iter_mut()
            .zip(outcomes)
            .map(|(e, o)| match o {
                Upserted::Ignored => false,
                Upserted::Row(row) => {
                    *e = row;
                    true
                }
                Upserted::Inserted { id, saved } => {
                    if let Some(id) = id {
                        e.__set_id(id);
                    }
                    apply_saved(e, &saved, ctx.now);
                    true
                }
            })
            .collect()),
        Err(err) => {
            // nothing was written: no entity keeps an id it did not have
            for (entity, id) in entities.iter_mut().zip(before) {
                entity.__set_id(id);
            }
            Err(err)
        }
    }
}

/// What one upsert did, applied to the entity once the whole call is stored.
enum Upserted<E: Entity> {
    /// A conflict left the existing row alone.
    Ignored,
    /// The row as stored.
    Row(E),
    /// Inserted as the entity holds it (with this generated id).
    Inserted { id: Option<E::Id>, saved: Saved },
}

async fn upsert_one<E: Entity>(
    ctx: &Ctx<'_>,
    unit: &mut Unit<'_>,
    entity: &E,
    plan: &UpsertPlan,
    index: Option<&str>,
) -> Result<Upserted<E>> {
    let info = ctx.info;
    let shape = info.shape();
    let generated = entity.id().is_unset() && E::Id::KIND == IdKind::AutoIncrement;
    let mut cols: Vec<&str> = Vec::new();
    if !generated {
        cols.push(info.id_column);
    }
    let data = shape.data_columns();
    let managed = shape.insert_managed();
    cols.extend(&data);
    cols.extend(&managed);
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        quoted(info.table),
        cols.iter()
            .map(|c| quoted(c))
            .collect::<Vec<_>>()
            .join(", "),
        vec!["?"; cols.len()].join(", ")
    );
    // on a conflict: the listed columns, then what a write maintains
    let on_duplicate_key = ctx.dialect.capabilities().upsert == UpsertStyle::OnDuplicateKey;
    let mut sets: Vec<String> = Vec::new();
    if let Some(update) = &plan.update {
        let new = |c: &str| {
            if on_duplicate_key {
                format!("VALUES({})", quoted(c))
            } else {
                format!("excluded.{}", quoted(c))
            }
        };
        for c in update {
            sets.push(format!("{} = {}", quoted(c), new(c)));
        }
        if let Some(v) = info.column(ColumnRole::Version) {
            sets.push(format!(
                "{0} = {1}.{0} + 1",
                quoted(v.name),
                quoted(info.table)
            ));
        }
        if let Some(u) = info.column(ColumnRole::UpdatedAt) {
            sets.push(format!("{} = {}", quoted(u.name), new(u.name)));
        }
        for c in shape.audit() {
            sets.push(format!("{} = {}", quoted(c), new(c)));
        }
    }
    let returning = ctx.dialect.capabilities().returning;
    match (&plan.update, on_duplicate_key) {
        (Some(_), true) => {
            sql.push_str(" ON DUPLICATE KEY UPDATE ");
            sql.push_str(&sets.join(", "));
        }
        (Some(_), false) => {
            write!(
                sql,
                " ON CONFLICT ({}) DO UPDATE SET {}",
                plan.target
                    .iter()
                    .map(|c| quoted(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                sets.join(", ")
            )
            .ok();
        }
        (None, true) => {}
        (None, false) => {
            write!(
                sql,
                " ON CONFLICT ({}) DO NOTHING",
                plan.target
                    .iter()
                    .map(|c| quoted(c))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .ok();
        }
    }
    if returning {
        write!(sql, " RETURNING {}", info.sql(ctx.dialect).select_list).ok();
    }
    let stmt = ctx.db.inner.statements.get(&sql)?;
    let (managed_values, created) = managed_for_insert(entity, ctx.now, 1, ctx.audit);
    let params = RowParams {
        entity,
        lead_id: (!generated).then(|| entity.id()),
        data: true,
        managed: managed_values,
        where_id: None,
        where_version: None,
    };
    if returning {
        let rows: Vec<E> = unit.fetch_as(&stmt, &params, Some(1), ctx.opts).await?;
        drop(params);
        let Some(row) = rows.into_iter().next() else {
            return Ok(Upserted::Ignored);
        };
        if !generated {
            ctx.inserted_with_id(unit, &row.id()).await?;
        }
        return Ok(Upserted::Row(row));
    }
    // the MySQL family: no RETURNING on MySQL 8, and a duplicate key
    // updates whichever unique key it hit
    let done = unit.execute(&stmt, &params, ctx.opts).await;
    drop(params);
    let done = match done {
        Ok(d) => d,
        Err(Error::ConstraintViolation {
            kind: ConstraintKind::Unique,
            constraint: Some(name),
            ..
        }) if plan.update.is_none() && is_key(&name, index) => return Ok(Upserted::Ignored),
        Err(e) => return Err(e),
    };
    if plan.update.is_none() {
        let id = if generated {
            let id = done.last_insert_id.ok_or_else(|| {
                Error::Driver(format!(
                    "the server did not report the new {} id",
                    info.table
                ))
            })?;
            Some(E::Id::from_generated(id)?)
        } else {
            ctx.inserted_with_id(unit, &entity.id()).await?;
            None
        };
        return Ok(Upserted::Inserted {
            id,
            saved: Saved {
                version: info.column(ColumnRole::Version).map(|_| 1),
                created,
            },
        });
    }
    // read the row back by its key: the new one, or the one it updated
    let mut keys: Vec<Param> = Vec::new();
    let mut wheres: Vec<String> = Vec::new();
    for c in &plan.target {
        wheres.push(format!("{} = ?", quoted(c)));
        let value = if *c == info.id_column && generated {
            let id = done.last_insert_id.ok_or_else(|| {
                Error::Driver(format!(
                    "the server did not report the new {} id",
                    info.table
                ))
            })?;
            Arc::new(id) as Param
        } else {
            entity.__value_of(c).ok_or_else(|| {
                Error::invalid_input(*c, "the conflict key must be a mapped column")
            })?
        };
        keys.push(value);
    }
    let select = format!(
        "SELECT {} FROM {} WHERE {}",
        info.sql(ctx.dialect).select_list,
        quoted(info.table),
        wheres.join(" AND ")
    );
    let stmt = ctx.db.inner.statements.get(&select)?;
    let rows: Vec<E> = unit
        .fetch_as(&stmt, &ParamList(&keys), Some(1), ctx.opts)
        .await?;
    let row = rows.into_iter().next().ok_or_else(|| {
        Error::Driver(format!(
            "the {} row written by the upsert could not be read back",
            info.table
        ))
    })?;
    Ok(Upserted::Row(row))
}

/// Whether a duplicate-key error names the upsert's key (MySQL 8 prefixes
/// the table: `users.users_email_unique`).
fn is_key(name: &str, index: Option<&str>) -> bool {
    let want = index.unwrap_or("PRIMARY");
    name == want || name.ends_with(&format!(".{want}"))
}

// ------------------------------------------------------------------ partial saves

/// Write only `columns` (data columns) of a stored entity, with what a save
/// maintains (version, `updated_at`, audit columns): the save of a
/// [`Tracked`](super::Tracked) entity. A versioned entity is checked against
/// its version as in a full save.
pub(crate) async fn save_columns<E: Entity>(
    entity: &mut E,
    session: Session<'_>,
    columns: &[&'static str],
    audit: Option<&Audit>,
) -> Result<()> {
    let ctx = Ctx::new::<E>(&session, audit);
    super::check_shard(session.db, entity)?;
    let info = ctx.info;
    let current = entity.__version().unwrap_or(0);
    let next = current + 1;
    let version = info.column(ColumnRole::Version).filter(|_| info.versioned);
    let mut params: Vec<Param> = Vec::with_capacity(8);
    for value in managed_for_update(entity, ctx.now, next, ctx.audit) {
        params.push(Arc::new(value));
    }
    params.push(Arc::new(entity.id()));
    if version.is_some() {
        params.push(Arc::new(current));
    }
    let stmt = partial_update(&ctx, columns)?;
    let bound = ColumnParams {
        entity: &*entity,
        columns,
        rest: &params,
    };
    let mut unit = session.unit(false).await?;
    let result = unit.execute(&stmt, &bound, ctx.opts).await;
    let done = unit.finish(result).await?;
    if done.rows_affected == 0 {
        return Err(if version.is_some() {
            Error::StaleVersion {
                entity: info.table.to_string(),
                id: format!("{:?}", entity.id()),
                expected: current,
            }
        } else {
            Error::NotFound(format!(
                "no `{}` row has the id {:?}",
                info.table,
                entity.id()
            ))
        });
    }
    apply_saved(
        entity,
        &Saved {
            version: version.map(|_| next),
            created: None,
        },
        ctx.now,
    );
    Ok(())
}

/// The statement of a partial update writing `columns` (then the managed
/// columns, by id, and by version when versioned), built once per set of
/// columns and entity.
fn partial_update(ctx: &Ctx<'_>, columns: &[&'static str]) -> Result<Arc<Statement>> {
    if let Ok(m) = ctx.stmts.partial.lock()
        && let Some(s) = m.get(columns)
    {
        return Ok(s.clone());
    }
    let info = ctx.info;
    let shape = info.shape();
    let mut sets: Vec<String> = columns
        .iter()
        .map(|c| format!("{} = ?", quoted(c)))
        .collect();
    sets.extend(
        shape
            .update_managed()
            .into_iter()
            .map(|c| format!("{} = ?", quoted(c))),
    );
    let mut sql = format!(
        "UPDATE {} SET {} WHERE {} = ?",
        quoted(info.table),
        sets.join(", "),
        quoted(info.id_column)
    );
    if let Some(v) = info.column(ColumnRole::Version).filter(|_| info.versioned) {
        write!(sql, " AND {} = ?", quoted(v.name)).ok();
    }
    let stmt = ctx.db.inner.statements.get(&sql)?;
    if let Ok(mut m) = ctx.stmts.partial.lock() {
        // bounded: an application uses a handful of sets of changed columns
        if m.len() >= 256 {
            m.clear();
        }
        m.insert(columns.into(), stmt.clone());
    }
    Ok(stmt)
}

/// Some data columns of an entity, then further parameters.
struct ColumnParams<'e, E: Entity> {
    entity: &'e E,
    columns: &'e [&'static str],
    rest: &'e [Param],
}

impl<E: Entity> Params for ColumnParams<'_, E> {
    fn bind<'q>(&'q self, args: &mut Arguments<'q>) -> Result<()> {
        for c in self.columns {
            if !self.entity.__bind_column(c, args)? {
                return Err(Error::invalid_input(
                    *c,
                    format!("`{c}` is not a data column of `{}`", E::INFO.table),
                ));
            }
        }
        for p in self.rest {
            p.encode(args)?;
        }
        Ok(())
    }
    fn len(&self) -> usize {
        self.columns.len() + self.rest.len()
    }
}
