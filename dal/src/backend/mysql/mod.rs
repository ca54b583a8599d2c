//! Everything dal knows about MySQL and MariaDB, one file per service: here
//! the connect options, the connection's statements (execute, fetch, raw
//! scripts, ping), its prepared-statement cache and the server-side cancel
//! (`KILL QUERY` / `KILL CONNECTION`); encode/decode in `codec.rs`, error
//! classification in `error.rs`, catalog introspection in `introspect.rs`
//! and the migration lock's SQL (`GET_LOCK`) in `lock.rs`.
//!
//! The driver is mysql_async (chosen over sqlx-mysql by the numbers in
//! `bench/README.md`: sqlx-mysql formats a throw-away error for every
//! temporal value it reads). What PostgreSQL and MySQL share (the pooled
//! connection, the deadline, abandoning a statement) is in `../server.rs`.

pub(crate) mod codec;
pub(crate) mod error;
pub(crate) mod introspect;
pub(crate) mod lock;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use mysql_async::prelude::Queryable as _;
use mysql_async::{Conn, DriverError, Opts, OptsBuilder, Params, SslOpts, Statement};

use crate::backend::server::{Cancel, ServerConn, check_root_cert};
use crate::backend::sink::{Flow, Sink};
use crate::config::{DatabaseConfig, TlsMode};
use crate::error::{Error, Result};
use crate::pool::Manager;
use crate::result::ExecResult;
use crate::row::{Decoder, Row, RowInner};

pub(crate) use error::map_err;

/// A MySQL/MariaDB session: the live connection, or (after a statement was
/// abandoned at its deadline) the statement still running, which owns it.
///
/// mysql_async cannot tell a late answer from the answer to the next
/// command, so an abandoned statement is never dropped mid-flight: it keeps
/// running, owning the connection, until the pool's recovery has cancelled it
/// on the server and read its answer; then the connection is live again and
/// in step with the server.
pub(crate) struct Session {
    live: Option<Live>,
    inflight: Option<futures_util::future::BoxFuture<'static, Live>>,
}

/// A live connection and the statements prepared on it (kept by dal:
/// mysql_async's own cache is off, so dal decides what stays prepared and can
/// forget it all after a schema change).
pub(crate) struct Live {
    conn: Conn,
    /// Prepared statements by SQL text, with when each was last used.
    statements: HashMap<Arc<str>, (Statement, u64)>,
    /// At most this many stay prepared (the least recently used is closed).
    capacity: usize,
    /// Counts statement uses (the recency of the cache's entries).
    uses: u64,
}

/// One MySQL/MariaDB connection (what a pooled connection derefs to).
pub(crate) type MySqlConn = ServerConn<Session>;

/// Opens MySQL/MariaDB connections, and keeps a control connection outside
/// the pool for cancelling statements.
pub(crate) struct MySqlManager {
    /// Per host of the URL (tried in order): the options, with TLS as the
    /// mode asks (none for `disable`), and for `prefer` the same options
    /// without TLS, for a server that offers none.
    hosts: Vec<(Opts, Option<Opts>)>,
    /// `prefer`: the server offered no TLS (later connections go plain at once).
    no_tls: AtomicBool,
    statement_capacity: usize,
    /// Per host: a connection outside the pool for cancelling statements
    /// (opened on first need; a session's id is only known to its host).
    control: Vec<tokio::sync::Mutex<Option<Conn>>>,
    /// Limit for opening the control connection and running a cancel on it.
    control_timeout: Duration,
    /// The TLS root certificate file, checked before each connection so a
    /// missing file is reported as such.
    tls_root_cert: Option<std::path::PathBuf>,
    /// The server's `max_connections`, read with each new connection (0
    /// until the first one opened).
    pub(crate) server_max_connections: AtomicU64,
}

/// A string literal for a `SET` statement (quotes doubled, backslashes
/// escaped).
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\\', "\\\\").replace('\'', "''"))
}

