//! The [`Select`] builder: the `select` methods of [`Find`] and [`JoinQuery`],
//! grouping, filtering groups, running, and subqueries of columns
//! ([`Col::in_subquery`]).

use std::borrow::Cow;
use std::marker::PhantomData;

use super::join::JoinQuery;
use super::projection::{CountRows, Item, Ordering, Projection, Scalar, Single};
use super::scope::table_of;
use super::scope::{InScope, Root};
use crate::entity::Entity;
use crate::entity::executor::Executor;
use crate::entity::query::{Col, Cond, Find};
use crate::entity::sql::{MARK, Param, ParamList, place, quoted};
use crate::error::{Error, Result};
use crate::row::{FromRow, Row};

impl<E: Entity, S> JoinQuery<E, S> {
    /// How many rows the join gives (one per match; honouring limit and
    /// offset).
    pub fn count<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<i64>> + Send + 'a
    where
        Self: 'a,
    {
        let windowed = self.find.limit.is_some() || self.find.offset.is_some();
        let mut sel = self.select(CountRows);
        let session = ex.__into_session();
        async move {
            sel.check()?;
            if windowed {
                sel.items = vec![Item {
                    sql: "1".into(),
                    params: Vec::new(),
                    name: Cow::Borrowed("one"),
                }];
            }
            let (inner, params) = sel.render(false);
            let sql = if windowed {
                format!("SELECT COUNT(*) FROM ({inner}) [counted]")
            } else {
                inner
            };
            let stmt = session.db.inner.statements.get(&sql)?;
            let opts = session.options();
            let rows: Vec<(i64,)> = session
                .read(&stmt, &ParamList(&params), Some(1), opts)
                .await?;
            Ok(rows.first().map_or(0, |r| r.0))
        }
    }

    /// Read `projection` from each row: a column handle, an aggregate, or a
    /// tuple of them. See [`Select`].
    pub fn select<P: Projection<S, I>, I>(self, projection: P) -> Select<E, S, P, I> {
        let mut items = Vec::new();
        projection.__items(&mut items);
        Select {
            query: self,
            items,
            distinct: false,
            group: Vec::new(),
            group_params: Vec::new(),
            having: Vec::new(),
            having_params: Vec::new(),
            _marker: PhantomData,
        }
    }
}

impl<E: Entity> Find<E> {
    /// Read `projection` from each matching row instead of whole entities:
    /// some columns (`(User::ID, User::NAME)`), aggregates
    /// (`User::ID.count()`), or a tuple of them. See [`Select`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # use dal::{Db, Entity};
    /// #[derive(Entity, Debug, Clone)]
    /// #[dal(table = "items")]
    /// struct Item {
    ///     #[dal(id)]
    ///     id: i64,
    ///     kind: String,
    ///     price: i32,
    ///     note: Option<String>,
    /// }
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// Item::ensure_schema(&db).await?;
    /// for (kind, price) in [("tea", 3), ("tea", 5), ("cake", 4)] {
    ///     Item { id: 0, kind: kind.into(), price, note: None }.save(&db).await?;
    /// }
    /// // columns into tuples, with the field types (an Option field stays one)
    /// let names: Vec<(String, Option<String>)> =
    ///     Item::find().select((Item::KIND, Item::NOTE)).all(&db).await?;
    /// assert_eq!(names.len(), 3);
    /// // aggregates per group, filtered by HAVING
    /// let per_kind: Vec<(String, i64, Option<i64>, Option<f64>)> = Item::find()
    ///     .select((Item::KIND, Item::ID.count(), Item::PRICE.sum(), Item::PRICE.avg()))
    ///     .group_by(Item::KIND)
    ///     .having(Item::ID.count().gt(1))
    ///     .all(&db)
    ///     .await?;
    /// assert_eq!(per_kind, vec![("tea".into(), 2, Some(8), Some(4.0))]);
    /// // one value
    /// let top: Option<i32> = Item::find().select(Item::PRICE.max()).one(&db).await?;
    /// assert_eq!(top, Some(5));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn select<P: Projection<Root<E>, I>, I>(self, projection: P) -> Select<E, Root<E>, P, I> {
        JoinQuery::from(self).select(projection)
    }
}

impl<X, T, N> Col<X, T, N> {
    /// `column IN (subquery)`: the value is one the subquery reads (an
    /// uncorrelated [`Select`] of one value of the column's type). A subquery
    /// that reads no row matches nothing; MySQL and MariaDB refuse a `LIMIT`
    /// in it.
    pub fn in_subquery<S, P, I, E2: Entity>(self, sub: Select<E2, S, P, I>) -> Cond<X>
    where
        P: Projection<S, I> + Single<Value = T>,
    {
        let (sql, params) = sub.render(false);
        Cond::raw(format!("{MARK}{} IN ({sql})", quoted(self.name())), params)
    }

