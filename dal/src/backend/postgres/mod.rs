//! Everything dal knows about PostgreSQL, one file per service: here the
//! connect options, the connection's statements (execute, fetch, raw
//! scripts, binary COPY, ping), its prepared-statement cache and the
//! server-side cancel (the protocol's cancel request in `cancel.rs`); the
//! parameters' binary forms in `args.rs`,
//! encode/decode in `codec.rs`, error classification in `error.rs`, TLS in
//! `tls.rs`, catalog introspection in `introspect.rs`, the migration lock's
//! SQL in `lock.rs`, the binary `COPY` encoder in `copy.rs`.
//!
//! The driver is tokio-postgres (chosen over sqlx-postgres by the numbers in
//! `bench/README.md`: sqlx-postgres streams every row through a channel and
//! a per-row future). What PostgreSQL and MySQL share (the pooled
//! connection, the deadline, abandoning a statement) is in `../server.rs`.

pub(crate) mod args;
mod cancel;
pub(crate) mod codec;
pub(crate) mod copy;
pub(crate) mod error;
pub(crate) mod introspect;
pub(crate) mod lock;
mod tls;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::{SinkExt as _, TryStreamExt as _};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::backend::server::{Cancel, ServerConn, check_root_cert};
use crate::backend::sink::{Flow, Sink};
use crate::config::{DatabaseConfig, TlsMode};
use crate::error::{Error, Result};
use crate::pool::Manager;
use crate::result::ExecResult;
use crate::row::{Decoder, Row, RowInner};
use crate::statement::Statement;

use args::PgArgs;
pub(crate) use error::map_err;

/// A live PostgreSQL connection and the statements prepared on it (kept by
/// dal, so it decides what stays prepared and can forget it all after a
/// schema change).
pub(crate) struct Live {
    client: Client,
    /// Prepared statements by SQL text, with when each was last used.
    statements: HashMap<Arc<str>, (tokio_postgres::Statement, u64)>,
    /// At most this many stay prepared (the least recently used is closed);
    /// zero: none, every statement runs unnamed.
    capacity: usize,
    /// Counts statement uses (the recency of the cache's entries).
    uses: u64,
    /// A stream's answer is being read: still set when the pool takes the
    /// connection back, the stream went away mid-answer (or its fetch was
    /// dropped), and the rest of the answer is cancelled on the server rather
    /// than read (see `Manager::interrupted`).
    streaming: bool,
}

/// One PostgreSQL connection (what a pooled connection derefs to).
pub(crate) type PgConn = ServerConn<Live, PgSession>;

/// How a statement a PostgreSQL session runs is cancelled.
#[derive(Clone)]
pub(crate) enum PgSession {
    /// By the session's backend pid, from the control connection
    /// (`pg_cancel_backend`, `pg_terminate_backend`).
    Pid(u64),
    /// With the protocol's cancel request, sent where the session is: behind
    /// a pooler in transaction mode (where the pid would be that of
    /// whichever server connection the pooler lent at the time; the pooler
    /// forwards the request to the one the client holds), and when the URL
    /// names several hosts (the control connection may reach another one).
    Token(tokio_postgres::CancelToken),
}

impl std::fmt::Debug for PgSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PgSession::Pid(pid) => write!(f, "{pid}"),
            // the cancel key is a secret of the session
            PgSession::Token(_) => f.write_str("cancel key"),
        }
    }
}

/// Opens PostgreSQL connections, and keeps a control connection outside the
/// pool for cancelling statements.
pub(crate) struct PgManager {
    config: tokio_postgres::Config,
    /// What a new pooled connection runs first ([`session_setup`]).
    setup: String,
    /// The TLS set-up (its mode is in `config`), or the configuration error
    /// that stops every connection (reported when connecting).
    tls: std::result::Result<tls::MakeRustls, (&'static str, String)>,
    statement_capacity: usize,
    /// Behind pgbouncer in transaction mode: nothing session-scoped, and
    /// statements cancelled with the protocol's cancel request.
    pooled: bool,
    /// The URL names several hosts: statements are cancelled with the
    /// protocol's cancel request, sent to the host the session is on.
    several_hosts: bool,
    /// A connection outside the pool for cancelling statements (opened on first need).
    control: tokio::sync::Mutex<Option<Client>>,
    /// Limit for opening the control connection and running a cancel on it.
    control_timeout: Duration,
    /// The TLS root certificate file, checked before each connection so a
    /// missing file is reported as such.
    tls_root_cert: Option<std::path::PathBuf>,
    /// The server's `max_connections`, read with each new connection's id
    /// (0 until the first one opened).
    pub(crate) server_max_connections: AtomicU64,
}

/// The statement that cancels what session `id` runs (`terminate`: ends the
/// session).
fn cancel_sql(id: u64, terminate: bool) -> String {
    if terminate {
        format!("SELECT pg_terminate_backend({id})")
    } else {
        format!("SELECT pg_cancel_backend({id})")
    }
}

impl PgManager {
    /// The TLS set-up, or the configuration error that stops every connection.
    fn tls(&self) -> Result<tls::MakeRustls> {
        self.tls
            .clone()
            .map_err(|(option, reason)| Error::config(option, reason))
    }

