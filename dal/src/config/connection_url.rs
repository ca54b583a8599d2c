//! Parsing of connection URLs into their parts, without ever echoing the password
//! (or anything that might be part of it) in a problem message.
//!
//! Why not the `url` crate: it parses WHATWG URLs, which is not what database
//! URLs are. It would echo a password into its parse errors (a `/` or `@` in
//! an unescaped password is the common mistake this parser catches and names
//! without the value), it has no form for SQLite's `sqlite::memory:` and bare
//! paths, and it refuses the multi-host form libpq and the failover work use
//! (`postgres://h1:5432,h2:5433/db`). Percent-decoding uses `percent-encoding`.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::path::PathBuf;

use dal_schema::Dialect;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use super::options::{SqliteMode, TlsMode};
use crate::error::ConfigProblem;

/// A secret string (a password) whose `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Secret(String);

impl Secret {
    pub(super) fn new(value: String) -> Self {
        Secret(value)
    }

    pub(super) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

/// Where a SQLite database lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SqliteTarget {
    /// The file (or, for a named in-memory database, its name); `None` for `:memory:`.
    pub(super) path: Option<PathBuf>,
    /// Whether the database lives in memory.
    pub(super) memory: bool,
    /// How the file is opened.
    pub(super) mode: SqliteMode,
}

/// A parsed connection URL. Defaults that depend on options outside the URL
/// (the TLS mode) are resolved by the builder.
#[derive(Debug, Clone)]
pub(super) struct ConnectionUrl {
    pub(super) dialect: Dialect,
    /// Hosts with their ports, in the order given (several for failover).
    pub(super) hosts: Vec<(String, u16)>,
    /// A Unix socket (PostgreSQL: directory; MySQL: socket file).
    pub(super) socket: Option<String>,
    pub(super) username: Option<String>,
    pub(super) password: Option<Secret>,
    pub(super) database: Option<String>,
    pub(super) sqlite: Option<SqliteTarget>,
    /// The TLS mode the URL asked for, if it did.
    pub(super) tls_mode: Option<TlsMode>,
    pub(super) tls_root_cert: Option<String>,
    /// `pgbouncer=true|false`, when the URL says (PostgreSQL only).
    pub(super) pgbouncer: Option<bool>,
    /// Query parameters dal does not interpret, for the driver.
    pub(super) params: Vec<(String, String)>,
    /// Pieces to print the URL without secrets.
    pub(super) display: DisplayParts,
}

/// The URL as typed, split so that it can be printed with the password masked
/// (including a password supplied later through the builder).
#[derive(Debug, Clone, Default)]
pub(super) struct DisplayParts {
    /// `postgres://` for servers, the whole part before `?` for SQLite.
    prefix: String,
    /// The user name as typed (still percent-encoded).
    user: Option<String>,
    /// Hosts, path: everything between the user info and the `?`.
    rest: String,
    /// `key=value` pieces, secrets masked.
    query: Vec<String>,
}

/// Characters escaped when printing parameters that were added through the builder.
const COMPONENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'&')
    .add(b'+')
    .add(b'/')
    .add(b':')
    .add(b'<')
    .add(b'=')
    .add(b'>')
    .add(b'?')
    .add(b'@')
    .add(b'[')
    .add(b']');

impl ConnectionUrl {
    /// The URL with the password and secret parameters replaced by `***`.
    pub(super) fn redacted(&self) -> String {
        let d = &self.display;
        let mut out = d.prefix.clone();
        if self.sqlite.is_none() {
            let has_password = self.password.is_some();
            if let Some(user) = &d.user {
                out.push_str(user);
            }
            if has_password {
                out.push_str(":***");
            }
            if d.user.is_some() || has_password {
                out.push('@');
            }
        }
        out.push_str(&d.rest);
        for (i, piece) in d.query.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            out.push_str(piece);
        }
        out
    }

    /// Adds a driver parameter given through the builder.
    pub(super) fn push_param(&mut self, key: String, value: String) {
        let shown = if is_secret_param(&key) {
            "***".to_string()
        } else {
            utf8_percent_encode(&value, COMPONENT).to_string()
        };
        self.display
            .query
            .push(format!("{}={shown}", utf8_percent_encode(&key, COMPONENT)));
        self.params.push((key, value));
    }
}

