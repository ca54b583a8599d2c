//! Dynamic entities: JSON objects saved into real tables whose columns are
//! created on first use, with typed field metadata, soft deletes and history
//! (the seed design's `save_entity` family). Start with [`Db::dynamic`].

mod incoming;
mod kind;
mod object;
mod read;
mod rules;
mod schema;
mod write;

use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use dal_schema::is_valid_identifier;
use serde_json::Value as J;

pub use kind::FieldKind;

use crate::db::Db;
use crate::error::{Error, Result};
use crate::value::Value;
use incoming::Mode;
use read::{Direction, FindSpec};
use schema::{Meta, Names};
use write::{Audit, SaveJob, StateJob};

/// Longest entity name: `{entity}_history` must fit 63 characters.
const MAX_ENTITY_LEN: usize = dal_schema::MAX_IDENTIFIER_LEN - "_history".len();

impl Db {
    /// A handle on the dynamic entity `entity`: JSON objects stored in the table
    /// of that name, whose columns are created as new fields arrive. Nothing is
    /// created until the first save.
    ///
    /// The name must be a lower-case identifier (ASCII letters, digits, `_`, not
    /// starting with a digit) of at most 55 characters, so that its history table
    /// `{entity}_history` is one too; names starting with `dal_` and ending in
    /// `_history` are reserved. Table names ignore case on SQLite (and on MySQL,
    /// depending on `lower_case_table_names`), so upper case is refused rather
    /// than letting `Customers` and `customers` share a table. A bad name is
    /// [`Error::InvalidInput`], never SQL.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    ///
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let customers = db.dynamic("customers")?;
    /// let ada = customers.save(json!({"name": "Ada", "age": 36})).await?;
    /// assert_eq!(ada["id"], 1);
    ///
    /// assert!(matches!(db.dynamic("drop table"), Err(dal::Error::InvalidInput { .. })));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn dynamic(&self, entity: &str) -> Result<Dynamic> {
        check_entity_name(entity)?;
        Ok(Dynamic {
            db: self.clone(),
            names: Arc::new(Names {
                entity: entity.to_string(),
                history: dal_schema::entity::history_table_name(entity),
            }),
            cache: Arc::new(Mutex::new(None)),
        })
    }
}

fn check_entity_name(name: &str) -> Result<()> {
    let bad = |reason: String| Err(Error::invalid_input("entity", reason));
    if !is_valid_identifier(name) {
        return bad(format!(
            "entity name `{name}` is not an identifier: use ASCII letters, digits or `_`, not starting with a digit"
        ));
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return bad(format!(
            "entity name `{name}` has upper-case letters; table names ignore case on SQLite and often on MySQL, so use `{}`",
            name.to_ascii_lowercase()
        ));
    }
    if name.len() > MAX_ENTITY_LEN {
        return bad(format!(
            "entity name `{name}` is longer than {MAX_ENTITY_LEN} characters (its history table `{name}_history` must fit {})",
            dal_schema::MAX_IDENTIFIER_LEN
        ));
    }
    if name.starts_with("dal_") {
        return bad(format!(
            "entity name `{name}` starts with `dal_`, which is reserved for dal's own tables"
        ));
    }
    if name.ends_with("_history") {
        return bad(format!(
            "entity name `{name}` ends with `_history`, which is reserved for history tables"
        ));
    }
    Ok(())
}

