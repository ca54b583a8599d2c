//! PostgreSQL and MySQL/MariaDB through sqlx connections (one module: the two
//! differ only in how results and rows are wrapped).

use std::time::Duration;

use sqlx::Database;
use sqlx::mysql::{MySql, MySqlConnection, MySqlDatabaseError};
use sqlx::postgres::{PgConnection, PgDatabaseError, Postgres};

use crate::error::{Error, Result, TimeoutKind, classify};
use crate::pool::{Pool, PooledConn};
use crate::result::ExecResult;
use crate::row::{Row, RowInner};

/// What differs between the two sqlx databases dal drives.
pub(crate) trait ServerDb: Database {
    fn wrap_row(row: Self::Row) -> Row<'static>;
    fn exec_result(r: Self::QueryResult) -> ExecResult;
}

impl ServerDb for Postgres {
    fn wrap_row(row: Self::Row) -> Row<'static> {
        Row {
            inner: RowInner::Pg(row),
        }
    }
    fn exec_result(r: Self::QueryResult) -> ExecResult {
        ExecResult {
            rows_affected: r.rows_affected(),
            last_insert_id: None,
        }
    }
}

impl ServerDb for MySql {
    fn wrap_row(row: Self::Row) -> Row<'static> {
        Row {
            inner: RowInner::MySql(row),
        }
    }
    fn exec_result(r: Self::QueryResult) -> ExecResult {
        let id = r.last_insert_id();
        ExecResult {
            rows_affected: r.rows_affected(),
            last_insert_id: (id != 0).then_some(id as i64),
        }
    }
}

/// A server connection and the statements queued to run before its next use.
pub(crate) struct ServerConn<C> {
    pub(crate) conn: C,
    pub(crate) pending: Vec<String>,
    /// Inside an explicit transaction (set by `Transaction`).
    pub(crate) in_transaction: bool,
    /// The server's id for this session (PostgreSQL backend pid, MySQL
    /// connection id), used to cancel a statement from another connection.
    pub(crate) backend_id: u64,
}

/// How long, after a statement's timeout, dal waits for the server to confirm
/// the cancellation before it gives the connection up (and ends the session on
/// the server from another connection).
const CANCEL_GRACE: Duration = Duration::from_millis(1000);

/// Stops a statement on the server from a separate control connection.
#[derive(Clone)]
pub(crate) enum Canceller {
    Pg(Pool<PgManager>, u64),
    MySql(Pool<MySqlManager>, u64),
}

impl Canceller {
    pub(crate) fn pg(c: &PooledConn<PgManager>) -> Canceller {
        Canceller::Pg(c.pool(), c.backend_id)
    }

    pub(crate) fn mysql(c: &PooledConn<MySqlManager>) -> Canceller {
        Canceller::MySql(c.pool(), c.backend_id)
    }

    /// Cancel the running statement (`terminate`: end the whole session).
    async fn cancel(&self, terminate: bool) -> Result<()> {
        match self {
            Canceller::Pg(p, id) => {
                let sql = if terminate {
                    format!("SELECT pg_terminate_backend({id})")
                } else {
                    format!("SELECT pg_cancel_backend({id})")
                };
                p.manager().control(sql).await
            }
            Canceller::MySql(p, id) => {
                let sql = if terminate {
                    format!("KILL CONNECTION {id}")
                } else {
                    format!("KILL QUERY {id}")
                };
                p.manager().control(sql).await
            }
        }
    }
}

/// Run a statement under its timeout. When the timeout fires, the statement is
/// cancelled on the server (PostgreSQL `pg_cancel_backend`, MySQL `KILL
/// QUERY`) and the connection read until the server confirms, so it stays
/// usable; if that takes longer than a second the connection is given up and
/// its session ended on the server. After the deadline the result is always
/// [`Error::Timeout`] (`Query`). Returns whether the connection must be
/// discarded.
pub(crate) async fn run_timed<T>(
    timeout: Option<Duration>,
    canceller: Option<Canceller>,
    f: impl std::future::Future<Output = Result<T>>,
) -> (Result<T>, bool) {
    let (Some(t), Some(canceller)) = (timeout, canceller) else {
        return (f.await, false);
    };
    let mut f = std::pin::pin!(f);
    if let Ok(r) = tokio::time::timeout(t, &mut f).await {
        return (r, false);
    }
    let timed_out = || Error::Timeout {
        kind: TimeoutKind::Query,
        after: t,
    };
    // ask the server to stop, and keep reading the connection until it
    // confirms; give up at once if the cancel cannot be delivered, or after
    // the grace period
    let give_up = |canceller: Canceller| {
        tokio::spawn(async move {
            if let Err(e) = canceller.cancel(true).await {
                tracing::warn!(target: "dal::timeout", error = %e.redacted(), "could not end a timed-out session on the server");
            }
        });
        (Err(timed_out()), true)
    };
    let grace = tokio::time::sleep(CANCEL_GRACE);
    let mut grace = std::pin::pin!(grace);
    let cancel = canceller.cancel(false);
    let mut cancel = std::pin::pin!(cancel);
    let mut cancel_sent = false;
    loop {
        tokio::select! {
            r = &mut f => {
                // the statement ended (cancelled, or finished just before): the
                // connection is clean unless it failed as a connection
                let broken = r.as_ref().err().is_some_and(breaks_connection);
                return (Err(timed_out()), broken);
            }
            c = &mut cancel, if !cancel_sent => {
                cancel_sent = true;
                if c.is_err() {
                    return give_up(canceller.clone());
                }
            }
            _ = &mut grace => return give_up(canceller.clone()),
        }
    }
}

