//! Integer fields of every width on every backend: `u64` (and `usize`) in an
//! unsigned column — `BIGINT UNSIGNED` on the MySQL family, a `BIGINT` with a
//! `>= 0` check on PostgreSQL and SQLite, where a value above `i64::MAX` is
//! refused before anything is written — and `u32`, `u16`, `u8`, `i16`, `i8`,
//! `isize` next to them.

use dal::{ColumnType, ConstraintKind, Dialect, Entity, Error, Value};
use futures_util::StreamExt;
use rust_decimal::Decimal;

use crate::support::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "i_counters", history)]
pub struct Counter {
    pub id: u64,
    #[dal(index)]
    pub hits: u64,
    pub peak: Option<u64>,
    pub wide: u32,
    pub byte: u8,
    pub tiny: i8,
    pub short: i16,
    pub word: u16,
    pub size: usize,
    pub offset: isize,
}

impl Counter {
    fn new(hits: u64) -> Self {
        Counter {
            id: 0,
            hits,
            peak: None,
            wide: 0,
            byte: 0,
            tiny: 0,
            short: 0,
            word: 0,
            size: 0,
            offset: 0,
        }
    }
}

/// The largest `u64` the backend stores: all of them on the MySQL family,
/// `i64::MAX` where the column is a checked `BIGINT`.
fn max_u64(db: &dal::Db) -> u64 {
    if db.dialect() == Dialect::MySql {
        u64::MAX
    } else {
        i64::MAX as u64
    }
}

async fn counters(db: &dal::Db) {
    let report = Counter::ensure_schema(db).await.unwrap();
    assert_eq!(report.created, ["i_counters", "i_counters_history"]);
}

