//! SeaORM 2: `DeriveEntityModel` entities and ActiveModels over a sqlx pool
//! built with the same options as the sqlx-pool contender (20 connections, 5 s
//! acquire timeout, same SQLite pragmas), wrapped with
//! `Sqlx*Connector::from_sqlx_*_pool`.
//!
//! - insert_one: `Entity::insert(active_model).exec(&db)` (RETURNING id on
//!   PostgreSQL, last insert id elsewhere).
//! - bulk_insert: `Entity::insert_many(models).exec_without_returning(&txn)`
//!   chunked under the bind limit, in one transaction.
//! - select_pk: `Entity::find_by_id(id).one(&db)`.
//! - select_10k: `Entity::find().all(&db)`.
//! - update_pk: `Entity::update_many().col_expr(age).col_expr(score)
//!   .filter(Column::Id.eq(id)).exec(&db)` (one statement; `ActiveModel::update`
//!   would re-read the row on MySQL).
//! - save_history: `insert(..).exec(&db)`; the trigger the harness created
//!   writes the history row (`DAL_BENCH_HISTORY=tx`: `db.begin()`,
//!   `insert(..).exec(&txn)`, history ActiveModel
//!   `exec_without_returning(&txn)`, `commit()`).
//! - eager_has_many: `parent::Entity::find().all(&db)`, then
//!   `parents.load_many(child::Entity, &db)` (SeaORM's `LoaderTrait`: one
//!   `parent_id IN (..)` query, children handed back per parent), with the
//!   has-many / belongs-to declared on the entities' `Relation` enums and
//!   `Related` impls.

use anyhow::{Context, Result, ensure};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnAcquireErr, DatabaseConnection, DbErr, EntityTrait,
    LoaderTrait, QueryFilter, SqlxMySqlConnector, SqlxPostgresConnector, SqlxSqliteConnector,
    TransactionTrait,
};

use crate::sqlx_impl::{Target, lite_pool, my_pool, pg_pool};
use crate::workloads::{
    Backend, CONC_POOL, ConcError, ConcPool, Contender, EagerResult, HistoryMethod, PartialUp, Row,
    Update, Workload, row_hash,
};

macro_rules! sea_entity {
    ($m:ident, $table:tt) => {
        pub mod $m {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i64,
                pub name: String,
                pub email: String,
                pub age: i32,
                pub score: f64,
                pub active: bool,
                pub created_at: DateTime,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}

            #[allow(dead_code)]
            pub fn new(r: &crate::workloads::Row) -> ActiveModel {
                ActiveModel {
                    id: sea_orm::ActiveValue::NotSet,
                    name: sea_orm::ActiveValue::Set(r.name.clone()),
                    email: sea_orm::ActiveValue::Set(r.email.clone()),
                    age: sea_orm::ActiveValue::Set(r.age),
                    score: sea_orm::ActiveValue::Set(r.score),
                    active: sea_orm::ActiveValue::Set(r.active),
                    created_at: sea_orm::ActiveValue::Set(r.created_at),
                }
            }
        }
    };
}

sea_entity!(shared, "bench_rows");
sea_entity!(insert_one, "seaorm_insert_one");
sea_entity!(bulk, "seaorm_bulk_insert");
sea_entity!(update, "seaorm_update_pk");
sea_entity!(hist_row, "seaorm_save_history");

/// `seaorm_partial_update`: ten data columns.
pub mod wide {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "seaorm_partial_update")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub s1: String,
        pub s2: String,
        pub s3: String,
        pub s4: String,
        pub n1: i32,
        pub n2: i32,
        pub n3: i32,
        pub f1: f64,
        pub f2: f64,
        pub b1: bool,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `bench_stream`, read by `stream_1m`.
