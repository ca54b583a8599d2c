//! Runtime behaviour on every backend: parameter types, rows, portable SQL,
//! transactions, errors, pool timeouts.

use std::time::Duration;

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dal::{ConstraintKind, Dialect, Error, Json, Table, TimeoutKind, Value};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::support::TestDb;

fn all_types_table() -> Table {
    Table::build("all_types", |t| {
        t.id();
        t.small_integer("i16").nullable();
        t.integer("i32").nullable();
        t.big_integer("i64").nullable();
        t.float("f32").nullable();
        t.double("f64").nullable();
        t.boolean("flag").nullable();
        t.string("name", 200).nullable();
        t.text("body").nullable();
        t.binary("bytes").nullable();
        t.date("day").nullable();
        t.time("at").nullable();
        t.timestamp("naive").nullable();
        t.timestamp_tz("instant").nullable();
        t.uuid("uid").nullable();
        t.json("doc").nullable();
        t.decimal("amount", 20, 4).nullable();
        t.enumeration("kind", ["small", "large"]).nullable();
    })
}

const INSERT_ALL: &str = "INSERT INTO [all_types] ([i16], [i32], [i64], [f32], [f64], [flag], [name], [body], [bytes], [day], [at], [naive], [instant], [uid], [doc], [amount], [kind]) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

const SELECT_ALL: &str = "SELECT [i16], [i32], [i64], [f32], [f64], [flag], [name], [body], [bytes], [day], [at], [naive], [instant], [uid], [doc], [amount], [kind] FROM [all_types] WHERE [id] = ?";

#[derive(Debug, Clone, PartialEq, dal::FromRow)]
struct AllTypes {
    i16: Option<i16>,
    i32: Option<i32>,
    i64: Option<i64>,
    f32: Option<f32>,
    f64: Option<f64>,
    flag: Option<bool>,
    name: Option<String>,
    body: Option<String>,
    bytes: Option<Vec<u8>>,
    day: Option<NaiveDate>,
    at: Option<NaiveTime>,
    naive: Option<NaiveDateTime>,
    instant: Option<DateTime<Utc>>,
    uid: Option<Uuid>,
    doc: Option<serde_json::Value>,
    amount: Option<Decimal>,
    kind: Option<String>,
}

fn sample(n: i64) -> AllTypes {
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let at = NaiveTime::from_hms_micro_opt(23, 59, 58, 123_456).unwrap();
    AllTypes {
        i16: Some(i16::MIN + n as i16),
        i32: Some(i32::MAX - n as i32),
        i64: Some(i64::MIN + n),
        f32: Some(1.5),
        f64: Some(-2.25e10 + n as f64),
        flag: Some(n % 2 == 0),
        name: Some(format!("Zoë 'quoted' \"double\" ? [x] -- {n} 🚀")),
        body: Some("line1\nline2\\backslash".repeat(100)),
        bytes: Some(vec![0, 1, 2, 255, 254, n as u8]),
        day: Some(day),
        at: Some(at),
        naive: Some(day.and_time(at)),
        instant: Some(DateTime::from_timestamp(1_700_000_000 + n, 123_456_000).unwrap()),
        uid: Some(Uuid::new_v4()),
        doc: Some(serde_json::json!({"a": [1, 2.5, "x", null, true], "nested": {"k": n}})),
        amount: Some("12345678901.2345".parse().unwrap()),
        kind: Some("large".into()),
    }
}

async fn insert(db: &dal::Db, v: &AllTypes) -> i64 {
    let params = dal::params![
        v.i16, v.i32, v.i64, v.f32, v.f64, v.flag, v.name, v.body, v.bytes, v.day, v.at, v.naive,
        v.instant, v.uid, v.doc, v.amount, v.kind
    ];
    if db.dialect() == Dialect::Postgres {
        let sql = format!("{INSERT_ALL} RETURNING [id]");
        db.fetch_scalar::<i64, _>(&sql, params).await.unwrap()
    } else {
        db.execute(INSERT_ALL, params)
            .await
            .unwrap()
            .last_insert_id
            .expect("last insert id")
    }
}

