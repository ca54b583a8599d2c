//! Generated ids: keeping a table's sequence ahead of ids written explicitly,
//! and learning the ids of a multi-row insert on the MySQL family.
//!
//! MySQL/MariaDB (InnoDB's auto-increment counter) and SQLite (`AUTOINCREMENT`'s
//! `sqlite_sequence`) move past an id that is inserted explicitly; PostgreSQL's
//! identity and serial sequences do not, so after rows with their own ids the
//! next generated id would collide with them. Writes that carry explicit ids
//! (entity `save_all`, dynamic `import`) call [`before_explicit_ids`] before
//! writing and [`after_explicit_ids`] after, in the same transaction, so the
//! next generated id is larger than every id written, on every backend.
//!
//! Concurrency on PostgreSQL: the sequence is only ever moved forward (`setval`
//! runs only when the highest id written is beyond every value the sequence has
//! handed out). When it must move, the table is locked in `SHARE ROW EXCLUSIVE`
//! mode before the rows are written (a self-conflicting lock that lets reads
//! through and makes concurrent writers of the table wait for the commit), so no
//! INSERT can draw a value from the sequence between the check and the `setval`.
//! `nextval` called outside an INSERT on the same sequence is not blocked by the
//! lock; such a call landing between the check and the `setval` of the same
//! statement (microseconds) is the one case left to the unique key.

use crate::backend::{Conn, ExecOptions};
use crate::db::Db;
pub(crate) use crate::db::MySqlIds;
use crate::error::Result;
use crate::transaction::Transaction;
use dal_schema::Dialect;

/// `(sequence, highest value handed out)` of `table.column`, when the column
/// has a sequence. A sequence never called since its start or restart reports
/// no last value: `nextval` then takes (and spends) its first value.
const CHECK_SQL: &str = "SELECT s::text, COALESCE(pg_sequence_last_value(s), nextval(s)) \
                         FROM (SELECT pg_get_serial_sequence(?, ?)::regclass AS s) q \
                         WHERE s IS NOT NULL";

/// Move the sequence to the highest id written, unless it is already beyond.
const ADVANCE_SQL: &str = "SELECT setval(s, ?) FROM (SELECT CAST(? AS regclass) AS s) q \
                           WHERE ? > COALESCE(pg_sequence_last_value(s), nextval(s))";

/// A sequence that must be moved forward once the rows are written.
#[derive(Debug)]
pub(crate) struct Advance {
    sequence: String,
    max_id: i64,
}

/// Before writing rows whose highest explicit id is `max_id` into `table`
/// (unquoted name) with key `column`: on PostgreSQL, find out whether the key's
/// sequence must move past `max_id` and, if so, lock the table (see the module
/// documentation). `None` when nothing is to be done (other dialects, no
/// sequence, or the sequence is already beyond).
pub(crate) async fn before_explicit_ids(
    db: &Db,
    conn: &mut Conn,
    opts: ExecOptions,
    table: &str,
    column: &str,
    max_id: i64,
) -> Result<Option<Advance>> {
    if !conn.dialect().capabilities().sequence_lags_explicit_ids {
        return Ok(None);
    }
    let qualified = Dialect::Postgres.quote_identifier(table);
    let stmt = db.inner.statements.get(CHECK_SQL)?;
    let rows: Vec<(String, i64)> = conn
        .fetch_as(&stmt, &(qualified.as_str(), column), Some(1), opts)
        .await?;
    let Some((sequence, handed_out)) = rows.into_iter().next() else {
        return Ok(None);
    };
    if handed_out >= max_id {
        return Ok(None);
    }
    let lock = format!("LOCK TABLE {qualified} IN SHARE ROW EXCLUSIVE MODE");
    conn.execute_raw(&lock, opts).await?;
    Ok(Some(Advance { sequence, max_id }))
}

/// After the rows are written: move the sequence forward to `max_id` (so the
/// next generated id is larger), unless it has moved beyond meanwhile.
pub(crate) async fn after_explicit_ids(
    db: &Db,
    conn: &mut Conn,
    opts: ExecOptions,
    advance: Option<Advance>,
) -> Result<()> {
    let Some(Advance { sequence, max_id }) = advance else {
        return Ok(());
    };
    let stmt = db.inner.statements.get(ADVANCE_SQL)?;
    let _: Vec<(i64,)> = conn
        .fetch_as(&stmt, &(max_id, sequence.as_str(), max_id), Some(1), opts)
        .await?;
    Ok(())
}

