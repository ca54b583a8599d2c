//! Dynamic entities on every backend: JSON objects saved into tables whose
//! columns appear on first use, typed field metadata, updates and versions, bulk
//! saves, queries, soft deletes, history, name validation, type changes and
//! concurrent schema changes.

use chrono::NaiveDate;
use dal::{ColumnType, Db, Dialect, Error, FieldKind, SaveOptions, Value};
use serde_json::{Value as J, json};

use crate::support::TestDb;

fn id_of(object: &J) -> i64 {
    object["id"]
        .as_i64()
        .expect("saved objects carry an integer id")
}

/// The field and reason of an [`Error::InvalidInput`].
fn invalid(result: dal::Result<impl std::fmt::Debug>) -> (String, String) {
    match result {
        Err(Error::InvalidInput { field, reason }) => (field, reason),
        other => panic!("expected Error::InvalidInput, got {other:?}"),
    }
}

/// The object without dal's columns.
fn fields_only(object: &J) -> J {
    let mut map = object.as_object().expect("an object").clone();
    for system in ["id", "version", "created_at", "updated_at", "deleted_at"] {
        map.remove(system);
    }
    J::Object(map)
}

async fn kinds(entity: &dal::Dynamic) -> Vec<(String, FieldKind)> {
    let mut kinds: Vec<_> = entity
        .fields()
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.name, f.kind))
        .collect();
    kinds.sort();
    kinds
}