/// A dynamic entity: schemaless JSON objects stored in a real table (see
/// [`Db::dynamic`]).
///
/// # Storage
///
/// The entity `customers` lives in the table `customers`: `id` (a 64-bit
/// auto-increment primary key), `version`, `created_at`, `updated_at`,
/// `deleted_at` (instants, maintained by dal), then one nullable column per field.
/// A field's column is added (`ALTER TABLE .. ADD COLUMN`) the first time a
/// non-null value arrives for it; its type comes from that value (see
/// [`FieldKind`]) and is recorded in the table `dal_dynamic_fields` (`entity`,
/// `field`, `kind`, `position`, `added_at`), so reads give back the JSON types
/// that were saved: numbers stay numbers, booleans stay booleans (MySQL's
/// `TINYINT(1)` and SQLite's 0/1 included), dates come back as the same ISO
/// strings, objects and arrays as JSON. Every write also records the whole
/// object in `customers_history` (history id, `entity_id`, `version`,
/// `operation`, `actor`, `comment`, `recorded_at`, `data`) in the same
/// transaction.
///
/// # The shape of objects
///
/// - Only JSON objects are saved; field names must be identifiers and not one of
///   dal's columns. `id`, `version`, `created_at`, `updated_at` and `deleted_at`
///   are what dal returns: pass `id` (and optionally `version`) back to update a
///   row; the timestamps are ignored, so an object read back can be saved as is.
/// - `null` and a missing field mean the same: no value. A field that has only
///   ever been `null` gets no column, and reads leave out fields without a
///   value, so rows saved before a field existed read without it.
/// - Saving an object with an `id` replaces that row's fields with the object's
///   (fields it leaves out become empty) and makes a new version. With a
///   `version` too, the row must still have that version, else
///   [`Error::StaleVersion`] and nothing is written. An `id` that does not exist
///   (or is soft-deleted) is [`Error::NotFound`]; [`Dynamic::import`] inserts
///   objects with the ids they carry.
/// - A field's type is fixed by its first value. An integer field widens to
///   double when a fractional number arrives (the column is altered on
///   PostgreSQL and MySQL; SQLite stores both in the same column), after which
///   its integers read back as doubles (`36.0`); a text field takes any string;
///   any other change (an integer field given a string, say) is
///   [`Error::InvalidInput`] naming the field and both types, and nothing is
///   written. `null` always fits.
/// - Date-times are stored as instants in UTC with microsecond precision and read
///   back as RFC 3339 in UTC (`"2024-05-01T12:30:00+02:00"` reads back as
///   `"2024-05-01T10:30:00Z"`); `save` returns them in that form too.
/// - A value the backend cannot store and read back exactly is
///   [`Error::InvalidInput`] naming its field, before anything is written (no
///   table, column or row): an object nested deeper than
///   [`JSON_MAX_DEPTH`](crate::JSON_MAX_DEPTH) levels (the object itself is the
///   first), `-0.0` on SQLite and MySQL (it would read back as `0.0`), U+0000 in
///   a string on PostgreSQL, an integer beyond ±2^53 for a field that holds
///   doubles, text over 16 MiB on MySQL. Inside JSON documents numbers are JSON
///   numbers (PostgreSQL's jsonb reads `-0.0` back as `0.0`).
///
/// # Schema changes and concurrency
///
/// New columns are added before the data transaction starts (the MySQL family
/// commits DDL implicitly). Several processes may add the same field at once: on
/// PostgreSQL the change runs in a transaction under an advisory lock and uses
/// `ADD COLUMN IF NOT EXISTS`; on SQLite it runs under `BEGIN IMMEDIATE` after
/// checking the live columns; on the MySQL family every step tolerates "already
/// exists", a column found without metadata takes the kind of its live type, and
/// the fields are read again once the change has committed (a read inside its
/// transaction would see a snapshot without fields other processes recorded).
///
/// A handle caches the field metadata (clones share it) and re-reads it when a
/// save brings a field it does not know, when a query names one, and when a
/// read fails because a column changed; call [`Dynamic::refresh`] to see fields
/// other processes added since. Handles are cheap: make one per unit of work.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::{SaveOptions, Value};
/// use serde_json::json;
///
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// let customers = db.dynamic("customers")?;
/// let ada = customers
///     .save(json!({"name": "Ada", "age": 36, "vip": true, "born": "1815-12-10",
///                  "tags": ["math"], "address": {"city": "London"}}))
///     .await?;
/// assert_eq!(ada["version"], 1);
///
/// // update: the same id, a new version
/// let mut changed = ada.clone();
/// changed["age"] = json!(37);
/// let options = SaveOptions::new().actor("alice").comment("birthday");
/// let changed = customers.save_with(changed, &options).await?;
/// assert_eq!(changed["version"], 2);
///
/// let id = ada["id"].as_i64().unwrap();
/// assert_eq!(customers.get(id).await?, Some(changed.clone()));
/// let adults = customers
///     .find()
///     .filter("[age] >= ? AND [vip] = ?", vec![Value::from(18), Value::from(true)])
///     .order_by_asc("name")
///     .limit(10)
///     .all()
///     .await?;
/// assert_eq!(adults, vec![changed]);
/// assert_eq!(customers.history(id).await?.len(), 2);
/// assert_eq!(customers.at_version(id, 1).await?, Some(ada));
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Dynamic {
    db: Db,
    names: Arc<Names>,
    cache: Arc<Mutex<Option<Arc<Meta>>>>,
}

