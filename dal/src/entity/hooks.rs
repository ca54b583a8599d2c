//! Lifecycle hooks: code of the entity's own run before and after its saves
//! and deletes, inside the write's transaction.

use super::Entity;
use super::executor::{Executor, Session};
use super::ops::{self, Audit};
use crate::error::Result;
use crate::transaction::Transaction;

/// Code run around an entity's saves and deletes, inside the write's
/// transaction (SeaORM's `ActiveModelBehavior` plays this part there).
/// Turn it on with `#[dal(hooks)]` on the entity and implement the methods
/// you need (the others do nothing).
///
/// - `before_save` runs before [`Entity::save`], [`Entity::save_all`] (once
///   per entity) and [`Tracked::save`](crate::Tracked::save): it may change
///   the entity (normalise a field, compute another) or refuse the write by
///   returning an error, and then nothing is written.
/// - `after_save` runs once the row is written (the entity holds its id and
///   version); an error from it rolls the whole write back (the entity's id
///   and version are put back as they were).
/// - `before_delete` / `after_delete` do the same around [`Entity::delete`]
///   and [`Entity::delete_permanently`].
///
/// Each hook gets the transaction the write runs in (a savepoint of yours
/// when you pass a transaction): what it writes through it commits or rolls
/// back with the write. Writes through queries (`update_many`,
/// `delete_many`, `update_by_id`, upserts) run no hooks.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::{Entity, Error, Hooks, Transaction};
///
/// #[derive(Entity, Debug, Clone)]
/// #[dal(table = "users", hooks)]
/// struct User {
///     #[dal(id)]
///     id: i64,
///     email: String,
/// }
///
/// impl Hooks for User {
///     async fn before_save(&mut self, _tx: &mut Transaction<'_>) -> dal::Result<()> {
///         self.email = self.email.trim().to_lowercase();
///         if !self.email.contains('@') {
///             return Err(Error::invalid_input("email", "an email needs an @"));
///         }
///         Ok(())
///     }
/// }
///
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// User::ensure_schema(&db).await?;
/// let mut u = User { id: 0, email: "  Ada@Example.COM ".into() };
/// u.save(&db).await?;
/// assert_eq!(u.email, "ada@example.com");
/// let mut bad = User { id: 0, email: "nobody".into() };
/// assert!(bad.save(&db).await.is_err());
/// assert_eq!((bad.id, User::find().count(&db).await?), (0, 1));
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is declared with `#[dal(hooks)]` but does not implement `dal::Hooks`",
    label = "no `impl dal::Hooks for {Self}`",
    note = "add `impl dal::Hooks for {Self} {{ .. }}` with the hooks it needs (the others do nothing), or remove `hooks` from `#[dal(..)]`"
)]
pub trait Hooks: Entity {
    /// Before the row is written.
    fn before_save(
        &mut self,
        tx: &mut Transaction<'_>,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        let _ = tx;
        async { Ok(()) }
    }

    /// After the row is written.
    fn after_save(
        &mut self,
        tx: &mut Transaction<'_>,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        let _ = tx;
        async { Ok(()) }
    }

    /// Before the row is deleted (softly or for good).
    fn before_delete(
        &mut self,
        tx: &mut Transaction<'_>,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        let _ = tx;
        async { Ok(()) }
    }

    /// After the row is deleted.
    fn after_delete(
        &mut self,
        tx: &mut Transaction<'_>,
    ) -> impl std::future::Future<Output = Result<()>> + Send {
        let _ = tx;
        async { Ok(()) }
    }
}

/// What a write changes on an entity (its id, its version) and a failed
/// transaction must put back.
pub(crate) struct Marks<E: Entity> {
    id: E::Id,
    version: Option<i64>,
}

impl<E: Entity> Marks<E> {
    pub(crate) fn of(e: &E) -> Self {
        Marks {
            id: e.id(),
            version: e.__version(),
        }
    }

    pub(crate) fn restore(self, e: &mut E) {
        e.__set_id(self.id);
        if let Some(v) = self.version {
            e.__set_version(v);
        }
    }
}

async fn end(tx: Transaction<'_>, r: Result<()>) -> Result<()> {
    match r {
        Ok(()) => tx.commit_inner().await,
        Err(e) => {
            let _ = tx.rollback_inner().await;
            Err(e)
        }
    }
}

/// Which columns a partial save writes, asked once the entity is final
/// (after `before_save`).
pub(crate) type Changed<'a, E> = &'a (dyn Fn(&E) -> Vec<&'static str> + Send + Sync);

/// [`Entity::save`] with the entity's hooks, when it has them; with
/// `partial`, only the changed columns (nothing at all when none changed).
pub(crate) async fn save<E: Entity>(
    entity: &mut E,
    session: Session<'_>,
    audit: Option<&Audit>,
    partial: Option<Changed<'_, E>>,
) -> Result<()> {
    if !E::__HOOKS {
        return match partial {
            Some(changed) => {
                let c = changed(entity);
                if c.is_empty() {
                    return Ok(());
                }
                ops::save_columns(entity, session, &c, audit).await
            }
            None => ops::save(entity, session, audit).await,
        };
    }
    let before = Marks::of(entity);
    let mut tx = session.begin().await?;
    let r = async {
        entity.__before_save(&mut tx).await?;
        match partial {
            Some(changed) => {
                let c = changed(entity);
                if c.is_empty() {
                    return Ok(());
                }
                ops::save_columns(entity, (&mut tx).__into_session(), &c, audit).await?
            }
            None => ops::save(entity, (&mut tx).__into_session(), audit).await?,
        }
        entity.__after_save(&mut tx).await
    }
    .await;
    let r = end(tx, r).await;
    if r.is_err() {
        before.restore(entity);
    }
    r
}

/// [`Entity::save_all`] with the entities' hooks, when they have them.
pub(crate) async fn save_all<E: Entity>(
    entities: &mut [E],
    session: Session<'_>,
    audit: Option<&Audit>,
) -> Result<()> {
    if !E::__HOOKS {
        return ops::save_all(entities, session, audit).await;
    }
    let before: Vec<_> = entities.iter().map(Marks::of).collect();
    let mut tx = session.begin().await?;
    let r = async {
        for e in entities.iter_mut() {
            e.__before_save(&mut tx).await?;
        }
        ops::save_all(entities, (&mut tx).__into_session(), audit).await?;
        for e in entities.iter_mut() {
            e.__after_save(&mut tx).await?;
        }
        Ok(())
    }
    .await;
    let r = end(tx, r).await;
    if r.is_err() {
        for (e, m) in entities.iter_mut().zip(before) {
            m.restore(e);
        }
    }
    r
}

/// [`Entity::delete`] with the entity's hooks, when it has them.
pub(crate) async fn delete<E: Entity>(
    entity: &mut E,
    session: Session<'_>,
    audit: Option<&Audit>,
    permanently: bool,
) -> Result<bool> {
    if !E::__HOOKS {
        return ops::delete(entity, session, audit, permanently).await;
    }
    let mut tx = session.begin().await?;
    let mut deleted = false;
    let r = async {
        entity.__before_delete(&mut tx).await?;
        deleted = ops::delete(entity, (&mut tx).__into_session(), audit, permanently).await?;
        entity.__after_delete(&mut tx).await
    }
    .await;
    end(tx, r).await.map(|()| deleted)
}
