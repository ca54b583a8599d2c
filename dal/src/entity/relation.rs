//! Relations between entities: declared on the structs, checked at compile
//! time, loaded eagerly (one query per level) or lazily (with an N+1
//! detector).
//!
//! A **belongs-to** is declared on the foreign-key field of the child; the
//! parent declares the **has-many** or **has-one** that reads it backwards,
//! and a **many-to-many** goes through a join entity holding two belongs-to:
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use dal::{Db, Entity};
//!
//! #[derive(Entity, Debug, Clone)]
//! #[dal(table = "users", has_many(tasks = Task::OWNER))]
//! struct User {
//!     #[dal(id)]
//!     id: i64,
//!     name: String,
//! }
//!
//! #[derive(Entity, Debug, Clone)]
//! #[dal(table = "tasks")]
//! struct Task {
//!     #[dal(id)]
//!     id: i64,
//!     #[dal(belongs_to = User, on_delete = "cascade")]   // handle Task::OWNER
//!     owner_id: i64,
//!     title: String,
//!     done: bool,
//! }
//!
//! let db = Db::connect_url("sqlite::memory:").await?;
//! User::ensure_schema(&db).await?;
//! Task::ensure_schema(&db).await?;          // with the foreign key and its index
//!
//! let mut ada = User { id: 0, name: "Ada".into() };
//! let mut tasks = vec![
//!     Task { id: 0, owner_id: 0, title: "write".into(), done: false },
//!     Task { id: 0, owner_id: 0, title: "ship".into(), done: true },
//! ];
//! User::TASKS.save(&mut ada, &mut tasks, &db).await?;   // one transaction
//!
//! // eager: one query for the users, one for all their tasks
//! let users = User::find().with(User::TASKS).all(&db).await?;
//! assert_eq!(users[0].related(User::TASKS)?.len(), 2);
//!
//! // lazy
//! let open = ada.tasks().filter(Task::DONE.eq(false)).all(&db).await?;
//! assert_eq!(open.len(), 1);
//! let owner = tasks[0].owner(&db).await?.unwrap();
//! assert_eq!(owner.name, "Ada");
//! # Ok::<(), dal::Error>(()) }).unwrap();
//! ```

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::panic::Location;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::executor::{Executor, Session};
use super::hooks::Marks;
use super::query::{Cond, Find, Order};
use super::sql::{MARK, Param, place};
use super::{Entity, EntityId};
use crate::codec::Encode;
use crate::error::{Error, Result};
use crate::transaction::BoxFuture;

mod sealed {
    pub trait Sealed {}
}

// ------------------------------------------------------------------ keys

/// A foreign-key field's type, for the primary key type `Id` it points at:
/// `Id` itself, or `Option<Id>` for an optional relation.
#[diagnostic::on_unimplemented(
    message = "the foreign key `{Self}` does not match the key `{Id}` of the entity it belongs to",
    label = "a belongs-to field must have the parent's primary key type (or an `Option` of it)",
    note = "change the field to `{Id}` (or `Option<{Id}>`), or point the relation at an entity whose key is `{Self}`"
)]
pub trait RelationKey<Id>: Send + Sync {
    /// The key held, if set.
    fn key(&self) -> Option<Id>;
    /// The field's value pointing at `id`.
    fn from_key(id: Id) -> Self;
}

impl<T: EntityId> RelationKey<T> for T {
    fn key(&self) -> Option<T> {
        (!self.is_unset()).then(|| self.clone())
    }
    fn from_key(id: T) -> Self {
        id
    }
}

impl<T: EntityId> RelationKey<T> for Option<T> {
    fn key(&self) -> Option<T> {
        self.as_ref().filter(|k| !k.is_unset()).cloned()
    }
    fn from_key(id: T) -> Self {
        Some(id)
    }
}

/// An entity a relation can point at.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an entity",
    label = "not an entity",
    note = "a relation points at an entity: derive it with `#[derive(dal::Entity)]` and give it a primary key (`#[dal(id)]`, or a field named `id`)"
)]
pub trait RelationTarget: Entity {}

impl<E: Entity> RelationTarget for E {}

/// The belongs-to a has-many, has-one or many-to-many reads backwards: a
/// belongs-to from `C` to `P`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a belongs-to of `{C}` pointing at `{P}`",
    label = "expected the handle of a `#[dal(belongs_to = {P})]` field of `{C}`",
    note = "a has-many, has-one or many-to-many reads a belongs-to backwards: name the handle (`{C}::NAME`) of the foreign-key field of `{C}` that holds the key of `{P}`, declared with `#[dal(belongs_to = {P})]`"
)]
pub trait InverseOf<P, C>: sealed::Sealed + Copy {}

impl<C: Entity, P: Entity> sealed::Sealed for BelongsTo<C, P> {}
impl<C: Entity, P: Entity> InverseOf<P, C> for BelongsTo<C, P> {}

fn key_param<K: Encode + Clone + 'static>(k: &K) -> Param {
    Arc::new(k.clone())
}

/// A stable hash of a key, for the N+1 detector.
fn key_hash<K: std::hash::Hash>(k: &K) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(k)
}

// ------------------------------------------------------------------ handles

/// A belongs-to relation: entity `C` holds the key of one `P` in a
/// foreign-key column. Generated by `#[dal(belongs_to = P)]` on the field, as
/// a constant named after the field without its `_id` (`owner_id` gives
/// `Task::OWNER`), or after `relation = "..."`.
pub struct BelongsTo<C: Entity, P: Entity> {
    name: &'static str,
    column: &'static str,
    get: fn(&C) -> Option<P::Id>,
    set: fn(&mut C, P::Id),
}

impl<C: Entity, P: Entity> Clone for BelongsTo<C, P> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<C: Entity, P: Entity> Copy for BelongsTo<C, P> {}

impl<C: Entity, P: Entity> std::fmt::Debug for BelongsTo<C, P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BelongsTo({}.{} -> {})",
            C::INFO.table,
            self.column,
            P::INFO.table
        )
    }
}

/// A has-many relation: many `C` hold the key of one `P`. Declared on `P`
/// with `#[dal(has_many(name = C::RELATION))]`, naming the belongs-to of `C`
/// it reads backwards.
pub struct HasMany<P: Entity, C: Entity> {
    name: &'static str,
    inverse: BelongsTo<C, P>,
}

