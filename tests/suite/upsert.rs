//! Upserts on any unique key on every backend: `on_conflict(KEY)` with
//! `update(..)`, `update_all()` and `do_nothing()`, single and bulk; what the
//! stored row and the entity hold afterwards (managed columns, history); and
//! the errors that change nothing.

use dal::{ConstraintKind, Entity, Error, Operation};
use uuid::Uuid;

use crate::support::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "up_members", history, timestamps)]
pub struct Member {
    #[dal(id)]
    pub id: i64,
    #[dal(unique, length = 120)]
    pub email: String,
    pub name: String,
    pub visits: i32,
    #[dal(version)]
    pub version: i64,
}

/// Two unique keys: a conflict on the other one is not resolved silently
/// (PostgreSQL, SQLite).
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "up_handles")]
pub struct Handle {
    #[dal(id)]
    pub id: Uuid,
    #[dal(unique, length = 40)]
    pub nick: String,
    pub note: String,
}

fn member(email: &str, name: &str, visits: i32) -> Member {
    Member {
        id: 0,
        email: email.into(),
        name: name.into(),
        visits,
        version: 0,
    }
}

/// One row: inserted when new (the entity gets its id), and on a conflict
/// on the unique email only the listed columns change; the entity then
/// holds the stored row (its id, the columns not updated, the next version),
/// and the history records the update.
pub async fn up_single_insert_then_update(t: &TestDb) {
    let db = &t.db;
    Member::ensure_schema(db).await.unwrap();
    let upsert = Member::on_conflict(Member::EMAIL).update((Member::NAME,));

    let mut ada = member("ada@x.org", "Ada", 3);
    assert!(upsert.save(&mut ada, db).await.unwrap());
    assert!(ada.id > 0);
    let stored = Member::get(db, ada.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.visits, stored.version),
        ("Ada", 3, 1)
    );

    let mut again = member("ada@x.org", "Ada Lovelace", 99);
    assert!(upsert.save(&mut again, db).await.unwrap());
    assert_eq!(again.id, ada.id, "the existing row's id");
    assert_eq!(again.name, "Ada Lovelace");
    assert_eq!(again.visits, 3, "not updated: the stored value");
    assert_eq!(again.version, 2);
    assert_eq!(Member::find().count(db).await.unwrap(), 1);
    let stored = Member::get(db, ada.id).await.unwrap().unwrap();
    assert_eq!(stored, again);

    let history = Member::history(db, ada.id).await.unwrap();
    let ops: Vec<Operation> = history.iter().map(|h| h.operation).collect();
    assert_eq!(ops, [Operation::Insert, Operation::Update]);
    assert_eq!(history[1].entity.name, "Ada Lovelace");

    // several columns, and every data column
    let mut third = member("ada@x.org", "A. L.", 7);
    Member::on_conflict(Member::EMAIL)
        .update((Member::NAME, Member::VISITS))
        .save(&mut third, db)
        .await
        .unwrap();
    assert_eq!(
        (third.name.as_str(), third.visits, third.version),
        ("A. L.", 7, 3)
    );
    let mut fourth = member("ada@x.org", "Ada", 8);
    Member::on_conflict(Member::EMAIL)
        .update_all()
        .save(&mut fourth, db)
        .await
        .unwrap();
    let stored = Member::get(db, ada.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.name.as_str(), stored.visits, stored.version),
        ("Ada", 8, 4)
    );

    // on the primary key
    let mut by_id = member("other@x.org", "By id", 1);
    by_id.id = ada.id;
    Member::on_conflict(Member::ID)
        .update((Member::VISITS,))
        .save(&mut by_id, db)
        .await
        .unwrap();
    let stored = Member::get(db, ada.id).await.unwrap().unwrap();
    assert_eq!((stored.email.as_str(), stored.visits), ("ada@x.org", 1));
}

/// Insert or ignore: an existing row is left alone (false, the entity
/// unchanged), a new one inserted; in bulk, the count of rows written, ids
/// filled for the inserted ones.
pub async fn up_do_nothing_single_and_bulk(t: &TestDb) {
    let db = &t.db;
    Member::ensure_schema(db).await.unwrap();
    let mut ada = member("ada@x.org", "Ada", 1);
    ada.save(db).await.unwrap();

    let ignore = Member::on_conflict(Member::EMAIL).do_nothing();
    let mut dup = member("ada@x.org", "Impostor", 5);
    assert!(!ignore.save(&mut dup, db).await.unwrap());
    assert_eq!(dup, member("ada@x.org", "Impostor", 5), "unchanged");
    assert_eq!(Member::get(db, ada.id).await.unwrap().unwrap().name, "Ada");

    let mut batch = vec![
        member("bob@x.org", "Bob", 1),
        member("ada@x.org", "Again", 1),
        member("cy@x.org", "Cy", 1),
    ];
    assert_eq!(ignore.save_all(&mut batch, db).await.unwrap(), 2);
    assert!(batch[0].id > 0 && batch[2].id > 0);
    assert_eq!(batch[1].id, 0);
    assert_eq!(Member::find().count(db).await.unwrap(), 3);
    assert_eq!(
        batch[0],
        Member::get(db, batch[0].id).await.unwrap().unwrap()
    );

    // bulk update: existing and new rows in one call
    let mut batch = vec![
        member("bob@x.org", "Robert", 0),
        member("dee@x.org", "Dee", 0),
    ];
    let written = Member::on_conflict(Member::EMAIL)
        .update((Member::NAME,))
        .save_all(&mut batch, db)
        .await
        .unwrap();
    assert_eq!(written, 2);
    assert_eq!(batch[0].name, "Robert");
    assert_eq!(batch[0].version, 2);
    assert!(batch[1].id > 0);
    assert_eq!(Member::find().count(db).await.unwrap(), 4);
}

