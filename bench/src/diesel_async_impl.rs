//! diesel-async 0.9 on PostgreSQL and MySQL: one `AsyncPgConnection` /
//! `AsyncMysqlConnection`, the same Diesel DSL as the sync contender with
//! `diesel_async::RunQueryDsl`.
//!
//! - insert_one: `.returning(id).get_result` on PostgreSQL; on MySQL `execute`
//!   then `select(LAST_INSERT_ID())` (a second round trip).
//! - bulk_insert: `insert_into(t).values(vec).execute` chunked, in
//!   `conn.transaction`.
//! - select_pk / select_10k / update_pk: as the sync contender.
//! - save_history: the insert of insert_one; the trigger the harness created
//!   writes the history row (`DAL_BENCH_HISTORY=tx`: `conn.transaction(async
//!   |c| { insert row; insert history })`).
//! - eager_has_many: as the sync contender (`belonging_to(&parents)` +
//!   `grouped_by(&parents)`, the same `Associations` structs).
//! - concurrent: its deadpool integration (`diesel_async::pooled_connection::
//!   deadpool::Pool`, 20 connections, 5 s wait timeout, default recycling:
//!   `Verified`, a test query at every checkout).

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::result::Error as DError;
use diesel::sql_types::{BigInt, Unsigned};
use diesel_async::pooled_connection::AsyncDieselConnectionManager;
use diesel_async::pooled_connection::deadpool::Pool;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, AsyncPgConnection, RunQueryDsl};

use crate::diesel_impl::{DChild, DParent, DRow, eager_schema};
use crate::workloads::{
    ACQUIRE_TIMEOUT, Backend, CONC_POOL, ConcError, ConcPool, Contender, EagerResult,
    HistoryMethod, PartialUp, Row, Update, Workload,
};

pub mod schema {
    crate::diesel_tables!(
        "dasync_insert_one",
        "dasync_bulk_insert",
        "dasync_update_pk",
        "dasync_save_history",
        "dasync_save_history_history"
    );
    crate::diesel_wide_table!("dasync_partial_update");
}
use schema::{shared, t_bulk, t_hist, t_hrow, t_insert, t_update, t_wide};

/// `stream_1m`: rows `1..=n` of `bench_stream` through `load_stream`; returns
/// (rows, checksum).
pub async fn stream(backend: Backend, url: &str, n: usize) -> Result<(usize, u64)> {
    use crate::diesel_impl::schema::stream_rows as t;
    use futures_util::StreamExt;
    let n = n as i64;
    let (mut count, mut sum) = (0usize, 0u64);
    match backend {
        Backend::Postgres => {
            let mut c = AsyncPgConnection::establish(url).await?;
            let mut s = t::table
                .filter(t::id.le(n))
                .load_stream::<DRow>(&mut c)
                .await?;
            while let Some(r) = s.next().await {
                count += 1;
                sum = sum.wrapping_add(r?.hash());
            }
        }
        Backend::MySql => {
            let mut c =
                AsyncMysqlConnection::establish(&crate::workloads::mysql_async_url(url)).await?;
            let mut s = t::table
                .filter(t::id.le(n))
                .load_stream::<DRow>(&mut c)
                .await?;
            while let Some(r) = s.next().await {
                count += 1;
                sum = sum.wrapping_add(r?.hash());
            }
        }
        Backend::Sqlite => anyhow::bail!("diesel-async runs on PostgreSQL and MySQL only"),
    }
    Ok((count, sum))
}

// one value per process: the size difference does not matter
#[allow(clippy::large_enum_variant)]
enum Conn {
    Pg(AsyncPgConnection),
    My(AsyncMysqlConnection),
}

macro_rules! each {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            Conn::Pg($c) => $body,
            Conn::My($c) => $body,
        }
    };
}

pub struct DieselAsyncContender {
    url: String,
    conn: Conn,
    chunk: usize,
    backend: Backend,
}

