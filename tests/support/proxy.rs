//! An in-process TCP fault-injection proxy for the test suite.
//!
//! [`Proxy::start`] listens on `127.0.0.1:<ephemeral port>` and forwards every
//! accepted connection to one upstream `host:port`, byte for byte, in both
//! directions. Point a database URL at it with [`Proxy::url_for`], then break the
//! network at run time with [`Proxy::set_mode`]:
//!
//! * [`Mode::Pass`]: forward everything at once (the default).
//! * [`Mode::Delay`]: forward each chunk only after the delay, in both directions
//!   (latency, not a throughput cap: chunks queue up behind one another).
//! * [`Mode::BlackHole`]: a partition. New connections are accepted but never
//!   connected upstream; existing ones stop reading and writing, so bytes stay in
//!   the kernel buffers and both peers hang until their own timeouts. Switching
//!   back to `Pass` heals the partition: held bytes flow again, nothing is lost.
//! * [`Mode::Reset`]: every existing connection is closed with a TCP RST on both
//!   sides, and new ones are accepted then reset at once.
//!
//! A mode change applies to existing and new connections alike.
//! [`Proxy::reset_all`] resets the live connections once and keeps the mode;
//! [`Proxy::stop`] stops listening (connects are then refused) and closes every
//! connection; [`Proxy::restart`] listens again on the same port, in `Pass` mode.
//!
//! Every task the proxy spawns ends when it is stopped or dropped, so nothing
//! keeps the test's runtime busy afterwards.
//!
//! ```ignore
//! let proxy = Proxy::start("127.0.0.1:5432").await?;
//! let db = Db::connect_url(&proxy.url_for("postgres://postgres@127.0.0.1:5432/postgres")).await?;
//! proxy.set_mode(Mode::Reset);      // the next query fails with a lost connection
//! proxy.set_mode(Mode::Pass);       // and the pool recovers
//! ```

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// How the proxy treats traffic; see the [module docs](self) for the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Forward every byte at once.
    Pass,
    /// Forward each chunk only once this long has passed since it was read, in
    /// both directions.
    Delay(Duration),
    /// Accept connections but forward nothing, and never connect new ones
    /// upstream; peers hang until their own timeouts.
    BlackHole,
    /// Close existing connections with a TCP RST and reset new ones as soon as
    /// they are accepted.
    Reset,
}

/// Size of one read; a chunk is at most this many bytes.
const CHUNK: usize = 16 * 1024;
/// Chunks read but not yet written, per direction, before reading pauses.
const QUEUE: usize = 64;
/// How long [`Proxy::restart`] keeps retrying to bind the old port.
const REBIND_FOR: Duration = Duration::from_secs(5);

/// State shared by the proxy handle and all its tasks, across restarts.
struct Shared {
    upstream: String,
    mode: watch::Sender<Mode>,
    /// Bumped by [`Proxy::reset_all`]; each connection resets when it changes.
    reset_epoch: watch::Sender<u64>,
    accepted: AtomicU64,
    live: AtomicUsize,
}

/// One listening period, between a start/restart and the next stop.
struct Running {
    /// Never sent on: dropping it is the shutdown signal.
    shutdown: watch::Sender<()>,
    accept_task: JoinHandle<()>,
}

/// A TCP proxy in front of one upstream server; see the [module docs](self).
///
/// Every method takes `&self`, so an `Arc<Proxy>` can be shared with the tasks
/// that inject faults while a test runs its queries. Dropping it stops it: the
/// listener closes and every connection is dropped.
pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    running: tokio::sync::Mutex<Option<Running>>,
}

