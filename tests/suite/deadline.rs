//! The per-call deadline on the script path (`execute_script`: DDL, session
//! settings, transaction control, migrations): a statement that keeps the
//! server busy ends with the query-timeout error by the configured limit, is
//! stopped on the server, and leaves the database usable. The deadline is
//! enforced in one place for every statement (`Conn::run` in the backend).

use std::time::{Duration, Instant};

use dal::{DatabaseConfig, Db, Dialect, Error, TimeoutKind};

use crate::support::TestDb;

/// A script statement that keeps the database busy far longer than the limit
/// and returns no rows (so every backend's script path runs it as is).
fn busy_script(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "SELECT pg_sleep(30)",
        Dialect::MySql => "DO SLEEP(30)",
        // an endless recursive query: only the interrupt stops it
        Dialect::Sqlite => {
            "CREATE TEMP TABLE dl_endless AS WITH RECURSIVE c(x) AS \
             (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) AS n FROM c"
        }
    }
}

/// The limit the tests configure, and the slack allowed on top of it (a
/// loaded machine; no tight timing asserts here, see tests/contracts.rs).
const LIMIT: Duration = Duration::from_millis(500);
const SLACK: Duration = Duration::from_secs(10);

fn assert_query_timeout(err: &Error, took: Duration, what: &str) {
    assert!(
        matches!(
            err,
            Error::Timeout {
                kind: TimeoutKind::Query,
                ..
            }
        ),
        "{what}: {err:?}"
    );
    assert!(
        took >= LIMIT - Duration::from_millis(50),
        "{what}: {took:?}"
    );
    assert!(took < LIMIT + SLACK, "{what}: took {took:?}");
}

/// Wait (up to a few seconds) until no session of this test's database runs
/// `sql` any more on the server: the timed-out statement was stopped there.
async fn stopped_on_the_server(db: &TestDb, sql: &str) {
    let probe = match db.dialect() {
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND pid <> pg_backend_pid() AND state = 'active' AND query = ?"
        }
        Dialect::MySql => {
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() \
             AND ID <> CONNECTION_ID() AND INFO = ?"
        }
        // runs on the caller's thread: nothing outlives the interrupted call
        Dialect::Sqlite => return,
    };
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        let running: i64 = db.fetch_scalar(probe, (sql,)).await.unwrap();
        if running == 0 {
            return;
        }
        assert!(Instant::now() < until, "`{sql}` still runs on the server");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn one_connection(db: &TestDb) -> Db {
    let config = DatabaseConfig::builder(&db.url)
        .max_connections(1)
        .query_timeout(LIMIT)
        .build()
        .unwrap();
    Db::connect(config).await.unwrap()
}

/// `Db::execute_script` with a statement that sleeps on the server fails with
/// the query-timeout error by the limit; the (only) connection then runs the
/// next statements, script and prepared.
pub async fn dl_script_statement_times_out(db: &TestDb) {
    let small = one_connection(db).await;
    let start = Instant::now();
    let err = small
        .execute_script(busy_script(small.dialect()))
        .await
        .unwrap_err();
    assert_query_timeout(&err, start.elapsed(), "execute_script");
    stopped_on_the_server(db, busy_script(small.dialect())).await;

    small.execute_script("SELECT 1").await.unwrap();
    let one: i64 = small.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    assert_eq!(small.pool_status().max, 1);
    small.close();
}

/// The same inside a transaction (`Transaction::execute_script`): the
/// transaction is given up and the database stays usable.
pub async fn dl_script_statement_in_a_transaction_times_out(db: &TestDb) {
    let small = one_connection(db).await;
    let mut tx = small.begin().await.unwrap();
    let start = Instant::now();
    let err = tx
        .execute_script(busy_script(small.dialect()))
        .await
        .unwrap_err();
    assert_query_timeout(&err, start.elapsed(), "Transaction::execute_script");
    drop(tx);
    stopped_on_the_server(db, busy_script(small.dialect())).await;

    let one: i64 = small.fetch_scalar("SELECT 1", ()).await.unwrap();
    assert_eq!(one, 1);
    small.execute_script("SELECT 1").await.unwrap();
    small.close();
}

macro_rules! deadline_tests {
    ($setup:path) => {
        backend_tests!($setup;
            deadline::dl_script_statement_times_out,
            deadline::dl_script_statement_in_a_transaction_times_out,
        );
    };
}