impl DieselAsyncContender {
    pub async fn new(backend: Backend, url: &str) -> Result<Self> {
        let conn = match backend {
            Backend::Postgres => Conn::Pg(AsyncPgConnection::establish(url).await?),
            Backend::MySql => Conn::My(
                AsyncMysqlConnection::establish(&crate::workloads::mysql_async_url(url)).await?,
            ),
            Backend::Sqlite => anyhow::bail!("diesel-async runs on PostgreSQL and MySQL only"),
        };
        Ok(DieselAsyncContender {
            url: url.to_string(),
            conn,
            chunk: backend.bulk_chunk("diesel-async").unwrap_or(1),
            backend,
        })
    }
}

async fn mysql_last_id(c: &mut AsyncMysqlConnection) -> QueryResult<i64> {
    Ok(diesel::select(sql::<Unsigned<BigInt>>("LAST_INSERT_ID()"))
        .get_result::<u64>(c)
        .await? as i64)
}

#[derive(Clone)]
pub enum DaPool {
    Pg(Pool<AsyncPgConnection>),
    My(Pool<AsyncMysqlConnection>),
}

fn pool_err(e: diesel_async::pooled_connection::deadpool::PoolError) -> ConcError {
    use deadpool::managed::PoolError;
    match e {
        PoolError::Timeout(_) => ConcError::AcquireTimeout,
        e => ConcError::Other(anyhow::anyhow!("{e}")),
    }
}

impl ConcPool for DaPool {
    async fn select(&self, id: i64) -> std::result::Result<u64, ConcError> {
        let r: DRow = match self {
            DaPool::Pg(p) => {
                let mut c = p.get().await.map_err(pool_err)?;
                shared::table.find(id).get_result(&mut c).await?
            }
            DaPool::My(p) => {
                let mut c = p.get().await.map_err(pool_err)?;
                shared::table.find(id).get_result(&mut c).await?
            }
        };
        Ok(r.hash())
    }
    async fn close(self) {
        match self {
            DaPool::Pg(p) => p.close(),
            DaPool::My(p) => p.close(),
        }
    }
}

fn pool_builder_timeout() -> Option<Duration> {
    Some(ACQUIRE_TIMEOUT)
}

impl Contender for DieselAsyncContender {
    type Pool = DaPool;