impl Proxy {
    /// Listen on `127.0.0.1:0` and forward each accepted connection to
    /// `upstream` (`"host:port"`), in [`Mode::Pass`].
    ///
    /// The upstream is connected once per accepted connection, not here, so this
    /// succeeds even when the upstream is down (the proxied connections are then
    /// reset).
    pub async fn start(upstream: &str) -> io::Result<Proxy> {
        let listener = listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream: upstream.to_string(),
            mode: watch::Sender::new(Mode::Pass),
            reset_epoch: watch::Sender::new(0),
            accepted: AtomicU64::new(0),
            live: AtomicUsize::new(0),
        });
        let running = spawn_accept_loop(listener, shared.clone());
        Ok(Proxy {
            addr,
            shared,
            running: tokio::sync::Mutex::new(Some(running)),
        })
    }

    /// The address the proxy listens on, as `"127.0.0.1:PORT"`.
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// The port the proxy listens on (the same across [`Proxy::restart`]).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The upstream `"host:port"` this proxy forwards to.
    pub fn upstream(&self) -> &str {
        &self.shared.upstream
    }

    /// `url` (`postgres://…`, `mysql://…`, any `scheme://authority/…` URL) with
    /// its host and port replaced by the proxy's; the scheme, user, password,
    /// path and query are kept as they are.
    ///
    /// The host becomes `127.0.0.1`, a loopback address, so dal's default TLS
    /// mode stays "prefer"; a URL asking for verified TLS against a named host
    /// would fail verification through the proxy.
    pub fn url_for(&self, url: &str) -> String {
        let (start, end) = authority_span(url);
        let authority = &url[start..end];
        let host_start = authority.rfind('@').map(|i| start + i + 1).unwrap_or(start);
        format!("{}{}{}", &url[..host_start], self.addr(), &url[end..])
    }

    /// Switch the mode for existing and new connections.
    ///
    /// Switching to [`Mode::Reset`] also resets every live connection the way
    /// [`Proxy::reset_all`] does, so even `Reset` immediately followed by `Pass`
    /// resets them.
    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.send_replace(mode);
        if mode == Mode::Reset {
            self.reset_all();
        }
    }

    /// The current mode.
    pub fn mode(&self) -> Mode {
        *self.shared.mode.borrow()
    }

    /// Reset every live connection now (TCP RST to both peers), then carry on in
    /// the current mode: later connections are treated as usual.
    pub fn reset_all(&self) {
        self.shared.reset_epoch.send_modify(|epoch| *epoch += 1);
    }

    /// Stop listening and drop every connection; returns once the listener is
    /// closed (new connects are refused) and every connection task has ended.
    /// Stopping a stopped proxy does nothing.
    pub async fn stop(&self) {
        let running = self.running.lock().await.take();
        if let Some(running) = running {
            drop(running.shutdown);
            let _ = running.accept_task.await;
        }
    }

    /// Listen again on the same port, in [`Mode::Pass`] (stopping first if the
    /// proxy is running). Retries the bind for a few seconds if the port is
    /// briefly unavailable.
    pub async fn restart(&self) -> io::Result<()> {
        let mut running = self.running.lock().await;
        if let Some(old) = running.take() {
            drop(old.shutdown);
            let _ = old.accept_task.await;
        }
        self.set_mode(Mode::Pass);
        let deadline = Instant::now() + REBIND_FOR;
        let listener = loop {
            match listen(self.addr) {
                Ok(listener) => break listener,
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        };
        *running = Some(spawn_accept_loop(listener, self.shared.clone()));
        Ok(())
    }

    /// Whether the proxy is listening (started or restarted, and not stopped).
    pub fn is_running(&self) -> bool {
        match self.running.try_lock() {
            Ok(running) => running.is_some(),
            // A stop or restart is in progress.
            Err(_) => false,
        }
    }

    /// Connections accepted since [`Proxy::start`], over all restarts, including
    /// those reset at once or black-holed.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Accepted connections that are still open on the client side (whether or
    /// not they are connected upstream).
    pub fn live_connections(&self) -> usize {
        self.shared.live.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(running) = self.running.get_mut().take() {
            drop(running.shutdown);
            // Aborting drops the listener and the JoinSet, which aborts every
            // connection task.
            running.accept_task.abort();
        }
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field("upstream", &self.shared.upstream)
            .field("mode", &self.mode())
            .field("live", &self.live_connections())
            .finish()
    }
}