/// A has-one relation: at most one `C` holds the key of a `P`. Declared on
/// `P` with `#[dal(has_one(name = C::RELATION))]`.
pub struct HasOne<P: Entity, C: Entity> {
    name: &'static str,
    inverse: BelongsTo<C, P>,
}

/// A many-to-many relation from `L` to `R` through the join entity `J`,
/// which belongs to both. Declared on `L` with
/// `#[dal(many_to_many(name = J::TO_R, through = J::TO_L))]`.
pub struct ManyToMany<L: Entity, R: Entity, J: Entity> {
    name: &'static str,
    left: BelongsTo<J, L>,
    right: BelongsTo<J, R>,
}

macro_rules! copy_debug {
    ($t:ident < $($g:ident),* >, $fmt:expr) => {
        impl<$($g: Entity),*> Clone for $t<$($g),*> {
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<$($g: Entity),*> Copy for $t<$($g),*> {}
        impl<$($g: Entity),*> std::fmt::Debug for $t<$($g),*> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                #[allow(clippy::redundant_closure_call)]
                ($fmt)(self, f)
            }
        }
    };
}

copy_debug!(HasMany<P, C>, |s: &HasMany<P, C>, f: &mut std::fmt::Formatter<'_>| write!(
    f,
    "HasMany({} -> {}.{})",
    P::INFO.table,
    C::INFO.table,
    s.inverse.column
));
copy_debug!(HasOne<P, C>, |s: &HasOne<P, C>, f: &mut std::fmt::Formatter<'_>| write!(
    f,
    "HasOne({} -> {}.{})",
    P::INFO.table,
    C::INFO.table,
    s.inverse.column
));
copy_debug!(ManyToMany<L, R, J>, |s: &ManyToMany<L, R, J>, f: &mut std::fmt::Formatter<'_>| write!(
    f,
    "ManyToMany({} -> {} through {}.{}/{})",
    L::INFO.table,
    R::INFO.table,
    J::INFO.table,
    s.left.column,
    s.right.column
));

/// Read `R` as the `BelongsTo<C2, P2>` the bound `InverseOf` guarantees it is.
const fn as_belongs_to<R: Copy, C2: Entity, P2: Entity>(r: R) -> BelongsTo<C2, P2> {
    assert!(std::mem::size_of::<R>() == std::mem::size_of::<BelongsTo<C2, P2>>());
    // SAFETY: callers require `R: InverseOf<P2, C2>`, a sealed trait
    // implemented for `BelongsTo<C2, P2>` only, so `R` is that very type.
    unsafe { std::mem::transmute_copy::<R, BelongsTo<C2, P2>>(&r) }
}

impl<C: Entity, P: Entity> BelongsTo<C, P> {
    /// Used by the derive.
    #[doc(hidden)]
    pub const fn __new(
        name: &'static str,
        column: &'static str,
        get: fn(&C) -> Option<P::Id>,
        set: fn(&mut C, P::Id),
    ) -> Self {
        BelongsTo {
            name,
            column,
            get,
            set,
        }
    }

    /// The relation's name (`owner`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The foreign-key column in `C`'s table.
    pub fn column(&self) -> &'static str {
        self.column
    }

    /// The key of the parent `child` points at (`None` when the field is
    /// unset or `NULL`).
    pub fn key_of(&self, child: &C) -> Option<P::Id> {
        (self.get)(child)
    }

    /// Point `child` at `parent` (sets the foreign-key field).
    pub fn set(&self, child: &mut C, parent: &P) {
        (self.set)(child, parent.id())
    }

    /// Load the parent of one child (soft-deleted parents are not returned).
    /// Counted by the N+1 detector.
    #[track_caller]
    pub fn load<'a, X: Executor<'a>>(
        self,
        child: &C,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Option<P>>> + Send + use<'a, X, C, P> {
        let key = self.key_of(child);
        let site = Location::caller();
        let session = ex.__into_session();
        async move {
            let Some(key) = key else { return Ok(None) };
            session
                .db
                .telemetry()
                .lazy_load(C::INFO.table, self.name, site, key_hash(&key));
            let mut session = session;
            let rows = Find::<P>::new()
                .fetch_in(
                    &mut session,
                    P::INFO.id_column,
                    std::slice::from_ref(&key),
                    false,
                )
                .await?;
            Ok(rows.into_iter().next())
        }
    }

    /// Load the parents of many children in one query per chunk of keys;
    /// the result is aligned with `children`.
    pub fn load_for<'a, X: Executor<'a>>(
        self,
        children: &[C],
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<Option<P>>>> + Send + use<'a, X, C, P>
    where
        P: Clone,
    {
        let keys: Vec<Option<P::Id>> = children.iter().map(|c| self.key_of(c)).collect();
        let mut session = ex.__into_session();
        async move {
            let parents = parents_by_key::<P>(&Find::new(), &mut session, &keys).await?;
            Ok(keys
                .iter()
                .map(|k| k.as_ref().and_then(|k| parents.get(k).cloned()))
                .collect())
        }
    }

    /// Eager loading of this relation with options (children's filter does
    /// not apply to a belongs-to; ordering neither): nested relations of the
    /// parent, soft-deleted parents.
    pub fn with<N: Include<P>>(self, nested: N) -> With<C, P> {
        With::new(Kind::Parent(self)).with(nested)
    }

    /// Eager loading that also returns soft-deleted parents.
    pub fn include_deleted(self) -> With<C, P> {
        With::new(Kind::Parent(self)).include_deleted()
    }
}

impl<P: Entity, C: Entity> HasMany<P, C> {
    /// Used by the derive. `inverse` must be the belongs-to of `C` that
    /// points at `P`.
    #[doc(hidden)]
    pub const fn __new<B: InverseOf<P, C>>(name: &'static str, inverse: B) -> Self {
        HasMany {
            name,
            inverse: as_belongs_to::<B, C, P>(inverse),
        }
    }

    /// The relation's name (`tasks`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The belongs-to this relation reads backwards.
    pub fn inverse(&self) -> BelongsTo<C, P> {
        self.inverse
    }

