//! The read cache on the real servers: `get` of a `#[dal(cache)]` entity
//! answers from the cache, and every write path invalidates what it could
//! have changed (save, save_all, upsert, delete, restore, update and delete
//! by filter, raw SQL, a transaction at its commit, a parent's cascading
//! delete), in process (every backend) and on Redis (shared by two `Db`s
//! standing for two processes). A Redis that does not answer degrades to
//! the database, counted, never an error.
//!
//! Redis is `DAL_TEST_REDIS_URL` (default `redis://127.0.0.1:6379`); when it
//! does not answer, its tests print why and pass, unless
//! `DAL_TEST_REQUIRE_SERVERS=1` (CI).

#[macro_use]
#[allow(unused_macros)]
mod support;

use std::time::Duration;

use dal::{CacheConfig, CacheStats, Db, Entity};
use serde::{Deserialize, Serialize};
use support::TestDb;

#[derive(Entity, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[dal(table = "ca_accounts", cache, soft_delete, has_many(notes = Note::ACCOUNT))]
pub struct Account {
    pub id: i64,
    #[dal(unique, length = 100)]
    pub email: String,
    pub balance: i64,
    pub deleted_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A child whose rows go with its account's (`ON DELETE CASCADE`).
#[derive(Entity, Debug, Clone, PartialEq, Serialize, Deserialize)]
#[dal(table = "ca_notes", cache)]
pub struct Note {
    pub id: i64,
    #[dal(belongs_to = Account, on_delete = "cascade")]
    pub account_id: i64,
    #[dal(length = 200)]
    pub text: String,
}

fn account(email: &str, balance: i64) -> Account {
    Account {
        id: 0,
        email: email.into(),
        balance,
        deleted_at: None,
    }
}

fn hits(db: &Db) -> CacheStats {
    db.cache_stats().expect("a cache is configured")
}

/// `get` through the cache: the balance it sees.
async fn balance(db: &Db, id: i64) -> Option<i64> {
    Account::get(db, id).await.unwrap().map(|a| a.balance)
}

/// Every write path invalidates, on `db` (cached) with `other` writing
/// through another handle (`None`: the same one).
async fn every_write_path_invalidates(db: &Db, writer: &Db) {
    Account::ensure_schema(db).await.unwrap();
    Note::ensure_schema(db).await.unwrap();
    let mut a = account("a@example.com", 10);
    a.save(writer).await.unwrap();

    // a miss fills the cache, the next get is a hit
    let before = hits(db);
    assert_eq!(balance(db, a.id).await, Some(10));
    assert_eq!(balance(db, a.id).await, Some(10));
    let after = hits(db);
    assert_eq!(after.misses - before.misses, 1, "{after:?}");
    assert_eq!(after.hits - before.hits, 1, "{after:?}");

    // save (update)
    a.balance = 11;
    a.save(writer).await.unwrap();
    assert_eq!(balance(db, a.id).await, Some(11), "after save");

    // update by filter
    Account::find()
        .filter(Account::ID.eq(a.id))
        .update_many(writer, vec![Account::BALANCE.set(12)])
        .await
        .unwrap();
    assert_eq!(balance(db, a.id).await, Some(12), "after update_many");

    // upsert on the unique email
    let mut same = account("a@example.com", 13);
    Account::on_conflict(Account::EMAIL)
        .update(Account::BALANCE)
        .save(&mut same, writer)
        .await
        .unwrap();
    assert_eq!(balance(db, a.id).await, Some(13), "after upsert");

    // save_all
    let mut fresh = Account::get(writer, a.id).await.unwrap().unwrap();
    fresh.balance = 14;
    let mut batch = vec![fresh, account("b@example.com", 1)];
    Account::save_all(&mut batch, writer).await.unwrap();
    assert_eq!(balance(db, a.id).await, Some(14), "after save_all");

    // raw SQL
    writer
        .execute(
            "UPDATE [ca_accounts] SET [balance] = 15 WHERE [id] = ?",
            (a.id,),
        )
        .await
        .unwrap();
    assert_eq!(balance(db, a.id).await, Some(15), "after raw SQL");

    // a transaction: invalidated at its commit, not before (a read before
    // the commit sees, and caches, the committed row)
    let mut tx = writer.begin().await.unwrap();
    tx.execute(
        "UPDATE [ca_accounts] SET [balance] = 16 WHERE [id] = ?",
        (a.id,),
    )
    .await
    .unwrap();
    assert_eq!(balance(db, a.id).await, Some(15), "before the commit");
    tx.commit().await.unwrap();
    assert_eq!(balance(db, a.id).await, Some(16), "after the commit");
    // rolled back: the row, and what the cache holds, stay as they were
    let mut tx = writer.begin().await.unwrap();
    tx.execute(
        "UPDATE [ca_accounts] SET [balance] = 99 WHERE [id] = ?",
        (a.id,),
    )
    .await
    .unwrap();
    tx.rollback().await.unwrap();
    assert_eq!(balance(db, a.id).await, Some(16), "after a rollback");

    // soft delete, restore, delete by filter, permanent delete
    let mut current = Account::get(writer, a.id).await.unwrap().unwrap();
    current.delete(writer).await.unwrap();
    assert_eq!(balance(db, a.id).await, None, "after a soft delete");
    current.restore(writer).await.unwrap();
    assert_eq!(balance(db, a.id).await, Some(16), "after restore");
    Account::find()
        .filter(Account::ID.eq(a.id))
        .delete_many(writer)
        .await
        .unwrap();
    assert_eq!(balance(db, a.id).await, None, "after delete_many");
    let b = batch[1].id;
    assert_eq!(balance(db, b).await, Some(1));
    let mut gone = Account::get(writer, b).await.unwrap().unwrap();
    // a note of b's, cached, goes with it (ON DELETE CASCADE)
    let mut note = Note {
        id: 0,
        account_id: b,
        text: "kept?".into(),
    };
    note.save(writer).await.unwrap();
    assert!(Note::get(db, note.id).await.unwrap().is_some());
    assert!(Note::get(db, note.id).await.unwrap().is_some());
    gone.delete_permanently(writer).await.unwrap();
    assert_eq!(balance(db, b).await, None, "after delete_permanently");
    assert_eq!(
        Note::get(db, note.id).await.unwrap(),
        None,
        "the cascade's child"
    );

    // inside a transaction, reads skip the cache (they see the
    // transaction's own writes)
    let mut c = account("c@example.com", 1);
    c.save(writer).await.unwrap();
    assert_eq!(balance(db, c.id).await, Some(1));
    let mut tx = db.begin().await.unwrap();
    c.balance = 2;
    c.save(&mut tx).await.unwrap();
    assert_eq!(
        Account::get(&mut tx, c.id).await.unwrap().unwrap().balance,
        2
    );
    tx.commit().await.unwrap();
    assert_eq!(balance(db, c.id).await, Some(2));
}

/// Queries marked `cached()`: answered from the cache, per query text and
/// parameters, and invalidated by writes to their table.
async fn cached_queries(db: &Db, writer: &Db) {
    let rich = || {
        Account::find()
            .filter(Account::BALANCE.ge(100))
            .order_by(Account::EMAIL.asc())
            .cached()
    };
    let mut r1 = account("r1@example.com", 100);
    r1.save(writer).await.unwrap();
    let before = hits(db);
    let first = rich().all(db).await.unwrap();
    let again = rich().all(db).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(first.len(), 1);
    assert_eq!(rich().count(db).await.unwrap(), 1);
    assert_eq!(rich().count(db).await.unwrap(), 1);
    let after = hits(db);
    assert_eq!(after.hits - before.hits, 2, "{after:?}");
    // other parameters: another entry
    let poor = Account::find()
        .filter(Account::BALANCE.lt(100))
        .cached()
        .all(db)
        .await
        .unwrap();
    assert!(poor.iter().all(|a| a.balance < 100));
    // a write to the table: the queries read the database again
    let mut r2 = account("r2@example.com", 200);
    r2.save(writer).await.unwrap();
    assert_eq!(rich().all(db).await.unwrap().len(), 2);
    assert_eq!(rich().count(db).await.unwrap(), 2);
    // the same text with another parameter: its own entry
    let richer = || Account::find().filter(Account::BALANCE.ge(150)).cached();
    assert_eq!(richer().count(db).await.unwrap(), 1);
    assert_eq!(richer().count(db).await.unwrap(), 1);
    assert_eq!(
        rich().optional(db).await.unwrap().unwrap().email,
        "r1@example.com"
    );
    r1.balance = 0;
    r1.save(writer).await.unwrap();
    assert_eq!(rich().one(db).await.unwrap().email, "r2@example.com");
    assert!(rich().exists(db).await.unwrap());
}

async fn memory_cache(t: &TestDb) {
    let db = &t.db;
    assert!(!db.config().cache().unwrap().is_redis());
    every_write_path_invalidates(db, db).await;
    cached_queries(db, db).await;
    let s = hits(db);
    assert!(s.hits >= 1 && s.misses >= 10 && s.errors == 0, "{s:?}");
}

fn with_memory(b: dal::DatabaseConfigBuilder) -> dal::DatabaseConfigBuilder {
    b.cache(CacheConfig::memory(1000))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_cache() {
    let Some(t) = support::sqlite_with(with_memory).await else {
        return;
    };
    memory_cache(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_memory_cache() {
    let Some(t) = support::postgres_with(with_memory).await else {
        return;
    };
    memory_cache(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_memory_cache() {
    let Some(t) = support::mysql_with(with_memory).await else {
        return;
    };
    memory_cache(&t).await;
}

/// The memory store keeps at most its capacity, the oldest going first,
/// and entries expire after the TTL; both count as evictions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_cache_evicts_the_oldest_and_the_expired() {
    let Some(t) =
        support::sqlite_with(|b| b.cache(CacheConfig::memory(2).ttl(Duration::from_millis(300))))
            .await
    else {
        return;
    };
    let db = &t.db;
    Account::ensure_schema(db).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut a = account(&format!("{i}@example.com"), i);
        a.save(db).await.unwrap();
        ids.push(a.id);
    }
    for id in &ids {
        balance(db, *id).await;
    }
    // three stored in a store of two: the first went
    assert_eq!(hits(db).evictions, 1);
    let before = hits(db);
    balance(db, ids[2]).await;
    assert_eq!(hits(db).hits, before.hits + 1);
    balance(db, ids[0]).await;
    assert_eq!(hits(db).misses, before.misses + 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = hits(db);
    balance(db, ids[0]).await;
    let after = hits(db);
    assert_eq!(after.misses, before.misses + 1, "expired: {after:?}");
    assert!(after.evictions > before.evictions, "{after:?}");
}

// ------------------------------------------------------------------ Redis

const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

fn redis_url() -> String {
    std::env::var("DAL_TEST_REDIS_URL").unwrap_or_else(|_| DEFAULT_REDIS_URL.to_string())
}

/// Whether Redis answers a PING (a failure under DAL_TEST_REQUIRE_SERVERS=1).
async fn redis_answers() -> bool {
    let url = redis_url();
    let host = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap_or("")
        .rsplit('@')
        .next()
        .unwrap_or("")
        .to_string();
    let ping = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(&host).await?;
        s.write_all(b"PING\r\n").await?;
        let mut buf = [0u8; 7];
        s.read_exact(&mut buf).await?;
        Ok::<bool, std::io::Error>(&buf == b"+PONG\r\n")
    };
    match tokio::time::timeout(Duration::from_secs(3), ping).await {
        Ok(Ok(true)) => true,
        other => {
            if dal::testing::servers_required() {
                panic!("Redis is required (DAL_TEST_REQUIRE_SERVERS=1) at {url}: {other:?}");
            }
            eprintln!("SKIPPED: the test needs Redis at {url}: {other:?}");
            false
        }
    }
}

/// Two `Db`s on the same database and Redis (two processes, in effect):
/// what one writes, the other's cache does not serve stale.
async fn shared_redis_cache(t: &TestDb) {
    let cache = CacheConfig::redis(redis_url()).ttl(Duration::from_secs(30));
    let config =
        t.db.config()
            .to_builder()
            .cache(cache.clone())
            .build()
            .unwrap();
    let one = Db::connect(config.clone()).await.unwrap();
    let two = Db::connect(config).await.unwrap();
    assert!(one.config().cache().unwrap().is_redis());
    every_write_path_invalidates(&one, &two).await;
    cached_queries(&one, &two).await;
    let s = hits(&one);
    assert!(s.hits >= 1 && s.errors == 0, "{s:?}");
    // and the other way round: one writes, two's cache follows
    let mut a = account("two@example.com", 1);
    a.save(&one).await.unwrap();
    assert_eq!(balance(&two, a.id).await, Some(1));
    assert_eq!(balance(&two, a.id).await, Some(1));
    a.balance = 2;
    a.save(&one).await.unwrap();
    // the invalidation travels through Redis, sent as the write returned
    let start = std::time::Instant::now();
    while balance(&two, a.id).await != Some(2) {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "another process's write was not seen"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    one.close();
    two.close();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_redis_cache() {
    if !redis_answers().await {
        return;
    }
    let Some(t) = support::postgres().await else {
        return;
    };
    shared_redis_cache(&t).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_redis_cache() {
    if !redis_answers().await {
        return;
    }
    let Some(t) = support::mysql().await else {
        return;
    };
    shared_redis_cache(&t).await;
}

/// A Redis that does not answer: every read still answers from the
/// database, the failures are counted, and no call fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_outage_degrades_to_the_database() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let Some(t) = support::sqlite_with(|b| {
        b.cache(
            CacheConfig::redis(format!("redis://127.0.0.1:{closed}"))
                .timeout(Duration::from_millis(200)),
        )
    })
    .await
    else {
        return;
    };
    let db = &t.db;
    Account::ensure_schema(db).await.unwrap();
    let mut a = account("down@example.com", 5);
    a.save(db).await.unwrap();
    for _ in 0..3 {
        assert_eq!(balance(db, a.id).await, Some(5));
    }
    a.balance = 6;
    a.save(db).await.unwrap();
    assert_eq!(balance(db, a.id).await, Some(6));
    let s = hits(db);
    assert!(s.errors >= 1, "the outage was not counted: {s:?}");
    assert_eq!(s.hits, 0, "{s:?}");
    // reads that skipped the cache are no misses: each failure is one
    // lookup, the rest went straight to the database
    assert!(
        s.misses <= s.errors,
        "skipped reads counted as misses: {s:?}"
    );
}

/// The configuration: builder, environment, and its problems.
#[test]
fn cache_configuration() {
    let c = dal::DatabaseConfig::builder("sqlite::memory:")
        .cache(CacheConfig::redis("redis://:hunter2@cache:6379/2").ttl(Duration::from_secs(5)))
        .build()
        .unwrap();
    let cache = c.cache().unwrap();
    assert!(cache.is_redis());
    assert_eq!(cache.time_to_live(), Duration::from_secs(5));
    let shown = format!("{c:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(
        dal::DatabaseConfig::builder("sqlite::memory:")
            .build()
            .unwrap()
            .cache()
            .is_none()
    );
    for bad in [
        CacheConfig::memory(0),
        CacheConfig::memory(10).ttl(Duration::ZERO),
        CacheConfig::redis("http://cache:6379"),
    ] {
        let e = dal::DatabaseConfig::builder("sqlite::memory:")
            .cache(bad)
            .build()
            .unwrap_err()
            .to_string();
        assert!(e.contains("cache"), "{e}");
    }
}
