//! Everything dal knows about PostgreSQL, one file per service: here the
//! connect options, the connection's statements (execute, fetch, raw scripts,
//! binary COPY, ping) and the server-side cancel; encode/decode in `codec.rs`,
//! error classification in `error.rs`, catalog introspection and the
//! migration lock's SQL in `introspect.rs`, the binary `COPY` encoder in
//! `copy.rs`. The sqlx machinery shared with MySQL is in `../server.rs`.

pub(crate) mod codec;
pub(crate) mod copy;
pub(crate) mod error;
pub(crate) mod introspect;
pub(crate) mod lock;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode, Postgres};

use crate::backend::server::{ServerDb, server_fns};
use crate::config::{DatabaseConfig, TlsMode};
use crate::error::Result;
use crate::row::{Row, RowInner};
use crate::statement::Statement;

pub(crate) use error::map_err;

/// Opens PostgreSQL connections.
pub(crate) type PgManager = crate::backend::server::ServerManager<PgConnection>;
/// One PostgreSQL connection (what a pooled connection derefs to).
pub(crate) type PgConn = crate::backend::server::ServerConn<PgConnection>;

impl ServerDb for Postgres {
    fn wrap_row(row: Self::Row) -> Row<'static> {
        Row::new(RowInner::Pg(row))
    }
    fn exec_result(r: Self::QueryResult) -> crate::result::ExecResult {
        crate::result::ExecResult {
            rows_affected: r.rows_affected(),
            last_insert_id: None,
        }
    }
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

server_fns!(
    sqlx::postgres::PgConnection,
    sqlx::postgres::Postgres,
    "SELECT pg_backend_pid(), current_setting('max_connections')::int",
    i32
);

/// Decode result rows as `T`.
pub(crate) fn decode_rows<T>(
    rows: Vec<sqlx::postgres::PgRow>,
    decoder: &crate::row::Decoder<T>,
) -> Result<Vec<T>> {
    crate::backend::server::decode_rows(rows, decoder, <Postgres as ServerDb>::wrap_row)
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
    let mut copy = c.conn.copy_in_raw(sql).await.map_err(map_err)?;
    copy.send(data).await.map_err(map_err)?;
    copy.finish().await.map_err(map_err)
}

/// A round trip that checks the connection.
pub(crate) async fn ping(c: &mut PgConn) -> Result<()> {
    c.conn.ping().await.map_err(map_err)
}

fn ssl_mode(mode: TlsMode) -> PgSslMode {
    use PgSslMode as M;
    match mode {
        TlsMode::Disable => M::Disable,
        TlsMode::Prefer => M::Prefer,
        TlsMode::Require => M::Require,
        TlsMode::VerifyCa => M::VerifyCa,
        TlsMode::VerifyFull => M::VerifyFull,
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

/// The connect options `config` asks for.
fn connect_options(config: &DatabaseConfig) -> PgConnectOptions {
    let mut o = PgConnectOptions::new_without_pgpass()
        .application_name("dal")
        .statement_cache_capacity(config.statement_cache_capacity().max(1));
    if let Some(h) = config.host() {
        o = o.host(h);
    }
    if let Some(p) = config.port() {
        o = o.port(p);
    }
    if let Some(s) = config.socket() {
        o = o.socket(s);
    }
    if let Some(u) = config.username() {
        o = o.username(u);
    }
    if let Some(p) = config.password() {
        o = o.password(p);
    }
    match config.database() {
        Some(d) => o = o.database(d),
        None => {
            if let Some(u) = config.username() {
                o = o.database(u);
            }
        }
    }
    if let Some(m) = config.tls_mode() {
        o = o.ssl_mode(ssl_mode(m));
    }
    if let Some(c) = config.tls_root_cert() {
        o = o.ssl_root_cert(c);
    }
    let mut server_options = Vec::new();
    for (k, v) in config.params() {
        match k.as_str() {
            "options" => server_options.extend(parse_options(v)),
            "application_name" => o = o.application_name(v),
            "search_path" | "statement_timeout" | "timezone" | "TimeZone" => {
                server_options.push((k.clone(), v.clone()))
            }
            _ => {}
        }
    }
    if !server_options.is_empty() {
        o = o.options(server_options);
    }
    o
}

/// The connection manager for `config` (`control_timeout` bounds opening the
/// cancel connection and running a cancel on it).
pub(crate) fn manager(config: &DatabaseConfig, control_timeout: Duration) -> PgManager {
    PgManager::new(
        connect_options(config),
        control_timeout,
        config.tls_root_cert().map(Into::into),
    )
}