/// Translate a sqlx error into a dal error.
pub(crate) fn map_err(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
                classify::postgres(
                    pg.code(),
                    pg.message().to_string(),
                    pg.constraint().map(str::to_string),
                )
            } else if let Some(my) = db.try_downcast_ref::<MySqlDatabaseError>() {
                classify::mysql(my.number(), my.message().to_string())
            } else {
                Error::Database {
                    message: db.message().to_string(),
                    code: db.code().map(|c| c.to_string()),
                    transient: false,
                }
            }
        }
        sqlx::Error::Io(e) => Error::ConnectionLost {
            message: e.to_string(),
            code: e.raw_os_error().map(|c| c.to_string()),
        },
        sqlx::Error::Tls(e) => Error::Driver(format!("TLS: {e}")),
        sqlx::Error::Protocol(m) => Error::Driver(format!("protocol: {m}")),
        sqlx::Error::RowNotFound => Error::NotFound("no row returned".into()),
        sqlx::Error::ColumnDecode { index, source } => Error::decode(index, source.to_string()),
        sqlx::Error::ColumnNotFound(c) => Error::decode(c, "no such column"),
        sqlx::Error::Decode(e) => Error::decode("", e.to_string()),
        sqlx::Error::Encode(e) => Error::invalid_input("parameter", e.to_string()),
        sqlx::Error::PoolTimedOut => Error::Timeout {
            kind: TimeoutKind::Acquire,
            after: Duration::ZERO,
        },
        sqlx::Error::PoolClosed => Error::PoolClosed,
        sqlx::Error::WorkerCrashed => Error::ConnectionLost {
            message: "driver worker stopped".into(),
            code: None,
        },
        other => Error::Driver(other.to_string()),
    }
}

/// Whether a prepared statement was invalidated by a schema change: PostgreSQL's
/// "cached plan must not change result type" (0A000) after `ALTER TABLE` under a
/// `SELECT *`, MySQL's "prepared statement needs to be re-prepared" (1615). The
/// statement did not run; re-preparing it fixes it.
pub(crate) fn stale_statement(e: &Error) -> bool {
    match e {
        Error::Database {
            code: Some(code),
            message,
            ..
        } => (code == "0A000" && message.contains("cached plan")) || code == "1615",
        _ => false,
    }
}

/// Whether an error leaves the connection unusable (it is then discarded).
pub(crate) fn breaks_connection(e: &Error) -> bool {
    matches!(e, Error::ConnectionLost { .. } | Error::Driver(_))
}

/// Opens sqlx connections of one kind.
pub(crate) struct ServerManager<C: sqlx::Connection> {
    pub(crate) options: C::Options,
    /// The server's host and port (for `TCP_NODELAY`, see `nodelay`).
    pub(crate) tcp: Option<(String, u16)>,
    pub(crate) peers: tokio::sync::OnceCell<Vec<std::net::SocketAddr>>,
    /// A connection outside the pool for cancelling statements (opened on first need).
    control: tokio::sync::Mutex<Option<C>>,
    /// Limit for opening the control connection and running a cancel on it.
    control_timeout: Duration,
}

impl<C: sqlx::Connection> ServerManager<C> {
    pub(crate) fn new(
        options: C::Options,
        tcp: Option<(String, u16)>,
        control_timeout: Duration,
    ) -> Self {
        ServerManager {
            options,
            tcp,
            peers: tokio::sync::OnceCell::new(),
            control: tokio::sync::Mutex::new(None),
            control_timeout,
        }
    }

    /// Turn Nagle's algorithm off on the connections to this server.
    pub(crate) async fn nodelay(&self) {
        if let Some((host, port)) = &self.tcp {
            let peers = self
                .peers
                .get_or_init(|| super::nodelay::resolve(host, *port))
                .await;
            super::nodelay::set_for_peers(peers);
        }
    }
}

pub(crate) type PgManager = ServerManager<PgConnection>;
pub(crate) type MySqlManager = ServerManager<MySqlConnection>;