    /// The children of `parent`, as a query to refine and run
    /// (`user.tasks().filter(..).all(&db)`), in id order unless ordered
    /// otherwise (the id then breaks ties). Counted by the N+1 detector when
    /// it runs (`all`, `optional`, `one`, `count`, `stream`).
    #[track_caller]
    pub fn of(self, parent: &P) -> Find<C> {
        let id = parent.id();
        Find::<C>::new()
            .filter(Cond::raw_eq(self.inverse.column, key_param(&id)))
            .order_by_id()
            .lazy_origin(P::INFO.table, self.name, Location::caller(), key_hash(&id))
    }

    /// Load the children of many parents in one query per chunk of keys
    /// (not one per parent, and not counted by the N+1 detector); the result
    /// is aligned with `parents` (a parent listed twice gets its children
    /// twice), each parent's children in id order. Soft-deleted children are
    /// left out.
    pub fn load_for<'a, X: Executor<'a>>(
        self,
        parents: &[P],
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<Vec<C>>>> + Send + use<'a, X, C, P>
    where
        C: Clone,
    {
        let ids: Vec<P::Id> = parents.iter().map(|p| p.id()).collect();
        let mut session = ex.__into_session();
        async move {
            let mut groups =
                children_by_key::<P, C>(self.inverse, &Find::new(), &mut session, &ids).await?;
            Ok(take_aligned(&ids, &mut groups))
        }
    }

    /// Save `parent` and its new or changed `children` in one transaction
    /// (a savepoint inside the caller's): the parent first (filling its id),
    /// then every child pointed at it and saved with
    /// [`save_all`](Entity::save_all).
    ///
    /// All or nothing: when any of it fails, nothing is written, and the
    /// ids and versions of the parent and the children are put back as they
    /// were (so a retry inserts the new rows again), as are foreign keys
    /// that pointed at a parent before.
    pub fn save<'a, X: Executor<'a>>(
        self,
        parent: &'a mut P,
        children: &'a mut [C],
        ex: X,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a {
        let session = ex.__into_session();
        async move {
            let before = Marks::of(&*parent);
            let kids: Vec<(Marks<C>, Option<P::Id>)> = children
                .iter()
                .map(|c| (Marks::of(c), self.inverse.key_of(c)))
                .collect();
            let r = async {
                let mut tx = session.begin().await?;
                let r = async {
                    parent.save(&mut tx).await?;
                    for c in children.iter_mut() {
                        self.inverse.set(c, parent);
                    }
                    C::save_all(children, &mut tx).await
                }
                .await;
                match r {
                    Ok(()) => tx.commit_inner().await,
                    Err(e) => {
                        let _ = tx.rollback_inner().await;
                        Err(e)
                    }
                }
            }
            .await;
            if r.is_err() {
                before.restore(parent);
                for (c, (marks, key)) in children.iter_mut().zip(kids) {
                    marks.restore(c);
                    if let Some(k) = key {
                        (self.inverse.set)(c, k);
                    }
                }
            }
            r
        }
    }

    /// Eager loading with a filter on the children.
    pub fn filter(self, cond: Cond<C>) -> With<P, C> {
        With::new(Kind::Many(self)).filter(cond)
    }

    /// Eager loading with the children in this order.
    pub fn order_by(self, order: Order<C>) -> With<P, C> {
        With::new(Kind::Many(self)).order_by(order)
    }

    /// Eager loading that also returns soft-deleted children.
    pub fn include_deleted(self) -> With<P, C> {
        With::new(Kind::Many(self)).include_deleted()
    }

    /// Eager loading of this relation, then `nested` on each child.
    pub fn with<N: Include<C>>(self, nested: N) -> With<P, C> {
        With::new(Kind::Many(self)).with(nested)
    }
}

impl<P: Entity, C: Entity> HasOne<P, C> {
    /// Used by the derive. `inverse` must be the belongs-to of `C` that
    /// points at `P`.
    #[doc(hidden)]
    pub const fn __new<B: InverseOf<P, C>>(name: &'static str, inverse: B) -> Self {
        HasOne {
            name,
            inverse: as_belongs_to::<B, C, P>(inverse),
        }
    }

    /// The relation's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The belongs-to this relation reads backwards.
    pub fn inverse(&self) -> BelongsTo<C, P> {
        self.inverse
    }

    /// Load the child of one parent (the first by id if several hold its
    /// key). Counted by the N+1 detector.
    #[track_caller]
    pub fn load<'a, X: Executor<'a>>(
        self,
        parent: &P,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Option<C>>> + Send + use<'a, X, C, P> {
        let find = HasMany {
            name: self.name,
            inverse: self.inverse,
        }
        .of(parent);
        async move { find.order_by_id().optional(ex).await }
    }

    /// Load the child of many parents in one query per chunk of keys; the
    /// result is aligned with `parents` (the first child by id when several
    /// hold a parent's key).
    pub fn load_for<'a, X: Executor<'a>>(
        self,
        parents: &[P],
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<Option<C>>>> + Send + use<'a, X, C, P>
    where
        C: Clone,
    {
        let many = HasMany {
            name: self.name,
            inverse: self.inverse,
        }
        .load_for(parents, ex);
        async move {
            Ok(many
                .await?
                .into_iter()
                .map(|v| v.into_iter().next())
                .collect())
        }
    }

    /// Save `parent` and its `child` in one transaction (see
    /// [`HasMany::save`]).
    pub fn save<'a, X: Executor<'a>>(
        self,
        parent: &'a mut P,
        child: &'a mut C,
        ex: X,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a {
        HasMany {
            name: self.name,
            inverse: self.inverse,
        }
        .save(parent, std::slice::from_mut(child), ex)
    }

    /// Eager loading with a filter on the child.
    pub fn filter(self, cond: Cond<C>) -> With<P, C> {
        With::new(Kind::One(self)).filter(cond)
    }

    /// Eager loading that also returns a soft-deleted child.
    pub fn include_deleted(self) -> With<P, C> {
        With::new(Kind::One(self)).include_deleted()
    }

    /// Eager loading of this relation, then `nested` on the child.
    pub fn with<N: Include<C>>(self, nested: N) -> With<P, C> {
        With::new(Kind::One(self)).with(nested)
    }
}

impl<L: Entity, R: Entity, J: Entity> ManyToMany<L, R, J> {
    /// Used by the derive: `right` is the belongs-to of `J` pointing at `R`,
    /// `left` the one pointing at `L`.
    #[doc(hidden)]
    pub const fn __new<BR: InverseOf<R, J>, BL: InverseOf<L, J>>(
        name: &'static str,
        right: BR,
        left: BL,
    ) -> Self {
        ManyToMany {
            name,
            left: as_belongs_to::<BL, J, L>(left),
            right: as_belongs_to::<BR, J, R>(right),
        }
    }

    /// The relation's name (`tags`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The `R` linked to `left`, as a query to refine and run, each linked
    /// row once (however many join rows link it), in id order unless ordered
    /// otherwise. Join rows that are soft-deleted do not link. Counted by the
    /// N+1 detector when it runs.
    #[track_caller]
    pub fn of(self, left: &L) -> Find<R> {
        let id = left.id();
        let q = super::sql::quoted;
        let sub = format!(
            "{MARK}{} IN (SELECT {} FROM {} WHERE {}{} = ?)",
            q(R::INFO.id_column),
            q(self.right.column),
            q(J::INFO.table),
            alive_in::<J>(&q(J::INFO.table)),
            q(self.left.column),
        );
        Find::<R>::new()
            .filter(Cond::raw(sub, vec![key_param(&id)]))
            .order_by_id()
            .lazy_origin(L::INFO.table, self.name, Location::caller(), key_hash(&id))
    }

    /// Link `left` to `right`: point the join row `join` at both and save
    /// it (its other fields as you set them).
    pub fn link<'a, X: Executor<'a>>(
        self,
        left: &L,
        right: &R,
        join: &'a mut J,
        ex: X,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a {
        self.left.set(join, left);
        self.right.set(join, right);
        join.save(ex)
    }

    /// Load the `R` of many `L` in two queries (the join rows, then the
    /// linked rows; each per chunk of keys); aligned with `lefts`, each
    /// left's linked rows once and in id order, like [`of`](Self::of).
    pub fn load_for<'a, X: Executor<'a>>(
        self,
        lefts: &[L],
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<Vec<R>>>> + Send + use<'a, X, L, R, J>
    where
        R: Clone,
    {
        let ids: Vec<L::Id> = lefts.iter().map(|l| l.id()).collect();
        let mut session = ex.__into_session();
        async move {
            let pairs = through_pairs(self, &mut session, &ids, None).await?;
            let wanted = distinct(pairs.iter().map(|(_, r)| r.clone()));
            // in id order: a left's rows are ranked by their place here
            let found = Find::<R>::new()
                .fetch_in(&mut session, R::INFO.id_column, &wanted, true)
                .await?;
            let rank: HashMap<R::Id, usize> =
                found.iter().enumerate().map(|(i, r)| (r.id(), i)).collect();
            let mut groups: HashMap<L::Id, Vec<usize>> = HashMap::new();
            for (l, r) in pairs {
                if let Some(&i) = rank.get(&r) {
                    groups.entry(l).or_default().push(i);
                }
            }
            for g in groups.values_mut() {
                g.sort_unstable();
                g.dedup();
            }
            Ok(ids
                .iter()
                .map(|id| {
                    groups
                        .get(id)
                        .map(|g| g.iter().map(|&i| found[i].clone()).collect())
                        .unwrap_or_default()
                })
                .collect())
        }
    }

    /// Eager loading with a filter on the linked rows.
    pub fn filter(self, cond: Cond<R>) -> With<L, R> {
        With::new(Kind::Through(Arc::new(self))).filter(cond)
    }

    /// Eager loading with the linked rows in this order.
    pub fn order_by(self, order: Order<R>) -> With<L, R> {
        With::new(Kind::Through(Arc::new(self))).order_by(order)
    }

    /// Eager loading that also returns soft-deleted linked rows.
    pub fn include_deleted(self) -> With<L, R> {
        With::new(Kind::Through(Arc::new(self))).include_deleted()
    }

    /// Eager loading of this relation, then `nested` on each linked row.
    pub fn with<N: Include<R>>(self, nested: N) -> With<L, R> {
        With::new(Kind::Through(Arc::new(self))).with(nested)
    }
}

// ------------------------------------------------------------------ filters through relations

impl<C: Entity, P: Entity> BelongsTo<C, P> {
    /// The foreign-key column on `C`.
    pub(super) fn key_column(self) -> &'static str {
        self.column
    }
}

impl<P: Entity, C: Entity> HasMany<P, C> {
    /// The belongs-to relation it is the inverse of.
    pub(super) fn inverse_of(self) -> BelongsTo<C, P> {
        self.inverse
    }
}

impl<P: Entity, C: Entity> HasOne<P, C> {
    /// The belongs-to relation it is the inverse of.
    pub(super) fn inverse_of(self) -> BelongsTo<C, P> {
        self.inverse
    }
}

impl<L: Entity, R: Entity, J: Entity> ManyToMany<L, R, J> {
    /// The join entity's relations to the left and right entities.
    pub(super) fn sides(self) -> (BelongsTo<J, L>, BelongsTo<J, R>) {
        (self.left, self.right)
    }
}

/// `[alias].[deleted_at] IS NULL AND ` when `E` has soft deletes.
pub(super) fn alive_in<E: Entity>(alias: &str) -> String {
    match E::INFO.column(dal_schema::entity::ColumnRole::DeletedAt) {
        Some(c) => format!("{alias}.{} IS NULL AND ", super::sql::quoted(c.name)),
        None => String::new(),
    }
}

/// How the subquery names its table: `(from, alias)`. Always by an alias,
/// one the condition nested in it (`inner`) does not use, so that a
/// relation of an entity to itself, nested any number of times, still tells
/// each level's rows apart.
pub(super) fn sub_name(table: &'static str, inner: &str) -> (String, String) {
    let q = super::sql::quoted;
    let alias = fresh_alias("dal_s", inner);
    (format!("{} {alias}", q(table)), alias)
}

/// `[{stem}{n}]` for the smallest `n` that `sql` does not contain.
pub(super) fn fresh_alias(stem: &str, sql: &str) -> String {
    (1..)
        .map(|n| format!("[{stem}{n}]"))
        .find(|a| !sql.contains(a.as_str()))
        .expect("some alias is free")
}

/// `EXISTS (SELECT 1 FROM child WHERE child.fk = parent.id AND ..)`, or
/// its negation.
fn exists_children<P: Entity, C: Entity>(
    inverse: BelongsTo<C, P>,
    cond: Option<Cond<C>>,
    negate: bool,
) -> Cond<P> {
    let q = super::sql::quoted;
    let given = cond.is_some();
    let (sql, params) = cond.map(Cond::into_parts).unwrap_or_default();
    let (from, alias) = sub_name(C::INFO.table, &sql);
    let extra = if given {
        format!(" AND ({})", place(&sql, &alias))
    } else {
        String::new()
    };
    Cond::raw(
        format!(
            "{}EXISTS (SELECT 1 FROM {from} WHERE {}{alias}.{} = {MARK}{}{extra})",
            if negate { "NOT " } else { "" },
            alive_in::<C>(&alias),
            q(inverse.column),
            q(P::INFO.id_column),
        ),
        params,
    )
}

impl<P: Entity, C: Entity> HasMany<P, C> {
    /// A filter on the parents: at least one of its (not soft-deleted)
    /// children matches `cond`, as an `EXISTS` subquery
    /// (`User::find().filter(User::TASKS.any(Task::DONE.eq(false)))`).
    pub fn any(self, cond: Cond<C>) -> Cond<P> {
        exists_children(self.inverse, Some(cond), false)
    }

    /// A filter on the parents: none of its children matches `cond`.
    pub fn none(self, cond: Cond<C>) -> Cond<P> {
        exists_children(self.inverse, Some(cond), true)
    }

    /// A filter on the parents: it has at least one child.
    pub fn exists(self) -> Cond<P> {
        exists_children(self.inverse, None, false)
    }

    /// A filter on the parents: it has no children.
    pub fn is_empty(self) -> Cond<P> {
        exists_children(self.inverse, None, true)
    }
}

impl<P: Entity, C: Entity> HasOne<P, C> {
    /// A filter on the parents: its child exists and matches `cond`.
    pub fn has(self, cond: Cond<C>) -> Cond<P> {
        exists_children(self.inverse, Some(cond), false)
    }

    /// A filter on the parents: it has a child.
    pub fn exists(self) -> Cond<P> {
        exists_children(self.inverse, None, false)
    }
}

impl<C: Entity, P: Entity> BelongsTo<C, P> {
    /// A filter on the children: the (not soft-deleted) parent it points at
    /// matches `cond` (`Task::find().filter(Task::OWNER.has(User::NAME.eq("Ada")))`).
    pub fn has(self, cond: Cond<P>) -> Cond<C> {
        let q = super::sql::quoted;
        let (sql, params) = cond.into_parts();
        let (from, alias) = sub_name(P::INFO.table, &sql);
        Cond::raw(
            format!(
                "EXISTS (SELECT 1 FROM {from} WHERE {}{alias}.{} = {MARK}{} AND ({}))",
                alive_in::<P>(&alias),
                q(P::INFO.id_column),
                q(self.column),
                place(&sql, &alias),
            ),
            params,
        )
    }
}

impl<L: Entity, R: Entity, J: Entity> ManyToMany<L, R, J> {
    /// A filter on the left rows: at least one linked (not soft-deleted) row
    /// matches `cond` (`Post::find().filter(Post::TAGS.any(Tag::LABEL.eq("rust")))`).
    pub fn any(self, cond: Cond<R>) -> Cond<L> {
        self.linked(Some(cond), false)
    }

    /// A filter on the left rows: no linked row matches `cond`.
    pub fn none(self, cond: Cond<R>) -> Cond<L> {
        self.linked(Some(cond), true)
    }

    /// A filter on the left rows: at least one row is linked.
    pub fn exists(self) -> Cond<L> {
        self.linked(None, false)
    }

    fn linked(self, cond: Option<Cond<R>>, negate: bool) -> Cond<L> {
        let q = super::sql::quoted;
        let given = cond.is_some();
        let (sql, params) = cond.map(Cond::into_parts).unwrap_or_default();
        let (from, alias) = sub_name(R::INFO.table, &sql);
        let extra = if given {
            format!(" AND ({})", place(&sql, &alias))
        } else {
            String::new()
        };
        let j = fresh_alias("dal_j", &sql);
        Cond::raw(
            format!(
                "{}EXISTS (SELECT 1 FROM {} {j} WHERE {}{j}.{} = {MARK}{} AND {j}.{} IN (SELECT {alias}.{} FROM {from} WHERE {}1 = 1{extra}))",
                if negate { "NOT " } else { "" },
                q(J::INFO.table),
                alive_in::<J>(&j),
                q(self.left.column),
                q(L::INFO.id_column),
                q(self.right.column),
                q(R::INFO.id_column),
                alive_in::<R>(&alias),
            ),
            params,
        )
    }
}

// ------------------------------------------------------------------ loading

/// The `(left, right)` key pairs of a many-to-many for `ids`, in the join
/// table's id order.
async fn through_pairs<L: Entity, R: Entity, J: Entity>(
    rel: ManyToMany<L, R, J>,
    session: &mut Session<'_>,
    ids: &[L::Id],
    as_of: Option<DateTime<Utc>>,
) -> Result<Vec<(L::Id, R::Id)>> {
    let keys = distinct(ids.iter().cloned());
    let joins = at_instant(&Find::<J>::new(), as_of)
        .fetch_in(session, rel.left.column, &keys, false)
        .await?;
    Ok(joins
        .iter()
        .filter_map(|j| Some((rel.left.key_of(j)?, rel.right.key_of(j)?)))
        .collect())
}

/// `find` as of `as_of` when its entity keeps history and the query did not
/// choose an instant of its own.
fn at_instant<E: Entity>(find: &Find<E>, as_of: Option<DateTime<Utc>>) -> Cow<'_, Find<E>> {
    match as_of {
        Some(at) if E::INFO.history && find.as_of_instant().is_none() => {
            Cow::Owned(find.clone().as_of(at))
        }
        _ => Cow::Borrowed(find),
    }
}

/// Each distinct key once, in first-seen order.
fn distinct<K: Eq + std::hash::Hash + Clone>(keys: impl Iterator<Item = K>) -> Vec<K> {
    let mut seen = std::collections::HashSet::with_capacity(keys.size_hint().0);
    keys.filter(|k| seen.insert(k.clone())).collect()
}

/// Rows of `P` by key (one query per chunk of distinct keys).
async fn parents_by_key<P: Entity>(
    find: &Find<P>,
    session: &mut Session<'_>,
    keys: &[Option<P::Id>],
) -> Result<HashMap<P::Id, P>> {
    let wanted = distinct(keys.iter().flatten().cloned());
    let rows = find
        .fetch_in(session, P::INFO.id_column, &wanted, false)
        .await?;
    Ok(rows.into_iter().map(|p| (p.id(), p)).collect())
}

/// The groups of `ids` in their order: moved out for a key's last
/// occurrence, cloned for the earlier ones.
fn take_aligned<K: Eq + std::hash::Hash, C: Clone>(
    ids: &[K],
    groups: &mut HashMap<K, Vec<C>>,
) -> Vec<Vec<C>> {
    let mut left: HashMap<&K, usize> = HashMap::with_capacity(ids.len());
    for id in ids {
        *left.entry(id).or_default() += 1;
    }
    ids.iter()
        .map(|id| {
            let n = left.get_mut(id).expect("counted above");
            *n -= 1;
            if *n > 0 {
                groups.get(id).cloned().unwrap_or_default()
            } else {
                groups.remove(id).unwrap_or_default()
            }
        })
        .collect()
}

/// Children of `C` grouped by the parent key they hold.
async fn children_by_key<P: Entity, C: Entity>(
    inverse: BelongsTo<C, P>,
    find: &Find<C>,
    session: &mut Session<'_>,
    ids: &[P::Id],
) -> Result<HashMap<P::Id, Vec<C>>> {
    let keys = distinct(ids.iter().cloned());
    let ordered = find.has_order();
    let mut rows = find
        .fetch_in(session, inverse.column, &keys, ordered)
        .await?;
    if !ordered {
        rows.sort_unstable_by_key(|c| c.id());
    }
    let mut groups: HashMap<P::Id, Vec<C>> = HashMap::new();
    for c in rows {
        if let Some(k) = inverse.key_of(&c) {
            groups.entry(k).or_default().push(c);
        }
    }
    Ok(groups)
}

/// A relation, with options, to load eagerly for rows of `P`: what
/// [`Find::with`](super::Find::with) takes. Implemented by the relation
/// handles themselves and by [`With`].
pub trait Include<P: Entity>: Send + Sync + 'static {
    /// Turn into a loader. Not meant to be called directly.
    #[doc(hidden)]
    fn __loader(self) -> Box<dyn Loader<P>>;
}

/// Loads one relation for a slice of rows. Hidden plumbing of [`Include`].
#[doc(hidden)]
pub trait Loader<P: Entity>: Send + Sync {
    /// Load the relation into `rows` (as of an instant, for a time-travel
    /// query).
    fn load<'s, 'a: 's>(
        &'s self,
        rows: &'s mut [Loaded<P>],
        session: &'s mut Session<'a>,
        as_of: Option<DateTime<Utc>>,
    ) -> BoxFuture<'s, Result<()>>;
}

/// The (left key, right key) pairs of a many-to-many's join rows.
type Pairs<L, R> = Vec<(<L as Entity>::Id, <R as Entity>::Id)>;

/// A type-erased many-to-many, for [`With`].
trait Through<L: Entity, R: Entity>: Send + Sync {
    fn name(&self) -> &'static str;
    fn pairs<'s, 'a: 's>(
        &'s self,
        session: &'s mut Session<'a>,
        ids: &'s [L::Id],
        as_of: Option<DateTime<Utc>>,
    ) -> BoxFuture<'s, Result<Pairs<L, R>>>;
}

impl<L: Entity, R: Entity, J: Entity> Through<L, R> for ManyToMany<L, R, J> {
    fn name(&self) -> &'static str {
        self.name
    }
    fn pairs<'s, 'a: 's>(
        &'s self,
        session: &'s mut Session<'a>,
        ids: &'s [L::Id],
        as_of: Option<DateTime<Utc>>,
    ) -> BoxFuture<'s, Result<Pairs<L, R>>> {
        Box::pin(through_pairs(*self, session, ids, as_of))
    }
}

