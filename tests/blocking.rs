//! `dal::blocking` on every backend: SQLite always, PostgreSQL and MariaDB/MySQL
//! when their servers answer (see `tests/support`).
//!
//! The per-test database comes from the async fixtures (run on a runtime of the
//! test's own); the blocking handle connects to the fixture's URL, which selects
//! the same isolated schema (PostgreSQL `search_path`) or database (MariaDB) or
//! file (SQLite). The plain `#[test]`s call the blocking API from ordinary
//! threads; the `#[tokio::test]`s check that it refuses to block inside a
//! runtime and that dropping handles there is harmless.

#[macro_use]
mod support;

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, Utc};
use dal::{Dialect, Entity, Error, Table, TimeoutKind, blocking};

/// A per-test database made by the async fixtures, with the runtime that made it.
struct Fixture {
    t: Option<support::TestDb>,
    rt: tokio::runtime::Runtime,
}

impl Fixture {
    fn new(dialect: Dialect) -> Option<Fixture> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("fixture runtime");
        let t = rt.block_on(support::for_dialect(dialect))?;
        Some(Fixture { t: Some(t), rt })
    }

    fn url(&self) -> &str {
        &self.t.as_ref().expect("fixture").url
    }

    fn dialect(&self) -> Dialect {
        self.t.as_ref().expect("fixture").dialect()
    }

    /// A blocking handle on the fixture's database.
    fn connect(&self) -> blocking::Db {
        blocking::Db::connect_url(self.url()).expect("blocking connect")
    }

    /// A blocking handle with configuration changes.
    fn connect_with(
        &self,
        f: impl FnOnce(dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder,
    ) -> blocking::Db {
        let config = f(dal::DatabaseConfig::builder(self.url()))
            .build()
            .expect("config");
        blocking::Db::connect(config).expect("blocking connect")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if let Some(t) = self.t.take() {
            // the fixture's pool belongs to this runtime; its clean-up runs a
            // thread of its own
            self.rt.block_on(async move { drop(t) });
        }
    }
}

/// The error every blocking call gives inside a runtime.
#[track_caller]
fn assert_refused<T: std::fmt::Debug>(r: dal::Result<T>) {
    match r {
        Err(Error::Unsupported(m)) => assert!(
            m.contains("dal::blocking was called from inside an async runtime"),
            "unexpected message: {m}"
        ),
        other => panic!("expected the inside-a-runtime error, got {other:?}"),
    }
}

fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(chrono::Duration::microseconds(1))
        .expect("truncate")
}

