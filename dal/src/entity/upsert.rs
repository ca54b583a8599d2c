//! Upserts on any unique key: insert a row, or on a conflict on its id or a
//! unique column update some columns of the existing row (or leave it).

use std::marker::PhantomData;

use super::Entity;
use super::executor::Executor;
use super::ops::{self, Audit, UpsertPlan};
use super::query::Col;
use crate::error::Result;

/// Columns of entity `E`, named by their handles: one handle
/// (`User::EMAIL`) or a tuple of handles (`(User::NAME, User::VISITS)`, up
/// to eight).
pub trait Columns<E> {
    /// The column names. Not meant to be called directly.
    #[doc(hidden)]
    fn __names(self) -> Vec<&'static str>;
}

impl<E, T, N> Columns<E> for Col<E, T, N> {
    fn __names(self) -> Vec<&'static str> {
        vec![self.name()]
    }
}

macro_rules! tuple_columns {
    ($($t:ident $n:ident $v:ident),+) => {
        impl<E, $($t, $n),+> Columns<E> for ($(Col<E, $t, $n>,)+) {
            fn __names(self) -> Vec<&'static str> {
                let ($($v,)+) = self;
                vec![$($v.name()),+]
            }
        }
    };
}
tuple_columns!(A NA a);
tuple_columns!(A NA a, B NB b);
tuple_columns!(A NA a, B NB b, C NC c);
tuple_columns!(A NA a, B NB b, C NC c, D ND d);
tuple_columns!(A NA a, B NB b, C NC c, D ND d, F NF f);
tuple_columns!(A NA a, B NB b, C NC c, D ND d, F NF f, G NG g);
tuple_columns!(A NA a, B NB b, C NC c, D ND d, F NF f, G NG g, H NH h);
tuple_columns!(A NA a, B NB b, C NC c, D ND d, F NF f, G NG g, H NH h, I NI i);

/// The first half of an upsert: the unique key rows conflict on
/// ([`Entity::on_conflict`]). Say what happens on a conflict with
/// [`update`](OnConflict::update), [`update_all`](OnConflict::update_all)
/// or [`do_nothing`](OnConflict::do_nothing).
pub struct OnConflict<E: Entity> {
    target: Vec<&'static str>,
    _marker: PhantomData<fn() -> E>,
}

impl<E: Entity> std::fmt::Debug for OnConflict<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnConflict")
            .field("entity", &E::INFO.table)
            .field("target", &self.target)
            .finish()
    }
}

impl<E: Entity> OnConflict<E> {
    pub(crate) fn new(target: Vec<&'static str>) -> Self {
        OnConflict {
            target,
            _marker: PhantomData,
        }
    }

    /// On a conflict, set these columns of the existing row to the new
    /// row's values (and move its version and `updated_at` on, as a save
    /// does); the other columns keep their stored values.
    pub fn update<C: Columns<E>>(self, columns: C) -> Upsert<E> {
        Upsert::new(self.target, Some(columns.__names()))
    }

    /// On a conflict, set every data column (all but the key, the conflict
    /// key's columns and the managed ones such as `created_at`).
    pub fn update_all(self) -> Upsert<E> {
        let cols = E::INFO
            .columns
            .iter()
            .filter(|c| c.role == dal_schema::entity::ColumnRole::Data && c.mapped)
            .map(|c| c.name)
            .filter(|c| !self.target.contains(c))
            .collect();
        Upsert::new(self.target, Some(cols))
    }

    /// On a conflict, leave the existing row as it is (insert or ignore).
    pub fn do_nothing(self) -> Upsert<E> {
        Upsert::new(self.target, None)
    }
}

