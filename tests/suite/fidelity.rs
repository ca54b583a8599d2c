//! What every backend stores and reads back exactly, and the clear error (with
//! nothing written) for what it cannot: multi-byte text, rows imported with
//! their own ids, JSON nesting depth, special floats, NUL characters, and a
//! property test over arbitrary dynamic objects.

use dal::{BreakerState, Dialect, Entity, Error, JSON_MAX_DEPTH, Json, Value};
use serde_json::{Value as J, json};

use crate::support::TestDb;

fn id_of(object: &J) -> i64 {
    object["id"].as_i64().expect("an integer id")
}

/// The field and reason of an [`Error::InvalidInput`].
fn invalid<T: std::fmt::Debug>(result: dal::Result<T>) -> (String, String) {
    match result {
        Err(Error::InvalidInput { field, reason }) => (field, reason),
        other => panic!("expected Error::InvalidInput, got {other:?}"),
    }
}

/// `s` with `c` inserted before the character at `at` (a char index).
fn insert_at(s: &str, at: usize, c: char) -> String {
    let mut out: String = s.chars().take(at).collect();
    out.push(c);
    out.extend(s.chars().skip(at));
    out
}

/// A multi-byte character at every position of strings that are, or look like,
/// date-times (probed as timestamps byte by byte) is saved and read back exactly
/// through the dynamic API; it never panics.
pub async fn fid_multibyte_text_everywhere(db: &TestDb) {
    let tracks = db.dynamic("tracks").unwrap();
    let bases = [
        "2024-01-31T10:20:30.123456Z",
        "2024-01-31 10:20:30",
        "abcdefghijklmnopqrstuvwxy",
    ];
    let mut objects = Vec::new();
    for c in ['é', '€', '😀'] {
        for base in bases {
            for at in 0..=base.chars().count() {
                objects.push(json!({"title": insert_at(base, at, c), "at": at}));
            }
        }
    }
    objects.push(json!({"title": "Antal Doráti & London Symphony Orchestra"}));
    let saved = tracks.save_many(objects.clone()).await.unwrap();
    assert_eq!(saved.len(), objects.len());
    for (o, s) in objects.iter().zip(&saved) {
        assert_eq!(o["title"], s["title"]);
    }
    assert_eq!(tracks.find().all().await.unwrap(), saved);
    let one = tracks
        .find()
        .filter(
            "[title] = ?",
            vec![Value::from("Antal Doráti & London Symphony Orchestra")],
        )
        .all()
        .await
        .unwrap();
    assert_eq!(one.len(), 1);

    // one at a time, and into a field that holds date-times: refused, not a panic
    let single = tracks
        .save(json!({"title": "2024-01-31T10:2€:30Z"}))
        .await
        .unwrap();
    assert_eq!(
        tracks.get(id_of(&single)).await.unwrap().unwrap()["title"],
        "2024-01-31T10:2€:30Z"
    );
    tracks
        .save(json!({"seen": "2024-01-31T10:20:30Z"}))
        .await
        .unwrap();
    let (field, _) = invalid(tracks.save(json!({"seen": "2024-01-31T10:2😀:30Z"})).await);
    assert_eq!(field, "seen");
}