/// Wait until no connection is checked out (a dropped server transaction
/// returns its connection after the spawned ROLLBACK ran).
fn wait_until_idle(db: &blocking::Db) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while db.pool_status().in_use > 0 {
        assert!(
            Instant::now() < deadline,
            "a connection stayed checked out: {:?}",
            db.pool_status()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn counter_table(db: &blocking::Db, name: &str) {
    db.create_table(&Table::build(name, |t| {
        t.id();
        t.integer("n");
    }))
    .expect("create table");
}

fn count(db: &blocking::Db, table: &str) -> i64 {
    db.fetch_scalar(&format!("SELECT COUNT(*) FROM [{table}]"), ())
        .expect("count")
}

// ------------------------------------------------------------------ plain threads

/// Statements and every fetch form, with typed parameters, round trip.
fn round_trip(f: &Fixture) {
    let db = f.connect();
    assert_eq!(db.dialect(), f.dialect());
    assert!(db.test_connection());
    assert!(db.ping().expect("ping") < Duration::from_secs(5));

    db.create_table(&Table::build("b_items", |t| {
        t.id();
        t.string("name", 100).unique();
        t.integer("qty");
        t.boolean("active");
        t.double("price");
        t.timestamp_tz("seen_at").nullable();
        t.string("note", 50).nullable();
    }))
    .expect("create");
    assert!(db.table_exists("b_items").expect("exists"));
    assert!(
        db.table_names()
            .expect("names")
            .contains(&"b_items".to_string())
    );
    let live = db
        .introspect_table("b_items")
        .expect("introspect")
        .expect("table");
    assert_eq!(live.primary_key, ["id"]);
    assert!(db.introspect().expect("schema").table("b_items").is_some());

    let seen = micros(Utc::now());
    let r = db
        .execute(
            "INSERT INTO [b_items] ([name], [qty], [active], [price], [seen_at], [note]) VALUES (?, ?, ?, ?, ?, ?)",
            ("apple", 3i32, true, 1.25f64, Some(seen), None::<String>),
        )
        .expect("insert");
    assert_eq!(r.rows_affected, 1);

    type Item = (
        i64,
        String,
        i32,
        bool,
        f64,
        Option<DateTime<Utc>>,
        Option<String>,
    );
    let item: Item = db
        .fetch_one_as(
            "SELECT [id], [name], [qty], [active], [price], [seen_at], [note] FROM [b_items] WHERE [name] = ?",
            ("apple",),
        )
        .expect("fetch_one_as");
    assert_eq!(
        (
            &item.1[..],
            item.2,
            item.3,
            item.4,
            item.5,
            item.6.as_deref()
        ),
        ("apple", 3, true, 1.25, Some(seen), None)
    );
    // the generated id comes with the result, except on PostgreSQL (RETURNING)
    let reported = match f.dialect() {
        Dialect::Postgres => None,
        Dialect::MySql | Dialect::Sqlite => Some(item.0),
    };
    assert_eq!(r.last_insert_id, reported);

    let n = db
        .execute_many(
            "INSERT INTO [b_items] ([name], [qty], [active], [price]) VALUES (?, ?, ?, ?)",
            vec![
                ("pear", 1i32, false, 0.5f64),
                ("plum", 7, true, 2.0),
                ("fig", 2, true, 3.5),
            ],
        )
        .expect("execute_many");
    assert_eq!(n, 3);
    // a failing set rolls the whole batch back
    let dup = db.execute_many(
        "INSERT INTO [b_items] ([name], [qty], [active], [price]) VALUES (?, ?, ?, ?)",
        vec![("kiwi", 1i32, true, 1.0f64), ("apple", 1, true, 1.0)],
    );
    assert!(dup.expect_err("duplicate").is_unique_violation());
    assert_eq!(count(&db, "b_items"), 4);

    let rows = db
        .fetch_all(
            "SELECT [name], [qty] FROM [b_items] WHERE [active] = ? ORDER BY [name]",
            (true,),
        )
        .expect("fetch_all");
    let names: Vec<String> = rows
        .iter()
        .map(|r| r.get::<String, _>("name").expect("name"))
        .collect();
    assert_eq!(names, ["apple", "fig", "plum"]);
    assert_eq!(rows[2].get::<i32, _>("qty").expect("qty"), 7);

    let all: Vec<(String, f64)> = db
        .fetch_all_as(
            "SELECT [name], [price] FROM [b_items] ORDER BY [price] DESC",
            (),
        )
        .expect("fetch_all_as");
    assert_eq!(all[0], ("fig".to_string(), 3.5));
    assert_eq!(all.len(), 4);

    let row = db
        .fetch_one("SELECT [qty] FROM [b_items] WHERE [name] = ?", ("pear",))
        .expect("fetch_one");
    assert_eq!(row.get::<i32, _>("qty").expect("qty"), 1);
    assert!(
        db.fetch_one("SELECT [qty] FROM [b_items] WHERE [name] = ?", ("nope",))
            .expect_err("no row")
            .is_not_found()
    );
    assert!(
        db.fetch_optional("SELECT [qty] FROM [b_items] WHERE [name] = ?", ("nope",))
            .expect("fetch_optional")
            .is_none()
    );
    let some: Option<(i32,)> = db
        .fetch_optional_as("SELECT [qty] FROM [b_items] WHERE [name] = ?", ("plum",))
        .expect("fetch_optional_as");
    assert_eq!(some, Some((7,)));
    let total: i64 = db
        .fetch_scalar("SELECT SUM([qty]) FROM [b_items] WHERE [qty] > ?", (0,))
        .map(|v: Option<i64>| v.unwrap_or(0))
        .or_else(|_| {
            // MySQL sums integers as DECIMAL: read it as text
            db.fetch_scalar::<String, _>(
                "SELECT CAST(SUM([qty]) AS CHAR) FROM [b_items] WHERE [qty] > ?",
                (0,),
            )
            .map(|s| s.parse().expect("number"))
        })
        .expect("fetch_scalar");
    assert_eq!(total, 13);

    db.execute_script("UPDATE b_items SET qty = qty + 1; DELETE FROM b_items WHERE name = 'fig';")
        .expect("script");
    assert_eq!(count(&db, "b_items"), 3);
    let qty: i32 = db
        .fetch_scalar("SELECT [qty] FROM [b_items] WHERE [name] = ?", ("apple",))
        .expect("qty");
    assert_eq!(qty, 4);

    db.drop_table_if_exists("b_items").expect("drop");
    assert!(!db.table_exists("b_items").expect("exists"));
}

/// The query builder: bound parameters, tags, a timeout that holds and one
/// that fires (and leaves the handle usable).
fn query_builder(f: &Fixture) {
    let db = f.connect();
    counter_table(&db, "b_query");
    let q = db
        .query("INSERT INTO [b_query] ([n]) VALUES (?)")
        .bind(5i32)
        .timeout(Duration::from_secs(5))
        .tag("test", "blocking");
    assert_eq!(q.options().timeout, Some(Duration::from_secs(5)));
    assert_eq!(q.options().tags, [("test".into(), "blocking".into())]);
    assert_eq!(q.execute().expect("execute").rows_affected, 1);
    db.query("INSERT INTO [b_query] ([n]) VALUES (?)")
        .bind(6i32)
        .execute()
        .expect("execute");

    let ns: Vec<(i32,)> = db
        .query("SELECT [n] FROM [b_query] WHERE [n] >= ? ORDER BY [n]")
        .bind(5i32)
        .timeout(Duration::from_secs(5))
        .fetch_all_as()
        .expect("fetch_all_as");
    assert_eq!(ns, [(5,), (6,)]);
    assert_eq!(
        db.query("SELECT [n] FROM [b_query] ORDER BY [n]")
            .fetch_all()
            .expect("fetch_all")
            .len(),
        2
    );
    let row = db
        .query("SELECT [n] FROM [b_query] WHERE [n] = ?")
        .bind(6i32)
        .fetch_one()
        .expect("fetch_one");
    assert_eq!(row.get::<i32, _>("n").expect("n"), 6);
    assert!(
        db.query("SELECT [n] FROM [b_query] WHERE [n] = ?")
            .bind(7i32)
            .fetch_optional()
            .expect("fetch_optional")
            .is_none()
    );
    let opt: Option<(i32,)> = db
        .query("SELECT [n] FROM [b_query] WHERE [n] = ?")
        .bind(5i32)
        .fetch_optional_as()
        .expect("fetch_optional_as");
    assert_eq!(opt, Some((5,)));
    let max: i32 = db
        .query("SELECT MAX([n]) FROM [b_query] WHERE [n] < ?")
        .bind(100i32)
        .timeout(Duration::from_secs(5))
        .fetch_scalar()
        .expect("fetch_scalar");
    assert_eq!(max, 6);

    let slow = match f.dialect() {
        Dialect::Postgres => "SELECT pg_sleep(5)",
        Dialect::MySql => "SELECT SLEEP(5)",
        Dialect::Sqlite => {
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) \
             SELECT COUNT(*) FROM c"
        }
    };
    let start = Instant::now();
    let err = db
        .query(slow)
        .timeout(Duration::from_millis(200))
        .execute()
        .expect_err("the timeout fires");
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Query,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    // still usable afterwards
    assert_eq!(
        db.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [b_query]", ())
            .expect("count"),
        2
    );
}

/// Guard transactions: commit, explicit rollback, rollback on drop (locks
/// released, connection reused), savepoints.
fn guard_transaction(f: &Fixture) {
    let db = f.connect();
    counter_table(&db, "b_tx");

    let mut tx = db.begin().expect("begin");
    assert_eq!(tx.depth(), 0);
    assert_eq!(tx.dialect(), f.dialect());
    tx.execute("INSERT INTO [b_tx] ([n]) VALUES (?)", (1,))
        .expect("insert");
    assert_eq!(
        tx.execute_many("INSERT INTO [b_tx] ([n]) VALUES (?)", [(2,), (3,)])
            .expect("many"),
        2
    );
    let seen: Vec<(i32,)> = tx
        .fetch_all_as("SELECT [n] FROM [b_tx] ORDER BY [n]", ())
        .expect("fetch in tx");
    assert_eq!(seen, [(1,), (2,), (3,)]);
    tx.commit().expect("commit");
    assert_eq!(count(&db, "b_tx"), 3);

    // dropped: rolled back, without blocking or panicking
    {
        let mut tx = db.begin().expect("begin");
        tx.execute("UPDATE [b_tx] SET [n] = [n] + 100", ())
            .expect("update");
        tx.execute("INSERT INTO [b_tx] ([n]) VALUES (?)", (4,))
            .expect("insert");
        assert_eq!(
            tx.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [b_tx]", ())
                .expect("count"),
            4
        );
    }
    assert_eq!(count(&db, "b_tx"), 3);
    wait_until_idle(&db);
    // the rows the dropped transaction locked can be written again at once
    let mut tx = db.begin().expect("begin after drop");
    assert_eq!(
        tx.execute("UPDATE [b_tx] SET [n] = [n] + 10", ())
            .expect("update")
            .rows_affected,
        3
    );
    tx.commit().expect("commit");
    let sum: Vec<(i32,)> = db
        .fetch_all_as("SELECT [n] FROM [b_tx] ORDER BY [n]", ())
        .expect("rows");
    assert_eq!(sum, [(11,), (12,), (13,)]);

    // explicit rollback
    let mut tx = db.begin().expect("begin");
    tx.execute("DELETE FROM [b_tx]", ()).expect("delete");
    tx.rollback().expect("rollback");
    assert_eq!(count(&db, "b_tx"), 3);

    // savepoints: dropped, rolled back, released
    let mut tx = db.begin().expect("begin");
    tx.execute("INSERT INTO [b_tx] ([n]) VALUES (?)", (20,))
        .expect("insert");
    {
        let mut sp = tx.begin().expect("savepoint");
        assert_eq!(sp.depth(), 1);
        sp.execute("INSERT INTO [b_tx] ([n]) VALUES (?)", (21,))
            .expect("insert");
        let mut inner = sp.begin().expect("nested savepoint");
        assert_eq!(inner.depth(), 2);
        inner
            .execute("INSERT INTO [b_tx] ([n]) VALUES (?)", (22,))
            .expect("insert");
        // both dropped
    }
    let mut sp = tx.begin().expect("savepoint");
    sp.execute("INSERT INTO [b_tx] ([n]) VALUES (?)", (23,))
        .expect("insert");
    sp.rollback().expect("rollback to savepoint");
    let mut sp = tx.begin().expect("savepoint");
    sp.execute("INSERT INTO [b_tx] ([n]) VALUES (?)", (24,))
        .expect("insert");
    sp.commit().expect("release");
    let ns: Vec<(i32,)> = tx
        .fetch_all_as("SELECT [n] FROM [b_tx] WHERE [n] >= ? ORDER BY [n]", (20,))
        .expect("rows");
    assert_eq!(ns, [(20,), (24,)]);
    tx.commit().expect("commit");
    assert_eq!(count(&db, "b_tx"), 5);
    wait_until_idle(&db);
}

/// The closure form: commit on Ok, rollback on Err and on panic, re-run on a
/// serialization failure within the retry policy.
fn closure_transaction(f: &Fixture) {
    let db = f.connect();
    counter_table(&db, "b_closure");

    let v = db
        .transaction(|tx| {
            tx.execute("INSERT INTO [b_closure] ([n]) VALUES (?)", (1,))?;
            tx.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [b_closure]", ())
        })
        .expect("commit");
    assert_eq!(v, 1);
    assert_eq!(count(&db, "b_closure"), 1);

    // Err: rolled back, the error passed on, not re-run
    let runs = AtomicUsize::new(0);
    let err = db
        .transaction(|tx| -> dal::Result<()> {
            runs.fetch_add(1, Ordering::SeqCst);
            tx.execute("INSERT INTO [b_closure] ([n]) VALUES (?)", (2,))?;
            Err(Error::invalid_input("n", "no thanks"))
        })
        .expect_err("rolled back");
    assert!(
        matches!(err, Error::InvalidInput { ref field, .. } if field == "n"),
        "{err:?}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(count(&db, "b_closure"), 1);

    // a statement error inside: rolled back too
    let err = db
        .transaction(|tx| {
            tx.execute("INSERT INTO [b_closure] ([n]) VALUES (?)", (3,))?;
            tx.execute("INSERT INTO [b_closure_missing] ([n]) VALUES (?)", (3,))
        })
        .expect_err("no such table");
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    assert_eq!(count(&db, "b_closure"), 1);

    // a serialization failure re-runs the whole closure on a fresh transaction
    let runs = AtomicUsize::new(0);
    let v = db
        .transaction(|tx| {
            let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
            tx.execute(
                "INSERT INTO [b_closure] ([n]) VALUES (?)",
                (10 + run as i32,),
            )?;
            if run == 1 {
                return Err(Error::Serialization {
                    deadlock: false,
                    message: "simulated".into(),
                    code: None,
                });
            }
            Ok(run)
        })
        .expect("second run commits");
    assert_eq!(v, 2);
    let ns: Vec<(i32,)> = db
        .fetch_all_as("SELECT [n] FROM [b_closure] ORDER BY [n]", ())
        .expect("rows");
    assert_eq!(ns, [(1,), (12,)], "the first run's insert was rolled back");

    // ... within the configured number of attempts
    let limited = f.connect_with(|b| {
        b.retry_max_attempts(4)
            .retry_base_delay(Duration::from_millis(1))
            .retry_max_delay(Duration::from_millis(5))
    });
    let runs = AtomicUsize::new(0);
    let err = limited
        .transaction(|tx| -> dal::Result<()> {
            runs.fetch_add(1, Ordering::SeqCst);
            tx.execute("INSERT INTO [b_closure] ([n]) VALUES (?)", (99,))?;
            Err(Error::Serialization {
                deadlock: true,
                message: "always".into(),
                code: None,
            })
        })
        .expect_err("gives up");
    assert!(matches!(err, Error::Serialization { deadlock: true, .. }));
    assert_eq!(runs.load(Ordering::SeqCst), 4);
    let off = f.connect_with(|b| b.retry_enabled(false));
    let runs = AtomicUsize::new(0);
    off.transaction(|_| -> dal::Result<()> {
        runs.fetch_add(1, Ordering::SeqCst);
        Err(Error::Serialization {
            deadlock: true,
            message: "once".into(),
            code: None,
        })
    })
    .expect_err("not retried");
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert_eq!(count(&db, "b_closure"), 2);

    // a panic inside: unwinds through the drop (rollback), the handle stays usable
    let caught = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let _ = db.transaction(|tx| -> dal::Result<()> {
            tx.execute("INSERT INTO [b_closure] ([n]) VALUES (?)", (50,))?;
            panic!("boom inside a blocking transaction");
        });
    }));
    assert!(caught.is_err());
    assert_eq!(count(&db, "b_closure"), 2);
    wait_until_idle(&db);
    db.transaction(|tx| tx.execute("INSERT INTO [b_closure] ([n]) VALUES (?)", (60,)))
        .expect("works after a panic");
    assert_eq!(count(&db, "b_closure"), 3);
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "b_notes", history, soft_delete)]
struct Note {
    #[dal(id)]
    id: i64,
    #[dal(length = 100, unique)]
    title: String,
    stars: i32,
    tag: Option<String>,
}

