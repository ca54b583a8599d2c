//! Time travel on every backend: `Find::as_of` and `Entity::get_as_of` read
//! the rows as they were at an instant from the history table, with the
//! boundaries of SQL:2011's `FOR SYSTEM_TIME AS OF` (a version written at t
//! is visible as of t), filters applied to that state, and deleted rows
//! absent after their deletion.

use std::time::Duration;

use chrono::{DateTime, Utc};
use dal::{Entity, Error, Operation};

use crate::support::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "tt_prices", history, soft_delete, has_many(notes = Note::PRICE))]
pub struct Price {
    #[dal(id)]
    pub id: i64,
    #[dal(length = 20)]
    pub sku: String,
    pub cents: i64,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "tt_notes", history)]
pub struct Note {
    #[dal(id)]
    pub id: i64,
    #[dal(belongs_to = Price, on_delete = "cascade")]
    pub price_id: i64,
    pub text: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "tt_plain")]
pub struct Plain {
    #[dal(id)]
    pub id: i64,
    pub n: i64,
}

fn price(sku: &str, cents: i64) -> Price {
    Price {
        id: 0,
        sku: sku.into(),
        cents,
    }
}

/// Versions recorded with the server's clock: leave room between them so
/// that even SQLite's millisecond stamps keep them apart.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(25)).await;
}

/// The instant the latest version of row `id` was recorded.
async fn stamp(db: &dal::Db, id: i64) -> (DateTime<Utc>, Operation) {
    let h = Price::history(db, id).await.unwrap();
    let last = h.last().expect("a version");
    (last.at, last.operation)
}

fn ms(n: i64) -> chrono::Duration {
    chrono::Duration::milliseconds(n)
}

fn skus(rows: &[Price]) -> Vec<(&str, i64)> {
    rows.iter().map(|p| (p.sku.as_str(), p.cents)).collect()
}

/// Inserts, updates, soft deletes, restores and permanent deletes, each read
/// back as of the instant it was recorded (visible), just before it (the
/// previous state), with filters, order, limit, counts and `get_as_of`
/// applied to the state of that instant.
pub async fn tt_as_of_follows_every_write(t: &TestDb) {
    let db = &t.db;
    Price::ensure_schema(db).await.unwrap();
    Note::ensure_schema(db).await.unwrap();

    let mut a = price("a", 100);
    a.save(db).await.unwrap();
    let (t_a, op) = stamp(db, a.id).await;
    assert_eq!(op, Operation::Insert);
    tick().await;
    let mut b = price("b", 200);
    b.save(db).await.unwrap();
    let (t_b, _) = stamp(db, b.id).await;
    tick().await;
    a.cents = 150;
    a.save(db).await.unwrap();
    let (t_a2, op) = stamp(db, a.id).await;
    assert_eq!(op, Operation::Update);
    tick().await;
    b.delete(db).await.unwrap(); // soft
    let (t_bdel, op) = stamp(db, b.id).await;
    assert_eq!(op, Operation::Delete);
    tick().await;
    b.restore(db).await.unwrap();
    let (t_bres, op) = stamp(db, b.id).await;
    assert_eq!(op, Operation::Restore);
    tick().await;
    a.delete_permanently(db).await.unwrap();
    let (t_agone, op) = stamp(db, a.id).await;
    assert_eq!(op, Operation::Delete);

    let at = |t: DateTime<Utc>| Price::find().order_by(Price::SKU.asc()).as_of(t);
    // before anything
    assert!(at(t_a - ms(10)).all(db).await.unwrap().is_empty());
    assert_eq!(at(t_a - ms(10)).count(db).await.unwrap(), 0);
    // a version is visible from the instant it was written
    assert_eq!(skus(&at(t_a).all(db).await.unwrap()), [("a", 100)]);
    assert_eq!(skus(&at(t_b - ms(5)).all(db).await.unwrap()), [("a", 100)]);
    assert_eq!(
        skus(&at(t_b).all(db).await.unwrap()),
        [("a", 100), ("b", 200)]
    );
    assert_eq!(
        skus(&at(t_a2 - ms(5)).all(db).await.unwrap()),
        [("a", 100), ("b", 200)]
    );
    assert_eq!(
        skus(&at(t_a2).all(db).await.unwrap()),
        [("a", 150), ("b", 200)]
    );
    // filters see the state of the instant, not today's
    let dear = |t: DateTime<Utc>| {
        Price::find()
            .filter(Price::CENTS.gt(120))
            .filter(Price::SKU.eq("a"))
            .as_of(t)
    };
    assert_eq!(dear(t_a2 - ms(5)).count(db).await.unwrap(), 0);
    assert_eq!(dear(t_a2).count(db).await.unwrap(), 1);
    assert!(dear(t_a2).exists(db).await.unwrap());
    assert_eq!(
        skus(
            &Price::find()
                .order_by(Price::CENTS.desc())
                .limit(1)
                .as_of(t_a2)
                .all(db)
                .await
                .unwrap()
        ),
        [("b", 200)]
    );

    // soft-deleted: absent unless deleted rows are asked for
    assert_eq!(skus(&at(t_bdel).all(db).await.unwrap()), [("a", 150)]);
    assert_eq!(
        skus(&at(t_bdel).include_deleted().all(db).await.unwrap()),
        [("a", 150), ("b", 200)]
    );
    assert_eq!(
        skus(&at(t_bdel).only_deleted().all(db).await.unwrap()),
        [("b", 200)]
    );
    assert_eq!(Price::get_as_of(db, b.id, t_bdel).await.unwrap(), None);
    assert_eq!(
        Price::get_as_of(db, b.id, t_bdel - ms(5))
            .await
            .unwrap()
            .map(|p| p.cents),
        Some(200)
    );
    // restored
    assert_eq!(
        skus(&at(t_bres).all(db).await.unwrap()),
        [("a", 150), ("b", 200)]
    );
    assert!(at(t_bres).only_deleted().all(db).await.unwrap().is_empty());
    // permanently deleted: gone, deleted rows included or not
    assert_eq!(skus(&at(t_agone).all(db).await.unwrap()), [("b", 200)]);
    assert_eq!(
        skus(&at(t_agone).include_deleted().all(db).await.unwrap()),
        [("b", 200)]
    );
    assert_eq!(Price::get_as_of(db, a.id, t_agone).await.unwrap(), None);
    assert_eq!(
        Price::get_as_of(db, a.id, t_agone - ms(5))
            .await
            .unwrap()
            .map(|p| p.cents),
        Some(150)
    );
    // now and the future agree with the table
    let now = Utc::now() + ms(1000);
    assert_eq!(
        at(now).all(db).await.unwrap(),
        Price::find()
            .order_by(Price::SKU.asc())
            .all(db)
            .await
            .unwrap()
    );
}