enum Kind<P: Entity, C: Entity> {
    Many(HasMany<P, C>),
    One(HasOne<P, C>),
    /// `P` belongs to `C` (the loaded rows are the children).
    Parent(BelongsTo<P, C>),
    Through(Arc<dyn Through<P, C>>),
}

impl<P: Entity, C: Entity> Kind<P, C> {
    fn name(&self) -> &'static str {
        match self {
            Kind::Many(r) => r.name,
            Kind::One(r) => r.name,
            Kind::Parent(r) => r.name,
            Kind::Through(r) => r.name(),
        }
    }
}

/// An eager load with options: a relation from `P` to `C`, a filter and an
/// order on the `C` rows, soft-deleted rows or not, and relations to load on
/// them in turn. Built from a relation handle:
/// `User::TASKS.filter(Task::DONE.eq(false)).order_by(Task::ID.desc()).with(Task::TAGS)`.
pub struct With<P: Entity, C: Entity> {
    kind: Kind<P, C>,
    find: Find<C>,
    nested: Vec<Box<dyn Loader<C>>>,
}

impl<P: Entity, C: Entity> std::fmt::Debug for With<P, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("With")
            .field("relation", &self.kind.name())
            .field("find", &self.find)
            .field("nested", &self.nested.len())
            .finish()
    }
}