/// Every JSON type survives a save and a get with its type: integers stay
/// integers, doubles doubles, booleans booleans (MySQL's TINYINT and SQLite's
/// 0/1 included), dates the same strings, date-times RFC 3339 in UTC, objects and
/// arrays JSON; nulls are left out.
pub async fn dyn_round_trip_every_json_type(db: &TestDb) {
    let customers = db.dynamic("customers").unwrap();
    let input = json!({
        "name": "Zoë 'quoted' \"double\" ? [x] -- 🚀",
        "age": 36,
        "big": i64::MAX,
        "negative": -42,
        "score": 0.1,
        "ratio": -2.5e-300,
        "vip": true,
        "blocked": false,
        "born": "1815-12-10",
        "seen": "2024-01-31T10:20:30Z",
        "seen_precise": "2024-01-31T10:20:30.123456Z",
        "tags": ["a", 1, 2.5, null, true, {"k": "v"}],
        "address": {"city": "London", "zip": null, "lines": ["1 Main St"], "floor": 3},
        "code": "007",
        "empty": "",
        "not_a_date": "2024-02-30",
        "select": "keywords are quoted",
        "order": 2,
        "nick": null
    });
    let saved = customers.save(input.clone()).await.unwrap();
    let id = id_of(&saved);
    assert_eq!(saved["version"], 1);
    assert!(saved["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(saved["created_at"], saved["updated_at"]);
    assert!(saved.get("deleted_at").is_none());

    let mut expected = input.as_object().unwrap().clone();
    expected.remove("nick");
    assert_eq!(
        fields_only(&saved),
        J::Object(expected.clone()),
        "on {}",
        db.dialect()
    );

    let back = customers.get(id).await.unwrap().expect("saved object");
    assert_eq!(
        back,
        saved,
        "get returns what save returned on {}",
        db.dialect()
    );
    assert!(back["age"].is_i64());
    assert!(back["score"].is_f64());
    assert!(back["vip"].is_boolean() && back["blocked"].is_boolean());
    assert_eq!(back["code"], "007");
    assert!(back.get("nick").is_none(), "null fields are left out");

    // keyword field names are quoted everywhere
    let found = customers
        .find()
        .filter(
            "[select] = ? AND [order] = ?",
            vec![Value::from("keywords are quoted"), Value::from(2)],
        )
        .order_by_desc("order")
        .all()
        .await
        .unwrap();
    assert_eq!(found, vec![saved.clone()]);

    // a fresh handle reads the same from the metadata table
    let other = db.dynamic("customers").unwrap();
    assert_eq!(other.get(id).await.unwrap().unwrap(), saved);

    assert_eq!(
        kinds(&customers).await,
        vec![
            ("address".to_string(), FieldKind::Json),
            ("age".to_string(), FieldKind::BigInteger),
            ("big".to_string(), FieldKind::BigInteger),
            ("blocked".to_string(), FieldKind::Boolean),
            ("born".to_string(), FieldKind::Date),
            ("code".to_string(), FieldKind::Text),
            ("empty".to_string(), FieldKind::Text),
            ("name".to_string(), FieldKind::Text),
            ("negative".to_string(), FieldKind::BigInteger),
            ("not_a_date".to_string(), FieldKind::Text),
            ("order".to_string(), FieldKind::BigInteger),
            ("ratio".to_string(), FieldKind::Double),
            ("score".to_string(), FieldKind::Double),
            ("seen".to_string(), FieldKind::TimestampTz),
            ("seen_precise".to_string(), FieldKind::TimestampTz),
            ("select".to_string(), FieldKind::Text),
            ("tags".to_string(), FieldKind::Json),
            ("vip".to_string(), FieldKind::Boolean),
        ]
    );
    let positions: Vec<i64> = customers
        .fields()
        .await
        .unwrap()
        .iter()
        .map(|f| f.position)
        .collect();
    assert_eq!(positions, (1..=18).collect::<Vec<_>>());

    // the columns are real, typed columns
    let table = db.introspect_table("customers").await.unwrap().unwrap();
    let ty = |c: &str| table.column(c).unwrap().ty.clone();
    assert_eq!(ty("age"), ColumnType::BigInteger);
    assert_eq!(ty("score"), ColumnType::Double);
    assert_eq!(ty("born"), ColumnType::Date);
    assert!(
        table.column("nick").is_none(),
        "a null-only field has no column"
    );
    assert!(table.column("deleted_at").unwrap().nullable);
    assert!(
        db.introspect_table("customers_history")
            .await
            .unwrap()
            .is_some()
    );
}

/// Date-times are stored as instants: offsets and zone-less forms read back as
/// RFC 3339 in UTC, and `save` returns that same form.
pub async fn dyn_timestamps_normalise_to_utc(db: &TestDb) {
    let events = db.dynamic("events").unwrap();
    let saved = events
        .save(json!({"at": "2024-01-31T12:20:30.5+02:00", "local": "2024-01-31 10:20:30"}))
        .await
        .unwrap();
    assert_eq!(saved["at"], "2024-01-31T10:20:30.500Z");
    assert_eq!(saved["local"], "2024-01-31T10:20:30Z");
    assert_eq!(events.get(id_of(&saved)).await.unwrap().unwrap(), saved);
    // a date-time field compares with instants
    let at = chrono::DateTime::parse_from_rfc3339("2024-01-31T10:00:00Z")
        .unwrap()
        .to_utc();
    let n = events
        .find()
        .filter("[at] > ?", vec![Value::from(at)])
        .count()
        .await
        .unwrap();
    assert_eq!(n, 1);
}

/// A later save adds columns; objects saved before read without the new field.
pub async fn dyn_evolving_fields(db: &TestDb) {
    let things = db.dynamic("things").unwrap();
    let first = things.save(json!({"name": "first"})).await.unwrap();
    let second = things
        .save(json!({"name": "second", "size": 3, "meta": {"a": 1}}))
        .await
        .unwrap();
    let first_back = things.get(id_of(&first)).await.unwrap().unwrap();
    assert_eq!(first_back, first);
    assert!(first_back.get("size").is_none() && first_back.get("meta").is_none());
    assert_eq!(
        things.get(id_of(&second)).await.unwrap().unwrap()["size"],
        3
    );
    // a field that is only ever null gets no column
    let third = things
        .save(json!({"name": "third", "later": null}))
        .await
        .unwrap();
    assert!(third.get("later").is_none());
    assert_eq!(things.fields().await.unwrap().len(), 3);
    let table = db.introspect_table("things").await.unwrap().unwrap();
    assert!(table.column("later").is_none());
    // the first value decides the column type later
    things
        .save(json!({"name": "fourth", "later": true}))
        .await
        .unwrap();
    assert!(
        kinds(&things)
            .await
            .contains(&("later".into(), FieldKind::Boolean))
    );
    // camelCase field names are kept as they are
    let camel = things.save(json!({"firstName": "Ada"})).await.unwrap();
    assert_eq!(
        things.get(id_of(&camel)).await.unwrap().unwrap()["firstName"],
        "Ada"
    );
    let (field, reason) = invalid(things.save(json!({"firstname": "Ada"})).await);
    assert_eq!(field, "firstname");
    assert!(reason.contains("firstName"), "{reason}");
}

/// Saving an object with its id updates the row: a new version, the same
/// `created_at`, fields left out become empty; a stale `version` or an unknown
/// id writes nothing.
pub async fn dyn_update_makes_a_new_version(db: &TestDb) {
    let notes = db.dynamic("notes").unwrap();
    let v1 = notes
        .save(json!({"title": "draft", "stars": 1, "tag": "x"}))
        .await
        .unwrap();
    let id = id_of(&v1);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let mut change = v1.clone();
    change["title"] = json!("final");
    change.as_object_mut().unwrap().remove("tag");
    let v2 = notes.save(change).await.unwrap();
    assert_eq!(id_of(&v2), id);
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["created_at"], v1["created_at"]);
    assert_ne!(v2["updated_at"], v1["updated_at"]);
    assert!(v2.get("tag").is_none(), "a field left out is cleared");
    assert_eq!(notes.get(id).await.unwrap().unwrap(), v2);
    assert_eq!(notes.count().await.unwrap(), 1);

    // without a version: last write wins
    let v3 = notes
        .save(json!({"id": id, "title": "again", "stars": 5}))
        .await
        .unwrap();
    assert_eq!(v3["version"], 3);

    // with the version read earlier: optimistic locking
    let err = notes.save(v2.clone()).await.unwrap_err();
    assert!(
        matches!(&err, Error::StaleVersion { expected: 2, .. }),
        "{err:?}"
    );
    assert_eq!(notes.get(id).await.unwrap().unwrap(), v3);

    let err = notes
        .save(json!({"id": id + 100, "title": "ghost"}))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    assert_eq!(notes.count().await.unwrap(), 1);
    assert_eq!(notes.history(id).await.unwrap().len(), 3);
}

/// `save_many`: one transaction, chunked inserts (more rows than fit one
/// statement's bind limit or chunk), ids in order, updates in the same batch; a
/// refused object writes nothing.
pub async fn dyn_save_many(db: &TestDb) {
    let points = db.dynamic("points").unwrap();
    let first = points
        .save(json!({"x": -1, "label": "first"}))
        .await
        .unwrap();
    let n = 1200;
    let mut batch: Vec<J> = (0..n)
        .map(|i| {
            json!({
                "x": i,
                "y": i as f64 / 2.0 + 0.25,
                "label": format!("p{i}"),
                "even": i % 2 == 0,
                "day": format!("2024-01-{:02}", i % 28 + 1),
            })
        })
        .collect();
    let mut update = first.clone();
    update["label"] = json!("updated");
    batch.insert(600, update);
    let saved = points
        .save_many_with(batch, &SaveOptions::new().actor("bulk"))
        .await
        .unwrap();
    assert_eq!(saved.len(), n + 1);
    assert_eq!(saved[600]["label"], "updated");
    assert_eq!(saved[600]["version"], 2);
    let inserted: Vec<&J> = saved
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 600)
        .map(|(_, o)| o)
        .collect();
    for (i, object) in inserted.iter().enumerate() {
        assert_eq!(
            object["x"], i as i64,
            "objects come back in the caller's order"
        );
        assert_eq!(object["version"], 1);
    }
    let ids: Vec<i64> = inserted.iter().map(|o| id_of(o)).collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids grow with the order"
    );
    assert_eq!(points.count().await.unwrap(), n as i64 + 1);
    for i in [0, 1, 499, 500, 501, 999, 1199] {
        let back = points.get(ids[i]).await.unwrap().unwrap();
        assert_eq!(&back, inserted[i], "object {i}");
    }
    let history = points.history(ids[1000]).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].operation, "insert");
    assert_eq!(history[0].actor.as_deref(), Some("bulk"));
    assert_eq!(&history[0].data, inserted[1000]);

    // one bad object: nothing of the batch is written, no column is added
    let (field, reason) = invalid(
        points
            .save_many(vec![json!({"x": 1, "z": 1}), json!({"x": "one"})])
            .await,
    );
    assert_eq!(field, "x");
    assert!(reason.contains("#1"), "{reason}");
    assert_eq!(points.count().await.unwrap(), n as i64 + 1);
    assert!(!points.fields().await.unwrap().iter().any(|f| f.name == "z"));
    assert!(points.save_many(vec![]).await.unwrap().is_empty());
}

