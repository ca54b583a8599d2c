//! The protocol's cancel request, sent the way libpq sends it: write the
//! request, then wait for the other end to close the connection.
//!
//! tokio-postgres's `CancelToken::cancel_query` shuts its side down right
//! after writing. PostgreSQL acts on the request anyway, but pgbouncer (1.18,
//! Debian 12's) drops a cancel request whose client has already gone
//! ("client unexpected eof") before forwarding it to the server connection.
//! So the request is written through [`HoldOpen`], whose shutdown keeps the
//! socket open and which hands the socket back when the driver drops it; dal
//! then reads until the pooler (or server) closes it.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;
use tokio_postgres::config::Host;
use tokio_postgres::tls::MakeTlsConnect;

use super::map_err;
use super::tls::MakeRustls;
use crate::error::{Error, Result};

/// A socket whose shutdown does nothing, returned through `back` when dropped.
struct HoldOpen<S: Unpin> {
    socket: Option<S>,
    back: Option<oneshot::Sender<S>>,
}

impl<S: Unpin> HoldOpen<S> {
    fn socket(&mut self) -> &mut S {
        self.socket.as_mut().expect("held until dropped")
    }
}

impl<S: Unpin> Drop for HoldOpen<S> {
    fn drop(&mut self) {
        if let (Some(socket), Some(back)) = (self.socket.take(), self.back.take()) {
            // the receiver is gone only when the cancel itself was dropped
            let _ = back.send(socket);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for HoldOpen<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().socket()).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for HoldOpen<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.get_mut().socket()).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().socket()).poll_flush(cx)
    }
    /// Flushes only: the other end closes the connection when it is done.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.get_mut().socket()).poll_flush(cx)
    }
}

/// Send `token`'s cancel request to the first host of `config` and wait for
/// the other end to close the connection.
pub(super) async fn send(
    config: &tokio_postgres::Config,
    tls: &MakeRustls,
    token: &tokio_postgres::CancelToken,
) -> Result<()> {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    match config.get_hosts().first() {
        Some(Host::Tcp(host)) => {
            let socket = tokio::net::TcpStream::connect((host.as_str(), port))
                .await
                .map_err(connect_error)?;
            // the cancel request must not wait behind Nagle's algorithm
            let _ = socket.set_nodelay(true);
            send_on(socket, host, tls, token).await
        }
        #[cfg(unix)]
        Some(Host::Unix(dir)) => {
            let path = dir.join(format!(".s.PGSQL.{port}"));
            let socket = tokio::net::UnixStream::connect(path)
                .await
                .map_err(connect_error)?;
            // no TLS over a Unix socket: the name is never checked
            send_on(socket, "localhost", tls, token).await
        }
        _ => Err(Error::config(
            "url",
            "the PostgreSQL URL names no host to send a cancel request to",
        )),
    }
}

fn connect_error(e: io::Error) -> Error {
    Error::ConnectionLost {
        message: format!("opening a connection for a cancel request: {e}"),
        code: None,
    }
}

async fn send_on<S>(
    socket: S,
    host: &str,
    tls: &MakeRustls,
    token: &tokio_postgres::CancelToken,
) -> Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connect = MakeTlsConnect::<HoldOpen<S>>::make_tls_connect(&mut tls.clone(), host)
        .map_err(|e| Error::config("url", format!("the host name is not valid for TLS: {e}")))?;
    let (back, returned) = oneshot::channel();
    let held = HoldOpen {
        socket: Some(socket),
        back: Some(back),
    };
    token
        .cancel_query_raw(held, connect)
        .await
        .map_err(map_err)?;
    // the request is written: wait for the other end to close (what it
    // sends first, if anything, is of no interest)
    if let Ok(mut socket) = returned.await {
        let mut sink = [0u8; 64];
        while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
    }
    Ok(())
}
