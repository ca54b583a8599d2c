//! Diesel 2.3, synchronous: one `PgConnection` / `MysqlConnection` /
//! `SqliteConnection`, used on the calling (async) thread exactly as a sync
//! library is used, no `spawn_blocking`. Diesel's DSL over `table!` schemas;
//! Diesel caches its prepared statements per connection.
//!
//! - insert_one: `insert_into(t).values((..)).returning(id).get_result` on
//!   PostgreSQL and SQLite; on MySQL (no RETURNING in Diesel's MySQL backend)
//!   `execute` then `select(LAST_INSERT_ID())`, a second round trip.
//! - bulk_insert: `insert_into(t).values(vec_of_tuples).execute` chunked under
//!   the bind limit, in `conn.transaction`.
//! - select_pk: `t.find(id).get_result::<DRow>`.
//! - select_10k: `t.load::<DRow>`.
//! - update_pk: `update(t.find(id)).set((age.eq(..), score.eq(..))).execute`.
//! - save_history: the insert of insert_one; the trigger the harness created
//!   writes the history row (`DAL_BENCH_HISTORY=tx`: `conn.transaction(|c|
//!   insert row, insert history row)`).
//! - eager_has_many: `parents::table.load::<DParent>`, then
//!   `DChild::belonging_to(&parents).load::<DChild>` (`#[derive(Associations)]`
//!   with `belongs_to(DParent, foreign_key = parent_id)`: `parent_id = ANY($1)`
//!   on PostgreSQL, `parent_id IN (?, ..)` elsewhere) and
//!   `children.grouped_by(&parents)`.
//! - concurrent: not run (a sync library; its pool, r2d2, would need
//!   `spawn_blocking`, which this harness does not use for Diesel).

use anyhow::{Context, Result, ensure};
use chrono::NaiveDateTime;
use diesel::connection::SimpleConnection;
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Unsigned};

use crate::sqlx_impl::SQLITE_PRAGMAS;
use crate::workloads::{
    Backend, Contender, EagerResult, HistoryMethod, NoPool, PartialUp, Row, Update, Workload,
    row_hash,
};

/// A `table!` with the bench columns.
#[macro_export]
macro_rules! diesel_row_table {
    ($name:ident, $sql:tt) => {
        diesel::table! {
            #[sql_name = $sql]
            $name (id) {
                id -> BigInt,
                name -> Varchar,
                email -> Varchar,
                age -> Integer,
                score -> Double,
                active -> Bool,
                created_at -> Timestamp,
            }
        }
    };
}

/// The bench tables for one Diesel-based contender.
#[macro_export]
macro_rules! diesel_tables {
    ($insert:tt, $bulk:tt, $update:tt, $hrow:tt, $hist:tt) => {
        $crate::diesel_row_table!(shared, "bench_rows");
        $crate::diesel_row_table!(t_insert, $insert);
        $crate::diesel_row_table!(t_bulk, $bulk);
        $crate::diesel_row_table!(t_update, $update);
        $crate::diesel_row_table!(t_hrow, $hrow);
        diesel::table! {
            #[sql_name = $hist]
            t_hist (id, history_version) {
                history_version -> BigInt,
                history_operation -> Varchar,
                id -> BigInt,
                name -> Nullable<Varchar>,
                email -> Nullable<Varchar>,
                age -> Nullable<Integer>,
                score -> Nullable<Double>,
                active -> Nullable<Bool>,
                created_at -> Nullable<Timestamp>,
            }
        }
    };
}

/// The ten-column table of `partial_update` as `t_wide`.
#[macro_export]
macro_rules! diesel_wide_table {
    ($sql:tt) => {
        diesel::table! {
            #[sql_name = $sql]
            t_wide (id) {
                id -> BigInt,
                s1 -> Varchar,
                s2 -> Varchar,
                s3 -> Varchar,
                s4 -> Varchar,
                n1 -> Integer,
                n2 -> Integer,
                n3 -> Integer,
                f1 -> Double,
                f2 -> Double,
                b1 -> Bool,
            }
        }
    };
}

