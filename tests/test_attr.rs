//! `#[dal::test]` and the runner behind it (`dal::testing::TestRun`) on every
//! backend: each test's database is its own, prepared by a migrator and
//! `ensure_schema`, removed after success (checked from a connection of the
//! server's own) and kept after a failure; `Result` bodies; skipping and
//! failing when a server does not answer.
//!
//! The failure paths run through `TestRun` directly (inside `catch_unwind`),
//! not through failing `#[test]`s.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Barrier, Mutex};

use dal::migrate::{Migration, Migrator, Module};
use dal::schema::script::Script;
use dal::testing::{Outcome, TestDatabase, TestRun};
use dal::{Db, Dialect, Entity, Table};

#[derive(Entity, Debug, Clone)]
#[dal(table = "notes")]
struct Note {
    #[dal(id)]
    id: i64,
    body: String,
}

#[derive(Entity, Debug, Clone)]
#[dal(table = "tags")]
struct Tag {
    #[dal(id)]
    id: i64,
    #[dal(length = 40)]
    label: String,
}

/// One migration creating `journal`.
fn migrator() -> Migrator {
    let mut s = Script::new();
    s.create_table(Table::build("journal", |t| {
        t.id();
        t.string("line", 100);
    }));
    Migrator::new().module(Module::new("core").migration(Migration::new("0001_journal", s)))
}

async fn notes(db: &Db) -> Vec<String> {
    Note::find()
        .order_by(Note::ID.asc())
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.body)
        .collect()
}

async fn write_notes(db: &Db, bodies: &[&str]) {
    for b in bodies {
        Note {
            id: 0,
            body: b.to_string(),
        }
        .save(db)
        .await
        .unwrap();
    }
}

// Two tests writing the same table: each sees only its own rows.

#[dal::test(backends(sqlite, postgres, mysql), entities(Note))]
async fn isolated_left(db: Db) {
    write_notes(&db, &["left 1", "left 2"]).await;
    assert_eq!(notes(&db).await, ["left 1", "left 2"]);
}

#[dal::test(backends(sqlite, postgres, mysql), entities(Note))]
async fn isolated_right(db: Db) {
    write_notes(&db, &["right"]).await;
    assert_eq!(notes(&db).await, ["right"]);
}

/// The migrator runs, then each entity's `ensure_schema`, in order.
#[dal::test(backends(sqlite, postgres, mysql), migrator = migrator(), entities(Note, Tag))]
async fn migrator_then_entities(db: Db) -> dal::Result<()> {
    assert_eq!(
        db.table_names().await?,
        ["dal_migrations", "journal", "notes", "tags"]
    );
    let applied: Vec<(String,)> = db
        .fetch_all_as("SELECT [name] FROM [dal_migrations]", ())
        .await?;
    assert_eq!(applied, [("0001_journal".to_string(),)]);
    Tag {
        id: 0,
        label: "x".into(),
    }
    .save(&db)
    .await?;
    Ok(())
}

/// No options: SQLite, a current-thread runtime, an empty database.
#[dal::test]
async fn defaults(db: Db) -> Result<(), String> {
    if db.dialect() != Dialect::Sqlite {
        return Err(format!("ran on {:?}", db.dialect()));
    }
    assert_eq!(
        tokio::runtime::Handle::current().runtime_flavor(),
        tokio::runtime::RuntimeFlavor::CurrentThread
    );
    assert!(
        db.table_names()
            .await
            .map_err(|e| e.to_string())?
            .is_empty()
    );
    Ok(())
}