/// An upsert ready to run: insert, or on a conflict on its key update some
/// columns of the existing row, or leave it. Built by
/// [`Entity::on_conflict`]; run with [`save`](Upsert::save) or
/// [`save_all`](Upsert::save_all).
///
/// The key must be the primary key or a unique index of the entity (else
/// [`Error::InvalidInput`](crate::Error::InvalidInput) before anything is
/// sent); a conflict on *another* unique key is an
/// [`Error::ConstraintViolation`](crate::Error::ConstraintViolation) on
/// PostgreSQL and SQLite. On MariaDB/MySQL, `ON DUPLICATE KEY UPDATE`
/// updates the row whichever unique key the new row collides with; use a
/// key that is the table's only unique key besides the id when that
/// matters.
///
/// History is recorded as for any write (an `insert`, or an `update` when
/// the existing row changed), and soft-deleted rows are conflicts like any
/// other: an update leaves their deletion mark alone.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::{Db, Entity};
///
/// #[derive(Entity, Debug, Clone)]
/// #[dal(table = "members")]
/// struct Member {
///     #[dal(id)]
///     id: i64,
///     #[dal(unique, length = 120)]
///     email: String,
///     name: String,
///     visits: i32,
/// }
///
/// let db = Db::connect_url("sqlite::memory:").await?;
/// Member::ensure_schema(&db).await?;
/// let mut ada = Member { id: 0, email: "ada@example.com".into(), name: "Ada".into(), visits: 1 };
/// ada.save(&db).await?;
///
/// // same email: the stored row is updated (name only), and `again` holds it
/// let mut again = Member { id: 0, email: "ada@example.com".into(), name: "Ada L.".into(), visits: 9 };
/// let written = Member::on_conflict(Member::EMAIL)
///     .update(Member::NAME)
///     .save(&mut again, &db)
///     .await?;
/// assert!(written);
/// assert_eq!((again.id, again.name.as_str(), again.visits), (ada.id, "Ada L.", 1));
///
/// // insert or ignore
/// let mut dup = Member { id: 0, email: "ada@example.com".into(), name: "X".into(), visits: 0 };
/// let mut new = Member { id: 0, email: "bob@example.com".into(), name: "Bob".into(), visits: 0 };
/// assert!(!Member::on_conflict(Member::EMAIL).do_nothing().save(&mut dup, &db).await?);
/// assert_eq!(dup.id, 0);
/// let mut batch = vec![dup, new];
/// assert_eq!(Member::on_conflict(Member::EMAIL).do_nothing().save_all(&mut batch, &db).await?, 1);
/// assert!(batch[1].id > 0);
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub struct Upsert<E: Entity> {
    plan: UpsertPlan,
    audit: Option<Audit>,
    _marker: PhantomData<fn() -> E>,
}

impl<E: Entity> std::fmt::Debug for Upsert<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upsert")
            .field("entity", &E::INFO.table)
            .field("target", &self.plan.target)
            .field("update", &self.plan.update)
            .finish()
    }
}

impl<E: Entity> Upsert<E> {
    fn new(target: Vec<&'static str>, update: Option<Vec<&'static str>>) -> Self {
        Upsert {
            plan: UpsertPlan { target, update },
            audit: None,
            _marker: PhantomData,
        }
    }

    /// Record who made the change and why in the history (entities with
    /// `history`).
    pub fn audit(mut self, audit: Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Insert `entity`, or resolve the conflict as this upsert says.
    /// Returns whether a row was written: `true` for an insert or an
    /// update, and `entity` then holds the row as stored (its id, and for an
    /// update the stored values of the columns not updated); `false` when
    /// [`do_nothing`](OnConflict::do_nothing) left an existing row alone,
    /// and `entity` is unchanged.
    pub fn save<'a, X: Executor<'a>>(
        &'a self,
        entity: &'a mut E,
        ex: X,
    ) -> impl std::future::Future<Output = Result<bool>> + Send + 'a {
        let session = ex.__into_session();
        async move {
            let written = ops::upsert(
                std::slice::from_mut(entity),
                session,
                &self.plan,
                self.audit.as_ref(),
            )
            .await?;
            Ok(written.first().copied().unwrap_or(false))
        }
    }