async fn people(db: &TestDb) -> dal::Dynamic {
    let people = db.dynamic("people").unwrap();
    people
        .save_many(vec![
            json!({"name": "Ada", "age": 36, "vip": true, "born": "1815-12-10"}),
            json!({"name": "Bob", "age": 12, "vip": false, "born": "2012-03-01"}),
            json!({"name": "Cy", "age": 70, "vip": true, "born": "1954-07-20"}),
            json!({"name": "Dee", "age": 18, "vip": true}),
            json!({"name": "Eve", "vip": false}),
            json!({"name": "Fay", "age": 44, "vip": false, "born": "1980-01-01"}),
        ])
        .await
        .unwrap();
    people
}

fn names(objects: &[J]) -> Vec<&str> {
    objects
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect()
}

/// `find` with filters, order, limit and offset; `count` with filters.
pub async fn dyn_find_and_count(db: &TestDb) {
    let people = people(db).await;
    let adults_vip = people
        .find()
        .filter(
            "[age] >= ? AND [vip] = ?",
            vec![Value::from(18), Value::from(true)],
        )
        .order_by_asc("name")
        .limit(10)
        .offset(0)
        .include_deleted(false)
        .all()
        .await
        .unwrap();
    assert_eq!(names(&adults_vip), ["Ada", "Cy", "Dee"]);

    let by_age = people.find().order_by_desc("age").all().await.unwrap();
    assert_eq!(
        names(&by_age),
        ["Cy", "Fay", "Ada", "Dee", "Bob", "Eve"],
        "missing values sort last"
    );
    let by_age = people.find().order_by_asc("age").all().await.unwrap();
    assert_eq!(names(&by_age), ["Bob", "Dee", "Ada", "Fay", "Cy", "Eve"]);

    let page = people
        .find()
        .order_by_asc("name")
        .limit(2)
        .offset(2)
        .all()
        .await
        .unwrap();
    assert_eq!(names(&page), ["Cy", "Dee"]);
    let rest = people
        .find()
        .order_by_asc("name")
        .offset(4)
        .all()
        .await
        .unwrap();
    assert_eq!(names(&rest), ["Eve", "Fay"]);
    let default_order = people.find().all().await.unwrap();
    assert_eq!(
        names(&default_order),
        ["Ada", "Bob", "Cy", "Dee", "Eve", "Fay"]
    );

    // several filters combine with AND; dates compare with dates
    let born_before = people
        .find()
        .filter(
            "[born] < ?",
            vec![Value::from(NaiveDate::from_ymd_opt(1960, 1, 1).unwrap())],
        )
        .filter("[vip] = ?", vec![Value::from(true)])
        .order_by_asc("born")
        .all()
        .await
        .unwrap();
    assert_eq!(names(&born_before), ["Ada", "Cy"]);
    let first = people
        .find()
        .filter("[name] LIKE ?", vec![Value::from("%y")])
        .order_by_asc("name")
        .one()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first["name"], "Cy");

    assert_eq!(people.count().await.unwrap(), 6);
    let minors = people
        .find()
        .filter("[age] < ?", vec![Value::from(18)])
        .count()
        .await
        .unwrap();
    assert_eq!(minors, 1);
    let no_age = people
        .find()
        .filter("[age] IS NULL", Vec::new())
        .count()
        .await
        .unwrap();
    assert_eq!(no_age, 1);

    let (field, _) = invalid(
        people
            .find()
            .filter("[age] > ? AND [age] < ?", vec![Value::from(1)])
            .all()
            .await,
    );
    assert_eq!(field, "filter");
    let (field, reason) = invalid(people.find().order_by_asc("shoe_size").all().await);
    assert_eq!(field, "order_by");
    assert!(reason.contains("shoe_size"), "{reason}");
}