// The functions are written once and stamped out per concrete connection type:
// generic versions need higher-ranked `Executor` bounds, which keep rustc from
// proving the futures `Send`.
macro_rules! server_fns {
    ($module:ident, $Conn:ty, $Db:ty, $id_sql:literal, $IdTy:ty) => {
        pub(crate) mod $module {
            use std::sync::Arc;

            use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _};

            use super::{ServerConn, ServerDb, ServerManager, map_err};
            use crate::error::Result;
            use crate::pool::Manager;
            use crate::result::ExecResult;

            type Conn = ServerConn<$Conn>;

            impl Manager for ServerManager<$Conn> {
                type Conn = Conn;

                async fn connect(&self) -> Result<Conn> {
                    let mut conn = self.options.connect().await.map_err(map_err)?;
                    self.nodelay().await;
                    let (id,): ($IdTy,) = sqlx::query_as($id_sql)
                        .fetch_one(&mut conn)
                        .await
                        .map_err(map_err)?;
                    Ok(ServerConn {
                        conn,
                        pending: Vec::new(),
                        in_transaction: false,
                        backend_id: id as u64,
                    })
                }

                async fn ping(&self, conn: &mut Conn) -> Result<()> {
                    conn.conn.ping().await.map_err(map_err)
                }

                async fn reset(&self, conn: &mut Conn) -> Result<()> {
                    conn.pending.clear();
                    conn.in_transaction = false;
                    conn.conn
                        .execute(sqlx::raw_sql("ROLLBACK"))
                        .await
                        .map(|_| ())
                        .map_err(map_err)
                }
            }

            impl ServerManager<$Conn> {
                /// Run `sql` on the control connection (opened on first use,
                /// dropped after a failure), within the control timeout.
                pub(crate) async fn control(&self, sql: String) -> Result<()> {
                    let run = async {
                        let mut guard = self.control.lock().await;
                        if guard.is_none() {
                            *guard = Some(self.options.connect().await.map_err(map_err)?);
                        }
                        let Some(c) = guard.as_mut() else {
                            return Ok(());
                        };
                        match c.execute(sqlx::raw_sql(AssertSqlSafe(sql))).await {
                            Ok(_) => Ok(()),
                            Err(e) => {
                                *guard = None;
                                Err(map_err(e))
                            }
                        }
                    };
                    match tokio::time::timeout(self.control_timeout, run).await {
                        Ok(r) => r,
                        Err(_) => Err(crate::error::Error::Timeout {
                            kind: crate::error::TimeoutKind::Connect,
                            after: self.control_timeout,
                        }),
                    }
                }
            }

            /// Runs queued statements (rollbacks of dropped nested transactions) first.
            pub(crate) async fn run_pending(c: &mut Conn) -> Result<()> {
                if c.pending.is_empty() {
                    return Ok(());
                }
                let pending = std::mem::take(&mut c.pending);
                for sql in pending {
                    c.conn
                        .execute(sqlx::raw_sql(AssertSqlSafe(sql)))
                        .await
                        .map_err(map_err)?;
                }
                Ok(())
            }

            /// Run statements without parameters (text protocol).
            pub(crate) async fn execute_raw(c: &mut Conn, sql: &str) -> Result<()> {
                run_pending(c).await?;
                c.conn
                    .execute(sqlx::raw_sql(AssertSqlSafe(sql.to_string())))
                    .await
                    .map_err(map_err)?;
                Ok(())
            }

            /// Forget the prepared statements (after a schema change invalidated them).
            pub(crate) async fn clear_statements(c: &mut Conn) {
                let _ = c.conn.clear_cached_statements().await;
            }

            /// Run one statement; `persistent` keeps it prepared on the server.
            pub(crate) async fn execute(
                c: &mut Conn,
                sql: Arc<str>,
                args: <$Db as sqlx::Database>::Arguments,
                persistent: bool,
            ) -> Result<ExecResult> {
                run_pending(c).await?;
                let r = sqlx::query_with::<$Db, _>(AssertSqlSafe(sql), args)
                    .persistent(persistent)
                    .execute(&mut c.conn)
                    .await
                    .map_err(map_err)?;
                Ok(<$Db as ServerDb>::exec_result(r))
            }

            /// Run a query and return up to `limit` rows (all when `None`).
            pub(crate) async fn fetch(
                c: &mut Conn,
                sql: Arc<str>,
                args: <$Db as sqlx::Database>::Arguments,
                persistent: bool,
                limit: Option<usize>,
            ) -> Result<Vec<<$Db as sqlx::Database>::Row>> {
                run_pending(c).await?;
                let q = sqlx::query_with::<$Db, _>(AssertSqlSafe(sql), args).persistent(persistent);
                if limit == Some(1) {
                    let r = q.fetch_optional(&mut c.conn).await.map_err(map_err)?;
                    Ok(r.into_iter().collect())
                } else {
                    let mut rows = q.fetch_all(&mut c.conn).await.map_err(map_err)?;
                    if let Some(l) = limit {
                        rows.truncate(l);
                    }
                    Ok(rows)
                }
            }
        }
    };
}

server_fns!(
    pg,
    sqlx::postgres::PgConnection,
    sqlx::postgres::Postgres,
    "SELECT pg_backend_pid()",
    i32
);
server_fns!(
    mysql,
    sqlx::mysql::MySqlConnection,
    sqlx::mysql::MySql,
    "SELECT CONNECTION_ID()",
    u64
);