/// The `"host:port"` a `scheme://[user[:password]@]host[:port][/path][?query]`
/// URL points at, with the engine's default port when it names none
/// (5432 for `postgres`/`postgresql`/`pg`, 3306 for `mysql`/`mariadb`). `None`
/// when the URL has no host or an unknown scheme and no port.
pub fn upstream_of(url: &str) -> Option<String> {
    let (start, end) = authority_span(url);
    let authority = &url[start..end];
    let host_port = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    if host_port.is_empty() || host_port.starts_with(':') {
        return None;
    }
    // A port follows the last ':' unless that ':' is inside an IPv6 `[...]`.
    let has_port = host_port
        .rfind(':')
        .is_some_and(|i| !host_port[i..].contains(']'));
    if has_port {
        return Some(host_port.to_string());
    }
    let scheme = url.split_once("://")?.0.to_ascii_lowercase();
    let port = match scheme.as_str() {
        "postgres" | "postgresql" | "pg" => 5432,
        "mysql" | "mariadb" => 3306,
        _ => return None,
    };
    Some(format!("{host_port}:{port}"))
}

/// Report that a server the test needs did not answer, exactly as the fixtures
/// in `support` do: panics when `DAL_TEST_REQUIRE_SERVERS=1`, otherwise prints
/// `SKIPPED: …` (the caller then returns, so the test passes).
pub fn server_unavailable(engine: &str, url: &str, why: &dal::Error) {
    let _ = super::unavailable(engine, url, why);
}

/// Byte range of the authority (`user:password@host:port`) within `url`.
fn authority_span(url: &str) -> (usize, usize) {
    let start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let end = url[start..]
        .find(['/', '?', '#'])
        .map(|i| start + i)
        .unwrap_or(url.len());
    (start, end)
}

/// A listener on `addr` with `SO_REUSEADDR`, so a restart can take the same port
/// back while old connections linger in `TIME_WAIT`.
fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

fn spawn_accept_loop(listener: TcpListener, shared: Arc<Shared>) -> Running {
    let (shutdown, shutdown_rx) = watch::channel(());
    let accept_task = tokio::spawn(accept_loop(listener, shared, shutdown_rx));
    Running {
        shutdown,
        accept_task,
    }
}

/// Accept until shut down, one task per connection; on shutdown, close the
/// listener and wait for (abort) every connection task.
async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            // Err once the sender is dropped: that is the shutdown signal.
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    shared.accepted.fetch_add(1, Ordering::SeqCst);
                    let live = LiveGuard::new(&shared);
                    // Subscribe here, so a reset_all from now on reaches this connection.
                    let epoch = shared.reset_epoch.subscribe();
                    connections.spawn(serve(client, shared.clone(), shutdown.clone(), epoch, live));
                }
                // Out of descriptors or similar: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Counts a connection as live until dropped (also when its task is aborted).
struct LiveGuard(Arc<Shared>);

impl LiveGuard {
    fn new(shared: &Arc<Shared>) -> Self {
        shared.live.fetch_add(1, Ordering::SeqCst);
        LiveGuard(shared.clone())
    }
}

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How a connection ended.
enum End {
    /// Both directions closed normally (or a peer went away): plain close.
    Closed,
    /// Reset mode, [`Proxy::reset_all`], or a peer reset: RST both sides.
    Reset,
    /// The proxy is stopping: plain close.
    Shutdown,
}

/// Close `stream` with a TCP RST instead of a FIN.
fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// One proxied connection, from accept to close.
async fn serve(
    client: TcpStream,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<()>,
    mut epoch: watch::Receiver<u64>,
    _live: LiveGuard,
) {
    let mode = shared.mode.subscribe();
    let _ = client.set_nodelay(true);

    // Connect upstream once the mode allows traffic (at once unless black-holed).
    let mut traffic_mode = mode.clone();
    let connected = tokio::select! {
        _ = shutdown.changed() => return,
        _ = reset_requested(mode.clone(), &mut epoch) => None,
        upstream = async {
            wait_for_traffic(&mut traffic_mode).await;
            TcpStream::connect(&shared.upstream).await
        } => upstream.ok(),
    };
    let Some(mut upstream) = connected else {
        // Reset requested, or the upstream refused: the client sees a reset, the
        // closest a proxy can get to a refused connect.
        reset(client);
        return;
    };
    let _ = upstream.set_nodelay(true);
    let mut client = client;

    let end = {
        let (client_read, client_write) = client.split();
        let (upstream_read, upstream_write) = upstream.split();
        tokio::select! {
            _ = shutdown.changed() => End::Shutdown,
            _ = reset_requested(mode.clone(), &mut epoch) => End::Reset,
            forwarded = async {
                tokio::try_join!(
                    pump(client_read, upstream_write, mode.clone()),
                    pump(upstream_read, client_write, mode.clone()),
                )
            } => match forwarded {
                Ok(_) => End::Closed,
                Err(_) => End::Reset,
            },
        }
    };
    match end {
        End::Reset => {
            reset(client);
            reset(upstream);
        }
        End::Closed | End::Shutdown => {}
    }
}