/// `Dynamic::import` inserts objects with their own ids; new objects then get
/// ids after the highest, on every backend (PostgreSQL's sequence is moved
/// forward, never backwards); taken, duplicate, missing and non-positive ids are
/// refused with nothing written.
pub async fn fid_dynamic_import_with_ids(db: &TestDb) {
    let albums = db.dynamic("albums").unwrap();
    let imported = albums
        .import(vec![
            json!({"id": 42, "version": 7, "title": "Kind of Blue", "year": 1959}),
            json!({"id": 3, "title": "Blue"}),
            json!({"id": 17, "title": "Giant Steps", "created_at": "2001-01-01T00:00:00Z"}),
        ])
        .await
        .unwrap();
    assert_eq!(
        imported.iter().map(id_of).collect::<Vec<_>>(),
        vec![42, 3, 17]
    );
    assert!(imported.iter().all(|o| o["version"] == 1));
    assert_eq!(albums.get(42).await.unwrap().unwrap(), imported[0]);
    let history = albums.history(17).await.unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].operation, "insert");
    assert_eq!(albums.count().await.unwrap(), 3);

    // new objects continue after the highest id, alone and in bulk
    let next = albums.save(json!({"title": "Mingus Ah Um"})).await.unwrap();
    assert!(id_of(&next) > 42, "{next} on {}", db.dialect());
    let more = albums
        .save_many(
            (0..5)
                .map(|i| json!({"title": format!("new {i}")}))
                .collect(),
        )
        .await
        .unwrap();
    let mut ids: Vec<i64> = more.iter().map(id_of).collect();
    ids.dedup();
    assert_eq!(ids.len(), 5);
    assert!(ids.iter().all(|&id| id > id_of(&next)));
    let highest = *ids.iter().max().unwrap();

    // an id below the highest fills a gap; the ids never go back
    albums
        .import(vec![json!({"id": 10, "title": "gap"})])
        .await
        .unwrap();
    let after = albums.save(json!({"title": "after"})).await.unwrap();
    assert!(id_of(&after) > highest);

    // refused, and nothing is written (not even a new field's column)
    albums.delete(3).await.unwrap();
    let before = albums.find().include_deleted(true).count().await.unwrap();
    let fields_before = albums.fields().await.unwrap();
    let cases = [
        (
            vec![json!({"id": 3, "title": "deleted row"})],
            "3 already exists",
        ),
        (
            vec![
                json!({"id": 500, "label": "new field"}),
                json!({"id": 42, "title": "live row"}),
            ],
            "42 already exists",
        ),
        (
            vec![json!({"id": 600}), json!({"id": 600, "label": "x"})],
            "both have id 600",
        ),
        (vec![json!({"label": "no id"})], "needs the integer `id`"),
        (vec![json!({"id": 0, "label": "zero"})], "at least 1"),
        (vec![json!({"id": -5})], "at least 1"),
    ];
    for (batch, why) in cases {
        let (field, reason) = invalid(albums.import(batch).await);
        assert_eq!(field, "id");
        assert!(reason.contains(why), "{reason}");
    }
    assert_eq!(
        albums.find().include_deleted(true).count().await.unwrap(),
        before
    );
    assert_eq!(albums.fields().await.unwrap(), fields_before);

    // the first import creates the tables: the sequence starts after it too
    let fresh = db.dynamic("fresh_albums").unwrap();
    fresh
        .import(vec![json!({"id": 1, "t": "a"})])
        .await
        .unwrap();
    assert_eq!(id_of(&fresh.save(json!({"t": "b"})).await.unwrap()), 2);
}

/// Updates in one `save_many` behave the same on every backend (MySQL reads
/// and locks the rows' versions up front instead of after each update): the
/// same row twice, stale versions, missing and deleted rows.
pub async fn fid_batch_updates(db: &TestDb) {
    let people = db.dynamic("people").unwrap();
    let saved = people
        .save_many((0..5).map(|i| json!({"n": i})).collect())
        .await
        .unwrap();
    let mut a = saved[1].clone();
    a["n"] = json!(10);
    let mut b = saved[1].clone();
    b.as_object_mut().unwrap().remove("version");
    b["n"] = json!(11);
    let mut c = saved[3].clone();
    c["n"] = json!(30);
    let updated = people.save_many(vec![a, b, c]).await.unwrap();
    assert_eq!(
        updated
            .iter()
            .map(|o| o["version"].clone())
            .collect::<Vec<_>>(),
        vec![json!(2), json!(3), json!(2)]
    );
    assert_eq!(updated[1]["created_at"], saved[1]["created_at"]);
    let back = people.get(id_of(&saved[1])).await.unwrap().unwrap();
    assert_eq!(back, updated[1]);
    assert_eq!(people.history(id_of(&saved[1])).await.unwrap().len(), 3);

    // the same stale copy twice: the second is refused, nothing of the batch stays
    let mut d = saved[2].clone();
    d["n"] = json!(20);
    let e = d.clone();
    let err = people.save_many(vec![d, e]).await.unwrap_err();
    assert!(
        matches!(err, Error::StaleVersion { expected: 1, .. }),
        "{err:?}"
    );
    assert_eq!(
        people.get(id_of(&saved[2])).await.unwrap().unwrap(),
        saved[2]
    );
    // missing and deleted rows
    people.delete(id_of(&saved[4])).await.unwrap();
    for (object, what) in [
        (json!({"id": 999, "n": 1}), "does not exist"),
        (json!({"id": id_of(&saved[4]), "n": 1}), "is deleted"),
    ] {
        let mut fine = saved[0].clone();
        fine["n"] = json!(-1);
        match people.save_many(vec![fine, object]).await {
            Err(Error::NotFound(message)) => assert!(message.contains(what), "{message}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        people.get(id_of(&saved[0])).await.unwrap().unwrap(),
        saved[0]
    );
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "f_items", history)]
pub struct Item {
    #[dal(id)]
    pub id: i64,
    #[dal(length = 100)]
    pub name: String,
}

impl Item {
    fn new(id: i64, name: &str) -> Self {
        Item {
            id,
            name: name.into(),
        }
    }
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "f_notes")]
pub struct Note {
    #[dal(id)]
    pub id: i64,
    #[dal(version)]
    pub version: i64,
    pub body: String,
}

