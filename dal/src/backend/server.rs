//! What the server backends (PostgreSQL and MySQL/MariaDB) share: the pooled
//! connection, cancelling a statement from a control connection, abandoning a
//! statement at its deadline, TLS failures and the root certificate check;
//! and PostgreSQL's sqlx machinery (the manager, the mapping of sqlx's
//! non-database errors, the functions `backend/postgres` stamps out with
//! [`server_fns!`]). MySQL/MariaDB runs on mysql_async with a manager of its
//! own in `backend/mysql`.

use std::future::Future;
use std::time::Duration;

#[cfg(feature = "postgres")]
use sqlx::Database;

#[cfg(feature = "postgres")]
use crate::error::TimeoutKind;
use crate::error::{Error, Result};
use crate::pool::{Manager, PooledConn};
use crate::resilience::deadline::Deadline;
#[cfg(feature = "postgres")]
use crate::result::ExecResult;
#[cfg(feature = "postgres")]
use crate::row::Row;

/// What a sqlx database dal drives provides (PostgreSQL).
#[cfg(feature = "postgres")]
pub(crate) trait ServerDb: Database {
    fn wrap_row(row: Self::Row) -> Row<'static>;
    fn exec_result(r: Self::QueryResult) -> ExecResult;
}

/// Decode a server backend's rows as `T`, each wrapped by `wrap` (by
/// position when the columns are exactly the ones `T` expects, checked once
/// on the first row).
pub(crate) fn decode_rows<R: crate::row::RawRow, T>(
    rows: Vec<R>,
    decoder: &crate::row::Decoder<T>,
    wrap: fn(R) -> crate::row::Row<'static>,
) -> Result<Vec<T>> {
    let positional = rows.first().is_some_and(|r| {
        decoder.positional((0..r.raw_len()).map(|i| r.raw_column_name(i).unwrap_or("")))
    });
    rows.into_iter()
        .map(|r| {
            let mut row = wrap(r);
            row.positional = positional;
            (decoder.owned)(row)
        })
        .collect()
}

/// Run `f` (work on a control connection) within `limit`; running out is a
/// connect timeout.
pub(crate) async fn within_control_timeout<T>(
    limit: Duration,
    f: impl Future<Output = Result<T>>,
) -> Result<T> {
    let start = std::time::Instant::now();
    match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => Err(Error::timeout(
            crate::error::TimeoutKind::Connect,
            crate::error::TimeoutKind::Connect,
            limit,
            start.elapsed(),
        )),
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

/// How long a connection whose statement was abandoned at its deadline may
/// take, in the background, to confirm the cancellation before it is given up
/// (and its session ended on the server from another connection). The caller
/// never waits for it.
pub(crate) const CANCEL_GRACE: Duration = Duration::from_millis(1000);

/// Stops a statement on the server from a separate control connection
/// (implemented by each server backend's manager).
pub(crate) trait Cancel {
    /// Cancel the statement running in session `id` (`terminate`: end the
    /// whole session).
    fn cancel(&self, id: u64, terminate: bool) -> impl Future<Output = Result<()>> + Send;
}

/// Wait up to [`CANCEL_GRACE`] for `recovered` (an abandoned statement's
/// cancellation confirmed and the connection checked). When it fails or does
/// not finish in time, end session `id` on the server from `manager`'s
/// control connection and give the connection up (`None`).
pub(crate) async fn confirm_or_end<M: Cancel, T>(
    manager: &M,
    id: u64,
    recovered: impl Future<Output = Result<T>>,
) -> Option<T> {
    let why = match tokio::time::timeout(CANCEL_GRACE, recovered).await {
        Ok(Ok(t)) => return Some(t),
        Ok(Err(e)) => e.redacted(),
        Err(_) => "no confirmation in time".to_string(),
    };
    tracing::debug!(target: "dal::timeout", backend = id, why, "giving up a timed-out connection");
    if let Err(e) = manager.cancel(id, true).await {
        tracing::warn!(target: "dal::timeout", error = %e.redacted(), "could not end a timed-out session on the server");
    }
    None
}

/// Run `f` until the call's deadline. `None` when the deadline came first:
/// `f` was dropped mid-flight and the connection must be dealt with (see
/// [`abandon`]). A deadline already past when called sends nothing.
pub(crate) async fn until_deadline<T>(
    deadline: &Deadline,
    f: impl Future<Output = Result<T>>,
) -> Option<Result<T>> {
    match deadline.at() {
        None => Some(f.await),
        Some(at) => tokio::time::timeout_at(at.into(), f).await.ok(),
    }
}

/// After a statement on `c` was abandoned at its deadline: outside a
/// transaction, the connection is recovered when it is returned to the pool
/// (the statement cancelled on the server, the cancellation confirmed in the
/// background, see `Manager::recover`); inside one, the session is ended on
/// the server (which rolls the transaction back) and the connection closed,
/// since the transaction cannot be trusted to continue.
pub(crate) fn abandon<C, M>(c: &mut PooledConn<M>)
where
    C: Send + 'static,
    M: Manager<Conn = ServerConn<C>> + Cancel,
{
    if c.in_transaction {
        c.broken = true;
        let pool = c.pool();
        let id = c.backend_id;
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = pool.manager().cancel(id, true).await {
                    tracing::warn!(target: "dal::timeout", error = %e.redacted(), "could not end a timed-out session on the server");
                }
            });
        }
    } else {
        c.recover = true;
    }
}

