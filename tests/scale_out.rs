//! Beyond one server, on real engines: PostgreSQL behind pgbouncer in
//! transaction mode, a multi-host URL over a primary and its streaming
//! replica, and read replicas on PostgreSQL and MariaDB.
//!
//! pgbouncer's URL is `DAL_TEST_PGBOUNCER_URL` (default
//! `postgres://postgres@127.0.0.1:6432/postgres`; `.ci/run` starts one in
//! transaction mode in front of the local PostgreSQL, with fewer server
//! connections than the tests' pools hold). Each test makes a database of
//! its own on the PostgreSQL server (`DAL_TEST_POSTGRES_URL`) and reaches it
//! through pgbouncer, which pools every database of that server. When
//! pgbouncer does not answer, the tests print why and pass, unless
//! `DAL_TEST_REQUIRE_SERVERS=1` (CI), which makes that a failure.
//!
//! The replica is `DAL_TEST_PG_REPLICA_URL` (default
//! `postgres://postgres@127.0.0.1:5433/postgres`): a hot standby streaming
//! from `DAL_TEST_POSTGRES_URL`, made by `.ci/run` with pg_basebackup. Its
//! tests skip or fail the same way.
//!
//! The MariaDB pair is `DAL_TEST_MY_PRIMARY_URL` and `DAL_TEST_MY_REPLICA_URL`
//! (defaults `mysql://root@127.0.0.1:3307/test` and `..:3308/test`): two
//! private `mariadbd` that `.ci/run` makes, the second a GTID replica of the
//! first applying each event a second late. Its tests skip or fail the same
//! way, and take turns (one of them stops the replication).

mod support;

use std::time::{Duration, Instant};

use dal::migrate::{Migration, Migrator, Module};
use dal::{DatabaseConfig, Db, Dialect, Entity, Error};

const DEFAULT_PGBOUNCER_URL: &str = "postgres://postgres@127.0.0.1:6432/postgres";

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "so_items", history)]
struct Item {
    #[dal(id)]
    id: i64,
    #[dal(length = 100)]
    name: String,
    qty: i32,
}

/// `url` with its password masked.
fn shown(url: &str) -> String {
    DatabaseConfig::from_url(url)
        .map(|c| c.redacted_url())
        .unwrap_or_else(|_| "<invalid url>".into())
}