/// Soft delete hides an object from `get`, `find` and `count`; `include_deleted`
/// shows it with `deleted_at`; `restore` brings it back.
pub async fn dyn_soft_delete_and_restore(db: &TestDb) {
    let people = people(db).await;
    let ada = people
        .find()
        .filter("[name] = ?", vec![Value::from("Ada")])
        .one()
        .await
        .unwrap()
        .unwrap();
    let id = id_of(&ada);

    assert!(people.delete(id).await.unwrap());
    assert!(!people.delete(id).await.unwrap(), "already deleted");
    assert_eq!(people.get(id).await.unwrap(), None);
    assert_eq!(people.count().await.unwrap(), 5);
    let vip = people
        .find()
        .filter("[vip] = ?", vec![Value::from(true)])
        .all()
        .await
        .unwrap();
    assert_eq!(names(&vip), ["Cy", "Dee"]);
    let all = people.find().include_deleted(true).all().await.unwrap();
    assert_eq!(all.len(), 6);
    let deleted = all.iter().find(|o| id_of(o) == id).unwrap();
    assert!(deleted["deleted_at"].is_string());
    assert_eq!(deleted["version"], 2);
    assert_eq!(fields_only(deleted), fields_only(&ada));
    assert_eq!(
        people.find().include_deleted(true).count().await.unwrap(),
        6
    );
    // a deleted object cannot be saved until restored
    let err = people.save(ada.clone()).await.unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    assert!(people.restore(id).await.unwrap());
    assert!(!people.restore(id).await.unwrap(), "not deleted");
    let back = people.get(id).await.unwrap().unwrap();
    assert_eq!(back["version"], 3);
    assert!(back.get("deleted_at").is_none());
    assert_eq!(fields_only(&back), fields_only(&ada));
    assert_eq!(people.count().await.unwrap(), 6);

    assert!(!people.delete(9999).await.unwrap());
    assert!(!people.restore(9999).await.unwrap());
}

/// `delete_permanently` removes the row (deleted or not) and its history.
pub async fn dyn_delete_permanently(db: &TestDb) {
    let people = people(db).await;
    assert!(people.delete(1).await.unwrap());
    assert!(people.delete_permanently(1).await.unwrap());
    assert!(people.delete_permanently(2).await.unwrap());
    assert!(!people.delete_permanently(2).await.unwrap());
    assert_eq!(people.get(2).await.unwrap(), None);
    assert_eq!(people.count().await.unwrap(), 4);
    assert_eq!(
        people.find().include_deleted(true).count().await.unwrap(),
        4
    );
    assert!(people.history(1).await.unwrap().is_empty());
    assert_eq!(people.at_version(2, 1).await.unwrap(), None);
    assert_eq!(people.history(3).await.unwrap().len(), 1);
}