    /// [`save`](Upsert::save) for many entities, in one transaction (a
    /// savepoint inside yours), one statement per row: all of them or none.
    /// Returns how many rows were written (inserted or updated).
    pub fn save_all<'a, X: Executor<'a>>(
        &'a self,
        entities: &'a mut [E],
        ex: X,
    ) -> impl std::future::Future<Output = Result<u64>> + Send + 'a {
        let session = ex.__into_session();
        async move {
            let written = ops::upsert(entities, session, &self.plan, self.audit.as_ref()).await?;
            Ok(written.iter().filter(|w| **w).count() as u64)
        }
    }
}

/// A partial update of one row by id ([`Entity::update_by_id`]): only the
/// columns set here are written (with `updated_at`, the version and the
/// history, as any write), so concurrent writers changing other columns of
/// the row keep their changes.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::{Db, Entity};
///
/// #[derive(Entity, Debug, Clone)]
/// #[dal(table = "docs")]
/// struct Doc {
///     #[dal(id)]
///     id: i64,
///     title: String,
///     views: i64,
///     note: Option<String>,
/// }
///
/// let db = Db::connect_url("sqlite::memory:").await?;
/// Doc::ensure_schema(&db).await?;
/// let mut d = Doc { id: 0, title: "Draft".into(), views: 0, note: Some("x".into()) };
/// d.save(&db).await?;
/// Doc::update_by_id(d.id).set(Doc::TITLE, "Final").set_null(Doc::NOTE).run(&db).await?;
/// let stored = Doc::get(&db, d.id).await?.unwrap();
/// assert_eq!((stored.title.as_str(), stored.views, stored.note), ("Final", 0, None));
/// let missing = Doc::update_by_id(999).set(Doc::VIEWS, 1).run(&db).await;
/// assert!(matches!(missing, Err(dal::Error::NotFound(_))));
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub struct UpdateById<E: Entity> {
    id: E::Id,
    sets: Vec<super::query::Assignment<E>>,
    audit: Option<Audit>,
}

impl<E: Entity> std::fmt::Debug for UpdateById<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateById")
            .field("entity", &E::INFO.table)
            .field("id", &self.id)
            .field("sets", &self.sets)
            .finish()
    }
}

impl<E: Entity> UpdateById<E> {
    pub(crate) fn new(id: E::Id) -> Self {
        UpdateById {
            id,
            sets: Vec::new(),
            audit: None,
        }
    }

    /// Write `value` into `column`.
    pub fn set<T: crate::codec::Encode + 'static, N>(
        mut self,
        column: Col<E, T, N>,
        value: impl Into<T>,
    ) -> Self {
        self.sets.push(column.set(value));
        self
    }

    /// Write NULL into `column` (a nullable column).
    pub fn set_null<T: crate::codec::Encode + 'static>(
        mut self,
        column: Col<E, T, super::query::Nullable>,
    ) -> Self {
        self.sets.push(column.set_null());
        self
    }

    /// Record who made the change and why in the history.
    pub fn audit(mut self, audit: Audit) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Run it: [`Error::NotFound`](crate::Error::NotFound) when no (live)
    /// row has the id, [`Error::InvalidInput`](crate::Error::InvalidInput)
    /// when nothing is set.
    pub fn run<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a
    where
        Self: 'a,
    {
        let session = ex.__into_session();
        async move {
            if self.sets.is_empty() {
                return Err(crate::error::Error::invalid_input(
                    "update_by_id",
                    format!(
                        "nothing to set on `{}` row {:?}: add `.set(COLUMN, value)` or `.set_null(COLUMN)` before `run`",
                        E::INFO.table,
                        self.id
                    ),
                ));
            }
            let find = super::query::Find::<E>::new().filter(super::query::Cond::raw_eq(
                E::INFO.id_column,
                std::sync::Arc::new(self.id.clone()),
            ));
            let n = find
                .write_many(session, Some(self.sets), self.audit.as_ref(), false)
                .await?;
            if n == 0 {
                return Err(crate::error::Error::NotFound(format!(
                    "no `{}` row has the id {:?}",
                    E::INFO.table,
                    self.id
                )));
            }
            Ok(())
        }
    }
}