/// Whether a query parameter carries a secret and must be masked when shown.
pub(super) fn is_secret_param(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    matches!(k.as_str(), "pass" | "pwd")
        || ["password", "secret", "token"]
            .iter()
            .any(|s| k.contains(s))
}

/// Whether a host is this machine: `localhost`, `127.0.0.0/8`, `::1` (also as
/// `::ffff:127.x.y.z`) or a Unix socket path.
pub(super) fn is_loopback(host: &str) -> bool {
    if host.starts_with('/') {
        return true;
    }
    let h = host.strip_suffix('.').unwrap_or(host);
    let lower = h.to_ascii_lowercase();
    // RFC 6761: `localhost` and every name under it resolve to loopback.
    if lower == "localhost" || lower.ends_with(".localhost") {
        return true;
    }
    match h.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.is_loopback(),
        Ok(IpAddr::V6(v6)) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
        Err(_) => false,
    }
}

/// Accumulates problems, all about the one option holding the URL.
struct Problems<'a> {
    option: &'a str,
    list: Vec<ConfigProblem>,
}

impl Problems<'_> {
    fn push(&mut self, reason: impl Into<String>) {
        self.list.push(ConfigProblem {
            option: self.option.to_string(),
            reason: reason.into(),
        });
    }
}

const ENGINES: &str = "postgres, postgresql, pg, mysql, mariadb or sqlite";

/// Parses `input`; every problem names `option` (`url`, `DAL_DATABASE_URL`, ...).
///
/// No message quotes the user info, hosts, ports or paths: when special characters
/// in a password are not percent-encoded, those parts may hold pieces of it.
pub(super) fn parse(input: &str, option: &str) -> Result<ConnectionUrl, Vec<ConfigProblem>> {
    let mut problems = Problems {
        option,
        list: Vec::new(),
    };
    let input = input.trim();
    if input.is_empty() {
        problems.push(
            "is empty (expected a URL such as postgres://user@host/database, \
             mysql://user@host/database or sqlite://app.db)",
        );
        return Err(problems.list);
    }
    // `find` returns the index of the ASCII ':', a character boundary, and so is
    // the index right after it (the slices below cannot split a character)
    let scheme_end = input.find(':').filter(|&i| is_scheme(&input[..i]));
    let Some(scheme_end) = scheme_end else {
        problems.push(format!(
            "is not a database URL (expected engine://..., where the engine is {ENGINES})"
        ));
        return Err(problems.list);
    };
    let (scheme, rest) = (&input[..scheme_end], &input[scheme_end + 1..]);
    let Ok(dialect) = scheme.parse::<Dialect>() else {
        problems.push(format!("unknown engine `{scheme}` (expected {ENGINES})"));
        return Err(problems.list);
    };
    let parsed = match dialect {
        Dialect::Sqlite => parse_sqlite(scheme, rest, &mut problems),
        Dialect::Postgres | Dialect::MySql => parse_server(dialect, scheme, rest, &mut problems),
    };
    match parsed {
        Some(url) if problems.list.is_empty() => Ok(url),
        _ => Err(problems.list),
    }
}

/// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn decode(raw: &str) -> Option<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// What the query string said, interpreted parameters taken out.
#[derive(Default)]
struct Query {
    tls_mode: Option<TlsMode>,
    tls_root_cert: Option<String>,
    pgbouncer: Option<bool>,
    sqlite_mode: Option<SqliteMode>,
    password: Option<String>,
    params: Vec<(String, String)>,
    display: Vec<String>,
}

