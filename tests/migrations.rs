//! The migration runner (`dal::migrate`) against real databases: SQLite always,
//! PostgreSQL and MariaDB through `#[dal::test]`, each scenario on a database
//! of its own (skipped with a message when a server does not answer, failing
//! when `DAL_TEST_REQUIRE_SERVERS=1`).
//!
//! Every scenario asserts the database's state (tables, tracking rows), not
//! just what the runner reports. `concurrent_runners` starts eight runner
//! processes: it re-executes this test binary with `DAL_MIGRATE_CHILD=<url>`,
//! which turns the same test function into one runner.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dal::migrate::{Fresh, Migration, Migrator, Module, Progress, State};
use dal::schema::TableBuilder;
use dal::schema::ddl::DdlStatement;
use dal::schema::script::Script;
use dal::testing::TestDatabase;
use dal::{Db, Dialect, Error, Table};

/// The environment variable that makes `concurrent_runners` act as one runner.
const CHILD: &str = "DAL_MIGRATE_CHILD";
/// The prefix of the lines a runner child prints for each migration it applied.
const APPLIED: &str = "DAL_MIGRATE_APPLIED ";
/// The prefix of the line a runner child prints with how long its run took.
const ELAPSED: &str = "DAL_MIGRATE_ELAPSED_MS ";
const RUNNERS: usize = 8;

fn create(table: &str, f: impl FnOnce(&mut TableBuilder)) -> Script {
    let mut s = Script::new();
    s.create_table(Table::build(table, f));
    s
}

fn drop(table: &str) -> Script {
    Script::from(vec![DdlStatement::DropTable {
        name: table.into(),
        if_exists: false,
    }])
}

fn sql(statements: &[&str]) -> Script {
    let mut s = Script::new();
    for st in statements {
        s.sql(*st);
    }
    s
}

/// `CREATE TABLE table (id, label)` with a `DROP TABLE` down script.
fn table_migration(name: &str, table: &str) -> Migration {
    Migration::new(
        name,
        create(table, |t| {
            t.id();
            t.string("label", 100).nullable();
        }),
    )
    .down(drop(table))
}

/// A statement that keeps the server busy for `secs` seconds (`pg_sleep`,
/// `SLEEP`). SQLite has no sleep function (and dal offers no user-defined
/// functions): `None`; the tests that need a SQLite run to hold its lock for a
/// while hold it in the run's progress callback instead ([`hold_run`]), which
/// runs inside the run, lock held, on the thread that runs SQLite's statements.
fn slow_statement(dialect: Dialect, secs: f64) -> Option<String> {
    match dialect {
        Dialect::Postgres => Some(format!("SELECT pg_sleep({secs})")),
        Dialect::MySql => Some(format!("DO SLEEP({secs})")),
        Dialect::Sqlite => None,
    }
}

/// `statements`, with the slow statement of `dialect` (if it has one) before them.
fn sql_after_sleep(dialect: Dialect, secs: f64, statements: &[&str]) -> Script {
    let mut s = Script::new();
    if let Some(slow) = slow_statement(dialect, secs) {
        s.sql(slow);
    }
    for st in statements {
        s.sql(*st);
    }
    s
}

/// Make `m`'s runs stop, holding the migration lock, for `hold` as migration
/// `name` starts: a real sleep of the thread driving the run (used on SQLite,
/// where no statement can sleep).
fn hold_run(m: Migrator, name: &'static str, hold: Duration) -> Migrator {
    m.on_progress(move |p| {
        if matches!(p, Progress::Starting { name: n, .. } if *n == name) {
            // block_in_place: the runtime moves this worker's other tasks
            // elsewhere while the run sleeps
            tokio::task::block_in_place(|| std::thread::sleep(hold));
        }
    })
}

/// (module, name, order_index, checksum, duration_ms, applied_seq), oldest first.
type TrackingRow = (String, String, i64, String, i64, i64);

async fn tracking(db: &Db) -> Vec<TrackingRow> {
    db.fetch_all_as(
        "SELECT [module], [name], [order_index], [checksum], [duration_ms], [applied_seq] \
         FROM [dal_migrations] ORDER BY [applied_seq]",
        (),
    )
    .await
    .expect("read the tracking table")
}

async fn tracked(db: &Db) -> Vec<String> {
    tracking(db)
        .await
        .into_iter()
        .map(|r| format!("{}/{}", r.0, r.1))
        .collect()
}

async fn exists(db: &Db, table: &str) -> bool {
    db.table_exists(table).await.expect("table_exists")
}

fn names(applied: &[dal::migrate::Applied]) -> Vec<String> {
    applied
        .iter()
        .map(|a| format!("{}/{}", a.module, a.name))
        .collect()
}

async fn states(m: &Migrator, db: &Db) -> Vec<(String, State)> {
    m.status(db)
        .await
        .expect("status")
        .into_iter()
        .map(|s| (format!("{}/{}", s.module, s.name), s.state))
        .collect()
}

fn st(name: &str, state: State) -> (String, State) {
    (name.to_string(), state)
}