impl fmt::Debug for Dynamic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields = self
            .cached()
            .map(|m| m.fields.keys().cloned().collect::<Vec<_>>());
        f.debug_struct("Dynamic")
            .field("entity", &self.names.entity)
            .field("db", &self.db.config().name())
            .field("known_fields", &fields)
            .finish()
    }
}

/// Who made a change and why, recorded in the history.
///
/// ```
/// let options = dal::SaveOptions::new().actor("alice").comment("import");
/// assert_eq!(options.actor.as_deref(), Some("alice"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaveOptions {
    /// Who made the change (a user name, a job name).
    pub actor: Option<String>,
    /// Why.
    pub comment: Option<String>,
}

impl SaveOptions {
    /// No actor, no comment.
    pub fn new() -> Self {
        SaveOptions::default()
    }

    /// Set the actor.
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }

    /// Set the comment.
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    fn audit(&self) -> Audit {
        Audit::new(self.actor.clone(), self.comment.clone())
    }
}

/// One version of a dynamic entity's row, from [`Dynamic::history`].
#[derive(Debug, Clone, PartialEq)]
pub struct DynamicVersion {
    /// The version number (1 for the insert, then one more per change).
    pub version: i64,
    /// `"insert"`, `"update"`, `"delete"` (soft) or `"restore"`.
    pub operation: String,
    /// [`SaveOptions::actor`] of the change.
    pub actor: Option<String>,
    /// [`SaveOptions::comment`] of the change.
    pub comment: Option<String>,
    /// When the change was made.
    pub at: DateTime<Utc>,
    /// The whole object as it was after the change (as `get` would have returned it).
    pub data: J,
}

/// `version, operation, actor, comment, recorded_at, data` of a history row.
type HistoryRow = (
    i64,
    String,
    Option<String>,
    Option<String>,
    DateTime<Utc>,
    J,
);

/// One field of a dynamic entity, from [`Dynamic::fields`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicField {
    /// The field (and column) name.
    pub name: String,
    /// Its type.
    pub kind: FieldKind,
    /// The order in which fields were first seen (1 for the first).
    pub position: i64,
    /// When its column was added.
    pub added_at: Option<DateTime<Utc>>,
}

impl Dynamic {
    /// The entity's name (and table name).
    pub fn name(&self) -> &str {
        &self.names.entity
    }

    fn cached(&self) -> Option<Arc<Meta>> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn store(&self, meta: Arc<Meta>) {
        if meta.exists {
            *self
                .cache
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(meta);
        }
    }

    /// The cached metadata, read on first use. An entity whose table does not
    /// exist yet is not cached, so a table created later is seen.
    async fn meta(&self) -> Result<Arc<Meta>> {
        match self.cached() {
            Some(meta) => Ok(meta),
            None => self.reload().await,
        }
    }

    async fn reload(&self) -> Result<Arc<Meta>> {
        let meta = Arc::new(schema::load(&self.db, &self.names).await?);
        self.store(meta.clone());
        Ok(meta)
    }

    /// Re-read the field metadata (to see fields other processes or handles
    /// added since this handle read it).
    pub async fn refresh(&self) -> Result<()> {
        self.reload().await.map(|_| ())
    }

    /// Run a read with the cached metadata; when it fails the way a stale cache
    /// makes reads fail (a column changed type or is unknown), re-read the
    /// metadata and run it once more.
    async fn read_with<T, F, Fut>(&self, refresh_first: bool, f: F) -> Result<T>
    where
        F: Fn(Arc<Meta>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let meta = if refresh_first {
            self.reload().await?
        } else {
            self.meta().await?
        };
        match f(meta.clone()).await {
            Err(e) if rules::is_stale_schema(&e) => {
                let fresh = self.reload().await?;
                if *fresh == *meta {
                    return Err(e);
                }
                f(fresh).await
            }
            r => r,
        }
    }