impl Note {
    fn new(title: &str, stars: i32) -> Note {
        Note {
            id: 0,
            title: title.into(),
            stars,
            tag: None,
        }
    }
}

/// An entity saved, read back, listed, changed, deleted and restored through
/// the blocking API, on the handle and inside transactions.
fn entities(f: &Fixture) {
    let db = f.connect();
    let report = db
        .block_on(Note::ensure_schema(db.as_async()))
        .expect("ensure_schema");
    assert!(
        report.created.contains(&"b_notes".to_string()),
        "{report:?}"
    );
    assert!(db.ensure_schema::<Note>().expect("again").is_unchanged());

    let mut a = Note::new("alpha", 1);
    db.save(&mut a).expect("save");
    assert!(a.id > 0);
    let mut b = Note::new("beta", 2);
    db.block_on(b.save(db.as_async()))
        .expect("save through block_on");
    assert!(b.id > a.id);
    assert_eq!(db.get::<Note>(a.id).expect("get"), Some(a.clone()));
    assert_eq!(db.get::<Note>(a.id + 1000).expect("get"), None);

    let mut more = vec![
        Note::new("gamma", 3),
        Note::new("delta", 4),
        Note::new("epsilon", 5),
    ];
    db.save_all(&mut more).expect("save_all");
    assert!(more.iter().all(|n| n.id > 0));

    let listed = db
        .all(
            Note::find()
                .filter(Note::STARS.ge(2))
                .order_by(Note::TITLE.asc()),
        )
        .expect("all");
    let titles: Vec<&str> = listed.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["beta", "delta", "epsilon", "gamma"]);
    assert_eq!(db.count(Note::find()).expect("count"), 5);
    assert!(
        db.exists(Note::find().filter(Note::TITLE.eq("delta")))
            .expect("exists")
    );
    assert_eq!(
        db.one(Note::find().filter(Note::TITLE.eq("beta")))
            .expect("one"),
        b
    );
    assert!(
        db.optional(Note::find().filter(Note::TITLE.eq("zeta")))
            .expect("optional")
            .is_none()
    );

    a.stars = 10;
    a.tag = Some("top".into());
    db.save_with(&mut a, &dal::Audit::by("tester").comment("promote"))
        .expect("update");
    let back = db.get::<Note>(a.id).expect("get").expect("row");
    assert_eq!((back.stars, back.tag.as_deref()), (10, Some("top")));
    let history = db.history::<Note>(a.id).expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1].actor.as_deref(), Some("tester"));
    assert_eq!(
        db.at_version::<Note>(a.id, 1)
            .expect("at_version")
            .expect("v1")
            .entity
            .stars,
        1
    );

    let mut dup = Note::new("alpha", 0);
    assert!(db.save(&mut dup).expect_err("unique").is_unique_violation());

    // soft delete and restore
    assert!(db.delete(&mut b).expect("delete"));
    assert!(db.get::<Note>(b.id).expect("get").is_none());
    assert!(db.get_with_deleted::<Note>(b.id).expect("get").is_some());
    assert!(db.restore(&mut b).expect("restore"));
    assert!(db.get::<Note>(b.id).expect("get").is_some());

    // inside a guard transaction: dropped = not saved
    {
        let mut tx = db.begin().expect("begin");
        let mut c = Note::new("zeta", 6);
        tx.save(&mut c).expect("save in tx");
        assert_eq!(
            tx.get::<Note>(c.id).expect("get in tx").map(|n| n.title),
            Some("zeta".into())
        );
        assert_eq!(tx.count(Note::find()).expect("count in tx"), 6);
    }
    assert_eq!(db.count(Note::find()).expect("count"), 5);
    wait_until_idle(&db);

    // committed, mixing the entity methods and block_on with an async closure
    let mut tx = db.begin().expect("begin");
    let mut c = Note::new("zeta", 6);
    tx.block_on(async |t| c.save(t).await)
        .expect("save via block_on");
    let mut d = Note::new("eta", 7);
    tx.save(&mut d).expect("save");
    let n = tx
        .block_on(async |t| Note::find().filter(Note::STARS.ge(6)).count(t).await)
        .expect("count via block_on");
    assert_eq!(n, 3);
    assert_eq!(
        tx.update_many(
            Note::find().filter(Note::TITLE.eq("eta")),
            vec![Note::TAG.set("new")]
        )
        .expect("update_many"),
        1
    );
    tx.commit().expect("commit");
    assert_eq!(db.get::<Note>(c.id).expect("get"), Some(c.clone()));
    assert_eq!(
        db.get::<Note>(d.id).expect("get").and_then(|n| n.tag),
        Some("new".into())
    );

    // the closure form with entities
    let id = db
        .transaction(|tx| {
            let mut e = Note::new("theta", 8);
            tx.save(&mut e)?;
            tx.delete(&mut c)?;
            Ok(e.id)
        })
        .expect("transaction");
    assert!(db.get::<Note>(id).expect("get").is_some());
    assert!(db.get::<Note>(c.id).expect("get").is_none());

    assert_eq!(
        db.delete_many(Note::find().filter(Note::STARS.lt(3)))
            .expect("delete_many"),
        1
    );
    assert_eq!(db.count(Note::find()).expect("count"), 6);
    assert_eq!(db.count(Note::find().include_deleted()).expect("count"), 8);
    assert_eq!(
        db.delete_many_permanently(Note::find().only_deleted())
            .expect("purge"),
        2
    );
    assert_eq!(db.count(Note::find().include_deleted()).expect("count"), 6);
    assert!(db.delete_permanently(&mut d).expect("delete_permanently"));
    assert_eq!(db.count(Note::find().include_deleted()).expect("count"), 5);
}

