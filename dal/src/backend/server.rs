//! What the server backends (PostgreSQL and MySQL/MariaDB) share: the pooled
//! connection, cancelling a statement from a control connection, abandoning a
//! statement at its deadline, decoding the drivers' rows, TLS failures and
//! the root certificate check. Each backend's manager (tokio-postgres in
//! `backend/postgres`, mysql_async in `backend/mysql`) is its own.

use std::future::Future;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::pool::{Manager, PooledConn};
use crate::resilience::deadline::Deadline;

/// Decode one of a server backend's rows as `T`, wrapped by `wrap`: by
/// position when the result's columns are exactly the ones `T` expects
/// (checked on the first row, then kept in `positional`).
pub(crate) fn decode_row<R: crate::row::RawRow, T>(
    raw: R,
    decoder: &crate::row::Decoder<T>,
    positional: &mut Option<bool>,
    wrap: fn(R) -> crate::row::Row<'static>,
) -> Result<T> {
    let positional = *positional.get_or_insert_with(|| {
        decoder.positional((0..raw.raw_len()).map(|i| raw.raw_column_name(i).unwrap_or("")))
    });
    let mut row = wrap(raw);
    row.positional = positional;
    (decoder.owned)(row)
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

/// Run `run` on the control connection kept in `slot` (opened with `open`
/// on first use, dropped after a failure), within `limit`. Each server
/// backend keeps one such connection outside its pool for cancels.
pub(crate) async fn on_control<C: Send>(
    slot: &tokio::sync::Mutex<Option<C>>,
    limit: Duration,
    open: impl Future<Output = Result<C>>,
    run: impl for<'c> FnOnce(&'c mut C) -> futures_util::future::BoxFuture<'c, Result<()>>,
) -> Result<()> {
    let work = async {
        let mut guard = slot.lock().await;
        if guard.is_none() {
            *guard = Some(open.await?);
        }
        let Some(c) = guard.as_mut() else {
            return Ok(());
        };
        let r = run(c).await;
        if r.is_err() {
            *guard = None;
        }
        r
    };
    within_control_timeout(limit, work).await
}

/// A server connection and the statements queued to run before its next use.
/// `S` names its session to the backend's [`Cancel`].
pub(crate) struct ServerConn<C, S = u64> {
    pub(crate) conn: C,
    pub(crate) pending: Vec<String>,
    /// Inside an explicit transaction (set by `Transaction`).
    pub(crate) in_transaction: bool,
    /// The server's name for this session (PostgreSQL backend pid or cancel
    /// key, MySQL connection id), used to cancel a statement from another
    /// connection.
    pub(crate) backend_id: S,
}

/// How long a connection whose statement was abandoned at its deadline may
/// take, in the background, to confirm the cancellation before it is given up
/// (and its session ended on the server from another connection). The caller
/// never waits for it.
pub(crate) const CANCEL_GRACE: Duration = Duration::from_millis(1000);

/// Stops a statement on the server from a separate control connection
/// (implemented by each server backend's manager).
pub(crate) trait Cancel {
    /// What names a session to cancel.
    type Session: Clone + std::fmt::Debug + Send + Sync + 'static;
    /// Cancel the statement running in `session` (`terminate`: end the
    /// whole session).
    fn cancel(
        &self,
        session: &Self::Session,
        terminate: bool,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// Wait up to [`CANCEL_GRACE`] for `recovered` (an abandoned statement's
/// cancellation confirmed and the connection checked). When it fails or does
/// not finish in time, end session `id` on the server from `manager`'s
/// control connection and give the connection up (`None`).
pub(crate) async fn confirm_or_end<M: Cancel, T>(
    manager: &M,
    id: &M::Session,
    recovered: impl Future<Output = Result<T>>,
) -> Option<T> {
    let why = match tokio::time::timeout(CANCEL_GRACE, recovered).await {
        Ok(Ok(t)) => return Some(t),
        Ok(Err(e)) => e.redacted(),
        Err(_) => "no confirmation in time".to_string(),
    };
    tracing::debug!(target: "dal::timeout", backend = ?id, why, "giving up a timed-out connection");
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
    M: Manager<Conn = ServerConn<C, <M as Cancel>::Session>> + Cancel,
{
    if c.in_transaction {
        c.broken = true;
        let pool = c.pool();
        let id = c.backend_id.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if let Err(e) = pool.manager().cancel(&id, true).await {
                    tracing::warn!(target: "dal::timeout", error = %e.redacted(), "could not end a timed-out session on the server");
                }
            });
        }
    } else {
        c.recover = true;
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
