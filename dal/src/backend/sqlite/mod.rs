//! SQLite through rusqlite, run on the calling thread: opening connections,
//! the connection's statements and the deadline's interrupt, with the bridge
//! to dal's scalar values in `codec.rs`, the row buffer's filling in `row.rs`
//! and error classification in `error.rs`.
//!
//! Why not sqlx here: sqlx's SQLite driver runs each connection on its own thread
//! and crosses to it once per statement, which measured 4-15x slower than the
//! driver itself. A SQLite statement is a function call into a library, so dal runs
//! a whole unit of work (a statement and its decoding, an entity save with its
//! history row, a bulk insert) on the caller's thread in one go. Waiting for a
//! lock never blocks the thread: connections use `busy_timeout = 0` and dal
//! retries `SQLITE_BUSY` with an async sleep (see `Db`), and query timeouts
//! interrupt the statement from SQLite's progress handler.

pub(crate) mod codec;
pub(crate) mod error;
pub(crate) mod introspect;
pub(crate) mod lock;
pub(crate) mod row;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rusqlite::OpenFlags;

use crate::backend::sink::{Flow, Sink};
use crate::codec::SqliteArg;
use crate::config::{DatabaseConfig, SqliteMode};
use crate::error::{Error, Result, TimeoutKind};
use crate::pool::Manager;
use crate::resilience::deadline::Deadline;
use crate::result::ExecResult;
use crate::row::{Decoder, Row, RowInner, SqliteRow};
use crate::statement::Statement;

pub(crate) use error::{is_busy, is_busy_error, map_err};

/// Opens SQLite connections.
pub(crate) struct SqliteManager {
    pub(crate) target: SqliteTarget,
    pub(crate) flags: OpenFlags,
    pub(crate) statement_cache: usize,
}

/// What a connection opens.
#[derive(Debug, Clone)]
pub(crate) enum SqliteTarget {
    File(PathBuf),
    Memory,
}

/// Column names by statement (address), with the re-prepare count they belong to.
type NameCache = std::collections::HashMap<usize, (i32, Arc<[Box<str>]>)>;

/// One SQLite connection and the statements queued to run before its next use.
pub(crate) struct SqliteConn {
    pub(crate) conn: rusqlite::Connection,
    pub(crate) pending: Vec<String>,
    /// Reused row buffer (no allocation per query once warm).
    row_buf: SqliteRow,
    /// Column names per cached statement, with the statement's re-prepare count
    /// when they were read: names stay valid until SQLite re-prepares it.
    names: NameCache,
}

impl SqliteManager {
    fn open(&self) -> Result<SqliteConn> {
        let conn = match &self.target {
            SqliteTarget::File(p) => rusqlite::Connection::open_with_flags(p, self.flags),
            SqliteTarget::Memory => rusqlite::Connection::open_in_memory_with_flags(self.flags),
        }
        .map_err(map_err)?;
        conn.set_prepared_statement_cache_capacity(self.statement_cache.max(16));
        // waiting for locks is done asynchronously by dal, never inside SQLite
        conn.busy_timeout(Duration::ZERO).map_err(map_err)?;
        let readonly = self.flags.contains(OpenFlags::SQLITE_OPEN_READ_ONLY);
        let mut setup = String::from("PRAGMA foreign_keys = ON;");
        if matches!(self.target, SqliteTarget::File(_)) && !readonly {
            setup.push_str("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
        }
        // journal_mode may meet a lock while another connection opens the file
        let start = Instant::now();
        loop {
            match conn.execute_batch(&setup) {
                Ok(()) => break,
                Err(e) if is_busy(&e) && start.elapsed() < Duration::from_secs(5) => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(e) => return Err(map_err(e)),
            }
        }
        Ok(SqliteConn {
            conn,
            pending: Vec::new(),
            row_buf: SqliteRow::default(),
            names: std::collections::HashMap::new(),
        })
    }
}

impl Manager for SqliteManager {
    type Conn = SqliteConn;

    async fn connect(&self) -> Result<SqliteConn> {
        self.open()
    }

    async fn ping(&self, conn: &mut SqliteConn) -> Result<()> {
        conn.conn
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(map_err)
    }

    async fn reset(&self, conn: &mut SqliteConn) -> Result<()> {
        conn.pending.clear();
        if !conn.conn.is_autocommit() {
            conn.conn.execute_batch("ROLLBACK").map_err(map_err)?;
        }
        Ok(())
    }

