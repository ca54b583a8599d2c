//! A MariaDB Galera cluster of three nodes: writes on any node, certification
//! conflicts re-run like deadlocks, a node out of the cluster passed over
//! and used again once it rejoins, and a node killed during a stream of
//! writes losing no acknowledged write.
//!
//! The nodes are `DAL_TEST_GALERA_URLS` (three comma-separated URLs; default
//! `mysql://root@127.0.0.1:3311/test` to `..:3313/test`), made by `.ci/run`
//! with start scripts in `DAL_TEST_GALERA_DIR` (default
//! `/tmp/dal-ci-galera`: `start-nN`, and each node's pid file `nN/pid`).
//! When the cluster does not answer, the tests print why and pass, unless
//! `DAL_TEST_REQUIRE_SERVERS=1` (CI). They take turns: two of them take a
//! node away.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dal::{DatabaseConfig, Db, Entity, Error};

/// One test at a time on the cluster.
static CLUSTER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[derive(Entity, Debug, Clone, PartialEq)]
#[dal(table = "gal_items", history)]
struct Item {
    #[dal(id)]
    id: i64,
    #[dal(length = 64)]
    token: String,
    qty: i32,
}

fn urls() -> Vec<String> {
    std::env::var("DAL_TEST_GALERA_URLS")
        .unwrap_or_else(|_| {
            (1..=3)
                .map(|n| format!("mysql://root@127.0.0.1:{}/test", 3310 + n))
                .collect::<Vec<_>>()
                .join(",")
        })
        .split(',')
        .map(str::to_string)
        .collect()
}

fn dir() -> std::path::PathBuf {
    std::env::var("DAL_TEST_GALERA_DIR")
        .unwrap_or_else(|_| "/tmp/dal-ci-galera".into())
        .into()
}

/// `url` with its database replaced by `database`.
fn with_database(url: &str, database: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL with a database");
    format!("{base}/{database}")
}

/// The host:port of a node URL.
fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).unwrap();
    let rest = rest.rsplit('@').next().unwrap();
    rest.split('/').next().unwrap().to_string()
}