/// A `TestDatabase` argument: the pool with the database's name, URL and
/// the name libtest gives the test; the pool really is on that schema,
/// database or file.
#[dal::test(backends(sqlite, pg, mariadb), worker_threads = 2)]
async fn test_database_argument(t: TestDatabase) -> dal::Result<()> {
    let backend = match t.dialect() {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
        Dialect::MySql => "mysql",
    };
    assert_eq!(t.test_name(), format!("test_database_argument::{backend}"));
    assert!(
        t.name().starts_with("dal_t_test_database_argu_"),
        "{}",
        t.name()
    );
    assert_eq!(
        tokio::runtime::Handle::current().runtime_flavor(),
        tokio::runtime::RuntimeFlavor::MultiThread
    );
    match t.dialect() {
        Dialect::Sqlite => {
            assert!(t.path().unwrap().exists());
            assert!(t.url().ends_with(&format!("{}.db", t.name())));
        }
        Dialect::Postgres => {
            let s: String = t.fetch_scalar("SELECT current_schema()", ()).await?;
            assert_eq!(s, t.name());
        }
        Dialect::MySql => {
            let s: String = t.fetch_scalar("SELECT DATABASE()", ()).await?;
            assert_eq!(s, t.name());
        }
    }
    // a second pool from the URL reaches the same database
    let other = Db::connect_url(t.url()).await?;
    t.execute("CREATE TABLE [probe] ([v] INTEGER)", ()).await?;
    assert_eq!(other.table_names().await?, ["probe"]);
    other.close();
    Ok(())
}

/// `#[should_panic]` goes on the generated test.
#[dal::test]
#[should_panic(expected = "expected to fail")]
async fn should_panic_is_forwarded(db: Db) {
    db.execute("CREATE TABLE [t] ([v] INTEGER)", ())
        .await
        .unwrap();
    panic!("expected to fail");
}

/// `#[ignore]` goes on each generated test (run with `--ignored`, it passes).
#[dal::test(backends(sqlite, postgres))]
#[ignore = "checks that the attribute keeps #[ignore]"]
async fn ignored(_db: Db) {}

/// A trivial test on the servers, run by [`unreachable_servers`] in a child
/// process pointed at a port nothing listens on.
#[dal::test(backends(postgres, mysql))]
async fn server_probe(db: Db) {
    let one: i64 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
}

// ---- the runner itself, per backend ----

/// `mod name { #[test] fn sqlite() { super::name(Dialect::Sqlite) } .. }`
macro_rules! per_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name(dal::Dialect::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name(dal::Dialect::Postgres)
                }
                #[test]
                fn mysql() {
                    super::$name(dal::Dialect::MySql)
                }
            }
        )*
    };
}

per_backend!(
    removed_after_success,
    kept_after_err,
    kept_after_panic,
    removed_after_expected_panic,
    concurrent_runs_are_isolated,
    failing_setup_keeps_the_database,
);

/// Whether the test database `name` exists, asked of the server itself (or
/// the file system for SQLite).
fn exists(dialect: Dialect, name: &str) -> bool {
    let Some(url) = dal::testing::server_url(dialect) else {
        return std::env::temp_dir().join(format!("{name}.db")).exists();
    };
    // both servers list schemas (PostgreSQL) and databases (MariaDB) there
    let sql = "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?";
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let admin = Db::connect_url(&url).await.expect("admin connection");
        let n: i64 = admin.fetch_scalar(sql, (name,)).await.unwrap();
        admin.close();
        n == 1
    })
}

/// The test database the body of a run saw, for checks after the run.
type Seen = Arc<Mutex<Option<TestDatabase>>>;

fn remember(seen: &Seen, t: &TestDatabase) {
    *seen.lock().unwrap() = Some(t.clone());
}

fn seen(seen: &Seen) -> TestDatabase {
    seen.lock().unwrap().clone().expect("the body ran")
}

/// Remove a kept database by hand, and check it is gone.
fn clean_up(t: TestDatabase) {
    let (dialect, name) = (t.dialect(), t.name().to_string());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(t.cleanup()).expect("cleanup");
    assert!(!exists(dialect, &name));
}