/// Representative migrations whose checksums are pinned in [`GOLDEN`]: a
/// builder-made table with every kind of generated name (unique, index,
/// foreign key, enumeration and expression checks, timestamps, soft deletes),
/// additions and a rename on an existing table, raw portable SQL, and a
/// `schema!`-made table.
fn golden_module() -> Module {
    let mut create = Script::new();
    create.create_table(Table::build("g_teams", |t| {
        t.id();
        t.string("name", 100).unique();
    }));
    create.create_table(Table::build("g_accounts", |t| {
        t.id();
        t.string("email", 150).unique();
        t.integer("score").default(0).index();
        t.boolean("active").default(true);
        t.decimal("balance", 12, 2).nullable();
        t.enumeration("role", ["admin", "user"]).default("user");
        t.json("prefs").nullable();
        t.foreign_id("team_id")
            .references("g_teams")
            .cascade_on_delete()
            .nullable();
        t.check("[score] >= 0");
        t.timestamps();
        t.soft_deletes();
    }));
    let mut alter = Script::new();
    alter.add_to_table("g_accounts", |t| {
        t.string("nick", 40).nullable().index();
        t.big_integer("visits").default(0);
    });
    alter.rename_column("g_accounts", "prefs", "settings");
    let raw = sql(&[
        "CREATE INDEX [g_accounts_email_active] ON [g_accounts] ([email], [active])",
        "UPDATE [g_accounts] SET [visits] = 1 WHERE [visits] = 0 AND [email] <> 'it''s'",
    ]);
    let tags = dal::schema! {
        create g_tags {
            id();
            string(label, 50).unique();
            foreign_id(account_id).references(g_accounts).on_delete(cascade).external();
            timestamps();
        }
    };
    Module::new("golden")
        .migration(Migration::new("0001_create", create))
        .migration(Migration::new("0002_alter", alter))
        .migration(Migration::new("0003_raw", raw))
        .migration(Migration::new("0004_macro", tags))
}

/// The checksums of [`golden_module`]'s migrations: (name, PostgreSQL, MySQL,
/// SQLite). Deployed databases store these in their tracking tables.
///
/// NEVER CHANGE THESE VALUES without a migration plan: a change to the DDL
/// dal generates, to how statements are joined, or to the hash changes the
/// checksum of migrations every deployed database has applied, and every one of
/// them then stops at its next run with `Error::MigrationDrift`.
const GOLDEN: [(&str, &str, &str, &str); 4] = [
    (
        "0001_create",
        "caa1e9195b5a7e4bcbf354013aa21dfcd40a5100826f9f1be4838217e7db43d1",
        "1daf49570336856c13b73e67eeaf63216d0d10119d2b73668beb809434cb9e3d",
        "bb6b8e5faf56ff98af901eb4353f8fe292d4c8aa1a7f326ffecc77c5bbf787c2",
    ),
    (
        "0002_alter",
        "3b3a30ec36e9ffd6696d4b0aa9c3c381db84fb7b7113278d459cc5b219c5792c",
        "8d97751656bc764a21cf5f75aa81c821bdfcb333604efba2608e3c11d29d68f7",
        "3b3a30ec36e9ffd6696d4b0aa9c3c381db84fb7b7113278d459cc5b219c5792c",
    ),
    (
        "0003_raw",
        "e2c2e64e0128779b12c518e0a5e7344477d6037bac7f499ef0e6333aa7b4f35d",
        "baf80eebd3630a00cef4bd616d4c73d5008f6d659305bbc3a1518aa1501aa509",
        "e2c2e64e0128779b12c518e0a5e7344477d6037bac7f499ef0e6333aa7b4f35d",
    ),
    (
        "0004_macro",
        "e84dee4b559b6b60ee843bf2b1150864fdd45b3caddb5a62c0d41f9d1ea0c614",
        "1c546c354b2a7e971f72e995208073feb1ba18f026630dfd39a16bd1d50e4260",
        "9f494e30240b92f3302e250f3f979ba67263d72b7719b58f0cdaa8e10d45e3e1",
    ),
];

fn golden_checksum(dialect: Dialect, name: &str) -> &'static str {
    let (_, pg, my, lite) = GOLDEN
        .iter()
        .find(|g| g.0 == name)
        .unwrap_or_else(|| panic!("no golden checksum for {name}"));
    match dialect {
        Dialect::Postgres => pg,
        Dialect::MySql => my,
        Dialect::Sqlite => lite,
    }
}

#[test]
fn checksums_are_pinned() {
    let module = golden_module();
    assert_eq!(module.migrations().len(), GOLDEN.len());
    for m in module.migrations() {
        for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
            assert_eq!(
                m.checksum(d).unwrap(),
                golden_checksum(d, m.name()),
                "{} on {d}",
                m.name()
            );
        }
    }
}

pub mod scenarios {
    use super::*;