pub mod stream_rows {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_stream")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub email: String,
        pub age: i32,
        pub score: f64,
        pub active: bool,
        pub created_at: DateTime,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `stream_1m`: rows `1..=n` of `bench_stream` through
/// `Entity::find().filter(id <= n).stream(&db)`; returns (rows, checksum).
pub async fn stream(target: &Target, n: usize) -> Result<(usize, u64)> {
    use futures_util::StreamExt;
    let db = connect(target, 2).await?;
    let (mut count, mut sum) = (0usize, 0u64);
    {
        let mut s = stream_rows::Entity::find()
            .filter(stream_rows::Column::Id.lte(n as i64))
            .stream(&db)
            .await?;
        while let Some(m) = s.next().await {
            let m = m?;
            count += 1;
            sum = sum.wrapping_add(row_hash(
                m.id,
                &m.name,
                &m.email,
                m.age,
                m.score,
                m.active,
                m.created_at,
            ));
        }
    }
    let _ = db.close().await;
    Ok((count, sum))
}

/// The history table (its `history_at` takes the column default).
pub mod hist {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "seaorm_save_history_history")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub history_version: i64,
        pub history_operation: String,
        pub history_actor: Option<String>,
        pub history_comment: Option<String>,
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: i64,
        pub name: Option<String>,
        pub email: Option<String>,
        pub age: Option<i32>,
        pub score: Option<f64>,
        pub active: Option<bool>,
        pub created_at: Option<DateTime>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `bench_parents`, with its has-many to `eager_child`.
pub mod eager_parent {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_parents")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub email: String,
        pub age: i32,
        pub score: f64,
        pub active: bool,
        pub created_at: DateTime,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::eager_child::Entity")]
        Children,
    }

    impl Related<super::eager_child::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Children.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// `bench_children`, belonging to `eager_parent` through `parent_id`.
pub mod eager_child {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "bench_children")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub parent_id: i64,
        pub name: String,
        pub email: String,
        pub age: i32,
        pub score: f64,
        pub active: bool,
        pub created_at: DateTime,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::eager_parent::Entity",
            from = "Column::ParentId",
            to = "super::eager_parent::Column::Id"
        )]
        Parent,
    }

    impl Related<super::eager_parent::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Parent.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

fn hash(m: &shared::Model) -> u64 {
    row_hash(
        m.id,
        &m.name,
        &m.email,
        m.age,
        m.score,
        m.active,
        m.created_at,
    )
}

async fn connect(target: &Target, max: u32) -> Result<DatabaseConnection> {
    Ok(match target {
        Target::Pg(url) => SqlxPostgresConnector::from_sqlx_postgres_pool(pg_pool(url, max).await?),
        Target::My(url) => SqlxMySqlConnector::from_sqlx_mysql_pool(my_pool(url, max).await?),
        Target::Lite(path) => {
            SqlxSqliteConnector::from_sqlx_sqlite_pool(lite_pool(path, max).await?)
        }
    })
}

pub struct SeaContender {
    target: Target,
    db: DatabaseConnection,
    chunk: usize,
    backend: Backend,
}

impl SeaContender {
    pub async fn new(target: Target, backend: Backend) -> Result<Self> {
        Ok(SeaContender {
            db: connect(&target, CONC_POOL)
                .await
                .context("sea-orm connect")?,
            target,
            chunk: backend.bulk_chunk("sea-orm").unwrap_or(1),
            backend,
        })
    }
}

#[derive(Clone)]
pub struct SeaPool(DatabaseConnection);

impl ConcPool for SeaPool {
    async fn select(&self, id: i64) -> std::result::Result<u64, ConcError> {
        match shared::Entity::find_by_id(id).one(&self.0).await {
            Ok(Some(m)) => Ok(hash(&m)),
            Ok(None) => Err(ConcError::Other(anyhow::anyhow!("row {id} not found"))),
            Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)) => {
                Err(ConcError::AcquireTimeout)
            }
            Err(e) => Err(e.into()),
        }
    }
    async fn close(self) {
        let _ = self.0.close().await;
    }
}

impl Contender for SeaContender {
    type Pool = SeaPool;