/// `save_all` (and `save`) of entities that carry their own ids: the next
/// generated id is after the highest, on every backend, in bulk, inside a
/// transaction, for versioned entities too, and ids never go back.
pub async fn fid_save_all_with_explicit_ids(t: &TestDb) {
    let db = &t.db;
    Item::ensure_schema(db).await.unwrap();
    let mut imported = vec![
        Item::new(5, "five"),
        Item::new(100, "hundred"),
        Item::new(17, "seventeen"),
    ];
    Item::save_all(&mut imported, db).await.unwrap();
    let mut next = Item::new(0, "next");
    next.save(db).await.unwrap();
    assert!(next.id > 100, "{} on {}", next.id, db.dialect());

    // explicit ids and new rows in one call: the new rows come after
    let mut mixed = vec![
        Item::new(0, "a"),
        Item::new(300, "three hundred"),
        Item::new(0, "b"),
    ];
    Item::save_all(&mut mixed, db).await.unwrap();
    assert!(mixed[0].id > 300 && mixed[2].id > 300, "{mixed:?}");
    assert_ne!(mixed[0].id, mixed[2].id);
    let highest = mixed[0].id.max(mixed[2].id);

    // many new rows (PostgreSQL's COPY path) after many explicit ids
    let mut bulk: Vec<Item> = (0..100)
        .map(|i| Item::new(1000 + i, &format!("bulk {i}")))
        .collect();
    bulk.extend((0..100).map(|i| Item::new(0, &format!("gen {i}"))));
    Item::save_all(&mut bulk, db).await.unwrap();
    assert!(bulk[100..].iter().all(|i| i.id > 1099), "{:?}", &bulk[100]);
    let highest_bulk = bulk.iter().map(|i| i.id).max().unwrap();
    assert!(highest_bulk > highest);

    // an explicit id below the highest does not move the ids back
    Item::save_all(&mut [Item::new(50, "fifty")], db)
        .await
        .unwrap();
    let mut after = Item::new(0, "after");
    after.save(db).await.unwrap();
    assert!(after.id > highest_bulk);

    // inside a transaction
    let mut tx = db.begin().await.unwrap();
    Item::save_all(&mut [Item::new(5000, "in tx")], &mut tx)
        .await
        .unwrap();
    let mut in_tx = Item::new(0, "new in tx");
    in_tx.save(&mut tx).await.unwrap();
    assert!(in_tx.id > 5000);
    tx.commit().await.unwrap();
    let mut outside = Item::new(0, "outside");
    outside.save(db).await.unwrap();
    assert!(outside.id > in_tx.id);
    assert_eq!(Item::get(db, 100).await.unwrap().unwrap().name, "hundred");

    // a single save of a new row with its own id, then of a generated one
    let mut single = Item::new(7000, "single");
    single.save(db).await.unwrap();
    let mut generated = Item::new(0, "generated");
    generated.save(db).await.unwrap();
    assert!(generated.id > 7000, "{} on {}", generated.id, db.dialect());
    // updating a row by its id does not move anything
    single.name = "renamed".into();
    single.save(db).await.unwrap();
    let mut later = Item::new(0, "later");
    later.save(db).await.unwrap();
    assert!(later.id > generated.id);
    assert_eq!(Item::get(db, 7000).await.unwrap().unwrap().name, "renamed");

    // versioned entities insert rows with ids one by one
    Note::ensure_schema(db).await.unwrap();
    let mut notes = vec![Note {
        id: 9,
        version: 0,
        body: "nine".into(),
    }];
    Note::save_all(&mut notes, db).await.unwrap();
    let mut new_note = Note {
        id: 0,
        version: 0,
        body: "new".into(),
    };
    new_note.save(db).await.unwrap();
    assert!(new_note.id > 9);
    let mut single_note = Note {
        id: 90,
        version: 0,
        body: "ninety".into(),
    };
    single_note.save(db).await.unwrap();
    let mut after_note = Note {
        id: 0,
        version: 0,
        body: "after".into(),
    };
    after_note.save(db).await.unwrap();
    assert!(after_note.id > 90);
}