/// One handle used from 8 plain threads at once (clones and a shared borrow):
/// every statement, transaction and entity write lands exactly once.
fn concurrent_threads(f: &Fixture) {
    const THREADS: usize = 8;
    const ROUNDS: i32 = 15;
    let db = f.connect();
    db.create_table(&Table::build("b_conc", |t| {
        t.id();
        t.integer("thread");
        t.integer("i");
    }))
    .expect("create");
    db.ensure_schema::<Note>().expect("schema");

    let barrier = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let db = db.clone();
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let t = thread as i32;
                for i in 0..ROUNDS {
                    match i % 3 {
                        0 => {
                            db.execute(
                                "INSERT INTO [b_conc] ([thread], [i]) VALUES (?, ?)",
                                (t, i),
                            )
                            .expect("insert");
                        }
                        1 => {
                            db.transaction(|tx| {
                                tx.execute(
                                    "INSERT INTO [b_conc] ([thread], [i]) VALUES (?, ?)",
                                    (t, i),
                                )?;
                                let mine: i64 = tx.fetch_scalar(
                                    "SELECT COUNT(*) FROM [b_conc] WHERE [thread] = ?",
                                    (t,),
                                )?;
                                assert_eq!(mine, i64::from(i) + 1);
                                Ok(())
                            })
                            .expect("transaction");
                        }
                        _ => {
                            let n = db
                                .query("INSERT INTO [b_conc] ([thread], [i]) VALUES (?, ?)")
                                .bind(t)
                                .bind(i)
                                .timeout(Duration::from_secs(30))
                                .execute()
                                .expect("query");
                            assert_eq!(n.rows_affected, 1);
                        }
                    }
                    let mine: i64 = db
                        .fetch_scalar("SELECT COUNT(*) FROM [b_conc] WHERE [thread] = ?", (t,))
                        .expect("count");
                    assert_eq!(mine, i64::from(i) + 1);
                }
                let mut note = Note::new(&format!("thread-{thread}"), t);
                db.save(&mut note).expect("entity save");
                assert_eq!(db.get::<Note>(note.id).expect("get"), Some(note));
            })
        })
        .collect();
    for h in handles {
        h.join().expect("thread finished without panicking");
    }
    assert_eq!(count(&db, "b_conc"), THREADS as i64 * i64::from(ROUNDS));
    let per: Vec<(i32, i64)> = db
        .fetch_all_as(
            "SELECT [thread], COUNT(*) FROM [b_conc] GROUP BY [thread] ORDER BY [thread]",
            (),
        )
        .expect("per thread");
    assert_eq!(
        per,
        (0..THREADS as i32)
            .map(|t| (t, i64::from(ROUNDS)))
            .collect::<Vec<_>>()
    );
    assert_eq!(db.count(Note::find()).expect("notes"), THREADS as i64);

    // a shared borrow across scoped threads works too
    let total = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                let n: i64 = db
                    .fetch_scalar("SELECT COUNT(*) FROM [b_conc]", ())
                    .expect("count");
                total.fetch_add(n as usize, Ordering::SeqCst);
            });
        }
    });
    assert_eq!(
        total.load(Ordering::SeqCst),
        THREADS * THREADS * ROUNDS as usize
    );
    wait_until_idle(&db);
}