/// The nodes answer as a ready cluster of three: the node URLs; `None`
/// after saying why (or a panic under `DAL_TEST_REQUIRE_SERVERS=1`).
async fn cluster() -> Option<Vec<String>> {
    let urls = urls();
    // a node another test took away may still be rejoining
    let start = Instant::now();
    loop {
        match cluster_problem(&urls).await {
            None => return Some(urls),
            Some(why) if start.elapsed() > Duration::from_secs(60) => {
                if dal::testing::servers_required() {
                    panic!("the Galera cluster is required (DAL_TEST_REQUIRE_SERVERS=1): {why}");
                }
                eprintln!("SKIPPED: the test needs the Galera cluster of .ci/run: {why}");
                return None;
            }
            // nothing answers at all: no cluster here, say so at once
            Some(why) if why.contains("refused") && !dal::testing::servers_required() => {
                eprintln!("SKIPPED: the test needs the Galera cluster of .ci/run: {why}");
                return None;
            }
            Some(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Why the nodes are not a ready cluster, if they are not.
async fn cluster_problem(urls: &[String]) -> Option<String> {
    let mut why = None;
    for u in urls {
        match Db::connect_url(u).await {
            Ok(db) => {
                let ready: Result<(String, String), Error> =
                    db.fetch_one_as("SHOW STATUS LIKE 'wsrep_ready'", ()).await;
                match ready {
                    Ok((_, v)) if v == "ON" => {}
                    Ok((_, v)) => why = Some(format!("{u}: wsrep_ready is {v}")),
                    Err(e) => why = Some(format!("{u}: not a Galera node ({e})")),
                }
                db.close();
            }
            Err(e) => why = Some(format!("{u}: {e}")),
        }
    }
    why
}

/// A fresh database on the cluster (made through node 1, replicated to all).
async fn database(urls: &[String]) -> String {
    let name = format!(
        "dal_t_gal_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let admin = Db::connect_url(&urls[0]).await.unwrap();
    admin
        .execute(&format!("CREATE DATABASE `{name}`"), ())
        .await
        .unwrap();
    admin.close();
    name
}

async fn drop_database(urls: &[String], name: &str) {
    for u in urls {
        if let Ok(admin) = Db::connect_url(u).await {
            if admin
                .execute(&format!("DROP DATABASE IF EXISTS `{name}`"), ())
                .await
                .is_ok()
            {
                admin.close();
                return;
            }
            admin.close();
        }
    }
}

/// A multi-host URL over every node, for `database`.
fn all_nodes(urls: &[String], database: &str) -> String {
    let hosts: Vec<String> = urls.iter().map(|u| host_port(u)).collect();
    let user = urls[0]
        .split("://")
        .nth(1)
        .unwrap()
        .split('@')
        .next()
        .unwrap();
    format!("mysql://{user}@{}/{database}", hosts.join(","))
}

/// The node's status variable.
async fn status(url: &str, name: &str) -> Option<String> {
    let db = Db::connect_url(url).await.ok()?;
    let r: Option<(String, String)> = db
        .fetch_optional_as(&format!("SHOW STATUS LIKE '{name}'"), ())
        .await
        .ok()?;
    db.close();
    r.map(|(_, v)| v)
}

/// Wait until `check` holds (up to `limit`).
async fn wait_for<F: std::future::Future<Output = bool>>(
    what: &str,
    limit: Duration,
    mut check: impl FnMut() -> F,
) {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "{what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn cluster_whole(urls: &[String]) {
    let urls = urls.to_vec();
    wait_for("a ready cluster of 3", Duration::from_secs(90), || {
        let urls = urls.clone();
        async move {
            for u in &urls {
                if status(u, "wsrep_ready").await.as_deref() != Some("ON") {
                    return false;
                }
            }
            status(&urls[0], "wsrep_cluster_size").await.as_deref() == Some("3")
        }
    })
    .await;
}

#[tokio::test]
async fn writes_on_any_node_are_read_on_every_node() {
    let _turn = CLUSTER.lock().await;
    let Some(urls) = cluster().await else { return };
    let name = database(&urls).await;
    let nodes: Vec<Db> = {
        let mut v = Vec::new();
        for u in &urls {
            v.push(Db::connect_url(&with_database(u, &name)).await.unwrap());
        }
        v
    };
    Item::ensure_schema(&nodes[0]).await.unwrap();
    // each node writes; Galera's auto-increment control keeps ids apart
    let mut written = Vec::new();
    for (i, db) in nodes.iter().enumerate() {
        let mut batch: Vec<Item> = (0..20)
            .map(|k| Item {
                id: 0,
                token: format!("n{i}-{k}"),
                qty: k,
            })
            .collect();
        db.transaction(|tx| {
            let mut b = batch.clone();
            Box::pin(async move {
                Item::save_all(&mut b, &mut *tx).await?;
                Ok(b)
            })
        })
        .await
        .map(|b| batch = b)
        .unwrap();
        let mut one = Item {
            id: 0,
            token: format!("n{i}-single"),
            qty: 100,
        };
        one.save(db).await.unwrap();
        batch.push(one);
        written.extend(batch);
    }
    let ids: BTreeSet<i64> = written.iter().map(|i| i.id).collect();
    assert_eq!(ids.len(), written.len(), "every id distinct across nodes");
    // every node reads every row, with the ids the writers were given
    for db in &nodes {
        let db = db.clone();
        let expected = written.clone();
        wait_for("rows replicated", Duration::from_secs(10), || {
            let (db, expected) = (db.clone(), expected.clone());
            async move {
                let mut rows = Item::find().all(&db).await.unwrap();
                rows.sort_by_key(|i| i.id);
                let mut want = expected;
                want.sort_by_key(|i| i.id);
                rows == want
            }
        })
        .await;
    }
    // history written on one node is read on another
    let mut first = written[0].clone();
    first.qty = 999;
    first.save(&nodes[1]).await.unwrap();
    let third = nodes[2].clone();
    wait_for("the history replicated", Duration::from_secs(10), || {
        let third = third.clone();
        async move { Item::history(&third, first.id).await.unwrap().len() == 2 }
    })
    .await;
    for db in nodes {
        db.close();
    }
    drop_database(&urls, &name).await;
}

#[tokio::test]
async fn certification_conflicts_are_serialization_errors_and_rerun_in_transaction_closures() {
    let _turn = CLUSTER.lock().await;
    let Some(urls) = cluster().await else { return };
    let name = database(&urls).await;
    // enough re-runs for two dozen closures contending for one row
    let node = |u: &String| {
        Db::connect(
            DatabaseConfig::builder(with_database(u, &name))
                .retry_max_attempts(30)
                .retry_budget(Duration::from_secs(30))
                .build()
                .unwrap(),
        )
    };
    let a = node(&urls[0]).await.unwrap();
    let b = node(&urls[1]).await.unwrap();
    a.execute(
        "CREATE TABLE [counters] ([id] INT PRIMARY KEY, [n] INT NOT NULL)",
        (),
    )
    .await
    .unwrap();
    a.execute("INSERT INTO [counters] VALUES (1, 0)", ())
        .await
        .unwrap();
    wait_for("the row on node 2", Duration::from_secs(10), || {
        let b = b.clone();
        async move {
            b.fetch_optional("SELECT 1 FROM [counters] WHERE [id] = 1", ())
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;

    // a transaction on node 1 holding the row loses to a commit on node 2:
    // its commit fails certification, classified as a deadlock
    let mut tx = a.begin().await.unwrap();
    tx.execute("UPDATE [counters] SET [n] = [n] + 1 WHERE [id] = 1", ())
        .await
        .unwrap();
    b.execute("UPDATE [counters] SET [n] = [n] + 10 WHERE [id] = 1", ())
        .await
        .unwrap();
    // the writeset from node 2 aborts the local transaction (at once, or
    // when it next talks to the server)
    let e = match tx
        .execute("UPDATE [counters] SET [n] = [n] + 1 WHERE [id] = 1", ())
        .await
    {
        Err(e) => e,
        Ok(_) => tx.commit().await.unwrap_err(),
    };
    assert!(
        matches!(e, Error::Serialization { deadlock: true, .. }),
        "a certification conflict: {e:?}"
    );
    assert!(e.is_transient());
    assert_eq!(e.code(), Some("1213"));

    // closures on both nodes increment the same row; the losers re-run
    let attempts = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for k in 0..24 {
        let db = if k % 2 == 0 { a.clone() } else { b.clone() };
        let attempts = attempts.clone();
        tasks.push(tokio::spawn(async move {
            db.transaction(move |tx| {
                let attempts = attempts.clone();
                Box::pin(async move {
                    attempts.fetch_add(1, Ordering::Relaxed);
                    let (n,): (i32,) = tx
                        .fetch_one_as("SELECT [n] FROM [counters] WHERE [id] = 1 FOR UPDATE", ())
                        .await?;
                    // hold the row a moment: the other node's commits conflict
                    tokio::time::sleep(Duration::from_millis(15)).await;
                    tx.execute("UPDATE [counters] SET [n] = ? WHERE [id] = 1", (n + 1,))
                        .await?;
                    Ok(())
                })
            })
            .await
        }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let (n,): (i32,) = b
        .fetch_one_as("SELECT [n] FROM [counters] WHERE [id] = 1", ())
        .await
        .unwrap();
    assert_eq!(n, 10 + 24, "every closure's increment, once");
    let tries = attempts.load(Ordering::Relaxed);
    assert!(
        tries > 24,
        "conflicts happened and were re-run ({tries} attempts)"
    );
    eprintln!("24 increments over two nodes took {tries} attempts");
    a.close();
    b.close();
    drop_database(&urls, &name).await;
}

/// Puts an isolated node back into the cluster when dropped.
struct Rejoin(String);

impl Drop for Rejoin {
    fn drop(&mut self) {
        let url = self.0.clone();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(db) = Db::connect_url(&url).await {
                    let _ = db
                        .execute("SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'", ())
                        .await;
                    db.close();
                }
            });
        })
        .join();
    }
}

/// Run `sql` on one node (a connection of its own).
async fn on_node(url: &str, sql: &str) {
    let db = Db::connect_url(url).await.unwrap();
    db.execute(sql, ()).await.unwrap();
    db.close();
}

#[tokio::test]
async fn a_node_out_of_the_cluster_is_passed_over_and_used_again_once_it_rejoins() {
    let _turn = CLUSTER.lock().await;
    let Some(urls) = cluster().await else { return };
    let name = database(&urls).await;
    let url = all_nodes(&urls, &name);
    let port = |db: Db| async move {
        let (p,): (i64,) = db.fetch_one_as("SELECT @@port", ()).await.unwrap();
        p
    };
    let first_port: i64 = host_port(&urls[0])
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let db = Db::connect_url(&url).await.unwrap();
    assert_eq!(port(db.clone()).await, first_port, "the first node first");
    Item::ensure_schema(&db).await.unwrap();

    // node 1 leaves the cluster (isolated from the others, still answering);
    // it is brought back however the test ends
    let _back = Rejoin(urls[0].clone());
    on_node(
        &urls[0],
        "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=1'",
    )
    .await;
    let u0 = urls[0].clone();
    wait_for("node 1 out of the cluster", Duration::from_secs(60), || {
        let u0 = u0.clone();
        async move { status(&u0, "wsrep_ready").await.as_deref() == Some("OFF") }
    })
    .await;
    // the pooled connection to it fails its next read (WSREP not ready), is
    // dropped, and the read is re-run on a node that is ready
    assert_eq!(Item::find().count(&db).await.unwrap(), 0);
    // new connections pass it over
    let fresh = Db::connect_url(&url).await.unwrap();
    assert_ne!(
        port(fresh.clone()).await,
        first_port,
        "a node out of the cluster is passed over"
    );
    let mut it = Item {
        id: 0,
        token: "while node 1 was out".into(),
        qty: 1,
    };
    it.save(&fresh).await.unwrap();
    fresh.close();
    db.close();

    // node 1 rejoins: new connections reach it again, and it has the row
    on_node(
        &urls[0],
        "SET GLOBAL wsrep_provider_options = 'gmcast.isolate=0'",
    )
    .await;
    cluster_whole(&urls).await;
    let again = Db::connect_url(&url).await.unwrap();
    assert_eq!(
        port(again.clone()).await,
        first_port,
        "node 1 is used again"
    );
    assert_eq!(Item::get(&again, it.id).await.unwrap(), Some(it));
    again.close();
    drop_database(&urls, &name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_during_writes_loses_no_acknowledged_write() {
    let _turn = CLUSTER.lock().await;
    let Some(urls) = cluster().await else { return };
    let dir = dir();
    let pid_file = dir.join("n1/pid");
    let start = dir.join("start-n1");
    if !start.exists() {
        if dal::testing::servers_required() {
            panic!("the Galera start script {} is missing", start.display());
        }
        eprintln!(
            "SKIPPED: the test needs {} to bring node 1 back",
            start.display()
        );
        return;
    }
    let name = database(&urls).await;
    let url = all_nodes(&urls, &name);
    let db = Db::connect(
        DatabaseConfig::builder(&url)
            .max_connections(4)
            .connect_timeout(Duration::from_secs(1))
            .acquire_timeout(Duration::from_secs(3))
            .query_timeout(Duration::from_secs(5))
            .breaker_open_duration(Duration::from_millis(200))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    Item::ensure_schema(&db).await.unwrap();

    let acked: Arc<std::sync::Mutex<Vec<Item>>> = Arc::default();
    let failed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (db, acked, failed, stop) = (db.clone(), acked.clone(), failed.clone(), stop.clone());
        writers.push(tokio::spawn(async move {
            let mut k = 0;
            while !stop.load(Ordering::Relaxed) {
                let mut it = Item {
                    id: 0,
                    token: format!("w{w}-{k}-{}", uuid::Uuid::new_v4().simple()),
                    qty: k,
                };
                k += 1;
                match it.save(&db).await {
                    Ok(()) => acked.lock().unwrap().push(it),
                    Err(_) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }
        }));
    }
    let count = || acked.lock().unwrap().len();
    let t0 = Instant::now();
    while count() < 200 {
        assert!(t0.elapsed() < Duration::from_secs(60), "writes do not flow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // kill node 1 (the one the URL names first) as a crash would
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-9", pid.trim()])
        .status()
        .unwrap();
    assert!(killed.success());
    let at_kill = count();
    let t1 = Instant::now();
    while count() < at_kill + 300 {
        assert!(
            t1.elapsed() < Duration::from_secs(60),
            "writes did not go on through the other nodes ({} after the kill)",
            count() - at_kill
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();

    // every acknowledged write is on the surviving nodes
    let check = |db: Db, acked: Vec<Item>| async move {
        let rows: BTreeSet<(i64, String)> = Item::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|i| (i.id, i.token))
            .collect();
        acked
            .iter()
            .filter(|i| !rows.contains(&(i.id, i.token.clone())))
            .count()
    };
    let node2 = Db::connect_url(&with_database(&urls[1], &name))
        .await
        .unwrap();
    let lost = check(node2.clone(), acked.clone()).await;
    assert_eq!(
        lost,
        0,
        "{lost} of {} acknowledged writes lost",
        acked.len()
    );

    // node 1 comes back, catches up, and has them all too
    let ok = tokio::task::spawn_blocking(move || {
        std::process::Command::new(&start)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    })
    .await
    .unwrap();
    assert!(ok, "node 1 did not come back");
    cluster_whole(&urls).await;
    let node1 = Db::connect_url(&with_database(&urls[0], &name))
        .await
        .unwrap();
    assert_eq!(check(node1.clone(), acked.clone()).await, 0);
    eprintln!(
        "{} acknowledged writes, 0 lost; {} failed around the kill",
        acked.len(),
        failed.load(Ordering::Relaxed)
    );
    for d in [db, node1, node2] {
        d.close();
    }
    drop_database(&urls, &name).await;
}