    /// `column NOT IN (subquery)`: the value is none the subquery reads. (A
    /// NULL among the subquery's values makes SQL's `NOT IN` match nothing:
    /// read a column that holds no NULLs.)
    pub fn not_in_subquery<S, P, I, E2: Entity>(self, sub: Select<E2, S, P, I>) -> Cond<X>
    where
        P: Projection<S, I> + Single<Value = T>,
    {
        let (sql, params) = sub.render(false);
        Cond::raw(
            format!("{MARK}{} NOT IN ({sql})", quoted(self.name())),
            params,
        )
    }
}

// ------------------------------------------------------------------ Select

/// A query that reads projections (made by [`Find::select`] or
/// [`JoinQuery::select`]): group, filter groups, sort, then run it with
/// [`all`](Select::all), [`one`](Select::one), [`optional`](Select::optional)
/// (rows as `P::Out`: a value or a tuple) or [`all_as`](Select::all_as)
/// (rows as a `#[derive(FromRow)]` struct, read by the values' names).
pub struct Select<E: Entity, S, P, I> {
    pub(super) query: JoinQuery<E, S>,
    pub(super) items: Vec<Item>,
    pub(super) distinct: bool,
    pub(super) group: Vec<String>,
    pub(super) group_params: Vec<Param>,
    pub(super) having: Vec<String>,
    pub(super) having_params: Vec<Param>,
    pub(super) _marker: PhantomData<fn() -> (P, I)>,
}