/// The last handle closes the pool: a clone of the async handle kept past it
/// fails cleanly instead of using a dead runtime.
fn last_handle_closes(f: &Fixture) {
    let db = f.connect();
    let clone = db.clone();
    let async_db = db.as_async().clone();
    drop(db);
    assert_eq!(
        clone
            .fetch_scalar::<i64, _>("SELECT 1", ())
            .expect("clone works"),
        1
    );
    assert!(!async_db.is_closed());
    drop(clone);
    assert!(async_db.is_closed());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let r = rt.block_on(async_db.execute("SELECT 1", ()));
    assert!(matches!(r, Err(Error::PoolClosed)), "{r:?}");
}

/// Stats, health, breaker state and hooks work through the blocking handle and
/// count the statements it ran.
fn observability(f: &Fixture) {
    let db = f.connect();
    let timing = std::sync::Arc::new(dal::hooks::TimingHook::new());
    db.add_hook(timing.clone());
    let before = db.stats();
    for _ in 0..3 {
        assert_eq!(
            db.fetch_scalar::<i64, _>("SELECT 1", ()).expect("select"),
            1
        );
    }
    let err = db
        .execute("SELECT no_such_column FROM no_such_table", ())
        .unwrap_err();
    assert!(matches!(err, Error::Database { .. }), "{err:?}");
    let after = db.stats();
    assert!(after.statements >= before.statements + 4, "{after}");
    assert!(after.errors_total > before.errors_total, "{after}");
    assert_eq!(after.advice, dal::ScalingAdvice::Normal);
    let seen: u64 = timing.snapshot().iter().map(|t| t.count).sum();
    assert_eq!(seen, 4, "{:?}", timing.snapshot());
    let failed: u64 = timing.snapshot().iter().map(|t| t.errors).sum();
    assert_eq!(failed, 1);
    let health = db.health();
    assert!(health.healthy, "{health}");
    assert!(health.error.is_none());
    // bad SQL is not an infrastructure failure: the breaker stays closed
    assert_eq!(db.breaker_state(), dal::BreakerState::Closed);
    assert_eq!(health.breaker, dal::BreakerState::Closed);
    wait_until_idle(&db);
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "b_shelves", has_many(books = Book::SHELF))]
struct Shelf {
    #[dal(id)]
    id: i64,
    name: String,
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "b_books")]
struct Book {
    #[dal(id)]
    id: i64,
    #[dal(belongs_to = Shelf, on_delete = "cascade")]
    shelf_id: i64,
    #[dal(length = 100, unique)]
    title: String,
}