/// Every write is a version in the history (operation, actor, comment, time,
/// whole object); `at_version` returns the object as it was.
pub async fn dyn_history_and_at_version(db: &TestDb) {
    let docs = db.dynamic("docs").unwrap();
    let v1 = docs
        .save_with(
            json!({"title": "one", "n": 1}),
            &SaveOptions {
                actor: Some("alice".into()),
                comment: Some("import".into()),
            },
        )
        .await
        .unwrap();
    let id = id_of(&v1);
    let mut change = v1.clone();
    change["title"] = json!("two");
    change["extra"] = json!([1, 2]);
    let v2 = docs
        .save_with(change, &SaveOptions::new().comment("edit"))
        .await
        .unwrap();
    assert!(
        docs.delete_with(id, &SaveOptions::new().actor("bob").comment("spam"))
            .await
            .unwrap()
    );
    assert!(docs.restore(id).await.unwrap());

    let history = docs.history(id).await.unwrap();
    let ops: Vec<_> = history.iter().map(|v| v.operation.as_str()).collect();
    assert_eq!(ops, ["insert", "update", "delete", "restore"]);
    let versions: Vec<_> = history.iter().map(|v| v.version).collect();
    assert_eq!(versions, [1, 2, 3, 4]);
    assert_eq!(history[0].actor.as_deref(), Some("alice"));
    assert_eq!(history[0].comment.as_deref(), Some("import"));
    assert_eq!(history[1].actor, None);
    assert_eq!(history[1].comment.as_deref(), Some("edit"));
    assert_eq!(history[2].actor.as_deref(), Some("bob"));
    assert_eq!(history[3].actor, None);
    assert!(history.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(
        history[0]
            .at
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        v1["created_at"].as_str().unwrap()
    );
    assert_eq!(history[0].data, v1);
    assert_eq!(history[1].data, v2);
    assert!(history[2].data["deleted_at"].is_string());
    assert_eq!(history[2].data["extra"], json!([1, 2]));
    assert!(history[3].data.get("deleted_at").is_none());
    assert_eq!(history[3].data, docs.get(id).await.unwrap().unwrap());

    assert_eq!(docs.at_version(id, 1).await.unwrap(), Some(v1.clone()));
    assert_eq!(docs.at_version(id, 2).await.unwrap(), Some(v2));
    assert_eq!(docs.at_version(id, 9).await.unwrap(), None);
    assert!(docs.history(id + 1).await.unwrap().is_empty());

    // another object's history is its own
    let other = docs.save(json!({"title": "other"})).await.unwrap();
    assert_eq!(docs.history(id_of(&other)).await.unwrap().len(), 1);
    assert_eq!(docs.history(id).await.unwrap().len(), 4);
}

/// Bad entity and field names, non-objects and values that cannot be stored are
/// `InvalidInput`, and nothing is created.
pub async fn dyn_invalid_input_creates_nothing(db: &TestDb) {
    for bad in [
        "bad name",
        "1st",
        "x; DROP TABLE y",
        "Customers",
        "dal_things",
        "orders_history",
        "",
    ] {
        let (field, _) = invalid(db.dynamic(bad));
        assert_eq!(field, "entity", "{bad:?}");
    }
    let things = db.dynamic("things").unwrap();
    let cases = [
        (json!({"bad name": 1}), "bad name"),
        (json!({"1st": 1}), "1st"),
        (json!({"a\"b": 1}), "a\"b"),
        (json!({"x`; DROP TABLE t; --": 1}), "x`; DROP TABLE t; --"),
        (json!({"ok": 1, "Version": 2}), "Version"),
        (json!({"ok": 1, "deleted_At": 2}), "deleted_At"),
        (json!({"ok": 1, "created_at": 5}), "created_at"),
        (json!({"id": "1", "ok": 1}), "id"),
        (json!({"version": 3, "ok": 1}), "version"),
        (json!({"huge": u64::MAX}), "huge"),
        (json!({"ok": 1, "OK": 2}), "ok"),
        (json!([1, 2]), "object"),
        (json!("text"), "object"),
        (json!(null), "object"),
    ];
    for (object, want) in cases {
        let (field, reason) = invalid(things.save(object.clone()).await);
        assert_eq!(field, want, "{object}: {reason}");
    }
    let (field, _) = invalid(things.save_many(vec![json!({"a": 1}), json!(5)]).await);
    assert_eq!(field, "object");
    assert!(!db.table_exists("things").await.unwrap());
    assert!(!db.table_exists("dal_dynamic_fields").await.unwrap());
    assert!(!db.table_exists("things_history").await.unwrap());
}

/// Reads of an entity never saved find nothing and create nothing.
pub async fn dyn_reads_before_first_save(db: &TestDb) {
    let ghosts = db.dynamic("ghosts").unwrap();
    assert_eq!(ghosts.get(1).await.unwrap(), None);
    assert!(ghosts.find().all().await.unwrap().is_empty());
    assert_eq!(ghosts.count().await.unwrap(), 0);
    assert!(ghosts.history(1).await.unwrap().is_empty());
    assert_eq!(ghosts.at_version(1, 1).await.unwrap(), None);
    assert!(!ghosts.delete(1).await.unwrap());
    assert!(!ghosts.restore(1).await.unwrap());
    assert!(!ghosts.delete_permanently(1).await.unwrap());
    assert!(ghosts.fields().await.unwrap().is_empty());
    assert!(!db.table_exists("ghosts").await.unwrap());
    // the first save creates it, and the same handle sees it
    ghosts.save(json!({"boo": true})).await.unwrap();
    assert_eq!(ghosts.count().await.unwrap(), 1);
}

/// A field's type is fixed by its first value: int then string is refused
/// naming the field and both types; int then float widens the column to double;
/// a text field takes any string.
pub async fn dyn_type_changes(db: &TestDb) {
    let people = db.dynamic("people").unwrap();
    let ada = people
        .save(json!({"age": 36, "name": "Ada", "flag": true}))
        .await
        .unwrap();
    let id = id_of(&ada);

    let (field, reason) = invalid(people.save(json!({"age": "old"})).await);
    assert_eq!(field, "age");
    assert!(
        reason.contains("big_integer") && reason.contains("text"),
        "{reason}"
    );
    let (field, _) = invalid(people.save(json!({"flag": 1})).await);
    assert_eq!(field, "flag");
    let (field, _) = invalid(people.save(json!({"name": {"first": "Ada"}})).await);
    assert_eq!(field, "name");
    // a refused update leaves the row alone
    let (field, _) = invalid(people.save(json!({"id": id, "age": [1]})).await);
    assert_eq!(field, "age");
    assert_eq!(people.get(id).await.unwrap().unwrap(), ada);
    assert_eq!(people.count().await.unwrap(), 1);

    // nulls always fit; date-shaped strings fit a text field
    people
        .save(json!({"age": null, "name": null}))
        .await
        .unwrap();
    let dated = people.save(json!({"name": "2024-01-01"})).await.unwrap();
    assert_eq!(dated["name"], "2024-01-01");

    // widening: integers become doubles
    let bob = people
        .save(json!({"age": 12.5, "name": "Bob"}))
        .await
        .unwrap();
    assert_eq!(bob["age"], 12.5);
    assert!(
        kinds(&people)
            .await
            .contains(&("age".into(), FieldKind::Double))
    );
    assert_eq!(people.get(id).await.unwrap().unwrap()["age"], json!(36.0));
    let table = db.introspect_table("people").await.unwrap().unwrap();
    if db.dialect() != Dialect::Sqlite {
        assert_eq!(table.column("age").unwrap().ty, ColumnType::Double);
    }
    // integers still fit, stored as doubles
    let cy = people.save(json!({"age": 70})).await.unwrap();
    assert_eq!(cy["age"], json!(70.0));
    assert_eq!(people.get(id_of(&cy)).await.unwrap().unwrap(), cy);
    let over_30 = people
        .find()
        .filter("[age] > ?", vec![Value::from(30.0)])
        .count()
        .await
        .unwrap();
    assert_eq!(over_30, 2);
}

/// Handles cache the field metadata: a handle that has not seen a field another
/// handle added still saves it, updates clear it (the whole object is
/// replaced), queries naming it work, and reads see it after `refresh`.
pub async fn dyn_stale_handles(db: &TestDb) {
    let first = db.dynamic("cards").unwrap();
    let second = db.dynamic("cards").unwrap();
    let a = first.save(json!({"title": "a", "n": 1})).await.unwrap();
    let id = id_of(&a);
    assert_eq!(first.get(id).await.unwrap().unwrap(), a);

    let b = second
        .save(json!({"title": "b", "n": 2, "colour": "red"}))
        .await
        .unwrap();
    // `first` has not seen `colour` yet; a query naming it re-reads the metadata
    let red = first
        .find()
        .filter("[colour] = ?", vec![Value::from("red")])
        .all()
        .await
        .unwrap();
    assert_eq!(red, vec![b.clone()]);

    // an update through a handle that did not know a field still clears it
    // (the whole object is replaced)
    let b_id = id_of(&b);
    let third = db.dynamic("cards").unwrap();
    third.get(b_id).await.unwrap();
    let fourth = db.dynamic("cards").unwrap();
    let b2 = fourth
        .save(json!({"id": b_id, "title": "b", "n": 2, "colour": "red", "size": 3}))
        .await
        .unwrap();
    assert_eq!(b2["version"], 2);
    let b3 = third
        .save(json!({"id": b_id, "title": "b3", "n": 2}))
        .await
        .unwrap();
    assert_eq!(b3["version"], 3);
    let b_back = fourth.get(b_id).await.unwrap().unwrap();
    assert_eq!(b_back, b3);
    assert!(b_back.get("size").is_none() && b_back.get("colour").is_none());

    // a column widened by another handle reads back as doubles
    let reader = db.dynamic("cards").unwrap();
    assert_eq!(reader.get(id).await.unwrap().unwrap()["n"], 1);
    second.save(json!({"n": 2.5})).await.unwrap();
    let n = reader.get(id).await.unwrap().unwrap()["n"].clone();
    // SQLite keeps the integer in place, so a stale handle still shows it
    let stale_ok = db.dialect() == Dialect::Sqlite && n == json!(1);
    assert!(n == json!(1.0) || stale_ok, "{n} on {}", db.dialect());
    reader.refresh().await.unwrap();
    assert_eq!(reader.get(id).await.unwrap().unwrap()["n"], json!(1.0));
    assert!(
        kinds(&reader)
            .await
            .contains(&("n".into(), FieldKind::Double))
    );
}

async fn save_on(db: Db, entity: &'static str, object: J) -> dal::Result<J> {
    db.dynamic(entity)?.save(object).await
}

/// Two tasks on two pools (like two processes) create the same entity and add
/// the same new fields at the same time: both succeed. When they add one field
/// with different types, one wins and the other is told why.
pub async fn dyn_concurrent_schema_changes(db: &TestDb) {
    let other = Db::connect_url(&db.url).await.unwrap();
    let pools = [db.db.clone(), other.clone()];
    for round in 0..6 {
        let field = format!("f{round}");
        let tasks: Vec<_> = pools
            .iter()
            .enumerate()
            .map(|(i, pool)| {
                let object = json!({"who": i, "round": round, field.as_str(): format!("v{i}")});
                tokio::spawn(save_on(pool.clone(), "races", object))
            })
            .collect();
        for task in tasks {
            let saved = task
                .await
                .unwrap()
                .unwrap_or_else(|e| panic!("round {round} on {}: {e:?}", db.dialect()));
            assert!(saved[&field].is_string());
        }
    }
    let races = db.dynamic("races").unwrap();
    assert_eq!(races.count().await.unwrap(), 12);
    let fields = kinds(&races).await;
    for round in 0..6 {
        assert!(
            fields.contains(&(format!("f{round}"), FieldKind::Text)),
            "{fields:?}"
        );
    }
    let table = db.introspect_table("races").await.unwrap().unwrap();
    assert_eq!(table.columns.len(), 5 + 2 + 6);

    // the same new field with two types: one wins, the other is refused
    for round in 0..3 {
        let field = format!("clash{round}");
        let a = tokio::spawn(save_on(
            pools[0].clone(),
            "races",
            json!({field.as_str(): 1}),
        ));
        let b = tokio::spawn(save_on(
            pools[1].clone(),
            "races",
            json!({field.as_str(): "one"}),
        ));
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        let kind = races
            .fields()
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.name == field)
            .unwrap()
            .kind;
        match (&a, &b) {
            (Ok(_), Err(Error::InvalidInput { field: f, .. })) => {
                assert_eq!(f, &field);
                assert_eq!(kind, FieldKind::BigInteger);
            }
            (Err(Error::InvalidInput { field: f, .. }), Ok(_)) => {
                assert_eq!(f, &field);
                assert_eq!(kind, FieldKind::Text);
            }
            other => panic!("one save must win on {}: {other:?}", db.dialect()),
        }
        let winner = a.as_ref().or(b.as_ref()).unwrap();
        let back = races.get(id_of(winner)).await.unwrap().unwrap();
        assert_eq!(&back, winner);
    }
    other.close();
}