impl<E: Entity, S, P, I> std::fmt::Debug for Select<E, S, P, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Select")
            .field("query", &self.query)
            .field(
                "items",
                &self.items.iter().map(|i| &i.sql).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// One row of a [`Select`], decoded by its projection.
struct Decoded<P, S, I>(<P as Projection<S, I>>::Out)
where
    P: Projection<S, I>;

impl<P: Projection<S, I>, S, I> FromRow for Decoded<P, S, I> {
    fn from_row(row: &Row<'_>) -> Result<Self> {
        let mut at = 0;
        P::__decode(row, &mut at).map(Decoded)
    }
}

impl<E: Entity, S, P: Projection<S, I>, I> Select<E, S, P, I> {
    /// Only distinct rows (`SELECT DISTINCT`).
    pub fn distinct(mut self) -> Self {
        self.distinct = true;
        self
    }

    /// Group rows by `columns` (a column handle or a tuple of them, of any
    /// entity in the query): aggregates then compute per group. Every
    /// selected value that is not an aggregate should be grouped by
    /// (PostgreSQL refuses it otherwise).
    pub fn group_by<G: Projection<S, J>, J>(mut self, columns: G) -> Self {
        let mut items = Vec::new();
        columns.__items(&mut items);
        for item in items {
            self.group.push(item.sql);
            self.group_params.extend(item.params);
        }
        self
    }

    /// Keep only groups matching `cond`, a condition on aggregates
    /// (`Task::ID.count().gt(3)`) or grouped columns (several calls are ANDed).
    pub fn having<X: Entity, J>(mut self, cond: Cond<X>) -> Self
    where
        S: InScope<X, J>,
    {
        let (sql, params) = cond.into_parts();
        self.having.push(place(&sql, &table_of::<X>()));
        self.having_params.extend(params);
        self
    }

    /// Sort by a column or a computed value (`Task::ID.count().desc()`)
    /// (several calls sort by each in turn).
    pub fn order_by<O: Ordering<S, J>, J>(mut self, order: O) -> Self {
        self.query = self.query.order_by(order);
        self
    }

    /// Return at most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.query.find.limit = Some(n);
        self
    }

    /// Skip the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.query.find.offset = Some(n);
        self
    }

    /// This query as a value to select beside others (an uncorrelated
    /// subquery reading one value, `None` when it reads no row).
    pub fn scalar(self) -> Scalar<P::Value>
    where
        P: Single,
    {
        let name = self
            .items
            .first()
            .map_or(Cow::Borrowed("scalar"), |i| i.name.clone());
        let (sql, params) = self.render(false);
        Scalar {
            sql,
            params,
            name,
            _marker: PhantomData,
        }
    }

    /// `EXISTS (this query)`, as a condition on any entity (true when the
    /// query reads a row).
    pub fn exists<X>(self) -> Cond<X> {
        let (sql, params) = self.render(false);
        Cond::raw(format!("EXISTS ({sql})"), params)
    }

    /// `NOT EXISTS (this query)`.
    pub fn not_exists<X>(self) -> Cond<X> {
        let (sql, params) = self.render(false);
        Cond::raw(format!("NOT EXISTS ({sql})"), params)
    }

    /// The statement text (portable SQL) and its parameters, in order.
    fn render(self, lock: bool) -> (String, Vec<Param>) {
        let Select {
            query,
            items,
            distinct,
            group,
            group_params,
            having,
            having_params,
            ..
        } = self;
        let JoinQuery {
            mut find,
            joins,
            join_params,
            conds,
            cond_params,
            order,
            order_params,
            ..
        } = query;
        let mut params: Vec<Param> = Vec::new();
        let mut sql = String::from(if distinct {
            "SELECT DISTINCT "
        } else {
            "SELECT "
        });
        for (i, item) in items.into_iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&item.sql);
            sql.push_str(" AS ");
            sql.push_str(&quoted(&item.name));
            params.extend(item.params);
        }
        let root = table_of::<E>();
        if find.as_of.is_some() {
            sql.push_str(&format!(" FROM {} {root}", quoted(E::INFO.history_table)));
        } else {
            sql.push_str(&format!(" FROM {root}"));
        }
        sql.push_str(&joins);
        params.extend(join_params);
        let mut where_sql = String::new();
        let cond = find.cond.take();
        find.where_clause(&mut where_sql, &mut params, cond, &root);
        if !conds.is_empty() {
            where_sql.push_str(if where_sql.is_empty() {
                " WHERE "
            } else {
                " AND "
            });
            let wrapped: Vec<String> = conds.iter().map(|c| format!("({c})")).collect();
            where_sql.push_str(&wrapped.join(" AND "));
            params.extend(cond_params);
        }
        sql.push_str(&where_sql);
        if !group.is_empty() {
            sql.push_str(" GROUP BY ");
            sql.push_str(&group.join(", "));
            params.extend(group_params);
        }
        if !having.is_empty() {
            let wrapped: Vec<String> = having.iter().map(|c| format!("({c})")).collect();
            sql.push_str(" HAVING ");
            sql.push_str(&wrapped.join(" AND "));
            params.extend(having_params);
        }
        if !order.is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(&order.join(", "));
            params.extend(order_params);
        }
        find.window_and_lock(&mut sql, &mut params, lock);
        (sql, params)
    }

    fn check(&self) -> Result<()> {
        self.query.find.check_as_of()?;
        if let Some(e) = &self.query.error {
            return Err(Error::invalid_input("join", e.clone()));
        }
        Ok(())
    }

    async fn run<'a, R: FromRow + Send>(
        self,
        session: crate::entity::executor::Session<'a>,
        limit: Option<usize>,
    ) -> Result<Vec<R>> {
        self.check()?;
        let lock = session.dialect().capabilities().row_locking;
        let (sql, params) = self.render(lock);
        let stmt = session.db.inner.statements.get(&sql)?;
        let opts = session.options();
        session.read(&stmt, &ParamList(&params), limit, opts).await
    }

    /// Every row.
    pub fn all<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<P::Out>>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move {
            let rows: Vec<Decoded<P, S, I>> = self.run(session, None).await?;
            Ok(rows.into_iter().map(|d| d.0).collect())
        }
    }

    /// The first row, if any.
    pub fn optional<'a, X: Executor<'a>>(
        mut self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Option<P::Out>>> + Send + 'a
    where
        Self: 'a,
    {
        self.query.find.limit = Some(1);
        let session = ex.__into_session();
        async move {
            let rows: Vec<Decoded<P, S, I>> = self.run(session, Some(1)).await?;
            Ok(rows.into_iter().next().map(|d| d.0))
        }
    }

    /// The first row; [`Error::NotFound`] when there is none.
    pub fn one<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<P::Out>> + Send + 'a
    where
        Self: 'a,
    {
        let f = self.optional(ex);
        async move {
            f.await?
                .ok_or_else(|| Error::NotFound(format!("no {} matches the query", E::INFO.table)))
        }
    }

    /// Every row as `R`, a `#[derive(FromRow)]` struct whose fields are read
    /// by the selected values' names: a column's own name, an aggregate's
    /// `{function}_{column}` (`count_id`, `sum_price`), or the name given
    /// with `alias`. Name the struct with a turbofish
    /// (`.all_as::<ByRegion>(&db)`) or on the variable.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # use dal::{Db, Entity, FromRow};
    /// #[derive(Entity, Debug, Clone)]
    /// #[dal(table = "sales")]
    /// struct Sale {
    ///     #[dal(id)]
    ///     id: i64,
    ///     region: String,
    ///     cents: i64,
    /// }
    ///
    /// #[derive(FromRow, Debug, PartialEq)]
    /// struct ByRegion {
    ///     region: String,
    ///     sales: i64,
    ///     total: Option<rust_decimal::Decimal>,
    /// }
    ///
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// Sale::ensure_schema(&db).await?;
    /// Sale { id: 0, region: "north".into(), cents: 250 }.save(&db).await?;
    /// let rows: Vec<ByRegion> = Sale::find()
    ///     .select((Sale::REGION, Sale::ID.count().alias("sales"), Sale::CENTS.sum().alias("total")))
    ///     .group_by(Sale::REGION)
    ///     .all_as(&db)
    ///     .await?;
    /// assert_eq!(rows[0].sales, 1);
    /// assert_eq!(rows[0].total, Some(250.into()));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn all_as<'a, R: FromRow + Send + 'a>(
        self,
        ex: impl Executor<'a>,
    ) -> impl std::future::Future<Output = Result<Vec<R>>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move { self.run(session, None).await }
    }
}