fn parse_query(raw: Option<&str>, dialect: Dialect, problems: &mut Problems<'_>) -> Query {
    let mut q = Query::default();
    let Some(raw) = raw else { return q };
    for piece in raw.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
        let Some(key) = decode(raw_key).filter(|k| !k.is_empty()) else {
            problems.push("a query parameter has an empty or invalid (not UTF-8) name");
            continue;
        };
        // An `@` here means the user info was cut short by an unescaped `?`.
        if key.contains('@') {
            problems.push(UNESCAPED_HINT);
            continue;
        }
        let secret = is_secret_param(&key);
        q.display.push(if secret {
            format!("{raw_key}=***")
        } else {
            piece.to_string()
        });
        let Some(value) = decode(raw_value) else {
            problems.push(format!(
                "the value of query parameter `{key}` is not valid percent-encoded UTF-8"
            ));
            continue;
        };
        let lower = key.to_ascii_lowercase();
        match lower.as_str() {
            "sslmode" | "ssl-mode" | "ssl_mode" => {
                if dialect == Dialect::Sqlite {
                    problems.push(format!("`{key}` does not apply to SQLite"));
                    continue;
                }
                match value.parse::<TlsMode>() {
                    Ok(mode) => match q.tls_mode {
                        Some(earlier) if earlier != mode => problems
                            .push(format!("conflicting TLS modes: `{earlier}` and `{mode}`")),
                        _ => q.tls_mode = Some(mode),
                    },
                    Err(e) => problems.push(e.to_string()),
                }
            }
            "sslrootcert" | "ssl-ca" | "ssl_ca" | "sslca" => {
                if dialect == Dialect::Sqlite {
                    problems.push(format!("`{key}` does not apply to SQLite"));
                } else if value.is_empty() {
                    problems.push(format!("`{key}` is empty (expected a certificate file)"));
                } else if q.tls_root_cert.as_ref().is_some_and(|c| *c != value) {
                    problems.push("conflicting TLS root certificates (`sslrootcert` / `ssl-ca`)");
                } else {
                    q.tls_root_cert = Some(value);
                }
            }
            "pgbouncer" => {
                if dialect != Dialect::Postgres {
                    problems.push(format!(
                        "`{key}` applies to PostgreSQL only (a pooler in transaction mode)"
                    ));
                    continue;
                }
                match super::options::parse_bool(&value) {
                    Ok(on) => q.pgbouncer = Some(on),
                    Err(reason) => problems.push(format!("`{key}`: {reason}")),
                }
            }
            "mode" if dialect == Dialect::Sqlite => match value.parse::<SqliteMode>() {
                Ok(mode) => q.sqlite_mode = Some(mode),
                Err(_) => problems.push(format!(
                    "unknown SQLite mode `{value}` (expected ro, rw, rwc or memory)"
                )),
            },
            "password" if dialect != Dialect::Sqlite => {
                if q.password.is_some() {
                    problems.push("the `password` parameter is given more than once");
                } else {
                    q.password = Some(value);
                }
            }
            _ => q.params.push((key, value)),
        }
    }
    q
}

const UNESCAPED_HINT: &str = "the URL has an `@` after the host: percent-encode special \
     characters in the user name and password (`@` as %40, `/` as %2F, `?` as %3F, `#` as %23)";