    async fn recover(&self, _conn: &mut SqliteConn) -> bool {
        // statements run on the caller's thread and are interrupted in place:
        // nothing is ever left running
        true
    }
}

/// Runs queued statements (rollbacks of dropped nested transactions) first.
pub(crate) fn run_pending(c: &mut SqliteConn) -> Result<()> {
    if c.pending.is_empty() {
        return Ok(());
    }
    let pending = std::mem::take(&mut c.pending);
    for sql in pending {
        c.conn.execute_batch(&sql).map_err(map_err)?;
    }
    Ok(())
}

/// Run `f` within `deadline`: SQLite's progress handler interrupts the
/// running statement once the deadline has passed (the error is then the
/// call's timeout error). A deadline already past runs nothing.
pub(crate) fn within_deadline<R>(
    c: &mut SqliteConn,
    deadline: &Deadline,
    f: impl FnOnce(&mut SqliteConn) -> Result<R>,
) -> Result<R> {
    let Some(at) = deadline.at() else {
        return f(c);
    };
    if Instant::now() >= at {
        return Err(deadline.error(TimeoutKind::Query));
    }
    c.conn
        .progress_handler(1000, Some(move || Instant::now() >= at))
        .map_err(map_err)?;
    // the handler must not outlive the call, even when `f` panics
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut *c)));
    let _ = c.conn.progress_handler(0, None::<fn() -> bool>);
    match r {
        Ok(r) => r.map_err(|e| fix_timeout(e, deadline)),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// An interrupted statement ran out of the call's deadline: say so with the
/// call's figures.
fn fix_timeout(e: Error, deadline: &Deadline) -> Error {
    match e {
        Error::Timeout {
            kind: TimeoutKind::Query,
            ..
        } if deadline.at().is_some() => deadline.error(TimeoutKind::Query),
        e => e,
    }
}

fn with_statement<R>(
    c: &SqliteConn,
    stmt: &Statement,
    args: &[SqliteArg<'_>],
    f: impl FnOnce(&mut rusqlite::Statement<'_>) -> Result<R>,
) -> Result<R> {
    let run = |s: &mut rusqlite::Statement<'_>| -> Result<R> {
        let expected = s.parameter_count();
        if expected != args.len() {
            return Err(Error::invalid_input(
                "parameters",
                format!(
                    "the statement takes {expected} parameter(s), {} given",
                    args.len()
                ),
            ));
        }
        for (i, a) in args.iter().enumerate() {
            s.raw_bind_parameter(i + 1, rusqlite::ToSql::to_sql(a).map_err(map_err)?)
                .map_err(map_err)?;
        }
        f(s)
    };
    if stmt.cached {
        let mut s = c.conn.prepare_cached(&stmt.sql).map_err(map_err)?;
        let r = run(&mut s);
        if r.is_err() {
            // leave nothing bound in the cached statement
            s.clear_bindings();
        }
        r
    } else {
        let mut s = c.conn.prepare(&stmt.sql).map_err(map_err)?;
        run(&mut s)
    }
}

/// Run a statement that returns no rows (rows are read and discarded if it does).
pub(crate) fn execute(
    c: &mut SqliteConn,
    stmt: &Statement,
    args: &[SqliteArg<'_>],
) -> Result<ExecResult> {
    run_pending(c)?;
    let affected = with_statement(c, stmt, args, |s| {
        if s.column_count() == 0 {
            s.raw_execute().map(|n| n as u64).map_err(map_err)
        } else {
            let mut rows = s.raw_query();
            while rows.next().map_err(map_err)?.is_some() {}
            Ok(c.conn.changes())
        }
    })?;
    let last_insert_id = (stmt.is_insert && affected > 0).then(|| c.conn.last_insert_rowid());
    Ok(ExecResult {
        rows_affected: affected,
        last_insert_id,
    })
}

/// Run a query and decode its rows straight from the statement into `sink`
/// (up to the sink's limit). A stream's sink blocks this thread while its
/// reader is behind (the statement stays where it stepped to).
pub(crate) fn fetch_into<T, S: Sink<T>>(
    c: &mut SqliteConn,
    stmt: &Statement,
    args: &[SqliteArg<'_>],
    sink: &mut S,
    decoder: &Decoder<T>,
) -> Result<()> {
    run_pending(c)?;
    let mut buf = std::mem::take(&mut c.row_buf);
    let mut names = std::mem::take(&mut c.names);
    let result = with_statement(c, stmt, args, |s| {
        let mut rows = s.raw_query();
        let mut named = false;
        let mut positional = false;
        while let Some(r) = rows.next().map_err(map_err)? {
            if !named {
                // column names are read after the first step: SQLite re-prepares a
                // statement whose schema changed (`SELECT *` may gain columns) there
                buf.reset(columns_of(stmt, r.as_ref(), &mut names));
                positional = decoder.positional(buf.columns.iter().map(|c| &**c));
                named = true;
            }
            buf.fill(r)?;
            let row = (decoder.borrowed)(&Row {
                inner: RowInner::SqliteBuf(&buf),
                positional,
            })?;
            match sink.push(row) {
                Flow::More => {}
                Flow::Stop => break,
                Flow::Flush => {
                    if !sink.flush_blocking() {
                        break;
                    }
                }
            }
        }
        Ok(())
    });
    c.row_buf = buf;
    c.names = names;
    result
}

/// The result's column names. For a cached statement they are read once per
/// connection and reused until SQLite re-prepares the statement (a schema change
/// can alter them, `SELECT *` most of all), which its re-prepare counter shows,
/// or prepares it anew.
fn columns_of(
    stmt: &Statement,
    s: &rusqlite::Statement<'_>,
    names: &mut NameCache,
) -> Arc<[Box<str>]> {
    let read = || -> Arc<[Box<str>]> { s.column_names().into_iter().map(Box::from).collect() };
    if !stmt.cached {
        return read();
    }
    let key = stmt as *const Statement as usize;
    let reprepared = s.get_status(rusqlite::StatementStatus::RePrepare);
    // a first run means a newly prepared statement (the cache may have evicted
    // the one the names were read from), whose counter starts again at 0
    let first_run = s.get_status(rusqlite::StatementStatus::Run) <= 1;
    match names.get(&key) {
        Some((count, cols)) if *count == reprepared && !first_run => cols.clone(),
        _ => {
            let cols = read();
            names.insert(key, (reprepared, cols.clone()));
            cols
        }
    }
}

/// Run several statements separated by `;` with no parameters.
pub(crate) fn execute_batch(c: &mut SqliteConn, sql: &str) -> Result<()> {
    run_pending(c)?;
    c.conn.execute_batch(sql).map_err(map_err)
}

/// Roll back the open transaction, if any, dropping queued statements;
/// whether that worked.
pub(crate) fn rollback_now(c: &mut SqliteConn) -> bool {
    c.pending.clear();
    c.conn.is_autocommit() || c.conn.execute_batch("ROLLBACK").is_ok()
}

/// The first foreign-key violation in the database (`PRAGMA
/// foreign_key_check`), as (table, referenced table).
pub(crate) fn foreign_key_violation(c: &mut SqliteConn) -> Result<Option<(String, String)>> {
    let mut stmt = c
        .conn
        .prepare("PRAGMA foreign_key_check")
        .map_err(map_err)?;
    let mut rows = stmt.query([]).map_err(map_err)?;
    if let Some(r) = rows.next().map_err(map_err)? {
        let table: String = r.get(0).unwrap_or_default();
        let parent: String = r.get(2).unwrap_or_default();
        return Ok(Some((table, parent)));
    }
    Ok(None)
}

/// A round trip that checks the connection.
pub(crate) fn ping(c: &mut SqliteConn) -> Result<()> {
    c.conn
        .query_row("SELECT 1", [], |_| Ok(()))
        .map_err(map_err)
}

/// The connection manager for `config`.
pub(crate) fn manager(config: &DatabaseConfig) -> Result<SqliteManager> {
    use rusqlite::OpenFlags as F;
    let base = F::SQLITE_OPEN_NO_MUTEX | F::SQLITE_OPEN_URI;
    let (target, flags) = if config.is_sqlite_memory() {
        (
            SqliteTarget::Memory,
            base | F::SQLITE_OPEN_READ_WRITE | F::SQLITE_OPEN_CREATE,
        )
    } else {
        let path = config
            .sqlite_path()
            .ok_or_else(|| Error::invalid_input("url", "SQLite URL without a path"))?;
        let mode = match config.sqlite_mode() {
            Some(SqliteMode::ReadOnly) => F::SQLITE_OPEN_READ_ONLY,
            Some(SqliteMode::ReadWrite) => F::SQLITE_OPEN_READ_WRITE,
            _ => F::SQLITE_OPEN_READ_WRITE | F::SQLITE_OPEN_CREATE,
        };
        (SqliteTarget::File(path.to_path_buf()), base | mode)
    };
    Ok(SqliteManager {
        target,
        flags,
        statement_cache: config.statement_cache_capacity(),
    })
}