impl<P: Entity, C: Entity> With<P, C> {
    fn new(kind: Kind<P, C>) -> Self {
        With {
            kind,
            find: Find::new(),
            nested: Vec::new(),
        }
    }

    /// Only the related rows matching `cond`.
    pub fn filter(mut self, cond: Cond<C>) -> Self {
        self.find = self.find.filter(cond);
        self
    }

    /// The related rows of each row in this order (then by id).
    pub fn order_by(mut self, order: Order<C>) -> Self {
        self.find = self.find.order_by(order);
        self
    }

    /// Soft-deleted related rows too.
    pub fn include_deleted(mut self) -> Self {
        self.find = self.find.include_deleted();
        self
    }

    /// Load `nested` on the related rows (one more query per level).
    pub fn with<N: Include<C>>(mut self, nested: N) -> Self {
        self.nested.push(nested.__loader());
        self
    }
}

impl<P: Entity, C: Entity> Include<P> for With<P, C> {
    fn __loader(self) -> Box<dyn Loader<P>> {
        Box::new(self)
    }
}

impl<P: Entity, C: Entity> Include<P> for HasMany<P, C> {
    fn __loader(self) -> Box<dyn Loader<P>> {
        Box::new(With::new(Kind::Many(self)))
    }
}

impl<P: Entity, C: Entity> Include<P> for HasOne<P, C> {
    fn __loader(self) -> Box<dyn Loader<P>> {
        Box::new(With::new(Kind::One(self)))
    }
}