/// A test's servers are missing: a failure under `DAL_TEST_REQUIRE_SERVERS=1`
/// (CI), otherwise a skip that says why.
fn skipped<T>(what: &str, needs: &str) -> Option<T> {
    if dal::testing::servers_required() {
        panic!("{what} is required (DAL_TEST_REQUIRE_SERVERS=1): the test needs {needs}");
    }
    eprintln!("SKIPPED: the test needs {needs}");
    None
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{database}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A database of its own on the PostgreSQL server, reached directly and
/// through pgbouncer; dropped when the test ends without panicking.
struct Pooled {
    /// The server, directly (the database made for the test).
    direct: Db,
    /// The server's maintenance database (to drop the test's database).
    admin: Db,
    name: String,
    direct_url: String,
    pgbouncer_url: String,
}

impl Pooled {
    /// `None` (after saying why) when pgbouncer or PostgreSQL does not
    /// answer and servers are not required.
    async fn new() -> Option<Pooled> {
        let server = dal::testing::server_url(Dialect::Postgres).expect("a server backend");
        let pgbouncer = std::env::var("DAL_TEST_PGBOUNCER_URL")
            .unwrap_or_else(|_| DEFAULT_PGBOUNCER_URL.to_string());
        let probe = async {
            let db = Db::connect(
                DatabaseConfig::builder(&pgbouncer)
                    .pgbouncer(true)
                    .connect_timeout(Duration::from_secs(3))
                    .build()?,
            )
            .await?;
            db.fetch_scalar::<i32, _>("SELECT 1", ()).await?;
            db.close();
            Ok::<(), Error>(())
        };
        if let Err(e) = probe.await {
            return skipped(
                "pgbouncer",
                &format!(
                    "pgbouncer at {}, which did not answer: {e}",
                    shown(&pgbouncer)
                ),
            );
        }
        let admin = Db::connect_url(&server)
            .await
            .expect("the PostgreSQL server");
        let name = format!(
            "dal_t_pgb_{}_{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        admin
            .execute_script(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create the test database");
        let direct_url = with_database(&server, &name);
        let direct = Db::connect_url(&direct_url)
            .await
            .expect("the test database");
        Some(Pooled {
            direct,
            admin,
            pgbouncer_url: with_database(&pgbouncer, &name),
            direct_url,
            name,
        })
    }

    /// The test database through pgbouncer, `pgbouncer` on.
    fn config(&self) -> dal::DatabaseConfigBuilder {
        DatabaseConfig::builder(&self.pgbouncer_url).pgbouncer(true)
    }

    /// Drop the test database (pgbouncer's server connections to it are
    /// ended with it).
    async fn drop_database(self) {
        self.direct.close();
        self.admin
            .execute_script(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .await
            .expect("drop the test database");
        self.admin.close();
    }
}

/// Statements of `marker` still running on the server (other than ours).
async fn running(direct: &Db, marker: &str) -> i64 {
    direct
        .fetch_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' \
             AND pid <> pg_backend_pid() AND position(? in query) > 0",
            (marker,),
        )
        .await
        .expect("read pg_stat_activity")
}

/// Wait up to 5 s for no statement of `marker` to run on the server.
async fn until_none_running(direct: &Db, marker: &str) -> i64 {
    let start = Instant::now();
    loop {
        let n = running(direct, marker).await;
        if n == 0 || start.elapsed() > Duration::from_secs(5) {
            return n;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Entities, history, transactions (committed and rolled back) and plain
/// statements from 24 tasks on 8 client connections, through a pgbouncer
/// that lends each transaction one of a few server connections: every
/// statement runs unnamed, so none depends on the server connection it
/// landed on, and every row is as written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_entities_and_transactions_share_few_server_connections() {
    let Some(p) = Pooled::new().await else { return };
    let db = Db::connect(p.config().max_connections(8).build().unwrap())
        .await
        .unwrap();
    assert!(db.config().pgbouncer());
    assert_eq!(db.config().statement_cache_capacity(), 0);
    Item::ensure_schema(&db).await.unwrap();

    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..24i32 {
        let db = db.clone();
        tasks.spawn(async move {
            let mut ids = Vec::new();
            for k in 0..10i32 {
                let mut item = Item {
                    id: 0,
                    name: format!("t{t}-{k}"),
                    qty: k,
                };
                item.save(&db).await?;
                item.qty += 100;
                item.save(&db).await?;
                let loaded = Item::get(&db, item.id).await?.expect("just saved");
                assert_eq!(loaded, item);
                ids.push(item.id);
            }
            // one transaction committed, one rolled back
            let name = format!("t{t}-tx");
            db.transaction(move |tx| {
                let name = name.clone();
                Box::pin(async move {
                    tx.execute(
                        "INSERT INTO [so_items] ([name], [qty]) VALUES (?, ?)",
                        (name.as_str(), 7),
                    )
                    .await?;
                    tx.execute(
                        "UPDATE [so_items] SET [qty] = [qty] + 1 WHERE [name] = ?",
                        (name.as_str(),),
                    )
                    .await?;
                    Ok(())
                })
            })
            .await?;
            let mut tx = db.begin().await?;
            tx.execute(
                "DELETE FROM [so_items] WHERE [name] = ?",
                (format!("t{t}-0"),),
            )
            .await?;
            tx.rollback().await?;
            let mine: i64 = db
                .fetch_scalar(
                    "SELECT COUNT(*) FROM [so_items] WHERE [name] LIKE ?",
                    (format!("t{t}-%"),),
                )
                .await?;
            assert_eq!(mine, 11);
            Ok::<Vec<i64>, Error>(ids)
        });
    }
    let mut all = Vec::new();
    while let Some(r) = tasks.join_next().await {
        all.extend(r.expect("task").expect("work through pgbouncer"));
    }
    assert_eq!(all.len(), 240);

    // read back directly from the server: every row and version as written
    assert_eq!(Item::find().count(&p.direct).await.unwrap(), 264);
    let committed: Vec<i32> = p
        .direct
        .fetch_all("SELECT [qty] FROM [so_items] WHERE [name] LIKE '%-tx'", ())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    assert_eq!(committed, vec![8; 24]);
    let versions = Item::history(&p.direct, all[17]).await.unwrap();
    assert_eq!(versions.len(), 2, "{versions:?}");

    // the server connections pgbouncer lends hold no statement of ours
    // (pg_prepared_statements lists those of the session asking: asked
    // through pgbouncer from 8 tasks at once, it reaches several of them)
    let mut asks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let db = db.clone();
        asks.spawn(async move {
            db.fetch_scalar::<i64, _>(
                "SELECT COUNT(*) FROM pg_prepared_statements, pg_sleep(0.05)",
                (),
            )
            .await
        });
    }
    while let Some(r) = asks.join_next().await {
        assert_eq!(r.unwrap().unwrap(), 0);
    }
    db.close();
    p.drop_database().await;
}

/// A statement past its deadline behind pgbouncer is cancelled on the
/// server (the protocol's cancel request, forwarded by pgbouncer to the
/// server connection running it): the caller gets `Timeout`, the statement
/// stops on the server, and the pool goes on. A transaction past its
/// deadline ends too, and what it wrote is rolled back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_deadline_cancels_the_statement_on_the_server() {
    let Some(p) = Pooled::new().await else { return };
    let db = Db::connect(
        p.config()
            .max_connections(2)
            .retry_enabled(false)
            .query_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    p.direct
        .execute_script("CREATE TABLE so_marks (n int)")
        .await
        .unwrap();

    let marker = format!("so_sleep_{}", uuid::Uuid::new_v4().simple());
    let sql = format!("SELECT pg_sleep(20) /* {marker} */");
    let started = Instant::now();
    let e = db
        .query(&sql)
        .timeout(Duration::from_millis(300))
        .execute()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(until_none_running(&p.direct, &marker).await, 0);
    for _ in 0..4 {
        let one: i32 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
        assert_eq!(one, 1);
    }

    // in a transaction: the write before the late statement is undone
    let tx_marker = format!("so_tx_sleep_{}", uuid::Uuid::new_v4().simple());
    let tx_sql = format!("SELECT pg_sleep(20) /* {tx_marker} */");
    let mut tx = db.begin().await.unwrap();
    tx.execute("INSERT INTO so_marks (n) VALUES (1)", ())
        .await
        .unwrap();
    let e = tx.execute(&tx_sql, ()).await.unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    drop(tx);
    assert_eq!(until_none_running(&p.direct, &tx_marker).await, 0);
    let n: i64 = p
        .direct
        .fetch_scalar("SELECT COUNT(*) FROM so_marks", ())
        .await
        .unwrap();
    assert_eq!(n, 0);
    let one: i32 = db.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    db.close();
    p.drop_database().await;
}

/// Migrations behind pgbouncer stop before connecting, naming the direct
/// URL (password masked); through `DatabaseConfig::direct` they apply, and
/// the pooled handle sees what they made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pgbouncer_migrations_refuse_and_name_the_direct_url() {
    let Some(p) = Pooled::new().await else { return };
    // trust authentication ignores the password: it is here to be masked
    let direct_with_password =
        p.direct_url
            .replacen("postgres://postgres@", "postgres://postgres:hunter2@", 1);
    let config = p
        .config()
        .direct_url(direct_with_password.clone())
        .build()
        .unwrap();
    assert!(!format!("{config:?}").contains("hunter2"));
    let pooled = Db::connect(config.clone()).await.unwrap();
    let migrator = Migrator::new().module(Module::new("core").migration(Migration::new(
        "0001_marks",
        dal::schema! { create so_migrated { id(); integer(n); } },
    )));

    let e = migrator.up(&pooled).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Config(_)), "{e}");
    assert!(text.contains("session-level advisory lock"), "{text}");
    assert!(text.contains(&format!("/{}", p.name)), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
    let made: i64 = pooled
        .fetch_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'dal_migrations'",
            (),
        )
        .await
        .unwrap();
    assert_eq!(made, 0, "nothing applied through the pooler");

    let direct = config.direct().expect("a direct URL");
    assert!(!direct.pgbouncer());
    assert_eq!(direct.statement_cache_capacity(), 256);
    let direct_db = Db::connect(direct).await.unwrap();
    let report = migrator.up(&direct_db).await.unwrap();
    assert_eq!(report.applied.len(), 1);
    pooled
        .execute("INSERT INTO [so_migrated] ([n]) VALUES (?)", (5,))
        .await
        .unwrap();
    let n: i32 = pooled
        .fetch_scalar("SELECT [n] FROM [so_migrated]", ())
        .await
        .unwrap();
    assert_eq!(n, 5);

    // without a direct URL the error says how to give one
    let bare = Db::connect(p.config().build().unwrap()).await.unwrap();
    let text = migrator.up(&bare).await.unwrap_err().to_string();
    assert!(text.contains("direct_url"), "{text}");
    for d in [&pooled, &direct_db, &bare] {
        d.close();
    }
    p.drop_database().await;
}

const DEFAULT_REPLICA_URL: &str = "postgres://postgres@127.0.0.1:5433/postgres";

/// The primary's and the replica's URLs, when the replica answers and is a
/// standby (`None` after saying why, unless servers are required).
async fn primary_and_replica() -> Option<(String, String)> {
    let primary = dal::testing::server_url(Dialect::Postgres).expect("a server backend");
    let replica = std::env::var("DAL_TEST_PG_REPLICA_URL")
        .unwrap_or_else(|_| DEFAULT_REPLICA_URL.to_string());
    let probe = async {
        let db = Db::connect(
            DatabaseConfig::builder(&replica)
                .connect_timeout(Duration::from_secs(3))
                .build()?,
        )
        .await?;
        let standby: bool = db.fetch_scalar("SELECT pg_is_in_recovery()", ()).await?;
        db.close();
        Ok::<bool, Error>(standby)
    };
    let why = match probe.await {
        Ok(true) => return Some((primary, replica)),
        Ok(false) => "it answers but is not a standby".to_string(),
        Err(e) => format!("it did not answer: {e}"),
    };
    skipped(
        "a PostgreSQL replica",
        &format!("a PostgreSQL standby at {}, but {why}", shown(&replica)),
    )
}

/// `host:port` of a PostgreSQL URL.
fn host_port(url: &str) -> String {
    let c = DatabaseConfig::from_url(url).unwrap();
    format!("{}:{}", c.host().unwrap(), c.port().unwrap())
}

/// A URL over both servers, the standby first: `target_session_attrs=read-write`
/// settles on the primary, `any` on the first that answers (the standby, where
/// a write is `Error::ReadOnly`). A statement past its deadline on the standby
/// is cancelled there: with several hosts the cancel request goes to the host
/// the session is on, not to a control connection that may reach another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_host_url_settles_on_the_host_target_session_attrs_asks_for() {
    let Some((primary, replica)) = primary_and_replica().await else {
        return;
    };
    let hosts = format!("{},{}", host_port(&replica), host_port(&primary));
    let url =
        |attrs: &str| format!("postgres://postgres@{hosts}/postgres?target_session_attrs={attrs}");

    let rw = Db::connect_url(&url("read-write")).await.unwrap();
    assert_eq!(rw.config().hosts().len(), 2);
    let (standby, port): (bool, i32) = rw
        .fetch_one_as("SELECT pg_is_in_recovery(), inet_server_port()", ())
        .await
        .unwrap();
    assert!(!standby);
    assert_eq!(
        port,
        i32::from(DatabaseConfig::from_url(&primary).unwrap().port().unwrap())
    );
    // what the primary writes reaches the standby
    let table = format!("so_replicated_{}", uuid::Uuid::new_v4().simple());
    rw.execute_script(&format!(
        "CREATE TABLE {table} (n int); INSERT INTO {table} VALUES (42)"
    ))
    .await
    .unwrap();

    let any = Db::connect(
        DatabaseConfig::builder(url("any"))
            .retry_enabled(false)
            .max_connections(1)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let standby: bool = any
        .fetch_scalar("SELECT pg_is_in_recovery()", ())
        .await
        .unwrap();
    assert!(standby);
    let start = Instant::now();
    let replayed = loop {
        match any
            .fetch_optional(&format!("SELECT n FROM {table}"), ())
            .await
        {
            Ok(Some(row)) => break row.get::<i32, _>(0).unwrap(),
            _ if start.elapsed() < Duration::from_secs(10) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            other => panic!("the standby never replayed the write: {other:?}"),
        }
    };
    assert_eq!(replayed, 42);
    // a write meeting a read-only server closes its connection (with several
    // hosts, the next one settles anew: after a failover, on the new primary)
    let pid: i32 = any
        .fetch_scalar("SELECT pg_backend_pid()", ())
        .await
        .unwrap();
    let e = any
        .execute(&format!("INSERT INTO {table} VALUES (1)"), ())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ReadOnly { .. }), "{e}");
    let after: i32 = any
        .fetch_scalar("SELECT pg_backend_pid()", ())
        .await
        .unwrap();
    assert_ne!(
        pid, after,
        "the connection that met a read-only server was kept"
    );

    // cancelled where it runs: on the standby
    let marker = format!("so_standby_sleep_{}", uuid::Uuid::new_v4().simple());
    let e = any
        .query(&format!("SELECT pg_sleep(20) /* {marker} */"))
        .timeout(Duration::from_millis(300))
        .execute()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Timeout { .. }), "{e}");
    let standby_direct = Db::connect_url(&replica).await.unwrap();
    assert_eq!(until_none_running(&standby_direct, &marker).await, 0);
    let one: i32 = any.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);

    // a value the driver does not know is a configuration error
    let e = DatabaseConfig::from_url(&url("prefer-standby")).unwrap_err();
    assert!(e.to_string().contains("target_session_attrs"), "{e}");

    rw.execute_script(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
    for d in [&rw, &any, &standby_direct] {
        d.close();
    }
}

