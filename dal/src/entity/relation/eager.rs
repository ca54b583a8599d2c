//! Eager loading: [`Include`]/[`With`] trees loaded one query per level,
//! the [`Loaded`] rows that carry them, and [`Related`] access to what was loaded.

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::handles::{BelongsTo, HasMany, HasOne, ManyToMany};
use crate::entity::Entity;
use crate::entity::executor::Session;
use crate::entity::query::{Cond, Find, Order};
use crate::error::{Error, Result};
use crate::transaction::BoxFuture;

// ------------------------------------------------------------------ loading

/// The `(left, right)` key pairs of a many-to-many for `ids`, in the join
/// table's id order.
pub(super) async fn through_pairs<L: Entity, R: Entity, J: Entity>(
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
pub(super) fn at_instant<E: Entity>(
    find: &Find<E>,
    as_of: Option<DateTime<Utc>>,
) -> Cow<'_, Find<E>> {
    match as_of {
        Some(at) if E::INFO.history && find.as_of_instant().is_none() => {
            Cow::Owned(find.clone().as_of(at))
        }
        _ => Cow::Borrowed(find),
    }
}

/// Each distinct key once, in first-seen order.
pub(super) fn distinct<K: Eq + std::hash::Hash + Clone>(keys: impl Iterator<Item = K>) -> Vec<K> {
    let mut seen = std::collections::HashSet::with_capacity(keys.size_hint().0);
    keys.filter(|k| seen.insert(k.clone())).collect()
}

/// Rows of `P` by key (one query per chunk of distinct keys).
pub(super) async fn parents_by_key<P: Entity>(
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
pub(super) fn take_aligned<K: Eq + std::hash::Hash, C: Clone>(
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

/// `items` put into `lists` lists (`owners[k]` is the index of item `k`'s
/// list, `None`: dropped), each allocated once, at its size.
fn distribute<T>(
    items: impl Iterator<Item = T>,
    owners: Vec<Option<usize>>,
    lists: usize,
) -> Vec<Vec<T>> {
    let mut counts = vec![0usize; lists];
    for i in owners.iter().flatten() {
        counts[*i] += 1;
    }
    let mut groups: Vec<Vec<T>> = counts.into_iter().map(Vec::with_capacity).collect();
    for (item, owner) in items.zip(owners) {
        if let Some(i) = owner {
            groups[i].push(item);
        }
    }
    groups
}

/// Children of `C` grouped by the parent key they hold.
pub(super) async fn children_by_key<P: Entity, C: Entity>(
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
/// [`Find::with`](crate::entity::Find::with) takes. Implemented by the relation
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
pub(super) type Pairs<L, R> = Vec<(<L as Entity>::Id, <R as Entity>::Id)>;

/// A type-erased many-to-many, for [`With`].
pub(super) trait Through<L: Entity, R: Entity>: Send + Sync {
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

pub(super) enum Kind<P: Entity, C: Entity> {
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
    pub(super) kind: Kind<P, C>,
    pub(super) find: Find<C>,
    pub(super) nested: Vec<Box<dyn Loader<C>>>,
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
    pub(super) fn new(kind: Kind<P, C>) -> Self {
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
pub(super) enum Slot<C: Entity> {
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
                    // each child goes to the first row of its parent: counted
                    // first, so every parent's list is allocated once, at its size
                    let mut position: HashMap<P::Id, usize> = HashMap::with_capacity(rows.len());
                    for (i, row) in rows.iter().enumerate() {
                        position.entry(row.entity.id()).or_insert(i);
                    }
                    let owner = |c: &C| inverse.key_of(c).and_then(|k| position.get(&k).copied());
                    let groups: Vec<Vec<Loaded<C>>> = if self.nested.is_empty() {
                        // nothing loads on the children: each goes from the
                        // fetched rows straight into its parent's list
                        let owners: Vec<_> = found.iter().map(owner).collect();
                        distribute(found.into_iter().map(Loaded::new), owners, rows.len())
                    } else {
                        let children =
                            load_nested(found.into_iter().map(Loaded::new).collect(), session)
                                .await?;
                        let owners: Vec<_> = children.iter().map(|c| owner(&c.entity)).collect();
                        distribute(children.into_iter(), owners, rows.len())
                    };
                    let one = matches!(self.kind, Kind::One(_));
                    for (row, mine) in rows.iter_mut().zip(groups) {
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
                    let parents: HashMap<C::Id, Shared<C>> = parents
                        .into_iter()
                        .map(|p| (p.entity.id(), p.into_shared()))
                        .collect();
                    for (row, key) in rows.iter_mut().zip(keys) {
                        let parent = key.and_then(|k| parents.get(&k).map(Shared::handle));
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
                    let found: Vec<Shared<C>> =
                        load_nested(found.into_iter().map(Loaded::new).collect(), session)
                            .await?
                            .into_iter()
                            .map(Loaded::into_shared)
                            .collect();
                    // the linked rows in the query's order, each left row's in that order too
                    let rank: HashMap<C::Id, usize> = found
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.entity().id(), i))
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
                        let linked = mine.into_iter().map(|i| found[i].handle()).collect();
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
/// [`Find::with`](crate::entity::Find::with). Dereferences to the entity; read a
/// loaded relation with [`related`](Loaded::related).
pub struct Loaded<E: Entity> {
    pub(super) entity: Held<E>,
    pub(super) related: Vec<(&'static str, Arc<dyn Any + Send + Sync>)>,
}

/// How a [`Loaded`] row holds its entity: its own (a has-many's children,
/// the rows of the query), or shared with other rows (a belongs-to's parent,
/// a many-to-many's linked row, loaded once for all who point at it).
pub(super) enum Held<E> {
    Own(E),
    Shared(Arc<E>),
}

impl<E> std::ops::Deref for Held<E> {
    type Target = E;
    fn deref(&self) -> &E {
        match self {
            Held::Own(e) => e,
            Held::Shared(e) => e,
        }
    }
}

impl<E: std::fmt::Debug> std::fmt::Debug for Held<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

/// A loaded row made shareable: each [`Shared::handle`] is a [`Loaded`] row
/// pointing at the same entity and relations.
pub(super) struct Shared<E: Entity> {
    entity: Arc<E>,
    related: Vec<(&'static str, Arc<dyn Any + Send + Sync>)>,
}

impl<E: Entity> Shared<E> {
    /// Another handle to the row.
    pub(super) fn handle(&self) -> Loaded<E> {
        Loaded {
            entity: Held::Shared(self.entity.clone()),
            related: self.related.clone(),
        }
    }

    pub(super) fn entity(&self) -> &E {
        &self.entity
    }
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
            entity: Held::Own(entity),
            related: Vec::new(),
        }
    }

    /// The row made shareable (rows shared by several parents, as a
    /// belongs-to's parent or a many-to-many's linked row, are loaded once).
    pub(super) fn into_shared(self) -> Shared<E> {
        Shared {
            entity: match self.entity {
                Held::Own(e) => Arc::new(e),
                Held::Shared(e) => e,
            },
            related: self.related,
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
        match self.entity {
            Held::Own(e) => e,
            Held::Shared(e) => Arc::try_unwrap(e).unwrap_or_else(|shared| (*shared).clone()),
        }
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

pub(super) fn many<'s, E: Entity, C: Entity>(
    row: &'s Loaded<E>,
    name: &'static str,
) -> Result<&'s [Loaded<C>]> {
    match row.slot::<C>(name)? {
        Slot::Many(v) => Ok(v),
        Slot::One(o) => Ok(o.as_slice()),
    }
}

pub(super) fn one<'s, E: Entity, C: Entity>(
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