/// A database error sqlx reports without the backend's own error type.
#[cfg(feature = "postgres")]
pub(crate) fn unknown_database_error(db: &dyn sqlx::error::DatabaseError) -> Error {
    Error::Database {
        message: db.message().to_string(),
        code: db.code().map(|c| c.to_string()),
        transient: false,
    }
}

/// Translate a sqlx error that is not a database error into a dal error.
#[cfg(feature = "postgres")]
pub(crate) fn map_driver_err(e: sqlx::Error) -> Error {
    match e {
        sqlx::Error::Database(db) => unknown_database_error(&*db),
        sqlx::Error::Io(e) => match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(tls) => tls_error(tls),
            None => Error::ConnectionLost {
                message: e.to_string(),
                code: e.raw_os_error().map(|c| c.to_string()),
            },
        },
        // TLS demanded and not possible (the server does not offer it, a
        // certificate file cannot be read or parsed): configuration
        sqlx::Error::Tls(e) => Error::config(
            "tls_mode",
            format!(
                "TLS could not be set up: {e} (check tls_mode / sslmode / ssl-mode and \
                 tls_root_cert / sslrootcert / ssl-ca)"
            ),
        ),
        sqlx::Error::Protocol(m) => Error::Driver(format!("protocol: {m}")),
        sqlx::Error::RowNotFound => Error::NotFound("no row returned".into()),
        sqlx::Error::ColumnDecode { index, source } => Error::decode(index, source.to_string()),
        sqlx::Error::ColumnNotFound(c) => Error::decode(c, "no such column"),
        sqlx::Error::Decode(e) => Error::decode("", e.to_string()),
        sqlx::Error::Encode(e) => Error::invalid_input("parameter", e.to_string()),
        sqlx::Error::PoolTimedOut => Error::timeout(
            TimeoutKind::Acquire,
            TimeoutKind::Acquire,
            Duration::ZERO,
            Duration::ZERO,
        ),
        sqlx::Error::PoolClosed => Error::PoolClosed,
        sqlx::Error::WorkerCrashed => Error::ConnectionLost {
            message: "driver worker stopped".into(),
            code: None,
        },
        other => Error::Driver(other.to_string()),
    }
}

/// A TLS failure of the handshake. The client refusing the server's
/// certificate (unknown issuer, a name it is not valid for, expired) is a
/// configuration problem, not a lost connection: retrying cannot fix it.
/// Other TLS failures (alerts, corrupt records) are treated as connection
/// failures.
pub(crate) fn tls_error(e: &rustls::Error) -> Error {
    match e {
        rustls::Error::InvalidCertificate(_)
        | rustls::Error::InvalidCertRevocationList(_)
        | rustls::Error::NoCertificatesPresented
        | rustls::Error::UnsupportedNameType => Error::config(
            "tls_mode",
            format!(
                "the server's TLS certificate was refused: {e}; give the CA that signed it \
                 with tls_root_cert (sslrootcert / ssl-ca), connect with the name the \
                 certificate is issued for, or lower tls_mode (sslmode) to `require` to \
                 encrypt without verifying"
            ),
        ),
        other => Error::ConnectionLost {
            message: format!("TLS: {other}"),
            code: None,
        },
    }
}

/// Opens sqlx connections of one kind.
#[cfg(feature = "postgres")]
pub(crate) struct ServerManager<C: sqlx::Connection> {
    pub(crate) options: C::Options,
    /// A connection outside the pool for cancelling statements (opened on first need).
    pub(crate) control: tokio::sync::Mutex<Option<C>>,
    /// Limit for opening the control connection and running a cancel on it.
    pub(crate) control_timeout: Duration,
    /// The TLS root certificate file, checked before each connection so a
    /// missing file is reported as such.
    tls_root_cert: Option<std::path::PathBuf>,
    /// The server's `max_connections`, read with each new connection's id (0
    /// until the first one opened).
    pub(crate) server_max_connections: std::sync::atomic::AtomicU64,
}