/// The blueprint of each integer field, as created and read back: `u64` and
/// `usize` are unsigned big integers on every backend (no check listed), a
/// second `ensure_schema` finds nothing to change, a column added later gets
/// the same treatment, and a negative value written with plain SQL is refused
/// by the database itself.
pub async fn int_unsigned_columns_in_the_schema(t: &TestDb) {
    let db = &t.db;
    counters(db).await;
    let again = Counter::ensure_schema(db).await.unwrap();
    assert!(again.is_unchanged(), "{again:?}");
    assert!(again.destructive.is_empty(), "{again:?}");

    for table in ["i_counters", "i_counters_history"] {
        let live = db.introspect_table(table).await.unwrap().unwrap();
        let ty = |c: &str| live.column(c).unwrap().ty.clone();
        assert_eq!(ty("id"), ColumnType::UnsignedBigInteger, "{table}");
        assert_eq!(ty("hits"), ColumnType::UnsignedBigInteger, "{table}");
        assert_eq!(ty("peak"), ColumnType::UnsignedBigInteger, "{table}");
        assert_eq!(ty("size"), ColumnType::UnsignedBigInteger, "{table}");
        assert_eq!(ty("offset"), ColumnType::BigInteger, "{table}");
        assert_eq!(ty("wide"), ColumnType::UnsignedInteger, "{table}");
        assert_eq!(ty("word"), ColumnType::Integer, "u16 needs 32 bits");
        assert_eq!(ty("byte"), ColumnType::SmallInteger);
        assert_eq!(ty("tiny"), ColumnType::SmallInteger);
        assert_eq!(ty("short"), ColumnType::SmallInteger);
        assert!(live.column("peak").unwrap().nullable);
        assert!(
            live.checks.is_empty(),
            "the unsigned checks belong to their columns: {:?}",
            live.checks
        );
    }
    let live = db.introspect_table("i_counters").await.unwrap().unwrap();
    assert!(live.column("id").unwrap().auto_increment);
    let diff = dal::schema::diff_tables(&Counter::blueprint(), &live, db.dialect());
    assert!(diff.is_empty(), "{diff:?}");

    // a negative value written around dal is refused by the column itself
    let err = db
        .execute(
            "INSERT INTO [i_counters] ([hits], [wide], [byte], [tiny], [short], [word], [size], [offset]) \
             VALUES (?, 0, 0, 0, 0, 0, 0, 0)",
            (-1i64,),
        )
        .await
        .unwrap_err();
    if db.dialect() != Dialect::MySql {
        assert!(
            matches!(
                &err,
                Error::ConstraintViolation {
                    kind: ConstraintKind::Check,
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert_eq!(Counter::find().count(db).await.unwrap(), 0);

    // a u64 column added to an existing table
    #[derive(Entity, Debug, Clone)]
    #[dal(table = "i_evolve")]
    struct V1 {
        id: i64,
        #[dal(length = 20)]
        name: String,
    }
    #[derive(Entity, Debug, Clone)]
    #[dal(table = "i_evolve")]
    struct V2 {
        id: i64,
        #[dal(length = 20)]
        name: String,
        total: Option<u64>,
        #[dal(default = 7)]
        level: u64,
    }
    V1::ensure_schema(db).await.unwrap();
    let mut old = V1 {
        id: 0,
        name: "old".into(),
    };
    old.save(db).await.unwrap();
    let r = V2::ensure_schema(db).await.unwrap();
    assert_eq!(r.applied.len(), 2, "{r:?}");
    assert!(r.destructive.is_empty(), "{r:?}");
    let again = V2::ensure_schema(db).await.unwrap();
    assert!(again.is_unchanged(), "{again:?}");
    let live = db.introspect_table("i_evolve").await.unwrap().unwrap();
    assert_eq!(
        live.column("total").unwrap().ty,
        ColumnType::UnsignedBigInteger
    );
    assert_eq!(
        live.column("level").unwrap().ty,
        ColumnType::UnsignedBigInteger
    );
    let loaded = V2::get(db, old.id).await.unwrap().unwrap();
    assert_eq!((loaded.total, loaded.level), (None, 7));
    let mut v2 = loaded;
    v2.total = Some(max_u64(db));
    v2.save(db).await.unwrap();
    assert_eq!(
        V2::get(db, v2.id).await.unwrap().unwrap().total,
        Some(max_u64(db))
    );
}

/// Every integer field keeps its extreme values: `u64` up to `u64::MAX` on the
/// MySQL family and up to `i64::MAX` elsewhere, where a larger value is an
/// `InvalidInput` error naming the field and the limit, and nothing is written
/// (insert, update, bulk save).
pub async fn int_extremes_round_trip_and_big_u64_is_refused(t: &TestDb) {
    let db = &t.db;
    counters(db).await;
    let max = max_u64(db);
    let mut rows = vec![
        Counter::new(0),
        Counter::new(1),
        Counter {
            peak: Some(max),
            wide: u32::MAX,
            byte: u8::MAX,
            tiny: i8::MIN,
            short: i16::MIN,
            word: u16::MAX,
            size: max as usize,
            offset: isize::MIN,
            ..Counter::new(max)
        },
        Counter {
            peak: Some(0),
            tiny: i8::MAX,
            short: i16::MAX,
            offset: isize::MAX,
            ..Counter::new(i64::MAX as u64)
        },
    ];
    for row in &mut rows {
        row.save(db).await.unwrap();
        assert!(row.id > 0);
        let back = Counter::get(db, row.id).await.unwrap().unwrap();
        assert_eq!(&back, row);
    }
    let h = Counter::history(db, rows[2].id).await.unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].entity, rows[2]);
    // the bulk path (binary COPY on PostgreSQL) writes them the same way
    let mut bulk: Vec<Counter> = (0..100)
        .map(|i| {
            let mut c = rows[2].clone();
            c.id = 0;
            c.hits = if i % 2 == 0 { max - i } else { i };
            c.peak = (i % 3 == 0).then_some(max);
            c
        })
        .collect();
    Counter::save_all(&mut bulk, db).await.unwrap();
    for c in [&bulk[0], &bulk[1], &bulk[99]] {
        assert_eq!(&Counter::get(db, c.id).await.unwrap().unwrap(), c);
    }
    let total = Counter::find().count(db).await.unwrap();
    assert_eq!(total, 104);

    if db.dialect() == Dialect::MySql {
        // BIGINT UNSIGNED: the whole range, nothing refused
        let mut top = Counter {
            size: usize::MAX,
            ..Counter::new(u64::MAX)
        };
        top.save(db).await.unwrap();
        assert_eq!(Counter::get(db, top.id).await.unwrap().unwrap(), top);
        return;
    }

    let refused = |err: Error, field: &str| match err {
        Error::InvalidInput { field: f, reason } => {
            assert_eq!(f, field, "{reason}");
            assert!(
                reason.contains("18446744073709551615") || reason.contains("9223372036854775808"),
                "names the value: {reason}"
            );
            assert!(
                reason.contains("9223372036854775807"),
                "names the limit: {reason}"
            );
        }
        other => panic!("expected invalid input for `{field}`, got {other:?}"),
    };
    // a new row: nothing inserted, no id given
    let mut big = Counter::new(u64::MAX);
    refused(big.save(db).await.unwrap_err(), "hits");
    assert_eq!(big.id, 0);
    let mut big_peak = Counter {
        peak: Some(i64::MAX as u64 + 1),
        ..Counter::new(3)
    };
    refused(big_peak.save(db).await.unwrap_err(), "peak");
    let mut big_size = Counter {
        size: usize::MAX,
        ..Counter::new(3)
    };
    refused(big_size.save(db).await.unwrap_err(), "size");
    assert_eq!(Counter::find().count(db).await.unwrap(), total);

    // an existing row: unchanged, no history version added
    let mut changed = rows[1].clone();
    changed.hits = u64::MAX;
    refused(changed.save(db).await.unwrap_err(), "hits");
    assert_eq!(
        Counter::get(db, rows[1].id).await.unwrap().unwrap(),
        rows[1]
    );
    assert_eq!(Counter::history(db, rows[1].id).await.unwrap().len(), 1);

    // a bulk save with one bad row writes none of them
    let mut batch: Vec<Counter> = (0..80).map(Counter::new).collect();
    batch[71].hits = u64::MAX;
    refused(Counter::save_all(&mut batch, db).await.unwrap_err(), "hits");
    assert_eq!(Counter::find().count(db).await.unwrap(), total);
    assert!(batch.iter().all(|c| c.id == 0));
}

/// Typed conditions, ordering, keyset pagination, streaming and `update_many`
/// on a `u64` column; `u64` as a plain parameter and in `fetch_*_as`; reading a
/// negative number or (MySQL) an unsigned value above `i64::MAX` into a type
/// that cannot hold it is a `Decode` error, never a wrapped value.
pub async fn int_u64_queries_and_parameters(t: &TestDb) {
    let db = &t.db;
    counters(db).await;
    let max = max_u64(db);
    let mut values: Vec<u64> = vec![0, 1, 2, 10, 10, i64::MAX as u64 - 1, i64::MAX as u64];
    if db.dialect() == Dialect::MySql {
        values.extend([i64::MAX as u64 + 1, u64::MAX - 1, u64::MAX]);
    }
    let mut rows: Vec<Counter> = values.iter().map(|&v| Counter::new(v)).collect();
    Counter::save_all(&mut rows, db).await.unwrap();
    let n = values.len() as i64;
    let big = values.iter().filter(|&&v| v > i64::MAX as u64 - 2).count() as i64;

    let count =
        |c: dal::Cond<Counter>| async move { Counter::find().filter(c).count(db).await.unwrap() };
    assert_eq!(count(Counter::HITS.eq(10u64)).await, 2);
    assert_eq!(count(Counter::HITS.eq(10u32)).await, 2, "a u32 converts");
    assert_eq!(count(Counter::HITS.ne(10u64)).await, n - 2);
    assert_eq!(count(Counter::HITS.lt(2u64)).await, 2);
    assert_eq!(count(Counter::HITS.ge(i64::MAX as u64 - 1)).await, big);
    assert_eq!(count(Counter::HITS.gt(i64::MAX as u64 - 2)).await, big);
    assert_eq!(count(Counter::HITS.between(1u64, 10u64)).await, 4);
    assert_eq!(count(Counter::HITS.in_list([0u64, 2, max])).await, 3);
    assert_eq!(count(Counter::HITS.eq(max)).await, 1);
    assert_eq!(count(Counter::PEAK.is_null()).await, n);

    // ordered by the u64 column, page by page (the cursor binds the u64 itself)
    let ordered: Vec<u64> = Counter::find()
        .order_by(Counter::HITS.desc())
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.hits)
        .collect();
    let mut sorted = values.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ordered, sorted);
    let mut paged = Vec::new();
    let mut last: Option<Counter> = None;
    loop {
        let mut f = Counter::find().order_by(Counter::HITS.desc()).limit(3);
        if let Some(l) = &last {
            f = f.after(l);
        }
        let page = f.all(db).await.unwrap();
        if page.is_empty() {
            break;
        }
        paged.extend(page.iter().map(|c| c.hits));
        last = page.last().cloned();
    }
    assert_eq!(paged, sorted);
    let streamed: Vec<u64> = Counter::find()
        .order_by(Counter::HITS.asc())
        .batch_size(2)
        .stream(db)
        .map(|r| r.unwrap().hits)
        .collect()
        .await;
    sorted.reverse();
    assert_eq!(streamed, sorted);

    let set = Counter::find()
        .filter(Counter::HITS.eq(10u64))
        .update_many(db, vec![Counter::PEAK.set(max)])
        .await
        .unwrap();
    assert_eq!(set, 2);
    assert_eq!(count(Counter::PEAK.eq(max)).await, 2);

    // plain parameters and tuples
    let changed = db
        .execute(
            "UPDATE [i_counters] SET [peak] = ? WHERE [hits] = ?",
            (Some(max - 5), 2u64),
        )
        .await
        .unwrap();
    assert_eq!(changed.rows_affected, 1);
    let pairs: Vec<(u64, Option<u64>)> = db
        .fetch_all_as(
            "SELECT [hits], [peak] FROM [i_counters] WHERE [hits] <= ? ORDER BY [hits]",
            (10u64,),
        )
        .await
        .unwrap();
    assert_eq!(
        pairs,
        [
            (0, None),
            (1, None),
            (2, Some(max - 5)),
            (10, Some(max)),
            (10, Some(max))
        ]
    );
    let top: (u64,) = db
        .fetch_one_as("SELECT MAX([hits]) FROM [i_counters]", ())
        .await
        .unwrap();
    assert_eq!(top.0, max);
    let none: Option<(u64,)> = db
        .fetch_optional_as("SELECT [hits] FROM [i_counters] WHERE [hits] = ?", (3u64,))
        .await
        .unwrap();
    assert_eq!(none, None);
    let echoed: (u64, usize, isize, Option<u64>) = db
        .fetch_one_as(
            "SELECT ?, ?, ?, ?",
            (i64::MAX as u64, 42usize, -42isize, None::<u64>),
        )
        .await
        .unwrap();
    assert_eq!(echoed, (i64::MAX as u64, 42, -42, None));

    // a negative number is not a u64
    for err in [
        db.fetch_scalar::<u64, _>("SELECT ?", (-5i64,))
            .await
            .unwrap_err(),
        db.fetch_one_as::<(u64,), _>("SELECT -5", ())
            .await
            .unwrap_err(),
        db.fetch_scalar::<usize, _>("SELECT -5", ())
            .await
            .unwrap_err(),
    ] {
        match err {
            Error::Decode { reason, .. } => {
                assert!(reason.contains("-5"), "{reason}");
                assert!(reason.contains("out of range"), "{reason}");
            }
            other => panic!("expected a decode error, got {other:?}"),
        }
    }
    let err = db
        .fetch_scalar::<u8, _>("SELECT ?", (256i64,))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    // a whole decimal is read as an integer, a fraction is not
    let d: u64 = db
        .fetch_scalar("SELECT CAST(? AS DECIMAL(20, 0))", (12345i64,))
        .await
        .unwrap();
    assert_eq!(d, 12345);
    let err = db
        .fetch_scalar::<u64, _>("SELECT CAST(? AS DECIMAL(5, 1))", (1.5f64,))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    if db.dialect() != Dialect::Sqlite {
        // NUMERIC / DECIMAL(20, 0) holds every u64 (SQLite keeps 15 digits)
        let d: u64 = db
            .fetch_scalar("SELECT CAST('18446744073709551615' AS DECIMAL(20, 0))", ())
            .await
            .unwrap();
        assert_eq!(d, u64::MAX);
    }

    if db.dialect() == Dialect::MySql {
        // BIGINT UNSIGNED above i64::MAX does not fit an i64: an error, not -1
        let err = db
            .fetch_scalar::<i64, _>("SELECT MAX([hits]) FROM [i_counters]", ())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err:?}");
        // a dynamic value keeps every digit
        let v: Value = db
            .fetch_scalar("SELECT MAX([hits]) FROM [i_counters]", ())
            .await
            .unwrap();
        assert_eq!(v, Value::Decimal(Decimal::from(u64::MAX)));
        let d: Decimal = db
            .fetch_scalar("SELECT MAX([hits]) FROM [i_counters]", ())
            .await
            .unwrap();
        assert_eq!(d, Decimal::from(u64::MAX));
        // and a u64 parameter above i64::MAX is bound unsigned
        let found: u64 = db
            .fetch_scalar(
                "SELECT COUNT(*) FROM [i_counters] WHERE [hits] > ?",
                (i64::MAX as u64,),
            )
            .await
            .unwrap();
        assert_eq!(found, 3);
    } else {
        // no unsigned 64-bit type: a parameter above i64::MAX is refused, naming it
        for (err, field) in [
            (
                db.execute("SELECT ?", (u64::MAX,)).await.unwrap_err(),
                "parameter 1",
            ),
            (
                db.fetch_all("SELECT ?, ?", (1i32, i64::MAX as u64 + 1))
                    .await
                    .unwrap_err(),
                "parameter 2",
            ),
            (
                Counter::find()
                    .filter(Counter::HITS.gt(u64::MAX))
                    .count(db)
                    .await
                    .unwrap_err(),
                "parameter 1",
            ),
        ] {
            match err {
                Error::InvalidInput { field: f, reason } => {
                    assert_eq!(f, field, "{reason}");
                    assert!(reason.contains("9223372036854775807"), "{reason}");
                }
                other => panic!("expected invalid input, got {other:?}"),
            }
        }
    }
}

