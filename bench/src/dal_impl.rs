//! dal: entities from `#[derive(dal::Entity)]` through `Db` (dal's own pool).
//!
//! - insert_one: `entity.save(&db)` on a new entity (INSERT .. RETURNING id on
//!   PostgreSQL, the OK packet's / SQLite's last insert id elsewhere).
//! - bulk_insert: `Entity::save_all(&mut rows, &db)` (one transaction, dal's own
//!   chunking and strategy; fills every id).
//! - select_pk: `Entity::get(&db, id)`.
//! - select_10k: `Entity::find().all(&db)`.
//! - update_pk: the entities are loaded with `get_tracked` beforehand (untimed),
//!   then the timed loop sets age/score and calls `save(&db)`, which writes the
//!   changed columns (`UPDATE .. SET age = ?, score = ? WHERE id = ?`).
//! - save_history: `save(&db)` of a new `#[dal(history)]` entity (one INSERT;
//!   dal's trigger writes the history row in the same statement).
//! - partial_update: `Wide::get_tracked` beforehand (untimed), then set `n1`
//!   and `save(&db)`: the one changed column.
//! - stream_1m: `StreamRow::find().filter(id <= n).cursor(&db)` (see `stream`).
//! - eager_has_many: `Parent::find().with(Parent::CHILDREN).all(&db)` (dal's
//!   eager loading: the parents, then one `parent_id IN (..)` query for all
//!   their children), then `loaded.related(Parent::CHILDREN)` per parent. The
//!   child declares `#[dal(belongs_to = Parent)] parent_id`, the parent
//!   `#[dal(has_many(children = Child::PARENT))]`.
//! - report_join_group: `RepOrder::find().join(RepOrder::USER)
//!   .filter(RepOrder::DONE.eq(true)).select((RepUser::ID, RepUser::NAME,
//!   RepOrder::ID.count(), RepOrder::AMOUNT.sum())).group_by((RepUser::ID,
//!   RepUser::NAME)).order_by(RepUser::ID.asc()).all(&db)` into
//!   `(i64, String, i64, Option<i64>)` tuples (dal's query language: an inner
//!   join along the belongs_to, aggregates, GROUP BY; the SQL is
//!   `workloads::REPORT_SQL_PORTABLE`).
//! - concurrent: a second `Db` with 20 connections and a 5 s acquire timeout.

use anyhow::{Context, Result, ensure};
use chrono::NaiveDateTime;
use dal::{Db, Entity, Error, TimeoutKind};

use crate::workloads::{
    ACQUIRE_TIMEOUT, CONC_POOL, ConcError, ConcPool, Contender, EagerResult, PartialUp, ReportRow,
    Row, Update, row_hash,
};

macro_rules! bench_entity {
    ($ty:ident, $table:tt $(, $flag:ident)?) => {
        #[derive(Entity, Debug, Clone)]
        #[dal(table = $table $(, $flag)?)]
        pub struct $ty {
            #[dal(id)]
            pub id: i64,
            #[dal(length = 100)]
            pub name: String,
            #[dal(length = 150)]
            pub email: String,
            pub age: i32,
            pub score: f64,
            pub active: bool,
            pub created_at: NaiveDateTime,
        }

        impl $ty {
            #[allow(dead_code)]
            fn from_row(r: &Row) -> Self {
                $ty {
                    id: 0,
                    name: r.name.clone(),
                    email: r.email.clone(),
                    age: r.age,
                    score: r.score,
                    active: r.active,
                    created_at: r.created_at,
                }
            }

            #[allow(dead_code)]
            fn hash(&self) -> u64 {
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
    };
}

bench_entity!(SharedRow, "bench_rows");
bench_entity!(InsertOne, "dal_insert_one");
bench_entity!(BulkRow, "dal_bulk_insert");
bench_entity!(UpdateRow, "dal_update_pk");
bench_entity!(HistoryRow, "dal_save_history", history);

/// `{prefix}_partial_update`: ten data columns.
#[derive(Entity, Debug, Clone)]
#[dal(table = "dal_partial_update")]
pub struct Wide {
    #[dal(id)]
    pub id: i64,
    #[dal(length = 100)]
    pub s1: String,
    #[dal(length = 100)]
    pub s2: String,
    #[dal(length = 100)]
    pub s3: String,
    #[dal(length = 100)]
    pub s4: String,
    pub n1: i32,
    pub n2: i32,
    pub n3: i32,
    pub f1: f64,
    pub f2: f64,
    pub b1: bool,
}

// `bench_stream`: the bench columns, read by `stream_1m`.
bench_entity!(StreamRow, "bench_stream");

/// `bench_parents`, with its has-many `Parent::CHILDREN`.
#[derive(Entity, Debug, Clone)]
#[dal(table = "bench_parents", has_many(children = Child::PARENT))]
pub struct Parent {
    #[dal(id)]
    pub id: i64,
    #[dal(length = 100)]
    pub name: String,
    #[dal(length = 150)]
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// `bench_children`, belonging to a `Parent` (`Child::PARENT`).
#[derive(Entity, Debug, Clone)]
#[dal(table = "bench_children")]
pub struct Child {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = Parent)]
    pub parent_id: i64,
    #[dal(length = 100)]
    pub name: String,
    #[dal(length = 150)]
    pub email: String,
    pub age: i32,
    pub score: f64,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

/// `rep_users` of `report_join_group`, with its has-many `RepUser::ORDERS`.
#[derive(Entity, Debug, Clone)]
#[dal(table = "rep_users", has_many(orders = RepOrder::USER))]
pub struct RepUser {
    #[dal(id)]
    pub id: i64,
    #[dal(length = 60)]
    pub name: String,
    #[dal(length = 40)]
    pub city: String,
}

/// `rep_orders`, belonging to a `RepUser` (`RepOrder::USER`).
#[derive(Entity, Debug, Clone)]
#[dal(table = "rep_orders")]
pub struct RepOrder {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = RepUser)]
    pub user_id: i64,
    pub amount: i32,
    pub done: bool,
}