    fn name(&self) -> &'static str {
        "sea-orm"
    }
    fn prefix(&self) -> &'static str {
        "seaorm"
    }
    fn supports(&self, w: Workload) -> bool {
        // report_join_group: dal, sqlx and the floors only (the same SQL text)
        w != Workload::ReportJoinGroup
    }

    async fn insert_one(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            let res = insert_one::Entity::insert(insert_one::new(r))
                .exec(&self.db)
                .await?;
            ids.push(res.last_insert_id);
        }
        Ok(ids)
    }

    async fn bulk_insert(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let txn = self.db.begin().await?;
        let mut n = 0;
        for chunk in rows.chunks(self.chunk) {
            n += bulk::Entity::insert_many(chunk.iter().map(bulk::new))
                .exec_without_returning(&txn)
                .await?;
        }
        txn.commit().await?;
        ensure!(n as usize == rows.len(), "insert_many inserted {n} rows");
        Ok(Vec::new())
    }

    async fn select_pk(&mut self, ids: &[i64]) -> Result<u64> {
        let mut sum = 0u64;
        for &id in ids {
            let m = shared::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .with_context(|| format!("row {id} not found"))?;
            sum = sum.wrapping_add(hash(&m));
        }
        Ok(sum)
    }

    async fn select_all(&mut self) -> Result<(usize, u64)> {
        let all = shared::Entity::find().all(&self.db).await?;
        let sum = all.iter().fold(0u64, |a, m| a.wrapping_add(hash(m)));
        Ok((all.len(), sum))
    }

    async fn update_pk(&mut self, ups: &[Update]) -> Result<()> {
        for u in ups {
            let res = update::Entity::update_many()
                .col_expr(update::Column::Age, Expr::value(u.age))
                .col_expr(update::Column::Score, Expr::value(u.score))
                .filter(update::Column::Id.eq(u.id))
                .exec(&self.db)
                .await?;
            ensure!(
                res.rows_affected == 1,
                "update of {} changed {} rows",
                u.id,
                res.rows_affected
            );
        }
        Ok(())
    }

    async fn partial_update(&mut self, ups: &[PartialUp]) -> Result<()> {
        for u in ups {
            let res = wide::Entity::update_many()
                .col_expr(wide::Column::N1, Expr::value(u.n1))
                .filter(wide::Column::Id.eq(u.id))
                .exec(&self.db)
                .await?;
            ensure!(
                res.rows_affected == 1,
                "update of {} changed {} rows",
                u.id,
                res.rows_affected
            );
        }
        Ok(())
    }

    async fn save_history(&mut self, rows: &[Row]) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        if self.backend.history_method() != HistoryMethod::Transaction {
            // one INSERT a save: the trigger on the table writes the history row
            for r in rows {
                let id = hist_row::Entity::insert(hist_row::new(r))
                    .exec(&self.db)
                    .await?
                    .last_insert_id;
                ids.push(id);
            }
            return Ok(ids);
        }
        for r in rows {
            let txn = self.db.begin().await?;
            let id = hist_row::Entity::insert(hist_row::new(r))
                .exec(&txn)
                .await?
                .last_insert_id;
            let h = hist::ActiveModel {
                history_version: Set(1),
                history_operation: Set("insert".to_string()),
                history_actor: Set(None),
                history_comment: Set(None),
                id: Set(id),
                name: Set(Some(r.name.clone())),
                email: Set(Some(r.email.clone())),
                age: Set(Some(r.age)),
                score: Set(Some(r.score)),
                active: Set(Some(r.active)),
                created_at: Set(Some(r.created_at)),
            };
            hist::Entity::insert(h).exec_without_returning(&txn).await?;
            txn.commit().await?;
            ids.push(id);
        }
        Ok(ids)
    }

    async fn eager_has_many(&mut self) -> Result<EagerResult> {
        let parents = eager_parent::Entity::find().all(&self.db).await?;
        let children = parents.load_many(eager_child::Entity, &self.db).await?;
        ensure!(
            children.len() == parents.len(),
            "load_many returned {} groups for {} parents",
            children.len(),
            parents.len()
        );
        let mut out = EagerResult::default();
        for (p, cs) in parents.iter().zip(&children) {
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

    async fn conc_pool(&mut self) -> Result<SeaPool> {
        Ok(SeaPool(connect(&self.target, CONC_POOL).await?))
    }
}