    /// up_to / up / status / rollback round trips, across two modules.
    pub async fn round_trip(db: &TestDatabase) {
        let d = db.dialect();
        let users = table_migration("0001_users", "users");
        let teams = table_migration("0002_teams", "teams");
        let posts = table_migration("0001_posts", "posts");
        let v1 = Migrator::new()
            .module(
                Module::new("core")
                    .migration(users.clone())
                    .migration(teams.clone()),
            )
            .module(Module::new("blog").migration(posts.clone()));

        // status reads only: everything pending, no tracking table created
        assert_eq!(
            states(&v1, db).await,
            [
                st("core/0001_users", State::Pending),
                st("core/0002_teams", State::Pending),
                st("blog/0001_posts", State::Pending),
            ]
        );
        assert!(!exists(db, "dal_migrations").await);

        // up_to by module/name, then by a unique name
        let r = v1.up_to(db, "core/0001_users").await.expect("up_to");
        assert_eq!(names(&r.applied), ["core/0001_users"]);
        assert!(r.rolled_back.is_empty());
        assert!(exists(db, "users").await && !exists(db, "teams").await);
        assert_eq!(tracked(db).await, ["core/0001_users"]);
        let r = v1.up_to(db, "0002_teams").await.expect("up_to name");
        assert_eq!(names(&r.applied), ["core/0002_teams"]);
        assert!(!exists(db, "posts").await);

        // unknown and ambiguous targets are refused
        let e = v1.up_to(db, "core/nope").await.unwrap_err();
        assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        let dup = Migrator::new()
            .module(Module::new("a").migration(table_migration("same", "x1")))
            .module(Module::new("b").migration(table_migration("same", "x2")));
        let e = dup.up_to(db, "same").await.unwrap_err();
        assert!(e.to_string().contains("a, b"), "{e}");
        assert!(!exists(db, "x1").await);

        // up applies the rest; a second up applies nothing
        let r = v1.up(db).await.expect("up");
        assert_eq!(names(&r.applied), ["blog/0001_posts"]);
        assert!(exists(db, "posts").await);
        assert!(v1.up(db).await.expect("up again").is_empty());

        // the tracking rows
        let rows = tracking(db).await;
        let expected = [
            ("core", "0001_users", 0, &users),
            ("core", "0002_teams", 1, &teams),
            ("blog", "0001_posts", 0, &posts),
        ];
        assert_eq!(rows.len(), 3);
        for (i, (row, (module, name, order, m))) in rows.iter().zip(expected).enumerate() {
            assert_eq!(
                (row.0.as_str(), row.1.as_str(), row.2),
                (module, name, order)
            );
            assert_eq!(row.3, m.checksum(d).unwrap());
            assert!(row.4 >= 0);
            assert_eq!(row.5, i as i64 + 1, "applied_seq");
        }
        let status = v1.status(db).await.unwrap();
        assert!(status.iter().all(|s| s.state == State::Applied));
        let s0 = &status[0];
        assert_eq!(
            s0.checksum.as_deref(),
            Some(users.checksum(d).unwrap().as_str())
        );
        let age = chrono::Utc::now() - s0.applied_at.expect("applied_at");
        assert!(
            age.num_seconds().abs() < 120,
            "applied_at {:?}",
            s0.applied_at
        );
        assert!(s0.duration.is_some());

        // a later migration of the first module is applied last...
        let events = Arc::new(Mutex::new(Vec::new()));
        let log = events.clone();
        let v2 = Migrator::new()
            .module(
                Module::new("core")
                    .migration(users.clone())
                    .migration(teams.clone())
                    .migration(table_migration("0003_tags", "tags")),
            )
            .module(Module::new("blog").migration(posts.clone()))
            .on_progress(move |p| {
                log.lock().unwrap().push(match p {
                    Progress::Starting {
                        module,
                        name,
                        index,
                        total,
                        direction,
                    } => format!("start {direction} {module}/{name} {index}/{total}"),
                    Progress::Finished {
                        module,
                        name,
                        direction,
                        ..
                    } => format!("done {direction} {module}/{name}"),
                })
            });
        let r = v2.up(db).await.unwrap();
        assert_eq!(names(&r.applied), ["core/0003_tags"]);

        // ...so rollback(2) undoes it, then blog's: applied order, newest first
        let r = v2.rollback(db, 2).await.expect("rollback");
        assert_eq!(names(&r.rolled_back), ["core/0003_tags", "blog/0001_posts"]);
        assert!(r.applied.is_empty());
        assert!(!exists(db, "tags").await && !exists(db, "posts").await);
        assert!(exists(db, "users").await && exists(db, "teams").await);
        assert_eq!(tracked(db).await, ["core/0001_users", "core/0002_teams"]);
        assert_eq!(
            states(&v2, db).await,
            [
                st("core/0001_users", State::Applied),
                st("core/0002_teams", State::Applied),
                st("core/0003_tags", State::Pending),
                st("blog/0001_posts", State::Pending),
            ]
        );
        assert_eq!(
            *events.lock().unwrap(),
            [
                "start up core/0003_tags 0/1",
                "done up core/0003_tags",
                "start down core/0003_tags 0/2",
                "done down core/0003_tags",
                "start down blog/0001_posts 1/2",
                "done down blog/0001_posts",
            ]
        );

        // re-applied in registration order
        let r = v2.up(db).await.unwrap();
        assert_eq!(names(&r.applied), ["core/0003_tags", "blog/0001_posts"]);

        // an irreversible migration: rollback refused, nothing changed
        let seed = Migration::new(
            "0004_seed",
            sql(&["INSERT INTO [users] ([label]) VALUES ('root')"]),
        );
        assert!(!seed.is_reversible());
        let v3 = Migrator::new()
            .module(
                Module::new("core")
                    .migration(users.clone())
                    .migration(teams.clone())
                    .migration(table_migration("0003_tags", "tags"))
                    .migration(seed),
            )
            .module(Module::new("blog").migration(posts.clone()));
        v3.up(db).await.unwrap();
        let before = tracking(db).await;
        assert_eq!(before.len(), 5);
        for n in [1, 3] {
            let e = v3.rollback(db, n).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
            let msg = e.to_string();
            assert!(
                msg.contains("core/0004_seed") && msg.contains("irreversible"),
                "{msg}"
            );
        }
        assert_eq!(tracking(db).await, before);
        assert!(exists(db, "posts").await && exists(db, "tags").await);
        let n: i64 = db
            .fetch_scalar("SELECT COUNT(*) FROM [users]", ())
            .await
            .unwrap();
        assert_eq!(n, 1);

        // migrations applied but no longer registered are Missing; up still runs
        assert_eq!(
            states(&v1, db).await,
            [
                st("core/0001_users", State::Applied),
                st("core/0002_teams", State::Applied),
                st("blog/0001_posts", State::Applied),
                st("core/0003_tags", State::Missing),
                st("core/0004_seed", State::Missing),
            ]
        );
        assert!(v1.up(db).await.unwrap().is_empty());
        // rolling back a missing one is refused
        let e = v1.rollback(db, 1).await.unwrap_err();
        assert!(e.to_string().contains("no longer registered"), "{e}");
        assert_eq!(tracking(db).await, before);
        assert!(v1.rollback(db, 0).await.unwrap().is_empty());
    }