/// Every parameter type is written and read back unchanged, through typed
/// getters, `FromRow` and `Value`.
pub async fn rt_every_type_round_trips(db: &TestDb) {
    db.create_table(&all_types_table()).await.unwrap();
    for n in 0..3 {
        let v = sample(n);
        let id = insert(db, &v).await;
        let back: AllTypes = db.fetch_one_as(SELECT_ALL, (id,)).await.unwrap();
        assert_eq!(back, v, "row {n} on {}", db.dialect());

        let row = db.fetch_one(SELECT_ALL, (id,)).await.unwrap();
        assert_eq!(row.get::<Option<i64>, _>("i64").unwrap(), v.i64);
        assert_eq!(row.get::<i64, _>(0).unwrap(), i64::from(v.i16.unwrap()));
        assert_eq!(
            row.get::<String, _>("name").unwrap(),
            v.name.clone().unwrap()
        );
        let values = row.values().unwrap();
        assert_eq!(values.len(), 17);
        assert!(matches!(values[2], Value::Int(_)));
        let json = row.to_json().unwrap();
        assert_eq!(json["name"], serde_json::json!(v.name.clone().unwrap()));
    }
}

/// NULL in every column reads back as `None`, and reading NULL into a
/// non-optional type is a clear decode error.
pub async fn rt_nulls_round_trip(db: &TestDb) {
    db.create_table(&all_types_table()).await.unwrap();
    let empty = AllTypes {
        i16: None,
        i32: None,
        i64: None,
        f32: None,
        f64: None,
        flag: None,
        name: None,
        body: None,
        bytes: None,
        day: None,
        at: None,
        naive: None,
        instant: None,
        uid: None,
        doc: None,
        amount: None,
        kind: None,
    };
    let id = insert(db, &empty).await;
    let back: AllTypes = db.fetch_one_as(SELECT_ALL, (id,)).await.unwrap();
    assert_eq!(back, empty);
    // untyped NULLs (dynamic values) too
    let nulls: Vec<Value> = vec![Value::Null; 17];
    db.execute(INSERT_ALL, nulls).await.unwrap();
    let row = db
        .fetch_one("SELECT [i64] FROM [all_types] WHERE [id] = ?", (id,))
        .await
        .unwrap();
    match row.get::<i64, _>("i64") {
        Err(Error::Decode { column, reason }) => {
            assert_eq!(column, "i64");
            assert!(reason.contains("NULL"), "{reason}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
}

/// Extreme and awkward values: empty strings and bytes, integer limits,
/// far dates, long text, large JSON, serde types through `Json<T>`.
pub async fn rt_edge_values(db: &TestDb) {
    db.create_table(&all_types_table()).await.unwrap();
    let far = NaiveDate::from_ymd_opt(1000, 1, 1).unwrap();
    let v = AllTypes {
        i16: Some(i16::MAX),
        i32: Some(i32::MIN),
        i64: Some(i64::MAX),
        f32: Some(f32::MIN_POSITIVE),
        f64: Some(f64::MAX),
        flag: Some(false),
        name: Some(String::new()),
        body: Some("x".repeat(60_000)),
        bytes: Some(Vec::new()),
        day: Some(far),
        at: Some(NaiveTime::from_hms_opt(0, 0, 0).unwrap()),
        naive: Some(
            NaiveDate::from_ymd_opt(9999, 12, 31)
                .unwrap()
                .and_hms_opt(23, 59, 59)
                .unwrap(),
        ),
        instant: Some(DateTime::from_timestamp(0, 0).unwrap()),
        uid: Some(Uuid::nil()),
        doc: Some(serde_json::json!([])),
        amount: Some("-0.0001".parse().unwrap()),
        kind: Some("small".into()),
    };
    let id = insert(db, &v).await;
    let back: AllTypes = db.fetch_one_as(SELECT_ALL, (id,)).await.unwrap();
    assert_eq!(back, v);

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Prefs {
        theme: String,
        sizes: Vec<u32>,
    }
    let prefs = Prefs {
        theme: "dark".into(),
        sizes: vec![1, 2, 3],
    };
    db.execute(
        "UPDATE [all_types] SET [doc] = ? WHERE [id] = ?",
        (Json(prefs.clone()), id),
    )
    .await
    .unwrap();
    let (Json(got),): (Json<Prefs>,) = db
        .fetch_one_as("SELECT [doc] FROM [all_types] WHERE [id] = ?", (id,))
        .await
        .unwrap();
    assert_eq!(got, prefs);
}

/// Dates, timestamps and instants on both sides of 1970 and of 2000 (the
/// epoch PostgreSQL counts from) down to the microsecond, integer and float
/// limits and UUIDs read back exactly through `FromRow`, `Row::get` and
/// `Value`; on PostgreSQL an infinite date or timestamp, which no chrono type
/// holds, is a decode error naming the column, never a panic.
pub async fn rt_dates_and_numbers_around_the_epochs(db: &TestDb) {
    db.create_table(&all_types_table()).await.unwrap();
    let ymd = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let at = |h, m, s, us| NaiveTime::from_hms_micro_opt(h, m, s, us).unwrap();
    let cases = [
        (
            ymd(1000, 1, 1),
            at(0, 0, 0, 1),
            i16::MIN,
            i32::MIN,
            i64::MIN,
            -0.5f32,
        ),
        (
            ymd(1969, 12, 31),
            at(23, 59, 59, 999_999),
            -1,
            -1,
            -1,
            f32::MAX,
        ),
        (
            ymd(1999, 12, 31),
            at(23, 59, 59, 999_999),
            i16::MAX,
            i32::MAX,
            i64::MAX,
            f32::MIN,
        ),
        (ymd(2000, 1, 1), at(0, 0, 0, 0), 0, 0, 0, 0.0),
        (ymd(2000, 1, 2), at(0, 0, 0, 1), 1, 1, 1, 1e-30),
        (
            ymd(9999, 12, 31),
            at(23, 59, 59, 999_999),
            255,
            65_536,
            1 << 40,
            3.25,
        ),
    ];
    for (n, (day, time, i16, i32, i64, f32)) in cases.into_iter().enumerate() {
        let naive = day.and_time(time);
        // instants within every backend's range: 1970 .. 2100
        let instant = if (1970..2100).contains(&day.year_ce().1) {
            naive.and_utc()
        } else {
            DateTime::from_timestamp(946_684_799 + n as i64, 999_999_000).unwrap()
        };
        let v = AllTypes {
            i16: Some(i16),
            i32: Some(i32),
            i64: Some(i64),
            f32: Some(f32),
            f64: Some(f64::from(f32) * 3.0),
            flag: Some(n % 2 == 1),
            day: Some(day),
            at: Some(time),
            naive: Some(naive),
            instant: Some(instant),
            uid: Some(if n == 0 { Uuid::max() } else { Uuid::new_v4() }),
            ..sample(n as i64)
        };
        let id = insert(db, &v).await;
        let back: AllTypes = db.fetch_one_as(SELECT_ALL, (id,)).await.unwrap();
        assert_eq!(back, v, "case {n} on {}", db.dialect());
        let row = db.fetch_one(SELECT_ALL, (id,)).await.unwrap();
        assert_eq!(row.get::<NaiveDate, _>("day").unwrap(), day);
        assert_eq!(row.get::<NaiveDateTime, _>("naive").unwrap(), naive);
        assert_eq!(row.get::<DateTime<Utc>, _>("instant").unwrap(), instant);
        assert_eq!(row.get::<i64, _>("i16").unwrap(), i64::from(i16));
        assert_eq!(row.get::<f64, _>("f32").unwrap(), f64::from(f32));
        assert_eq!(row.get::<Uuid, _>("uid").unwrap(), v.uid.unwrap());
        let values = row.values().unwrap();
        assert_eq!(values[2], Value::Int(i64));
    }

    if db.dialect() == Dialect::Postgres {
        let row = db
            .fetch_one(
                "SELECT 'infinity'::timestamp AS t, '-infinity'::date AS d, \
                 'infinity'::timestamptz AS tz, '-infinity'::timestamp AS nt",
                (),
            )
            .await
            .unwrap();
        for (column, got) in [
            ("t", row.get::<NaiveDateTime, _>("t").map(|_| ())),
            ("d", row.get::<NaiveDate, _>("d").map(|_| ())),
            ("tz", row.get::<DateTime<Utc>, _>("tz").map(|_| ())),
            ("nt", row.get::<NaiveDateTime, _>("nt").map(|_| ())),
            ("t", row.get::<Value, _>("t").map(|_| ())),
        ] {
            match got {
                Err(Error::Decode { column: c, reason }) => {
                    assert_eq!(c, column);
                    assert!(reason.contains("out of range"), "{reason}");
                }
                other => panic!("infinity in {column}: expected a decode error, got {other:?}"),
            }
        }
    }
}

/// The same statement run with different parameter types (an integer, then a
/// float, then a decimal) stores each value exactly: PostgreSQL's prepared
/// statements are keyed by parameter types, not by text alone.
pub async fn rt_same_sql_different_parameter_types(db: &TestDb) {
    db.create_table(&Table::build("nums", |t| {
        t.id();
        t.double("x").nullable();
    }))
    .await
    .unwrap();
    let sql = "INSERT INTO [nums] ([x]) VALUES (?)";
    for _ in 0..3 {
        db.execute(sql, (5i64,)).await.unwrap();
        db.execute(sql, (2.5f64,)).await.unwrap();
        db.execute(sql, (None::<f64>,)).await.unwrap();
        db.execute(sql, (Value::Null,)).await.unwrap();
        db.execute(sql, (7i32,)).await.unwrap();
    }
    let xs: Vec<(Option<f64>,)> = db
        .fetch_all_as("SELECT [x] FROM [nums] ORDER BY [id]", ())
        .await
        .unwrap();
    let got: Vec<Option<f64>> = xs.into_iter().map(|(x,)| x).collect();
    let want: Vec<Option<f64>> = [Some(5.0), Some(2.5), None, None, Some(7.0)]
        .iter()
        .cycle()
        .take(15)
        .copied()
        .collect();
    assert_eq!(got, want);
}

/// Portable SQL on the server: `[name]` quoting (reserved words, spaces),
/// `?` numbering, `??` for a literal `?`, text inside literals untouched.
pub async fn rt_portable_sql(db: &TestDb) {
    db.execute(
        "CREATE TABLE [order] ([select] INTEGER, [user name] VARCHAR(50))",
        (),
    )
    .await
    .unwrap();
    db.execute(
        "INSERT INTO [order] ([select], [user name]) VALUES (?, ?), (?, '[not] an ident?')",
        (1, "a?b", 2),
    )
    .await
    .unwrap();
    let rows: Vec<(i64, String)> = db
        .fetch_all_as(
            "SELECT [select], [user name] FROM [order] WHERE [select] >= ? ORDER BY [select]",
            (1,),
        )
        .await
        .unwrap();
    assert_eq!(
        rows,
        vec![(1, "a?b".to_string()), (2, "[not] an ident?".to_string())]
    );
    if db.dialect() == Dialect::Postgres {
        let has: bool = db
            .fetch_scalar("SELECT ?::jsonb ?? 'a'", (serde_json::json!({"a": 1}),))
            .await
            .unwrap();
        assert!(has);
        let second: i64 = db
            .fetch_scalar("SELECT (ARRAY[10, 20, 30])[2] + ?", (0,))
            .await
            .unwrap();
        assert_eq!(second, 20);
    }
}

/// Rows by index and name, missing columns, `FromRow` with renames, defaults
/// and JSON fields, tuples and scalars.
pub async fn rt_rows_and_from_row(db: &TestDb) {
    db.create_table(&Table::build("people", |t| {
        t.id();
        t.string("full_name", 100);
        t.json("tags");
    }))
    .await
    .unwrap();
    db.execute(
        "INSERT INTO [people] ([full_name], [tags]) VALUES (?, ?), (?, ?)",
        (
            "Ada",
            serde_json::json!(["x"]),
            "Grace",
            serde_json::json!([]),
        ),
    )
    .await
    .unwrap();

    #[derive(dal::FromRow, Debug, PartialEq)]
    struct Person {
        id: i64,
        #[dal(rename = "full_name")]
        name: String,
        #[dal(json)]
        tags: Vec<String>,
        #[dal(default)]
        nickname: Option<String>,
        #[dal(skip)]
        cached: u32,
    }
    let people: Vec<Person> = db
        .fetch_all_as("SELECT * FROM [people] ORDER BY [id]", ())
        .await
        .unwrap();
    assert_eq!(people.len(), 2);
    assert_eq!(people[0].name, "Ada");
    assert_eq!(people[0].tags, vec!["x".to_string()]);
    assert_eq!(people[1].nickname, None);
    assert_eq!(people[1].cached, 0);

    let row = db
        .fetch_one(
            "SELECT [id], [full_name] FROM [people] WHERE [id] = ?",
            (1,),
        )
        .await
        .unwrap();
    assert_eq!(row.len(), 2);
    assert_eq!(row.column_names(), vec!["id", "full_name"]);
    assert!(matches!(
        row.get::<String, _>("nope"),
        Err(Error::Decode { .. })
    ));
    assert!(matches!(row.get::<String, _>(5), Err(Error::Decode { .. })));
    assert!(matches!(
        row.get::<i64, _>("full_name"),
        Err(Error::Decode { .. })
    ));
    let count: i64 = db
        .fetch_scalar("SELECT COUNT(*) FROM [people]", ())
        .await
        .unwrap();
    assert_eq!(count, 2);
    let none = db
        .fetch_optional("SELECT [id] FROM [people] WHERE [id] = ?", (99,))
        .await
        .unwrap();
    assert!(none.is_none());
    let err = db
        .fetch_one("SELECT [id] FROM [people] WHERE [id] = ?", (99,))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
}

fn counter_table() -> Table {
    Table::build("counter", |t| {
        t.id();
        t.integer("n");
    })
}

async fn count(db: &dal::Db) -> i64 {
    db.fetch_scalar("SELECT COUNT(*) FROM [counter]", ())
        .await
        .unwrap()
}

/// Guard form: commit keeps, rollback and drop discard; nested transactions
/// are savepoints that commit or roll back on their own.
pub async fn rt_transactions_commit_rollback_nest(db: &TestDb) {
    db.create_table(&counter_table()).await.unwrap();
    let insert = "INSERT INTO [counter] ([n]) VALUES (?)";

    let mut tx = db.begin().await.unwrap();
    tx.execute(insert, (1,)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(count(db).await, 1);

    let mut tx = db.begin().await.unwrap();
    tx.execute(insert, (2,)).await.unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(count(db).await, 1);

    {
        let mut tx = db.begin().await.unwrap();
        tx.execute(insert, (3,)).await.unwrap();
        // dropped without commit
    }
    // the rollback of a dropped guard may finish in the background on servers
    for _ in 0..50 {
        if count(db).await == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(count(db).await, 1);

    let mut tx = db.begin().await.unwrap();
    tx.execute(insert, (4,)).await.unwrap();
    {
        let mut sp = tx.begin().await.unwrap();
        assert_eq!(sp.depth(), 1);
        sp.execute(insert, (5,)).await.unwrap();
        sp.rollback().await.unwrap();
    }
    {
        let mut sp = tx.begin().await.unwrap();
        sp.execute(insert, (6,)).await.unwrap();
        {
            let mut inner = sp.begin().await.unwrap();
            assert_eq!(inner.depth(), 2);
            inner.execute(insert, (7,)).await.unwrap();
            // dropped: rolled back to its savepoint
        }
        sp.execute(insert, (8,)).await.unwrap();
        sp.commit().await.unwrap();
    }
    let seen: Vec<(i64,)> = tx
        .fetch_all_as("SELECT [n] FROM [counter] ORDER BY [n]", ())
        .await
        .unwrap();
    assert_eq!(seen, vec![(1,), (4,), (6,), (8,)]);
    tx.commit().await.unwrap();
    assert_eq!(count(db).await, 4);
}

/// Closure form: `Ok` commits, `Err` rolls back and is returned; a serialization
/// failure re-runs the closure.
pub async fn rt_transaction_closure(db: &TestDb) {
    db.create_table(&counter_table()).await.unwrap();
    let v = db
        .transaction(|tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO [counter] ([n]) VALUES (?)", (1,))
                    .await?;
                Ok(42)
            })
        })
        .await
        .unwrap();
    assert_eq!(v, 42);
    let err = db
        .transaction(|tx| {
            Box::pin(async move {
                tx.execute("INSERT INTO [counter] ([n]) VALUES (?)", (2,))
                    .await?;
                Err::<(), _>(Error::invalid_input("test", "abort"))
            })
        })
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }));
    assert_eq!(count(db).await, 1);

    let attempts = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let a = attempts.clone();
    db.transaction(move |tx| {
        let a = a.clone();
        Box::pin(async move {
            tx.execute("INSERT INTO [counter] ([n]) VALUES (?)", (3,))
                .await?;
            if a.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
                return Err(Error::Serialization {
                    deadlock: true,
                    message: "simulated".into(),
                    code: None,
                });
            }
            Ok(())
        })
    })
    .await
    .unwrap();
    assert_eq!(attempts.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(count(db).await, 2, "the failed attempt was rolled back");
}