/// `levels` arrays nested in each other around `1`, built without recursion.
fn nest(levels: usize) -> J {
    let mut v = json!(1);
    for _ in 0..levels {
        v = J::Array(vec![v]);
    }
    v
}

/// `{key: value}` without `json!` (which copies its arguments recursively).
fn object(pairs: Vec<(&str, J)>) -> J {
    J::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// Drop a value of any depth without recursion.
fn drop_deep(v: J) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            J::Array(items) => stack.extend(items),
            J::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "f_trees")]
pub struct Tree {
    #[dal(id)]
    pub id: i64,
    #[dal(json)]
    pub doc: J,
    pub raw: Option<J>,
}

/// One JSON nesting limit, the same on save and read on every backend:
/// documents up to it are saved and read back (get, find, history); one level
/// more is `InvalidInput` naming the field, with nothing written; 10,000
/// levels are refused without overflowing the stack. Dynamic objects count as
/// the first level.
pub async fn fid_json_depth_limit(t: &TestDb) {
    let db = &t.db;
    let docs = db.dynamic("docs").unwrap();
    // the first save refused: no table
    let (field, reason) = invalid(
        docs.save(object(vec![("tree", nest(JSON_MAX_DEPTH))]))
            .await,
    );
    assert_eq!(field, "tree");
    assert!(reason.contains(&JSON_MAX_DEPTH.to_string()), "{reason}");
    assert!(!db.table_exists("docs").await.unwrap());

    let mut saved = Vec::new();
    for levels in [JSON_MAX_DEPTH - 2, JSON_MAX_DEPTH - 1] {
        let object = json!({"tree": nest(levels), "levels": levels});
        let s = docs.save(object).await.unwrap();
        assert_eq!(s["tree"], nest(levels));
        assert_eq!(docs.get(id_of(&s)).await.unwrap().unwrap(), s);
        assert_eq!(docs.history(id_of(&s)).await.unwrap()[0].data, s);
        saved.push(s);
    }
    assert_eq!(docs.find().all().await.unwrap(), saved);

    // one level too many, later: nothing written, no new field
    let fields = docs.fields().await.unwrap();
    let (field, _) = invalid(
        docs.save_many(vec![
            json!({"ok": 1}),
            json!({"other": {"deep": nest(JSON_MAX_DEPTH - 1)}}),
        ])
        .await,
    );
    assert_eq!(field, "other");
    assert_eq!(docs.count().await.unwrap(), 2);
    assert_eq!(docs.fields().await.unwrap(), fields);

    // 10,000 levels: in an object, as the object itself, later in a batch
    let (field, _) = invalid(docs.save(object(vec![("tree", nest(10_000))])).await);
    assert_eq!(field, "tree");
    invalid(docs.save(nest(10_000)).await);
    invalid(
        docs.save_many(vec![json!({"a": 1}), nest(10_000), nest(10_000)])
            .await,
    );
    invalid(
        docs.import(vec![object(vec![("id", json!(99)), ("x", nest(10_000))])])
            .await,
    );
    assert_eq!(docs.count().await.unwrap(), 2);

    // entity fields (`#[dal(json)]` and a plain serde_json::Value) and parameters
    Tree::ensure_schema(db).await.unwrap();
    let mut ok = Tree {
        id: 0,
        doc: nest(JSON_MAX_DEPTH),
        raw: Some(json!({"a": nest(JSON_MAX_DEPTH - 1)})),
    };
    ok.save(db).await.unwrap();
    assert_eq!(Tree::get(db, ok.id).await.unwrap().unwrap(), ok);
    assert_eq!(Tree::find().all(db).await.unwrap(), vec![ok.clone()]);
    for (doc, raw, column) in [
        (nest(JSON_MAX_DEPTH + 1), None, "doc"),
        (json!(1), Some(nest(JSON_MAX_DEPTH + 1)), "raw"),
        (nest(10_000), None, "doc"),
        (json!(1), Some(nest(10_000)), "raw"),
    ] {
        let mut t = Tree { id: 0, doc, raw };
        let (field, reason) = invalid(t.save(db).await);
        assert_eq!(field, column);
        assert!(reason.contains("JSON nested deeper"), "{reason}");
        let (field, _) = invalid(Tree::save_all(std::slice::from_mut(&mut t), db).await);
        assert_eq!(field, column);
        drop_deep(std::mem::take(&mut t.doc));
        drop_deep(t.raw.take().unwrap_or_default());
    }
    let deep = nest(10_000);
    let (field, _) = invalid(
        db.execute("INSERT INTO [f_trees] ([doc]) VALUES (?)", (Json(&deep),))
            .await,
    );
    assert_eq!(field, "json parameter");
    invalid(
        db.execute(
            "INSERT INTO [f_trees] ([doc]) VALUES (?)",
            (Value::Json(nest(JSON_MAX_DEPTH + 1)),),
        )
        .await,
    );
    drop_deep(deep);
    assert_eq!(Tree::find().count(db).await.unwrap(), 1);
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "f_measures")]
pub struct Measure {
    #[dal(id)]
    pub id: i64,
    pub single: f32,
    pub double: f64,
    pub maybe: Option<f64>,
}