/// Resolves once the mode is [`Mode::Reset`] or [`Proxy::reset_all`] is called
/// (a reset_all before `epoch` was subscribed, or already seen, does not count).
async fn reset_requested(mut mode: watch::Receiver<Mode>, epoch: &mut watch::Receiver<u64>) {
    loop {
        if *mode.borrow_and_update() == Mode::Reset {
            return;
        }
        tokio::select! {
            _ = mode_changed(&mut mode) => {}
            changed = epoch.changed() => match changed {
                Ok(()) => return,
                // Cannot happen while the connection holds `Shared`; never resolve.
                Err(_) => std::future::pending::<()>().await,
            },
        }
    }
}

/// Resolves once the mode lets traffic through ([`Mode::Pass`] or
/// [`Mode::Delay`]); never in `BlackHole` or `Reset`.
async fn wait_for_traffic(mode: &mut watch::Receiver<Mode>) {
    loop {
        if matches!(*mode.borrow_and_update(), Mode::Pass | Mode::Delay(_)) {
            return;
        }
        mode_changed(mode).await;
    }
}

/// Resolves when the mode changes (never if the sender were gone, which cannot
/// happen while a connection holds `Shared`, rather than spinning).
async fn mode_changed(mode: &mut watch::Receiver<Mode>) {
    if mode.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// One read from a peer, with when it was read.
enum Chunk {
    Data(Instant, Vec<u8>),
    Eof(Instant),
}

/// Forward one direction until EOF (then half-close the writer) or an error.
/// Reading and writing run concurrently through a bounded queue, so a delay is
/// latency per chunk rather than a pause between reads.
async fn pump(
    mut from: ReadHalf<'_>,
    mut to: WriteHalf<'_>,
    mode: watch::Receiver<Mode>,
) -> io::Result<()> {
    let (tx, mut rx) = mpsc::channel::<Chunk>(QUEUE);
    let mut read_mode = mode.clone();
    let reader = async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            wait_for_traffic(&mut read_mode).await;
            // Stop reading as soon as the mode turns to BlackHole; `read` is
            // cancel-safe, so no byte is lost.
            let n = tokio::select! {
                n = from.read(&mut buf) => n?,
                _ = mode_changed(&mut read_mode) => continue,
            };
            let chunk = if n == 0 {
                Chunk::Eof(Instant::now())
            } else {
                Chunk::Data(Instant::now(), buf[..n].to_vec())
            };
            if tx.send(chunk).await.is_err() || n == 0 {
                return io::Result::Ok(());
            }
        }
    };
    let mut write_mode = mode;
    let writer = async move {
        while let Some(chunk) = rx.recv().await {
            let read_at = match &chunk {
                Chunk::Data(at, _) | Chunk::Eof(at) => *at,
            };
            // Hold the chunk while black-holed, and until its delay is over.
            loop {
                let current = *write_mode.borrow_and_update();
                match current {
                    Mode::Pass => break,
                    Mode::Delay(delay) => {
                        tokio::select! {
                            _ = tokio::time::sleep_until(read_at + delay) => break,
                            _ = mode_changed(&mut write_mode) => {}
                        }
                    }
                    Mode::BlackHole | Mode::Reset => mode_changed(&mut write_mode).await,
                }
            }
            match chunk {
                Chunk::Data(_, bytes) => to.write_all(&bytes).await?,
                Chunk::Eof(_) => {
                    to.shutdown().await?;
                    return Ok(());
                }
            }
        }
        io::Result::Ok(())
    };
    tokio::try_join!(reader, writer).map(|_| ())
}