/// A row soft-deleted and then deleted permanently is absent after the
/// permanent delete even when deleted rows are included (and present, as
/// deleted, between the two).
pub async fn tt_soft_then_permanent_delete(t: &TestDb) {
    let db = &t.db;
    Price::ensure_schema(db).await.unwrap();
    let mut c = price("c", 300);
    c.save(db).await.unwrap();
    tick().await;
    c.delete(db).await.unwrap();
    let (t_soft, _) = stamp(db, c.id).await;
    tick().await;
    c.delete_permanently(db).await.unwrap();
    let (t_gone, op) = stamp(db, c.id).await;
    assert_eq!(op, Operation::Delete);
    assert!(t_gone > t_soft);

    let deleted = |t: DateTime<Utc>| Price::find().include_deleted().as_of(t);
    assert_eq!(deleted(t_soft).count(db).await.unwrap(), 1);
    assert_eq!(deleted(t_gone).count(db).await.unwrap(), 0);
    assert_eq!(
        Price::find()
            .only_deleted()
            .as_of(t_gone)
            .count(db)
            .await
            .unwrap(),
        0
    );
}

/// Relations loaded with `with` are read as of the query's instant (children
/// added later are absent, children as they were then); the many versions a
/// transaction writes resolve to its last one; time travel on an entity
/// without history, or a write through a query as of an instant, is a clear
/// error that changes nothing.
pub async fn tt_relations_transactions_and_errors(t: &TestDb) {
    let db = &t.db;
    Price::ensure_schema(db).await.unwrap();
    Note::ensure_schema(db).await.unwrap();
    Plain::ensure_schema(db).await.unwrap();

    let mut p = price("p", 10);
    let mut notes = vec![Note {
        id: 0,
        price_id: 0,
        text: "first".into(),
    }];
    Price::NOTES.save(&mut p, &mut notes, db).await.unwrap();
    tick().await;
    let then = Utc::now();
    tick().await;
    notes[0].text = "edited".into();
    notes[0].save(db).await.unwrap();
    let mut later = Note {
        id: 0,
        price_id: p.id,
        text: "later".into(),
    };
    later.save(db).await.unwrap();

    let old = Price::find()
        .as_of(then)
        .with(Price::NOTES)
        .all(db)
        .await
        .unwrap();
    let texts: Vec<&str> = old[0]
        .related(Price::NOTES)
        .unwrap()
        .iter()
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(texts, ["first"]);
    let now = Price::find().with(Price::NOTES).all(db).await.unwrap();
    assert_eq!(now[0].related(Price::NOTES).unwrap().len(), 2);
    // a filter through a relation (on the related rows' current state)
    let noted = Price::find()
        .filter(Price::NOTES.any(Note::TEXT.eq("later")))
        .as_of(then)
        .all(db)
        .await
        .unwrap();
    assert_eq!(noted.len(), 1);
    assert_eq!(noted[0].cents, 10);

    // several versions in one transaction: the last one counts
    let mut tx = db.begin().await.unwrap();
    p.cents = 11;
    p.save(&mut tx).await.unwrap();
    p.cents = 12;
    p.save(&mut tx).await.unwrap();
    tx.commit().await.unwrap();
    tick().await;
    let after = Utc::now();
    assert_eq!(
        Price::get_as_of(db, p.id, after)
            .await
            .unwrap()
            .unwrap()
            .cents,
        12
    );
    assert_eq!(
        Price::get_as_of(db, p.id, then)
            .await
            .unwrap()
            .unwrap()
            .cents,
        10
    );

    // errors
    let mut plain = Plain { id: 0, n: 1 };
    plain.save(db).await.unwrap();
    let err = Plain::find().as_of(after).all(db).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert!(err.to_string().contains("history"), "{err}");
    let err = Plain::get_as_of(db, plain.id, after).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let err = Price::find()
        .as_of(then)
        .update_many(db, vec![Price::CENTS.set(0)])
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let err = Price::find().as_of(then).delete_many(db).await.unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(Price::get(db, p.id).await.unwrap().unwrap().cents, 12);
}

macro_rules! time_travel_tests {
    ($setup:path) => {
        backend_tests!($setup;
            timetravel::tt_as_of_follows_every_write,
            timetravel::tt_soft_then_permanent_delete,
            timetravel::tt_relations_transactions_and_errors,
        );
    };
}