/// The insertable values of a row for table module `$t`.
#[macro_export]
macro_rules! diesel_values {
    ($t:ident, $r:expr) => {
        (
            $t::name.eq(&$r.name),
            $t::email.eq(&$r.email),
            $t::age.eq($r.age),
            $t::score.eq($r.score),
            $t::active.eq($r.active),
            $t::created_at.eq($r.created_at),
        )
    };
}

/// The history row's values for table module `$h`.
#[macro_export]
macro_rules! diesel_history_values {
    ($h:ident, $id:expr, $r:expr) => {
        (
            $h::history_version.eq(1i64),
            $h::history_operation.eq("insert"),
            $h::id.eq($id),
            $h::name.eq(&$r.name),
            $h::email.eq(&$r.email),
            $h::age.eq($r.age),
            $h::score.eq($r.score),
            $h::active.eq($r.active),
            $h::created_at.eq($r.created_at),
        )
    };
}

pub mod schema {
    crate::diesel_tables!(
        "diesel_insert_one",
        "diesel_bulk_insert",
        "diesel_update_pk",
        "diesel_save_history",
        "diesel_save_history_history"
    );
    crate::diesel_wide_table!("diesel_partial_update");
    crate::diesel_row_table!(stream_rows, "bench_stream");
}
use schema::{shared, t_bulk, t_hist, t_hrow, t_insert, t_update, t_wide};

/// `stream_1m`: rows `1..=n` of `bench_stream` through `load_iter` (on
/// PostgreSQL in libpq's row-by-row mode, `PgRowByRowLoadingMode`; elsewhere
/// the default mode); returns (rows, checksum).
pub fn stream(backend: Backend, url: &str, n: usize) -> Result<(usize, u64)> {
    use diesel::pg::PgRowByRowLoadingMode;
    use diesel::query_dsl::methods::LoadQuery;
    use schema::stream_rows as t;
    let n = n as i64;
    let (mut count, mut sum) = (0usize, 0u64);
    let mut fold = |r: QueryResult<DRow>| -> Result<()> {
        let r = r?;
        count += 1;
        sum = sum.wrapping_add(r.hash());
        Ok(())
    };
    match backend {
        Backend::Postgres => {
            let mut c = PgConnection::establish(url)?;
            let q = t::table.filter(t::id.le(n));
            for r in LoadQuery::<_, DRow, PgRowByRowLoadingMode>::internal_load(q, &mut c)? {
                fold(r)?;
            }
        }
        Backend::MySql => {
            let mut c = MysqlConnection::establish(url)?;
            for r in t::table
                .filter(t::id.le(n))
                .load_iter::<DRow, diesel::connection::DefaultLoadingMode>(&mut c)?
            {
                fold(r)?;
            }
        }
        Backend::Sqlite => {
            let mut c = SqliteConnection::establish(url)?;
            c.batch_execute(SQLITE_PRAGMAS)?;
            for r in t::table
                .filter(t::id.le(n))
                .load_iter::<DRow, diesel::connection::DefaultLoadingMode>(&mut c)?
            {
                fold(r)?;
            }
        }
    }
    Ok((count, sum))
}