/// `execute_many` applies every parameter set in one transaction: all or nothing.
pub async fn rt_execute_many(db: &TestDb) {
    db.create_table(&Table::build("uniq", |t| {
        t.id();
        t.string("code", 10).unique();
    }))
    .await
    .unwrap();
    let n = db
        .execute_many(
            "INSERT INTO [uniq] ([code]) VALUES (?)",
            ["a", "b", "c"].map(|c| (c,)),
        )
        .await
        .unwrap();
    assert_eq!(n, 3);
    let err = db
        .execute_many(
            "INSERT INTO [uniq] ([code]) VALUES (?)",
            ["d", "e", "a"].map(|c| (c,)),
        )
        .await
        .unwrap_err();
    assert!(err.is_unique_violation(), "{err:?}");
    let total: i64 = db
        .fetch_scalar("SELECT COUNT(*) FROM [uniq]", ())
        .await
        .unwrap();
    assert_eq!(total, 3, "nothing of the failed batch was kept");
}

/// Errors say what happened: constraint kinds with names, bad SQL with a code,
/// wrong parameter counts and malformed portable SQL as invalid input.
pub async fn rt_errors_are_classified(db: &TestDb) {
    let schema = dal::Schema::new()
        .create("teams", |t| {
            t.id();
            t.string("name", 20).unique();
        })
        .create("members", |t| {
            t.id();
            t.foreign_id("team_id").references("teams");
            t.integer("age");
            t.check("[age] >= 0");
        });
    for table in schema.tables_in_dependency_order() {
        db.create_table(table).await.unwrap();
    }
    db.execute("INSERT INTO [teams] ([name]) VALUES (?)", ("red",))
        .await
        .unwrap();

    let err = db
        .execute("INSERT INTO [teams] ([name]) VALUES (?)", ("red",))
        .await
        .unwrap_err();
    match &err {
        Error::ConstraintViolation {
            kind: ConstraintKind::Unique,
            constraint,
            code,
            ..
        } => {
            let c = constraint.clone().unwrap_or_default();
            assert!(c.contains("name"), "constraint {c:?}");
            assert!(code.is_some());
        }
        other => panic!("expected unique violation, got {other:?}"),
    }
    let err = db
        .execute(
            "INSERT INTO [members] ([team_id], [age]) VALUES (?, ?)",
            (999, 1),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConstraintViolation {
                kind: ConstraintKind::ForeignKey,
                ..
            }
        ),
        "{err:?}"
    );
    let err = db
        .execute(
            "INSERT INTO [members] ([team_id], [age]) VALUES (?, ?)",
            (1, -5),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConstraintViolation {
                kind: ConstraintKind::Check,
                ..
            }
        ),
        "{err:?}"
    );
    let err = db
        .execute(
            "INSERT INTO [members] ([team_id], [age]) VALUES (?, ?)",
            (1, None::<i32>),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ConstraintViolation {
                kind: ConstraintKind::NotNull,
                ..
            }
        ),
        "{err:?}"
    );
    let err = db.execute("SELEKT nonsense", ()).await.unwrap_err();
    assert!(
        matches!(err, Error::Database { code: Some(_), .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
    let err = db
        .execute("SELECT * FROM [no_such_table]", ())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    let err = db
        .execute("INSERT INTO [teams] ([name]) VALUES (?)", (1, 2))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    let err = db.execute("SELECT 'unterminated", ()).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { reason, .. } if reason.contains("unterminated")),
        "{err:?}"
    );
    // the pool is still healthy after all these errors
    assert!(db.test_connection().await);
}