/// The session settings every connection starts with: `||` concatenates (as
/// in the other dialects), no silent engine substitution, UTC, utf8mb4.
fn session_setup(config: &DatabaseConfig) -> String {
    let mut names = "NAMES 'utf8mb4'".to_string();
    for (k, v) in config.params() {
        if k == "collation" {
            names = format!("NAMES 'utf8mb4' COLLATE {}", literal(v));
        }
    }
    format!(
        "SET sql_mode=(SELECT CONCAT(@@sql_mode, ',PIPES_AS_CONCAT,NO_ENGINE_SUBSTITUTION')),\
         time_zone='+00:00',{names}"
    )
}

/// The TLS options a mode asks for (`None`: no TLS).
fn ssl_opts(mode: TlsMode, root_cert: Option<&str>) -> Option<SslOpts> {
    let mut ssl = SslOpts::default();
    if let Some(path) = root_cert {
        ssl = ssl.with_root_certs(vec![std::path::PathBuf::from(path).into()]);
    }
    match mode {
        TlsMode::Disable => None,
        // encrypt, without checking whom to
        TlsMode::Prefer | TlsMode::Require => Some(
            ssl.with_danger_accept_invalid_certs(true)
                .with_danger_skip_domain_validation(true),
        ),
        TlsMode::VerifyCa => Some(ssl.with_danger_skip_domain_validation(true)),
        TlsMode::VerifyFull => Some(ssl),
    }
}

/// The connection manager for `config` (`control_timeout` bounds opening the
/// cancel connection and running a cancel on it).
pub(crate) fn manager(config: &DatabaseConfig, control_timeout: Duration) -> MySqlManager {
    let targets: Vec<(String, u16)> = if config.hosts().is_empty() {
        vec![("localhost".to_string(), 3306)]
    } else {
        config.hosts().to_vec()
    };
    let hosts: Vec<(Opts, Option<Opts>)> = targets
        .iter()
        .map(|(h, p)| host_opts(config, h, *p))
        .collect();
    MySqlManager {
        control: hosts
            .iter()
            .map(|_| tokio::sync::Mutex::new(None))
            .collect(),
        hosts,
        no_tls: AtomicBool::new(false),
        statement_capacity: config.statement_cache_capacity().max(1),
        control_timeout,
        tls_root_cert: config.tls_root_cert().map(Into::into),
        server_max_connections: AtomicU64::new(0),
    }
}

/// The options for one host: with TLS as the mode asks, and for `prefer`
/// the same without TLS.
fn host_opts(config: &DatabaseConfig, host: &str, port: u16) -> (Opts, Option<Opts>) {
    let mut b = OptsBuilder::default()
        .ip_or_hostname(host)
        .tcp_port(port)
        .user(Some(config.username().unwrap_or("root")))
        .pass(config.password())
        .db_name(config.database())
        .socket(config.socket())
        // connect where the URL says, never to a socket found by asking the server
        .prefer_socket(false)
        // dal keeps its own statement cache (see `Session`)
        .stmt_cache_size(0)
        // an UPDATE reports the rows it matched, changed or not (as sqlx and libpq do)
        .client_found_rows(true)
        .tcp_nodelay(true)
        .init(vec![session_setup(config)]);
    let mode = config.tls_mode().unwrap_or(TlsMode::Prefer);
    let plain = (mode == TlsMode::Prefer).then(|| Opts::from(b.clone()));
    b = b.ssl_opts(ssl_opts(mode, config.tls_root_cert()));
    (Opts::from(b), plain)
}