/// The blueprint DDL on the real server: a builder table with unsigned columns
/// is read back as it was written, and switching a column between signed and
/// unsigned (a destructive change: either way some values do not fit) applies
/// and reads back as asked, refusing to run while a value would not fit.
pub async fn int_unsigned_ddl_applies(t: &TestDb) {
    use dal::schema::{Change, ddl::DdlStatement, diff_tables};
    use dal::{Dialect, Table};
    let db = &t.db;
    let dialect = db.dialect();
    let counters = |hits_unsigned: bool| {
        Table::build("i_ddl", |t| {
            t.id();
            if hits_unsigned {
                t.unsigned_big_integer("hits").default(0);
            } else {
                t.big_integer("hits").default(0);
            }
            t.unsigned_big_integer("peak").nullable();
        })
    };
    let unsigned = counters(true);
    db.create_table(&unsigned).await.unwrap();
    let live = db.introspect_table("i_ddl").await.unwrap().unwrap();
    assert_eq!(
        live.normalized_for(dialect),
        unsigned.normalized_for(dialect)
    );
    db.execute(
        "INSERT INTO [i_ddl] ([hits], [peak]) VALUES (?, ?)",
        (7u64, max_u64(db)),
    )
    .await
    .unwrap();

    let apply = |want: Table| async move {
        let live = db.introspect_table("i_ddl").await.unwrap().unwrap();
        let diff = diff_tables(&want, &live, dialect);
        assert!(diff.changes.is_empty(), "{diff:?}");
        assert_eq!(diff.destructive.len(), 1, "{diff:?}");
        let statement = diff.destructive[0].to_ddl();
        if dialect == Dialect::Sqlite {
            assert!(matches!(diff.destructive[0], Change::RebuildTable { .. }));
        } else {
            assert!(matches!(statement, DdlStatement::AlterColumn { .. }));
        }
        let result = db.apply_ddl(&statement).await;
        let after = db.introspect_table("i_ddl").await.unwrap().unwrap();
        (result, after)
    };
    // unsigned -> signed
    let signed = counters(false);
    let (result, after) = apply(signed.clone()).await;
    result.unwrap();
    assert_eq!(after.column("hits").unwrap().ty, ColumnType::BigInteger);
    assert!(after.checks.is_empty(), "{:?}", after.checks);
    assert!(diff_tables(&signed, &after, dialect).is_empty());
    // a negative value now fits, and blocks the way back
    db.execute("UPDATE [i_ddl] SET [hits] = ?", (-3i64,))
        .await
        .unwrap();
    let (result, after) = apply(unsigned.clone()).await;
    assert!(result.is_err(), "-3 cannot become unsigned");
    assert_eq!(after.column("hits").unwrap().ty, ColumnType::BigInteger);
    let hits: i64 = db
        .fetch_scalar("SELECT [hits] FROM [i_ddl]", ())
        .await
        .unwrap();
    assert_eq!(hits, -3, "nothing lost");
    // signed -> unsigned once every value fits
    db.execute("UPDATE [i_ddl] SET [hits] = ?", (3i64,))
        .await
        .unwrap();
    let (result, after) = apply(unsigned.clone()).await;
    result.unwrap();
    assert_eq!(
        after.column("hits").unwrap().ty,
        ColumnType::UnsignedBigInteger
    );
    assert!(diff_tables(&unsigned, &after, dialect).is_empty());
    let row: (u64, Option<u64>) = db
        .fetch_one_as("SELECT [hits], [peak] FROM [i_ddl]", ())
        .await
        .unwrap();
    assert_eq!(row, (3, Some(max_u64(db))));
}