    /// A changed up script: status says Drifted, runs stop before applying anything.
    pub async fn drift(db: &TestDatabase) {
        let v1 = Migrator::new().module(
            Module::new("core").migration(
                Migration::new(
                    "0001_users",
                    create("users", |t| {
                        t.id();
                        t.string("email", 100);
                    }),
                )
                .down(drop("users")),
            ),
        );
        v1.up(db).await.unwrap();

        // the same table with the builder calls laid out differently: no drift
        let same = Migrator::new().module(Module::new("core").migration(Migration::new(
            "0001_users",
            create("users", |t| {
                t.id();
                t.string("email", 100);
            }),
        )));
        assert_eq!(
            states(&same, db).await,
            [st("core/0001_users", State::Applied)]
        );

        // a longer column, and a new migration after it
        let v2 = Migrator::new().module(
            Module::new("core")
                .migration(
                    Migration::new(
                        "0001_users",
                        create("users", |t| {
                            t.id();
                            t.string("email", 200);
                        }),
                    )
                    .down(drop("users")),
                )
                .migration(table_migration("0002_teams", "teams")),
        );
        let status = v2.status(db).await.unwrap();
        assert_eq!(status[0].state, State::Drifted);
        assert_eq!(status[1].state, State::Pending);
        assert_eq!(
            status[0].checksum.as_deref(),
            Some(
                v1.migrations()
                    .next()
                    .unwrap()
                    .1
                    .checksum(db.dialect())
                    .unwrap()
                    .as_str()
            )
        );

        for e in [
            v2.up(db).await.unwrap_err(),
            v2.up_to(db, "core/0002_teams").await.unwrap_err(),
            v2.rollback(db, 1).await.unwrap_err(),
        ] {
            match &e {
                Error::MigrationDrift {
                    module,
                    name,
                    applied,
                    current,
                } => {
                    assert_eq!((module.as_str(), name.as_str()), ("core", "0001_users"));
                    assert_ne!(applied, current);
                }
                other => panic!("expected drift, got {other}"),
            }
            assert!(e.to_string().contains("core/0001_users"), "{e}");
        }
        assert!(!exists(db, "teams").await);
        assert!(exists(db, "users").await);
        assert_eq!(tracked(db).await, ["core/0001_users"]);
    }

    /// A migration whose second statement fails leaves the tracking table truthful.
    pub async fn failing_migration(db: &TestDatabase) {
        let d = db.dialect();
        let mysql = d == Dialect::MySql;
        let broken = Migration::new("0002_broken", {
            let mut s = create("widgets", |t| {
                t.id();
            });
            s.sql("THIS IS NOT SQL");
            s.create_table(Table::build("gadgets", |t| {
                t.id();
            }));
            s
        });
        let v1 = Migrator::new().module(
            Module::new("core")
                .migration(table_migration("0001_users", "users"))
                .migration(broken),
        );
        // both pending: the first is applied, the second fails
        let e = v1.up(db).await.unwrap_err();
        let Error::Migration {
            module,
            name,
            message,
            applied,
        } = &e
        else {
            panic!("expected Error::Migration, got {e}");
        };
        assert_eq!((module.as_str(), name.as_str()), ("core", "0002_broken"));
        assert!(
            message.contains("statement 2 of 3 (step 2) failed"),
            "{message}"
        );
        assert!(message.contains("THIS IS NOT SQL"), "{message}");
        assert!(message.contains("core/0001_users"), "{message}");
        let widgets_sql = dal::schema::ddl::create_table(
            &Table::build("widgets", |t| {
                t.id();
            }),
            d,
        )
        .unwrap();
        if mysql {
            // DDL committed implicitly: reported exactly
            assert_eq!(applied, &widgets_sql);
            assert!(message.contains(&widgets_sql[0]), "{message}");
            assert!(exists(db, "widgets").await);
        } else {
            assert!(applied.is_empty());
            assert!(
                message.contains("nothing of this migration was applied"),
                "{message}"
            );
            assert!(!exists(db, "widgets").await);
        }
        assert!(!exists(db, "gadgets").await);
        assert!(exists(db, "users").await);
        assert_eq!(tracked(db).await, ["core/0001_users"]);
        assert_eq!(
            states(&v1, db).await,
            [
                st("core/0001_users", State::Applied),
                st("core/0002_broken", State::Pending),
            ]
        );

        // fixed (idempotent where MariaDB kept the first table), then applied
        let fixed = Migration::new(
            "0002_broken",
            Script::from(vec![
                DdlStatement::CreateTable {
                    table: Table::build("widgets", |t| {
                        t.id();
                    }),
                    if_not_exists: true,
                },
                DdlStatement::CreateTable {
                    table: Table::build("gadgets", |t| {
                        t.id();
                    }),
                    if_not_exists: false,
                },
            ]),
        );
        let v2 = Migrator::new().module(
            Module::new("core")
                .migration(table_migration("0001_users", "users"))
                .migration(fixed),
        );
        let r = v2.up(db).await.expect("the fixed migration applies");
        assert_eq!(names(&r.applied), ["core/0002_broken"]);
        assert!(exists(db, "widgets").await && exists(db, "gadgets").await);
        assert_eq!(tracked(db).await, ["core/0001_users", "core/0002_broken"]);

        // a failing down script: the migration stays applied
        let bad_down = Migrator::new().module(
            Module::new("core")
                .migration(table_migration("0001_users", "users"))
                .migration(v2.migrations().nth(1).unwrap().1.clone().down({
                    let mut s = drop("gadgets");
                    s.sql("THIS IS NOT SQL EITHER");
                    s
                })),
        );
        let e = bad_down.rollback(db, 1).await.unwrap_err();
        assert!(matches!(e, Error::Migration { .. }), "{e}");
        assert_eq!(tracked(db).await, ["core/0001_users", "core/0002_broken"]);
        // transactional DDL undid the DROP; MariaDB's is committed (and reported)
        assert_eq!(exists(db, "gadgets").await, !mysql);
        if mysql {
            assert!(e.to_string().contains("DROP TABLE `gadgets`"), "{e}");
        }
    }