#[cfg(feature = "postgres")]
impl<C: sqlx::Connection> ServerManager<C> {
    pub(crate) fn new(
        options: C::Options,
        control_timeout: Duration,
        tls_root_cert: Option<std::path::PathBuf>,
    ) -> Self {
        ServerManager {
            options,
            control: tokio::sync::Mutex::new(None),
            control_timeout,
            tls_root_cert,
            server_max_connections: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A configured root certificate file that cannot be read is a
    /// configuration error naming the file and the option.
    pub(crate) async fn check_root_cert(&self) -> Result<()> {
        check_root_cert(self.tls_root_cert.as_deref()).await
    }
}

/// A configured root certificate file that cannot be read is a configuration
/// error naming the file and the option.
pub(crate) async fn check_root_cert(path: Option<&std::path::Path>) -> Result<()> {
    let Some(path) = path else {
        return Ok(());
    };
    match tokio::fs::metadata(path).await {
        Ok(m) if m.is_file() => Ok(()),
        Ok(_) => Err(Error::config(
            "tls_root_cert",
            format!(
                "the TLS root certificate `{}` (sslrootcert / ssl-ca) is not a file",
                path.display()
            ),
        )),
        Err(e) => Err(Error::config(
            "tls_root_cert",
            format!(
                "cannot read the TLS root certificate `{}` (sslrootcert / ssl-ca): {e}",
                path.display()
            ),
        )),
    }
}

// The functions are written once and stamped out per concrete connection type:
// generic versions need higher-ranked `Executor` bounds, which keep rustc from
// proving the futures `Send`.
#[cfg(feature = "postgres")]
macro_rules! server_fns {
    ($Conn:ty, $Db:ty, $id_sql:literal, $IdTy:ty) => {
        #[allow(unused_imports)]
        use sqlx::{AssertSqlSafe, ConnectOptions as _, Connection as _, Executor as _};

        #[allow(unused_imports)]
        use $crate::backend::server::Cancel as _;
        use $crate::backend::server::{ServerConn, ServerManager};
        use $crate::pool::Manager;

        type Conn = ServerConn<$Conn>;

        impl Manager for ServerManager<$Conn> {
            type Conn = Conn;

            async fn connect(&self) -> Result<Conn> {
                self.check_root_cert().await?;
                // (sqlx 0.9.1 turns Nagle's algorithm off on its sockets)
                let mut conn = self.options.connect().await.map_err(map_err)?;
                let (id, max): ($IdTy, $IdTy) = sqlx::query_as($id_sql)
                    .fetch_one(&mut conn)
                    .await
                    .map_err(map_err)?;
                self.server_max_connections.store(
                    u64::try_from(max).unwrap_or(0),
                    std::sync::atomic::Ordering::Relaxed,
                );
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

            async fn recover(&self, conn: &mut Conn) -> bool {
                let id = conn.backend_id;
                let recovered = async {
                    self.cancel(id, false).await?;
                    // the abandoned statement's answer (its cancellation
                    // error) is read by the first round trip; the next one
                    // shows the connection ready
                    for _ in 0..3 {
                        match conn.conn.ping().await.map_err(map_err) {
                            Ok(()) => return Ok(()),
                            Err(
                                e @ ($crate::error::Error::ConnectionLost { .. }
                                | $crate::error::Error::Driver(_)),
                            ) => return Err(e),
                            Err(_) => {}
                        }
                    }
                    Err($crate::error::Error::Driver(
                        "no answer after a cancellation".into(),
                    ))
                };
                $crate::backend::server::confirm_or_end(self, id, recovered)
                    .await
                    .is_some()
            }
        }

        impl $crate::backend::server::Cancel for ServerManager<$Conn> {
            /// Cancel the statement running in session `id` (`terminate`:
            /// end the session), from the control connection.
            async fn cancel(&self, id: u64, terminate: bool) -> Result<()> {
                self.control(cancel_sql(id, terminate)).await
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
                $crate::backend::server::within_control_timeout(self.control_timeout, run).await
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
            sql: std::sync::Arc<str>,
            args: <$Db as sqlx::Database>::Arguments,
            persistent: bool,
        ) -> Result<$crate::result::ExecResult> {
            run_pending(c).await?;
            let r = sqlx::query_with::<$Db, _>(AssertSqlSafe(sql), args)
                .persistent(persistent)
                .execute(&mut c.conn)
                .await
                .map_err(map_err)?;
            Ok(<$Db as $crate::backend::server::ServerDb>::exec_result(r))
        }

        /// Run a query and return up to `limit` rows (all when `None`).
        pub(crate) async fn fetch(
            c: &mut Conn,
            sql: std::sync::Arc<str>,
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
    };
}

#[cfg(feature = "postgres")]
pub(crate) use server_fns;