/// Comparisons take any integer for an integer column: converted when it
/// fits, and a value out of the column's range is `Error::InvalidInput` when
/// the query runs (never a wrapped number matching the wrong rows).
pub async fn int_comparisons_widen_and_check(t: &TestDb) {
    let db = &t.db;
    counters(db).await;
    let mut rows = vec![Counter::new(5), Counter::new(7)];
    rows[0].tiny = -3;
    rows[1].short = 300;
    Counter::save_all(&mut rows, db).await.unwrap();

    let n = |c: dal::Cond<Counter>| Counter::find().filter(c).count(db);
    assert_eq!(n(Counter::HITS.eq(5i32)).await.unwrap(), 1);
    assert_eq!(n(Counter::HITS.ge(6u8)).await.unwrap(), 1);
    assert_eq!(n(Counter::TINY.eq(-3i64)).await.unwrap(), 1);
    assert_eq!(n(Counter::SHORT.between(299i64, 301u64)).await.unwrap(), 1);
    for err in [
        n(Counter::HITS.eq(-1i32)).await.unwrap_err(),
        n(Counter::TINY.eq(300i64)).await.unwrap_err(),
        n(Counter::WORD.in_list([0i64, 70_000])).await.unwrap_err(),
    ] {
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert!(err.to_string().contains("does not fit"), "{err}");
    }
}