/// The tables of `eager_has_many` (shared by every contender; diesel-async
/// uses them too).
pub mod eager_schema {
    diesel::table! {
        #[sql_name = "bench_parents"]
        parents (id) {
            id -> BigInt,
            name -> Varchar,
            email -> Varchar,
            age -> Integer,
            score -> Double,
            active -> Bool,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        #[sql_name = "bench_children"]
        children (id) {
            id -> BigInt,
            parent_id -> BigInt,
            name -> Varchar,
            email -> Varchar,
            age -> Integer,
            score -> Double,
            active -> Bool,
            created_at -> Timestamp,
        }
    }
    diesel::joinable!(children -> parents (parent_id));
    diesel::allow_tables_to_appear_in_same_query!(parents, children);
}

/// A parent as Diesel users load it.
#[derive(Queryable, Identifiable, Debug)]
#[diesel(table_name = eager_schema::parents)]
pub struct DParent {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// A child, associated with its parent.
#[derive(Queryable, Identifiable, Associations, Debug)]
#[diesel(belongs_to(DParent, foreign_key = parent_id))]
#[diesel(table_name = eager_schema::children)]
pub struct DChild {
    pub id: i64,
    pub parent_id: i64,
    pub name: String,
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// Count and checksum parents with their `grouped_by` children.
pub fn eager_result(parents: &[DParent], grouped: &[Vec<DChild>]) -> Result<EagerResult> {
    ensure!(
        grouped.len() == parents.len(),
        "grouped_by returned {} groups for {} parents",
        grouped.len(),
        parents.len()
    );
    let mut out = EagerResult::default();
    for (p, cs) in parents.iter().zip(grouped) {
        out.parent(row_hash(
            p.id,
            &p.name,
            &p.email,
            p.age,
            p.score,
            p.active,
            p.created_at,
        ));
        for c in cs {
            out.child(
                row_hash(
                    c.id,
                    &c.name,
                    &c.email,
                    c.age,
                    c.score,
                    c.active,
                    c.created_at,
                ),
                c.parent_id,
                p.id,
            );
        }
    }
    Ok(out)
}

/// A row as Diesel users load it.
#[derive(Queryable, Debug)]
pub struct DRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

impl DRow {
    pub fn hash(&self) -> u64 {
        row_hash(
            self.id,
            &self.name,
            &self.email,
            self.age,
            self.score,
            self.active,
            self.created_at,
        )
    }
}

enum Conn {
    Pg(PgConnection),
    My(MysqlConnection),
    Lite(SqliteConnection),
}

/// The same code for each connection type (Diesel checks each separately).
macro_rules! each {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            Conn::Pg($c) => $body,
            Conn::My($c) => $body,
            Conn::Lite($c) => $body,
        }
    };
}

pub struct DieselContender {
    conn: Conn,
    chunk: usize,
    backend: Backend,
}

impl DieselContender {
    pub fn new(backend: Backend, url: &str) -> Result<Self> {
        let conn = match backend {
            Backend::Postgres => Conn::Pg(PgConnection::establish(url)?),
            Backend::MySql => Conn::My(MysqlConnection::establish(url)?),
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(url)?;
                c.batch_execute(SQLITE_PRAGMAS)?;
                Conn::Lite(c)
            }
        };
        Ok(DieselContender {
            conn,
            chunk: backend.bulk_chunk("diesel").unwrap_or(1),
            backend,
        })
    }
}

fn mysql_last_id(c: &mut MysqlConnection) -> QueryResult<i64> {
    Ok(diesel::select(sql::<Unsigned<BigInt>>("LAST_INSERT_ID()")).get_result::<u64>(c)? as i64)
}

fn insert_pg(c: &mut PgConnection, r: &Row) -> QueryResult<i64> {
    diesel::insert_into(t_insert::table)
        .values(diesel_values!(t_insert, r))
        .returning(t_insert::id)
        .get_result(c)
}
fn insert_lite(c: &mut SqliteConnection, r: &Row) -> QueryResult<i64> {
    diesel::insert_into(t_insert::table)
        .values(diesel_values!(t_insert, r))
        .returning(t_insert::id)
        .get_result(c)
}
fn insert_my(c: &mut MysqlConnection, r: &Row) -> QueryResult<i64> {
    diesel::insert_into(t_insert::table)
        .values(diesel_values!(t_insert, r))
        .execute(c)?;
    mysql_last_id(c)
}

fn hist_row_pg(c: &mut PgConnection, r: &Row) -> QueryResult<i64> {
    diesel::insert_into(t_hrow::table)
        .values(diesel_values!(t_hrow, r))
        .returning(t_hrow::id)
        .get_result(c)
}
fn hist_row_lite(c: &mut SqliteConnection, r: &Row) -> QueryResult<i64> {
    diesel::insert_into(t_hrow::table)
        .values(diesel_values!(t_hrow, r))
        .returning(t_hrow::id)
        .get_result(c)
}
fn hist_row_my(c: &mut MysqlConnection, r: &Row) -> QueryResult<i64> {
    diesel::insert_into(t_hrow::table)
        .values(diesel_values!(t_hrow, r))
        .execute(c)?;
    mysql_last_id(c)
}

impl Contender for DieselContender {
    type Pool = NoPool;