/// Whether `dialect` stores `v` in a float column and reads it back unchanged
/// (the rule documented on `dal::Encode`).
fn float_stored(dialect: Dialect, v: f64) -> bool {
    let negative_zero = v == 0.0 && v.is_sign_negative();
    match dialect {
        Dialect::Postgres => true,
        Dialect::Sqlite => !v.is_nan() && !negative_zero,
        Dialect::MySql => v.is_finite() && !negative_zero,
    }
}

/// Bit-exact float equality (NaN equals NaN, -0.0 differs from 0.0).
fn same_f64(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits() == b.to_bits()
}

/// NaN, infinities and negative zero in f32 and f64 entity fields, plain
/// parameters, `Value`s and dynamic values: stored and read back bit for bit
/// where the backend can, `InvalidInput` naming the field with nothing
/// written where it cannot. Finite extremes round-trip everywhere.
pub async fn fid_special_floats(t: &TestDb) {
    let db = &t.db;
    let dialect = db.dialect();
    Measure::ensure_schema(db).await.unwrap();
    let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0];
    let finite = [
        0.0,
        1.5,
        f64::MAX,
        f64::MIN,
        f64::MIN_POSITIVE,
        f64::EPSILON,
        -1e-300,
    ];
    let mut rows = 0;
    for v in specials.into_iter().chain(finite) {
        for target in ["single", "double", "maybe"] {
            let mut m = Measure {
                id: 0,
                single: 1.0,
                double: 1.0,
                maybe: None,
            };
            let single = v as f32;
            match target {
                "single" => m.single = single,
                "double" => m.double = v,
                _ => m.maybe = Some(v),
            }
            let stored = float_stored(
                dialect,
                if target == "single" {
                    f64::from(single)
                } else {
                    v
                },
            );
            let result = m.save(db).await;
            if stored {
                result.unwrap_or_else(|e| panic!("{v} in {target} on {dialect}: {e}"));
                rows += 1;
                let back = Measure::get(db, m.id).await.unwrap().unwrap();
                let same = same_f64(f64::from(back.single), f64::from(m.single))
                    && same_f64(back.double, m.double)
                    && match (back.maybe, m.maybe) {
                        (Some(a), Some(b)) => same_f64(a, b),
                        (a, b) => a.is_none() && b.is_none(),
                    };
                assert!(same, "{v} in {target} on {dialect}: {back:?}");
            } else {
                let (field, reason) = invalid(result);
                assert_eq!(field, target, "{v} on {dialect}");
                assert!(!reason.is_empty());
            }
            // the same value as a plain parameter
            let plain = db
                .execute(
                    "INSERT INTO [f_measures] ([single], [double]) VALUES (?, ?)",
                    (1.0f32, m.maybe.unwrap_or(m.double)),
                )
                .await;
            let plain_stored = float_stored(dialect, m.maybe.unwrap_or(m.double));
            assert_eq!(plain.is_ok(), plain_stored, "{v} on {dialect}: {plain:?}");
            if plain_stored {
                rows += 1;
            } else {
                assert_eq!(invalid(plain).0, "float parameter");
            }
        }
        // Value::Float as a filter parameter follows the same rule
        let filtered = db
            .fetch_all(
                "SELECT [id] FROM [f_measures] WHERE [double] = ?",
                (Value::Float(v),),
            )
            .await;
        assert_eq!(
            filtered.is_ok(),
            float_stored(dialect, v),
            "{v} on {dialect}"
        );
    }
    assert_eq!(Measure::find().count(db).await.unwrap(), rows);

    // JSON has no NaN or infinity: refused everywhere (serde_json would write null)
    let (field, reason) = invalid(
        db.execute(
            "INSERT INTO [f_trees] ([doc]) VALUES (?)",
            (Json(vec![1.0, f64::NAN]),),
        )
        .await,
    );
    assert_eq!(field, "json parameter");
    assert!(reason.contains("NaN"), "{reason}");

    // dynamic values: -0.0 in a double field where the backend keeps its sign;
    // inside JSON documents numbers are JSON numbers (-0.0 == 0.0)
    let points = db.dynamic("points").unwrap();
    let result = points
        .save(json!({"x": -0.0, "j": [-0.0, 1e16, 1e300, 5e-324]}))
        .await;
    if float_stored(dialect, -0.0) {
        let saved = result.unwrap();
        let back = points.get(id_of(&saved)).await.unwrap().unwrap();
        assert!(back["x"].as_f64().unwrap().is_sign_negative());
        assert_eq!(back, saved);
        assert_eq!(back["j"], json!([-0.0, 1e16, 1e300, 5e-324]));
        assert!(back["j"][1].is_f64(), "1e16 stays a float: {}", back["j"]);
    } else {
        assert_eq!(invalid(result).0, "x");
        assert!(!db.table_exists("points").await.unwrap());
    }
    let saved = points
        .save(json!({"y": 0.1, "j": [1e16, -2.5e18, 1.0, 7]}))
        .await
        .unwrap();
    let back = points.get(id_of(&saved)).await.unwrap().unwrap();
    assert_eq!(back, saved);
    assert!(back["j"][0].is_f64() && back["j"][1].is_f64() && back["j"][3].is_i64());
    // integers go into a double field only when the double is exact
    points.save(json!({"y": 1i64 << 53})).await.unwrap();
    let (field, _) = invalid(points.save(json!({"y": (1i64 << 53) + 1, "z": 1})).await);
    assert_eq!(field, "y");
    assert!(!points.fields().await.unwrap().iter().any(|f| f.name == "z"));
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "f_texts")]
pub struct Text {
    #[dal(id)]
    pub id: i64,
    pub body: String,
}