fn book(title: &str) -> Book {
    Book {
        id: 0,
        shelf_id: 0,
        title: title.into(),
    }
}

/// Relations through the blocking API: a parent saved with its children in
/// one transaction (all or nothing), eager loads (`all_with`, `one_with`,
/// `optional_with`) on the handle and in a transaction, lazy loads through
/// `block_on`.
fn relations(f: &Fixture) {
    let db = f.connect();
    db.ensure_schema::<Shelf>().expect("shelves");
    db.ensure_schema::<Book>().expect("books");
    let mut sf = Shelf {
        id: 0,
        name: "sf".into(),
    };
    let mut books = vec![book("Dune"), book("Solaris")];
    db.save_with_children(Shelf::BOOKS, &mut sf, &mut books)
        .expect("save with children");
    assert!(sf.id > 0 && books.iter().all(|b| b.id > 0 && b.shelf_id == sf.id));

    // all or nothing: a duplicate title refuses the whole save
    let mut poems = Shelf {
        id: 0,
        name: "poems".into(),
    };
    let mut clash = vec![book("Odes"), book("Dune")];
    let err = db
        .save_with_children(Shelf::BOOKS, &mut poems, &mut clash)
        .unwrap_err();
    assert!(matches!(err, Error::ConstraintViolation { .. }), "{err:?}");
    assert_eq!(poems.id, 0);
    assert_eq!(db.count(Shelf::find()).expect("count"), 1);

    let shelves = db
        .all_with(Shelf::find().with(Shelf::BOOKS.order_by(Book::TITLE.desc())))
        .expect("all_with");
    let titles: Vec<&str> = shelves[0]
        .related(Shelf::BOOKS)
        .expect("loaded")
        .iter()
        .map(|b| b.title.as_str())
        .collect();
    assert_eq!(titles, ["Solaris", "Dune"]);
    let one = db
        .one_with(
            Book::find()
                .filter(Book::TITLE.eq("Dune"))
                .with(Book::SHELF),
        )
        .expect("one_with");
    assert_eq!(
        one.related(Book::SHELF).expect("loaded").unwrap().name,
        "sf"
    );
    assert!(
        db.optional_with(
            Book::find()
                .filter(Book::TITLE.eq("Odes"))
                .with(Book::SHELF)
        )
        .expect("optional_with")
        .is_none()
    );
    let shelf = db
        .block_on(books[1].shelf(db.as_async()))
        .expect("lazy")
        .expect("a shelf");
    assert_eq!(shelf, sf);
    let listed = db
        .block_on(sf.books().all(db.as_async()))
        .expect("lazy has-many");
    assert_eq!(listed, books);

    let mut tx = db.begin().expect("begin");
    let mut more = vec![book("Ubik")];
    let mut sf2 = sf.clone();
    tx.save_with_children(Shelf::BOOKS, &mut sf2, &mut more)
        .expect("save in tx");
    let seen = tx
        .block_on(async |t| more[0].shelf(t).await)
        .expect("lazy in tx");
    assert_eq!(seen.map(|s| s.id), Some(sf.id));
    let inside = tx
        .all_with(Shelf::find().with(Shelf::BOOKS))
        .expect("all_with in tx");
    assert_eq!(inside[0].related(Shelf::BOOKS).expect("loaded").len(), 3);
    tx.rollback().expect("rollback");
    assert_eq!(db.count(Book::find()).expect("count"), 2);
    wait_until_idle(&db);
}