    fn name(&self) -> &'static str {
        "diesel-async"
    }
    fn prefix(&self) -> &'static str {
        "dasync"
    }
    fn supports(&self, w: Workload) -> bool {
        // report_join_group: dal, sqlx and the floors only (the same SQL text)
        w != Workload::ReportJoinGroup
    }

    async fn insert_one(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            ids.push(match &mut self.conn {
                Conn::Pg(c) => {
                    diesel::insert_into(t_insert::table)
                        .values(crate::diesel_values!(t_insert, r))
                        .returning(t_insert::id)
                        .get_result::<i64>(c)
                        .await?
                }
                Conn::My(c) => {
                    diesel::insert_into(t_insert::table)
                        .values(crate::diesel_values!(t_insert, r))
                        .execute(c)
                        .await?;
                    mysql_last_id(c).await?
                }
            });
        }
        Ok(ids)
    }

    async fn bulk_insert(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let chunk = self.chunk;
        let n: usize = each!(&mut self.conn, c => c.transaction::<_, DError, _>(async |c| {
            let mut n = 0;
            for part in rows.chunks(chunk) {
                let values: Vec<_> = part.iter().map(|r| crate::diesel_values!(t_bulk, r)).collect();
                n += diesel::insert_into(t_bulk::table).values(values).execute(c).await?;
            }
            Ok(n)
        }).await?);
        ensure!(n == rows.len(), "diesel-async inserted {n} rows");
        Ok(Vec::new())
    }

    async fn select_pk(&mut self, ids: &[i64]) -> Result<u64> {
        let mut sum = 0u64;
        for &id in ids {
            let r: DRow = each!(&mut self.conn, c => shared::table.find(id).get_result(c).await)
                .with_context(|| format!("row {id}"))?;
            sum = sum.wrapping_add(r.hash());
        }
        Ok(sum)
    }

    async fn select_all(&mut self) -> Result<(usize, u64)> {
        let rows: Vec<DRow> = each!(&mut self.conn, c => shared::table.load(c).await)?;
        let sum = rows.iter().fold(0u64, |a, r| a.wrapping_add(r.hash()));
        Ok((rows.len(), sum))
    }

    async fn update_pk(&mut self, ups: &[Update]) -> Result<()> {
        for u in ups {
            let n = each!(&mut self.conn, c => diesel::update(t_update::table.find(u.id))
                .set((t_update::age.eq(u.age), t_update::score.eq(u.score)))
                .execute(c)
                .await)?;
            ensure!(n == 1, "update of {} changed {n} rows", u.id);
        }
        Ok(())
    }

    async fn partial_update(&mut self, ups: &[PartialUp]) -> Result<()> {
        for u in ups {
            let n = each!(&mut self.conn, c => diesel::update(t_wide::table.find(u.id))
                .set(t_wide::n1.eq(u.n1))
                .execute(c)
                .await)?;
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
                    Conn::Pg(c) => {
                        diesel::insert_into(t_hrow::table)
                            .values(crate::diesel_values!(t_hrow, r))
                            .returning(t_hrow::id)
                            .get_result::<i64>(c)
                            .await?
                    }
                    Conn::My(c) => {
                        diesel::insert_into(t_hrow::table)
                            .values(crate::diesel_values!(t_hrow, r))
                            .execute(c)
                            .await?;
                        mysql_last_id(c).await?
                    }
                });
            }
            return Ok(ids);
        }
        for r in rows {
            let id = match &mut self.conn {
                Conn::Pg(c) => {
                    c.transaction::<_, DError, _>(async |c| {
                        let id: i64 = diesel::insert_into(t_hrow::table)
                            .values(crate::diesel_values!(t_hrow, r))
                            .returning(t_hrow::id)
                            .get_result(c)
                            .await?;
                        diesel::insert_into(t_hist::table)
                            .values(crate::diesel_history_values!(t_hist, id, r))
                            .execute(c)
                            .await?;
                        Ok(id)
                    })
                    .await?
                }
                Conn::My(c) => {
                    c.transaction::<_, DError, _>(async |c| {
                        diesel::insert_into(t_hrow::table)
                            .values(crate::diesel_values!(t_hrow, r))
                            .execute(c)
                            .await?;
                        let id = mysql_last_id(c).await?;
                        diesel::insert_into(t_hist::table)
                            .values(crate::diesel_history_values!(t_hist, id, r))
                            .execute(c)
                            .await?;
                        Ok(id)
                    })
                    .await?
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }

    async fn eager_has_many(&mut self) -> Result<EagerResult> {
        use eager_schema::parents;
        let parents: Vec<DParent> = each!(&mut self.conn, c => parents::table.load(c).await)?;
        let children: Vec<DChild> =
            each!(&mut self.conn, c => DChild::belonging_to(&parents).load(c).await)?;
        let grouped = children.grouped_by(&parents);
        crate::diesel_impl::eager_result(&parents, &grouped)
    }

    async fn conc_pool(&mut self) -> Result<DaPool> {
        Ok(match &self.conn {
            Conn::Pg(_) => DaPool::Pg(
                Pool::builder(AsyncDieselConnectionManager::<AsyncPgConnection>::new(
                    &self.url,
                ))
                .max_size(CONC_POOL as usize)
                .wait_timeout(pool_builder_timeout())
                .runtime(deadpool::Runtime::Tokio1)
                .build()?,
            ),
            Conn::My(_) => DaPool::My(
                Pool::builder(AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(
                    crate::workloads::mysql_async_url(&self.url),
                ))
                .max_size(CONC_POOL as usize)
                .wait_timeout(pool_builder_timeout())
                .runtime(deadpool::Runtime::Tokio1)
                .build()?,
            ),
        })
    }
}
