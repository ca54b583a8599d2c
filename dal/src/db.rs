//! `Db`: the handle applications keep (cheap to clone), with the query methods.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dal_schema::Dialect;

use crate::backend::server::{MySqlManager, PgManager, ServerManager};
use crate::backend::sqlite::{SqliteManager, SqliteTarget};
use crate::backend::{Backend, Conn, ExecOptions};
use crate::codec::{Decode, Encode};
use crate::config::{DatabaseConfig, SqliteMode, TlsMode};
use crate::error::{Error, Result, TimeoutKind};
use crate::params::Params;
use crate::pool::{HeldConnection, PoolSettings, PoolStatus};
use crate::result::ExecResult;
use crate::row::{FromRow, Row};
use crate::statement::StatementCache;

pub(crate) struct DbInner {
    pub(crate) config: DatabaseConfig,
    pub(crate) backend: Backend,
    pub(crate) statements: StatementCache,
}

/// A handle to one database: a connection pool plus its configuration.
///
/// Cloning is cheap (an `Arc`); clones share the pool. Every query method takes
/// portable SQL (`[name]` quotes identifiers, `?` marks parameters, see
/// [`dal_schema::sql`]) and a [`Params`] value (a tuple, array, `Vec` or
/// [`params!`](crate::params!)).
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// db.execute("CREATE TABLE [notes] ([id] INTEGER PRIMARY KEY, [body] TEXT NOT NULL)", ()).await?;
/// let r = db.execute("INSERT INTO [notes] ([body]) VALUES (?)", ("hello",)).await?;
/// assert_eq!(r.rows_affected, 1);
/// let (body,): (String,) = db.fetch_one_as("SELECT [body] FROM [notes] WHERE [id] = ?", (r.last_insert_id,)).await?;
/// assert_eq!(body, "hello");
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
#[derive(Clone)]
pub struct Db {
    pub(crate) inner: Arc<DbInner>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("name", &self.inner.config.name())
            .field("url", &self.inner.config.redacted_url())
            .field("pool", &self.pool_status())
            .finish()
    }
}

/// Per-call options for a statement (see [`Db::query`]).
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Query timeout for this call (overrides the configured default).
    pub timeout: Option<Duration>,
    /// Labels recorded with the statement's tracing span.
    pub tags: Vec<(String, String)>,
}

fn pg_ssl_mode(mode: TlsMode) -> sqlx::postgres::PgSslMode {
    use sqlx::postgres::PgSslMode as M;
    match mode {
        TlsMode::Disable => M::Disable,
        TlsMode::Prefer => M::Prefer,
        TlsMode::Require => M::Require,
        TlsMode::VerifyCa => M::VerifyCa,
        TlsMode::VerifyFull => M::VerifyFull,
    }
}

fn mysql_ssl_mode(mode: TlsMode) -> sqlx::mysql::MySqlSslMode {
    use sqlx::mysql::MySqlSslMode as M;
    match mode {
        TlsMode::Disable => M::Disabled,
        TlsMode::Prefer => M::Preferred,
        TlsMode::Require => M::Required,
        TlsMode::VerifyCa => M::VerifyCa,
        TlsMode::VerifyFull => M::VerifyIdentity,
    }
}