/// Text with NUL characters: stored and read back on SQLite and MariaDB; on
/// PostgreSQL (whose text cannot hold them) a clear `InvalidInput` before
/// anything is sent, that does not count towards the circuit breaker.
pub async fn fid_nul_characters(t: &TestDb) {
    let db = &t.db;
    let pg = db.dialect() == Dialect::Postgres;
    Text::ensure_schema(db).await.unwrap();
    let with_nul = "before\0after";
    let mut t = Text {
        id: 0,
        body: with_nul.into(),
    };
    let saved = t.save(db).await;
    if pg {
        let (field, reason) = invalid(saved);
        assert_eq!(field, "body");
        assert!(reason.contains("NUL"), "{reason}");
        for _ in 0..30 {
            let (field, _) = invalid(
                db.execute("INSERT INTO [f_texts] ([body]) VALUES (?)", (with_nul,))
                    .await,
            );
            assert_eq!(field, "text parameter");
            invalid(
                db.fetch_all("SELECT [id] FROM [f_texts] WHERE [body] = ?", (with_nul,))
                    .await,
            );
        }
        assert_eq!(db.breaker_state(), BreakerState::Closed);
        assert_eq!(Text::find().count(db).await.unwrap(), 0);
    } else {
        saved.unwrap();
        assert_eq!(Text::get(db, t.id).await.unwrap().unwrap().body, with_nul);
        let found: Vec<(i64,)> = db
            .fetch_all_as("SELECT [id] FROM [f_texts] WHERE [body] = ?", (with_nul,))
            .await
            .unwrap();
        assert_eq!(found, vec![(t.id,)]);
    }

    // dynamic: text fields, and strings and keys inside JSON
    let notes = db.dynamic("nul_notes").unwrap();
    for object in [
        json!({"text": with_nul}),
        json!({"doc": {"k": [with_nul]}}),
        json!({"doc": {with_nul: 1}}),
    ] {
        let result = notes.save(object.clone()).await;
        if pg {
            invalid(result);
        } else {
            let saved = result.unwrap();
            assert_eq!(notes.get(id_of(&saved)).await.unwrap().unwrap(), saved);
            let mut fields = saved.as_object().unwrap().clone();
            fields.retain(|k, _| object.get(k).is_some());
            assert_eq!(J::Object(fields), object);
        }
    }
    if pg {
        assert!(!db.table_exists("nul_notes").await.unwrap());
        // the pool is fine afterwards
        assert_eq!(db.fetch_scalar::<i64, _>("SELECT 1", ()).await.unwrap(), 1);
    }
}

