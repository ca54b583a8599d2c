//! The entity twins of the blocking [`Transaction`]: the entity operations of
//! [`Db`](super::Db), run inside the transaction.

use super::Transaction;
use crate::entity::{
    Assignment, Audit, Entity, Find, FindWith, HasMany, HistoryEntry, Loaded, Projection, Select,
};
use crate::error::Result;
use crate::row::FromRow;

blocking_twins! { Transaction(tx) {
    /// [`Entity::save`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// assert_eq!(tx.get::<Note>(note.id)?.unwrap().title, "a");
    /// drop(tx);                                // rolled back
    /// assert!(db.get::<Note>(note.id)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn save[E: Entity](entity: &mut E) -> ()
        => entity.save(tx);

    /// [`Entity::save_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save_with(&mut note, &dal::Audit::by("ada"))?;
    /// tx.commit()?;
    /// assert_eq!(db.history::<Note>(note.id)?[0].actor.as_deref(), Some("ada"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn save_with[E: Entity](entity: &mut E, audit: &Audit) -> ()
        => entity.save_with(tx, audit);

    /// [`Entity::save_all`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save_all(&mut [Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }])?;
    /// assert_eq!(tx.count(Note::find())?, 2);
    /// tx.commit()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn save_all[E: Entity](entities: &mut [E]) -> ()
        => E::save_all(entities, tx);

    /// [`Entity::save_all_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut notes = vec![Note { id: 0, title: "a".into() }];
    /// tx.save_all_with(&mut notes, &dal::Audit::by("import"))?;
    /// assert_eq!(tx.history::<Note>(notes[0].id)?[0].actor.as_deref(), Some("import"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn save_all_with[E: Entity](entities: &mut [E], audit: &Audit) -> ()
        => E::save_all_with(entities, tx, audit);

    /// [`Entity::get`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "a".into() })?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.get::<Note>(1)?.unwrap().title, "a");
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn get[E: Entity](id: E::Id) -> Option<E>
        => E::get(tx, id);

    /// [`Entity::get_with_deleted`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// tx.delete(&mut note)?;
    /// assert!(tx.get::<Note>(note.id)?.is_none());
    /// assert!(tx.get_with_deleted::<Note>(note.id)?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn get_with_deleted[E: Entity](id: E::Id) -> Option<E>
        => E::get_with_deleted(tx, id);

    /// [`Entity::delete`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// db.save(&mut note)?;
    /// let mut tx = db.begin()?;
    /// assert!(tx.delete(&mut note)?);
    /// tx.commit()?;
    /// assert!(db.get::<Note>(note.id)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete[E: Entity](entity: &mut E) -> bool
        => entity.delete(tx);

    /// [`Entity::delete_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// db.save(&mut note)?;
    /// let mut tx = db.begin()?;
    /// assert!(tx.delete_with(&mut note, &dal::Audit::by("ada"))?);
    /// tx.commit()?;
    /// assert_eq!(db.history::<Note>(note.id)?.len(), 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete_with[E: Entity](entity: &mut E, audit: &Audit) -> bool
        => entity.delete_with(tx, audit);

    /// [`Entity::delete_permanently`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// assert!(tx.delete_permanently(&mut note)?);
    /// assert!(tx.get_with_deleted::<Note>(note.id)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete_permanently[E: Entity](entity: &mut E) -> bool
        => entity.delete_permanently(tx);

    /// [`Entity::restore`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// tx.delete(&mut note)?;
    /// assert!(tx.restore(&mut note)?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn restore[E: Entity](entity: &mut E) -> bool
        => entity.restore(tx);

    /// [`Entity::restore_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// tx.delete(&mut note)?;
    /// assert!(tx.restore_with(&mut note, &dal::Audit::by("ada"))?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn restore_with[E: Entity](entity: &mut E, audit: &Audit) -> bool
        => entity.restore_with(tx, audit);

    /// [`Entity::history`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// assert_eq!(tx.history::<Note>(note.id)?.len(), 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn history[E: Entity](id: E::Id) -> Vec<HistoryEntry<E>>
        => E::history(tx, id);

    /// [`Entity::at_version`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "a".into() };
    /// tx.save(&mut note)?;
    /// assert_eq!(tx.at_version::<Note>(note.id, 1)?.unwrap().entity.title, "a");
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn at_version[E: Entity](id: E::Id, version: i64) -> Option<HistoryEntry<E>>
        => E::at_version(tx, id, version);

    /// [`FindWith::all`] inside this transaction.
    fn all_with[E: Entity](find: FindWith<E>) -> Vec<Loaded<E>>
        => find.all(tx);

    /// [`FindWith::optional`] inside this transaction.
    fn optional_with[E: Entity](find: FindWith<E>) -> Option<Loaded<E>>
        => find.optional(tx);

    /// [`HasMany::save`] inside this transaction (in a savepoint).
    fn save_with_children[P: Entity, C: Entity](relation: HasMany<P, C>, parent: &mut P, children: &mut [C]) -> ()
        => relation.save(parent, children, tx);

    /// [`Select::all`] inside this transaction.
    fn select_all[E: Entity, S, P: Projection<S, I>, I](select: Select<E, S, P, I>) -> Vec<P::Out>
        => select.all(tx);

    /// [`Select::optional`] inside this transaction.
    fn select_optional[E: Entity, S, P: Projection<S, I>, I](select: Select<E, S, P, I>) -> Option<P::Out>
        => select.optional(tx);

    /// [`Select::one`] inside this transaction.
    fn select_one[E: Entity, S, P: Projection<S, I>, I](select: Select<E, S, P, I>) -> P::Out
        => select.one(tx);

    /// [`Select::all_as`] inside this transaction.
    fn select_all_as[R: FromRow + Send + 'static, E: Entity, S, P: Projection<S, I>, I](select: Select<E, S, P, I>) -> Vec<R>
        => select.all_as(tx);

    /// [`Find::all`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.all(Note::find())?.len(), 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn all[E: Entity](find: Find<E>) -> Vec<E>
        => find.all(tx);

    /// [`Find::optional`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// assert!(tx.optional(Note::find())?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn optional[E: Entity](find: Find<E>) -> Option<E>
        => find.optional(tx);

    /// [`Find::one`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.one(Note::find().filter(Note::TITLE.eq("a")))?.id, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn one[E: Entity](find: Find<E>) -> E
        => find.one(tx);

    /// [`Find::count`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.count(Note::find())?, 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn count[E: Entity](find: Find<E>) -> i64
        => find.count(tx);

    /// [`Find::exists`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert!(tx.exists(Note::find())?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn exists[E: Entity](find: Find<E>) -> bool
        => find.exists(tx);

    /// [`Find::update_many`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.update_many(Note::find(), vec![Note::TITLE.set("b")])?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn update_many[E: Entity](find: Find<E>, assignments: Vec<Assignment<E>>) -> u64
        => find.update_many(tx, assignments);

    /// [`Find::update_many_with`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// let audit = dal::Audit::by("ada");
    /// assert_eq!(tx.update_many_with(Note::find(), vec![Note::TITLE.set("b")], &audit)?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn update_many_with[E: Entity](find: Find<E>, assignments: Vec<Assignment<E>>, audit: &Audit) -> u64
        => find.update_many_with(tx, assignments, audit);

    /// [`Find::delete_many`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.delete_many(Note::find())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete_many[E: Entity](find: Find<E>) -> u64
        => find.delete_many(tx);

    /// [`Find::delete_many_permanently`] inside this transaction.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// tx.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(tx.delete_many_permanently(Note::find())?, 1);
    /// assert_eq!(tx.count(Note::find().include_deleted())?, 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete_many_permanently[E: Entity](find: Find<E>) -> u64
        => find.delete_many_permanently(tx);
} }