impl MySqlManager {
    /// Open a session on host `i` (`prefer`: with TLS when the server
    /// offers it).
    async fn open(&self, i: usize) -> Result<Conn> {
        check_root_cert(self.tls_root_cert.as_deref()).await?;
        let (opts, plain) = &self.hosts[i];
        if let Some(plain) = plain {
            if self.no_tls.load(Ordering::Relaxed) {
                return Conn::new(plain.clone()).await.map_err(map_err);
            }
            return match Conn::new(opts.clone()).await {
                Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer)) => {
                    self.no_tls.store(true, Ordering::Relaxed);
                    Conn::new(plain.clone()).await.map_err(map_err)
                }
                r => r.map_err(map_err),
            };
        }
        Conn::new(opts.clone()).await.map_err(map_err)
    }

    /// Open a session on the first of the URL's hosts that takes it: with
    /// several hosts, a Galera node that is up but not part of the primary
    /// component (`wsrep_ready` not `ON`: it left the cluster, or is still
    /// joining) is passed over like a host that is down. The session and
    /// its host's index.
    async fn open_any(&self) -> Result<(Conn, usize)> {
        if self.hosts.len() == 1 {
            return Ok((self.open(0).await?, 0));
        }
        let mut last = None;
        for i in 0..self.hosts.len() {
            match self.open(i).await {
                Ok(mut c) => match galera_ready(&mut c).await {
                    Ok(true) => return Ok((c, i)),
                    Ok(false) => {
                        let _ = c.disconnect().await;
                        last = Some(Error::ConnectionLost {
                            message: format!(
                                "host {} of the URL is a Galera node that is not ready (wsrep_ready is not ON: it left the cluster or is joining)",
                                i + 1
                            ),
                            code: None,
                        });
                    }
                    Err(e) => last = Some(e),
                },
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(Error::PoolClosed))
    }

    /// Run `sql` on host `host`'s control connection (opened on first use,
    /// dropped after a failure), within the control timeout.
    async fn control(&self, host: usize, sql: String) -> Result<()> {
        let Some(slot) = self.control.get(host) else {
            return Ok(());
        };
        crate::backend::server::on_control(slot, self.control_timeout, self.open(host), |c| {
            Box::pin(async move { c.query_drop(sql).await.map_err(map_err) })
        })
        .await
    }
}

/// The live connection, or an error when it is still held by an abandoned
/// statement (the pool recovers such a connection before handing it out).
fn live(c: &mut MySqlConn) -> Result<&mut Live> {
    c.conn.live.as_mut().ok_or_else(|| {
        Error::Driver("mysql: the connection is held by an abandoned statement".into())
    })
}

impl Manager for MySqlManager {
    type Conn = MySqlConn;

    async fn connect(&self) -> Result<MySqlConn> {
        let (mut conn, host) = self.open_any().await?;
        let max: Option<u64> = conn
            .query_first("SELECT CAST(@@max_connections AS UNSIGNED)")
            .await
            .map_err(map_err)?;
        self.server_max_connections
            .store(max.unwrap_or(0), Ordering::Relaxed);
        // the session id is the host's own: the cancel goes to that host
        let backend_id = ((host as u64) << 32) | u64::from(conn.id());
        Ok(ServerConn {
            conn: Session {
                live: Some(Live {
                    conn,
                    statements: HashMap::new(),
                    capacity: self.statement_capacity,
                    uses: 0,
                }),
                inflight: None,
            },
            pending: Vec::new(),
            in_transaction: false,
            backend_id,
        })
    }

    async fn ping(&self, c: &mut MySqlConn) -> Result<()> {
        live(c)?.conn.ping().await.map_err(map_err)
    }

    /// A call dropped mid-statement left the statement running, owning the
    /// connection (see [`Session`]): it is recovered before reuse.
    fn interrupted(&self, c: &MySqlConn) -> bool {
        c.conn.inflight.is_some()
    }

    async fn reset(&self, c: &mut MySqlConn) -> Result<()> {
        c.pending.clear();
        c.in_transaction = false;
        live(c)?.conn.query_drop("ROLLBACK").await.map_err(map_err)
    }

    /// Cancel the abandoned statement on the server (`KILL QUERY`), let it
    /// read its answer (the cancellation error, or its result when it
    /// finished first), then check the connection with a ping. When that
    /// does not happen within [`CANCEL_GRACE`](crate::backend::server::CANCEL_GRACE),
    /// the session is ended on the server and the connection given up.
    async fn recover(&self, c: &mut MySqlConn) -> bool {
        let id = c.backend_id;
        let Some(inflight) = c.conn.inflight.take() else {
            return c.conn.live.is_some();
        };
        let recovered = async {
            self.cancel(&id, false).await?;
            let mut live = inflight.await;
            live.conn.ping().await.map_err(map_err)?;
            Ok::<Live, Error>(live)
        };
        c.conn.live = crate::backend::server::confirm_or_end(self, &id, recovered).await;
        c.conn.live.is_some()
    }
}