// ------------------------------------------------------------------ failover

/// Two PostgreSQL clusters of the test's own in a temporary directory: a
/// primary and a synchronous streaming standby (so a write the primary
/// acknowledged is on the standby). Stopped and removed on drop.
struct Pair {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    ports: [u16; 2],
    /// Run the server programs as `postgres` (the tests run as root).
    as_postgres: bool,
}

impl Pair {
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        support::pg_cluster::run_program(&self.bin, self.as_postgres, program, args)
    }

    fn data(&self, i: usize) -> String {
        self.dir.join(["a", "b"][i]).display().to_string()
    }

    fn configure(&self, i: usize) -> Result<(), String> {
        let data = self.data(i);
        // the primary waits for its standby's confirmation before it
        // acknowledges a commit; the standby, once promoted, has none to wait for
        let sync = if i == 0 {
            "synchronous_standby_names = '*'\n"
        } else {
            ""
        };
        let conf = format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             max_wal_senders = 5\nwal_level = replica\nhot_standby = on\nfsync = off\n{sync}",
            self.ports[i],
            self.dir.display()
        );
        std::fs::write(format!("{data}/postgresql.conf"), conf).map_err(|e| e.to_string())?;
        std::fs::write(
            format!("{data}/pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n\
             host replication all 127.0.0.1/32 trust\n",
        )
        .map_err(|e| e.to_string())
    }

    fn start(&self, i: usize) -> Result<(), String> {
        let data = self.data(i);
        let log = format!("{}/{}.log", self.dir.display(), ["a", "b"][i]);
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-w", "-t", "60", "start"],
        )
    }

    /// `None` (after saying why) when the server programs are missing and
    /// servers are not required.
    fn create() -> Option<Pair> {
        let Some(bin) = support::pg_cluster::pg_bin() else {
            let why = "the PostgreSQL server programs (initdb, pg_ctl) were not found under \
                       /usr/lib/postgresql/*/bin (set DAL_TEST_PG_BIN)";
            return skipped("the failover test's servers", why);
        };
        // PostgreSQL refuses to run as root: then the servers run as postgres
        let as_postgres = support::pg_cluster::running_as_root();
        let dir = support::pg_cluster::server_dir("dal_t_failover", as_postgres);
        let pair = Pair {
            bin,
            dir,
            ports: [
                support::pg_cluster::free_port(),
                support::pg_cluster::free_port(),
            ],
            as_postgres,
        };
        let primary = pair.data(0);
        pair.run(
            "initdb",
            &[
                "-D",
                &primary,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ],
        )
        .expect("initdb");
        pair.configure(0).expect("configure the primary");
        pair.start(0).expect("start the primary");
        let standby = pair.data(1);
        let port = pair.ports[0].to_string();
        pair.run(
            "pg_basebackup",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "postgres",
                "-D",
                &standby,
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
            ],
        )
        .expect("pg_basebackup");
        pair.configure(1).expect("configure the standby");
        pair.start(1).expect("start the standby");
        Some(pair)
    }

    fn url(&self, i: usize) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.ports[i])
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for i in 0..2 {
            let _ = self.run("pg_ctl", &["-D", &self.data(i), "-m", "immediate", "stop"]);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Failover with a multi-host URL: writes stream to the primary of a pair
/// (synchronous standby); the primary is killed and the standby promoted
/// while they run. New work reaches the new primary within seconds; every
/// acknowledged write is there, none twice (a write whose outcome was lost
/// with the connection is never re-sent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_promotion_during_writes_loses_no_acknowledged_write() {
    let Some(pair) = tokio::task::spawn_blocking(Pair::create).await.unwrap() else {
        return;
    };
    let pair = std::sync::Arc::new(pair);
    let url = format!(
        "postgres://postgres@127.0.0.1:{},127.0.0.1:{}/postgres?target_session_attrs=read-write",
        pair.ports[0], pair.ports[1]
    );
    let db = Db::connect(
        DatabaseConfig::builder(&url)
            .max_connections(4)
            .connect_timeout(Duration::from_secs(1))
            .acquire_timeout(Duration::from_secs(2))
            .query_timeout(Duration::from_secs(3))
            .breaker_open_duration(Duration::from_millis(200))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    // the standby is synchronous before the first write counts
    let start = Instant::now();
    loop {
        let sync: i64 = db
            .fetch_scalar(
                "SELECT COUNT(*) FROM pg_stat_replication WHERE sync_state = 'sync'",
                (),
            )
            .await
            .unwrap();
        if sync == 1 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no synchronous standby"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // `n` has no unique key: a write sent twice would be stored twice
    db.execute_script("CREATE TABLE fo (id bigserial PRIMARY KEY, n bigint NOT NULL)")
        .await
        .unwrap();

    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(i64, Instant)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (db, acked, stop) = (db.clone(), acked.clone(), stop.clone());
        tokio::spawn(async move {
            let mut failures = 0u32;
            let mut id = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                id += 1;
                match db.execute("INSERT INTO fo (n) VALUES (?)", (id,)).await {
                    Ok(_) => acked.lock().unwrap().push((id, Instant::now())),
                    Err(_) => {
                        failures += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            failures
        })
    };
    let acks = || acked.lock().unwrap().len();
    let start = Instant::now();
    while acks() < 200 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "writes do not go through"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // kill the primary, promote the standby
    let before = acks();
    let p = pair.clone();
    // when the old primary was gone (pg_ctl returns once it is), and when
    // the standby was promoted
    let (killed, promoted) = tokio::task::spawn_blocking(move || {
        p.run("pg_ctl", &["-D", &p.data(0), "-m", "immediate", "stop"])
            .expect("kill the primary");
        let killed = Instant::now();
        p.run("pg_ctl", &["-D", &p.data(1), "-w", "promote"])
            .expect("promote the standby");
        (killed, Instant::now())
    })
    .await
    .unwrap();
    let promoted = promoted.duration_since(killed);
    while acks() < before + 200 {
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "no write reached the new primary within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let failures = writer.await.unwrap();
    let acked = acked.lock().unwrap().clone();
    let first_after = acked
        .iter()
        .find(|(_, at)| *at > killed)
        .map(|(_, at)| at.duration_since(killed))
        .expect("a write after the failover");
    eprintln!(
        "failover: the standby was promoted {promoted:?} after the primary died; the first \
         acknowledged write on the new primary came {first_after:?} after the primary died; \
         {failures} writes failed meanwhile; {} acknowledged in all",
        acked.len()
    );

    // every acknowledged write is on the new primary, once
    let new_primary = Db::connect_url(&pair.url(1)).await.unwrap();
    let standby: bool = new_primary
        .fetch_scalar("SELECT pg_is_in_recovery()", ())
        .await
        .unwrap();
    assert!(!standby);
    let stored: Vec<i64> = new_primary
        .fetch_all("SELECT n FROM fo ORDER BY n", ())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0).unwrap())
        .collect();
    let stored_set: std::collections::HashSet<i64> = stored.iter().copied().collect();
    assert_eq!(stored_set.len(), stored.len(), "a write stored twice");
    let lost: Vec<i64> = acked
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !stored_set.contains(id))
        .collect();
    assert!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    assert!(first_after < Duration::from_secs(30));
    db.close();
    new_primary.close();
}

// ------------------------------------------------------------------ read replicas

/// The server's port, as the server reports it.
async fn server_port(db: &Db, sql: &str) -> i32 {
    db.fetch_scalar(sql, ()).await.unwrap()
}

/// Create `table` (one `n int` column) through `db` and wait until the
/// replica (`replica_direct`) has it.
async fn create_replicated(db: &Db, replica_direct: &Db, table: &str) {
    db.execute_script(&format!("CREATE TABLE {table} (n int)"))
        .await
        .unwrap();
    let start = Instant::now();
    while replica_direct
        .fetch_optional(&format!("SELECT 1 FROM {table} LIMIT 1"), ())
        .await
        .is_err()
    {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the replica never applied the CREATE TABLE"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What [`reads_and_own_writes`] saw.
struct Seen {
    /// The server port a task that wrote nothing read from.
    reader_port: i32,
    /// What a task that inserted a row into the table counted right after,
    /// and the port it read from.
    writer_count: i64,
    writer_port: i32,
    /// What another task counted meanwhile.
    other_count: i64,
}

/// The routing of a task that did not write, of one that just inserted a
/// row into `table` (read back at once), and of another task meanwhile;
/// `port_sql` asks the server for its port.
async fn reads_and_own_writes(db: &Db, table: &str, port_sql: &'static str) -> Seen {
    let reader = db.clone();
    let reader_port = tokio::spawn(async move { server_port(&reader, port_sql).await })
        .await
        .unwrap();
    let (writer, t) = (db.clone(), table.to_string());
    let (writer_count, writer_port, other_count) = tokio::spawn(async move {
        writer
            .execute(&format!("INSERT INTO {t} (n) VALUES (1)"), ())
            .await
            .unwrap();
        let count: i64 = writer
            .fetch_scalar(&format!("SELECT COUNT(*) FROM {t}"), ())
            .await
            .unwrap();
        let port = server_port(&writer, port_sql).await;
        // meanwhile a task that did not write
        let other = writer.clone();
        let other_count: i64 = tokio::spawn(async move {
            other
                .fetch_scalar(&format!("SELECT COUNT(*) FROM {t}"), ())
                .await
                .unwrap()
        })
        .await
        .unwrap();
        (count, port, other_count)
    })
    .await
    .unwrap();
    Seen {
        reader_port,
        writer_count,
        writer_port,
        other_count,
    }
}

/// Reads on the pool go to the replica; a task that wrote reads from the
/// primary for the read-your-writes window, and sees its write although the
/// replica (500 ms behind in CI) has not replayed it; a read that locks rows
/// stays on the primary; a replica that does not answer leaves its reads to
/// the primary, without an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_take_reads_and_a_task_reads_its_own_writes() {
    let Some((primary, replica)) = primary_and_replica().await else {
        return;
    };
    let port = |url: &str| i32::from(DatabaseConfig::from_url(url).unwrap().port().unwrap());
    let (primary_port, replica_port) = (port(&primary), port(&replica));
    let replica_direct = Db::connect_url(&replica).await.unwrap();
    let delay: String = replica_direct
        .fetch_scalar("SELECT current_setting('recovery_min_apply_delay')", ())
        .await
        .unwrap();
    let lagging = delay != "0";
    // without a lag the replica would answer like the primary, and the
    // read-your-writes check below could not fail: CI's replica lags
    assert!(
        lagging || !dal::testing::servers_required(),
        "the CI replica must apply WAL late (recovery_min_apply_delay), it says {delay}"
    );

    let table = format!("so_ryw_{}", uuid::Uuid::new_v4().simple());
    let db = Db::connect(
        DatabaseConfig::builder(&primary)
            .replica(replica.clone())
            .read_your_writes_window(Duration::from_secs(3))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(db.replicas().len(), 1);
    create_replicated(&db, &replica_direct, &table).await;

    let seen = reads_and_own_writes(&db, &table, "SELECT inet_server_port()").await;
    // a task that has not written reads from the replica
    assert_eq!(seen.reader_port, replica_port);
    // a task that writes reads its write, from the primary
    assert_eq!(seen.writer_count, 1);
    assert_eq!(seen.writer_port, primary_port);
    let elsewhere = seen.other_count;
    if lagging {
        // the replica had not replayed the write: the routing is what made
        // the writer see it
        assert_eq!(
            elsewhere, 0,
            "the replica ({delay} behind) already had the write"
        );
    }

    // a read that locks rows stays on the primary
    let locking = server_port(
        &db,
        &format!("SELECT inet_server_port() FROM {table} LIMIT 1 FOR UPDATE"),
    )
    .await;
    assert_eq!(locking, primary_port);
    assert!(db.replicas()[0].stats().statements >= 2);

    // a replica that does not answer: its reads go to the primary
    let closed = support::pg_cluster::free_port();
    let down = Db::connect(
        DatabaseConfig::builder(&primary)
            .replica(format!("postgres://postgres@127.0.0.1:{closed}/postgres"))
            .connect_timeout(Duration::from_millis(500))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    for _ in 0..3 {
        let p = tokio::spawn({
            let down = down.clone();
            async move { server_port(&down, "SELECT inet_server_port()").await }
        })
        .await
        .unwrap();
        assert_eq!(p, primary_port);
    }

    db.execute_script(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
    for d in [&db, &down, &replica_direct] {
        d.close();
    }
}

/// A replica further behind than `max_replica_lag` is left out (its reads
/// go to the primary) and rejoins once it has caught up; its lag is shown
/// by `Db::replica_lag`. The primary keeps writing so that CI's replica,
/// which applies WAL 500 ms late, stays behind a 200 ms limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_past_the_lag_limit_is_left_out_until_it_catches_up() {
    let Some((primary, replica)) = primary_and_replica().await else {
        return;
    };
    let port = |url: &str| i32::from(DatabaseConfig::from_url(url).unwrap().port().unwrap());
    let (primary_port, replica_port) = (port(&primary), port(&replica));
    let replica_direct = Db::connect_url(&replica).await.unwrap();
    let delay: String = replica_direct
        .fetch_scalar("SELECT current_setting('recovery_min_apply_delay')", ())
        .await
        .unwrap();
    if delay == "0" {
        // a replica that keeps up could not be seen to fall behind
        assert!(
            !dal::testing::servers_required(),
            "the CI replica must apply WAL late (recovery_min_apply_delay)"
        );
        eprintln!("skipped: the replica applies WAL at once, it cannot be made to lag");
        return;
    }
    let limit = Duration::from_millis(200);
    let db = Db::connect(
        DatabaseConfig::builder(&primary)
            .replica(replica.clone())
            .max_replica_lag(Some(limit))
            .read_your_writes_window(Duration::ZERO)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(db.config().max_replica_lag(), Some(limit));
    assert_eq!(db.replicas()[0].replica_lag(), None, "not checked yet");
    let table = format!("so_lag_{}", uuid::Uuid::new_v4().simple());
    db.execute_script(&format!("CREATE TABLE {table} (n int)"))
        .await
        .unwrap();
    let writer = tokio::spawn({
        let db = db.clone();
        let insert = format!("INSERT INTO {table} (n) VALUES (1)");
        async move {
            loop {
                db.execute(&insert, ()).await.unwrap();
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    });

    // the reads start the checks; the first one that finds the replica
    // behind leaves it out
    let start = Instant::now();
    while db.replicas()[0]
        .replica_lag()
        .is_none_or(|lag| lag <= limit)
    {
        server_port(&db, "SELECT inet_server_port()").await;
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the replica was never seen behind: {:?}",
            db.replicas()[0].replica_lag()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for _ in 0..5 {
        assert_eq!(
            server_port(&db, "SELECT inet_server_port()").await,
            primary_port,
            "a read went to a replica {:?} behind",
            db.replicas()[0].replica_lag()
        );
    }

    // the writes stop: the replica catches up and takes reads again
    writer.abort();
    let _ = writer.await;
    let start = Instant::now();
    while server_port(&db, "SELECT inet_server_port()").await != replica_port {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the replica never rejoined: {:?} behind",
            db.replicas()[0].replica_lag()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        db.replicas()[0]
            .replica_lag()
            .is_some_and(|lag| lag <= limit)
    );

    db.execute_script(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
    for d in [&db, &replica_direct] {
        d.close();
    }
}

// ------------------------------------------------------ MariaDB read replicas

const DEFAULT_MY_PRIMARY_URL: &str = "mysql://root@127.0.0.1:3307/test";
const DEFAULT_MY_REPLICA_URL: &str = "mysql://root@127.0.0.1:3308/test";

/// The MariaDB pair's tests take turns: one of them stops the replication
/// the others rely on.
static MY_PAIR: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The MariaDB primary's and replica's URLs (`DAL_TEST_MY_PRIMARY_URL`,
/// `DAL_TEST_MY_REPLICA_URL`; CI makes the pair), when the replica answers
/// and replicates (`None` after saying why, unless servers are required).
/// Replication left stopped by an interrupted run is started again.
async fn mysql_pair() -> Option<(String, String)> {
    let primary = std::env::var("DAL_TEST_MY_PRIMARY_URL")
        .unwrap_or_else(|_| DEFAULT_MY_PRIMARY_URL.to_string());
    let replica = std::env::var("DAL_TEST_MY_REPLICA_URL")
        .unwrap_or_else(|_| DEFAULT_MY_REPLICA_URL.to_string());
    let probe = async {
        let db = Db::connect(
            DatabaseConfig::builder(&replica)
                .connect_timeout(Duration::from_secs(3))
                .build()?,
        )
        .await?;
        let status = db.fetch_all("SHOW SLAVE STATUS", ()).await?;
        if !status.is_empty() {
            db.execute_script("START SLAVE").await?;
        }
        db.close();
        Ok::<bool, Error>(!status.is_empty())
    };
    let why = match probe.await {
        Ok(true) => return Some((primary, replica)),
        Ok(false) => "it answers but replicates nothing".to_string(),
        Err(e) => format!("it did not answer: {e}"),
    };
    skipped(
        "a MariaDB replica",
        &format!("a MariaDB replica at {}, but {why}", shown(&replica)),
    )
}

/// On MariaDB, as on PostgreSQL: reads go to the replica, a task that wrote
/// reads its write from the primary while the replica (one second behind in
/// CI: `MASTER_DELAY`) has not applied it, and a read that locks rows stays
/// on the primary.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_replica_takes_reads_and_a_task_reads_its_own_writes() {
    let Some((primary, replica)) = mysql_pair().await else {
        return;
    };
    let _turn = MY_PAIR.lock().await;
    let port = |url: &str| i32::from(DatabaseConfig::from_url(url).unwrap().port().unwrap());
    let (primary_port, replica_port) = (port(&primary), port(&replica));
    let replica_direct = Db::connect_url(&replica).await.unwrap();
    let delay: Option<i64> = replica_direct
        .fetch_one("SHOW SLAVE STATUS", ())
        .await
        .unwrap()
        .get("SQL_Delay")
        .unwrap();
    let lagging = delay.unwrap_or(0) > 0;
    assert!(
        lagging || !dal::testing::servers_required(),
        "the CI replica must apply events late (MASTER_DELAY), it says {delay:?}"
    );

    let table = format!("so_my_ryw_{}", uuid::Uuid::new_v4().simple());
    let db = Db::connect(
        DatabaseConfig::builder(&primary)
            .replica(replica.clone())
            .read_your_writes_window(Duration::from_secs(3))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    create_replicated(&db, &replica_direct, &table).await;

    let seen = reads_and_own_writes(&db, &table, "SELECT @@port").await;
    // a task that has not written reads from the replica
    assert_eq!(seen.reader_port, replica_port);
    // a task that writes reads its write, from the primary; another task,
    // from the replica, which has not applied it yet
    assert_eq!(seen.writer_count, 1);
    assert_eq!(seen.writer_port, primary_port);
    let elsewhere = seen.other_count;
    if lagging {
        assert_eq!(elsewhere, 0, "the replica had applied the write already");
    }

    // a read that locks rows stays on the primary
    let locking = server_port(
        &db,
        &format!("SELECT @@port FROM {table} LIMIT 1 FOR UPDATE"),
    )
    .await;
    assert_eq!(locking, primary_port);

    db.execute_script(&format!("DROP TABLE {table}"))
        .await
        .unwrap();
    for d in [&db, &replica_direct] {
        d.close();
    }
}

/// A MariaDB replica whose replication has stopped is left out of the
/// reads (it would fall behind without end), its lag shown as
/// `Duration::MAX`; it rejoins once replication runs again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_replica_whose_replication_stopped_is_left_out() {
    let Some((primary, replica)) = mysql_pair().await else {
        return;
    };
    let _turn = MY_PAIR.lock().await;
    let port = |url: &str| i32::from(DatabaseConfig::from_url(url).unwrap().port().unwrap());
    let (primary_port, replica_port) = (port(&primary), port(&replica));
    let replica_direct = Db::connect_url(&replica).await.unwrap();
    let limit = Duration::from_secs(5);
    let db = Db::connect(
        DatabaseConfig::builder(&primary)
            .replica(replica.clone())
            .max_replica_lag(Some(limit))
            .read_your_writes_window(Duration::ZERO)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    // reads start the checks; a running replica is measured within the limit
    let wait_for = |want: fn(Option<Duration>) -> bool, what: &'static str| {
        let db = db.clone();
        async move {
            let start = Instant::now();
            while !want(db.replicas()[0].replica_lag()) {
                server_port(&db, "SELECT @@port").await;
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "{what}: the replica's lag is {:?}",
                    db.replicas()[0].replica_lag()
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    wait_for(
        |l| l.is_some_and(|l| l <= Duration::from_secs(5)),
        "never measured",
    )
    .await;
    assert_eq!(server_port(&db, "SELECT @@port").await, replica_port);

    replica_direct
        .execute_script("STOP SLAVE SQL_THREAD")
        .await
        .unwrap();
    wait_for(|l| l == Some(Duration::MAX), "never seen stopped").await;
    for _ in 0..3 {
        assert_eq!(server_port(&db, "SELECT @@port").await, primary_port);
    }

    replica_direct
        .execute_script("START SLAVE SQL_THREAD")
        .await
        .unwrap();
    wait_for(
        |l| l.is_some_and(|l| l <= Duration::from_secs(5)),
        "never rejoined",
    )
    .await;
    assert_eq!(server_port(&db, "SELECT @@port").await, replica_port);
    for d in [&db, &replica_direct] {
        d.close();
    }
}

/// A cached entity on a database with a lagging replica.
#[derive(Entity, Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[dal(table = "so_cached", cache)]
pub struct Cached {
    pub id: i64,
    pub n: i64,
}

/// The read cache fills itself from the primary: a task that did not
/// write, reading right after another task's write (the replica, 500 ms
/// behind, has not applied it), gets the new row, not the replica's old
/// one kept in the cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_read_cache_fills_from_the_primary_not_a_lagging_replica() {
    let Some((primary, replica)) = primary_and_replica().await else {
        return;
    };
    let schema = format!("so_cache_{}", uuid::Uuid::new_v4().simple());
    let admin = Db::connect_url(&primary).await.unwrap();
    admin
        .execute_script(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap();
    let in_schema = |url: &str| {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20search_path%3D{schema}")
    };
    let db = Db::connect(
        DatabaseConfig::builder(in_schema(&primary))
            .replica(in_schema(&replica))
            .cache(dal::CacheConfig::memory(100))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    Cached::ensure_schema(&db).await.unwrap();
    let mut row = Cached { id: 0, n: 1 };
    row.save(&db).await.unwrap();
    // the replica has the row
    let replica_direct = Db::connect_url(&in_schema(&replica)).await.unwrap();
    let start = Instant::now();
    while replica_direct
        .fetch_optional(
            &format!("SELECT n FROM so_cached WHERE id = {}", row.id),
            (),
        )
        .await
        .ok()
        .flatten()
        .is_none()
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never replicated"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let read = |db: &Db, id: i64| {
        let db = db.clone();
        async move {
            tokio::spawn(async move { Cached::get(&db, id).await.unwrap().unwrap().n })
                .await
                .unwrap()
        }
    };
    assert_eq!(read(&db, row.id).await, 1);
    row.n = 2;
    row.save(&db).await.unwrap();
    // another task, outside the writer's read-your-writes window
    assert_eq!(read(&db, row.id).await, 2);
    assert_eq!(read(&db, row.id).await, 2);
    let stats = db.cache_stats().unwrap();
    assert!(stats.hits >= 1, "{stats:?}");
    for d in [&db, &replica_direct] {
        d.close();
    }
    admin
        .execute_script(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
    admin.close();
}
