//! Change tracking: a loaded entity that remembers its stored values, so
//! that saving it writes only the columns that changed.

use dal_schema::Dialect;

use super::executor::Executor;
use super::ops::Audit;
use super::query::Find;
use super::{Entity, EntityId};
use crate::codec::{Arguments, SqliteArg};
use crate::error::Result;

/// An entity together with the values it had when it was loaded (or last
/// saved): [`save`](Tracked::save) writes only the data columns that
/// changed since, so writers that change different columns of the same row
/// keep each other's changes. It dereferences to the entity.
///
/// Load with [`Entity::get_tracked`] or [`Find::all_tracked`], or wrap an
/// entity that holds the stored values with [`Tracked::new`]. Saving writes
/// nothing when nothing changed; otherwise one `UPDATE` of the changed
/// columns (with `updated_at`, the version — checked as in a full save for
/// a `#[dal(version)]` entity — and the history, which records the whole new
/// version). An entity not saved yet (unset id) is inserted whole.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::{Db, Entity};
///
/// #[derive(Entity, Debug, Clone)]
/// #[dal(table = "accounts")]
/// struct Account {
///     #[dal(id)]
///     id: i64,
///     name: String,
///     balance: i64,
/// }
///
/// let db = Db::connect_url("sqlite::memory:").await?;
/// Account::ensure_schema(&db).await?;
/// let mut a = Account { id: 0, name: "Ada".into(), balance: 10 };
/// a.save(&db).await?;
///
/// // two writers load the row and change different columns
/// let mut first = Account::get_tracked(&db, a.id).await?.unwrap();
/// let mut second = Account::get_tracked(&db, a.id).await?.unwrap();
/// first.name = "Ada L.".into();
/// second.balance += 5;
/// assert_eq!(second.changed_columns(), ["balance"]);
/// first.save(&db).await?;      // UPDATE accounts SET name = ..
/// second.save(&db).await?;     // UPDATE accounts SET balance = ..
/// let stored = Account::get(&db, a.id).await?.unwrap();
/// assert_eq!((stored.name.as_str(), stored.balance), ("Ada L.", 15));
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub struct Tracked<E: Entity> {
    entity: E,
    /// The data columns as stored, encoded as SQLite would store them (a
    /// dialect-neutral picture); `None` when that failed (then every column
    /// counts as changed).
    stored: Option<Vec<SqliteArg<'static>>>,
}

impl<E: Entity + std::fmt::Debug> std::fmt::Debug for Tracked<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tracked")
            .field("entity", &self.entity)
            .field("changed", &self.changed_columns())
            .finish()
    }
}

impl<E: Entity> std::ops::Deref for Tracked<E> {
    type Target = E;
    fn deref(&self) -> &E {
        &self.entity
    }
}

impl<E: Entity> std::ops::DerefMut for Tracked<E> {
    fn deref_mut(&mut self) -> &mut E {
        &mut self.entity
    }
}

fn picture<E: Entity>(e: &E) -> Option<Vec<SqliteArg<'static>>> {
    let mut args = Arguments::new(Dialect::Sqlite);
    e.__bind_data(&mut args).ok()?;
    args.sqlite_values()
}

/// The data columns of `entity` whose values differ from `stored`.
fn changed_of<E: Entity>(
    stored: &Option<Vec<SqliteArg<'static>>>,
    entity: &E,
) -> Vec<&'static str> {
    let columns = E::INFO
        .columns
        .iter()
        .filter(|c| c.role == dal_schema::entity::ColumnRole::Data && c.mapped)
        .map(|c| c.name);
    // compared borrowed: nothing is copied out of the entity
    let mut args = Arguments::new(Dialect::Sqlite);
    let now = entity.__bind_data(&mut args).ok().and(args.sqlite_args());
    match (stored, now) {
        (Some(before), Some(now)) if before.len() == now.len() => columns
            .zip(before.iter().zip(now))
            .filter(|(_, (b, n))| !b.same(n))
            .map(|(c, _)| c)
            .collect(),
        _ => columns.collect(),
    }
}

impl<E: Entity> Tracked<E> {
    /// Track `entity`, taking its current values as the stored ones (use it
    /// for an entity just loaded or saved).
    pub fn new(entity: E) -> Self {
        let stored = picture(&entity);
        Tracked { entity, stored }
    }

    /// The entity.
    pub fn into_inner(self) -> E {
        self.entity
    }

    /// The data columns whose values differ from the stored ones, in
    /// declaration order.
    pub fn changed_columns(&self) -> Vec<&'static str> {
        changed_of(&self.stored, &self.entity)
    }

    /// Whether any data column changed.
    pub fn is_changed(&self) -> bool {
        !self.changed_columns().is_empty()
    }

    /// Write the changed columns (nothing when none changed; the whole row
    /// when the entity was never saved). Errors as [`Entity::save`]:
    /// [`Error::StaleVersion`](crate::Error::StaleVersion) for a stale
    /// `#[dal(version)]` entity; [`Error::NotFound`](crate::Error::NotFound)
    /// when the row is gone (a soft-deleted row is updated, as by a full
    /// save). After a failed save the entity still counts its changes.
    pub fn save<'a, X: Executor<'a>>(
        &'a mut self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a {
        self.save_inner(ex, None)
    }

    /// [`save`](Tracked::save), recording who made the change and why.
    pub fn save_with<'a, X: Executor<'a>>(
        &'a mut self,
        ex: X,
        audit: &'a Audit,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a {
        self.save_inner(ex, Some(audit))
    }

    fn save_inner<'a, X: Executor<'a>>(
        &'a mut self,
        ex: X,
        audit: Option<&'a Audit>,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a {
        let session = ex.__into_session();
        async move {
            if self.entity.id().is_unset() {
                super::hooks::save(&mut self.entity, session, audit, None).await?;
            } else {
                let stored = &self.stored;
                let changed = move |e: &E| changed_of(stored, e);
                super::hooks::save(&mut self.entity, session, audit, Some(&changed)).await?;
            }
            self.stored = picture(&self.entity);
            Ok(())
        }
    }
}

impl<E: Entity> Find<E> {
    /// Every matching row, tracked: saving one writes only its changed
    /// columns (see [`Tracked`]).
    pub fn all_tracked<'a, X: Executor<'a>>(
        self,
        ex: X,
    ) -> impl std::future::Future<Output = Result<Vec<Tracked<E>>>> + Send + 'a
    where
        Self: 'a,
    {
        let all = self.all(ex);
        async move { Ok(all.await?.into_iter().map(Tracked::new).collect()) }
    }
}