pub struct DalContender {
    url: String,
    db: Db,
    loaded: Vec<dal::Tracked<UpdateRow>>,
    wide: Vec<dal::Tracked<Wide>>,
}

pub async fn connect(url: &str, max: u32) -> Result<Db> {
    let config = dal::DatabaseConfig::builder(url)
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .build()?;
    Ok(Db::connect(config).await?)
}

/// `stream_1m`: rows `1..=n` of `bench_stream` through
/// `StreamRow::find().cursor(&db)` (one statement, read as the server sends
/// it); with `DAL_BENCH_STREAM=keyset`, through `stream(&db)` (keyset pages)
/// instead. Returns (rows, checksum).
pub async fn stream(db: &Db, n: usize) -> Result<(usize, u64)> {
    let find = StreamRow::find().filter(StreamRow::ID.le(n as i64));
    let keyset = match std::env::var("DAL_BENCH_STREAM").as_deref() {
        Ok("keyset") => true,
        Ok("cursor") | Err(_) => false,
        Ok(other) => anyhow::bail!("DAL_BENCH_STREAM={other}: `cursor` or `keyset`"),
    };
    if keyset {
        let mut find = find;
        // `DAL_BENCH_STREAM_BATCH`: rows per keyset page (dal's default otherwise)
        if let Ok(batch) = std::env::var("DAL_BENCH_STREAM_BATCH") {
            find = find.batch_size(batch.parse().context("DAL_BENCH_STREAM_BATCH")?);
        }
        drain(find.stream(db)).await
    } else {
        drain(find.cursor(db)).await
    }
}

/// Read `s` to its end: (rows, checksum).
async fn drain(
    mut s: impl futures_util::Stream<Item = dal::Result<StreamRow>> + Unpin,
) -> Result<(usize, u64)> {
    use futures_util::StreamExt;
    let (mut count, mut sum) = (0usize, 0u64);
    while let Some(r) = s.next().await {
        let r = r?;
        count += 1;
        sum = sum.wrapping_add(r.hash());
    }
    Ok((count, sum))
}

impl DalContender {
    pub fn close(&self) {
        self.db.close();
    }

    pub async fn new(url: &str) -> Result<Self> {
        Ok(DalContender {
            url: url.to_string(),
            db: connect(url, CONC_POOL).await.context("dal connect")?,
            loaded: Vec::new(),
            wide: Vec::new(),
        })
    }
}

#[derive(Clone)]
pub struct DalPool(Db);

impl ConcPool for DalPool {
    async fn select(&self, id: i64) -> std::result::Result<u64, ConcError> {
        match SharedRow::get(&self.0, id).await {
            Ok(Some(r)) => Ok(r.hash()),
            Ok(None) => Err(ConcError::Other(anyhow::anyhow!("row {id} not found"))),
            Err(Error::Timeout {
                kind: TimeoutKind::Acquire,
                ..
            }) => Err(ConcError::AcquireTimeout),
            Err(e) => Err(e.into()),
        }
    }
    async fn close(self) {
        self.0.close();
    }
}

impl Contender for DalContender {
    type Pool = DalPool;