/// Refused before anything is sent: a key that is not unique, updating the
/// key or a managed column, no columns. A bulk upsert that fails midway
/// (another unique key on PostgreSQL and SQLite, where it is not resolved
/// silently) writes nothing and leaves no entity with an id. Inside a
/// transaction, an upsert is rolled back with it.
pub async fn up_errors_and_transactions(t: &TestDb) {
    let db = &t.db;
    Member::ensure_schema(db).await.unwrap();
    Handle::ensure_schema(db).await.unwrap();

    let mut m = member("ada@x.org", "Ada", 1);
    let err = Member::on_conflict(Member::NAME)
        .update((Member::VISITS,))
        .save(&mut m, db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(err.to_string().contains("not a unique key"), "{err}");
    let err = Member::on_conflict(Member::EMAIL)
        .update((Member::VERSION,))
        .save(&mut m, db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let err = Member::on_conflict(Member::EMAIL)
        .update((Member::ID,))
        .save(&mut m, db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(Member::find().count(db).await.unwrap(), 0);
    assert_eq!(m.id, 0);

    // uuid keys: the id generated for the insert, the stored id on a conflict
    let mut h = Handle {
        id: Uuid::nil(),
        nick: "ada".into(),
        note: "first".into(),
    };
    let on_nick = Handle::on_conflict(Handle::NICK).update((Handle::NOTE,));
    assert!(on_nick.save(&mut h, db).await.unwrap());
    assert!(!h.id.is_nil());
    let mut h2 = Handle {
        id: Uuid::nil(),
        nick: "ada".into(),
        note: "second".into(),
    };
    assert!(on_nick.save(&mut h2, db).await.unwrap());
    assert_eq!(h2.id, h.id);
    assert_eq!(h2.note, "second");

    // a conflict on the primary key while upserting on the nick
    if db.dialect() != dal::Dialect::MySql {
        let mut batch = vec![
            Handle {
                id: Uuid::nil(),
                nick: "bob".into(),
                note: "new".into(),
            },
            Handle {
                id: h.id,
                nick: "other".into(),
                note: "clash".into(),
            },
        ];
        let err = on_nick.save_all(&mut batch, db).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::ConstraintViolation {
                    kind: ConstraintKind::Unique,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(batch[0].id.is_nil(), "no id kept from a rolled-back batch");
        assert_eq!(Handle::find().count(db).await.unwrap(), 1);
    }

    let mut tx = db.begin().await.unwrap();
    let mut inside = member("tx@x.org", "Tx", 1);
    assert!(
        Member::on_conflict(Member::EMAIL)
            .do_nothing()
            .save(&mut inside, &mut tx)
            .await
            .unwrap()
    );
    assert_eq!(Member::find().count(&mut tx).await.unwrap(), 1);
    tx.rollback().await.unwrap();
    assert_eq!(Member::find().count(db).await.unwrap(), 0);
}

/// `update_by_id` writes only the columns it sets: two writers that loaded
/// the same row and change different columns both keep their change (a
/// whole-row save by the second would have undone the first's); the
/// version moves on and the history records each whole new version; a
/// missing id is `NotFound`, nothing set is `InvalidInput`.
pub async fn up_update_by_id_keeps_concurrent_changes(t: &TestDb) {
    let db = &t.db;
    Member::ensure_schema(db).await.unwrap();
    let mut m = member("ada@x.org", "Ada", 1);
    m.save(db).await.unwrap();

    // two requests load the row, then each changes its own column
    let a = Member::get(db, m.id).await.unwrap().unwrap();
    let b = Member::get(db, m.id).await.unwrap().unwrap();
    Member::update_by_id(a.id)
        .set(Member::NAME, "Ada Lovelace")
        .run(db)
        .await
        .unwrap();
    Member::update_by_id(b.id)
        .set(Member::VISITS, b.visits + 10)
        .audit(dal::Audit::by("counter"))
        .run(db)
        .await
        .unwrap();
    let stored = Member::get(db, m.id).await.unwrap().unwrap();
    assert_eq!(stored.name, "Ada Lovelace");
    assert_eq!(stored.visits, 11);
    assert_eq!(stored.version, 3);
    let history = Member::history(db, m.id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[2].entity, stored, "the whole new version");
    assert_eq!(history[2].actor.as_deref(), Some("counter"));

    // in a transaction, rolled back with it
    let mut tx = db.begin().await.unwrap();
    Member::update_by_id(m.id)
        .set(Member::NAME, "Nobody")
        .run(&mut tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(
        Member::get(db, m.id).await.unwrap().unwrap().name,
        "Ada Lovelace"
    );

    let err = Member::update_by_id(m.id + 1000)
        .set(Member::NAME, "Ghost")
        .run(db)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let err = Member::update_by_id(m.id).run(db).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    // (setting NULL into a NOT NULL column no longer compiles: `set_null`
    // takes nullable columns only)
    assert_eq!(Member::get(db, m.id).await.unwrap().unwrap(), stored);
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "up_profiles", history, timestamps)]
pub struct Profile {
    #[dal(id)]
    pub id: i64,
    pub name: String,
    pub bio: Option<String>,
    pub score: f64,
    #[dal(json)]
    pub tags: Vec<String>,
}

/// A tracked entity writes only the columns that changed since it was
/// loaded: two writers that loaded the same row and change different
/// columns both keep their change; nothing changed sends nothing; the entity
/// then equals the stored row and the history holds the whole new version;
/// a `#[dal(version)]` entity is still checked against its version.
pub async fn up_tracked_saves_only_changed_columns(t: &TestDb) {
    let db = &t.db;
    Profile::ensure_schema(db).await.unwrap();
    Member::ensure_schema(db).await.unwrap();
    let mut p = Profile {
        id: 0,
        name: "Ada".into(),
        bio: None,
        score: 1.5,
        tags: vec!["math".into()],
    };
    p.save(db).await.unwrap();

    let mut first = Profile::get_tracked(db, p.id).await.unwrap().unwrap();
    let mut second = Profile::find()
        .filter(Profile::ID.eq(p.id))
        .all_tracked(db)
        .await
        .unwrap()
        .remove(0);
    assert!(!first.is_changed());
    let before = db.stats().statements;
    first.save(db).await.unwrap();
    assert_eq!(
        db.stats().statements,
        before,
        "nothing changed, nothing sent"
    );

    first.bio = Some("analyst".into());
    first.tags.push("engines".into());
    second.score = 2.5;
    assert_eq!(first.changed_columns(), ["bio", "tags"]);
    assert_eq!(second.changed_columns(), ["score"]);
    first.save(db).await.unwrap();
    second.save(db).await.unwrap();
    assert!(!first.is_changed() && !second.is_changed());

    let stored = Profile::get(db, p.id).await.unwrap().unwrap();
    assert_eq!(stored.bio.as_deref(), Some("analyst"));
    assert_eq!(stored.tags, ["math", "engines"]);
    assert_eq!(stored.score, 2.5);
    assert_eq!(stored.name, "Ada");
    let history = Profile::history(db, p.id).await.unwrap();
    assert_eq!(history.len(), 3);
    assert_eq!(history[2].entity, stored, "the whole new version");

    // versioned: the second writer's copy is stale
    let mut m = member("ada@x.org", "Ada", 1);
    m.save(db).await.unwrap();
    let mut a = Member::get_tracked(db, m.id).await.unwrap().unwrap();
    let mut b = Member::get_tracked(db, m.id).await.unwrap().unwrap();
    a.name = "A".into();
    b.visits = 2;
    a.save(db).await.unwrap();
    assert_eq!(a.version, 2);
    let err = b.save(db).await.unwrap_err();
    assert!(matches!(err, Error::StaleVersion { .. }), "{err:?}");
    assert!(b.is_changed(), "a failed save keeps the changes to retry");
    assert_eq!(Member::get(db, m.id).await.unwrap().unwrap().visits, 1);

    // a row that is gone
    let mut gone = Profile::get_tracked(db, p.id).await.unwrap().unwrap();
    p.delete_permanently(db).await.unwrap();
    gone.name = "Ghost".into();
    let err = gone.save(db).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    // not saved yet: inserted whole
    let mut fresh = dal::Tracked::new(Profile {
        id: 0,
        name: "New".into(),
        bio: None,
        score: 0.0,
        tags: vec![],
    });
    fresh.save(db).await.unwrap();
    assert!(fresh.id > 0);
    assert_eq!(Profile::get(db, fresh.id).await.unwrap().unwrap(), *fresh);
}

macro_rules! upsert_tests {
    ($setup:path) => {
        backend_tests!($setup;
            upsert::up_single_insert_then_update,
            upsert::up_do_nothing_single_and_bulk,
            upsert::up_errors_and_transactions,
            upsert::up_update_by_id_keeps_concurrent_changes,
            upsert::up_tracked_saves_only_changed_columns,
        );
    };
}