    /// fresh: refused without confirmation; with it, everything dropped and re-applied.
    pub async fn fresh(db: &TestDatabase) {
        let m = Migrator::new()
            .module(Module::new("core").migration(table_migration("0001_users", "users")))
            .module(
                Module::new("blog").migration(
                    Migration::new(
                        "0001_posts",
                        create("posts", |t| {
                            t.id();
                            t.foreign_id("user_id").references("users");
                        }),
                    )
                    .down(drop("posts")),
                ),
            );
        m.up(db).await.unwrap();
        db.execute("INSERT INTO [users] ([label]) VALUES ('a')", ())
            .await
            .unwrap();
        db.execute("INSERT INTO [posts] ([user_id]) VALUES (1)", ())
            .await
            .unwrap();
        db.execute_script(&format!(
            "CREATE TABLE {} (x INTEGER)",
            db.dialect().quote_identifier("scratch")
        ))
        .await
        .unwrap();

        for refuse in [Fresh::Refuse, Fresh::default()] {
            let e = m.fresh(db, refuse).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
            assert!(e.to_string().contains("Fresh::Confirmed"), "{e}");
        }
        assert!(exists(db, "scratch").await);
        let n: i64 = db
            .fetch_scalar("SELECT COUNT(*) FROM [posts]", ())
            .await
            .unwrap();
        assert_eq!(n, 1);

        let r = m.fresh(db, Fresh::Confirmed).await.expect("fresh");
        assert_eq!(names(&r.applied), ["core/0001_users", "blog/0001_posts"]);
        assert!(!exists(db, "scratch").await);
        for table in ["users", "posts"] {
            let n: i64 = db
                .fetch_scalar(&format!("SELECT COUNT(*) FROM [{table}]"), ())
                .await
                .unwrap();
            assert_eq!(n, 0, "{table} is re-created empty");
        }
        assert_eq!(tracked(db).await, ["core/0001_users", "blog/0001_posts"]);
        assert_eq!(tracking(db).await[0].5, 1, "applied_seq restarts");
        // foreign keys still enforced afterwards
        let e = db
            .execute("INSERT INTO [posts] ([user_id]) VALUES (42)", ())
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::ConstraintViolation {
                    kind: dal::ConstraintKind::ForeignKey,
                    ..
                }
            ),
            "{e}"
        );
    }

    /// A run waiting longer than its lock timeout fails with MigrationLocked,
    /// and proceeds once the lock is released. The first run holds the lock
    /// exactly as long as the test wants: its progress callback (which runs
    /// inside the run, lock held) blocks until the test releases it.
    pub async fn lock_timeout(db: &TestDatabase) {
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let started_tx = Mutex::new(Some(started_tx));
        let release_rx = Mutex::new(release_rx);
        let holder = Migrator::new()
            .module(Module::new("core").migration(table_migration("0001_slow", "slowpoke")))
            .on_progress(move |p| {
                if matches!(p, Progress::Starting { .. }) {
                    if let Some(started) = started_tx.lock().unwrap().take() {
                        started.send(()).unwrap();
                    }
                    // block_in_place: the runtime moves this worker's other
                    // tasks elsewhere while the run waits
                    tokio::task::block_in_place(|| {
                        release_rx
                            .lock()
                            .unwrap()
                            .recv_timeout(Duration::from_secs(60))
                            .expect("the test releases the first run")
                    });
                }
            });
        let db2 = db.db().clone();
        let first = tokio::spawn(async move { holder.up(&db2).await });
        started_rx
            .await
            .expect("the first run started its migration");
        let impatient = Migrator::new()
            .module(Module::new("core").migration(table_migration("0002_other", "other")))
            .lock_timeout(Duration::from_millis(200));
        let started = Instant::now();
        let e = impatient.up(db).await.unwrap_err();
        match &e {
            Error::MigrationLocked { waited, .. } => {
                assert!(*waited >= Duration::from_millis(200), "{e}")
            }
            other => panic!("expected MigrationLocked, got {other}"),
        }
        // a generous bound derived from the lock timeout (MySQL rounds it up to 1 s)
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(!exists(db, "other").await);
        release_tx.send(()).unwrap();
        let r = first.await.unwrap().expect("the first run");
        assert_eq!(names(&r.applied), ["core/0001_slow"]);
        // the lock was released: a later run proceeds
        let later = Migrator::new()
            .module(Module::new("core").migration(table_migration("0002_other", "other")));
        later.up(db).await.expect("after the lock is released");
        assert!(exists(db, "other").await);
    }

    /// A run abandoned halfway (its future dropped) leaves nothing of the
    /// migration it was in and releases the lock.
    pub async fn abandoned_run(db: &TestDatabase) {
        let d = db.dialect();
        let m = Migrator::new()
            .module(
                Module::new("core")
                    .migration(table_migration("0001_users", "users"))
                    .migration(Migration::new("0002_slow", {
                        let mut s = sql(&["CREATE TABLE [first] ([id] INTEGER)"]);
                        // (SQLite: abandoned before this step, see below)
                        s.extend(sql_after_sleep(
                            d,
                            1.5,
                            &["CREATE TABLE [second] ([id] INTEGER)"],
                        ));
                        s
                    })),
            )
            .lock_timeout(Duration::from_secs(30));
        m.up_to(db, "core/0001_users").await.unwrap();
        if d == Dialect::Sqlite {
            // SQLite statements run on the caller's thread: a run never waits
            // once it holds the lock, so abandon it by unwinding (a panicking
            // progress callback) as the migration starts
            let m = m.clone().on_progress(|p| {
                if matches!(p, Progress::Starting { .. }) {
                    panic!("abandon the run");
                }
            });
            let db2 = db.db().clone();
            let e = tokio::spawn(async move { m.up(&db2).await })
                .await
                .unwrap_err();
            assert!(e.is_panic());
        } else {
            let r = tokio::time::timeout(Duration::from_millis(500), m.up(db)).await;
            assert!(r.is_err(), "the run should still be in its slow step");
        }
        if d == Dialect::MySql {
            // the CREATE TABLE before the slow step committed implicitly
            db.execute_script("DROP TABLE IF EXISTS `first`")
                .await
                .unwrap();
        } else {
            assert!(!exists(db, "first").await);
        }
        assert_eq!(tracked(db).await, ["core/0001_users"]);
        // the lock is free again (at the latest when the server ends the
        // abandoned session's statement): the next run applies the migration
        let r = m.up(db).await.expect("a run after the abandoned one");
        assert_eq!(names(&r.applied), ["core/0002_slow"]);
        assert!(exists(db, "first").await && exists(db, "second").await);
        assert_eq!(tracked(db).await, ["core/0001_users", "core/0002_slow"]);
    }

    /// The migrations eight concurrent runners apply: each would fail if applied twice.
    pub fn concurrent_migrator(d: Dialect) -> Migrator {
        Migrator::new()
            .module(
                Module::new("core")
                    .migration(table_migration("0001_accounts", "accounts"))
                    .migration(Migration::new(
                        "0002_ledger",
                        sql_after_sleep(
                            d,
                            1.0,
                            &["CREATE TABLE [ledger] ([id] INTEGER PRIMARY KEY, [amount] INTEGER)"],
                        ),
                    )),
            )
            .module(Module::new("extra").migration(table_migration("0001_tags", "tags")))
            .lock_timeout(Duration::from_secs(120))
    }

    /// In a child process: run `up` once against `url` and print what was applied.
    pub async fn runner_child(url: &str) {
        let db = Db::connect_url(url).await.expect("child connects");
        let started = Instant::now();
        let mut m = concurrent_migrator(db.dialect());
        if db.dialect() == Dialect::Sqlite {
            // no sleep statement: the run holds SQLite's lock as long instead
            m = hold_run(m, "0002_ledger", Duration::from_secs(1));
        }
        let report = m.up(&db).await.expect("child up");
        for a in &report.applied {
            println!("{APPLIED}{}/{}", a.module, a.name);
        }
        println!("{ELAPSED}{}", started.elapsed().as_millis());
        db.close();
    }

    /// Eight runner processes at once against one database.
    pub async fn concurrent_runners(db: &TestDatabase, test_name: &str) {
        let exe = std::env::current_exe().expect("current_exe");
        let children: Vec<std::process::Child> = (0..RUNNERS)
            .map(|_| {
                std::process::Command::new(&exe)
                    .args(["--exact", test_name, "--nocapture", "--test-threads", "1"])
                    .env(CHILD, db.url())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("spawn a runner child")
            })
            .collect();
        let outputs = tokio::task::spawn_blocking(move || {
            children
                .into_iter()
                .map(|c| c.wait_with_output().expect("wait for a child"))
                .collect::<Vec<_>>()
        })
        .await
        .unwrap();

        let mut applied: Vec<String> = Vec::new();
        let mut elapsed: Vec<u64> = Vec::new();
        for (i, out) in outputs.iter().enumerate() {
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                out.status.success(),
                "runner {i} failed ({}):\n{stdout}\n{stderr}",
                out.status
            );
            assert!(
                stdout.contains("1 passed"),
                "runner {i} did not run the test:\n{stdout}"
            );
            // libtest prints `test name ... ` before the test's own output: a
            // marker may start in the middle of a line
            for line in stdout.lines() {
                if let Some((_, name)) = line.split_once(APPLIED) {
                    applied.push(name.trim().to_string());
                }
                if let Some((_, ms)) = line.split_once(ELAPSED) {
                    elapsed.push(ms.trim().parse().unwrap());
                }
            }
        }
        assert_eq!(elapsed.len(), RUNNERS, "every runner reported");
        eprintln!("{test_name}: runner run times (ms): {elapsed:?}");
        applied.sort();
        assert_eq!(
            applied,
            ["core/0001_accounts", "core/0002_ledger", "extra/0001_tags"],
            "each migration applied by exactly one runner"
        );
        let mut rows = tracked(db).await;
        rows.sort();
        assert_eq!(rows, applied);
        for table in ["accounts", "ledger", "tags"] {
            assert!(exists(db, table).await, "{table}");
        }
        // the runs overlapped: besides the one that applied the slow step,
        // at least one other runner waited for the lock
        let waited = elapsed.iter().filter(|&&ms| ms >= 300).count();
        assert!(waited >= 2, "runs did not overlap: {elapsed:?}");
        let status = concurrent_migrator(db.dialect()).status(db).await.unwrap();
        assert!(status.iter().all(|s| s.state == State::Applied));
    }

    /// What deployed databases hold and runners agree on, on the real
    /// database: a session holding the migration lock under its pinned
    /// identity makes a run fail with MigrationLocked; the tracking table has
    /// its pinned columns and stores the pinned checksums ([`GOLDEN`]), which the
    /// servers' own SHA-256 recomputes from the SQL.
    pub async fn stored_identifiers(db: &TestDatabase) {
        let d = db.dialect();
        let m = Migrator::new().module(golden_module());

        // the lock: held by another session, named the way the runner names it
        // (PostgreSQL: the key computed by the server from its definition)
        let holder = Db::connect(
            dal::DatabaseConfig::builder(db.url())
                .max_connections(1)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
        let mut tx = holder.begin().await.unwrap();
        let lock = match d {
            Dialect::Postgres => {
                let key: i64 = tx
                    .fetch_scalar(
                        "SELECT CAST(CAST('x' || encode(substring(sha256(\
                         convert_to('dal::migrate', 'UTF8') || decode('00', 'hex') \
                         || convert_to(coalesce(current_schema(), ''), 'UTF8') || decode('00', 'hex') \
                         || convert_to(?, 'UTF8')) FROM 1 FOR 8), 'hex') AS bit(64)) AS BIGINT)",
                        ("dal_migrations",),
                    )
                    .await
                    .unwrap();
                // a transaction-level lock conflicts with the runner's session-level one
                tx.fetch_all("SELECT pg_advisory_xact_lock(?)", (key,))
                    .await
                    .unwrap();
                format!("pg_advisory_lock({key})")
            }
            Dialect::MySql => {
                let name: String = tx
                    .fetch_scalar(
                        "SELECT CONCAT('dal_migrate.', DATABASE(), '.dal_migrations')",
                        (),
                    )
                    .await
                    .unwrap();
                let got: i64 = tx
                    .fetch_scalar("SELECT GET_LOCK(?, 0)", (name.as_str(),))
                    .await
                    .unwrap();
                assert_eq!(got, 1);
                format!("GET_LOCK('{name}')")
            }
            Dialect::Sqlite => {
                // any write takes the database's write lock until the transaction ends
                tx.execute("CREATE TABLE [lock_probe] ([x] INTEGER)", ())
                    .await
                    .unwrap();
                "the SQLite database's write lock (BEGIN IMMEDIATE)".to_string()
            }
        };
        let blocked = m
            .clone()
            .lock_timeout(Duration::from_millis(300))
            .up(db)
            .await
            .unwrap_err();
        match &blocked {
            Error::MigrationLocked {
                lock: named,
                waited,
            } => {
                assert!(named.starts_with(&lock), "{named} (expected {lock})");
                assert!(*waited >= Duration::from_millis(300), "{blocked}");
            }
            other => panic!("expected MigrationLocked, got {other}"),
        }
        assert!(!exists(db, "g_teams").await);
        if d == Dialect::MySql {
            let released: i64 = tx
                .fetch_scalar(
                    "SELECT RELEASE_LOCK(CONCAT('dal_migrate.', DATABASE(), '.dal_migrations'))",
                    (),
                )
                .await
                .unwrap();
            assert_eq!(released, 1);
        }
        tx.rollback().await.unwrap();
        holder.close();

        // the checksums stored are the pinned ones
        let r = m.up(db).await.expect("the golden migrations apply");
        assert_eq!(r.applied.len(), GOLDEN.len());
        let rows = tracking(db).await;
        assert_eq!(rows.len(), GOLDEN.len());
        for row in &rows {
            assert_eq!(row.0, "golden");
            assert_eq!(row.3, golden_checksum(d, &row.1), "{} on {d}", row.1);
        }
        // and the server's SHA-256 of the script's fingerprint (its SQL, with
        // MySQL's default table options as before dal wrote the collation)
        // gives the same (the framing: statements joined by "\n", UTF-8,
        // lower-case hex)
        let sha = match d {
            Dialect::Postgres => Some("SELECT encode(sha256(convert_to(?, 'UTF8')), 'hex')"),
            Dialect::MySql => Some("SELECT SHA2(?, 256)"),
            Dialect::Sqlite => None,
        };
        if let Some(sha) = sha {
            for (_, mig) in m.migrations() {
                let joined = mig.up_script().fingerprint(d).unwrap().join("\n");
                let h: String = db.fetch_scalar(sha, (joined.as_str(),)).await.unwrap();
                assert_eq!(h, golden_checksum(d, mig.name()), "{}", mig.name());
            }
        }
        // the tracking table's layout
        let live = db
            .introspect_table("dal_migrations")
            .await
            .unwrap()
            .expect("the tracking table");
        let columns: Vec<&str> = live.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            columns,
            [
                "module",
                "name",
                "order_index",
                "applied_at",
                "checksum",
                "duration_ms",
                "applied_seq"
            ]
        );
        assert_eq!(live.primary_key, ["module", "name"]);
        // nothing is pending or drifted
        let status = m.status(db).await.unwrap();
        assert!(
            status.iter().all(|s| s.state == State::Applied),
            "{status:?}"
        );
    }

    /// Registry checks happen before anything touches the database.
    pub async fn invalid_registry(db: &TestDatabase) {
        let cases = [
            Migrator::new()
                .module(Module::new("core"))
                .module(Module::new("core")),
            Migrator::new().module(
                Module::new("core")
                    .migration(table_migration("a", "t1"))
                    .migration(table_migration("a", "t2")),
            ),
            Migrator::new().module(Module::new("a/b").migration(table_migration("x", "t3"))),
            Migrator::new()
                .module(Module::new("core").migration(table_migration("x", "t4")))
                .table_name("bad name"),
        ];
        for m in cases {
            let e = m.up(db).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
            let e = m.status(db).await.unwrap_err();
            assert!(matches!(e, Error::InvalidInput { .. }), "{e}");
        }
        assert!(db.table_names().await.unwrap().is_empty());

        // a custom tracking table
        let m = Migrator::new()
            .module(Module::new("core").migration(table_migration("x", "t5")))
            .table_name("schema_history");
        m.up(db).await.unwrap();
        assert!(exists(db, "schema_history").await && !exists(db, "dal_migrations").await);
        assert_eq!(states(&m, db).await, [st("core/x", State::Applied)]);
    }
}