impl<C: Entity, P: Entity> Include<C> for BelongsTo<C, P> {
    fn __loader(self) -> Box<dyn Loader<C>> {
        Box::new(With::new(Kind::Parent(self)))
    }
}

impl<L: Entity, R: Entity, J: Entity> Include<L> for ManyToMany<L, R, J> {
    fn __loader(self) -> Box<dyn Loader<L>> {
        Box::new(With::new(Kind::Through(Arc::new(self))))
    }
}

/// What a loaded relation holds in a [`Loaded`] row.
enum Slot<C: Entity> {
    Many(Vec<Loaded<C>>),
    One(Option<Loaded<C>>),
}

impl<P: Entity, C: Entity> Loader<P> for With<P, C> {
    fn load<'s, 'a: 's>(
        &'s self,
        rows: &'s mut [Loaded<P>],
        session: &'s mut Session<'a>,
        as_of: Option<DateTime<Utc>>,
    ) -> BoxFuture<'s, Result<()>> {
        Box::pin(async move {
            let name = self.kind.name();
            let find = at_instant(&self.find, as_of);
            let find: &Find<C> = &find;
            let load_nested = |mut children: Vec<Loaded<C>>, session: &'s mut Session<'a>| async move {
                for n in &self.nested {
                    n.load(&mut children, session, as_of).await?;
                }
                Ok::<_, Error>(children)
            };
            match &self.kind {
                Kind::Many(_) | Kind::One(_) => {
                    let inverse = match &self.kind {
                        Kind::Many(r) => r.inverse,
                        Kind::One(r) => r.inverse,
                        _ => unreachable!("matched above"),
                    };
                    let keys = distinct(rows.iter().map(|r| r.entity.id()));
                    // without an order of the caller's, each parent's children
                    // are put in id order here: no sort on the server
                    let ordered = find.has_order();
                    let mut found = find
                        .fetch_in(session, inverse.column, &keys, ordered)
                        .await?;
                    if !ordered {
                        found.sort_unstable_by_key(|c| c.id());
                    }
                    let children =
                        load_nested(found.into_iter().map(Loaded::new).collect(), session).await?;
                    // one entry per parent at most: no rehashing while grouping
                    let mut groups: HashMap<P::Id, Vec<Loaded<C>>> =
                        HashMap::with_capacity(rows.len());
                    for c in children {
                        if let Some(k) = inverse.key_of(&c.entity) {
                            groups.entry(k).or_default().push(c);
                        }
                    }
                    let one = matches!(self.kind, Kind::One(_));
                    for row in rows.iter_mut() {
                        let mine = groups.remove(&row.entity.id()).unwrap_or_default();
                        let slot = if one {
                            Slot::One(mine.into_iter().next())
                        } else {
                            Slot::Many(mine)
                        };
                        row.put(name, slot);
                    }
                }
                Kind::Parent(rel) => {
                    let keys: Vec<Option<C::Id>> =
                        rows.iter().map(|r| rel.key_of(&r.entity)).collect();
                    let wanted = distinct(keys.iter().flatten().cloned());
                    let found = find
                        .fetch_in(session, C::INFO.id_column, &wanted, false)
                        .await?;
                    let parents =
                        load_nested(found.into_iter().map(Loaded::new).collect(), session).await?;
                    let parents: HashMap<C::Id, Loaded<C>> =
                        parents.into_iter().map(|p| (p.entity.id(), p)).collect();
                    for (row, key) in rows.iter_mut().zip(keys) {
                        let parent = key.and_then(|k| parents.get(&k).map(Loaded::share));
                        row.put(name, Slot::One(parent));
                    }
                }
                Kind::Through(rel) => {
                    let ids: Vec<P::Id> = rows.iter().map(|r| r.entity.id()).collect();
                    let pairs = rel.pairs(session, &ids, as_of).await?;
                    let wanted = distinct(pairs.iter().map(|(_, r)| r.clone()));
                    let found = find
                        .fetch_in(session, C::INFO.id_column, &wanted, true)
                        .await?;
                    let found =
                        load_nested(found.into_iter().map(Loaded::new).collect(), session).await?;
                    // the linked rows in the query's order, each left row's in that order too
                    let rank: HashMap<C::Id, usize> = found
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.entity.id(), i))
                        .collect();
                    let mut groups: HashMap<P::Id, Vec<usize>> = HashMap::new();
                    for (l, r) in pairs {
                        if let Some(&i) = rank.get(&r) {
                            groups.entry(l).or_default().push(i);
                        }
                    }
                    for row in rows.iter_mut() {
                        let mut mine = groups.remove(&row.entity.id()).unwrap_or_default();
                        mine.sort_unstable();
                        mine.dedup();
                        let linked = mine.into_iter().map(|i| found[i].share()).collect();
                        row.put(name, Slot::Many(linked));
                    }
                }
            }
            Ok(())
        })
    }
}