    fn name(&self) -> &'static str {
        "diesel"
    }
    fn prefix(&self) -> &'static str {
        "diesel"
    }

    async fn insert_one(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            ids.push(match &mut self.conn {
                Conn::Pg(c) => insert_pg(c, r)?,
                Conn::My(c) => insert_my(c, r)?,
                Conn::Lite(c) => insert_lite(c, r)?,
            });
        }
        Ok(ids)
    }

    async fn bulk_insert(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let chunk = self.chunk;
        let n: usize = each!(&mut self.conn, c => c.transaction(|c| {
            let mut n = 0;
            for part in rows.chunks(chunk) {
                let values: Vec<_> = part.iter().map(|r| diesel_values!(t_bulk, r)).collect();
                n += diesel::insert_into(t_bulk::table).values(values).execute(c)?;
            }
            QueryResult::Ok(n)
        })?);
        ensure!(n == rows.len(), "diesel inserted {n} rows");
        Ok(Vec::new())
    }

    async fn select_pk(&mut self, ids: &[i64]) -> Result<u64> {
        let mut sum = 0u64;
        for &id in ids {
            let r: DRow = each!(&mut self.conn, c => shared::table.find(id).get_result(c))
                .with_context(|| format!("row {id}"))?;
            sum = sum.wrapping_add(r.hash());
        }
        Ok(sum)
    }

    async fn select_all(&mut self) -> Result<(usize, u64)> {
        let rows: Vec<DRow> = each!(&mut self.conn, c => shared::table.load(c))?;
        let sum = rows.iter().fold(0u64, |a, r| a.wrapping_add(r.hash()));
        Ok((rows.len(), sum))
    }

    async fn update_pk(&mut self, ups: &[Update]) -> Result<()> {
        for u in ups {
            let n = each!(&mut self.conn, c => diesel::update(t_update::table.find(u.id))
                .set((t_update::age.eq(u.age), t_update::score.eq(u.score)))
                .execute(c))?;
            ensure!(n == 1, "update of {} changed {n} rows", u.id);
        }
        Ok(())
    }

    async fn partial_update(&mut self, ups: &[PartialUp]) -> Result<()> {
        for u in ups {
            let n = each!(&mut self.conn, c => diesel::update(t_wide::table.find(u.id))
                .set(t_wide::n1.eq(u.n1))
                .execute(c))?;
            ensure!(n == 1, "update of {} changed {n} rows", u.id);
        }
        Ok(())
    }

    async fn save_history(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        if self.backend.history_method() != HistoryMethod::Transaction {
            // one INSERT a save: the trigger on the table writes the history row
            for r in rows {
                ids.push(match &mut self.conn {
                    Conn::Pg(c) => hist_row_pg(c, r)?,
                    Conn::My(c) => hist_row_my(c, r)?,
                    Conn::Lite(c) => hist_row_lite(c, r)?,
                });
            }
            return Ok(ids);
        }
        for r in rows {
            let id = match &mut self.conn {
                Conn::Pg(c) => c.transaction(|c| {
                    let id = hist_row_pg(c, r)?;
                    diesel::insert_into(t_hist::table)
                        .values(diesel_history_values!(t_hist, id, r))
                        .execute(c)?;
                    QueryResult::Ok(id)
                })?,
                Conn::My(c) => c.transaction(|c| {
                    let id = hist_row_my(c, r)?;
                    diesel::insert_into(t_hist::table)
                        .values(diesel_history_values!(t_hist, id, r))
                        .execute(c)?;
                    QueryResult::Ok(id)
                })?,
                Conn::Lite(c) => c.transaction(|c| {
                    let id = hist_row_lite(c, r)?;
                    diesel::insert_into(t_hist::table)
                        .values(diesel_history_values!(t_hist, id, r))
                        .execute(c)?;
                    QueryResult::Ok(id)
                })?,
            };
            ids.push(id);
        }
        Ok(ids)
    }

    async fn eager_has_many(&mut self) -> Result<EagerResult> {
        use eager_schema::parents;
        let parents: Vec<DParent> = each!(&mut self.conn, c => parents::table.load(c))?;
        let children: Vec<DChild> =
            each!(&mut self.conn, c => DChild::belonging_to(&parents).load(c))?;
        let grouped = children.grouped_by(&parents);
        eager_result(&parents, &grouped)
    }

    fn supports(&self, w: Workload) -> bool {
        // report_join_group: dal, sqlx and the floors only (the same SQL text)
        w != Workload::Concurrent && w != Workload::ReportJoinGroup
    }
}