/// Parse libpq's `options` parameter (`-c key=value -c key2=value2`).
fn parse_pg_options(s: &str) -> Vec<(String, String)> {
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

fn build_backend(config: &DatabaseConfig) -> Result<Backend> {
    let pool = config.pool();
    let timeouts = config.timeouts();
    let settings = PoolSettings {
        max_connections: pool.max_connections as usize,
        min_connections: pool.min_connections as usize,
        acquire_timeout: timeouts.acquire,
        connect_timeout: timeouts.connect,
        idle_timeout: pool.idle_timeout,
        max_lifetime: pool.max_lifetime,
        validate_after_idle: pool.validate_after_idle,
        leak_detection_threshold: config.leak_detection_threshold(),
        capture_backtrace: config.capture_backtrace(),
        name: config.name().to_string(),
    };
    Ok(match config.dialect() {
        Dialect::Postgres => {
            let mut o = sqlx::postgres::PgConnectOptions::new_without_pgpass()
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
                o = o.ssl_mode(pg_ssl_mode(m));
            }
            if let Some(c) = config.tls_root_cert() {
                o = o.ssl_root_cert(c);
            }
            let mut server_options = Vec::new();
            for (k, v) in config.params() {
                match k.as_str() {
                    "options" => server_options.extend(parse_pg_options(v)),
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
            Backend::Pg(crate::pool::Pool::new(
                PgManager { options: o } as ServerManager<_>,
                settings,
            ))
        }
        Dialect::MySql => {
            let mut o = sqlx::mysql::MySqlConnectOptions::new()
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
                o = o.ssl_mode(mysql_ssl_mode(m));
            }
            if let Some(c) = config.tls_root_cert() {
                o = o.ssl_ca(c);
            }
            for (k, v) in config.params() {
                if k == "collation" {
                    o = o.collation(v);
                }
            }
            Backend::MySql(crate::pool::Pool::new(
                MySqlManager { options: o },
                settings,
            ))
        }
        Dialect::Sqlite => {
            use rusqlite::OpenFlags as F;
            let base = F::SQLITE_OPEN_NO_MUTEX | F::SQLITE_OPEN_URI;
            let (target, flags) = if config.is_sqlite_memory() {
                (
                    SqliteTarget::Memory,
                    base | F::SQLITE_OPEN_READ_WRITE | F::SQLITE_OPEN_CREATE,
                )
            } else {
                let path = config
                    .sqlite_path()
                    .ok_or_else(|| Error::invalid_input("url", "SQLite URL without a path"))?;
                let mode = match config.sqlite_mode() {
                    Some(SqliteMode::ReadOnly) => F::SQLITE_OPEN_READ_ONLY,
                    Some(SqliteMode::ReadWrite) => F::SQLITE_OPEN_READ_WRITE,
                    _ => F::SQLITE_OPEN_READ_WRITE | F::SQLITE_OPEN_CREATE,
                };
                (SqliteTarget::File(path.to_path_buf()), base | mode)
            };
            Backend::Sqlite(crate::pool::Pool::new(
                SqliteManager {
                    target,
                    flags,
                    statement_cache: config.statement_cache_capacity(),
                },
                settings,
            ))
        }
    })
}

impl Db {
    /// Open a pool for `config`, connecting `min_connections` (at least one)
    /// within the pool-creation timeout.
    ///
    /// Fails with [`Error::Timeout`] of kind [`TimeoutKind::PoolCreation`] when the
    /// server does not answer in time, or with the connection error when it refuses.
    pub async fn connect(config: DatabaseConfig) -> Result<Db> {
        let db = Db::connect_lazy(config)?;
        let n = (db.inner.config.pool().min_connections as usize).max(1);
        let limit = db.inner.config.timeouts().pool_creation;
        match tokio::time::timeout(limit, db.inner.backend.fill(n)).await {
            Ok(Ok(())) => Ok(db),
            Ok(Err(e)) => {
                db.close();
                Err(e)
            }
            Err(_) => {
                db.close();
                Err(Error::Timeout {
                    kind: TimeoutKind::PoolCreation,
                    after: limit,
                })
            }
        }
    }

    /// [`Db::connect`] with a URL and default options.
    pub async fn connect_url(url: &str) -> Result<Db> {
        Db::connect(DatabaseConfig::from_url(url)?).await
    }

    /// [`Db::connect`] with the configuration from `DAL_DATABASE_URL` and `DAL_*`.
    pub async fn connect_env() -> Result<Db> {
        Db::connect(DatabaseConfig::from_env()?).await
    }

    /// Create the pool without connecting; connections open on first use.
    pub fn connect_lazy(config: DatabaseConfig) -> Result<Db> {
        let backend = build_backend(&config)?;
        let statements = StatementCache::new(config.dialect());
        Ok(Db {
            inner: Arc::new(DbInner {
                config,
                backend,
                statements,
            }),
        })
    }

    /// The dialect of this database.
    pub fn dialect(&self) -> Dialect {
        self.inner.backend.dialect()
    }

    /// The configuration this handle was opened with.
    pub fn config(&self) -> &DatabaseConfig {
        &self.inner.config
    }

    /// The pool's current size.
    pub fn pool_status(&self) -> PoolStatus {
        self.inner.backend.status()
    }

    /// Connections held longer than the leak-detection threshold, with where they
    /// were acquired (empty when leak detection is off).
    pub fn held_connections(&self) -> Vec<HeldConnection> {
        self.inner.backend.held_connections()
    }

    /// Close the pool. Idle connections close now, checked-out ones when returned;
    /// later calls fail with [`Error::PoolClosed`].
    pub fn close(&self) {
        self.inner.backend.close();
    }

    /// Whether [`Db::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner.backend.is_closed()
    }

    pub(crate) fn exec_options(&self, timeout: Option<Duration>) -> ExecOptions {
        ExecOptions {
            timeout: timeout.or(self.inner.config.timeouts().query),
            busy_timeout: self.inner.config.sqlite_busy_timeout(),
        }
    }

    pub(crate) async fn acquire_conn(&self, location: &'static Location<'static>) -> Result<Conn> {
        self.inner.backend.acquire(location).await
    }

    /// True when a connection can be checked out and answers a round trip;
    /// false (never an error or a panic) when the server is down.
    pub async fn test_connection(&self) -> bool {
        self.ping().await.is_ok()
    }

    /// Check out a connection, make one round trip and report how long it took.
    #[track_caller]
    pub fn ping(&self) -> impl Future<Output = Result<Duration>> + Send + '_ {
        let loc = Location::caller();
        async move {
            let start = Instant::now();
            let mut conn = self.acquire_conn(loc).await?;
            conn.ping().await?;
            Ok(start.elapsed())
        }
    }

    /// Run a statement that returns no rows.
    #[track_caller]
    pub fn execute<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<ExecResult>> + Send + 'a {
        let loc = Location::caller();
        async move {
            let stmt = self.inner.statements.get(sql)?;
            let mut conn = self.acquire_conn(loc).await?;
            conn.execute(&stmt, &params, self.exec_options(None)).await
        }
    }

    /// Run one statement once per parameter set, all in one transaction; returns
    /// the total number of rows affected. Nothing is applied if any run fails.
    #[track_caller]
    pub fn execute_many<'a, P, I>(
        &'a self,
        sql: &'a str,
        param_sets: I,
    ) -> impl Future<Output = Result<u64>> + Send + 'a
    where
        P: Params + 'a,
        I: IntoIterator<Item = P> + Send + 'a,
        I::IntoIter: Send,
    {
        let loc = Location::caller();
        async move {
            let mut tx = crate::Transaction::begin_at(self, loc).await?;
            let total = tx.execute_many(sql, param_sets).await?;
            tx.commit().await?;
            Ok(total)
        }
    }

    /// Run SQL text that may hold several statements and no parameters, as is
    /// (no translation, no preparation): scripts, DDL, session settings.
    #[track_caller]
    pub fn execute_script<'a>(
        &'a self,
        sql: &'a str,
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        let loc = Location::caller();
        async move {
            let mut conn = self.acquire_conn(loc).await?;
            conn.execute_raw(sql, self.inner.config.sqlite_busy_timeout())
                .await
        }
    }

    /// Run a query and return every row.
    #[track_caller]
    pub fn fetch_all<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Vec<Row<'static>>>> + Send + 'a {
        self.fetch_all_as::<Row<'static>, P>(sql, params)
    }

    /// Run a query and return the first row; [`Error::NotFound`] when there is none.
    #[track_caller]
    pub fn fetch_one<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Row<'static>>> + Send + 'a {
        self.fetch_one_as::<Row<'static>, P>(sql, params)
    }

    /// Run a query and return the first row, if any.
    #[track_caller]
    pub fn fetch_optional<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Option<Row<'static>>>> + Send + 'a {
        self.fetch_optional_as::<Row<'static>, P>(sql, params)
    }

    /// Run a query and decode every row as `T`.
    #[track_caller]
    pub fn fetch_all_as<'a, T: FromRow + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Vec<T>>> + Send + 'a {
        let loc = Location::caller();
        async move {
            let stmt = self.inner.statements.get(sql)?;
            let mut conn = self.acquire_conn(loc).await?;
            conn.fetch_as::<T, P>(&stmt, &params, None, self.exec_options(None))
                .await
        }
    }

    /// Run a query and decode the first row as `T`; [`Error::NotFound`] when there is none.
    #[track_caller]
    pub fn fetch_one_as<'a, T: FromRow + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<T>> + Send + 'a {
        let f = self.fetch_optional_as::<T, P>(sql, params);
        async move { f.await?.ok_or_else(|| not_found(sql)) }
    }

    /// Run a query and decode the first row as `T`, if any.
    #[track_caller]
    pub fn fetch_optional_as<'a, T: FromRow + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<Option<T>>> + Send + 'a {
        let loc = Location::caller();
        async move {
            let stmt = self.inner.statements.get(sql)?;
            let mut conn = self.acquire_conn(loc).await?;
            let rows = conn
                .fetch_as::<T, P>(&stmt, &params, Some(1), self.exec_options(None))
                .await?;
            Ok(rows.into_iter().next())
        }
    }

    /// Run a query and decode the first column of the first row.
    #[track_caller]
    pub fn fetch_scalar<'a, T: Decode + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> impl Future<Output = Result<T>> + Send + 'a {
        let f = self.fetch_one_as::<(T,), P>(sql, params);
        async move { f.await.map(|(v,)| v) }
    }

    /// Start a statement with per-call options (timeout, tags) and parameters
    /// bound one by one.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// # let db = dal::Db::connect_url("sqlite::memory:").await?;
    /// use std::time::Duration;
    /// let n: i64 = db
    ///     .query("SELECT ? + ?")
    ///     .bind(40)
    ///     .bind(2)
    ///     .timeout(Duration::from_secs(2))
    ///     .tag("feature", "answer")
    ///     .fetch_scalar()
    ///     .await?;
    /// assert_eq!(n, 42);
    /// # Ok::<(), dal::Error>(()) }).unwrap();
    /// ```
    pub fn query<'a>(&'a self, sql: &'a str) -> Query<'a> {
        Query {
            db: self,
            sql,
            params: Vec::new(),
            options: CallOptions::default(),
            location: Location::caller(),
        }
    }

    /// Start a transaction (rolled back if dropped without [`commit`](crate::Transaction::commit)).
    #[track_caller]
    pub fn begin(&self) -> impl Future<Output = Result<crate::Transaction<'static>>> + Send + '_ {
        let loc = Location::caller();
        crate::Transaction::begin_at(self, loc)
    }
}

