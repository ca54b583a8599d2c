//! Reading and writing through a relation: lazy loads (`load`, with the
//! N+1 detector), `load_for` a set of rows, `of`, `save`/`link` of related
//! rows, and the builders of eager-loading trees (`with`, `filter`, ...).

use std::collections::HashMap;
use std::panic::Location;
use std::sync::Arc;

use super::eager::{
    Include, Kind, With, children_by_key, distinct, parents_by_key, take_aligned, through_pairs,
};
use super::filter::alive_in;
use super::handles::{BelongsTo, HasMany, HasOne, ManyToMany, key_hash, key_param};
use crate::entity::Entity;
use crate::entity::executor::Executor;
use crate::entity::hooks::Marks;
use crate::entity::query::{Cond, Find, Order};
use crate::entity::sql::MARK;
use crate::error::Result;

impl<C: Entity, P: Entity> BelongsTo<C, P> {
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
    /// The `R` linked to `left`, as a query to refine and run, each linked
    /// row once (however many join rows link it), in id order unless ordered
    /// otherwise. Join rows that are soft-deleted do not link. Counted by the
    /// N+1 detector when it runs.
    #[track_caller]
    pub fn of(self, left: &L) -> Find<R> {
        let id = left.id();
        let q = crate::entity::sql::quoted;
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
