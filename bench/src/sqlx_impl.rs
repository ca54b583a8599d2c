//! Raw sqlx 0.9, two ways: through its pool (`PgPool`/`MySqlPool`/`SqlitePool`,
//! default options but 20 connections and a 5 s acquire timeout; every
//! statement is `.execute(&pool)` / `.fetch_one(&pool)`), and on one dedicated
//! connection (`&mut PgConnection` ...). Hand-written SQL, rows decoded with
//! `#[derive(sqlx::FromRow)]`.
//!
//! - insert_one: `INSERT .. RETURNING id` (PostgreSQL), `last_insert_id()` /
//!   `last_insert_rowid()` from the result elsewhere.
//! - bulk_insert: PostgreSQL one `INSERT .. SELECT * FROM UNNEST($1::text[], ..)`
//!   with column arrays; MySQL/SQLite `QueryBuilder::push_values` multi-row
//!   inserts chunked under the bind limit, in one transaction.
//! - select_pk / select_10k: `query_as::<_, SRow>`.
//! - update_pk: `UPDATE .. SET age = ?, score = ? WHERE id = ?`.
//! - save_history: `begin()`, insert row, insert history row, `commit()`.
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
    EAGER_CHILDREN, EAGER_PARENTS, EagerResult, PARENTS_TABLE, REPORT_ORDERS, REPORT_ORDERS_TABLE,
    REPORT_USERS, REPORT_USERS_TABLE, ReportOrder, ReportRow, Row, Update, Workload,
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
    hist_row: SqlStr,
    hist_insert: SqlStr,
    bulk_head: String,
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
            hist_row: sql(ins(t(Workload::SaveHistory))),
            hist_insert: sql(history_insert_sql(
                &t(Workload::SaveHistory),
                &ph.iter().map(String::as_str).collect::<Vec<_>>(),
            )),
            bulk_head: format!("INSERT INTO {} ({COLS}) ", t(Workload::BulkInsert)),
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
            chunk: backend.bulk_chunk(),
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
                let sql = format!(
                    "{}SELECT * FROM UNNEST($1::text[], $2::text[], $3::int4[], $4::float8[], $5::bool[], $6::timestamp[])",
                    s.bulk_head
                );
                let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
                let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
                let ages: Vec<i32> = rows.iter().map(|r| r.age).collect();
                let scores: Vec<f64> = rows.iter().map(|r| r.score).collect();
                let actives: Vec<bool> = rows.iter().map(|r| r.active).collect();
                let created: Vec<NaiveDateTime> = rows.iter().map(|r| r.created_at).collect();
                let q = sqlx::query(AssertSqlSafe(sql))
                    .bind(names)
                    .bind(emails)
                    .bind(ages)
                    .bind(scores)
                    .bind(actives)
                    .bind(created);
                let n = on!(x, e => q.execute(e).await?.rows_affected());
                ensure!(n as usize == rows.len(), "UNNEST inserted {n} rows");
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

    async fn save_history(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        let s = &self.sql;
        for r in rows {
            let id = match &mut self.inner {
                Inner::Pg(x) => {
                    let mut tx = begin!(x);
                    let id = hist_pg(&mut tx, s, r).await?;
                    tx.commit().await?;
                    id
                }
                Inner::My(x) => {
                    let mut tx = begin!(x);
                    let id = hist_my(&mut tx, s, r).await?;
                    tx.commit().await?;
                    id
                }
                Inner::Lite(x) => {
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
