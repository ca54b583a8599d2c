//! `Vec<T>` of scalars as a column on every backend: a native array on
//! PostgreSQL, a JSON array on MariaDB and SQLite. Round trips (empty,
//! nullable, quotes and unicode), the typed filters, the column
//! `ensure_schema` creates, a stable diff, and the errors for stored values
//! that are not arrays.

use chrono::{DateTime, NaiveDate, Utc};
use dal::schema::ColumnType;
use dal::{Dialect, Entity, Error};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::support::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "arr_posts")]
pub struct Post {
    #[dal(id)]
    pub id: i64,
    pub title: String,
    pub tags: Vec<String>,
    pub scores: Vec<i64>,
    pub weights: Vec<f64>,
    pub ranks: Option<Vec<i32>>,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "arr_misc")]
pub struct Misc {
    #[dal(id)]
    pub id: i64,
    pub flags: Vec<bool>,
    pub ids: Vec<Uuid>,
    pub days: Vec<NaiveDate>,
    pub stamps: Vec<DateTime<Utc>>,
    pub prices: Vec<Decimal>,
    pub small: Vec<i16>,
    pub ratios: Vec<f32>,
}

fn post(title: &str, tags: &[&str], scores: &[i64]) -> Post {
    Post {
        id: 0,
        title: title.into(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
        scores: scores.to_vec(),
        weights: vec![0.5, -1.25],
        ranks: None,
    }
}

/// Save and load: values with quotes, backslashes, unicode and JSON-looking
/// text, empty arrays, a NULL array next to a non-empty one, every element
/// type, and an update of the arrays.
pub async fn arr_round_trips(t: &TestDb) {
    let db = &t.db;
    Post::ensure_schema(db).await.unwrap();
    Misc::ensure_schema(db).await.unwrap();
    let mut p = Post {
        id: 0,
        title: "tricky".into(),
        tags: vec![
            "it's".into(),
            "say \"hi\"".into(),
            "back\\slash".into(),
            "日本語 ✓ é".into(),
            "[1,2]".into(),
            "{\"a\":1}".into(),
            String::new(),
            "null".into(),
            "comma, {brace}".into(),
        ],
        scores: vec![i64::MIN, -1, 0, i64::MAX],
        weights: vec![0.1, -2.5, 1e300, 3.0],
        ranks: Some(vec![1, 2, 3]),
    };
    p.save(db).await.unwrap();
    assert_eq!(Post::get(db, p.id).await.unwrap().as_ref(), Some(&p));

    let mut empty = Post {
        id: 0,
        title: "empty".into(),
        tags: vec![],
        scores: vec![],
        weights: vec![],
        ranks: Some(vec![]),
    };
    empty.save(db).await.unwrap();
    assert_eq!(
        Post::get(db, empty.id).await.unwrap().as_ref(),
        Some(&empty)
    );
    let mut none = post("none", &["x"], &[1]);
    none.save(db).await.unwrap();
    assert_eq!(
        Post::get(db, none.id).await.unwrap().unwrap().ranks,
        None,
        "a NULL array"
    );

    // an update writes the new arrays
    p.tags = vec!["new".into()];
    p.ranks = None;
    p.save(db).await.unwrap();
    assert_eq!(Post::get(db, p.id).await.unwrap().as_ref(), Some(&p));
    empty.ranks = None;
    empty.scores = vec![7];
    empty.save(db).await.unwrap();
    assert_eq!(
        Post::get(db, empty.id).await.unwrap().as_ref(),
        Some(&empty)
    );

    let stamp = DateTime::parse_from_rfc3339("2024-02-29T23:59:58.123456Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut m = Misc {
        id: 0,
        flags: vec![true, false, true],
        ids: vec![
            Uuid::nil(),
            Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        ],
        days: vec![
            NaiveDate::from_ymd_opt(2024, 1, 31).unwrap(),
            NaiveDate::from_ymd_opt(1999, 12, 31).unwrap(),
        ],
        stamps: vec![stamp],
        prices: vec!["12.50".parse().unwrap(), "-0.000001".parse().unwrap()],
        small: vec![i16::MIN, i16::MAX],
        ratios: vec![0.1, 1.5],
    };
    m.save(db).await.unwrap();
    let back = Misc::get(db, m.id).await.unwrap().unwrap();
    assert_eq!(back.flags, m.flags);
    assert_eq!(back.ids, m.ids);
    assert_eq!(back.days, m.days);
    assert_eq!(back.stamps, m.stamps);
    assert_eq!(back.small, m.small);
    assert_eq!(back.ratios, m.ratios);
    // decimals compare by value (a NUMERIC(20, 6) gives them six digits)
    assert_eq!(
        back.prices
            .iter()
            .map(|d| d.normalize())
            .collect::<Vec<_>>(),
        m.prices.iter().map(|d| d.normalize()).collect::<Vec<_>>()
    );

    // many rows at once (PostgreSQL copies 64 rows and more)
    let mut many: Vec<Post> = (0..70)
        .map(|i| post(&format!("bulk {i}"), &["bulk", "x"], &[i]))
        .collect();
    Post::save_all(&mut many, db).await.unwrap();
    let loaded = Post::find()
        .filter(Post::TAGS.contains("bulk"))
        .order_by(Post::ID.asc())
        .all(db)
        .await
        .unwrap();
    assert_eq!(loaded, many);
    m.id = 0;
    let mut misc = vec![m.clone(); 65];
    Misc::save_all(&mut misc, db).await.unwrap();
    assert_eq!(Misc::find().count(db).await.unwrap(), 66);
}

/// `contains`, `any`, `contains_all`, `is_empty` and the lengths, with no
/// match, empty input, NULL arrays and negation.
pub async fn arr_filters(t: &TestDb) {
    let db = &t.db;
    Post::ensure_schema(db).await.unwrap();
    let mut rows = vec![
        post("a", &["rust", "sql", "it's"], &[1, 2, 3]),
        post("b", &["go", "Rust"], &[3, 40]),
        post("c", &[], &[]),
        post("d", &["日本語", "rust"], &[-5]),
    ];
    rows[0].ranks = Some(vec![10, 20]);
    rows[2].ranks = Some(vec![]);
    Post::save_all(&mut rows, db).await.unwrap();

    async fn titles(db: &dal::Db, cond: dal::Cond<Post>) -> Vec<String> {
        Post::find()
            .filter(cond)
            .order_by(Post::TITLE.asc())
            .all(db)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.title)
            .collect()
    }

    // contains: text (case-sensitive), quotes, unicode, integers
    assert_eq!(titles(db, Post::TAGS.contains("rust")).await, ["a", "d"]);
    assert_eq!(titles(db, Post::TAGS.contains("Rust")).await, ["b"]);
    assert_eq!(titles(db, Post::TAGS.contains("it's")).await, ["a"]);
    assert_eq!(titles(db, Post::TAGS.contains("日本語")).await, ["d"]);
    assert!(titles(db, Post::TAGS.contains("nope")).await.is_empty());
    assert!(titles(db, Post::TAGS.contains("rus")).await.is_empty());
    assert_eq!(titles(db, Post::SCORES.contains(3)).await, ["a", "b"]);
    assert_eq!(titles(db, Post::SCORES.contains(-5i64)).await, ["d"]);
    assert!(titles(db, Post::SCORES.contains(4)).await.is_empty());
    assert_eq!(titles(db, Post::WEIGHTS.contains(0.5)).await.len(), 4);
    // negation, and combination with other conditions
    assert_eq!(titles(db, !Post::TAGS.contains("rust")).await, ["b", "c"]);
    assert_eq!(
        titles(db, Post::TAGS.contains("rust") & Post::SCORES.contains(1)).await,
        ["a"]
    );

    // any: at least one; no values match nothing
    assert_eq!(titles(db, Post::TAGS.any(["go", "sql"])).await, ["a", "b"]);
    assert_eq!(titles(db, Post::SCORES.any([40, -5])).await, ["b", "d"]);
    assert!(titles(db, Post::SCORES.any([99, 100])).await.is_empty());
    assert!(
        titles(db, Post::TAGS.any(Vec::<String>::new()))
            .await
            .is_empty()
    );

    // contains_all: every one; no values match every array
    assert_eq!(
        titles(db, Post::TAGS.contains_all(["rust", "sql"])).await,
        ["a"]
    );
    assert!(
        titles(db, Post::TAGS.contains_all(["rust", "go"]))
            .await
            .is_empty()
    );
    assert_eq!(
        titles(db, Post::TAGS.contains_all(Vec::<&str>::new())).await,
        ["a", "b", "c", "d"]
    );

    // lengths
    assert_eq!(titles(db, Post::TAGS.is_empty()).await, ["c"]);
    assert_eq!(titles(db, !Post::TAGS.is_empty()).await, ["a", "b", "d"]);
    assert_eq!(titles(db, Post::TAGS.len_eq(2)).await, ["b", "d"]);
    assert_eq!(titles(db, Post::SCORES.len_gt(1)).await, ["a", "b"]);
    assert_eq!(titles(db, Post::SCORES.len_lt(1)).await, ["c"]);

    // a NULL array matches neither a filter nor its negation
    assert_eq!(titles(db, Post::RANKS.contains(10)).await, ["a"]);
    assert_eq!(titles(db, !Post::RANKS.contains(10)).await, ["c"]);
    assert_eq!(titles(db, Post::RANKS.is_empty()).await, ["c"]);
    assert_eq!(titles(db, !Post::RANKS.is_empty()).await, ["a"]);
    assert_eq!(titles(db, Post::RANKS.is_null()).await, ["b", "d"]);
    assert_eq!(titles(db, Post::RANKS.any([20, 30])).await, ["a"]);

    // filters work in counts and bulk updates/deletes too
    assert_eq!(
        Post::find()
            .filter(Post::TAGS.contains("rust"))
            .count(db)
            .await
            .unwrap(),
        2
    );
    Post::find()
        .filter(Post::TAGS.contains("go"))
        .update_many(db, vec![Post::TITLE.set("b2")])
        .await
        .unwrap();
    assert_eq!(titles(db, Post::SCORES.contains(40)).await, ["b2"]);
    Post::find()
        .filter(Post::TAGS.is_empty())
        .delete_many(db)
        .await
        .unwrap();
    assert_eq!(Post::find().count(db).await.unwrap(), 3);
}