/// Another process has added a field's column and is still recording the field
/// (its metadata row is not committed yet) when a save brings the same field:
/// the save waits for that row and then succeeds with it. On the MySQL family the
/// schema change runs without a lock and finds the column already there, so it
/// runs no DDL (nothing commits its transaction); the metadata it returns must
/// still include the row committed while it waited, not the snapshot it read
/// before (REPEATABLE READ). On SQLite the other process adds the column and
/// records it in one transaction holding the write lock (`BEGIN IMMEDIATE`):
/// the save waits for the lock, then finds both and adds nothing.
pub async fn dyn_field_recorded_concurrently(db: &TestDb) {
    let dialect = db.dialect();
    let column_type = match dialect {
        Dialect::Sqlite | Dialect::Postgres => "TEXT",
        Dialect::MySql => "MEDIUMTEXT",
    };
    let notes = db.dynamic("notes").unwrap();
    notes.save(json!({"title": "first"})).await.unwrap();

    // "the other process", between its ADD COLUMN and its metadata commit
    let add_column = format!("ALTER TABLE notes ADD COLUMN late {column_type} NULL");
    if dialect != Dialect::Sqlite {
        db.execute_script(&add_column).await.unwrap();
    }
    let mut tx = db.begin().await.unwrap();
    if dialect == Dialect::Sqlite {
        tx.execute(&add_column, ()).await.unwrap();
    }
    tx.execute(
        "INSERT INTO [dal_dynamic_fields] ([entity], [field], [kind], [position], [added_at]) VALUES (?, ?, ?, ?, ?)",
        ("notes", "late", "text", 2i64, chrono::Utc::now()),
    )
    .await
    .unwrap();

    let save = tokio::spawn(save_on(
        db.db.clone(),
        "notes",
        json!({"title": "second", "late": "yes"}),
    ));
    if dialect == Dialect::Sqlite {
        // no view of waiting connections: the save must still be waiting for
        // the write lock a while later (a save that did not wait has finished,
        // and failed or found no column `late`)
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        assert!(
            !save.is_finished(),
            "the save did not wait for the write lock: {:?}",
            save.await
        );
    } else {
        // wait until the save is blocked on the uncommitted metadata row, asking
        // outside `tx` (PostgreSQL shows a transaction one snapshot of pg_stat_activity)
        let (holder_sql, blocked_sql) = match db.dialect() {
            Dialect::Postgres => (
                "SELECT CAST(pg_backend_pid() AS BIGINT)",
                "SELECT COUNT(*) FROM pg_stat_activity WHERE CAST(? AS INTEGER) = ANY(pg_blocking_pids(pid))",
            ),
            // the row is locked by `tx`, so no insert of it gets past it
            _ => (
                "SELECT CAST(CONNECTION_ID() AS SIGNED)",
                "SELECT COUNT(*) FROM information_schema.processlist WHERE db = DATABASE() \
                 AND id <> ? AND info LIKE 'INSERT INTO `dal_dynamic_fields`%'",
            ),
        };
        let holder: i64 = tx.fetch_scalar(holder_sql, ()).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while db
            .fetch_scalar::<i64, _>(blocked_sql, (holder,))
            .await
            .unwrap()
            == 0
        {
            assert!(
                !save.is_finished(),
                "the save did not wait for the metadata row on {}: {:?}",
                db.dialect(),
                save.await
            );
            assert!(
                std::time::Instant::now() < deadline,
                "the save never blocked"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    tx.commit().await.unwrap();

    let saved = save
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("on {}: {e:?}", db.dialect()));
    assert_eq!(saved["late"], "yes");
    let fresh = db.dynamic("notes").unwrap();
    assert_eq!(fresh.get(id_of(&saved)).await.unwrap().unwrap(), saved);
    assert_eq!(
        kinds(&fresh).await,
        vec![
            ("late".to_string(), FieldKind::Text),
            ("title".to_string(), FieldKind::Text)
        ]
    );
}

/// `save_many` of more parameters than the dialect binds in one statement (140
/// fields: 143 parameters a row with dal's own; 480 new objects, under the
/// 500-row cap, over every dialect's bind limit) splits the insert into
/// statements within the limit: every object is stored exactly once, with its
/// values, under the id it came back with.
pub async fn dyn_save_many_splits_at_the_bind_limit(db: &TestDb) {
    const FIELDS: usize = 140;
    const ROWS: usize = 480;
    let limit = db.dialect().capabilities().max_bind_params;
    let wide = db.dynamic("wide").unwrap();
    let writes = crate::suite::entity::TableWrites::new("wide");
    db.add_hook(writes.clone());
    let objects: Vec<J> = (0..ROWS)
        .map(|i| {
            let fields: serde_json::Map<String, J> = (0..FIELDS)
                .map(|k| (format!("f{k:03}"), json!(i * 1000 + k)))
                .collect();
            J::Object(fields)
        })
        .collect();
    let saved = wide.save_many(objects.clone()).await.unwrap();
    let per_row = 3 + FIELDS;
    let seen = writes.take();
    let params: Vec<usize> = seen.iter().map(|s| s.1).collect();
    assert!(
        ROWS * per_row > limit,
        "the batch must not fit one statement"
    );
    assert_eq!(
        params.len(),
        ROWS.div_ceil(limit / per_row),
        "inserts of {per_row}-parameter rows under a limit of {limit}: {params:?}"
    );
    assert!(params.len() >= 2, "{params:?}");
    assert!(
        params.iter().all(|p| *p <= limit && p % per_row == 0),
        "{params:?}"
    );
    assert_eq!(params.iter().sum::<usize>(), ROWS * per_row, "{params:?}");

    assert_eq!(saved.len(), ROWS);
    for (object, back) in objects.iter().zip(&saved) {
        assert_eq!(&fields_only(back), object, "saved in the caller's order");
    }
    let mut ids: Vec<i64> = saved.iter().map(id_of).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), ROWS, "one id per object");
    // what is stored: each object once, under its id
    let stored = wide.find().order_by_asc("id").all().await.unwrap();
    let mut expected = saved.clone();
    expected.sort_by_key(id_of);
    assert_eq!(stored, expected);
}

macro_rules! dynamic_tests {
    ($setup:path) => {
        backend_tests!($setup;
            dynamic::dyn_round_trip_every_json_type,
            dynamic::dyn_timestamps_normalise_to_utc,
            dynamic::dyn_evolving_fields,
            dynamic::dyn_update_makes_a_new_version,
            dynamic::dyn_save_many,
            dynamic::dyn_save_many_splits_at_the_bind_limit,
            dynamic::dyn_find_and_count,
            dynamic::dyn_soft_delete_and_restore,
            dynamic::dyn_delete_permanently,
            dynamic::dyn_history_and_at_version,
            dynamic::dyn_invalid_input_creates_nothing,
            dynamic::dyn_reads_before_first_save,
            dynamic::dyn_type_changes,
            dynamic::dyn_stale_handles,
            dynamic::dyn_concurrent_schema_changes,
            dynamic::dyn_field_recorded_concurrently,
        );
    };
}
