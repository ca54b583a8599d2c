//! The typed query builder: column handles ([`Col`]), conditions ([`Cond`]),
//! orderings and [`Find`].
//!
//! A handle knows its entity and its Rust type, so comparing a column with a
//! value of another type does not compile:
//!
//! ```compile_fail
//! # use dal::Entity;
//! #[derive(Entity)]
//! struct Item { #[dal(id)] id: i64, price: i32 }
//! let _ = Item::PRICE.eq("cheap"); // error: `&str` is not an `i32`
//! ```

use std::fmt::Write as _;
use std::marker::PhantomData;

use dal_schema::Dialect;
use dal_schema::entity::ColumnRole;
use futures_core::Stream;

use super::executor::{Executor, Session};
use super::ops::{Audit, Operation, cache_lookup};
use super::sql::{MARK, Param, ParamList, place, quoted};
use super::{Entity, Managed, audit_values, now_micros};
use crate::error::{Error, Result};
use crate::value::Value;

mod column;
mod cursor;
mod stream;

pub use column::{Assignment, Col, ColumnValue, Cond, NotNull, Nullability, Nullable, Order};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Deleted {
    Hide,
    Include,
    Only,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lock {
    None,
    ForUpdate,
    SkipLocked,
}

/// A query over entity `E`; start with `E::find()`.
///
/// Soft-deleted rows are hidden unless [`include_deleted`](Find::include_deleted)
/// or [`only_deleted`](Find::only_deleted) is called.
pub struct Find<E: Entity> {
    pub(crate) cond: Option<Cond<E>>,
    pub(crate) order: Vec<Order<E>>,
    pub(crate) limit: Option<u64>,
    pub(crate) offset: Option<u64>,
    deleted: Deleted,
    pub(super) lock: Lock,
    after: Option<Vec<Param>>,
    batch: usize,
    /// Always sort (by the id at least): pages of a stream must not overlap.
    total_order: bool,
    /// Set when the query loads a relation of one row lazily (for the N+1
    /// detector).
    lazy: Option<LazyLoad>,
    /// Read the rows as they were at this instant, from the history table.
    pub(super) as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// Answer from the read cache when the database has one.
    cached: bool,
}

/// A lazy relation load: which relation, from where, for which parent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LazyLoad {
    table: &'static str,
    relation: &'static str,
    site: &'static std::panic::Location<'static>,
    parent: u64,
}

impl<E: Entity> Clone for Find<E> {
    fn clone(&self) -> Self {
        Find {
            cond: self.cond.clone(),
            order: self.order.clone(),
            limit: self.limit,
            offset: self.offset,
            deleted: self.deleted,
            lock: self.lock,
            after: self.after.clone(),
            batch: self.batch,
            total_order: self.total_order,
            lazy: self.lazy,
            as_of: self.as_of,
            cached: self.cached,
        }
    }
}

impl<E: Entity> std::fmt::Debug for Find<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Find")
            .field("entity", &E::INFO.table)
            .field("cond", &self.cond)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .field("as_of", &self.as_of)
            .finish()
    }
}

/// Statement text and parameters of a built query.
struct Built {
    sql: String,
    params: Vec<Param>,
}

impl<E: Entity> Default for Find<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Entity> Find<E> {
    /// A query matching every (not soft-deleted) row.
    pub fn new() -> Self {
        Find {
            cond: None,
            order: Vec::new(),
            limit: None,
            offset: None,
            deleted: Deleted::Hide,
            lock: Lock::None,
            after: None,
            batch: 2000,
            total_order: false,
            lazy: None,
            as_of: None,
            cached: false,
        }
    }