// ---------------------------------------------------------------------------
// Property test: arbitrary dynamic objects
// ---------------------------------------------------------------------------

mod props {
    use super::*;
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};

    /// Field names: short identifiers (so fields are reused and their types
    /// collide now and then), names that are not identifiers, and names that
    /// differ from dal's columns only in case.
    fn field_name() -> impl Strategy<Value = String> {
        prop_oneof![
            8 => "[a-e][a-c0-9_]?",
            1 => prop::sample::select(vec![
                "", "1st", "a b", "é", "x\0y", "drop table", "ID", "Version", "Created_At",
                "deleted_AT", "a-b", "t;--",
            ])
            .prop_map(str::to_string),
            1 => "[a-z_][a-z0-9_]{60,66}",
        ]
    }

    /// Strings: any Unicode, NUL characters, empty, and some that look like
    /// dates and date-times.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => any::<String>(),
            2 => "[a\0é€😀 ]{0,6}",
            1 => Just(String::new()),
            1 => prop::sample::select(vec![
                "2024-01-31", "0001-01-01", "9999-12-31", "2024-02-30",
                "2024-01-31T10:20:30Z", "2024-01-31 10:20:30.123456789", "2024-01-31t10:20:30+05:30",
                "1970-01-01T00:00:00.5-01:00", "2024-01-31T10:2é:30Z",
            ])
            .prop_map(str::to_string),
        ]
    }

    fn number() -> impl Strategy<Value = J> {
        prop_oneof![
            any::<i64>().prop_map(J::from),
            prop::sample::select(vec![
                0i64,
                -1,
                1,
                i64::MIN,
                i64::MAX,
                1 << 53,
                (1 << 53) + 1
            ])
            .prop_map(J::from),
            any::<u64>().prop_map(J::from),
            // non-finite floats become null (JSON has none)
            any::<f64>().prop_map(J::from),
            prop::sample::select(vec![-0.0, 0.1, 1e16, -2.5e18, 1e300, 5e-324, 2.0])
                .prop_map(J::from),
        ]
    }

    fn json_value() -> impl Strategy<Value = J> {
        let leaf = prop_oneof![
            Just(J::Null),
            any::<bool>().prop_map(J::Bool),
            number(),
            text().prop_map(J::String),
        ];
        let tree = leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(J::Array),
                prop::collection::btree_map(text(), inner, 0..4)
                    .prop_map(|m| J::Object(m.into_iter().collect())),
            ]
        });
        prop_oneof![
            12 => tree,
            // around the nesting limit (the object is the first level)
            1 => (JSON_MAX_DEPTH - 3..JSON_MAX_DEPTH + 2).prop_map(nest),
        ]
    }

    fn object() -> impl Strategy<Value = J> {
        prop::collection::btree_map(field_name(), json_value(), 0..5)
            .prop_map(|m| J::Object(m.into_iter().collect()))
    }

    const SYSTEM: [&str; 5] = ["id", "version", "created_at", "updated_at", "deleted_at"];

    /// An instant written the ways dynamic entities accept date-times.
    fn instant(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
        let t = s.replacen(' ', "T", 1).replacen('t', "T", 1);
        chrono::DateTime::parse_from_rfc3339(&t)
            .map(|d| d.with_timezone(&chrono::Utc))
            .ok()
            .or_else(|| {
                chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.f")
                    .ok()
                    .map(|n| n.and_utc())
            })
    }

    /// Whether the stored value `got` is the saved value `want`: equal JSON, or
    /// one of the documented conversions (an integer saved into a field that
    /// holds doubles reads back as that double; a date-time reads back as RFC
    /// 3339 in UTC with at most microseconds).
    fn same_field(want: &J, got: &J) -> bool {
        if want == got {
            return true;
        }
        match (want, got) {
            (J::Number(w), J::Number(g)) if g.is_f64() => {
                w.as_i64().is_some_and(|i| g.as_f64() == Some(i as f64))
            }
            (J::String(w), J::String(g)) => {
                g.ends_with('Z')
                    && match (instant(w), instant(g)) {
                        (Some(w), Some(g)) => {
                            w.timestamp() == g.timestamp()
                                && w.timestamp_subsec_micros() == g.timestamp_subsec_micros()
                        }
                        _ => false,
                    }
            }
            _ => false,
        }
    }

    /// Arbitrary JSON objects saved as a dynamic entity: each is either refused
    /// with `InvalidInput` (and the entity's rows and fields are unchanged) or
    /// read back exactly (`get`, the history, and `find` over all rows); a
    /// canary table and a canary entity are untouched. One database per
    /// backend; `DAL_PROPTEST_CASES` cases (default 40).
    pub async fn fid_property_dynamic_objects(t: &TestDb) {
        let db = &t.db;
        let dialect = db.dialect();
        db.execute_script("CREATE TABLE canary (id INTEGER PRIMARY KEY, note TEXT)")
            .await
            .unwrap();
        let notes = [(1i64, "Zoë"), (2, "a\u{1F600}b"), (3, "")];
        for (id, note) in notes {
            db.execute(
                "INSERT INTO [canary] ([id], [note]) VALUES (?, ?)",
                (id, note),
            )
            .await
            .unwrap();
        }
        let canary = db.dynamic("canary_entity").unwrap();
        let canary_rows = canary
            .save_many(vec![
                json!({"a": 1, "b": "x"}),
                json!({"c": [1, {"d": null}]}),
            ])
            .await
            .unwrap();

        let entity = db.dynamic("props").unwrap();
        let cases: u32 = std::env::var("DAL_PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(40);
        let mut runner = TestRunner::new(Config::with_cases(cases));
        let strategy = object();
        let (mut saved_count, mut refused) = (0, 0);
        for case in 0..cases {
            let input = strategy.new_tree(&mut runner).unwrap().current();
            let shown = format!("case {case} on {dialect}: {input}");
            let rows_before = entity.find().include_deleted(true).count().await.unwrap();
            let fields_before = entity.fields().await.unwrap();
            match entity.save(input.clone()).await {
                Ok(saved) => {
                    saved_count += 1;
                    let id = id_of(&saved);
                    assert_eq!(
                        entity.get(id).await.unwrap().as_ref(),
                        Some(&saved),
                        "{shown}"
                    );
                    let history = entity.history(id).await.unwrap();
                    assert_eq!(history.last().map(|v| &v.data), Some(&saved), "{shown}");
                    let want = input.as_object().unwrap();
                    let got = saved.as_object().unwrap();
                    for (k, v) in want {
                        if v.is_null() {
                            assert!(got.get(k).is_none(), "{shown}: {k} is null");
                        } else {
                            let g = got.get(k).unwrap_or(&J::Null);
                            assert!(same_field(v, g), "{shown}: {k} read back as {g}");
                        }
                    }
                    for k in got.keys() {
                        assert!(
                            SYSTEM.contains(&k.as_str()) || want.contains_key(k),
                            "{shown}: unexpected field {k}"
                        );
                    }
                }
                Err(Error::InvalidInput { field, reason }) => {
                    refused += 1;
                    assert!(!reason.is_empty(), "{shown}: {field}");
                    let rows = entity.find().include_deleted(true).count().await.unwrap();
                    assert_eq!(rows, rows_before, "{shown}: refused but rows changed");
                    assert_eq!(
                        entity.fields().await.unwrap(),
                        fields_before,
                        "{shown}: refused ({field}: {reason}) but fields changed"
                    );
                }
                Err(other) => panic!("{shown}: neither saved nor InvalidInput: {other:?}"),
            }
        }
        // every row reads back, in one query
        let all = entity.find().include_deleted(true).all().await.unwrap();
        assert_eq!(all.len() as i64, saved_count, "on {dialect}");
        eprintln!("{dialect}: {saved_count} saved, {refused} refused");

        let canary_now: Vec<(i64, String)> = db
            .fetch_all_as("SELECT [id], [note] FROM [canary] ORDER BY [id]", ())
            .await
            .unwrap();
        let expected: Vec<(i64, String)> = notes.iter().map(|(i, n)| (*i, n.to_string())).collect();
        assert_eq!(canary_now, expected);
        assert_eq!(canary.find().all().await.unwrap(), canary_rows);
    }
}

pub use props::fid_property_dynamic_objects;

macro_rules! fidelity_tests {
    ($setup:path) => {
        backend_tests!($setup;
            fidelity::fid_multibyte_text_everywhere,
            fidelity::fid_dynamic_import_with_ids,
            fidelity::fid_batch_updates,
            fidelity::fid_save_all_with_explicit_ids,
            fidelity::fid_json_depth_limit,
            fidelity::fid_special_floats,
            fidelity::fid_nul_characters,
            fidelity::fid_property_dynamic_objects,
        );
    };
}