    /// Whether a connection that met a read-only server is closed, so that
    /// the next one settles on a host `target_session_attrs` accepts: when
    /// the URL names several hosts (a stale role after a failover).
    pub(crate) fn reroutes(&self) -> bool {
        self.several_hosts
    }

    /// Open a session; its connection task runs on the runtime until the
    /// client is dropped or the server ends the session.
    async fn open(&self) -> Result<Client> {
        check_root_cert(self.tls_root_cert.as_deref()).await?;
        let tls = self.tls()?;
        let (client, mut connection) = self.config.connect(tls).await.map_err(map_err)?;
        tokio::spawn(async move {
            // the server's notices (`NOTICE: table .. does not exist,
            // skipping`) are logged under `dal::notice`: warnings as
            // warnings, the rest at debug level
            let mut messages = std::pin::pin!(futures_util::stream::poll_fn(move |cx| {
                connection.poll_message(cx)
            }));
            while let Some(m) = futures_util::StreamExt::next(&mut messages).await {
                match m {
                    Ok(tokio_postgres::AsyncMessage::Notice(n)) => {
                        if n.severity().starts_with("WARN") {
                            tracing::warn!(target: "dal::notice", code = n.code().code(), "{}", n.message());
                        } else {
                            tracing::debug!(target: "dal::notice", code = n.code().code(), severity = n.severity(), "{}", n.message());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(target: "dal::pool", error = %map_err(e).redacted(), "a PostgreSQL session ended");
                        break;
                    }
                }
            }
        });
        Ok(client)
    }

    /// Run `sql` on the control connection (opened on first use, dropped
    /// after a failure), within the control timeout.
    async fn control(&self, sql: String) -> Result<()> {
        crate::backend::server::on_control(&self.control, self.control_timeout, self.open(), |c| {
            Box::pin(async move { c.batch_execute(&sql).await.map_err(map_err) })
        })
        .await
    }
}

impl Manager for PgManager {
    type Conn = PgConn;

    async fn connect(&self) -> Result<PgConn> {
        let client = self.open().await?;
        // one round trip: the session settings, the session's id (for
        // cancels) and the server's limit
        let answer = client.simple_query(&self.setup).await.map_err(map_err)?;
        let (mut id, mut max) = (0u64, 0u64);
        for m in &answer {
            if let SimpleQueryMessage::Row(row) = m {
                id = row.get(0).and_then(|v| v.parse().ok()).unwrap_or(0);
                max = row.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
            }
        }
        self.server_max_connections.store(max, Ordering::Relaxed);
        let session = if self.pooled || self.several_hosts {
            PgSession::Token(client.cancel_token())
        } else {
            PgSession::Pid(id)
        };
        Ok(ServerConn {
            conn: Live {
                client,
                statements: HashMap::new(),
                capacity: self.statement_capacity,
                uses: 0,
                streaming: false,
            },
            pending: Vec::new(),
            in_transaction: false,
            backend_id: session,
        })
    }

    async fn ping(&self, c: &mut PgConn) -> Result<()> {
        c.conn.client.check_connection().await.map_err(map_err)
    }

    async fn reset(&self, c: &mut PgConn) -> Result<()> {
        c.pending.clear();
        c.in_transaction = false;
        c.conn
            .client
            .batch_execute("ROLLBACK")
            .await
            .map_err(map_err)
    }