    /// Save one JSON object and return it as stored: with `id`, `version`,
    /// `created_at` and `updated_at` filled, dates and numbers in the form reads
    /// return. An object with the `id` of an existing row updates that row (a new
    /// version); see [`Dynamic`] for the rules.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let notes = db.dynamic("notes")?;
    /// let note = notes.save(json!({"title": "hello", "due": "2024-05-01"})).await?;
    /// assert_eq!(note["due"], "2024-05-01");
    ///
    /// let err = notes.save(json!({"title": 42})).await.unwrap_err();
    /// assert!(matches!(err, dal::Error::InvalidInput { ref field, .. } if field == "title"));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn save(&self, object: J) -> Result<J> {
        self.save_with(object, &SaveOptions::default()).await
    }

    /// [`Dynamic::save`] recording an actor and a comment in the history.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let notes = db.dynamic("notes")?;
    /// let options = dal::SaveOptions { actor: Some("alice".into()), comment: Some("import".into()) };
    /// let note = notes.save_with(json!({"title": "hello"}), &options).await?;
    /// let history = notes.history(note["id"].as_i64().unwrap()).await?;
    /// assert_eq!(history[0].actor.as_deref(), Some("alice"));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn save_with(&self, object: J, options: &SaveOptions) -> Result<J> {
        let incoming = incoming::validate(0, false, object, self.db.dialect(), Mode::Save)?;
        let mut saved = self.write(vec![incoming], options, Mode::Save).await?;
        saved
            .pop()
            .ok_or_else(|| Error::Driver("the object was not saved".into()))
    }

    /// Save several objects in one transaction: new ones with multi-row inserts
    /// in chunks within the dialect's bind-parameter limit, ones with an `id` as
    /// updates. Returns them as stored, in the same order. Nothing is written if
    /// any object is refused.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let points = db.dynamic("points")?;
    /// let saved = points.save_many((0..1000).map(|i| json!({"x": i})).collect()).await?;
    /// assert_eq!(saved[999]["x"], 999);
    /// assert_eq!(points.count().await?, 1000);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn save_many(&self, objects: Vec<J>) -> Result<Vec<J>> {
        self.save_many_with(objects, &SaveOptions::default()).await
    }

    /// [`Dynamic::save_many`] recording an actor and a comment in the history.
    pub async fn save_many_with(&self, objects: Vec<J>, options: &SaveOptions) -> Result<Vec<J>> {
        let batch = self.validate_all(objects, Mode::Save)?;
        self.write(batch, options, Mode::Save).await
    }

    /// Insert objects that carry their own ids, e.g. rows exported from another
    /// database: each object is inserted with its `id` as a new row (version 1,
    /// an `"insert"` history entry), in one transaction, with multi-row inserts.
    /// Returns them as stored, in the same order.
    ///
    /// - Every object needs an integer `id` of at least 1, and no two the same.
    ///   An id that a row already has (soft-deleted rows included) is
    ///   [`Error::InvalidInput`] naming it: import only inserts (save an object
    ///   with its `id` to update a row). Nothing is written if any object is
    ///   refused.
    /// - `version`, `created_at`, `updated_at` and `deleted_at` are dal's, as in
    ///   [`Dynamic::save`]: they are not imported; the rows are new, live, at
    ///   version 1.
    /// - Afterwards new objects get ids after the highest id there is, on every
    ///   backend (on PostgreSQL the id sequence is moved forward in the same
    ///   transaction; MySQL/MariaDB and SQLite do it themselves).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let albums = db.dynamic("albums")?;
    /// albums.import(vec![json!({"id": 7, "title": "Blue"}), json!({"id": 42, "title": "Kind of Blue"})]).await?;
    /// assert_eq!(albums.get(42).await?.unwrap()["title"], "Kind of Blue");
    /// let next = albums.save(json!({"title": "Mingus Ah Um"})).await?;
    /// assert_eq!(next["id"], 43);
    /// let err = albums.import(vec![json!({"id": 7, "title": "again"})]).await.unwrap_err();
    /// assert!(matches!(err, dal::Error::InvalidInput { ref field, .. } if field == "id"));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn import(&self, objects: Vec<J>) -> Result<Vec<J>> {
        self.import_with(objects, &SaveOptions::default()).await
    }

    /// [`Dynamic::import`] recording an actor and a comment in the history.
    pub async fn import_with(&self, objects: Vec<J>, options: &SaveOptions) -> Result<Vec<J>> {
        let batch = self.validate_all(objects, Mode::Import)?;
        let mut seen = std::collections::BTreeMap::new();
        for obj in &batch {
            if let Some(id) = obj.id
                && let Some(first) = seen.insert(id, obj.index)
            {
                return Err(Error::invalid_input(
                    "id",
                    format!("objects #{first} and #{} both have id {id}", obj.index),
                ));
            }
        }
        // refuse ids that are taken before any schema change (the transaction
        // checks again: another process may import the same ids meanwhile)
        if !batch.is_empty() && self.meta().await?.exists {
            let ids: Vec<(usize, i64)> = batch
                .iter()
                .map(|o| (o.index, o.id.unwrap_or_default()))
                .collect();
            for (sql, params) in write::taken_ids_sql(&self.names.entity, &ids, self.db.dialect()) {
                let taken: Vec<(i64,)> = self.db.fetch_all_as(&sql, params).await?;
                if let Some(&(id,)) = taken.iter().min() {
                    return Err(write::id_taken(&self.names.entity, &ids, id));
                }
            }
        }
        self.write(batch, options, Mode::Import).await
    }

    /// Validate a batch; on the first refusal the objects not yet looked at are
    /// dropped without recursion (any of them may be nested very deeply).
    fn validate_all(&self, objects: Vec<J>, mode: Mode) -> Result<Vec<incoming::Incoming>> {
        let dialect = self.db.dialect();
        let mut batch = Vec::with_capacity(objects.len());
        let mut objects = objects.into_iter().enumerate();
        for (i, object) in objects.by_ref() {
            match incoming::validate(i, true, object, dialect, mode) {
                Ok(incoming) => batch.push(incoming),
                Err(e) => {
                    objects.for_each(|(_, rest)| crate::checks::drop_json(rest));
                    return Err(e);
                }
            }
        }
        Ok(batch)
    }

    async fn write(
        &self,
        batch: Vec<incoming::Incoming>,
        options: &SaveOptions,
        mode: Mode,
    ) -> Result<Vec<J>> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let wanted = incoming::batch_kinds(&batch)?;
        let mut meta = self.meta().await?;
        if schema::needs_changes(&meta, &wanted)? {
            // every value must fit the fields as they will be, before any DDL
            incoming::check_planned(&batch, &meta, &wanted)?;
            let fresh = schema::ensure(&self.db, self.names.clone(), Arc::new(wanted)).await?;
            meta = Arc::new(fresh);
            self.store(meta.clone());
        }
        let job = Arc::new(SaveJob {
            names: self.names.clone(),
            rows: incoming::prepare(batch, &meta)?,
            meta,
            audit: options.audit(),
            mode,
        });
        let (objects, fresh) = self
            .db
            .transaction(move |tx| {
                let job = job.clone();
                Box::pin(async move { job.run(tx).await })
            })
            .await?;
        if let Some(fresh) = fresh {
            self.store(Arc::new(fresh));
        }
        Ok(objects)
    }

    /// The object with this id, unless it does not exist or is soft-deleted.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let notes = db.dynamic("notes")?;
    /// assert_eq!(notes.get(1).await?, None);
    /// let note = notes.save(json!({"title": "hello", "pinned": false})).await?;
    /// let back = notes.get(1).await?.unwrap();
    /// assert_eq!(back, note);
    /// assert_eq!(back["pinned"], false);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn get(&self, id: i64) -> Result<Option<J>> {
        self.read_with(false, |meta| async move {
            if !meta.exists {
                return Ok(None);
            }
            let select = object::select_sql(&self.names, &meta);
            let sql = format!("{} WHERE [id] = ? AND [deleted_at] IS NULL", select.sql);
            match self.db.fetch_optional(&sql, (id,)).await? {
                Some(row) => object::row_object(&row, &select.fields).map(Some),
                None => Ok(None),
            }
        })
        .await
    }

    /// Start a query over the entity's objects (soft-deleted ones excluded unless
    /// asked for).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::Value;
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let people = db.dynamic("people")?;
    /// people.save_many(vec![json!({"name": "Ada", "age": 36}), json!({"name": "Bob", "age": 12}),
    ///                       json!({"name": "Cy", "age": 70})]).await?;
    /// let adults = people.find().filter("[age] >= ?", vec![Value::from(18)])
    ///     .order_by_desc("age").all().await?;
    /// let names: Vec<_> = adults.iter().map(|p| p["name"].as_str().unwrap()).collect();
    /// assert_eq!(names, ["Cy", "Ada"]);
    /// assert_eq!(people.find().filter("[age] < ?", vec![Value::from(18)]).count().await?, 1);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn find(&self) -> DynamicFind<'_> {
        DynamicFind {
            entity: self,
            spec: FindSpec::default(),
        }
    }

    /// How many objects there are (soft-deleted ones excluded); `find().filter(..).count()`
    /// counts some of them.
    pub async fn count(&self) -> Result<i64> {
        self.find().count().await
    }

    /// Soft-delete: set `deleted_at` (a new version, operation `"delete"`), so
    /// `get`, `find` and `count` no longer see the object. `Ok(false)` when there
    /// is no such object or it is deleted already.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let notes = db.dynamic("notes")?;
    /// notes.save(json!({"title": "hello"})).await?;
    /// assert!(notes.delete(1).await?);
    /// assert_eq!(notes.get(1).await?, None);
    /// assert_eq!(notes.find().include_deleted(true).all().await?.len(), 1);
    /// assert!(notes.restore(1).await?);
    /// assert_eq!(notes.get(1).await?.unwrap()["version"], 3);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn delete(&self, id: i64) -> Result<bool> {
        self.delete_with(id, &SaveOptions::default()).await
    }

    /// [`Dynamic::delete`] recording an actor and a comment in the history.
    pub async fn delete_with(&self, id: i64, options: &SaveOptions) -> Result<bool> {
        self.change_state(id, true, options).await
    }

    /// Undo a soft delete (a new version, operation `"restore"`). `Ok(false)` when
    /// there is no such object or it is not deleted.
    pub async fn restore(&self, id: i64) -> Result<bool> {
        self.restore_with(id, &SaveOptions::default()).await
    }

    /// [`Dynamic::restore`] recording an actor and a comment in the history.
    pub async fn restore_with(&self, id: i64, options: &SaveOptions) -> Result<bool> {
        self.change_state(id, false, options).await
    }

    async fn change_state(&self, id: i64, delete: bool, options: &SaveOptions) -> Result<bool> {
        if !self.meta().await?.exists {
            return Ok(false);
        }
        let job = Arc::new(StateJob {
            names: self.names.clone(),
            id,
            delete,
            audit: options.audit(),
        });
        let (changed, meta) = self
            .db
            .transaction(move |tx| {
                let job = job.clone();
                Box::pin(async move { job.run(tx).await })
            })
            .await?;
        self.store(Arc::new(meta));
        Ok(changed)
    }

    /// Remove the object (deleted or not) and its history for good. `Ok(false)`
    /// when there is no such object.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let notes = db.dynamic("notes")?;
    /// notes.save(json!({"title": "hello"})).await?;
    /// assert!(notes.delete_permanently(1).await?);
    /// assert!(!notes.delete_permanently(1).await?);
    /// assert!(notes.history(1).await?.is_empty());
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn delete_permanently(&self, id: i64) -> Result<bool> {
        if !self.meta().await?.exists {
            return Ok(false);
        }
        let delete_row = format!("DELETE FROM [{}] WHERE [id] = ?", self.names.entity);
        let delete_history = format!("DELETE FROM [{}] WHERE [entity_id] = ?", self.names.history);
        let sql = Arc::new((delete_row, delete_history));
        self.db
            .transaction(move |tx| {
                let sql = sql.clone();
                Box::pin(async move {
                    let removed = tx.execute(&sql.0, (id,)).await?.rows_affected;
                    tx.execute(&sql.1, (id,)).await?;
                    Ok(removed > 0)
                })
            })
            .await
    }

    /// Every version of the object, oldest first, with operation, actor, comment,
    /// time and the whole object after each change. Empty when there is none.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let notes = db.dynamic("notes")?;
    /// let mut note = notes.save(json!({"title": "draft"})).await?;
    /// note["title"] = json!("final");
    /// notes.save(note).await?;
    /// let history = notes.history(1).await?;
    /// let ops: Vec<_> = history.iter().map(|v| v.operation.as_str()).collect();
    /// assert_eq!(ops, ["insert", "update"]);
    /// assert_eq!(history[0].data["title"], "draft");
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn history(&self, id: i64) -> Result<Vec<DynamicVersion>> {
        if !self.meta().await?.exists {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT [version], [operation], [actor], [comment], [recorded_at], [data] FROM [{}] WHERE [entity_id] = ? ORDER BY [version]",
            self.names.history
        );
        let rows: Vec<HistoryRow> = self.db.fetch_all_as(&sql, (id,)).await?;
        Ok(rows
            .into_iter()
            .map(
                |(version, operation, actor, comment, at, data)| DynamicVersion {
                    version,
                    operation,
                    actor,
                    comment,
                    at,
                    data,
                },
            )
            .collect())
    }

    /// The object as it was at `version` (rebuilt from the history), if that
    /// version exists.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let notes = db.dynamic("notes")?;
    /// let mut note = notes.save(json!({"title": "draft"})).await?;
    /// note["title"] = json!("final");
    /// notes.save(note).await?;
    /// assert_eq!(notes.at_version(1, 1).await?.unwrap()["title"], "draft");
    /// assert_eq!(notes.at_version(1, 3).await?, None);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn at_version(&self, id: i64, version: i64) -> Result<Option<J>> {
        if !self.meta().await?.exists {
            return Ok(None);
        }
        let sql = format!(
            "SELECT [data] FROM [{}] WHERE [entity_id] = ? AND [version] = ?",
            self.names.history
        );
        let row: Option<(J,)> = self.db.fetch_optional_as(&sql, (id, version)).await?;
        Ok(row.map(|(data,)| data))
    }

    /// The entity's fields and their kinds, in the order they were first seen
    /// (read fresh from the metadata table).
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use dal::FieldKind;
    /// use serde_json::json;
    /// let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// let notes = db.dynamic("notes")?;
    /// notes.save(json!({"title": "hello", "stars": 3})).await?;
    /// let kinds: Vec<_> = notes.fields().await?.into_iter().map(|f| (f.name, f.kind)).collect();
    /// assert!(kinds.contains(&("stars".to_string(), FieldKind::BigInteger)));
    /// assert!(kinds.contains(&("title".to_string(), FieldKind::Text)));
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub async fn fields(&self) -> Result<Vec<DynamicField>> {
        let meta = self.reload().await?;
        let mut fields: Vec<DynamicField> = meta
            .fields
            .iter()
            .map(|(name, f)| DynamicField {
                name: name.clone(),
                kind: f.kind,
                position: f.position,
                added_at: f.added_at,
            })
            .collect();
        fields.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
        Ok(fields)
    }
}