// Each scenario on every backend: `round_trip::sqlite`, `round_trip::postgres`,
// `round_trip::mysql`, ...

#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn round_trip(t: TestDatabase) {
    scenarios::round_trip(&t).await;
}

#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn drift(t: TestDatabase) {
    scenarios::drift(&t).await;
}

#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn failing_migration(t: TestDatabase) {
    scenarios::failing_migration(&t).await;
}

#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn fresh(t: TestDatabase) {
    scenarios::fresh(&t).await;
}

#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn lock_timeout(t: TestDatabase) {
    scenarios::lock_timeout(&t).await;
}

#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn abandoned_run(t: TestDatabase) {
    scenarios::abandoned_run(&t).await;
}

#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn stored_identifiers(t: TestDatabase) {
    scenarios::stored_identifiers(&t).await;
}

#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn invalid_registry(t: TestDatabase) {
    scenarios::invalid_registry(&t).await;
}

/// Run as a child (`DAL_MIGRATE_CHILD` set), the same test is one runner on
/// the parent's database; its own fresh database goes unused.
#[dal::test(backends(sqlite, postgres, mysql), worker_threads = 2)]
async fn concurrent_runners(t: TestDatabase) {
    if let Ok(url) = std::env::var(CHILD) {
        scenarios::runner_child(&url).await;
        return;
    }
    scenarios::concurrent_runners(&t, t.test_name()).await;
}

