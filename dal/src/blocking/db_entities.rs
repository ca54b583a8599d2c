//! The entity twins of the blocking [`Db`]: save, get, delete, restore,
//! history, typed queries, projections and relations, each waiting for the
//! async entity operation run on the pool.

use super::Db;
use crate::entity::{
    Assignment, Audit, Entity, Find, FindWith, HasMany, HistoryEntry, Loaded, Projection,
    SchemaReport, Select,
};
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::row::FromRow;

blocking_twins! { Db(db) {
    /// Create the entity's table (with its indexes and history table) when
    /// missing and add the columns the struct gained ([`Entity::ensure_schema`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let report = db.ensure_schema::<Note>()?;
    /// assert_eq!(report.created, ["notes"]);
    /// assert!(db.ensure_schema::<Note>()?.is_unchanged());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn ensure_schema[E: Entity]() -> SchemaReport
        => E::ensure_schema(db);

    /// Insert the entity, or update it when its id exists ([`Entity::save`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "draft".into() };
    /// db.save(&mut note)?;                 // INSERT, fills the id
    /// assert_eq!(note.id, 1);
    /// note.title = "final".into();
    /// db.save(&mut note)?;                 // UPDATE
    /// assert_eq!(db.get::<Note>(1)?.unwrap().title, "final");
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn save[E: Entity](entity: &mut E) -> ()
        => entity.save(db);

    /// [`save`](Db::save), recording who made the change and why
    /// ([`Entity::save_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "draft".into() };
    /// db.save_with(&mut note, &dal::Audit::by("ada").comment("first"))?;
    /// assert_eq!(db.history::<Note>(note.id)?[0].actor.as_deref(), Some("ada"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn save_with[E: Entity](entity: &mut E, audit: &Audit) -> ()
        => entity.save_with(db, audit);

    /// Save many entities in one transaction ([`Entity::save_all`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut notes: Vec<Note> =
    ///     (1..=3).map(|i| Note { id: 0, title: format!("n{i}") }).collect();
    /// db.save_all(&mut notes)?;
    /// assert_eq!(notes.iter().map(|n| n.id).collect::<Vec<_>>(), [1, 2, 3]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn save_all[E: Entity](entities: &mut [E]) -> ()
        => E::save_all(entities, db);

    /// [`save_all`](Db::save_all), recording who made the change and why
    /// ([`Entity::save_all_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut notes = vec![Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }];
    /// db.save_all_with(&mut notes, &dal::Audit::by("import"))?;
    /// assert_eq!(db.history::<Note>(notes[1].id)?[0].actor.as_deref(), Some("import"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn save_all_with[E: Entity](entities: &mut [E], audit: &Audit) -> ()
        => E::save_all_with(entities, db, audit);

    /// Load by id; soft-deleted rows are not returned ([`Entity::get`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "hello".into() })?;
    /// assert_eq!(db.get::<Note>(1)?.unwrap().title, "hello");
    /// assert!(db.get::<Note>(2)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn get[E: Entity](id: E::Id) -> Option<E>
        => E::get(db, id);

    /// Load by id, soft-deleted or not ([`Entity::get_with_deleted`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// db.delete(&mut note)?;
    /// assert!(db.get::<Note>(note.id)?.is_none());
    /// assert!(db.get_with_deleted::<Note>(note.id)?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn get_with_deleted[E: Entity](id: E::Id) -> Option<E>
        => E::get_with_deleted(db, id);

    /// Delete: a soft delete when the entity has `soft_delete`, else a permanent
    /// one; returns whether a row changed ([`Entity::delete`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// assert!(db.delete(&mut note)?);
    /// assert!(!db.delete(&mut note)?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete[E: Entity](entity: &mut E) -> bool
        => entity.delete(db);

    /// [`delete`](Db::delete), recording who made the change and why
    /// ([`Entity::delete_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history, soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// assert!(db.delete_with(&mut note, &dal::Audit::by("ada"))?);
    /// assert_eq!(db.history::<Note>(note.id)?[1].operation, dal::Operation::Delete);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete_with[E: Entity](entity: &mut E, audit: &Audit) -> bool
        => entity.delete_with(db, audit);

    /// Remove the row for good ([`Entity::delete_permanently`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// assert!(db.delete_permanently(&mut note)?);
    /// assert!(db.get_with_deleted::<Note>(note.id)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete_permanently[E: Entity](entity: &mut E) -> bool
        => entity.delete_permanently(db);

    /// Undo a soft delete; returns whether a row changed ([`Entity::restore`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// db.delete(&mut note)?;
    /// assert!(db.restore(&mut note)?);
    /// assert!(db.get::<Note>(note.id)?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn restore[E: Entity](entity: &mut E) -> bool
        => entity.restore(db);

    /// [`restore`](Db::restore), recording who made the change and why
    /// ([`Entity::restore_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history, soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// db.save(&mut note)?;
    /// db.delete(&mut note)?;
    /// assert!(db.restore_with(&mut note, &dal::Audit::by("ada").comment("oops"))?);
    /// let last = db.history::<Note>(note.id)?.pop().unwrap();
    /// assert_eq!(last.comment.as_deref(), Some("oops"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn restore_with[E: Entity](entity: &mut E, audit: &Audit) -> bool
        => entity.restore_with(db, audit);

    /// Every recorded version of a row, oldest first; needs `history`
    /// ([`Entity::history`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "v1".into() };
    /// db.save(&mut note)?;
    /// note.title = "v2".into();
    /// db.save(&mut note)?;
    /// let versions = db.history::<Note>(note.id)?;
    /// assert_eq!(versions.iter().map(|v| v.entity.title.as_str()).collect::<Vec<_>>(), ["v1", "v2"]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn history[E: Entity](id: E::Id) -> Vec<HistoryEntry<E>>
        => E::history(db, id);

    /// One recorded version of a row; needs `history` ([`Entity::at_version`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut note = Note { id: 0, title: "v1".into() };
    /// db.save(&mut note)?;
    /// note.title = "v2".into();
    /// db.save(&mut note)?;
    /// assert_eq!(db.at_version::<Note>(note.id, 1)?.unwrap().entity.title, "v1");
    /// assert!(db.at_version::<Note>(note.id, 3)?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn at_version[E: Entity](id: E::Id, version: i64) -> Option<HistoryEntry<E>>
        => E::at_version(db, id, version);

    /// Every row of a query with its relations loaded eagerly
    /// ([`FindWith::all`]). Lazy loads and the other relation operations run
    /// through [`block_on`](Db::block_on) with [`as_async`](Db::as_async).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(table = "authors", has_many(books = Book::AUTHOR))]
    /// # struct Author { id: i64, name: String }
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(table = "books")]
    /// # struct Book { id: i64, #[dal(belongs_to = Author)] author_id: i64, title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Author>()?;
    /// db.ensure_schema::<Book>()?;
    /// let mut author = Author { id: 0, name: "Le Guin".into() };
    /// let mut books = vec![Book { id: 0, author_id: 0, title: "The Dispossessed".into() }];
    /// db.save_with_children(Author::BOOKS, &mut author, &mut books)?;
    ///
    /// let authors = db.all_with(Author::find().with(Author::BOOKS))?;
    /// assert_eq!(authors[0].related(Author::BOOKS)?[0].title, "The Dispossessed");
    /// // a lazy load
    /// let owner = db.block_on(books[0].author(db.as_async()))?;
    /// assert_eq!(owner.unwrap().name, "Le Guin");
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn all_with[E: Entity](find: FindWith<E>) -> Vec<Loaded<E>>
        => find.all(db);

    /// The first row of a query with its relations, if any ([`FindWith::optional`]).
    fn optional_with[E: Entity](find: FindWith<E>) -> Option<Loaded<E>>
        => find.optional(db);

    /// The first row of a query with its relations; [`Error::NotFound`] when
    /// there is none ([`FindWith::one`]).
    fn one_with[E: Entity](find: FindWith<E>) -> Loaded<E>
        => find.one(db);

    /// Save a parent and its children in one transaction ([`HasMany::save`]).
    fn save_with_children[P: Entity, C: Entity](relation: HasMany<P, C>, parent: &mut P, children: &mut [C]) -> ()
        => relation.save(parent, children, db);

    /// Every row of a projection ([`Select::all`]): columns, aggregates,
    /// joins.
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String, stars: i32 }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "a".into(), stars: 3 })?;
    /// db.save(&mut Note { id: 0, title: "a".into(), stars: 4 })?;
    /// let per_title: Vec<(String, Option<i64>)> = db.select_all(
    ///     Note::find().select((Note::TITLE, Note::STARS.sum())).group_by(Note::TITLE),
    /// )?;
    /// assert_eq!(per_title, [("a".to_string(), Some(7))]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn select_all[E: Entity, S, P: Projection<S, I>, I](select: Select<E, S, P, I>) -> Vec<P::Out>
        => select.all(db);

    /// The first row of a projection, if any ([`Select::optional`]).
    fn select_optional[E: Entity, S, P: Projection<S, I>, I](select: Select<E, S, P, I>) -> Option<P::Out>
        => select.optional(db);

    /// The first row of a projection; [`Error::NotFound`] when there is none
    /// ([`Select::one`]).
    fn select_one[E: Entity, S, P: Projection<S, I>, I](select: Select<E, S, P, I>) -> P::Out
        => select.one(db);

    /// Every row of a projection as a `FromRow` struct ([`Select::all_as`]).
    fn select_all_as[R: FromRow + Send + 'static, E: Entity, S, P: Projection<S, I>, I](select: Select<E, S, P, I>) -> Vec<R>
        => select.all_as(db);

    /// Every row matching a typed query ([`Find::all`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// for t in ["b", "a", "c"] {
    ///     db.save(&mut Note { id: 0, title: t.into() })?;
    /// }
    /// let notes = db.all(Note::find().filter(Note::TITLE.ne("c")).order_by(Note::TITLE.asc()))?;
    /// assert_eq!(notes.iter().map(|n| n.title.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn all[E: Entity](find: Find<E>) -> Vec<E>
        => find.all(db);

    /// The first row matching a typed query, if any ([`Find::optional`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// assert!(db.optional(Note::find().filter(Note::TITLE.eq("x")))?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn optional[E: Entity](find: Find<E>) -> Option<E>
        => find.optional(db);

    /// The first row matching a typed query; [`Error::NotFound`] when there is
    /// none ([`Find::one`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "x".into() })?;
    /// assert_eq!(db.one(Note::find().filter(Note::TITLE.eq("x")))?.id, 1);
    /// assert!(db.one(Note::find().filter(Note::TITLE.eq("y"))).unwrap_err().is_not_found());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn one[E: Entity](find: Find<E>) -> E
        => find.one(db);

    /// How many rows match a typed query ([`Find::count`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save_all(&mut [Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }])?;
    /// assert_eq!(db.count(Note::find())?, 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn count[E: Entity](find: Find<E>) -> i64
        => find.count(db);

    /// Whether any row matches a typed query ([`Find::exists`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// assert!(!db.exists(Note::find())?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn exists[E: Entity](find: Find<E>) -> bool
        => find.exists(db);

    /// Set columns on every row matching a typed query; returns how many rows
    /// changed ([`Find::update_many`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save_all(&mut [Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }])?;
    /// let n = db.update_many(Note::find().filter(Note::ID.gt(1)), vec![Note::TITLE.set("z")])?;
    /// assert_eq!(n, 1);
    /// assert_eq!(db.get::<Note>(2)?.unwrap().title, "z");
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn update_many[E: Entity](find: Find<E>, assignments: Vec<Assignment<E>>) -> u64
        => find.update_many(db, assignments);

    /// [`update_many`](Db::update_many), recording who made the change and why
    /// ([`Find::update_many_with`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(history)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "a".into() })?;
    /// let audit = dal::Audit::by("bulk");
    /// assert_eq!(db.update_many_with(Note::find(), vec![Note::TITLE.set("b")], &audit)?, 1);
    /// assert_eq!(db.history::<Note>(1)?[1].actor.as_deref(), Some("bulk"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn update_many_with[E: Entity](find: Find<E>, assignments: Vec<Assignment<E>>, audit: &Audit) -> u64
        => find.update_many_with(db, assignments, audit);

    /// Delete every row matching a typed query (soft delete when the entity has
    /// `soft_delete`); returns how many rows changed ([`Find::delete_many`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save_all(&mut [Note { id: 0, title: "a".into() }, Note { id: 0, title: "b".into() }])?;
    /// assert_eq!(db.delete_many(Note::find().filter(Note::TITLE.eq("a")))?, 1);
    /// assert_eq!(db.count(Note::find())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete_many[E: Entity](find: Find<E>) -> u64
        => find.delete_many(db);

    /// Permanently delete every row matching a typed query
    /// ([`Find::delete_many_permanently`]).
    ///
    /// ```
    /// # #[derive(dal::Entity, Debug, Clone)]
    /// # #[dal(soft_delete)]
    /// # struct Note { id: i64, #[dal(length = 200)] title: String }
    /// use dal::Entity;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// db.save(&mut Note { id: 0, title: "a".into() })?;
    /// assert_eq!(db.delete_many_permanently(Note::find())?, 1);
    /// assert_eq!(db.count(Note::find().include_deleted())?, 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn delete_many_permanently[E: Entity](find: Find<E>) -> u64
        => find.delete_many_permanently(db);
} }
