//! Keeping a table's generated ids ahead of ids written explicitly.
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
    if conn.dialect() != Dialect::Postgres {
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
    conn.execute_raw_in(&lock, opts.busy_timeout, opts.ctx.tx_id)
        .await?;
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
