//! Raw sqlx 0.9, two ways: through its pool (`PgPool`/`MySqlPool`/`SqlitePool`,
//! default options but 20 connections and a 5 s acquire timeout; every
//! statement is `.execute(&pool)` / `.fetch_one(&pool)`), and on one dedicated
//! connection (`&mut PgConnection` ...). Hand-written SQL, rows decoded with
//! `#[derive(sqlx::FromRow)]`.
//!
//! - insert_one: `INSERT .. RETURNING id` (PostgreSQL), `last_insert_id()` /
//!   `last_insert_rowid()` from the result elsewhere.
//! - bulk_insert: PostgreSQL binary `COPY .. FROM STDIN (FORMAT binary)`
//!   through `copy_in_raw` (the payload built by hand, `pg_binary_copy`);
//!   MySQL/SQLite `QueryBuilder::push_values` multi-row inserts, the best
//!   measured chunk (`Backend::bulk_chunk`), in one transaction.
//! - select_pk / select_10k: `query_as::<_, SRow>`.
//! - update_pk: `UPDATE .. SET age = ?, score = ? WHERE id = ?`.
//! - save_history: one insert; the `AFTER INSERT` trigger the harness created
//!   writes the history row (`DAL_BENCH_HISTORY=tx`: `begin()`, insert row,
//!   insert history row, `commit()`; `=cte` on PostgreSQL: one `WITH ins AS
//!   (INSERT .. RETURNING *) INSERT INTO .._history ..` statement).
//! - eager_has_many: `query_as::<_, SRow>` for the parents, then
//!   `query_as::<_, SChild>` for their children (`parent_id = ANY($1)` with one
//!   array on PostgreSQL; `parent_id IN (?, ..)` with one `.bind` per key,
//!   chunked at the bind limit, elsewhere), grouped through a `HashMap`.
//! - report_join_group: the statement dal sends (`Backend::report_sql`),
//!   `query_as::<_, (i64, String, i64, Option<i64>)>`; on MySQL the SUM is a
//!   DECIMAL, read as `Option<Decimal>` and converted to `i64` (sqlx will not
//!   decode a DECIMAL as an integer).
//!
//! Also the harness's `Verifier` (a small sqlx pool that fills, copies and
//! checks tables), independent of dal.

use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use chrono::NaiveDateTime;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlPool, MySqlPoolOptions};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, MySql, Postgres, QueryBuilder, SqlSafeStr, SqlStr, Sqlite};

use crate::workloads::{
    ACQUIRE_TIMEOUT, Backend, CHILDREN_TABLE, CONC_POOL, ConcError, ConcPool, Contender,
    EAGER_CHILDREN, EAGER_PARENTS, EagerResult, HistoryMethod, PARENTS_TABLE, PartialUp,
    REPORT_ORDERS, REPORT_ORDERS_TABLE, REPORT_USERS, REPORT_USERS_TABLE, ReportOrder, ReportRow,
    Row, STREAM_ROWS, STREAM_TABLE, TABLE_ROWS, Update, WIDE_COLS, WIDE_TABLE, WideRow, Workload,
    group_by_parent, report_order, report_user, row_hash,
};

/// A row as sqlx users decode it.
#[derive(sqlx::FromRow, Debug)]
pub struct SRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

impl SRow {
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
    pub fn into_row(self) -> Row {
        Row {
            id: self.id,
            name: self.name,
            email: self.email,
            age: self.age,
            score: self.score,
            active: self.active,
            created_at: self.created_at,
        }
    }
}

/// A `bench_children` row as sqlx users decode it.
#[derive(sqlx::FromRow, Debug)]
pub struct SChild {
    pub id: i64,
    pub parent_id: i64,
    pub name: String,
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

impl SChild {
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

pub fn sql(s: String) -> SqlStr {
    AssertSqlSafe(Arc::<str>::from(s)).into_sql_str()
}

/// The same SQLite settings every library gets (dal sets them itself).
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";

pub fn sqlite_options(path: &str) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(std::time::Duration::from_secs(5))
}

/// The pools (SeaORM wraps the same kind of pool).
pub async fn pg_pool(url: &str, max: u32) -> Result<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(PgConnectOptions::from_str(url)?)
        .await?)
}
pub async fn my_pool(url: &str, max: u32) -> Result<MySqlPool> {
    Ok(MySqlPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(MySqlConnectOptions::from_str(url)?)
        .await?)
}
pub async fn lite_pool(path: &str, max: u32) -> Result<SqlitePool> {
    Ok(SqlitePoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(sqlite_options(path))
        .await?)
}

/// Pool or dedicated connection.
enum X<P, C> {
    Pool(P),
    Conn(C),
}

/// Run one statement on the pool or the connection.
macro_rules! on {
    ($x:expr, $e:ident => $body:expr) => {
        match $x {
            X::Pool(p) => {
                let $e = &*p;
                $body
            }
            X::Conn(c) => {
                let $e = &mut *c;
                $body
            }
        }
    };
}

/// Open a transaction on the pool or the connection.
macro_rules! begin {
    ($x:expr) => {
        match $x {
            X::Pool(p) => p.begin().await?,
            X::Conn(c) => c.begin().await?,
        }
    };
}

struct Sql {
    insert: SqlStr,
    select_pk: SqlStr,
    select_all: SqlStr,
    update: SqlStr,
    partial: SqlStr,
    hist_row: SqlStr,
    hist_insert: SqlStr,
    bulk_head: String,
    bulk_copy: String,
    hist_cte: SqlStr,
    parents: SqlStr,
    children_any: SqlStr,
    report: SqlStr,
}

const COLS: &str = "name, email, age, score, active, created_at";
const ALL_COLS: &str = "id, name, email, age, score, active, created_at";