/// A row that cannot be decoded in the middle of a long result ends the
/// fetch with a decode error; the rest of the answer is read and dropped
/// (rows are decoded as they arrive), so the pool's only connection answers
/// the next call, with its own rows.
pub async fn rt_undecodable_row_leaves_the_connection_in_step(db: &TestDb) {
    let config = dal::DatabaseConfig::builder(&db.url)
        .max_connections(1)
        .build()
        .unwrap();
    let one = dal::Db::connect(config).await.unwrap();
    one.execute_script("CREATE TABLE dec_probe (id INTEGER NOT NULL, n BIGINT NOT NULL)")
        .await
        .unwrap();
    let mut tx = one.begin().await.unwrap();
    for id in 0..1_000i64 {
        // row 500 holds a value no i32 can
        let n = if id == 500 { 1i64 << 40 } else { id };
        tx.execute("INSERT INTO [dec_probe] ([id], [n]) VALUES (?, ?)", (id, n))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let err = one
        .fetch_all_as::<(i32,), _>("SELECT [n] FROM [dec_probe] ORDER BY [id]", ())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Decode { reason, .. } if reason.contains("out of range")),
        "{err:?}"
    );
    let count: i64 = one
        .fetch_scalar("SELECT COUNT(*) FROM [dec_probe]", ())
        .await
        .unwrap();
    assert_eq!(count, 1_000);
    let all: Vec<(i64, i64)> = one
        .fetch_all_as("SELECT [id], [n] FROM [dec_probe] ORDER BY [id]", ())
        .await
        .unwrap();
    assert_eq!(all.len(), 1_000);
    assert_eq!(all[500], (500, 1i64 << 40));
    assert_eq!(all[999], (999, 999));
    one.close();
}