/// `ensure_schema` creates a native array on PostgreSQL and a JSON column on
/// MariaDB and SQLite; introspection reads it back as such, a second
/// `ensure_schema` changes nothing and the diff is empty.
pub async fn arr_schema(t: &TestDb) {
    let db = &t.db;
    let dialect = db.dialect();
    let first = Post::ensure_schema(db).await.unwrap();
    let again = Post::ensure_schema(db).await.unwrap();
    assert!(again.is_unchanged(), "first {first:?}, again {again:?}");
    assert!(again.destructive.is_empty(), "{again:?}");
    let live = db.introspect_table("arr_posts").await.unwrap().unwrap();
    let ty = |n: &str| live.column(n).unwrap().ty.clone();
    let nullable = |n: &str| live.column(n).unwrap().nullable;
    match dialect {
        Dialect::Postgres => {
            assert_eq!(ty("tags"), ColumnType::array(ColumnType::Text));
            assert_eq!(ty("scores"), ColumnType::array(ColumnType::BigInteger));
            assert_eq!(ty("weights"), ColumnType::array(ColumnType::Double));
            assert_eq!(ty("ranks"), ColumnType::array(ColumnType::Integer));
            let declared: Vec<(String,)> = db
                .fetch_all_as(
                    "SELECT data_type || ':' || udt_name FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = 'arr_posts' \
                     AND column_name = 'scores'",
                    (),
                )
                .await
                .unwrap();
            assert_eq!(declared, [("ARRAY:_int8".to_string(),)]);
        }
        Dialect::MySql | Dialect::Sqlite => {
            for c in ["tags", "scores", "weights", "ranks"] {
                assert_eq!(ty(c), ColumnType::Json, "{c}");
            }
        }
    }
    assert!(!nullable("tags"));
    assert!(nullable("ranks"));
    let want = Post::blueprint();
    let diff = dal::schema::diff_tables(&want, &live, dialect);
    assert!(diff.is_empty(), "{diff:?}");
    // every element type reads back as written (PostgreSQL: NUMERIC(20, 6)[],
    // TIMESTAMPTZ[], UUID[], ...)
    Misc::ensure_schema(db).await.unwrap();
    let live = db.introspect_table("arr_misc").await.unwrap().unwrap();
    let diff = dal::schema::diff_tables(&Misc::blueprint(), &live, dialect);
    assert!(diff.is_empty(), "{diff:?}");
    if dialect == Dialect::Postgres {
        assert_eq!(
            live.column("prices").unwrap().ty,
            ColumnType::array(ColumnType::Decimal {
                precision: 20,
                scale: 6
            })
        );
        assert_eq!(
            live.column("stamps").unwrap().ty,
            ColumnType::array(ColumnType::TimestampTz)
        );
    }
    assert!(Misc::ensure_schema(db).await.unwrap().is_unchanged());
    if dialect == Dialect::MySql {
        // MariaDB's JSON: LONGTEXT with a json_valid check
        let err = db
            .execute(
                "INSERT INTO [arr_posts] ([title], [tags], [scores], [weights]) VALUES ('x', 'not json', '[]', '[]')",
                (),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, Error::ConstraintViolation { .. }), "{err:?}");
    }
}