/// `INSERT INTO {h} (history_version, history_operation, id, ..) VALUES (1, 'insert', ?, ..)`:
/// what the peers write by hand for a history row (`history_at` takes its default).
pub fn history_insert_sql(table: &str, placeholders: &[&str]) -> String {
    format!(
        "INSERT INTO {table}_history (history_version, history_operation, {ALL_COLS}) VALUES (1, 'insert', {})",
        placeholders.join(", ")
    )
}

/// PostgreSQL's one-statement row + history row: `WITH ins AS (INSERT ..
/// RETURNING *) INSERT INTO {t}_history (..) SELECT 1, 'insert', .. FROM ins
/// RETURNING id`.
pub fn history_cte_sql(table: &str) -> String {
    format!(
        "WITH ins AS (INSERT INTO {table} ({COLS}) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {ALL_COLS}) \
         INSERT INTO {table}_history (history_version, history_operation, {ALL_COLS}) \
         SELECT 1, 'insert', {ALL_COLS} FROM ins RETURNING id"
    )
}

/// The statements that make an `AFTER INSERT` trigger on `table` write its
/// history row (version 1, operation `insert`, the row's values) into
/// `{table}_history`, in the same statement: what the peers get for
/// `save_history` (created untimed, as dal's own trigger is).
pub fn history_trigger_sql(backend: Backend, table: &str) -> Vec<String> {
    let cols = ALL_COLS;
    let new_cols = ALL_COLS
        .split(", ")
        .map(|c| format!("NEW.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let insert = format!(
        "INSERT INTO {table}_history (history_version, history_operation, {cols}) VALUES (1, 'insert', {new_cols})"
    );
    let name = format!("{table}_hist");
    match backend {
        Backend::Postgres => vec![
            format!(
                "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN {insert}; RETURN NULL; END $f$"
            ),
            format!("DROP TRIGGER IF EXISTS {name} ON {table}"),
            format!(
                "CREATE TRIGGER {name} AFTER INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
            ),
        ],
        Backend::MySql => vec![
            format!("DROP TRIGGER IF EXISTS {name}"),
            format!("CREATE TRIGGER {name} AFTER INSERT ON {table} FOR EACH ROW {insert}"),
        ],
        Backend::Sqlite => vec![
            format!("DROP TRIGGER IF EXISTS {name}"),
            format!("CREATE TRIGGER {name} AFTER INSERT ON {table} BEGIN {insert}; END"),
        ],
    }
}

/// The binary `COPY` payload of the bench columns (name, email, age, score,
/// active, created_at), written by hand: the signature, flags and header
/// extension length, then per row the field count and each field as a
/// big-endian length and value (text as its bytes, int4, float8, bool as one
/// byte, timestamp as microseconds since 2000-01-01), then the -1 trailer.
pub fn pg_binary_copy(rows: &[Row]) -> Vec<u8> {
    binary_copy(rows, false)
}

/// [`pg_binary_copy`] with the id as a first column (int8).
pub fn pg_binary_copy_with_ids(rows: &[Row]) -> Vec<u8> {
    binary_copy(rows, true)
}

fn binary_copy(rows: &[Row], with_id: bool) -> Vec<u8> {
    let epoch = chrono::NaiveDate::from_ymd_opt(2000, 1, 1)
        .expect("valid date")
        .and_hms_opt(0, 0, 0)
        .expect("valid time");
    let mut out = Vec::with_capacity(19 + rows.len() * 90 + 2);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    for r in rows {
        if with_id {
            out.extend_from_slice(&7i16.to_be_bytes());
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&r.id.to_be_bytes());
        } else {
            out.extend_from_slice(&6i16.to_be_bytes());
        }
        for text in [&r.name, &r.email] {
            out.extend_from_slice(&(text.len() as i32).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(&4i32.to_be_bytes());
        out.extend_from_slice(&r.age.to_be_bytes());
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&r.score.to_bits().to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
        out.push(u8::from(r.active));
        let micros = (r.created_at - epoch)
            .num_microseconds()
            .expect("timestamp in range");
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&micros.to_be_bytes());
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

impl Sql {
    fn new(backend: Backend, prefix: &str) -> Sql {
        let ph: Vec<String> = (1..=7)
            .map(|i| match backend {
                Backend::Postgres => format!("${i}"),
                _ => "?".to_string(),
            })
            .collect();
        let p = |i: usize| ph[i - 1].as_str();
        let t = |w: Workload| w.table(prefix).unwrap();
        let returning = if backend == Backend::Postgres {
            " RETURNING id"
        } else {
            ""
        };
        let ins = |table: String| {
            format!(
                "INSERT INTO {table} ({COLS}) VALUES ({}, {}, {}, {}, {}, {}){returning}",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6)
            )
        };
        Sql {
            insert: sql(ins(t(Workload::InsertOne))),
            select_pk: sql(format!(
                "SELECT {ALL_COLS} FROM bench_rows WHERE id = {}",
                p(1)
            )),
            select_all: sql(format!("SELECT {ALL_COLS} FROM bench_rows")),
            update: sql(format!(
                "UPDATE {} SET age = {}, score = {} WHERE id = {}",
                t(Workload::UpdatePk),
                p(1),
                p(2),
                p(3)
            )),
            partial: sql(format!(
                "UPDATE {} SET n1 = {} WHERE id = {}",
                t(Workload::PartialUpdate),
                p(1),
                p(2)
            )),
            hist_row: sql(ins(t(Workload::SaveHistory))),
            hist_insert: sql(history_insert_sql(
                &t(Workload::SaveHistory),
                &ph.iter().map(String::as_str).collect::<Vec<_>>(),
            )),
            bulk_head: format!("INSERT INTO {} ({COLS}) ", t(Workload::BulkInsert)),
            bulk_copy: format!(
                "COPY {} ({COLS}) FROM STDIN (FORMAT binary)",
                t(Workload::BulkInsert)
            ),
            hist_cte: sql(history_cte_sql(&t(Workload::SaveHistory))),
            parents: sql(format!("SELECT {ALL_COLS} FROM {PARENTS_TABLE}")),
            children_any: sql(format!(
                "SELECT id, parent_id, {COLS} FROM {CHILDREN_TABLE} WHERE parent_id = ANY($1)"
            )),
            report: sql(backend.report_sql()),
        }
    }
}

enum Inner {
    Pg(X<PgPool, PgConnection>),
    My(X<MySqlPool, MySqlConnection>),
    Lite(X<SqlitePool, SqliteConnection>),
}

/// Where a sqlx contender connects.
#[derive(Clone)]
pub enum Target {
    Pg(String),
    My(String),
    Lite(String),
}

pub struct SqlxContender {
    pooled: bool,
    target: Target,
    inner: Inner,
    sql: Sql,
    chunk: usize,
    backend: Backend,
    /// The children query for the last IN-list length used.
    children_sql: Option<(usize, SqlStr)>,
}

impl SqlxContender {
    pub async fn close(&self) {
        match &self.inner {
            Inner::Pg(X::Pool(p)) => p.close().await,
            Inner::My(X::Pool(p)) => p.close().await,
            Inner::Lite(X::Pool(p)) => p.close().await,
            _ => {}
        }
    }

    pub async fn new(target: Target, pooled: bool) -> Result<Self> {
        let prefix = if pooled { "sqlx_pool" } else { "sqlx_conn" };
        let (inner, backend) = match &target {
            Target::Pg(url) => (
                Inner::Pg(if pooled {
                    X::Pool(pg_pool(url, CONC_POOL).await?)
                } else {
                    X::Conn(PgConnection::connect_with(&PgConnectOptions::from_str(url)?).await?)
                }),
                Backend::Postgres,
            ),
            Target::My(url) => (
                Inner::My(if pooled {
                    X::Pool(my_pool(url, CONC_POOL).await?)
                } else {
                    X::Conn(
                        MySqlConnection::connect_with(&MySqlConnectOptions::from_str(url)?).await?,
                    )
                }),
                Backend::MySql,
            ),
            Target::Lite(path) => (
                Inner::Lite(if pooled {
                    X::Pool(lite_pool(path, CONC_POOL).await?)
                } else {
                    X::Conn(SqliteConnection::connect_with(&sqlite_options(path)).await?)
                }),
                Backend::Sqlite,
            ),
        };
        Ok(SqlxContender {
            pooled,
            target,
            inner,
            sql: Sql::new(backend, prefix),
            chunk: backend
                .bulk_chunk(if pooled { "sqlx-pool" } else { "sqlx-conn" })
                .unwrap_or(1),
            backend,
            children_sql: None,
        })
    }
}

#[derive(Clone)]
pub enum SqlxPool {
    Pg(PgPool, SqlStr),
    My(MySqlPool, SqlStr),
    Lite(SqlitePool, SqlStr),
}

fn conc_err(e: sqlx::Error) -> ConcError {
    match e {
        sqlx::Error::PoolTimedOut => ConcError::AcquireTimeout,
        e => ConcError::Other(e.into()),
    }
}

impl ConcPool for SqlxPool {
    async fn select(&self, id: i64) -> std::result::Result<u64, ConcError> {
        let r: SRow = match self {
            SqlxPool::Pg(p, s) => sqlx::query_as(s.clone()).bind(id).fetch_one(p).await,
            SqlxPool::My(p, s) => sqlx::query_as(s.clone()).bind(id).fetch_one(p).await,
            SqlxPool::Lite(p, s) => sqlx::query_as(s.clone()).bind(id).fetch_one(p).await,
        }
        .map_err(conc_err)?;
        Ok(r.hash())
    }
    async fn close(self) {
        match self {
            SqlxPool::Pg(p, _) => p.close().await,
            SqlxPool::My(p, _) => p.close().await,
            SqlxPool::Lite(p, _) => p.close().await,
        }
    }
}

async fn hist_pg(c: &mut PgConnection, s: &Sql, r: &Row) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(s.hist_row.clone())
        .bind(&r.name)
        .bind(&r.email)
        .bind(r.age)
        .bind(r.score)
        .bind(r.active)
        .bind(r.created_at)
        .fetch_one(&mut *c)
        .await?;
    sqlx::query(s.hist_insert.clone())
        .bind(id)
        .bind(&r.name)
        .bind(&r.email)
        .bind(r.age)
        .bind(r.score)
        .bind(r.active)
        .bind(r.created_at)
        .execute(&mut *c)
        .await?;
    Ok(id)
}

async fn hist_my(c: &mut MySqlConnection, s: &Sql, r: &Row) -> Result<i64> {
    let id = sqlx::query(s.hist_row.clone())
        .bind(&r.name)
        .bind(&r.email)
        .bind(r.age)
        .bind(r.score)
        .bind(r.active)
        .bind(r.created_at)
        .execute(&mut *c)
        .await?
        .last_insert_id() as i64;
    sqlx::query(s.hist_insert.clone())
        .bind(id)
        .bind(&r.name)
        .bind(&r.email)
        .bind(r.age)
        .bind(r.score)
        .bind(r.active)
        .bind(r.created_at)
        .execute(&mut *c)
        .await?;
    Ok(id)
}

async fn hist_lite(c: &mut SqliteConnection, s: &Sql, r: &Row) -> Result<i64> {
    let id = sqlx::query(s.hist_row.clone())
        .bind(&r.name)
        .bind(&r.email)
        .bind(r.age)
        .bind(r.score)
        .bind(r.active)
        .bind(r.created_at)
        .execute(&mut *c)
        .await?
        .last_insert_rowid();
    sqlx::query(s.hist_insert.clone())
        .bind(id)
        .bind(&r.name)
        .bind(&r.email)
        .bind(r.age)
        .bind(r.score)
        .bind(r.active)
        .bind(r.created_at)
        .execute(&mut *c)
        .await?;
    Ok(id)
}

/// Multi-row VALUES chunks (MySQL, SQLite).
macro_rules! push_values_bulk {
    ($db:ty, $tx:expr, $head:expr, $rows:expr, $chunk:expr) => {
        for chunk in $rows.chunks($chunk) {
            let mut qb = QueryBuilder::<$db>::new($head.as_str());
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(&r.name)
                    .push_bind(&r.email)
                    .push_bind(r.age)
                    .push_bind(r.score)
                    .push_bind(r.active)
                    .push_bind(r.created_at);
            });
            qb.build().execute(&mut *$tx).await?;
        }
    };
}