    /// Cancel the abandoned statement on the server, then wait for the
    /// connection to answer a round trip (the driver reads and drops the
    /// abandoned statement's answer first, so the connection stays in step).
    /// When that does not happen within
    /// [`CANCEL_GRACE`](crate::backend::server::CANCEL_GRACE), the session is
    /// ended on the server and the connection given up.
    async fn recover(&self, c: &mut PgConn) -> bool {
        let id = c.backend_id.clone();
        let client = &c.conn.client;
        let recovered = async {
            self.cancel(&id, false).await?;
            client.check_connection().await.map_err(map_err)
        };
        let ok = crate::backend::server::confirm_or_end(self, &id, recovered)
            .await
            .is_some();
        c.conn.streaming = false;
        ok
    }

    /// A stream's reader went away mid-answer: the rest is cancelled.
    fn interrupted(&self, c: &PgConn) -> bool {
        c.conn.streaming
    }
}

impl Cancel for PgManager {
    type Session = PgSession;

    /// Cancel the statement running in `session` (`terminate`: end the
    /// session), from the control connection. With a cancel key the
    /// statement is cancelled whether or not the session is to end: the
    /// caller gives the connection up, and the server (or the pooler) rolls
    /// back what the session had open when the client leaves.
    async fn cancel(&self, session: &PgSession, terminate: bool) -> Result<()> {
        let token = match session {
            PgSession::Pid(id) => return self.control(cancel_sql(*id, terminate)).await,
            PgSession::Token(token) => token,
        };
        let tls = self.tls()?;
        let send = async {
            if self.pooled {
                // one host (checked when the configuration was built)
                cancel::send(&self.config, &tls, token).await
            } else {
                // the driver sends it to the host the session is on
                token.cancel_query(tls).await.map_err(map_err)
            }
        };
        crate::backend::server::within_control_timeout(self.control_timeout, send).await
    }
}

impl Live {
    /// The prepared statement for `sql` with parameter `types`: from the
    /// cache, or prepared now and kept (closing the least recently used one
    /// when full). The statement texts are per parameter-type signature
    /// ([`statement_text`]), so a text names one statement.
    async fn statement(
        &mut self,
        sql: &Arc<str>,
        types: &[tokio_postgres::types::Type],
    ) -> Result<tokio_postgres::Statement> {
        self.uses += 1;
        if let Some((stmt, used)) = self.statements.get_mut(sql) {
            *used = self.uses;
            return Ok(stmt.clone());
        }
        let stmt = self
            .client
            .prepare_typed(sql, types)
            .await
            .map_err(map_err)?;
        if self.statements.len() >= self.capacity
            && let Some(oldest) = self
                .statements
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone())
        {
            // dropping the last handle closes it on the server
            self.statements.remove(&oldest);
        }
        self.statements
            .insert(sql.clone(), (stmt.clone(), self.uses));
        Ok(stmt)
    }
}

/// Runs queued statements (rollbacks of dropped nested transactions) first.
async fn run_pending(c: &mut PgConn) -> Result<()> {
    if c.pending.is_empty() {
        return Ok(());
    }
    for sql in std::mem::take(&mut c.pending) {
        c.conn.client.batch_execute(&sql).await.map_err(map_err)?;
    }
    Ok(())
}

/// Run statements without parameters (simple query protocol; several
/// separated by `;`).
pub(crate) async fn execute_raw(c: &mut PgConn, sql: &str) -> Result<()> {
    run_pending(c).await?;
    c.conn.client.batch_execute(sql).await.map_err(map_err)
}

/// Forget the prepared statements (after a schema change invalidated them).
pub(crate) async fn clear_statements(c: &mut PgConn) {
    c.conn.statements.clear();
}

/// Run one statement; `persistent` keeps it prepared on the server.
pub(crate) async fn execute(
    c: &mut PgConn,
    sql: Arc<str>,
    args: PgArgs,
    persistent: bool,
) -> Result<ExecResult> {
    run_pending(c).await?;
    let rows_affected = if persistent && c.conn.capacity > 0 {
        let stmt = c.conn.statement(&sql, &args.types).await?;
        c.conn
            .client
            .execute_raw(&stmt, args.params())
            .await
            .map_err(map_err)?
    } else {
        let stream = c
            .conn
            .client
            .query_typed_raw(&sql, args.typed_params())
            .await
            .map_err(map_err)?;
        let mut stream = std::pin::pin!(stream);
        while stream.try_next().await.map_err(map_err)?.is_some() {}
        stream.rows_affected().unwrap_or(0)
    };
    Ok(ExecResult {
        rows_affected,
        last_insert_id: None,
    })
}

/// Run a query and return up to `limit` rows (all when `None`).
pub(crate) async fn fetch<T, S: Sink<T>>(
    c: &mut PgConn,
    sql: Arc<str>,
    args: PgArgs,
    persistent: bool,
    sink: &mut S,
    decoder: &Decoder<T>,
) -> Result<()> {
    run_pending(c).await?;
    let stream = if persistent && c.conn.capacity > 0 {
        let stmt = c.conn.statement(&sql, &args.types).await?;
        c.conn.client.query_raw(&stmt, args.params()).await
    } else {
        c.conn
            .client
            .query_typed_raw(&sql, args.typed_params())
            .await
    }
    .map_err(map_err)?;
    let mut stream = std::pin::pin!(stream);
    // each row is decoded as it arrives, while the server sends the next
    let mut positional = None;
    // a stream's reader may go away mid-answer: until the answer is read,
    // the connection is marked for the rest to be cancelled
    c.conn.streaming = S::STREAM;
    while let Some(raw) = stream.try_next().await.map_err(map_err)? {
        // a row that cannot be decoded ends the fetch; the driver reads and
        // drops the rest of the answer
        let row = crate::backend::server::decode_row(raw, decoder, &mut positional, |r| {
            Row::new(RowInner::Pg(r))
        })?;
        match sink.push(row) {
            Flow::More => {}
            Flow::Stop => break,
            Flow::Flush => {
                if !sink.flush().await {
                    // the reader went away: the rest is cancelled
                    return Ok(());
                }
            }
        }
    }
    c.conn.streaming = false;
    Ok(())
}

/// The SQL text and whether to keep it prepared: a statement is prepared
/// per parameter-type signature, except with a NULL of unknown type.
pub(crate) fn statement_text(
    stmt: &Statement,
    signature: u64,
    untyped_null: bool,
) -> (Arc<str>, bool) {
    if untyped_null {
        return (stmt.sql.clone(), false);
    }
    match stmt.pg_sql_for(signature) {
        Some(s) => (s, true),
        None => (stmt.sql.clone(), false),
    }
}

/// Stream binary COPY data with `sql` (`COPY .. FROM STDIN (FORMAT binary)`);
/// returns the number of rows copied.
pub(crate) async fn copy_in(c: &mut PgConn, sql: &str, data: Vec<u8>) -> Result<u64> {
    run_pending(c).await?;
    let sink = c
        .conn
        .client
        .copy_in::<_, bytes::Bytes>(sql)
        .await
        .map_err(map_err)?;
    let mut sink = std::pin::pin!(sink);
    sink.as_mut()
        .send(bytes::Bytes::from(data))
        .await
        .map_err(map_err)?;
    sink.as_mut().finish().await.map_err(map_err)
}

/// A round trip that checks the connection.
pub(crate) async fn ping(c: &mut PgConn) -> Result<()> {
    c.conn.client.check_connection().await.map_err(map_err)
}

fn ssl_mode(mode: TlsMode) -> SslMode {
    match mode {
        TlsMode::Disable => SslMode::Disable,
        TlsMode::Prefer => SslMode::Prefer,
        TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
    }
}

/// Parse libpq's `options` parameter (`-c key=value -c key2=value2`).
fn parse_options(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut words = s.split_whitespace().peekable();
    while let Some(w) = words.next() {
        let kv = if w == "-c" {
            words.next()
        } else {
            w.strip_prefix("-c").or_else(|| w.strip_prefix("--"))
        };
        if let Some((k, v)) = kv.and_then(|kv| kv.split_once('=')) {
            out.push((k.replace('-', "_"), v.to_string()));
        }
    }
    out
}

/// A value in libpq's `options` string: spaces and backslashes escaped.
fn option_value(v: &str) -> String {
    v.replace('\\', "\\\\").replace(' ', "\\ ")
}

/// The environment's value of `name`, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The connect options `config` asks for. What it leaves out comes from
/// libpq's environment variables (`PGHOST`, `PGPORT`, `PGUSER`,
/// `PGPASSWORD`, `PGDATABASE`), then libpq's defaults (localhost:5432, the
/// operating-system user, a database named after the user).
fn connect_options(config: &DatabaseConfig) -> tokio_postgres::Config {
    let mut o = tokio_postgres::Config::new();
    o.application_name("dal");
    let default_port = || {
        config
            .port()
            .or_else(|| env("PGPORT").and_then(|p| p.parse().ok()))
            .unwrap_or(5432)
    };
    match (config.socket(), config.hosts()) {
        (Some(dir), _) => {
            o.host_path(dir);
            o.port(default_port());
        }
        // several hosts: tried in order until one matches
        // `target_session_attrs` (libpq's failover)
        (None, hosts) if !hosts.is_empty() => {
            for (h, p) in hosts {
                o.host(h);
                o.port(*p);
            }
        }
        (None, _) => {
            o.host(env("PGHOST").as_deref().unwrap_or("localhost"));
            o.port(default_port());
        }
    }
    let user = config
        .username()
        .map(str::to_string)
        .or_else(|| env("PGUSER"))
        .or_else(|| env("USER"))
        .unwrap_or_else(|| "postgres".to_string());
    o.user(&user);
    if let Some(p) = config
        .password()
        .map(str::to_string)
        .or_else(|| env("PGPASSWORD"))
    {
        o.password(p);
    }
    o.dbname(
        config
            .database()
            .map(str::to_string)
            .or_else(|| env("PGDATABASE"))
            .unwrap_or(user),
    );
    o.ssl_mode(ssl_mode(config.tls_mode().unwrap_or(TlsMode::Prefer)));
    // settings the URL asks for travel in libpq's `options` startup parameter
    // (only then: a pooler such as pgbouncer refuses it unless told to ignore it)
    let mut server_options = Vec::new();
    for (k, v) in config.params() {
        match k.as_str() {
            "options" => server_options.extend(parse_options(v)),
            "application_name" => {
                o.application_name(v);
            }
            // checked when the configuration was built: `any` or `read-write`
            "target_session_attrs" => {
                o.target_session_attrs(if v == "read-write" {
                    tokio_postgres::config::TargetSessionAttrs::ReadWrite
                } else {
                    tokio_postgres::config::TargetSessionAttrs::Any
                });
            }
            "search_path" | "statement_timeout" | "timezone" | "TimeZone" => {
                server_options.push((k.clone(), v.clone()))
            }
            _ => {}
        }
    }
    if !server_options.is_empty() {
        let text: Vec<String> = server_options
            .iter()
            .map(|(k, v)| format!("-c {k}={}", option_value(v)))
            .collect();
        o.options(text.join(" "));
    }
    o
}

/// What every pooled connection runs first, in one round trip: the session
/// settings dal reads and writes values under (ISO dates; UTC, unless the URL
/// names a time zone), then the session's id (for cancels) and the server's
/// connection limit.
fn session_setup(config: &DatabaseConfig) -> String {
    if config.pgbouncer() {
        // nothing session-scoped behind a pooler: a SET would stay on the
        // server connection lent for it, and the next statement may run on
        // another. dal binds and reads values in their binary forms, which
        // neither DateStyle nor TimeZone changes; conversions written in
        // SQL use the database's own TimeZone (documented on `pgbouncer`)
        return "SELECT 0, current_setting('max_connections')".to_string();
    }
    let own_zone = config.params().iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("timezone")
            || (k == "options"
                && parse_options(v)
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("timezone")))
    });
    let mut sql = String::from("SET DateStyle = 'ISO, MDY'; ");
    if !own_zone {
        sql.push_str("SET TimeZone = 'UTC'; ");
    }
    sql.push_str("SELECT pg_backend_pid(), current_setting('max_connections')");
    sql
}

/// The connection manager for `config` (`control_timeout` bounds opening the
/// cancel connection and running a cancel on it).
pub(crate) fn manager(config: &DatabaseConfig, control_timeout: Duration) -> PgManager {
    PgManager {
        setup: session_setup(config),
        config: connect_options(config),
        tls: tls::MakeRustls::new(
            config.tls_mode().unwrap_or(TlsMode::Prefer),
            config.tls_root_cert(),
        ),
        // zero: every statement unnamed (nothing prepared stays on the server)
        statement_capacity: config.statement_cache_capacity(),
        pooled: config.pgbouncer(),
        several_hosts: config.hosts().len() > 1,
        control: tokio::sync::Mutex::new(None),
        control_timeout,
        tls_root_cert: config.tls_root_cert().map(Into::into),
        server_max_connections: AtomicU64::new(0),
    }
}