/// `i_wide`, read back through entities with narrower fields (`Narrow`,
/// `NoNull`): the owned-row decoders' fast paths give the same values and the
/// same errors, naming the column, as the ordinary reads.
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "i_wide")]
pub struct Wide {
    pub id: i64,
    pub n: i64,
    pub m: Option<i64>,
    pub f: f64,
    pub flag: Option<bool>,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// `i_wide` with an `i16`, an `f32` and a zone-less timestamp.
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "i_wide")]
pub struct Narrow {
    pub id: i64,
    pub n: i16,
    pub m: Option<i64>,
    pub f: f32,
    pub flag: Option<bool>,
    pub at: chrono::NaiveDateTime,
}

/// `i_wide` with no `Option`.
#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "i_wide")]
pub struct NoNull {
    pub id: i64,
    pub n: i64,
    pub m: i64,
    pub f: f64,
    pub flag: bool,
    pub at: chrono::DateTime<chrono::Utc>,
}

pub async fn int_narrow_fields_decode_or_name_the_column(t: &TestDb) {
    let db = &t.db;
    Wide::ensure_schema(db).await.unwrap();
    let at = chrono::DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
    let mut big = Wide {
        id: 0,
        n: 70_000,
        m: None,
        f: 1.5,
        flag: None,
        at,
    };
    let mut small = Wide {
        n: -7,
        m: Some(i64::MIN),
        f: -0.25,
        flag: Some(true),
        ..big.clone()
    };
    big.save(db).await.unwrap();
    small.save(db).await.unwrap();
    assert_eq!(Wide::get(db, big.id).await.unwrap().unwrap(), big);
    assert_eq!(Wide::get(db, small.id).await.unwrap().unwrap(), small);

    // in range: the same values in the narrower types
    let narrow = Narrow::get(db, small.id).await.unwrap().unwrap();
    assert_eq!(
        narrow,
        Narrow {
            id: small.id,
            n: -7,
            m: Some(i64::MIN),
            f: -0.25,
            flag: Some(true),
            at: at.naive_utc(),
        }
    );
    let all = NoNull::find()
        .filter(NoNull::ID.eq(small.id))
        .all(db)
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].flag);
    assert_eq!(all[0].at, at);

    // out of range: an error naming the column and the range, never a wrap
    match Narrow::get(db, big.id).await {
        Err(Error::Decode { column, reason }) => {
            assert_eq!(column, "n");
            assert!(reason.contains("70000 is out of range for i16"), "{reason}");
        }
        other => panic!("expected a decode error for n, got {other:?}"),
    }
    // NULL in a field that is no Option: an error naming the column
    match NoNull::find().filter(NoNull::ID.eq(big.id)).all(db).await {
        Err(Error::Decode { column, .. }) => assert_eq!(column, "m"),
        other => panic!("expected a decode error for m, got {other:?}"),
    }
}

macro_rules! integer_tests {
    ($setup:path) => {
        backend_tests!($setup;
            integers::int_unsigned_columns_in_the_schema,
            integers::int_extremes_round_trip_and_big_u64_is_refused,
            integers::int_u64_queries_and_parameters,
            integers::int_unsigned_ddl_applies,
            integers::int_comparisons_widen_and_check,
            integers::int_narrow_fields_decode_or_name_the_column,
        );
    };
}