/// Projections through the blocking API: a join with an aggregate per
/// group, one value, a FromRow struct, and the same inside a transaction.
fn projections(f: &Fixture) {
    let db = f.connect();
    db.ensure_schema::<Shelf>().expect("shelves");
    db.ensure_schema::<Book>().expect("books");
    let mut sf = Shelf {
        id: 0,
        name: "sf".into(),
    };
    let mut books = vec![book("Dune"), book("Solaris")];
    db.save_with_children(Shelf::BOOKS, &mut sf, &mut books)
        .expect("save");
    let mut empty = Shelf {
        id: 0,
        name: "empty".into(),
    };
    db.save(&mut empty).expect("save");

    let per_shelf: Vec<(String, i64)> = db
        .select_all(
            Shelf::find()
                .left_join(Shelf::BOOKS)
                .select((Shelf::NAME, Book::ID.count()))
                .group_by((Shelf::ID, Shelf::NAME))
                .order_by(Shelf::NAME.asc()),
        )
        .expect("select_all");
    assert_eq!(per_shelf, [("empty".to_string(), 0), ("sf".into(), 2)]);
    let first: String = db
        .select_one(Book::find().select(Book::TITLE.min()))
        .expect("select_one")
        .expect("a title");
    assert_eq!(first, "Dune");
    assert!(
        db.select_optional(Book::find().filter(Book::TITLE.eq("x")).select(Book::ID))
            .expect("select_optional")
            .is_none()
    );
    #[derive(dal::FromRow, Debug, PartialEq)]
    struct Named {
        title: String,
    }
    let named: Vec<Named> = db
        .select_all_as(
            Book::find()
                .order_by(Book::TITLE.desc())
                .select(Book::TITLE),
        )
        .expect("select_all_as");
    assert_eq!(named[0].title, "Solaris");

    let mut tx = db.begin().expect("begin");
    tx.save(&mut Book {
        id: 0,
        shelf_id: empty.id,
        title: "Ubik".into(),
    })
    .expect("save in tx");
    let n: i64 = tx
        .select_one(Book::find().select(Book::ID.count()))
        .expect("count in tx");
    assert_eq!(n, 3);
    tx.rollback().expect("rollback");
    let n: i64 = db
        .select_one(Book::find().select(Book::ID.count()))
        .expect("count");
    assert_eq!(n, 2);
    wait_until_idle(&db);
}

macro_rules! blocking_tests {
    ($dialect:expr) => {
        blocking_tests!($dialect;
            round_trip, query_builder, guard_transaction, closure_transaction,
            entities, relations, projections, concurrent_threads, last_handle_closes, observability);
        async_context_tests!($dialect);
    };
    ($dialect:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                let Some(f) = crate::Fixture::new($dialect) else { return };
                crate::$name(&f);
            }
        )*
    };
}

// ------------------------------------------------------------ inside a runtime