    fn name(&self) -> &'static str {
        "dal"
    }
    fn prefix(&self) -> &'static str {
        "dal"
    }
    fn supports(&self, _w: crate::workloads::Workload) -> bool {
        true
    }

    async fn insert_one(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            let mut e = InsertOne::from_row(r);
            e.save(&self.db).await?;
            ids.push(e.id);
        }
        Ok(ids)
    }

    async fn bulk_insert(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut all: Vec<BulkRow> = rows.iter().map(BulkRow::from_row).collect();
        BulkRow::save_all(&mut all, &self.db).await?;
        Ok(all.iter().map(|e| e.id).collect())
    }

    async fn select_pk(&mut self, ids: &[i64]) -> Result<u64> {
        let mut sum = 0u64;
        for &id in ids {
            let r = SharedRow::get(&self.db, id)
                .await?
                .with_context(|| format!("row {id} not found"))?;
            sum = sum.wrapping_add(r.hash());
        }
        Ok(sum)
    }

    async fn select_all(&mut self) -> Result<(usize, u64)> {
        let rows = SharedRow::find().all(&self.db).await?;
        let sum = rows.iter().fold(0u64, |a, r| a.wrapping_add(r.hash()));
        Ok((rows.len(), sum))
    }

    async fn eager_has_many(&mut self) -> Result<EagerResult> {
        let loaded = Parent::find().with(Parent::CHILDREN).all(&self.db).await?;
        let mut out = EagerResult::default();
        for p in &loaded {
            out.parent(row_hash(
                p.id,
                &p.name,
                &p.email,
                p.age,
                p.score,
                p.active,
                p.created_at,
            ));
            for c in p.related(Parent::CHILDREN)? {
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

    async fn report_join_group(&mut self) -> Result<Vec<ReportRow>> {
        let rows: Vec<ReportRow> = RepOrder::find()
            .join(RepOrder::USER)
            .filter(RepOrder::DONE.eq(true))
            .select((
                RepUser::ID,
                RepUser::NAME,
                RepOrder::ID.count(),
                RepOrder::AMOUNT.sum(),
            ))
            .group_by((RepUser::ID, RepUser::NAME))
            .order_by(RepUser::ID.asc())
            .all(&self.db)
            .await?;
        Ok(rows)
    }

    async fn prepare_update(&mut self, ids: &[i64]) -> Result<()> {
        self.loaded.clear();
        for &id in ids {
            let e = UpdateRow::get_tracked(&self.db, id)
                .await?
                .with_context(|| format!("row {id} not found"))?;
            self.loaded.push(e);
        }
        Ok(())
    }

    async fn update_pk(&mut self, ups: &[Update]) -> Result<()> {
        ensure!(self.loaded.len() == ups.len(), "prepare_update not run");
        for (e, u) in self.loaded.iter_mut().zip(ups) {
            ensure!(e.id == u.id, "loaded entities out of order");
            e.age = u.age;
            e.score = u.score;
            // a tracked entity writes the columns that changed: the same
            // two-column UPDATE the peers send
            e.save(&self.db).await?;
        }
        Ok(())
    }

    async fn prepare_partial(&mut self, ids: &[i64]) -> Result<()> {
        self.wide.clear();
        for &id in ids {
            let e = Wide::get_tracked(&self.db, id)
                .await?
                .with_context(|| format!("row {id} not found"))?;
            self.wide.push(e);
        }
        Ok(())
    }

    async fn partial_update(&mut self, ups: &[PartialUp]) -> Result<()> {
        ensure!(self.wide.len() == ups.len(), "prepare_partial not run");
        for (e, u) in self.wide.iter_mut().zip(ups) {
            ensure!(e.id == u.id, "loaded entities out of order");
            e.n1 = u.n1;
            // a tracked entity writes the one column that changed
            e.save(&self.db).await?;
        }
        Ok(())
    }

    async fn prepare_history(&mut self, table: &str) -> Result<()> {
        // dal's own schema for a history entity: table, history table, triggers
        self.db
            .drop_table_if_exists(&format!("{table}_history"))
            .await?;
        self.db.drop_table_if_exists(table).await?;
        HistoryRow::ensure_schema(&self.db).await?;
        Ok(())
    }

    async fn save_history(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            let mut e = HistoryRow::from_row(r);
            e.save(&self.db).await?;
            ids.push(e.id);
        }
        Ok(ids)
    }

    async fn conc_pool(&mut self) -> Result<DalPool> {
        Ok(DalPool(connect(&self.url, CONC_POOL).await?))
    }
}