/// A query over a dynamic entity's objects, from [`Dynamic::find`].
///
/// Filters are portable SQL (`[field]` quotes a field, `?` marks a parameter; see
/// [`dal_schema::sql`]) with their parameters as [`Value`]s; several filters are
/// combined with `AND`. Compare with values of the field's type: integers,
/// floats, booleans, [`chrono::NaiveDate`] for date fields and
/// `chrono::DateTime<Utc>` for date-time fields (PostgreSQL does not compare a
/// date with text). Results are ordered by the requested fields with empty
/// values last, then by `id`.
#[derive(Debug, Clone)]
#[must_use = "a query does nothing until `all`, `one` or `count` runs it"]
pub struct DynamicFind<'a> {
    entity: &'a Dynamic,
    spec: FindSpec,
}

impl DynamicFind<'_> {
    /// Keep objects matching `sql` (portable SQL with `?` parameters).
    pub fn filter(mut self, sql: &str, params: impl IntoIterator<Item = Value>) -> Self {
        self.spec
            .filters
            .push((sql.to_string(), params.into_iter().collect()));
        self
    }

    /// Sort by `field` (a field, or `id`, `version`, `created_at`, `updated_at`,
    /// `deleted_at`), ascending; later calls add further sort keys.
    pub fn order_by_asc(mut self, field: &str) -> Self {
        self.spec.order.push((field.to_string(), Direction::Asc));
        self
    }

    /// Sort by `field`, descending.
    pub fn order_by_desc(mut self, field: &str) -> Self {
        self.spec.order.push((field.to_string(), Direction::Desc));
        self
    }

    /// Return at most `n` objects.
    pub fn limit(mut self, n: u64) -> Self {
        self.spec.limit = Some(n);
        self
    }

    /// Skip the first `n` objects.
    pub fn offset(mut self, n: u64) -> Self {
        self.spec.offset = Some(n);
        self
    }

    /// Include soft-deleted objects (they carry `deleted_at`).
    pub fn include_deleted(mut self, include: bool) -> Self {
        self.spec.include_deleted = include;
        self
    }

    /// Run the query.
    pub async fn all(self) -> Result<Vec<J>> {
        let entity = self.entity;
        let spec = &self.spec;
        let stale = entity
            .cached()
            .is_some_and(|meta| spec.mentions_unknown(&meta));
        entity
            .read_with(stale, |meta| async move {
                if !meta.exists {
                    return Ok(Vec::new());
                }
                let (select, params) = spec.select(&entity.names, &meta, entity.db.dialect())?;
                let rows = entity.db.fetch_all(&select.sql, params).await?;
                rows.iter()
                    .map(|row| object::row_object(row, &select.fields))
                    .collect()
            })
            .await
    }

    /// Run the query and return the first object, if any.
    pub async fn one(self) -> Result<Option<J>> {
        Ok(self.limit(1).all().await?.into_iter().next())
    }

    /// How many objects match the filters (order, limit and offset do not apply).
    pub async fn count(self) -> Result<i64> {
        let entity = self.entity;
        let spec = &self.spec;
        let stale = entity
            .cached()
            .is_some_and(|meta| spec.mentions_unknown(&meta));
        entity
            .read_with(stale, |meta| async move {
                if !meta.exists {
                    return Ok(0);
                }
                let (sql, params) = spec.count(&entity.names, entity.db.dialect())?;
                entity.db.fetch_scalar::<i64, _>(&sql, params).await
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Handles and their futures can move between threads (`tokio::spawn`).
    #[allow(dead_code)]
    fn handles_and_futures_are_send(d: &Dynamic) {
        fn send<T: Send + Sync>(_: &T) {}
        fn send_future<T: Send>(_: T) {}
        send(d);
        send_future(d.save(J::Null));
        send_future(d.save_many(Vec::new()));
        send_future(d.import(Vec::new()));
        send_future(d.get(1));
        send_future(d.find().all());
        send_future(d.find().count());
        send_future(d.delete(1));
        send_future(d.restore(1));
        send_future(d.delete_permanently(1));
        send_future(d.history(1));
        send_future(d.at_version(1, 1));
        send_future(d.fields());
    }

    #[test]
    fn entity_names() {
        for good in ["customers", "order_lines", "_x", "a1"] {
            check_entity_name(good).unwrap();
        }
        check_entity_name(&"e".repeat(55)).unwrap();
        for bad in [
            "",
            "1st",
            "drop table",
            "x;--",
            "Customers",
            "dal_dynamic_fields",
            "orders_history",
            &"e".repeat(56),
        ] {
            assert!(
                matches!(check_entity_name(bad), Err(Error::InvalidInput { ref field, .. }) if field == "entity"),
                "{bad}"
            );
        }
    }
}
