//! Everything dal knows about MySQL and MariaDB, one file per service: here
//! the connect options, the connection's statements (execute, fetch, raw
//! scripts, ping) and the server-side cancel (`KILL QUERY`); encode/decode in
//! `codec.rs`, error classification in `error.rs`, catalog introspection and
//! the migration lock's SQL (`GET_LOCK`) in `introspect.rs`. The sqlx
//! machinery shared with PostgreSQL is in `../server.rs`.

pub(crate) mod codec;
pub(crate) mod error;
pub(crate) mod introspect;
pub(crate) mod lock;

use std::time::Duration;

use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlConnection, MySqlSslMode};

use crate::backend::server::{ServerDb, server_fns};
use crate::config::{DatabaseConfig, TlsMode};
use crate::error::Result;
use crate::row::{Row, RowInner};

pub(crate) use error::map_err;

/// Opens MySQL/MariaDB connections.
pub(crate) type MySqlManager = crate::backend::server::ServerManager<MySqlConnection>;
/// One MySQL/MariaDB connection (what a pooled connection derefs to).
pub(crate) type MySqlConn = crate::backend::server::ServerConn<MySqlConnection>;

impl ServerDb for MySql {
    fn wrap_row(row: Self::Row) -> Row<'static> {
        Row::new(RowInner::MySql(row))
    }
    fn exec_result(r: Self::QueryResult) -> crate::result::ExecResult {
        let id = r.last_insert_id();
        crate::result::ExecResult {
            rows_affected: r.rows_affected(),
            last_insert_id: (id != 0).then_some(id as i64),
        }
    }
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

server_fns!(
    sqlx::mysql::MySqlConnection,
    sqlx::mysql::MySql,
    "SELECT CONNECTION_ID(), CAST(@@max_connections AS UNSIGNED)",
    u64
);

/// Decode result rows as `T`.
pub(crate) fn decode_rows<T>(
    rows: Vec<sqlx::mysql::MySqlRow>,
    decoder: &crate::row::Decoder<T>,
) -> Result<Vec<T>> {
    crate::backend::server::decode_rows::<MySql, T>(rows, decoder)
}

/// A round trip that checks the connection.
pub(crate) async fn ping(c: &mut MySqlConn) -> Result<()> {
    c.conn.ping().await.map_err(map_err)
}

fn ssl_mode(mode: TlsMode) -> MySqlSslMode {
    use MySqlSslMode as M;
    match mode {
        TlsMode::Disable => M::Disabled,
        TlsMode::Prefer => M::Preferred,
        TlsMode::Require => M::Required,
        TlsMode::VerifyCa => M::VerifyCa,
        TlsMode::VerifyFull => M::VerifyIdentity,
    }
}

/// The connect options `config` asks for.
fn connect_options(config: &DatabaseConfig) -> MySqlConnectOptions {
    let mut o = MySqlConnectOptions::new()
        .charset("utf8mb4")
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
    if let Some(d) = config.database() {
        o = o.database(d);
    }
    if let Some(m) = config.tls_mode() {
        o = o.ssl_mode(ssl_mode(m));
    }
    if let Some(c) = config.tls_root_cert() {
        o = o.ssl_ca(c);
    }
    for (k, v) in config.params() {
        if k == "collation" {
            o = o.collation(v);
        }
    }
    o
}

/// The connection manager for `config` (`control_timeout` bounds opening the
/// cancel connection and running a cancel on it).
pub(crate) fn manager(config: &DatabaseConfig, control_timeout: Duration) -> MySqlManager {
    MySqlManager::new(
        connect_options(config),
        control_timeout,
        config.tls_root_cert().map(Into::into),
    )
}
