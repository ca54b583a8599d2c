//! [`JoinQuery`]: a query widened by joins, and the `join` methods of [`Find`].

use std::marker::PhantomData;

use super::expr::{JoinRelation, On};
use super::projection::Ordering;
use super::scope::{InScope, Joined, NullIn, Root, place_on, table_of};
use crate::entity::Entity;
use crate::entity::query::{Cond, Find, NotNull, Nullable};
use crate::entity::relation::alive_in;
use crate::entity::sql::{Param, place, quoted};

/// The query [`join`](JoinQuery::join) gives: `S` widened by the entity
/// relation `R` leads to, missing from rows where `R`'s start may be.
pub type JoinVia<E, S, R, I> =
    JoinQuery<E, Joined<S, <R as JoinRelation>::To, NullIn<S, <R as JoinRelation>::From, I>>>;

/// The query [`join_on`](JoinQuery::join_on) gives: `S` widened by `X`,
/// missing from rows where `Y` may be.
pub type JoinOn<E, S, X, Y, I> = JoinQuery<E, Joined<S, X, NullIn<S, Y, I>>>;

// ------------------------------------------------------------------ JoinQuery

/// A query over several entities: [`Find`] on `E` with joins (its scope `S`
/// lists the entities it can name). Filter and order it on any of them, then
/// [`select`](JoinQuery::select) what to read.
pub struct JoinQuery<E: Entity, S> {
    pub(super) find: Find<E>,
    /// The tables in the query, quoted (a table joined twice is refused).
    pub(super) tables: Vec<String>,
    pub(super) joins: String,
    pub(super) join_params: Vec<Param>,
    pub(super) conds: Vec<String>,
    pub(super) cond_params: Vec<Param>,
    pub(super) order: Vec<String>,
    pub(super) order_params: Vec<Param>,
    pub(super) error: Option<String>,
    pub(super) _marker: PhantomData<fn() -> S>,
}

impl<E: Entity, S> std::fmt::Debug for JoinQuery<E, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinQuery")
            .field("find", &self.find)
            .field("joins", &self.joins)
            .finish()
    }
}

impl<E: Entity, S> Clone for JoinQuery<E, S> {
    fn clone(&self) -> Self {
        JoinQuery {
            find: self.find.clone(),
            tables: self.tables.clone(),
            joins: self.joins.clone(),
            join_params: self.join_params.clone(),
            conds: self.conds.clone(),
            cond_params: self.cond_params.clone(),
            order: self.order.clone(),
            order_params: self.order_params.clone(),
            error: self.error.clone(),
            _marker: PhantomData,
        }
    }
}

impl<E: Entity> From<Find<E>> for JoinQuery<E, Root<E>> {
    fn from(mut find: Find<E>) -> Self {
        let root = table_of::<E>();
        let order = std::mem::take(&mut find.order)
            .into_iter()
            .map(|o| {
                format!(
                    "{root}.{}{}",
                    quoted(o.column),
                    if o.descending { " DESC" } else { "" }
                )
            })
            .collect();
        JoinQuery {
            find,
            tables: vec![root],
            joins: String::new(),
            join_params: Vec::new(),
            conds: Vec::new(),
            cond_params: Vec::new(),
            order,
            order_params: Vec::new(),
            error: None,
            _marker: PhantomData,
        }
    }
}

impl<E: Entity, S> JoinQuery<E, S> {
    fn widen<T>(self) -> JoinQuery<E, T> {
        JoinQuery {
            find: self.find,
            tables: self.tables,
            joins: self.joins,
            join_params: self.join_params,
            conds: self.conds,
            cond_params: self.cond_params,
            order: self.order,
            order_params: self.order_params,
            error: self.error,
            _marker: PhantomData,
        }
    }

    fn add_join(&mut self, left: bool, table: &str, target: String, on: String) {
        if self.tables.iter().any(|t| t == table) {
            self.error.get_or_insert_with(|| {
                format!(
                    "the query names table {table} twice (an entity joined to itself, or joined twice): filter through a relation of an entity to itself with `.any(..)`/`.has(..)` instead"
                )
            });
        }
        self.tables.push(table.to_string());
        self.joins
            .push_str(if left { " LEFT JOIN " } else { " INNER JOIN " });
        self.joins.push_str(&target);
        self.joins.push_str(" ON ");
        self.joins.push_str(&on);
    }

    /// Join the entity `rel` leads to (`Task::OWNER`, `User::TASKS`,
    /// `Post::TAGS`): only rows that have a match, one row per match.
    /// Soft-deleted rows of the joined entity do not match.
    pub fn join<R, I>(mut self, rel: R) -> JoinVia<E, S, R, I>
    where
        R: JoinRelation,
        S: InScope<R::From, I>,
    {
        let (target, on) = rel.__join_target();
        self.add_join(false, &table_of::<R::To>(), target, on);
        self.widen()
    }

    /// Join the entity `rel` leads to, keeping rows without a match (its
    /// columns read as `None` there).
    pub fn left_join<R, I>(mut self, rel: R) -> JoinQuery<E, Joined<S, R::To, Nullable>>
    where
        R: JoinRelation,
        S: InScope<R::From, I>,
    {
        let (target, on) = rel.__join_target();
        self.add_join(true, &table_of::<R::To>(), target, on);
        self.widen()
    }

    fn join_on_with<X: Entity, Y: Entity>(&mut self, left: bool, on: On<X, Y>) {
        let x = table_of::<X>();
        let cond = format!(
            "{}({})",
            alive_in::<X>(&x),
            place_on(&on.sql, &x, &table_of::<Y>())
        );
        self.join_params.extend(on.params);
        self.add_join(left, &x.clone(), x, cond);
    }