pub(crate) fn not_found(sql: &str) -> Error {
    let short: String = sql.chars().take(80).collect();
    Error::NotFound(format!("no row returned by `{short}`"))
}

/// A statement being prepared with per-call options; see [`Db::query`].
pub struct Query<'a> {
    db: &'a Db,
    sql: &'a str,
    params: Vec<Box<dyn Encode + 'a>>,
    options: CallOptions,
    location: &'static Location<'static>,
}

impl std::fmt::Debug for Query<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("sql", &self.sql)
            .field("params", &self.params.len())
            .field("options", &self.options)
            .finish()
    }
}

impl<'a> Query<'a> {
    /// Bind the next parameter.
    pub fn bind<T: Encode + 'a>(mut self, value: T) -> Self {
        self.params.push(Box::new(value));
        self
    }

    /// Limit how long the statement may run (cancelled when exceeded).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = Some(timeout);
        self
    }

    /// Attach a label to the statement's tracing span.
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.options.tags.push((key.into(), value.into()));
        self
    }

    /// The options set so far.
    pub fn options(&self) -> &CallOptions {
        &self.options
    }

    /// Run it as a statement that returns no rows.
    pub async fn execute(self) -> Result<ExecResult> {
        let stmt = self.db.inner.statements.get(self.sql)?;
        let mut conn = self.db.acquire_conn(self.location).await?;
        conn.execute(
            &stmt,
            &self.params,
            self.db.exec_options(self.options.timeout),
        )
        .await
    }

    /// Run it and decode every row as `T`.
    pub async fn fetch_all_as<T: FromRow + Send>(self) -> Result<Vec<T>> {
        let stmt = self.db.inner.statements.get(self.sql)?;
        let mut conn = self.db.acquire_conn(self.location).await?;
        conn.fetch_as::<T, _>(
            &stmt,
            &self.params,
            None,
            self.db.exec_options(self.options.timeout),
        )
        .await
    }

    /// Run it and return every row.
    pub async fn fetch_all(self) -> Result<Vec<Row<'static>>> {
        self.fetch_all_as::<Row<'static>>().await
    }

    /// Run it and decode the first row as `T`, if any.
    pub async fn fetch_optional_as<T: FromRow + Send>(self) -> Result<Option<T>> {
        let stmt = self.db.inner.statements.get(self.sql)?;
        let mut conn = self.db.acquire_conn(self.location).await?;
        let rows = conn
            .fetch_as::<T, _>(
                &stmt,
                &self.params,
                Some(1),
                self.db.exec_options(self.options.timeout),
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Run it and return the first row, if any.
    pub async fn fetch_optional(self) -> Result<Option<Row<'static>>> {
        self.fetch_optional_as::<Row<'static>>().await
    }

    /// Run it and return the first row; [`Error::NotFound`] when there is none.
    pub async fn fetch_one(self) -> Result<Row<'static>> {
        let sql = self.sql;
        self.fetch_optional().await?.ok_or_else(|| not_found(sql))
    }

    /// Run it and decode the first column of the first row.
    pub async fn fetch_scalar<T: Decode + Send>(self) -> Result<T> {
        let sql = self.sql;
        self.fetch_optional_as::<(T,)>()
            .await?
            .map(|(v,)| v)
            .ok_or_else(|| not_found(sql))
    }
}