impl Cancel for MySqlManager {
    /// The connection id.
    type Session = u64;

    /// Cancel the statement running in session `id` (`terminate`: end the
    /// session), from the control connection.
    async fn cancel(&self, id: &u64, terminate: bool) -> Result<()> {
        let (host, session) = ((*id >> 32) as usize, *id & 0xffff_ffff);
        self.control(host, cancel_sql(session, terminate)).await
    }
}

/// Whether a session's server may take work: true for a server that is not
/// a Galera node (no `wsrep_ready` status), and for a node whose
/// `wsrep_ready` is `ON`.
async fn galera_ready(c: &mut Conn) -> Result<bool> {
    let row: Option<(String, String)> = c
        .query_first("SHOW STATUS LIKE 'wsrep_ready'")
        .await
        .map_err(map_err)?;
    Ok(row.is_none_or(|(_, v)| v.eq_ignore_ascii_case("ON")))
}

/// The statement that cancels what session `id` runs (`terminate`: ends the
/// session).
fn cancel_sql(id: u64, terminate: bool) -> String {
    if terminate {
        format!("KILL CONNECTION {id}")
    } else {
        format!("KILL QUERY {id}")
    }
}

impl Live {
    /// The prepared statement for `sql`: from the cache, or prepared now
    /// (`persistent`: kept in the cache, closing the least recently used one
    /// when full). The flag says whether the caller must close it after use.
    async fn statement(&mut self, sql: &Arc<str>, persistent: bool) -> Result<(Statement, bool)> {
        self.uses += 1;
        if let Some((stmt, used)) = self.statements.get_mut(sql) {
            *used = self.uses;
            return Ok((stmt.clone(), false));
        }
        let stmt = self.conn.prep(&**sql).await.map_err(map_err)?;
        if !persistent {
            return Ok((stmt, true));
        }
        if self.statements.len() >= self.capacity
            && let Some(oldest) = self
                .statements
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
            && let Some((old, _)) = self.statements.remove(&oldest)
        {
            self.conn.close(old).await.map_err(map_err)?;
        }
        self.statements
            .insert(sql.clone(), (stmt.clone(), self.uses));
        Ok((stmt, false))
    }

    /// Close every prepared statement (after a schema change invalidated them).
    async fn forget_statements(&mut self) -> Result<()> {
        for (_, (stmt, _)) in std::mem::take(&mut self.statements) {
            self.conn.close(stmt).await.map_err(map_err)?;
        }
        Ok(())
    }

    /// Close a statement prepared for one use (after it ran: `ran` is its
    /// outcome, which wins over a failure to close).
    async fn close_after<T>(&mut self, stmt: Statement, close: bool, ran: Result<T>) -> Result<T> {
        if close {
            let closed = self.conn.close(stmt).await;
            if ran.is_ok() {
                closed.map_err(map_err)?;
            }
        }
        ran
    }

    async fn run(&mut self, pending: Vec<String>, job: Job) -> Result<Done> {
        for sql in pending {
            self.conn.query_drop(sql).await.map_err(map_err)?;
        }
        match job {
            Job::Raw(sql) => self
                .conn
                .query_drop(sql)
                .await
                .map(|()| Done::Nothing)
                .map_err(map_err),
            Job::Ping => self
                .conn
                .ping()
                .await
                .map(|()| Done::Nothing)
                .map_err(map_err),
            Job::Execute {
                sql,
                args,
                persistent,
            } => {
                let (stmt, close) = self.statement(&sql, persistent).await?;
                let ran = self
                    .conn
                    .exec_drop(&stmt, params(args))
                    .await
                    .map_err(map_err);
                let result = ExecResult {
                    rows_affected: self.conn.affected_rows(),
                    last_insert_id: self
                        .conn
                        .last_insert_id()
                        .filter(|&id| id != 0)
                        .map(|id| id as i64),
                };
                self.close_after(stmt, close, ran.map(|()| Done::Exec(result)))
                    .await
            }
            Job::Fetch {
                sql,
                args,
                persistent,
                limit,
                to,
            } => {
                let (stmt, close) = self.statement(&sql, persistent).await?;
                let ran = match to {
                    Some(to) => self
                        .send_rows(&stmt, args, limit, &to)
                        .await
                        .map(|()| Done::Nothing),
                    // one row at most: the driver's read of a first row (the
                    // rest of the answer dropped), handed back whole
                    None => self
                        .conn
                        .exec_first::<mysql_async::Row, _, _>(&stmt, params(args))
                        .await
                        .map(Done::Row)
                        .map_err(map_err),
                };
                self.close_after(stmt, close, ran).await
            }
        }
    }