/// The runner works on a pool of one connection (SQLite in memory) and its
/// futures can be spawned.
#[tokio::test]
async fn in_memory_and_send() {
    let db = Db::connect_url("sqlite::memory:").await.unwrap();
    let m = Migrator::new().module(
        Module::new("core")
            .migration(table_migration("0001_users", "users"))
            .migration(table_migration("0002_teams", "teams")),
    );
    let (db2, m2) = (db.clone(), m.clone());
    let r = tokio::spawn(async move { m2.up(&db2).await })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.applied.len(), 2);
    assert_eq!(m.rollback(&db, 5).await.unwrap().rolled_back.len(), 2);
    let r = m.fresh(&db, Fresh::Confirmed).await.unwrap();
    assert_eq!(r.applied.len(), 2);
    assert_eq!(
        db.table_names().await.unwrap(),
        ["dal_migrations", "teams", "users"]
    );
}

/// SQLite table rebuilds run with foreign keys off and checked afterwards.
#[dal::test]
async fn sqlite_rebuild_checks_foreign_keys(db: Db) {
    let users = Table::build("users", |t| {
        t.id();
        t.string("name", 50);
    });
    let posts = Table::build("posts", |t| {
        t.id();
        t.foreign_id("user_id")
            .references("users")
            .cascade_on_delete();
    });
    let mut wider = users.clone();
    wider.column_mut("name").unwrap().ty = dal::ColumnType::String { length: 200 };
    let base = Module::new("core").migration(Migration::new("0001", {
        let mut s = Script::new();
        s.create_table(users.clone()).create_table(posts.clone());
        s.sql("INSERT INTO [users] ([name]) VALUES ('a')");
        s.sql("INSERT INTO [posts] ([user_id]) VALUES (1)");
        s
    }));
    let m = Migrator::new().module(base.clone().migration(Migration::new(
        "0002_rebuild",
        Script::from(vec![DdlStatement::RebuildTable {
            from: users.clone(),
            to: wider.clone(),
        }]),
    )));
    m.up(&db).await.expect("rebuild");
    // the rebuild did not cascade-delete the referencing row
    let n: i64 = db
        .fetch_scalar("SELECT COUNT(*) FROM [posts]", ())
        .await
        .unwrap();
    assert_eq!(n, 1);
    // foreign keys are enforced again on the pool's connections
    let e = db
        .execute("INSERT INTO [posts] ([user_id]) VALUES (9)", ())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ConstraintViolation { .. }), "{e}");

    // a migration that leaves a dangling reference is rolled back
    let m2 = Migrator::new().module(
        base.migration(Migration::new(
            "0002_rebuild",
            Script::from(vec![DdlStatement::RebuildTable {
                from: users.clone(),
                to: wider.clone(),
            }]),
        ))
        .migration(Migration::new("0003_dangling", {
            let mut s = Script::new();
            s.push(DdlStatement::RebuildTable {
                from: wider.clone(),
                to: wider,
            });
            s.sql("DELETE FROM [users]");
            s
        })),
    );
    let e = m2.up(&db).await.unwrap_err();
    assert!(e.to_string().contains("foreign keys broken"), "{e}");
    let n: i64 = db
        .fetch_scalar("SELECT COUNT(*) FROM [users]", ())
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(tracked(&db).await, ["core/0001", "core/0002_rebuild"]);
}

/// Each migration applied or rolled back is logged on target `dal::migrate`.
///
/// The subscriber is the process's global one (a thread-scoped one misses
/// events whose call sites other test threads registered first); lines are
/// told apart by the database name.
#[tokio::test]
async fn logs_each_migration() {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_env_filter("dal::migrate=info")
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");

    let config = dal::DatabaseConfig::builder("sqlite::memory:")
        .name("migrate_log_test")
        .build()
        .unwrap();
    let db = Db::connect(config).await.unwrap();
    let m = Migrator::new()
        .module(Module::new("core").migration(table_migration("0001_users", "users")));
    m.up(&db).await.unwrap();
    m.rollback(&db, 1).await.unwrap();
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("db=\"migrate_log_test\""))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains("INFO dal::migrate: migration applied"),
        "{text}"
    );
    assert!(
        lines[0].contains("module=\"core\" name=\"0001_users\" direction=up duration_ms="),
        "{text}"
    );
    assert!(
        lines[1].contains("migration rolled back") && lines[1].contains("direction=down"),
        "{text}"
    );
}