/// The panic message of a run that failed.
fn message(e: Box<dyn std::any::Any + Send>) -> String {
    e.downcast_ref::<String>()
        .cloned()
        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn removed_after_success(dialect: Dialect) {
    let s = Seen::default();
    let outcome = TestRun::new(dialect, "removed_after_success")
        .entity::<Note>()
        .run(|t| {
            remember(&s, &t);
            async move {
                write_notes(&t, &["kept?"]).await;
                Ok::<(), dal::Error>(())
            }
        });
    if outcome == Outcome::Skipped {
        return;
    }
    let t = seen(&s);
    assert!(t.db().is_closed());
    assert!(!exists(dialect, t.name()), "{} is still there", t.name());
    if let Some(path) = t.path() {
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            assert!(!std::path::Path::new(&p).exists(), "{p:?}");
        }
    }
}

fn kept_after_err(dialect: Dialect) {
    let s = Seen::default();
    let r = catch_unwind(AssertUnwindSafe(|| {
        TestRun::new(dialect, "kept_after_err")
            .entity::<Note>()
            .run(|t| {
                remember(&s, &t);
                async move {
                    write_notes(&t, &["evidence"]).await;
                    Err::<(), _>(dal::Error::NotFound("on purpose".into()))
                }
            })
    }));
    let Err(e) = r else {
        assert_eq!(r.unwrap(), Outcome::Skipped);
        return;
    };
    let m = message(e);
    assert!(
        m.contains("kept_after_err") && m.contains("on purpose"),
        "{m}"
    );
    let t = seen(&s);
    assert!(exists(dialect, t.name()), "{} was removed", t.name());
    // the rows are still there for whoever looks
    let rt = tokio::runtime::Runtime::new().unwrap();
    let rows = rt.block_on(async {
        let db = Db::connect_url(t.url()).await.unwrap();
        let rows = notes(&db).await;
        db.close();
        rows
    });
    assert_eq!(rows, ["evidence"]);
    clean_up(t);
}

fn kept_after_panic(dialect: Dialect) {
    let s = Seen::default();
    let r = catch_unwind(AssertUnwindSafe(|| {
        TestRun::new(dialect, "kept_after_panic").run(|t| {
            remember(&s, &t);
            async move {
                t.execute("CREATE TABLE [t] ([v] INTEGER)", ())
                    .await
                    .unwrap();
                if t.table_names().await.unwrap() == ["t"] {
                    panic!("on purpose");
                }
            }
        })
    }));
    let Err(e) = r else {
        assert_eq!(r.unwrap(), Outcome::Skipped);
        return;
    };
    assert_eq!(message(e), "on purpose", "the body's own panic goes on");
    let t = seen(&s);
    assert!(exists(dialect, t.name()));
    clean_up(t);
}

fn removed_after_expected_panic(dialect: Dialect) {
    let s = Seen::default();
    let r = catch_unwind(AssertUnwindSafe(|| {
        TestRun::new(dialect, "removed_after_expected_panic")
            .expect_panic()
            .run(|t| {
                remember(&s, &t);
                async move {
                    if !t.is_closed() {
                        panic!("expected")
                    }
                }
            })
    }));
    if let Ok(outcome) = r {
        assert_eq!(outcome, Outcome::Skipped);
        return;
    }
    let t = seen(&s);
    assert!(!exists(dialect, t.name()));
}

fn failing_setup_keeps_the_database(dialect: Dialect) {
    // a migration that fails on every backend
    let mut bad = Script::new();
    bad.sql("CREATE TABLE [broken] ([a] NO_SUCH_TYPE_ANYWHERE(")
        .sql("SELECT 1");
    let m = Migrator::new().module(Module::new("core").migration(Migration::new("0001_bad", bad)));
    let name = Arc::new(Mutex::new(None::<String>));
    let r = catch_unwind(AssertUnwindSafe(|| {
        TestRun::new(dialect, "failing_setup").migrator(m).run(|t| {
            *name.lock().unwrap() = Some(t.name().to_string());
            async move {}
        })
    }));
    let Err(e) = r else {
        assert_eq!(r.unwrap(), Outcome::Skipped);
        return;
    };
    let m = message(e);
    assert!(
        m.contains("setup failed while applying the migrator"),
        "{m}"
    );
    assert!(name.lock().unwrap().is_none(), "the body did not run");
    // the database is kept: find it by its name's prefix and remove it
    let kept = leftovers(dialect, "dal_t_failing_setup_");
    assert!(!kept.is_empty(), "kept");
    for n in kept {
        drop_leftover(dialect, &n);
    }
}