// ------------------------------------------------------------------ Loaded

/// A row with the relations loaded for it by
/// [`Find::with`](super::Find::with). Dereferences to the entity; read a
/// loaded relation with [`related`](Loaded::related).
pub struct Loaded<E: Entity> {
    entity: Arc<E>,
    related: Vec<(&'static str, Arc<dyn Any + Send + Sync>)>,
}

impl<E: Entity + std::fmt::Debug> std::fmt::Debug for Loaded<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("entity", &self.entity)
            .field(
                "related",
                &self.related.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<E: Entity> std::ops::Deref for Loaded<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.entity
    }
}

impl<E: Entity> Loaded<E> {
    /// A row with nothing loaded yet.
    pub fn new(entity: E) -> Self {
        Loaded {
            entity: Arc::new(entity),
            related: Vec::new(),
        }
    }

    /// Another handle to the same row (rows shared by several parents, as a
    /// belongs-to's parent or a many-to-many's linked row, are loaded once).
    fn share(&self) -> Self {
        Loaded {
            entity: self.entity.clone(),
            related: self.related.clone(),
        }
    }

    fn put<C: Entity>(&mut self, name: &'static str, slot: Slot<C>) {
        let value: Arc<dyn Any + Send + Sync> = Arc::new(slot);
        match self.related.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.related.push((name, value)),
        }
    }

    fn slot<C: Entity>(&self, name: &'static str) -> Result<&Slot<C>> {
        self.related
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.downcast_ref::<Slot<C>>())
            .ok_or_else(|| {
                Error::invalid_input(
                    name,
                    format!(
                        "the relation `{name}` of `{}` was not loaded: add `.with(..)` for it to the query",
                        E::INFO.table
                    ),
                )
            })
    }

    /// A loaded relation: a slice for a has-many or many-to-many, an
    /// `Option` for a belongs-to or has-one. Fails with
    /// [`Error::InvalidInput`] naming the relation when the query did not
    /// load it.
    pub fn related<'s, R: Related<E>>(&'s self, relation: R) -> Result<R::Output<'s>> {
        relation.__read(self)
    }

    /// Whether `relation` was loaded for this row.
    pub fn is_loaded<R: Related<E>>(&self, relation: R) -> bool {
        relation.__read(self).is_ok()
    }

    /// The entity (a clone when other rows share it).
    pub fn into_inner(self) -> E
    where
        E: Clone,
    {
        Arc::try_unwrap(self.entity).unwrap_or_else(|shared| (*shared).clone())
    }
}