macro_rules! bind_row {
    ($q:expr, $r:expr) => {
        $q.bind(&$r.name)
            .bind(&$r.email)
            .bind($r.age)
            .bind($r.score)
            .bind($r.active)
            .bind($r.created_at)
    };
}

impl Contender for SqlxContender {
    type Pool = SqlxPool;

    fn name(&self) -> &'static str {
        if self.pooled {
            "sqlx-pool"
        } else {
            "sqlx-conn"
        }
    }
    fn prefix(&self) -> &'static str {
        if self.pooled {
            "sqlx_pool"
        } else {
            "sqlx_conn"
        }
    }
    fn supports(&self, w: Workload) -> bool {
        w != Workload::Concurrent || self.pooled
    }

    async fn insert_one(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        let s = &self.sql;
        for r in rows {
            let id = match &mut self.inner {
                Inner::Pg(x) => {
                    let q = bind_row!(sqlx::query_as::<_, (i64,)>(s.insert.clone()), r);
                    on!(x, e => q.fetch_one(e).await?.0)
                }
                Inner::My(x) => {
                    let q = bind_row!(sqlx::query(s.insert.clone()), r);
                    on!(x, e => q.execute(e).await?.last_insert_id() as i64)
                }
                Inner::Lite(x) => {
                    let q = bind_row!(sqlx::query(s.insert.clone()), r);
                    on!(x, e => q.execute(e).await?.last_insert_rowid())
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    async fn bulk_insert(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let s = &self.sql;
        let chunk = self.chunk;
        match &mut self.inner {
            Inner::Pg(x) => {
                // binary COPY, the payload built by hand (one statement: no
                // explicit transaction needed, COPY is atomic)
                let payload = pg_binary_copy(rows);
                let n = match x {
                    X::Pool(p) => {
                        use sqlx::postgres::PgPoolCopyExt;
                        let mut copy = p.copy_in_raw(&s.bulk_copy).await?;
                        copy.send(payload).await?;
                        copy.finish().await?
                    }
                    X::Conn(c) => {
                        let mut copy = c.copy_in_raw(&s.bulk_copy).await?;
                        copy.send(payload).await?;
                        copy.finish().await?
                    }
                };
                ensure!(n as usize == rows.len(), "COPY inserted {n} rows");
            }
            Inner::My(x) => {
                let mut tx = begin!(x);
                push_values_bulk!(MySql, tx, s.bulk_head, rows, chunk);
                tx.commit().await?;
            }
            Inner::Lite(x) => {
                let mut tx = begin!(x);
                push_values_bulk!(Sqlite, tx, s.bulk_head, rows, chunk);
                tx.commit().await?;
            }
        }
        Ok(Vec::new())
    }

    async fn select_pk(&mut self, ids: &[i64]) -> Result<u64> {
        let mut sum = 0u64;
        let s = &self.sql;
        for &id in ids {
            let r: SRow = match &mut self.inner {
                Inner::Pg(x) => {
                    let q = sqlx::query_as(s.select_pk.clone()).bind(id);
                    on!(x, e => q.fetch_one(e).await?)
                }
                Inner::My(x) => {
                    let q = sqlx::query_as(s.select_pk.clone()).bind(id);
                    on!(x, e => q.fetch_one(e).await?)
                }
                Inner::Lite(x) => {
                    let q = sqlx::query_as(s.select_pk.clone()).bind(id);
                    on!(x, e => q.fetch_one(e).await?)
                }
            };
            sum = sum.wrapping_add(r.hash());
        }
        Ok(sum)
    }

    async fn select_all(&mut self) -> Result<(usize, u64)> {
        let s = &self.sql;
        let rows: Vec<SRow> = match &mut self.inner {
            Inner::Pg(x) => {
                let q = sqlx::query_as(s.select_all.clone());
                on!(x, e => q.fetch_all(e).await?)
            }
            Inner::My(x) => {
                let q = sqlx::query_as(s.select_all.clone());
                on!(x, e => q.fetch_all(e).await?)
            }
            Inner::Lite(x) => {
                let q = sqlx::query_as(s.select_all.clone());
                on!(x, e => q.fetch_all(e).await?)
            }
        };
        let sum = rows.iter().fold(0u64, |a, r| a.wrapping_add(r.hash()));
        Ok((rows.len(), sum))
    }

    async fn update_pk(&mut self, ups: &[Update]) -> Result<()> {
        let s = &self.sql;
        for u in ups {
            let n = match &mut self.inner {
                Inner::Pg(x) => {
                    let q = sqlx::query(s.update.clone())
                        .bind(u.age)
                        .bind(u.score)
                        .bind(u.id);
                    on!(x, e => q.execute(e).await?.rows_affected())
                }
                Inner::My(x) => {
                    let q = sqlx::query(s.update.clone())
                        .bind(u.age)
                        .bind(u.score)
                        .bind(u.id);
                    on!(x, e => q.execute(e).await?.rows_affected())
                }
                Inner::Lite(x) => {
                    let q = sqlx::query(s.update.clone())
                        .bind(u.age)
                        .bind(u.score)
                        .bind(u.id);
                    on!(x, e => q.execute(e).await?.rows_affected())
                }
            };
            ensure!(n == 1, "update of {} changed {n} rows", u.id);
        }
        Ok(())
    }

    async fn partial_update(&mut self, ups: &[PartialUp]) -> Result<()> {
        let s = &self.sql;
        for u in ups {
            let n = match &mut self.inner {
                Inner::Pg(x) => {
                    let q = sqlx::query(s.partial.clone()).bind(u.n1).bind(u.id);
                    on!(x, e => q.execute(e).await?.rows_affected())
                }
                Inner::My(x) => {
                    let q = sqlx::query(s.partial.clone()).bind(u.n1).bind(u.id);
                    on!(x, e => q.execute(e).await?.rows_affected())
                }
                Inner::Lite(x) => {
                    let q = sqlx::query(s.partial.clone()).bind(u.n1).bind(u.id);
                    on!(x, e => q.execute(e).await?.rows_affected())
                }
            };
            ensure!(n == 1, "update of {} changed {n} rows", u.id);
        }
        Ok(())
    }

    async fn save_history(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        let s = &self.sql;
        let method = self.backend.history_method();
        for r in rows {
            let id = match (&mut self.inner, method) {
                // one statement: the trigger writes the history row
                (Inner::Pg(x), HistoryMethod::Trigger) => {
                    let q = bind_row!(sqlx::query_as::<_, (i64,)>(s.hist_row.clone()), r);
                    on!(x, e => q.fetch_one(e).await?.0)
                }
                (Inner::Pg(x), HistoryMethod::Cte) => {
                    let q = bind_row!(sqlx::query_as::<_, (i64,)>(s.hist_cte.clone()), r);
                    on!(x, e => q.fetch_one(e).await?.0)
                }
                (Inner::My(x), HistoryMethod::Trigger | HistoryMethod::Cte) => {
                    let q = bind_row!(sqlx::query(s.hist_row.clone()), r);
                    on!(x, e => q.execute(e).await?.last_insert_id() as i64)
                }
                (Inner::Lite(x), HistoryMethod::Trigger | HistoryMethod::Cte) => {
                    let q = bind_row!(sqlx::query(s.hist_row.clone()), r);
                    on!(x, e => q.execute(e).await?.last_insert_rowid())
                }
                (Inner::Pg(x), HistoryMethod::Transaction) => {
                    let mut tx = begin!(x);
                    let id = hist_pg(&mut tx, s, r).await?;
                    tx.commit().await?;
                    id
                }
                (Inner::My(x), HistoryMethod::Transaction) => {
                    let mut tx = begin!(x);
                    let id = hist_my(&mut tx, s, r).await?;
                    tx.commit().await?;
                    id
                }
                (Inner::Lite(x), HistoryMethod::Transaction) => {
                    let mut tx = begin!(x);
                    let id = hist_lite(&mut tx, s, r).await?;
                    tx.commit().await?;
                    id
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    async fn eager_has_many(&mut self) -> Result<EagerResult> {
        let parents_sql = self.sql.parents.clone();
        // query 1: the parents
        let parents: Vec<SRow> = match &mut self.inner {
            Inner::Pg(x) => {
                let q = sqlx::query_as(parents_sql);
                on!(x, e => q.fetch_all(e).await?)
            }
            Inner::My(x) => {
                let q = sqlx::query_as(parents_sql);
                on!(x, e => q.fetch_all(e).await?)
            }
            Inner::Lite(x) => {
                let q = sqlx::query_as(parents_sql);
                on!(x, e => q.fetch_all(e).await?)
            }
        };
        // query 2: their children, `parent_id = ANY($1)` with one array on
        // PostgreSQL, elsewhere `parent_id IN (..)` chunked at the bind limit
        let keys: Vec<i64> = parents.iter().map(|p| p.id).collect();
        let mut children: Vec<SChild> = Vec::with_capacity(keys.len() * 10);
        if let Inner::Pg(x) = &mut self.inner {
            let q = sqlx::query_as(self.sql.children_any.clone()).bind(&keys);
            children = on!(x, e => q.fetch_all(e).await?);
        }
        let in_lists = if self.backend == Backend::Postgres {
            &[][..]
        } else {
            &keys[..]
        };
        for part in in_lists.chunks(self.backend.max_binds()) {
            let stmt = match &self.children_sql {
                Some((n, s)) if *n == part.len() => s.clone(),
                _ => {
                    let s = sql(self.backend.children_in_sql(part.len()));
                    self.children_sql = Some((part.len(), s.clone()));
                    s
                }
            };
            match &mut self.inner {
                Inner::Pg(x) => {
                    let mut q = sqlx::query_as(stmt);
                    for k in part {
                        q = q.bind(k);
                    }
                    children.extend(on!(x, e => q.fetch_all(e).await?));
                }
                Inner::My(x) => {
                    let mut q = sqlx::query_as(stmt);
                    for k in part {
                        q = q.bind(k);
                    }
                    children.extend(on!(x, e => q.fetch_all(e).await?));
                }
                Inner::Lite(x) => {
                    let mut q = sqlx::query_as(stmt);
                    for k in part {
                        q = q.bind(k);
                    }
                    children.extend(on!(x, e => q.fetch_all(e).await?));
                }
            }
        }
        let mut out = EagerResult::default();
        for (p, cs) in group_by_parent(parents, children, |p| p.id, |c| c.parent_id) {
            out.parent(p.hash());
            for c in &cs {
                out.child(c.hash(), c.parent_id, p.id);
            }
        }
        Ok(out)
    }

    async fn report_join_group(&mut self) -> Result<Vec<ReportRow>> {
        let s = self.sql.report.clone();
        Ok(match &mut self.inner {
            Inner::Pg(x) => {
                let q = sqlx::query_as::<_, ReportRow>(s).bind(true);
                on!(x, e => q.fetch_all(e).await?)
            }
            Inner::Lite(x) => {
                let q = sqlx::query_as::<_, ReportRow>(s).bind(true);
                on!(x, e => q.fetch_all(e).await?)
            }
            Inner::My(x) => {
                // SUM(INT) is a DECIMAL on MySQL/MariaDB
                let q = sqlx::query_as::<_, (i64, String, i64, Option<sqlx::types::Decimal>)>(s)
                    .bind(true);
                let rows = on!(x, e => q.fetch_all(e).await?);
                rows.into_iter()
                    .map(|(id, name, count, sum)| {
                        let sum = sum.map(i64::try_from).transpose()?;
                        Ok((id, name, count, sum))
                    })
                    .collect::<Result<_>>()?
            }
        })
    }

    async fn conc_pool(&mut self) -> Result<SqlxPool> {
        let s = self.sql.select_pk.clone();
        Ok(match &self.target {
            Target::Pg(url) => SqlxPool::Pg(pg_pool(url, CONC_POOL).await?, s),
            Target::My(url) => SqlxPool::My(my_pool(url, CONC_POOL).await?, s),
            Target::Lite(path) => SqlxPool::Lite(lite_pool(path, CONC_POOL).await?, s),
        })
    }
}

/// `stream_1m`: rows `1..=n` of `bench_stream` through `query_as::<_,
/// SRow>(..).fetch(..)` (sqlx's row stream) on a pool or a dedicated
/// connection; returns (rows, checksum).
pub async fn stream(target: &Target, pooled: bool, n: usize) -> Result<(usize, u64)> {
    use futures_util::TryStreamExt;
    let (mut count, mut sum) = (0usize, 0u64);
    let sql_for = |p: &str| {
        sql(format!(
            "SELECT {ALL_COLS} FROM {STREAM_TABLE} WHERE id <= {p}"
        ))
    };
    macro_rules! go {
        ($q:expr, $e:expr) => {{
            let mut s = $q.bind(n as i64).fetch($e);
            while let Some(r) = s.try_next().await? {
                let r: SRow = r;
                count += 1;
                sum = sum.wrapping_add(r.hash());
            }
        }};
    }
    match target {
        Target::Pg(url) => {
            let q = sqlx::query_as::<Postgres, SRow>(sql_for("$1"));
            if pooled {
                let p = pg_pool(url, 2).await?;
                go!(q, &p);
                p.close().await;
            } else {
                let mut c = PgConnection::connect_with(&PgConnectOptions::from_str(url)?).await?;
                go!(q, &mut c);
            }
        }
        Target::My(url) => {
            let q = sqlx::query_as::<MySql, SRow>(sql_for("?"));
            if pooled {
                let p = my_pool(url, 2).await?;
                go!(q, &p);
                p.close().await;
            } else {
                let mut c =
                    MySqlConnection::connect_with(&MySqlConnectOptions::from_str(url)?).await?;
                go!(q, &mut c);
            }
        }
        Target::Lite(path) => {
            let q = sqlx::query_as::<Sqlite, SRow>(sql_for("?"));
            if pooled {
                let p = lite_pool(path, 2).await?;
                go!(q, &p);
                p.close().await;
            } else {
                let mut c = SqliteConnection::connect_with(&sqlite_options(path)).await?;
                go!(q, &mut c);
            }
        }
    }
    Ok((count, sum))
}

/// The harness's own connection for filling and checking tables.
pub enum Verifier {
    Pg(PgPool),
    My(MySqlPool),
    Lite(SqlitePool),
}

macro_rules! vrun {
    ($v:expr, $p:ident => $body:expr) => {
        match $v {
            Verifier::Pg($p) => $body,
            Verifier::My($p) => $body,
            Verifier::Lite($p) => $body,
        }
    };
}

impl Verifier {
    pub async fn new(target: &Target) -> Result<Verifier> {
        Ok(match target {
            Target::Pg(url) => Verifier::Pg(pg_pool(url, 2).await?),
            Target::My(url) => Verifier::My(my_pool(url, 2).await?),
            Target::Lite(path) => Verifier::Lite(lite_pool(path, 2).await?),
        })
    }

    pub async fn execute(&self, s: String) -> Result<u64> {
        let s = sql(s);
        Ok(vrun!(self, p => sqlx::query(s).execute(p).await?.rows_affected()))
    }

    /// Fill `bench_wide` (ids 1..=TABLE_ROWS) in one transaction.
    pub async fn fill_wide(&self) -> Result<()> {
        let rows: Vec<WideRow> = (1..=TABLE_ROWS as i64)
            .map(crate::workloads::wide_row)
            .collect();
        let head = format!("INSERT INTO {WIDE_TABLE} ({WIDE_COLS}) ");
        macro_rules! fill {
            ($db:ty, $p:expr) => {{
                let mut tx = $p.begin().await?;
                for chunk in rows.chunks(1000) {
                    let mut qb = QueryBuilder::<$db>::new(head.as_str());
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.id)
                            .push_bind(&r.s1)
                            .push_bind(&r.s2)
                            .push_bind(&r.s3)
                            .push_bind(&r.s4)
                            .push_bind(r.n1)
                            .push_bind(r.n2)
                            .push_bind(r.n3)
                            .push_bind(r.f1)
                            .push_bind(r.f2)
                            .push_bind(r.b1);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }};
        }
        match self {
            Verifier::Pg(p) => fill!(Postgres, p),
            Verifier::My(p) => fill!(MySql, p),
            Verifier::Lite(p) => fill!(Sqlite, p),
        }
        let got = self.count(WIDE_TABLE).await?;
        ensure!(got == TABLE_ROWS, "{WIDE_TABLE} holds {got} rows");
        Ok(())
    }

    /// Cheap fingerprint of `bench_stream`: (rows, max id, sum of ages, active rows).
    pub async fn stream_fingerprint(&self) -> Result<(i64, i64, i64, i64)> {
        let (big, q) = match self {
            Verifier::My(_) => ("SIGNED", "`"),
            _ => ("BIGINT", "\""),
        };
        let _ = q;
        let s = sql(format!(
            "SELECT CAST(COUNT(*) AS {big}), CAST(COALESCE(MAX(id), 0) AS {big}), CAST(COALESCE(SUM(age), 0) AS {big}), \
             CAST(COALESCE(SUM(CASE WHEN active THEN 1 ELSE 0 END), 0) AS {big}) FROM {STREAM_TABLE}"
        ));
        Ok(vrun!(self, p => sqlx::query_as(s).fetch_one(p).await?))
    }

    /// Fill `bench_stream` with rows 1..=STREAM_ROWS (`shared_row`), the
    /// fastest way at hand: binary COPY in 100,000-row pieces on PostgreSQL,
    /// 4,000-row multi-row inserts (28,000 parameters) on MySQL and SQLite, in one transaction.
    pub async fn fill_stream(&self) -> Result<()> {
        const PIECE: usize = 100_000;
        match self {
            Verifier::Pg(p) => {
                use sqlx::postgres::PgPoolCopyExt;
                for start in (1..=STREAM_ROWS).step_by(PIECE) {
                    let rows: Vec<Row> = (start..(start + PIECE).min(STREAM_ROWS + 1))
                        .map(|i| crate::workloads::shared_row(i as i64))
                        .collect();
                    let mut copy = p
                        .copy_in_raw(&format!(
                            "COPY {STREAM_TABLE} ({ALL_COLS}) FROM STDIN (FORMAT binary)"
                        ))
                        .await?;
                    copy.send(pg_binary_copy_with_ids(&rows)).await?;
                    copy.finish().await?;
                }
            }
            Verifier::My(_) | Verifier::Lite(_) => {
                let head = format!("INSERT INTO {STREAM_TABLE} ({ALL_COLS}) ");
                macro_rules! fill {
                    ($db:ty, $p:expr) => {{
                        let mut tx = $p.begin().await?;
                        for start in (1..=STREAM_ROWS).step_by(4_000) {
                            let rows: Vec<Row> = (start..(start + 4_000).min(STREAM_ROWS + 1))
                                .map(|i| crate::workloads::shared_row(i as i64))
                                .collect();
                            let mut qb = QueryBuilder::<$db>::new(head.as_str());
                            qb.push_values(&rows, |mut b, r| {
                                b.push_bind(r.id)
                                    .push_bind(&r.name)
                                    .push_bind(&r.email)
                                    .push_bind(r.age)
                                    .push_bind(r.score)
                                    .push_bind(r.active)
                                    .push_bind(r.created_at);
                            });
                            qb.build().execute(&mut *tx).await?;
                        }
                        tx.commit().await?;
                    }};
                }
                match self {
                    Verifier::My(p) => fill!(MySql, p),
                    Verifier::Lite(p) => fill!(Sqlite, p),
                    Verifier::Pg(_) => unreachable!(),
                }
            }
        }
        Ok(())
    }

    /// (rows, order-independent checksum of every column) of a wide table.
    pub async fn wide_checksum(&self, table: &str) -> Result<(usize, u64)> {
        type T = (
            i64,
            String,
            String,
            String,
            String,
            i32,
            i32,
            i32,
            f64,
            f64,
            bool,
        );
        let s = sql(format!("SELECT {WIDE_COLS} FROM {table}"));
        let rows: Vec<T> = vrun!(self, p => sqlx::query_as(s).fetch_all(p).await?);
        let count = rows.len();
        let sum = rows.into_iter().fold(0u64, |a, r| {
            let w = WideRow {
                id: r.0,
                s1: r.1,
                s2: r.2,
                s3: r.3,
                s4: r.4,
                n1: r.5,
                n2: r.6,
                n3: r.7,
                f1: r.8,
                f2: r.9,
                b1: r.10,
            };
            a.wrapping_add(w.hash())
        });
        Ok((count, sum))
    }

    pub async fn count(&self, table: &str) -> Result<usize> {
        let s = sql(format!("SELECT COUNT(*) FROM {table}"));
        let n: i64 = vrun!(self, p => sqlx::query_scalar(s).fetch_one(p).await?);
        Ok(n as usize)
    }

    /// Every row of `table` (any table with the bench columns).
    pub async fn rows(&self, table: &str) -> Result<Vec<Row>> {
        let s = sql(format!("SELECT {ALL_COLS} FROM {table} ORDER BY id"));
        let rows: Vec<SRow> = vrun!(self, p => sqlx::query_as(s).fetch_all(p).await?);
        Ok(rows.into_iter().map(SRow::into_row).collect())
    }

    /// Fill the shared table with rows 1..=n (explicit ids), in one transaction.
    /// `rep_users` (1,000 rows) and `rep_orders` (100,000 rows) of
    /// `report_join_group`, from the generated rows, in one transaction.
    pub async fn fill_report(&self) -> Result<()> {
        let users: Vec<(i64, String, String)> = (1..=REPORT_USERS as i64)
            .map(|id| {
                let (name, city) = report_user(id);
                (id, name, city)
            })
            .collect();
        let orders: Vec<ReportOrder> = (1..=REPORT_ORDERS as i64).map(report_order).collect();
        let uhead = format!("INSERT INTO {REPORT_USERS_TABLE} (id, name, city) ");
        let ohead = format!("INSERT INTO {REPORT_ORDERS_TABLE} (id, user_id, amount, done) ");
        macro_rules! fill {
            ($db:ty, $p:expr) => {{
                let mut tx = $p.begin().await?;
                for chunk in users.chunks(1000) {
                    let mut qb = QueryBuilder::<$db>::new(uhead.as_str());
                    qb.push_values(chunk, |mut b, (id, name, city)| {
                        b.push_bind(*id).push_bind(name).push_bind(city);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in orders.chunks(2000) {
                    let mut qb = QueryBuilder::<$db>::new(ohead.as_str());
                    qb.push_values(chunk, |mut b, o| {
                        b.push_bind(o.id)
                            .push_bind(o.user_id)
                            .push_bind(o.amount)
                            .push_bind(o.done);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }};
        }
        match self {
            Verifier::Pg(p) => fill!(Postgres, p),
            Verifier::My(p) => fill!(MySql, p),
            Verifier::Lite(p) => fill!(Sqlite, p),
        }
        let got = self.count(REPORT_USERS_TABLE).await?;
        ensure!(got == REPORT_USERS, "{REPORT_USERS_TABLE} holds {got} rows");
        let got = self.count(REPORT_ORDERS_TABLE).await?;
        ensure!(
            got == REPORT_ORDERS,
            "{REPORT_ORDERS_TABLE} holds {got} rows"
        );
        Ok(())
    }

    pub async fn fill_shared(&self, n: usize) -> Result<()> {
        let rows: Vec<Row> = (1..=n as i64).map(crate::workloads::shared_row).collect();
        let head = format!("INSERT INTO bench_rows ({ALL_COLS}) ");
        macro_rules! fill {
            ($db:ty, $p:expr) => {{
                let mut tx = $p.begin().await?;
                for chunk in rows.chunks(1000) {
                    let mut qb = QueryBuilder::<$db>::new(head.as_str());
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.id)
                            .push_bind(&r.name)
                            .push_bind(&r.email)
                            .push_bind(r.age)
                            .push_bind(r.score)
                            .push_bind(r.active)
                            .push_bind(r.created_at);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }};
        }
        match self {
            Verifier::Pg(p) => fill!(Postgres, p),
            Verifier::My(p) => fill!(MySql, p),
            Verifier::Lite(p) => fill!(Sqlite, p),
        }
        let got = self.count("bench_rows").await.context("count bench_rows")?;
        ensure!(got == n, "bench_rows holds {got} rows, wanted {n}");
        Ok(())
    }

    /// Fill `bench_parents` (ids 1..=EAGER_PARENTS) and `bench_children`
    /// (ids 1..=EAGER_CHILDREN, each with its `parent_id`), explicit ids, in
    /// one transaction.
    pub async fn fill_eager(&self) -> Result<()> {
        let parents: Vec<Row> = (1..=EAGER_PARENTS as i64)
            .map(crate::workloads::parent_row)
            .collect();
        let children: Vec<(i64, Row)> = (1..=EAGER_CHILDREN as i64)
            .map(crate::workloads::child_row)
            .collect();
        let phead = format!("INSERT INTO {PARENTS_TABLE} ({ALL_COLS}) ");
        let chead = format!("INSERT INTO {CHILDREN_TABLE} (parent_id, {ALL_COLS}) ");
        macro_rules! fill {
            ($db:ty, $p:expr) => {{
                let mut tx = $p.begin().await?;
                for chunk in parents.chunks(1000) {
                    let mut qb = QueryBuilder::<$db>::new(phead.as_str());
                    qb.push_values(chunk, |mut b, r| {
                        b.push_bind(r.id)
                            .push_bind(&r.name)
                            .push_bind(&r.email)
                            .push_bind(r.age)
                            .push_bind(r.score)
                            .push_bind(r.active)
                            .push_bind(r.created_at);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                for chunk in children.chunks(1000) {
                    let mut qb = QueryBuilder::<$db>::new(chead.as_str());
                    qb.push_values(chunk, |mut b, (pid, r)| {
                        b.push_bind(*pid)
                            .push_bind(r.id)
                            .push_bind(&r.name)
                            .push_bind(&r.email)
                            .push_bind(r.age)
                            .push_bind(r.score)
                            .push_bind(r.active)
                            .push_bind(r.created_at);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }};
        }
        match self {
            Verifier::Pg(p) => fill!(Postgres, p),
            Verifier::My(p) => fill!(MySql, p),
            Verifier::Lite(p) => fill!(Sqlite, p),
        }
        let got = self.count(PARENTS_TABLE).await?;
        ensure!(got == EAGER_PARENTS, "{PARENTS_TABLE} holds {got} rows");
        let got = self.count(CHILDREN_TABLE).await?;
        ensure!(got == EAGER_CHILDREN, "{CHILDREN_TABLE} holds {got} rows");
        Ok(())
    }

    pub async fn close(&self) {
        vrun!(self, p => p.close().await)
    }
}