fn parse_sqlite(scheme: &str, rest: &str, problems: &mut Problems<'_>) -> Option<ConnectionUrl> {
    let (base, raw_query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let query = parse_query(raw_query, Dialect::Sqlite, problems);
    // `sqlite://path` and `sqlite:path` both name `path`; `sqlite:///abs` is `/abs`.
    let raw_path = base.strip_prefix("//").unwrap_or(base);
    let mut memory = raw_path == ":memory:";
    let path = if memory {
        None
    } else {
        match decode(raw_path) {
            Some(p) => Some(p),
            None => {
                problems.push("the SQLite path is not valid percent-encoded UTF-8");
                return None;
            }
        }
    };
    let mode = match (memory, query.sqlite_mode) {
        (_, Some(SqliteMode::Memory)) => {
            memory = true;
            SqliteMode::Memory
        }
        (true, None | Some(SqliteMode::ReadWriteCreate)) => SqliteMode::Memory,
        (true, Some(other)) => {
            problems.push(format!(
                "mode={other} cannot be used with an in-memory database (`:memory:`)"
            ));
            SqliteMode::Memory
        }
        (false, mode) => mode.unwrap_or(SqliteMode::ReadWriteCreate),
    };
    let path = path.filter(|p| !p.is_empty());
    if path.is_none() && !memory {
        problems.push(
            "names no SQLite database file (expected sqlite://relative/path.db, sqlite:path.db, \
             sqlite:///absolute/path.db or sqlite::memory:)",
        );
        return None;
    }
    Some(ConnectionUrl {
        dialect: Dialect::Sqlite,
        hosts: Vec::new(),
        socket: None,
        username: None,
        password: None,
        database: None,
        sqlite: Some(SqliteTarget {
            path: path.map(PathBuf::from),
            memory,
            mode,
        }),
        tls_mode: None,
        tls_root_cert: None,
        pgbouncer: None,
        params: query.params,
        display: DisplayParts {
            prefix: format!("{scheme}:{base}"),
            user: None,
            rest: String::new(),
            query: query.display,
        },
    })
}

fn parse_server(
    dialect: Dialect,
    scheme: &str,
    rest: &str,
    problems: &mut Problems<'_>,
) -> Option<ConnectionUrl> {
    let Some(after) = rest.strip_prefix("//") else {
        problems.push(format!(
            "expected {scheme}://user:password@host:port/database after the engine"
        ));
        return None;
    };
    let authority_end = after.find(['/', '?']).unwrap_or(after.len());
    let (authority, tail) = after.split_at(authority_end);
    let (raw_path, raw_query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    // The last `@` ends the user info, so an unescaped `@` in a password still works.
    // (`@` is ASCII: `i` and `i + 1` are character boundaries.)
    let (userinfo, raw_hosts) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };

    let mut username = None;
    let mut password = None;
    if let Some(userinfo) = userinfo {
        let (raw_user, raw_password) = match userinfo.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (userinfo, None),
        };
        match decode(raw_user) {
            Some(u) => username = Some(u).filter(|u| !u.is_empty()),
            None => problems.push("the user name is not valid percent-encoded UTF-8"),
        }
        if let Some(raw_password) = raw_password {
            match decode(raw_password) {
                Some(p) => password = Some(p).filter(|p| !p.is_empty()),
                None => problems.push("the password is not valid percent-encoded UTF-8"),
            }
        }
    }

    let default_port = match dialect {
        Dialect::MySql => 3306,
        _ => 5432,
    };
    let mut hosts = Vec::new();
    if !raw_hosts.is_empty() {
        for raw in raw_hosts.split(',') {
            if let Some(host) = parse_host(raw, default_port, problems) {
                hosts.push(host);
            }
        }
    }

    let path_given = !(raw_path.is_empty() || raw_path == "/");
    let database = if !path_given {
        None
    } else {
        // the path starts with the ASCII `/` (it was split off at `find(['/', '?'])`)
        let name = &raw_path[1..];
        if name.contains('@') {
            problems.push(UNESCAPED_HINT);
            None
        } else if name.contains('/') {
            problems.push("the database name contains `/` (percent-encode it as %2F)");
            None
        } else {
            match decode(name) {
                Some(n) => Some(n),
                None => {
                    problems.push("the database name is not valid percent-encoded UTF-8");
                    None
                }
            }
        }
    };

    let mut query = parse_query(raw_query, dialect, problems);
    if let Some(p) = query.password.take() {
        if password.is_some() {
            problems
                .push("the password is given both before the host and as a `password` parameter");
        } else {
            password = Some(p).filter(|p| !p.is_empty());
        }
    }

    // Unix sockets: PostgreSQL `?host=/dir` (or a percent-encoded path as the host),
    // MySQL `?socket=/file`. The parameter stays in `params` for the driver.
    let mut socket = None;
    for (key, value) in &query.params {
        let key = key.to_ascii_lowercase();
        match (dialect, key.as_str()) {
            (Dialect::Postgres, "host") if value.starts_with('/') => socket = Some(value.clone()),
            (Dialect::Postgres, "host") if hosts.is_empty() && !value.is_empty() => {
                hosts.push((value.clone(), default_port));
            }
            (Dialect::MySql, "socket") if !value.is_empty() => socket = Some(value.clone()),
            _ => {}
        }
    }
    if socket.is_none() && dialect == Dialect::Postgres {
        socket = hosts
            .iter()
            .find(|(h, _)| h.starts_with('/'))
            .map(|(h, _)| h.clone());
    }
    // A host that failed to parse was already reported.
    if hosts.is_empty() && socket.is_none() && raw_hosts.is_empty() {
        let how = match dialect {
            Dialect::MySql => "?socket=/path/to/mysqld.sock",
            _ => "?host=/var/run/postgresql",
        };
        problems.push(format!(
            "names no host (expected {scheme}://host/database, or a Unix socket with {how})"
        ));
    }

    // PostgreSQL, like libpq, connects to the database named after the user when
    // the URL names none. MySQL, like sqlx, allows no database at all: the session
    // then has no default schema and statements must qualify table names.
    let database = match (dialect, database) {
        (_, Some(db)) => Some(db),
        (Dialect::Postgres, None) => match &username {
            Some(user) => Some(user.clone()),
            // A database name that failed to parse was already reported.
            None if path_given => None,
            None => {
                problems.push(format!(
                    "names no database and no user name to default it to \
                     (expected {scheme}://user@host/database)"
                ));
                None
            }
        },
        (_, None) => None,
    };

    let display_user = userinfo.map(|u| u.split_once(':').map_or(u, |(user, _)| user).to_string());
    Some(ConnectionUrl {
        dialect,
        hosts,
        socket,
        username,
        password: password.map(Secret::new),
        database,
        sqlite: None,
        tls_mode: query.tls_mode,
        tls_root_cert: query.tls_root_cert,
        pgbouncer: query.pgbouncer,
        params: query.params,
        display: DisplayParts {
            prefix: format!("{scheme}://"),
            user: display_user.filter(|u| !u.is_empty()),
            rest: format!("{raw_hosts}{raw_path}"),
            query: query.display,
        },
    })
}