/// A relation whose loaded rows a [`Loaded`] row hands out.
pub trait Related<E: Entity>: Copy {
    /// What [`Loaded::related`] returns.
    type Output<'s>;
    /// Read it. Not meant to be called directly.
    #[doc(hidden)]
    fn __read(self, row: &Loaded<E>) -> Result<Self::Output<'_>>;
}

fn many<'s, E: Entity, C: Entity>(
    row: &'s Loaded<E>,
    name: &'static str,
) -> Result<&'s [Loaded<C>]> {
    match row.slot::<C>(name)? {
        Slot::Many(v) => Ok(v),
        Slot::One(o) => Ok(o.as_slice()),
    }
}

fn one<'s, E: Entity, C: Entity>(
    row: &'s Loaded<E>,
    name: &'static str,
) -> Result<Option<&'s Loaded<C>>> {
    match row.slot::<C>(name)? {
        Slot::One(o) => Ok(o.as_ref()),
        Slot::Many(v) => Ok(v.first()),
    }
}

impl<P: Entity, C: Entity> Related<P> for HasMany<P, C> {
    type Output<'s> = &'s [Loaded<C>];
    fn __read(self, row: &Loaded<P>) -> Result<&[Loaded<C>]> {
        many(row, self.name)
    }
}

impl<L: Entity, R: Entity, J: Entity> Related<L> for ManyToMany<L, R, J> {
    type Output<'s> = &'s [Loaded<R>];
    fn __read(self, row: &Loaded<L>) -> Result<&[Loaded<R>]> {
        many(row, self.name)
    }
}

impl<P: Entity, C: Entity> Related<P> for HasOne<P, C> {
    type Output<'s> = Option<&'s Loaded<C>>;
    fn __read(self, row: &Loaded<P>) -> Result<Option<&Loaded<C>>> {
        one(row, self.name)
    }
}

impl<C: Entity, P: Entity> Related<C> for BelongsTo<C, P> {
    type Output<'s> = Option<&'s Loaded<P>>;
    fn __read(self, row: &Loaded<C>) -> Result<Option<&Loaded<P>>> {
        one(row, self.name)
    }
}

// ------------------------------------------------------------------ FindWith

/// A query with relations to load eagerly: `User::find().with(User::TASKS)`.
/// Runs the query, then one query per relation and level (the keys bound as
/// one array on PostgreSQL, elsewhere IN-lists chunked at the dialect's bind
/// limit), never one per row.
pub struct FindWith<E: Entity> {
    find: Find<E>,
    loaders: Vec<Box<dyn Loader<E>>>,
}

impl<E: Entity> std::fmt::Debug for FindWith<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FindWith")
            .field("find", &self.find)
            .field("relations", &self.loaders.len())
            .finish()
    }
}

impl<E: Entity> Find<E> {
    /// Load `relation` (a handle like `User::TASKS`, or one with options:
    /// `User::TASKS.filter(..).with(Task::TAGS)`) for every row the query
    /// returns.
    pub fn with<R: Include<E>>(self, relation: R) -> FindWith<E> {
        FindWith {
            find: self,
            loaders: vec![relation.__loader()],
        }
    }
}

impl<E: Entity> FindWith<E> {
    /// Load one more relation.
    pub fn with<R: Include<E>>(mut self, relation: R) -> Self {
        self.loaders.push(relation.__loader());
        self
    }

    async fn run(self, session: &mut Session<'_>, rows: Vec<E>) -> Result<Vec<Loaded<E>>> {
        let mut rows: Vec<Loaded<E>> = rows.into_iter().map(Loaded::new).collect();
        if rows.is_empty() {
            return Ok(rows);
        }
        let as_of = self.find.as_of_instant();
        for l in &self.loaders {
            l.load(&mut rows, session, as_of).await?;
        }
        Ok(rows)
    }

    /// Every matching row, with its relations.
    pub fn all<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<Loaded<E>>>> + Send + 'a
    where
        Self: 'a,
    {
        let mut session = ex.__into_session();
        async move {
            let rows = self.find.clone().select_on(&mut session).await?;
            self.run(&mut session, rows).await
        }
    }

    /// The first matching row, if any, with its relations.
    pub fn optional<'a, X: Executor<'a>>(
        mut self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Option<Loaded<E>>>> + Send + 'a
    where
        Self: 'a,
    {
        self.find = self.find.limit(1);
        let all = self.all(ex);
        async move { Ok(all.await?.into_iter().next()) }
    }

    /// The first matching row with its relations; [`Error::NotFound`] when
    /// there is none.
    pub fn one<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Loaded<E>>> + Send + 'a
    where
        Self: 'a,
    {
        let first = self.optional(ex);
        async move {
            first.await?.ok_or_else(|| {
                Error::NotFound(format!("no `{}` row matches the query", E::INFO.table))
            })
        }
    }
}