    /// Run a query and send up to `limit` of its rows to `to` as they arrive,
    /// [`ROWS_PER_SEND`] at a time (the caller decodes them meanwhile); the
    /// rest of the answer is read and dropped, as are the rows of a caller
    /// that went away.
    async fn send_rows(
        &mut self,
        stmt: &Statement,
        args: Vec<mysql_async::Value>,
        limit: Option<usize>,
        to: &RowSender,
    ) -> Result<()> {
        let mut result = self
            .conn
            .exec_iter(stmt, params(args))
            .await
            .map_err(map_err)?;
        let mut left = limit.unwrap_or(usize::MAX);
        // each batch is allocated at its full size once (grown from empty,
        // it would be reallocated and its rows moved six times)
        let batch = |left: usize| Vec::with_capacity(left.min(ROWS_PER_SEND));
        let mut rows = batch(left);
        while left > 0
            && let Some(row) = result.next().await.map_err(map_err)?
        {
            left -= 1;
            rows.push(row);
            if rows.len() >= ROWS_PER_SEND {
                // waits while the decoder is behind (a stream's reader holds
                // it back); a caller that went away (or stopped at a row it
                // could not decode) no longer reads: the connection still
                // reads the answer
                let _ = to.send(std::mem::replace(&mut rows, batch(left))).await;
            }
        }
        if !rows.is_empty() {
            let _ = to.send(rows).await;
        }
        result.drop_result().await.map_err(map_err)
    }
}

/// How many rows a fetch hands to its decoder at a time: few enough that
/// decoding keeps up with the connection, enough that the hand-over costs
/// little per row.
const ROWS_PER_SEND: usize = 64;

/// Batches of [`ROWS_PER_SEND`] rows the job reads ahead of its decoder;
/// then it waits for the decoder (which waits for a stream's reader), so a
/// slow reader holds the connection's reading back.
const BATCHES_IN_FLIGHT: usize = 16;

/// Where a fetch's rows go as they arrive.
type RowSender = tokio::sync::mpsc::Sender<Vec<mysql_async::Row>>;

/// What one call asks of the connection, owned (it may outlive the call: see
/// [`Session`]).
enum Job {
    Execute {
        sql: Arc<str>,
        args: Vec<mysql_async::Value>,
        persistent: bool,
    },
    Fetch {
        sql: Arc<str>,
        args: Vec<mysql_async::Value>,
        persistent: bool,
        limit: Option<usize>,
        /// Where the rows go as they arrive; `None`: one row at most, handed
        /// back in [`Done::Row`].
        to: Option<RowSender>,
    },
    Raw(String),
    Ping,
}

/// What a [`Job`] gave back.
enum Done {
    Exec(ExecResult),
    /// The first row of a fetch of one row at most.
    Row(Option<mysql_async::Row>),
    Nothing,
}

/// A job running on the connection it took out of its session. Dropped
/// before the job finished (the call's deadline passed), it hands the
/// running job to the session, for the pool's recovery to finish.
struct Running<'c> {
    session: &'c mut Session,
    job: Option<futures_util::future::BoxFuture<'static, (Live, Result<Done>)>>,
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            self.session.inflight = Some(Box::pin(async move { job.await.0 }));
        }
    }
}