/// One `host[:port]` (or `[v6]:port`) of the host list.
fn parse_host(raw: &str, default_port: u16, problems: &mut Problems<'_>) -> Option<(String, u16)> {
    let (host, raw_port) = if let Some(bracketed) = raw.strip_prefix('[') {
        let Some((v6, after)) = bracketed.split_once(']') else {
            problems.push("an IPv6 host is missing its closing `]`");
            return None;
        };
        if v6.parse::<Ipv6Addr>().is_err() {
            problems.push("a bracketed host is not a valid IPv6 address");
            return None;
        }
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => {
                problems.push("unexpected text after an IPv6 host (expected [address]:port)");
                return None;
            }
        };
        (v6.to_string(), port)
    } else {
        let (h, p) = match raw.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (raw, None),
        };
        if h.contains(':') {
            problems.push("IPv6 hosts must be written in brackets, e.g. [::1]:5432");
            return None;
        }
        let Some(h) = decode(h) else {
            problems.push("a host is not valid percent-encoded UTF-8");
            return None;
        };
        (h, p)
    };
    if host.is_empty() {
        problems.push("the host list has an empty host");
        return None;
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        problems.push("a host contains whitespace or control characters");
        return None;
    }
    let port = match raw_port {
        None | Some("") => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(port) if port > 0 && p.bytes().all(|b| b.is_ascii_digit()) => port,
            // The text is not quoted: it may be part of a password with an unescaped `/`.
            _ => {
                problems.push("the port is not a number from 1 to 65535");
                return None;
            }
        },
    };
    Some((host, port))
}