/// The acquisition timeout fires when every connection is held, as its own
/// error kind; the pool recovers when the connection is returned.
pub async fn rt_acquire_timeout(db: &TestDb) {
    let config = dal::DatabaseConfig::builder(&db.url)
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let small = dal::Db::connect(config).await.unwrap();
    let held = small.begin().await.unwrap();
    let start = std::time::Instant::now();
    let err = small
        .fetch_scalar::<i64, _>("SELECT 1", ())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Acquire,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(150));
    assert!(err.is_transient() && err.never_reached_server());
    drop(held);
    let one: i64 = small.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    let status = small.pool_status();
    assert_eq!(status.max, 1);
    assert!(status.size <= 1);
    small.close();
    assert!(matches!(
        small.fetch_scalar::<i64, _>("SELECT 1", ()).await,
        Err(Error::PoolClosed)
    ));
}

/// A connection killed on the server is discarded, not reused. A read that
/// meets it is re-run on a fresh connection (counted as a retry); with retries
/// off for the call it fails with `ConnectionLost` once and the next call gets a
/// new connection. With `validate_after_idle = 0` the checkout ping finds it
/// dead first and the statement succeeds on a fresh connection, no retry needed.
/// Servers only (SQLite has no session to kill): see `server_tests!`.
pub async fn rt_dead_connections_are_evicted(db: &TestDb) {
    let (pid_sql, kill, alive) = match db.dialect() {
        Dialect::Postgres => (
            "SELECT pg_backend_pid()",
            "SELECT pg_terminate_backend(CAST(? AS INTEGER))",
            "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = CAST(? AS INTEGER)",
        ),
        Dialect::MySql => (
            "SELECT CONNECTION_ID()",
            "KILL CONNECTION ?",
            "SELECT COUNT(*) FROM information_schema.processlist WHERE id = ?",
        ),
        Dialect::Sqlite => unreachable!("a server-only scenario (`server_tests!`)"),
    };
    let kill_it = |pid: i64| async move {
        db.execute(kill, (pid,)).await.unwrap();
        // until the server has ended the session (not a guess of how long that takes)
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while db.fetch_scalar::<i64, _>(alive, (pid,)).await.unwrap() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "session {pid} survived its kill"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    for validate in [false, true] {
        let mut b = dal::DatabaseConfig::builder(&db.url).max_connections(1);
        if validate {
            b = b.validate_after_idle(Duration::ZERO);
        }
        let small = dal::Db::connect(b.build().unwrap()).await.unwrap();
        let pid: i64 = small.fetch_scalar(pid_sql, ()).await.unwrap();
        kill_it(pid).await;
        if validate {
            let new_pid: i64 = small
                .query(pid_sql)
                .no_retry()
                .fetch_scalar()
                .await
                .expect("the checkout ping replaced the dead connection");
            assert_ne!(new_pid, pid);
            assert_eq!(small.stats().retries, 0);
        } else {
            let err = small
                .query(pid_sql)
                .no_retry()
                .fetch_scalar::<i64>()
                .await
                .expect_err("the dead connection is used once");
            assert!(
                matches!(err, Error::ConnectionLost { .. } | Error::Driver(_)),
                "{err:?}"
            );
            let new_pid: i64 = small.fetch_scalar(pid_sql, ()).await.unwrap();
            assert_ne!(new_pid, pid, "a fresh connection replaced the dead one");
            // again, with the default policy: the read is re-run transparently
            kill_it(new_pid).await;
            let third: i64 = small.fetch_scalar(pid_sql, ()).await.unwrap();
            assert_ne!(third, new_pid);
            let stats = small.stats();
            assert_eq!(stats.retries, 1, "{stats}");
            assert!(stats.errors_of(dal::ErrorKind::Connection) >= 2, "{stats}");
        }
        assert!(small.pool_status().size <= 1);
        small.close();
    }
}

/// A schema change invalidates prepared statements (PostgreSQL: "cached plan
/// must not change result type" under `SELECT *`): dal re-prepares and the query
/// sees the new column.
pub async fn rt_prepared_statements_survive_schema_changes(db: &TestDb) {
    let small = dal::Db::connect(
        dal::DatabaseConfig::builder(&db.url)
            .max_connections(1)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    small
        .execute(
            "CREATE TABLE [evolving] ([id] INTEGER PRIMARY KEY, [a] INTEGER)",
            (),
        )
        .await
        .unwrap();
    small
        .execute("INSERT INTO [evolving] ([id], [a]) VALUES (?, ?)", (1, 10))
        .await
        .unwrap();
    for _ in 0..3 {
        let row = small
            .fetch_one("SELECT * FROM [evolving] WHERE [id] = ?", (1,))
            .await
            .unwrap();
        assert_eq!(row.len(), 2);
    }
    small
        .execute_script(match db.dialect() {
            Dialect::MySql => "ALTER TABLE `evolving` ADD COLUMN `b` INT NULL",
            _ => "ALTER TABLE \"evolving\" ADD COLUMN \"b\" INTEGER NULL",
        })
        .await
        .unwrap();
    let row = small
        .fetch_one("SELECT * FROM [evolving] WHERE [id] = ?", (1,))
        .await
        .unwrap();
    assert_eq!(row.len(), 3);
    assert_eq!(row.get::<Option<i64>, _>("b").unwrap(), None);
    small.close();
}

macro_rules! runtime_tests {
    ($setup:path) => {
        backend_tests!($setup;
            runtime::rt_every_type_round_trips,
            runtime::rt_nulls_round_trip,
            runtime::rt_edge_values,
            runtime::rt_dates_and_numbers_around_the_epochs,
            runtime::rt_same_sql_different_parameter_types,
            runtime::rt_portable_sql,
            runtime::rt_rows_and_from_row,
            runtime::rt_transactions_commit_rollback_nest,
            runtime::rt_transaction_closure,
            runtime::rt_execute_many,
            runtime::rt_errors_are_classified,
            runtime::rt_acquire_timeout,
            runtime::rt_undecodable_row_leaves_the_connection_in_step,
            runtime::rt_prepared_statements_survive_schema_changes,
        );
    };
}