/// Run `job` (after the queued statements) on the connection.
async fn run(c: &mut MySqlConn, job: Job) -> Result<Done> {
    let pending = std::mem::take(&mut c.pending);
    let Some(mut live) = c.conn.live.take() else {
        return Err(Error::Driver(
            "mysql: the connection is held by an abandoned statement".into(),
        ));
    };
    let mut running = Running {
        session: &mut c.conn,
        job: Some(Box::pin(async move {
            let r = live.run(pending, job).await;
            (live, r)
        })),
    };
    let (live, r) = match running.job.as_mut() {
        Some(job) => job.await,
        None => return Err(Error::Driver("mysql: no job to run".into())),
    };
    running.job = None;
    running.session.live = Some(live);
    r
}

fn params(args: Vec<mysql_async::Value>) -> Params {
    if args.is_empty() {
        Params::Empty
    } else {
        Params::Positional(args)
    }
}

fn unexpected<T>() -> Result<T> {
    Err(Error::Driver("mysql: unexpected answer kind".into()))
}

/// Run statements without parameters (text protocol; several separated by `;`).
pub(crate) async fn execute_raw(c: &mut MySqlConn, sql: &str) -> Result<()> {
    run(c, Job::Raw(sql.to_string())).await.map(|_| ())
}

/// Forget the prepared statements (after a schema change invalidated them).
pub(crate) async fn clear_statements(c: &mut MySqlConn) {
    if let Some(live) = c.conn.live.as_mut() {
        let _ = live.forget_statements().await;
    }
}

/// Run one statement; `persistent` keeps it prepared on the server.
pub(crate) async fn execute(
    c: &mut MySqlConn,
    sql: Arc<str>,
    args: Vec<mysql_async::Value>,
    persistent: bool,
) -> Result<ExecResult> {
    match run(
        c,
        Job::Execute {
            sql,
            args,
            persistent,
        },
    )
    .await?
    {
        Done::Exec(r) => Ok(r),
        _ => unexpected(),
    }
}

/// Run a query and put up to the sink's limit of rows (all when `None`) into
/// `sink`, each decoded as `T` as it arrives, while the connection reads the
/// next.
pub(crate) async fn fetch<T, S: Sink<T>>(
    c: &mut MySqlConn,
    sql: Arc<str>,
    args: Vec<mysql_async::Value>,
    persistent: bool,
    sink: &mut S,
    decoder: &Decoder<T>,
) -> Result<()> {
    let mut positional = None;
    let decode_one = |raw, positional: &mut Option<bool>| {
        crate::backend::server::decode_row(raw, decoder, positional, |r| {
            Row::new(RowInner::MySql(r))
        })
    };
    let limit = sink.limit();
    if limit.is_some_and(|l| l <= 1) {
        // no hand-over for one row: it is decoded once the job is done
        let job = Job::Fetch {
            sql,
            args,
            persistent,
            limit,
            to: None,
        };
        return match run(c, job).await? {
            Done::Row(Some(row)) if limit == Some(1) => {
                sink.push(decode_one(row, &mut positional)?);
                Ok(())
            }
            Done::Row(_) => Ok(()),
            _ => unexpected(),
        };
    }
    let (to, mut arrived) = tokio::sync::mpsc::channel(BATCHES_IN_FLIGHT);
    let job = Job::Fetch {
        sql,
        args,
        persistent,
        limit,
        to: Some(to),
    };
    let decode = async move {
        // the channel closes when the job is done (or never ran)
        while let Some(some) = arrived.recv().await {
            for raw in some {
                match sink.push(decode_one(raw, &mut positional)?) {
                    Flow::More => {}
                    // the job reads the rest of the answer and drops it
                    Flow::Stop => return Ok(()),
                    Flow::Flush => {
                        if !sink.flush().await {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    };
    // one task: the job reads rows off the connection, the decoder takes
    // each batch as it is read
    let (ran, decoded) = futures_util::future::join(run(c, job), decode).await;
    match ran? {
        Done::Nothing => decoded,
        _ => unexpected(),
    }
}

/// A round trip that checks the connection.
pub(crate) async fn ping(c: &mut MySqlConn) -> Result<()> {
    run(c, Job::Ping).await.map(|_| ())
}