/// What is stored but is no array of the field's type reads as a decode
/// error naming the problem, never a panic: a JSON object or number, a NULL
/// element, a nested array, a wrong element type, an element out of range.
pub async fn arr_bad_values_are_decode_errors(t: &TestDb) {
    let db = &t.db;
    Post::ensure_schema(db).await.unwrap();
    let mut p = post("ok", &["a"], &[1]);
    p.save(db).await.unwrap();
    let cases: Vec<(&str, &str, &str)> = match db.dialect() {
        Dialect::Postgres => vec![
            ("tags", "ARRAY['a', NULL]::text[]", "element 1 is NULL"),
            ("scores", "ARRAY[1, NULL]::bigint[]", "element 1 is NULL"),
        ],
        Dialect::MySql | Dialect::Sqlite => vec![
            (
                "tags",
                "'{\"a\": 1}'",
                "expected a JSON array, found an object",
            ),
            ("scores", "'7'", "expected a JSON array, found a number"),
            ("scores", "'[1, null]'", "element 1 is NULL"),
            ("scores", "'[[1]]'", "element 0 is an array"),
            ("scores", "'[\"x\"]'", "element 0"),
            ("scores", "'[1.5]'", "element 0"),
        ],
    };
    for (column, value, want) in cases {
        db.execute(
            &format!("UPDATE [arr_posts] SET [{column}] = {value} WHERE [id] = ?"),
            (p.id,),
        )
        .await
        .unwrap_or_else(|e| panic!("{value}: {e}"));
        let err = Post::get(db, p.id).await.unwrap_err();
        match &err {
            Error::Decode { column: c, reason } => {
                assert!(reason.contains(want), "{value}: {reason}");
                assert!(c.contains(column), "{value}: column {c}");
            }
            other => panic!("{value}: {other:?}"),
        }
        // put the row back
        db.execute(
            &format!("UPDATE [arr_posts] SET [{column}] = ? WHERE [id] = ?"),
            (vec![1i64], p.id),
        )
        .await
        .ok();
        p.save(db).await.unwrap();
    }
    // the nullable column reads NULL as None, the NOT NULL one cannot hold it
    let n: Vec<(Option<Vec<i32>>,)> = db
        .fetch_all_as("SELECT [ranks] FROM [arr_posts] WHERE [id] = ?", (p.id,))
        .await
        .unwrap();
    assert_eq!(n, [(None,)]);
    let err = db
        .fetch_all_as::<(Vec<i32>,), _>("SELECT [ranks] FROM [arr_posts] WHERE [id] = ?", (p.id,))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    // an element the backend cannot store is refused before anything is sent
    let mut bad = post("bad", &[], &[]);
    bad.weights = vec![f64::NAN];
    match db.dialect() {
        // a native float8[] stores NaN
        Dialect::Postgres => {
            bad.save(db).await.unwrap();
            let back = Post::get(db, bad.id).await.unwrap().unwrap();
            assert!(back.weights[0].is_nan());
        }
        Dialect::MySql | Dialect::Sqlite => {
            let err = bad.save(db).await.unwrap_err();
            assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        }
    }
    if db.dialect() == Dialect::Postgres {
        let mut nul = post("nul", &["a\0b"], &[]);
        let err = nul.save(db).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
}

macro_rules! array_tests {
    ($setup:path) => {
        backend_tests!($setup;
            arrays::arr_round_trips,
            arrays::arr_filters,
            arrays::arr_schema,
            arrays::arr_bad_values_are_decode_errors,
        );
    };
}