    /// Join entity `X` on a condition between its columns and those of an
    /// entity already in the query (`Task::OWNER_ID.eq_col(User::ID)`), for
    /// what no declared relation says. Soft-deleted rows of `X` do not match.
    pub fn join_on<X: Entity, Y: Entity, I>(mut self, on: On<X, Y>) -> JoinOn<E, S, X, Y, I>
    where
        S: InScope<Y, I>,
    {
        self.join_on_with(false, on);
        self.widen()
    }

    /// [`join_on`](JoinQuery::join_on), keeping rows without a match.
    pub fn left_join_on<X: Entity, Y: Entity, I>(
        mut self,
        on: On<X, Y>,
    ) -> JoinQuery<E, Joined<S, X, Nullable>>
    where
        S: InScope<Y, I>,
    {
        self.join_on_with(true, on);
        self.widen()
    }

    /// Keep rows matching `cond`, a condition on any entity in the query
    /// (several calls are ANDed).
    pub fn filter<X: Entity, I>(mut self, cond: Cond<X>) -> Self
    where
        S: InScope<X, I>,
    {
        let (sql, params) = cond.into_parts();
        self.conds.push(place(&sql, &table_of::<X>()));
        self.cond_params.extend(params);
        self
    }

    /// Sort by a column of any entity in the query (several calls sort by
    /// each in turn).
    pub fn order_by<O: Ordering<S, I>, I>(mut self, order: O) -> Self {
        let (sql, params) = order.__order();
        self.order.push(sql);
        self.order_params.extend(params);
        self
    }

    /// Return at most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.find.limit = Some(n);
        self
    }

    /// Skip the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.find.offset = Some(n);
        self
    }
}

impl<E: Entity> Find<E> {
    /// Join the entity relation `rel` leads to: a [`JoinQuery`] over both (only
    /// rows with a match; one row per match). See [`JoinQuery::join`].
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::{Db, Entity};
    ///
    /// #[derive(Entity, Debug, Clone)]
    /// #[dal(table = "owners", has_many(pets = Pet::OWNER))]
    /// struct Owner {
    ///     #[dal(id)]
    ///     id: i64,
    ///     name: String,
    /// }
    ///
    /// #[derive(Entity, Debug, Clone)]
    /// #[dal(table = "pets")]
    /// struct Pet {
    ///     #[dal(id)]
    ///     id: i64,
    ///     #[dal(belongs_to = Owner)]
    ///     owner_id: i64,
    ///     name: String,
    ///     kg: i32,
    /// }
    ///
    /// let db = Db::connect_url("sqlite::memory:").await?;
    /// Owner::ensure_schema(&db).await?;
    /// Pet::ensure_schema(&db).await?;
    /// let mut ada = Owner { id: 0, name: "Ada".into() };
    /// ada.save(&db).await?;
    /// let mut bob = Owner { id: 0, name: "Bob".into() };
    /// bob.save(&db).await?;
    /// for (name, kg) in [("Rex", 30), ("Tom", 4)] {
    ///     Pet { id: 0, owner_id: ada.id, name: name.into(), kg }.save(&db).await?;
    /// }
    ///
    /// // each pet with its owner's name
    /// let rows: Vec<(String, String)> = Pet::find()
    ///     .join(Pet::OWNER)
    ///     .order_by(Pet::NAME.asc())
    ///     .select((Pet::NAME, Owner::NAME))
    ///     .all(&db)
    ///     .await?;
    /// assert_eq!(rows[0], ("Rex".to_string(), "Ada".to_string()));
    ///
    /// // every owner with the number and weight of their pets
    /// let report: Vec<(String, i64, Option<i64>)> = Owner::find()
    ///     .left_join(Owner::PETS)
    ///     .select((Owner::NAME, Pet::ID.count(), Pet::KG.sum()))
    ///     .group_by((Owner::ID, Owner::NAME))
    ///     .order_by(Owner::NAME.asc())
    ///     .all(&db)
    ///     .await?;
    /// assert_eq!(report, vec![("Ada".into(), 2, Some(34)), ("Bob".into(), 0, None)]);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn join<R, I>(self, rel: R) -> JoinVia<E, Root<E>, R, I>
    where
        R: JoinRelation,
        Root<E>: InScope<R::From, I>,
    {
        JoinQuery::from(self).join(rel)
    }

    /// Join the entity `rel` leads to, keeping rows without a match. See
    /// [`JoinQuery::left_join`].
    pub fn left_join<R, I>(self, rel: R) -> JoinQuery<E, Joined<Root<E>, R::To, Nullable>>
    where
        R: JoinRelation,
        Root<E>: InScope<R::From, I>,
    {
        JoinQuery::from(self).left_join(rel)
    }

    /// Join entity `X` on typed columns. See [`JoinQuery::join_on`].
    pub fn join_on<X: Entity>(self, on: On<X, E>) -> JoinQuery<E, Joined<Root<E>, X, NotNull>> {
        JoinQuery::from(self).join_on(on)
    }

    /// Join entity `X` on typed columns, keeping rows without a match. See
    /// [`JoinQuery::left_join_on`].
    pub fn left_join_on<X: Entity>(
        self,
        on: On<X, E>,
    ) -> JoinQuery<E, Joined<Root<E>, X, Nullable>> {
        JoinQuery::from(self).left_join_on(on)
    }
}