/// [`before_explicit_ids`] inside a transaction.
pub(crate) async fn before_explicit_ids_in(
    tx: &mut Transaction<'_>,
    table: &str,
    column: &str,
    max_id: i64,
) -> Result<Option<Advance>> {
    let opts = tx.options();
    let (db, conn, _, _) = tx.parts();
    before_explicit_ids(db, conn, opts, table, column, max_id).await
}

/// [`after_explicit_ids`] inside a transaction.
pub(crate) async fn after_explicit_ids_in(
    tx: &mut Transaction<'_>,
    advance: Option<Advance>,
) -> Result<()> {
    let opts = tx.options();
    let (db, conn, _, _) = tx.parts();
    after_explicit_ids(db, conn, opts, advance).await
}

/// After one row with its own id `id` was written into `table` outside a
/// batch: on PostgreSQL, move the key's sequence to `id` unless it is beyond
/// already, in one statement. Without the batch's table lock (a single save
/// may run outside a transaction, and upgrading the lock of a table written
/// already invites deadlocks), a `nextval` by another session in the same
/// microseconds may be handed out again; it then fails on the unique key.
pub(crate) async fn advance_past(
    db: &Db,
    conn: &mut Conn,
    opts: ExecOptions,
    table: &str,
    column: &str,
    id: i64,
) -> Result<()> {
    if !conn.dialect().capabilities().sequence_lags_explicit_ids {
        return Ok(());
    }
    let qualified = Dialect::Postgres.quote_identifier(table);
    let stmt = db.inner.statements.get(ADVANCE_PAST_SQL)?;
    let _: Vec<(i64,)> = conn
        .fetch_as(&stmt, &(id, qualified.as_str(), column, id), Some(1), opts)
        .await?;
    Ok(())
}

/// [`advance_past`]'s statement: the sequence found and moved in one go.
const ADVANCE_PAST_SQL: &str = "SELECT setval(s, ?) \
                                FROM (SELECT pg_get_serial_sequence(?, ?)::regclass AS s) q \
                                WHERE s IS NOT NULL \
                                AND ? > COALESCE(pg_sequence_last_value(s), nextval(s))";

/// How this server reports the ids of multi-row inserts; asked once per `Db`.
pub(crate) async fn mysql_ids(db: &Db, conn: &mut Conn, opts: ExecOptions) -> Result<MySqlIds> {
    if let Some(ids) = db.inner.mysql_ids.get() {
        return Ok(*ids);
    }
    let stmt = db.inner.statements.get(
        "SELECT VERSION(), CAST(@@innodb_autoinc_lock_mode AS SIGNED), \
         CAST(@@auto_increment_increment AS SIGNED)",
    )?;
    let rows: Vec<(String, i64, i64)> = conn.fetch_as(&stmt, &(), Some(1), opts).await?;
    let ids = rows
        .first()
        .map_or(MySqlIds::OneByOne, |(version, mode, step)| {
            mysql_ids_for(version, *mode, *step)
        });
    let _ = db.inner.mysql_ids.set(ids);
    Ok(ids)
}

/// [`mysql_ids`] inside a transaction.
pub(crate) async fn mysql_ids_in(tx: &mut Transaction<'_>) -> Result<MySqlIds> {
    let opts = tx.options();
    let (db, conn, _, _) = tx.parts();
    mysql_ids(db, conn, opts).await
}