/// Every waiting call refuses inside a runtime (the closure never runs, nothing
/// panics or hangs); what does not wait still works; a transaction begun on a
/// plain thread and committed here is rolled back; the handle keeps working
/// from plain threads; dropping the last handle here does not panic.
async fn inside_runtime(dialect: Dialect) {
    let Some(t) = support::for_dialect(dialect).await else {
        return;
    };
    assert_refused(blocking::Db::connect_url(&t.url));
    assert_refused(blocking::Db::connect(
        dal::DatabaseConfig::from_url(&t.url).expect("url"),
    ));

    let url = t.url.clone();
    let db = std::thread::spawn(move || {
        let db = blocking::Db::connect_url(&url).expect("connect on a plain thread");
        counter_table(&db, "b_async");
        db
    })
    .join()
    .expect("setup thread");

    assert_refused(db.execute("INSERT INTO [b_async] ([n]) VALUES (?)", (1,)));
    assert_refused(db.execute_many("INSERT INTO [b_async] ([n]) VALUES (?)", [(1,)]));
    assert_refused(db.execute_script("DELETE FROM b_async"));
    assert_refused(db.fetch_all("SELECT 1", ()));
    assert_refused(db.fetch_one("SELECT 1", ()));
    assert_refused(db.fetch_optional("SELECT 1", ()));
    assert_refused(db.fetch_scalar::<i64, _>("SELECT 1", ()));
    assert_refused(db.query("SELECT ?").bind(1).fetch_scalar::<i64>());
    assert_refused(db.ping());
    assert!(!db.test_connection());
    let health = db.health();
    assert!(!health.healthy);
    assert!(
        health
            .error
            .as_deref()
            .unwrap_or("")
            .contains("inside an async runtime"),
        "{health}"
    );
    let _ = db.stats();
    assert_refused(db.begin());
    assert_refused(db.table_names());
    assert_refused(db.ensure_schema::<Note>());
    assert_refused(db.get::<Note>(1));
    assert_refused(db.count(Note::find()));
    assert_refused(db.block_on(async { Ok(1) }));
    let ran = AtomicUsize::new(0);
    assert_refused(db.transaction(|_| {
        ran.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    // what does not wait works
    assert_eq!(db.dialect(), dialect);
    assert_eq!(db.pool_status().in_use, 0);
    assert!(!db.is_closed());
    // and the async handle is the way in async code
    let n: i64 = db
        .as_async()
        .fetch_scalar("SELECT COUNT(*) FROM [b_async]", ())
        .await
        .expect("async handle");
    assert_eq!(n, 0);

    // a transaction begun on a plain thread, committed here: refused, rolled back
    let d = db.clone();
    let mut tx = std::thread::spawn(move || {
        let mut tx = d.begin().expect("begin");
        tx.execute("INSERT INTO [b_async] ([n]) VALUES (?)", (7,))
            .expect("insert");
        tx
    })
    .join()
    .expect("tx thread");
    assert_refused(tx.execute("INSERT INTO [b_async] ([n]) VALUES (?)", (8,)));
    assert_refused(tx.begin());
    assert_refused(tx.block_on(async |t| t.execute("SELECT 1", ()).await));
    assert_refused(tx.commit());

    // tokio's spawn_blocking threads carry the runtime's context: refused as well
    let d = db.clone();
    let r = tokio::task::spawn_blocking(move || d.fetch_scalar::<i64, _>("SELECT 1", ()))
        .await
        .expect("spawn_blocking");
    assert_refused(r);

    // from a plain thread the handle still works, and the row was rolled back
    let d = db.clone();
    std::thread::spawn(move || {
        wait_until_idle(&d);
        assert_eq!(count(&d, "b_async"), 0);
        d.execute("INSERT INTO [b_async] ([n]) VALUES (?)", (9,))
            .expect("insert");
    })
    .join()
    .expect("plain thread");
    let n: i64 = db
        .as_async()
        .fetch_scalar("SELECT COUNT(*) FROM [b_async]", ())
        .await
        .expect("async handle");
    assert_eq!(n, 1);

    // dropping the last handle (and its runtime) in here must not panic
    let async_db = db.as_async().clone();
    drop(db);
    assert!(async_db.is_closed());
    drop(t);
}

/// A handle opened lazily inside the runtime (allowed: it does not wait), used
/// from a plain thread, dropped in here.
async fn lazy_inside_runtime(dialect: Dialect) {
    let Some(t) = support::for_dialect(dialect).await else {
        return;
    };
    let db = blocking::Db::connect_lazy(dal::DatabaseConfig::from_url(&t.url).expect("url"))
        .expect("connect_lazy");
    assert_refused(db.fetch_scalar::<i64, _>("SELECT 1", ()));
    let d = db.clone();
    let n = std::thread::spawn(move || d.fetch_scalar::<i64, _>("SELECT 41 + 1", ()))
        .join()
        .expect("thread")
        .expect("query");
    assert_eq!(n, 42);
    drop(db);
    drop(t);
}

macro_rules! async_context_tests {
    ($dialect:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn inside_multi_thread_runtime() {
            crate::inside_runtime($dialect).await;
        }

        #[tokio::test(flavor = "current_thread")]
        async fn inside_current_thread_runtime() {
            crate::inside_runtime($dialect).await;
        }

        #[tokio::test(flavor = "current_thread")]
        async fn lazy_handle_inside_runtime() {
            crate::lazy_inside_runtime($dialect).await;
        }
    };
}

mod sqlite {
    blocking_tests!(dal::Dialect::Sqlite);
}

mod postgres {
    blocking_tests!(dal::Dialect::Postgres);
}

mod mysql {
    blocking_tests!(dal::Dialect::MySql);
}