/// Test databases whose names start with `prefix`.
fn leftovers(dialect: Dialect, prefix: &str) -> Vec<String> {
    let Some(url) = dal::testing::server_url(dialect) else {
        return std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with(prefix) && n.ends_with(".db"))
            .map(|n| n.trim_end_matches(".db").to_string())
            .collect();
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let admin = Db::connect_url(&url).await.unwrap();
        let names: Vec<(String,)> = admin
            .fetch_all_as(
                "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?",
                (format!("{prefix}%"),),
            )
            .await
            .unwrap();
        admin.close();
        names.into_iter().map(|(n,)| n).collect()
    })
}

fn drop_leftover(dialect: Dialect, name: &str) {
    let Some(url) = dal::testing::server_url(dialect) else {
        let _ = std::fs::remove_file(std::env::temp_dir().join(format!("{name}.db")));
        return;
    };
    let sql = match dialect {
        Dialect::Postgres => format!("DROP SCHEMA IF EXISTS \"{name}\" CASCADE"),
        _ => format!("DROP DATABASE IF EXISTS `{name}`"),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let admin = Db::connect_url(&url).await.unwrap();
        admin.execute_script(&sql).await.unwrap();
        admin.close();
    });
}

/// Two runs at once, same table: neither sees the other's rows, though both
/// wrote before either read.
fn concurrent_runs_are_isolated(dialect: Dialect) {
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [&["a1", "a2"][..], &["b1"][..]]
        .into_iter()
        .map(|rows| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                TestRun::new(dialect, "concurrent")
                    .entity::<Note>()
                    .run(|t| async move {
                        write_notes(&t, rows).await;
                        tokio::task::spawn_blocking(move || barrier.wait())
                            .await
                            .unwrap();
                        assert_eq!(notes(&t).await, rows);
                    })
            })
        })
        .collect();
    for t in threads {
        let outcome = t.join().expect("the run passed");
        assert!(matches!(outcome, Outcome::Passed | Outcome::Skipped));
    }
}

/// With a server that does not answer, a test on it is skipped (and says
/// so) unless `DAL_TEST_REQUIRE_SERVERS=1`, which makes it fail. Runs
/// `server_probe` in child processes pointed at a closed port.
#[test]
fn unreachable_servers() {
    let exe = std::env::current_exe().unwrap();
    for (test, var, url) in [
        (
            "server_probe::postgres",
            "DAL_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:1/postgres",
        ),
        (
            "server_probe::mysql",
            "DAL_TEST_MYSQL_URL",
            "mysql://root:secret@127.0.0.1:1/test",
        ),
    ] {
        let run = |require: bool| {
            let mut c = std::process::Command::new(&exe);
            c.args(["--exact", test, "--nocapture", "--test-threads", "1"])
                .env(var, url)
                .env_remove("DAL_TEST_REQUIRE_SERVERS");
            if require {
                c.env("DAL_TEST_REQUIRE_SERVERS", "1");
            }
            let out = c.output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            (out.status.success(), text)
        };
        let (ok, text) = run(false);
        assert!(ok, "{text}");
        assert!(
            text.contains("SKIPPED: `server_probe::") && text.contains("did not answer"),
            "{text}"
        );
        assert!(text.contains("1 passed"), "{text}");
        let (ok, text) = run(true);
        assert!(!ok, "{text}");
        assert!(text.contains("DAL_TEST_REQUIRE_SERVERS=1"), "{text}");
        // the password never shows
        assert!(!text.contains("secret"), "{text}");
    }
}