fn mysql_ids_for(version: &str, lock_mode: i64, step: i64) -> MySqlIds {
    if lock_mode <= 1 {
        return MySqlIds::Step(step.max(1));
    }
    // "10.11.19-MariaDB-0+deb12u1"
    let mut numbers = version
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u32>().ok());
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    if version.contains("MariaDB") && (major, minor) >= (10, 5) {
        MySqlIds::Returning
    } else {
        MySqlIds::OneByOne
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Entity;
    use serde_json::json;

    fn mariadb_admin_url() -> String {
        std::env::var("DAL_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
    }

    /// A fresh MariaDB database on the server the integration tests use
    /// (`DAL_TEST_MYSQL_URL`): its name and URL. `None` (with a message) when
    /// the server does not answer, unless `DAL_TEST_REQUIRE_SERVERS` is set.
    async fn fresh_mariadb() -> Option<(String, String)> {
        let admin_url = mariadb_admin_url();
        let admin = match Db::connect_url(&admin_url).await {
            Ok(db) => db,
            Err(e) => {
                let required = matches!(
                    std::env::var("DAL_TEST_REQUIRE_SERVERS").ok().as_deref(),
                    Some("1" | "true" | "yes")
                );
                assert!(!required, "MariaDB is required but did not answer: {e}");
                eprintln!("SKIPPED: MariaDB did not answer: {e}");
                return None;
            }
        };
        let name = format!("dal_u_{}", uuid::Uuid::new_v4().simple());
        admin
            .execute_script(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
            .await
            .unwrap();
        admin.close();
        // the database is the URL's path: replace its last segment
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        Some((name, url.to_string()))
    }

    async fn drop_database(name: &str) {
        if let Ok(admin) = Db::connect_url(&mariadb_admin_url()).await {
            let _ = admin
                .execute_script(&format!("DROP DATABASE IF EXISTS `{name}`"))
                .await;
            admin.close();
        }
    }

    #[derive(Entity, Debug, Clone, PartialEq)]
    #[dal(table = "seq_items")]
    struct SeqItem {
        id: i64,
        n: i64,
    }

    /// The paths for InnoDB's "interleaved" lock mode, which the test server
    /// (lock mode 1) does not use by itself: ids come back from `RETURNING`, or
    /// rows go one at a time; either way every object gets its own row's id.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mariadb_multi_row_inserts_learn_their_ids_in_every_lock_mode() {
        let Some((name, url)) = fresh_mariadb().await else {
            return;
        };
        for (k, mode) in [MySqlIds::Returning, MySqlIds::OneByOne]
            .into_iter()
            .enumerate()
        {
            // a new handle: the way ids are learnt is read once per `Db`
            let db = Db::connect_url(&url).await.unwrap();
            db.inner.mysql_ids.set(mode).unwrap();
            let entity = db.dynamic(&format!("seq_dyn_{k}")).unwrap();
            // a first row, so that the batch does not start at 1
            entity.save(json!({"n": -1})).await.unwrap();
            let saved = entity
                .save_many((0..700).map(|n| json!({"n": n})).collect())
                .await
                .unwrap();
            let mut ids: Vec<i64> = saved.iter().map(|o| o["id"].as_i64().unwrap()).collect();
            for (n, o) in saved.iter().enumerate().step_by(97) {
                let id = o["id"].as_i64().unwrap();
                assert_eq!(
                    entity.get(id).await.unwrap().unwrap()["n"],
                    n as i64,
                    "{mode:?}"
                );
                assert_eq!(entity.history(id).await.unwrap()[0].data["n"], n as i64);
            }
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), 700);

            if k == 0 {
                SeqItem::ensure_schema(&db).await.unwrap();
            }
            let mut items: Vec<SeqItem> = (0..300).map(|n| SeqItem { id: 0, n }).collect();
            SeqItem::save_all(&mut items, &db).await.unwrap();
            for item in items.iter().step_by(37) {
                assert_eq!(SeqItem::get(&db, item.id).await.unwrap().unwrap().n, item.n);
            }
            db.close();
        }
        drop_database(&name).await;
    }

    #[test]
    fn multi_row_insert_ids_by_server() {
        assert_eq!(
            mysql_ids_for("10.11.19-MariaDB-0+deb12u1", 1, 1),
            MySqlIds::Step(1)
        );
        assert_eq!(mysql_ids_for("8.0.36", 0, 2), MySqlIds::Step(2));
        assert_eq!(
            mysql_ids_for("10.11.19-MariaDB-0+deb12u1", 2, 1),
            MySqlIds::Returning
        );
        assert_eq!(mysql_ids_for("10.5.2-MariaDB", 2, 3), MySqlIds::Returning);
        assert_eq!(mysql_ids_for("10.4.30-MariaDB", 2, 1), MySqlIds::OneByOne);
        assert_eq!(mysql_ids_for("8.0.36", 2, 1), MySqlIds::OneByOne);
    }
}