    /// Answer `all`, `optional`, `one`, `count` and `exists` from the
    /// database's read cache (see
    /// [`DatabaseConfigBuilder::cache`](crate::DatabaseConfigBuilder::cache)),
    /// when it has one. The rows of `all`, `optional` and `one` are cached
    /// for entities marked `#[dal(cache)]` only (they are kept as JSON);
    /// `count` and `exists` for every entity. Every write to the entity's
    /// table invalidates the query's entries, as it does `get`'s. Not
    /// cached: queries in a transaction, that lock rows, or read the past
    /// (`as_of`).
    ///
    /// ```no_run
    /// # use dal::Entity;
    /// # #[derive(dal::Entity, serde::Serialize, serde::Deserialize)]
    /// # #[dal(table = "products", cache)]
    /// # struct Product { id: i64, #[dal(length = 50)] kind: String }
    /// # async fn f(db: &dal::Db) -> dal::Result<()> {
    /// let lamps = Product::find()
    ///     .filter(Product::KIND.eq("lamp"))
    ///     .cached()
    ///     .all(db)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub fn cached(mut self) -> Self {
        self.cached = true;
        self
    }

    /// The read cache's entry for this built query (`kind`: what is kept),
    /// when the query may be cached.
    fn cache_entry(&self, kind: &str, built: &Built) -> Option<String> {
        if !self.cached || self.as_of.is_some() || self.lock != Lock::None {
            return None;
        }
        use sha2::Digest as _;
        // the parameters in the dialect-neutral scalar form (the SQL text
        // is the session's dialect's already)
        let mut args = crate::codec::Arguments::from_inner(crate::codec::ArgsInner::Scalar(
            Dialect::Sqlite,
            Vec::new(),
        ));
        for p in &built.params {
            p.encode(&mut args).ok()?;
        }
        let mut h = sha2::Sha256::new();
        h.update(built.sql.as_bytes());
        h.update(format!("{:?}", args.sqlite_args()?).as_bytes());
        let digest = h.finalize();
        let mut entry = format!("{kind}:");
        for b in &digest[..16] {
            entry.push_str(&format!("{b:02x}"));
        }
        Some(entry)
    }

    /// Mark the query as the lazy load of `relation` for one parent row (the
    /// N+1 detector watches these).
    pub(crate) fn lazy_origin(
        mut self,
        table: &'static str,
        relation: &'static str,
        site: &'static std::panic::Location<'static>,
        parent: u64,
    ) -> Self {
        self.lazy = Some(LazyLoad {
            table,
            relation,
            site,
            parent,
        });
        self
    }

    /// Sort by id (for a deterministic first row).
    pub(crate) fn order_by_id(mut self) -> Self {
        self.total_order = true;
        self
    }

    /// Tell the N+1 detector about a lazy load that is about to run.
    pub(super) fn note_lazy(&self, session: &Session<'_>) {
        if let Some(l) = &self.lazy {
            session
                .db
                .telemetry()
                .lazy_load(l.table, l.relation, l.site, l.parent);
        }
    }

    /// The rows matching this query whose `column` is one of `keys` (each
    /// key once), on a session that stays usable for the next level. On
    /// PostgreSQL, keys of a type with an array form are bound as one array
    /// (`= ANY(?)`: one parameter, one plan); elsewhere one query per chunk
    /// of keys, sized to the dialect's bind limit and padded to a power of
    /// two (so a handful of statement texts serve every list length). With
    /// `ordered`, rows come in the query's order then by id; without (the
    /// caller groups or sorts them itself) in no particular order unless the
    /// query has an `order_by`.
    pub(crate) async fn fetch_in<K: super::EntityId>(
        &self,
        session: &mut Session<'_>,
        column: &'static str,
        keys: &[K],
        ordered: bool,
    ) -> Result<Vec<E>> {
        let mut out = Vec::new();
        self.check_as_of()?;
        if keys.is_empty() {
            return Ok(out);
        }
        let dialect = session.dialect();
        let run = |q: &mut Find<E>, cond: Cond<E>| {
            if ordered {
                q.total_order = true;
            }
            q.cond = Some(match q.cond.take() {
                Some(c) => c.and(cond),
                None => cond,
            });
            q.build_select(dialect, E::INFO.sql(dialect).select_list)
        };
        if dialect.capabilities().array_params
            && let Some(array) = K::__pg_array(keys)
        {
            let mut q = self.clone();
            let built = run(
                &mut q,
                Cond::raw(format!("{MARK}{} = ANY(?)", quoted(column)), vec![array]),
            );
            let stmt = session.db.inner.statements.get(&built.sql)?;
            return session
                .fetch::<E, _>(&stmt, &ParamList(&built.params))
                .await;
        }
        let own = self.cond.as_ref().map_or(0, |c| c.params.len());
        let room = dialect
            .capabilities()
            .max_bind_params
            .saturating_sub(own + 2)
            .clamp(1, 1 << 15);
        // the largest power of two that fits
        let chunk = 1usize << (usize::BITS - 1 - room.leading_zeros());
        for part in keys.chunks(chunk) {
            let padded = part.len().next_power_of_two().min(chunk);
            let mut list = String::with_capacity(padded * 3);
            let mut params: Vec<Param> = Vec::with_capacity(padded);
            for i in 0..padded {
                list.push_str(if i == 0 { "?" } else { ", ?" });
                params.push(std::sync::Arc::new(part[i.min(part.len() - 1)].clone()));
            }
            let mut q = self.clone();
            let built = run(
                &mut q,
                Cond::raw(format!("{MARK}{} IN ({list})", quoted(column)), params),
            );
            let stmt = session.db.inner.statements.get(&built.sql)?;
            let rows = session
                .fetch::<E, _>(&stmt, &ParamList(&built.params))
                .await?;
            // the first chunk's rows are kept as they are, not copied
            if out.is_empty() {
                out = rows;
            } else {
                out.extend(rows);
            }
        }
        Ok(out)
    }

    /// Whether the query has an `order_by` of its own.
    pub(crate) fn has_order(&self) -> bool {
        !self.order.is_empty()
    }

    /// Run the query on a session that stays usable afterwards.
    pub(crate) async fn select_on(mut self, session: &mut Session<'_>) -> Result<Vec<E>> {
        self.check_as_of()?;
        self.note_lazy(session);
        let dialect = session.dialect();
        let columns = E::INFO.sql(dialect).select_list;
        let built = self.build_select(dialect, columns);
        let stmt = session.db.inner.statements.get(&built.sql)?;
        session
            .fetch::<E, _>(&stmt, &ParamList(&built.params))
            .await
    }

    /// Keep rows matching `cond` (several calls are ANDed).
    pub fn filter(mut self, cond: Cond<E>) -> Self {
        self.cond = Some(match self.cond.take() {
            Some(c) => c.and(cond),
            None => cond,
        });
        self
    }

    /// Sort by `order` (several calls sort by each in turn).
    pub fn order_by(mut self, order: Order<E>) -> Self {
        self.order.push(order);
        self
    }

    /// Return at most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Skip the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }

    /// Include soft-deleted rows.
    pub fn include_deleted(mut self) -> Self {
        self.deleted = Deleted::Include;
        self
    }

    /// Only soft-deleted rows.
    pub fn only_deleted(mut self) -> Self {
        self.deleted = Deleted::Only;
        self
    }

    /// Lock the selected rows until the transaction ends (`FOR UPDATE`; SQLite
    /// transactions already hold the database's write lock, so it is a no-op there).
    pub fn for_update(mut self) -> Self {
        self.lock = Lock::ForUpdate;
        self
    }

    /// Lock the selected rows, skipping rows another transaction holds
    /// (`FOR UPDATE SKIP LOCKED`): the building block of job queues.
    pub fn skip_locked(mut self) -> Self {
        self.lock = Lock::SkipLocked;
        self
    }

    /// Keyset pagination: only rows after `last` in this query's order (the id
    /// breaks ties). Cheaper than `offset` on deep pages. The ordered columns
    /// should not be NULL.
    pub fn after(mut self, last: &E) -> Self {
        self.after = Some(self.key_of(last));
        self
    }

    /// Time travel: the rows as they were at instant `at`, read from the
    /// entity's history table (the entity needs `#[dal(history)]`; without
    /// it the query fails with [`Error::InvalidInput`]).
    ///
    /// Each row is its latest version written at or before `at` (a version
    /// written at `at` is visible as of `at`, as in SQL:2011's
    /// `FOR SYSTEM_TIME AS OF`), and filters, order, limit and counts apply
    /// to that state. A row inserted after `at` is absent, a row deleted
    /// permanently at or before `at` is absent, and a row soft-deleted then
    /// is absent unless the query includes deleted rows
    /// ([`include_deleted`](Find::include_deleted),
    /// [`only_deleted`](Find::only_deleted)). Relations loaded eagerly with
    /// [`with`](Find::with) are read as of the same instant when their
    /// entity keeps history (their current state otherwise); filters through
    /// relations (`User::TASKS.any(..)`) look at the related rows' current
    /// state.
    ///
    /// The instants are the database server's clock when each version was
    /// written (SQLite records milliseconds; PostgreSQL the time its
    /// transaction began). Row locks do not apply, and a query as of an
    /// instant cannot update or delete.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::{Db, Entity};
    ///
    /// #[derive(Entity, Debug, Clone, PartialEq)]
    /// #[dal(table = "prices", history)]
    /// struct Price {
    ///     #[dal(id)]
    ///     id: i64,
    ///     cents: i64,
    /// }
    ///
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// Price::ensure_schema(&db).await?;
    /// let mut p = Price { id: 0, cents: 100 };
    /// p.save(&db).await?;
    /// let then = Price::history(&db, p.id).await?[0].at;
    /// // (SQLite stamps versions to the millisecond)
    /// tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    /// p.cents = 120;
    /// p.save(&db).await?;
    ///
    /// let old = Price::find().as_of(then).all(&db).await?;
    /// assert_eq!(old[0].cents, 100);
    /// assert_eq!(Price::get_as_of(&db, p.id, then).await?.unwrap().cents, 100);
    /// assert_eq!(Price::find().filter(Price::CENTS.gt(110)).as_of(then).count(&db).await?, 0);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn as_of(mut self, at: chrono::DateTime<chrono::Utc>) -> Self {
        self.as_of = Some(at);
        self
    }

    /// The instant set by [`as_of`](Find::as_of), if any.
    pub fn as_of_instant(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.as_of
    }

    /// Refuse what a time-travel query cannot do.
    pub(super) fn check_as_of(&self) -> Result<()> {
        if self.as_of.is_some() && !E::INFO.history {
            return Err(Error::invalid_input(
                "as_of",
                format!(
                    "entity `{}` keeps no history to travel back in (add `#[dal(history)]` to it)",
                    E::INFO.table
                ),
            ));
        }
        Ok(())
    }

    /// Rows fetched per round trip by [`stream`](Find::stream) (default 2,000:
    /// in `bench/`, 2,000 streamed 1,000,000 rows 1.2-1.4x faster than 500
    /// with the same flat peak memory).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    fn keyset_columns(&self) -> Vec<(&'static str, bool)> {
        let mut cols: Vec<(&'static str, bool)> = self
            .order
            .iter()
            .map(|o| (o.column, o.descending))
            .collect();
        let id = E::INFO.id_column;
        if !cols.iter().any(|(c, _)| *c == id) {
            cols.push((id, false));
        }
        cols
    }

    /// `LIMIT ? OFFSET ?` when the query has either, then the row lock
    /// (when `lock` says the dialect has row locks; never as of an instant).
    pub(super) fn window_and_lock(&self, sql: &mut String, params: &mut Vec<Param>, lock: bool) {
        match (self.limit, self.offset) {
            (None, None) => {}
            (limit, offset) => {
                sql.push_str(" LIMIT ?");
                params.push(std::sync::Arc::new(
                    limit.map_or(i64::MAX, |l| l.min(i64::MAX as u64) as i64),
                ));
                if let Some(o) = offset {
                    sql.push_str(" OFFSET ?");
                    params.push(std::sync::Arc::new(o.min(i64::MAX as u64) as i64));
                }
            }
        }
        if lock && self.as_of.is_none() {
            match self.lock {
                Lock::None => {}
                Lock::ForUpdate => sql.push_str(" FOR UPDATE"),
                Lock::SkipLocked => sql.push_str(" FOR UPDATE SKIP LOCKED"),
            }
        }
    }

    /// The WHERE clause; conditions name the table as `qualifier`.
    pub(super) fn where_clause(
        &self,
        out: &mut String,
        params: &mut Vec<Param>,
        take: Option<Cond<E>>,
        qualifier: &str,
    ) {
        let mut parts: Vec<String> = Vec::new();
        if let Some(deleted) = E::INFO.column(ColumnRole::DeletedAt) {
            match self.deleted {
                Deleted::Hide => {
                    parts.push(format!("{qualifier}.{} IS NULL", quoted(deleted.name)))
                }
                Deleted::Only => {
                    parts.push(format!("{qualifier}.{} IS NOT NULL", quoted(deleted.name)))
                }
                Deleted::Include => {}
            }
        }
        if let Some(at) = self.as_of {
            use dal_schema::entity::history_columns as h;
            let ht = quoted(E::INFO.history_table);
            // the history table is read under the live table's name (so that
            // conditions naming it, such as relation filters, still apply)
            let outer = qualifier;
            let id = quoted(E::INFO.id_column);
            let v = quoted(h::VERSION);
            // the latest version written at or before the instant
            parts.push(format!(
                "{outer}.{v} = (SELECT MAX([hv].{v}) FROM {ht} [hv] WHERE [hv].{id} = {outer}.{id} AND [hv].{} <= ?)",
                quoted(h::AT)
            ));
            params.push(std::sync::Arc::new(at));
            // ...unless it records the row's permanent deletion: a `delete`
            // of a live row (soft deletes record the row with its mark set),
            // or of a row that was soft-deleted already
            let op = quoted(h::OPERATION);
            parts.push(match E::INFO.column(ColumnRole::DeletedAt) {
                Some(d) => format!(
                    "NOT ({outer}.{op} = 'delete' AND ({outer}.{d} IS NULL OR EXISTS (SELECT 1 FROM {ht} [hp] WHERE [hp].{id} = {outer}.{id} AND [hp].{v} = {outer}.{v} - 1 AND [hp].{d} IS NOT NULL)))",
                    d = quoted(d.name)
                ),
                None => format!("{outer}.{op} <> 'delete'"),
            });
        }
        if let Some(c) = take {
            parts.push(format!("({})", place(&c.sql, qualifier)));
            params.extend(c.params);
        }
        if let Some(values) = &self.after {
            let cols = self.keyset_columns();
            let mut ors = Vec::new();
            for k in 0..cols.len() {
                let mut ands = Vec::new();
                for (j, (c, _)) in cols.iter().enumerate().take(k) {
                    ands.push(format!("{qualifier}.{} = ?", quoted(c)));
                    params.push(values[j].clone());
                }
                let (c, desc) = cols[k];
                ands.push(format!(
                    "{qualifier}.{} {} ?",
                    quoted(c),
                    if desc { "<" } else { ">" }
                ));
                params.push(values[k].clone());
                ors.push(format!("({})", ands.join(" AND ")));
            }
            parts.push(format!("({})", ors.join(" OR ")));
        }
        if !parts.is_empty() {
            out.push_str(" WHERE ");
            out.push_str(&parts.join(" AND "));
        }
    }

    fn build_select(&mut self, dialect: Dialect, columns: &str) -> Built {
        let mut sql = if self.as_of.is_some() {
            format!(
                "SELECT {columns} FROM {} {}",
                quoted(E::INFO.history_table),
                quoted(E::INFO.table)
            )
        } else {
            format!("SELECT {columns} FROM {}", quoted(E::INFO.table))
        };
        let mut params = Vec::new();
        let cond = self.cond.take();
        self.where_clause(&mut sql, &mut params, cond, &quoted(E::INFO.table));
        let mut order = self.order.clone();
        if self.after.is_some() || !order.is_empty() || self.total_order {
            // a total order: the id breaks ties
            let id = E::INFO.id_column;
            if !order.iter().any(|o| o.column == id) {
                order.push(Order {
                    column: id,
                    descending: false,
                    _marker: PhantomData,
                });
            }
        }
        for (i, o) in order.iter().enumerate() {
            sql.push_str(if i == 0 { " ORDER BY " } else { ", " });
            sql.push_str(&quoted(o.column));
            if o.descending {
                sql.push_str(" DESC");
            }
        }
        self.window_and_lock(&mut sql, &mut params, dialect.capabilities().row_locking);
        Built { sql, params }
    }

    async fn run_select(mut self, session: Session<'_>) -> Result<Vec<E>> {
        self.check_as_of()?;
        self.note_lazy(&session);
        let dialect = session.dialect();
        let columns = E::INFO.sql(dialect).select_list;
        let built = self.build_select(dialect, columns);
        let stmt = session.db.inner.statements.get(&built.sql)?;
        let mut opts = session.options();
        let looked_up = match self.cache_entry("all", &built) {
            Some(entry) if E::__CACHED => {
                cache_lookup::<E>(session.db, session.in_transaction(), &entry).await
            }
            _ => None,
        };
        let mut fill = None;
        if let Some((cache, lookup)) = looked_up {
            match lookup {
                crate::cache::Lookup::Hit(bytes) => {
                    if let Some(rows) = crate::cache::decode_rows(&bytes, E::__cache_decode) {
                        session
                            .db
                            .telemetry()
                            .call_done(opts.deadline.start, &Ok(()));
                        return Ok(rows);
                    }
                }
                crate::cache::Lookup::Miss(key) => {
                    // filled from the primary: a replica may be behind
                    opts.primary = true;
                    fill = Some((cache, key));
                }
                crate::cache::Lookup::Bypass => {}
            }
        }
        let rows = session
            .read(&stmt, &ParamList(&built.params), None, opts)
            .await?;
        if let Some((cache, key)) = fill
            && let Some(bytes) = crate::cache::encode_rows(&rows, E::__cache_encode)
        {
            cache.store(key, bytes).await;
        }
        Ok(rows)
    }

    /// Every matching row.
    pub fn all<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<E>>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move { self.run_select(session).await }
    }

    /// The first matching row, if any.
    pub fn optional<'a, X: Executor<'a>>(
        mut self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Option<E>>> + Send + 'a
    where
        Self: 'a,
    {
        self.limit = Some(1);
        let session = ex.__into_session();
        async move { Ok(self.run_select(session).await?.into_iter().next()) }
    }

    /// The first matching row; [`Error::NotFound`] when there is none.
    pub fn one<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<E>> + Send + 'a
    where
        Self: 'a,
    {
        let f = self.optional(ex);
        async move {
            f.await?
                .ok_or_else(|| Error::NotFound(format!("no {} matches the query", E::INFO.table)))
        }
    }

    /// How many rows match (ignoring order; honouring limit and offset).
    pub fn count<'a, X: Executor<'a>>(
        mut self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<i64>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move {
            self.check_as_of()?;
            self.note_lazy(&session);
            let dialect = session.dialect();
            if self.after.is_none() {
                // the order changes nothing (a keyset position needs it)
                self.order.clear();
                self.total_order = false;
            }
            self.lock = Lock::None;
            let built = if self.limit.is_some() || self.offset.is_some() || self.after.is_some() {
                let inner = self.build_select(dialect, "1 AS [one]");
                Built {
                    sql: format!("SELECT COUNT(*) FROM ({}) [counted]", inner.sql),
                    params: inner.params,
                }
            } else {
                self.build_select(dialect, "COUNT(*)")
            };
            let stmt = session.db.inner.statements.get(&built.sql)?;
            let mut opts = session.options();
            let mut fill = None;
            let looked_up = match self.cache_entry("count", &built) {
                Some(entry) => {
                    cache_lookup::<E>(session.db, session.in_transaction(), &entry).await
                }
                None => None,
            };
            if let Some((cache, lookup)) = looked_up {
                match lookup {
                    crate::cache::Lookup::Hit(bytes) => {
                        if let Ok(n) = <[u8; 8]>::try_from(&bytes[..]) {
                            session
                                .db
                                .telemetry()
                                .call_done(opts.deadline.start, &Ok(()));
                            return Ok(i64::from_le_bytes(n));
                        }
                    }
                    crate::cache::Lookup::Miss(key) => {
                        opts.primary = true;
                        fill = Some((cache, key));
                    }
                    crate::cache::Lookup::Bypass => {}
                }
            }
            let rows: Vec<(i64,)> = session
                .read(&stmt, &ParamList(&built.params), Some(1), opts)
                .await?;
            let n = rows.first().map_or(0, |r| r.0);
            if let Some((cache, key)) = fill {
                cache.store(key, n.to_le_bytes().to_vec()).await;
            }
            Ok(n)
        }
    }

    /// Whether any row matches.
    pub fn exists<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<bool>> + Send + 'a
    where
        Self: 'a,
    {
        let f = self.limit(1).count(ex);
        async move { Ok(f.await? > 0) }
    }

    /// The matching rows as a stream, fetched [`batch_size`](Find::batch_size) at
    /// a time with keyset pagination (each batch is one round trip; memory stays
    /// bounded: the batch being read, and the next one, fetched in the
    /// background while this one is read). Ordered by this query's order, then
    /// by id. The stream is `Unpin`: `next().await` works on it without pinning
    /// it first. A failed batch ends the stream after its error; dropping the
    /// stream stops the batch in flight. To read a large table faster, from
    /// one statement, see [`cursor`](Find::cursor).
    pub fn stream<'a>(
        self,
        db: &'a crate::db::Db,
    ) -> impl Stream<Item = Result<E>> + Send + Unpin + 'a
    where
        Self: 'a,
    {
        stream::Paged::new(self, db)
    }

    /// The matching rows as a stream read from **one statement**: rows are
    /// decoded as the server sends them and handed over a batch at a time
    /// (on PostgreSQL and MySQL/MariaDB the fetch runs when the stream is
    /// polled, while the driver's connection task reads the socket, 64 rows
    /// a batch; on SQLite the statement steps on a blocking thread of its
    /// own, 256 rows a batch). Memory
    /// stays bounded: when the reader is behind, at most two batches wait
    /// and the fetch stops reading the connection (the server waits on its
    /// socket) until the reader catches up. Rows come in this
    /// query's order (`order_by`; none given: the order the database
    /// returns them in), `limit` and `offset` apply as in
    /// [`all`](Find::all).
    ///
    /// Against [`stream`](Find::stream), which runs one short keyset query
    /// per batch: a cursor holds one pooled connection for as long as it is
    /// read, and sees one snapshot of the data; it is the faster way through
    /// a large table.
    ///
    /// - The statement starts on the first poll (a cursor never polled
    ///   sends nothing).
    /// - It goes where [`all`](Find::all) goes: a healthy replica when the
    ///   database has some, else the primary. It never reads through the
    ///   read cache (a [`cached`](Find::cached) query streams from the
    ///   database). A transient failure before
    ///   the first rows reached the reader is retried under the retry
    ///   policy; one after ends the stream with its error (after the rows
    ///   decoded before it).
    /// - The configured query timeout covers the fetch from the first poll
    ///   until the last batch is handed over. A reader that is behind holds
    ///   the fetch back, so its pace counts: at the deadline the statement
    ///   is cancelled, and the stream ends with [`Error::Timeout`] after
    ///   the rows already handed over.
    /// - Dropping the stream early stops the fetch. On PostgreSQL and
    ///   MySQL/MariaDB the rest of the answer is cancelled on the server,
    ///   and the connection is checked before the pool hands it out again
    ///   (as after a timeout); on SQLite the statement is reset.
    ///
    /// ```
    /// # use dal::Entity;
    /// # #[derive(Entity, Debug, Clone)]
    /// # #[dal(table = "cursor_doc")]
    /// # struct Item { #[dal(id)] id: i64, n: i32 }
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// # db.execute_script("CREATE TABLE cursor_doc (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)").await?;
    /// # for n in 1..=1000 { Item { id: 0, n }.save(&db).await?; }
    /// use futures_util::StreamExt;
    /// let mut rows = Item::find().order_by(Item::N.asc()).cursor(&db);
    /// let mut total = 0i64;
    /// while let Some(item) = rows.next().await {
    ///     total += i64::from(item?.n);
    /// }
    /// assert_eq!(total, 500_500);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    #[track_caller]
    pub fn cursor(
        self,
        db: &crate::db::Db,
    ) -> impl Stream<Item = Result<E>> + Send + Unpin + 'static {
        cursor::Cursor::new(self, db, std::panic::Location::caller())
    }

    fn key_of(&self, last: &E) -> Vec<Param> {
        self.keyset_columns()
            .into_iter()
            .map(|(c, _)| {
                last.__value_of(c)
                    .unwrap_or_else(|| std::sync::Arc::new(Value::Null))
            })
            .collect()
    }

    /// Set columns on every matching row (and `updated_at`, and the version);
    /// returns how many rows changed. With history, records a version of each.
    /// Order, limit and offset do not apply.
    pub fn update_many<'a, X: Executor<'a>>(
        self,
        ex: X,
        assignments: Vec<Assignment<E>>,
    ) -> impl std::future::Future<Output = Result<u64>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move {
            self.write_many(session, Some(assignments), None, false)
                .await
        }
    }

    /// [`update_many`](Find::update_many), recording who made the change and why.
    pub fn update_many_with<'a, X: Executor<'a>>(
        self,
        ex: X,
        assignments: Vec<Assignment<E>>,
        audit: &'a Audit,
    ) -> impl std::future::Future<Output = Result<u64>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move {
            self.write_many(session, Some(assignments), Some(audit), false)
                .await
        }
    }

    /// Delete every matching row (soft delete when the entity has `soft_delete`);
    /// returns how many rows changed. Order, limit and offset do not apply.
    pub fn delete_many<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<u64>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move { self.write_many(session, None, None, false).await }
    }

    /// Permanently delete every matching row; returns how many rows went.
    pub fn delete_many_permanently<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<u64>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move { self.write_many(session, None, None, true).await }
    }

    pub(crate) async fn write_many(
        mut self,
        session: Session<'_>,
        assignments: Option<Vec<Assignment<E>>>,
        audit: Option<&Audit>,
        permanently: bool,
    ) -> Result<u64> {
        if self.limit.is_some() || self.offset.is_some() || !self.order.is_empty() {
            return Err(Error::invalid_input(
                "query",
                "update_many and delete_many apply to every matching row: remove order_by, limit and offset",
            ));
        }
        if self.as_of.is_some() {
            return Err(Error::invalid_input(
                "as_of",
                "a query as of a past instant reads history: it cannot update or delete rows",
            ));
        }
        let info = E::INFO;
        let kind = match assignments {
            Some(a) if a.is_empty() => {
                return Err(Error::invalid_input(
                    "update_many",
                    "nothing to set: pass at least one assignment (`COLUMN.set(value)`)",
                ));
            }
            Some(a) => WriteKind::Update(a),
            None if info.soft_delete && !permanently => {
                // deleting soft-deleted rows again changes nothing
                self.deleted = Deleted::Hide;
                WriteKind::SoftDelete
            }
            None => WriteKind::HardDelete,
        };
        let db = session.db;
        let opts = session.options();
        let now = now_micros();
        let snapshot = info.history && matches!(kind, WriteKind::HardDelete);
        // history of updates is written by the table's triggers; a permanent
        // delete snapshots the rows first, in the same transaction
        let mut unit = session.unit(snapshot).await?;
        let result: Result<u64> = async {
            let cond = self.cond.take();
            if snapshot {
                use dal_schema::entity::history_columns as h;
                let shape = info.shape();
                let copied = shape.history_copied();
                let mut sql = format!(
                    "INSERT INTO {} ({}, {}, {}, {}, {}, {}) SELECT (SELECT COALESCE(MAX([h].{}), 0) + 1 FROM {} [h] WHERE [h].{} = [t].{}), ?, ?, ?, ?, {} FROM {} [t]",
                    quoted(info.history_table),
                    quoted(h::VERSION),
                    quoted(h::OPERATION),
                    quoted(h::ACTOR),
                    quoted(h::COMMENT),
                    quoted(h::AT),
                    copied.iter().map(|c| quoted(c)).collect::<Vec<_>>().join(", "),
                    quoted(h::VERSION),
                    quoted(info.history_table),
                    quoted(info.id_column),
                    quoted(info.id_column),
                    copied
                        .iter()
                        .map(|c| format!("[t].{}", quoted(c)))
                        .collect::<Vec<_>>()
                        .join(", "),
                    quoted(info.table),
                );
                let mut params: Vec<Param> = vec![
                    std::sync::Arc::new(Operation::Delete.as_str()),
                    std::sync::Arc::new(audit.and_then(|a| a.actor.clone())),
                    std::sync::Arc::new(audit.and_then(|a| a.comment.clone())),
                    std::sync::Arc::new(Managed::Time(Some(now))),
                ];
                self.where_clause(&mut sql, &mut params, cond.clone(), "[t]");
                let stmt = db.inner.statements.get(&sql)?;
                unit.execute(&stmt, &ParamList(&params), opts).await?;
            }
            let mut sql = String::new();
            let mut params: Vec<Param> = Vec::new();
            match &kind {
                WriteKind::HardDelete => {
                    write!(sql, "DELETE FROM {}", quoted(info.table)).ok();
                }
                WriteKind::Update(_) | WriteKind::SoftDelete => {
                    write!(sql, "UPDATE {} SET ", quoted(info.table)).ok();
                    let mut sets: Vec<String> = Vec::new();
                    if let WriteKind::Update(assignments) = &kind {
                        for a in assignments {
                            match &a.value {
                                Some(v) => {
                                    sets.push(format!("{} = ?", quoted(a.column)));
                                    params.push(v.clone());
                                }
                                None => sets.push(format!("{} = NULL", quoted(a.column))),
                            }
                        }
                    } else {
                        let d = info.column(ColumnRole::DeletedAt).map_or("deleted_at", |c| c.name);
                        sets.push(format!("{} = ?", quoted(d)));
                        params.push(std::sync::Arc::new(Managed::Time(Some(now))));
                    }
                    if let Some(u) = info.column(ColumnRole::UpdatedAt) {
                        sets.push(format!("{} = ?", quoted(u.name)));
                        params.push(std::sync::Arc::new(Managed::Time(Some(now))));
                    }
                    if let Some(v) = info.column(ColumnRole::Version) {
                        sets.push(format!("{0} = {0} + 1", quoted(v.name)));
                    }
                    if info.history {
                        let names = info
                            .columns
                            .iter()
                            .filter(|c| c.role.is_audit())
                            .map(|c| c.name);
                        for (name, value) in names.zip(audit_values(audit)) {
                            sets.push(format!("{} = ?", quoted(name)));
                            params.push(std::sync::Arc::new(value));
                        }
                    }
                    sql.push_str(&sets.join(", "));
                }
            }
            self.where_clause(&mut sql, &mut params, cond, &quoted(info.table));
            let stmt = db.inner.statements.get(&sql)?;
            Ok(unit
                .execute(&stmt, &ParamList(&params), opts)
                .await?
                .rows_affected)
        }
        .await;
        unit.finish(result).await
    }
}

enum WriteKind<E> {
    Update(Vec<Assignment<E>>),
    SoftDelete,
    HardDelete,
}
