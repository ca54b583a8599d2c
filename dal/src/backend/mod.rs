//! One concrete pool per database and the checked-out connection that runs
//! statements on it. Each backend owns its folder: `postgres/` (through
//! tokio-postgres), `mysql/` (through mysql_async), both sharing the machinery in
//! `server.rs`, and `sqlite/` (through rusqlite). This file dispatches once: [`Backend`] and [`Conn`]
//! are enums over the backends, and [`Conn::run`] is the one place a call's
//! deadline is enforced (timeout, cancellation on the server, the error),
//! whatever the statement: prepared, fetched, raw script, COPY or ping.

#[cfg(feature = "mysql")]
pub(crate) mod mysql;
#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) mod server;
pub(crate) mod sink;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
#[cfg(not(feature = "postgres"))]
mod without_postgres;
mod work;

#[cfg(not(any(feature = "postgres", feature = "mysql", feature = "sqlite")))]
compile_error!(
    "dal needs at least one backend: enable its `postgres`, `mysql` or `sqlite` feature"
);

use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use dal_schema::Dialect;

use crate::codec::Arguments;
use crate::config::DatabaseConfig;
use crate::error::{Error, Result, TimeoutKind};
use crate::introspect::shape::Catalog;
use crate::params::Params;
use crate::pool::{HeldConnection, Pool, PoolSettings, PoolStatus, PooledConn};
use crate::resilience::deadline::{Checkout, CheckoutSpec, Deadline};
use crate::result::ExecResult;
use crate::row::{Decoder, FromRow};
use crate::statement::Statement;
use crate::telemetry::{CallContext, Op, Telemetry};

#[cfg(feature = "postgres")]
pub(crate) use postgres::codec::{PgArray, PgIds};
#[cfg(not(feature = "postgres"))]
pub(crate) use without_postgres::PgArray;

#[cfg(feature = "mysql")]
use mysql::MySqlManager;
#[cfg(feature = "postgres")]
use postgres::PgManager;
use sink::{Collect, Sink};
#[cfg(feature = "sqlite")]
use sqlite::SqliteManager;
#[cfg(feature = "postgres")]
use work::CopyIn;
#[cfg(any(feature = "postgres", feature = "mysql"))]
use work::WhenLate;
use work::{Execute, Fetch, Ping, Raw, Work};

/// The pool of a database.
#[derive(Clone)]
pub(crate) enum Backend {
    #[cfg(feature = "postgres")]
    Pg(Pool<PgManager>),
    #[cfg(feature = "mysql")]
    MySql(Pool<MySqlManager>),
    #[cfg(feature = "sqlite")]
    Sqlite(Pool<SqliteManager>),
}

macro_rules! each_pool {
    ($self:expr, $p:ident => $e:expr) => {
        match $self {
            #[cfg(feature = "postgres")]
            Backend::Pg($p) => $e,
            #[cfg(feature = "mysql")]
            Backend::MySql($p) => $e,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite($p) => $e,
        }
    };
}

/// The live base tables (all, or `only` the one named), read from the
/// catalog of `dialect` (each backend's `introspect.rs`).
pub(crate) async fn introspect_tables(
    db: &impl Catalog,
    dialect: Dialect,
    only: Option<&str>,
) -> Result<Vec<dal_schema::Table>> {
    match dialect {
        #[cfg(feature = "postgres")]
        Dialect::Postgres => postgres::introspect::tables(db, only).await,
        #[cfg(feature = "mysql")]
        Dialect::MySql => mysql::introspect::tables(db, only).await,
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => sqlite::introspect::tables(db, only).await,
        #[allow(unreachable_patterns)] // every backend built in
        other => {
            let _ = (db, only);
            Err(left_out(other))
        }
    }
}

/// The names of the live base tables (all, or `only` the one named), read
/// from the catalog of `dialect`.
pub(crate) async fn introspect_table_names(
    db: &impl Catalog,
    dialect: Dialect,
    only: Option<&str>,
) -> Result<Vec<String>> {
    match dialect {
        #[cfg(feature = "postgres")]
        Dialect::Postgres => postgres::introspect::table_names(db, only).await,
        #[cfg(feature = "mysql")]
        Dialect::MySql => mysql::introspect::table_names(db, only).await,
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => sqlite::introspect::table_names(db, only).await,
        #[allow(unreachable_patterns)] // every backend built in
        other => {
            let _ = (db, only);
            Err(left_out(other))
        }
    }
}

/// The configuration error for `dialect` when this build leaves it out.
#[allow(dead_code)] // every backend built in: never used
pub(crate) fn left_out(dialect: Dialect) -> Error {
    not_built_in(match dialect {
        Dialect::Postgres => "postgres",
        Dialect::MySql => "mysql",
        Dialect::Sqlite => "sqlite",
    })
}

/// The configuration error for a backend this build of dal leaves out.
#[allow(dead_code)] // every backend built in: never used
fn not_built_in(feature: &str) -> Error {
    Error::config(
        "url",
        format!("dal was built without the `{feature}` feature; enable it in Cargo.toml"),
    )
}

impl Backend {
    /// The pool for `config` (nothing is connected yet).
    pub(crate) fn open(config: &DatabaseConfig, settings: PoolSettings) -> Result<Backend> {
        // opening the cancel connection and running a cancel on it
        #[cfg(any(feature = "postgres", feature = "mysql"))]
        let control_timeout = config.timeouts().connect.min(Duration::from_secs(5));
        Ok(match config.dialect() {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => Backend::Pg(Pool::new(
                postgres::manager(config, control_timeout),
                settings,
            )),
            #[cfg(not(feature = "postgres"))]
            Dialect::Postgres => return Err(not_built_in("postgres")),
            #[cfg(feature = "mysql")]
            Dialect::MySql => {
                Backend::MySql(Pool::new(mysql::manager(config, control_timeout), settings))
            }
            #[cfg(not(feature = "mysql"))]
            Dialect::MySql => return Err(not_built_in("mysql")),
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => Backend::Sqlite(Pool::new(sqlite::manager(config)?, settings)),
            #[cfg(not(feature = "sqlite"))]
            Dialect::Sqlite => return Err(not_built_in("sqlite")),
        })
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Backend::MySql(_) => Dialect::MySql,
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => Dialect::Sqlite,
        }
    }

    pub(crate) async fn acquire(
        &self,
        location: &'static Location<'static>,
        limit: &CheckoutSpec,
        fixed: &mut Option<Checkout>,
    ) -> Result<Conn> {
        Ok(match self {
            #[cfg(feature = "postgres")]
            Backend::Pg(p) => Conn::Pg(p.acquire(location, limit, fixed).await?),
            #[cfg(feature = "mysql")]
            Backend::MySql(p) => Conn::MySql(p.acquire(location, limit, fixed).await?),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(p) => Conn::Sqlite(p.acquire(location, limit, fixed).await?),
        })
    }

    pub(crate) async fn fill(&self, n: usize, limit: &CheckoutSpec) -> Result<()> {
        each_pool!(self, p => p.fill(n, limit).await)
    }

    pub(crate) fn status(&self) -> PoolStatus {
        each_pool!(self, p => p.status())
    }

    /// Publish the pool gauges and the breaker state now.
    pub(crate) fn publish_gauges(&self) {
        each_pool!(self, p => p.publish_gauges())
    }

    pub(crate) fn status_and_counters(&self) -> (PoolStatus, &crate::pool::PoolCounters) {
        each_pool!(self, p => (p.status(), p.counters()))
    }

    pub(crate) fn close(&self) {
        each_pool!(self, p => p.close())
    }

    /// The server's connection limit, once a connection has read it.
    pub(crate) fn server_max_connections(&self) -> Option<u64> {
        let n = match self {
            #[cfg(feature = "postgres")]
            Backend::Pg(p) => p
                .manager()
                .server_max_connections
                .load(std::sync::atomic::Ordering::Relaxed),
            #[cfg(feature = "mysql")]
            Backend::MySql(p) => p
                .manager()
                .server_max_connections
                .load(std::sync::atomic::Ordering::Relaxed),
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(_) => 0,
        };
        (n > 0).then_some(n)
    }

    pub(crate) fn is_closed(&self) -> bool {
        each_pool!(self, p => p.is_closed())
    }

    pub(crate) fn held_connections(&self) -> Vec<HeldConnection> {
        each_pool!(self, p => p.held_connections())
    }
}

/// Per-call execution settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExecOptions {
    /// The call's deadline (its query timeout), fixed when the call started.
    pub deadline: Deadline,
    /// How long SQLite waits (asynchronously) for a lock.
    pub busy_timeout: Duration,
    /// Attempt number and transaction, for spans and hooks.
    pub ctx: CallContext,
    /// A read that must not go to a replica (the read cache fills itself
    /// from the primary only: a lagging replica's row would outlive the
    /// write it missed).
    pub primary: bool,
}

/// A checked-out connection.
pub(crate) enum Conn {
    #[cfg(feature = "postgres")]
    Pg(PooledConn<PgManager>),
    #[cfg(feature = "mysql")]
    MySql(PooledConn<MySqlManager>),
    #[cfg(feature = "sqlite")]
    Sqlite(PooledConn<SqliteManager>),
}

macro_rules! each_conn {
    ($self:expr, $c:ident => $e:expr) => {
        match $self {
            #[cfg(feature = "postgres")]
            Conn::Pg($c) => $e,
            #[cfg(feature = "mysql")]
            Conn::MySql($c) => $e,
            #[cfg(feature = "sqlite")]
            Conn::Sqlite($c) => $e,
        }
    };
}

fn bind<'q, P: Params + ?Sized>(
    dialect: Dialect,
    stmt: &Statement,
    params: &'q P,
) -> Result<Arguments<'q>> {
    let n = params.len();
    if n != stmt.param_count {
        return Err(Error::invalid_input(
            "parameters",
            format!(
                "the statement takes {} parameter(s), {n} given",
                stmt.param_count
            ),
        ));
    }
    let mut args = Arguments::with_capacity(dialect, n);
    params.bind(&mut args)?;
    Ok(args)
}

#[cfg(feature = "sqlite")]
/// Re-run a SQLite call while the database is busy, sleeping asynchronously,
/// outside transactions only (inside one, the caller decides): for at most the
/// busy timeout from the first refusal, and never past the call's deadline.
/// The busy timeout is spent once per statement: the `Error::Busy` that ends
/// the wait is not re-run by any retry policy.
async fn sqlite_retry<R>(
    conn: &mut PooledConn<SqliteManager>,
    busy_timeout: Duration,
    deadline: &Deadline,
    mut f: impl FnMut(&mut sqlite::SqliteConn) -> Result<R>,
) -> Result<R> {
    use std::time::Instant;
    let mut first_busy: Option<Instant> = None;
    let mut delay = Duration::from_micros(500);
    loop {
        match f(conn) {
            Err(e) if sqlite::is_busy_error(&e) && conn.conn.is_autocommit() => {
                let now = Instant::now();
                let since = *first_busy.get_or_insert(now);
                let left = busy_timeout.saturating_sub(now - since);
                if left.is_zero() {
                    return Err(e);
                }
                if let Some(rest) = deadline.remaining() {
                    if rest.is_zero() {
                        return Err(deadline.error(TimeoutKind::Query));
                    }
                    delay = delay.min(rest);
                }
                tokio::time::sleep(delay.min(left)).await;
                delay = (delay * 2).min(Duration::from_millis(50));
            }
            r => return r,
        }
    }
}

impl Conn {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "postgres")]
            Conn::Pg(_) => Dialect::Postgres,
            #[cfg(feature = "mysql")]
            Conn::MySql(_) => Dialect::MySql,
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Run `work` within the call's deadline: the one place every statement
    /// (prepared, fetched, raw script, COPY, ping) is timed. On PostgreSQL and
    /// MySQL the work is abandoned at the deadline and cancelled on the
    /// server; on SQLite it is interrupted in place (progress handler) and
    /// re-run while the database is busy, within the busy timeout.
    pub(crate) async fn run<W: Work>(
        &mut self,
        deadline: &Deadline,
        busy_timeout: Duration,
        mut work: W,
    ) -> Result<W::Output> {
        #[cfg(not(feature = "sqlite"))]
        let _ = busy_timeout;
        match self {
            // boxed: a server round trip dwarfs the allocation, and every
            // call's future (SQLite's included) stays small
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => {
                let late = work.when_late();
                let r = server::until_deadline(deadline, Box::pin(work.postgres(c))).await;
                late_or(c, deadline, late, r)
            }
            #[cfg(feature = "mysql")]
            Conn::MySql(c) => {
                let late = work.when_late();
                let r = server::until_deadline(deadline, Box::pin(work.mysql(c))).await;
                late_or(c, deadline, late, r)
            }
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => {
                sqlite_retry(c, busy_timeout, deadline, |c| {
                    sqlite::within_deadline(c, deadline, |c| work.sqlite(c))
                })
                .await
            }
        }
    }

    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql")),
        allow(unused_variables)
    )]
    fn note(&mut self, e: &Error) {
        match self {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => {
                if postgres::error::breaks_connection(e)
                    || (matches!(e, Error::ReadOnly { .. }) && c.pool().manager().reroutes())
                {
                    c.broken = true;
                }
            }
            #[cfg(feature = "mysql")]
            Conn::MySql(c) => {
                if mysql::error::breaks_connection(e) {
                    c.broken = true;
                }
            }
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => {}
        }
    }

    /// Whether a prepared statement was invalidated by a schema change (the
    /// statement did not run; re-preparing it fixes it).
    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql")),
        allow(unused_variables)
    )]
    fn stale_statement(&self, e: &Error) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Conn::Pg(_) => postgres::error::stale_statement(e),
            #[cfg(feature = "mysql")]
            Conn::MySql(_) => mysql::error::stale_statement(e),
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => false,
        }
    }

    /// Mark (or unmark) the connection to be reset (rolled back) before its next checkout.
    pub(crate) fn set_needs_reset(&mut self, needs_reset: bool) {
        each_conn!(self, c => c.set_needs_reset(needs_reset))
    }

    /// Mark the connection unusable: it is closed instead of returned.
    pub(crate) fn mark_broken(&mut self) {
        each_conn!(self, c => c.broken = true)
    }

    /// Queue statements to run before the next use of this connection.
    pub(crate) fn push_pending(&mut self, sql: String) {
        each_conn!(self, c => c.pending.push(sql))
    }

    /// The database's telemetry.
    pub(crate) fn telemetry(&self) -> &Telemetry {
        each_conn!(self, c => c.telemetry())
    }

    /// Run a statement with parameters.
    pub(crate) async fn execute<P: Params + ?Sized>(
        &mut self,
        stmt: &Statement,
        params: &P,
        opts: ExecOptions,
    ) -> Result<ExecResult> {
        let mut probe = self.telemetry().begin(stmt, Op::Execute, opts.ctx);
        probe.uncontended = !self.waited();
        let r = if probe.span.is_disabled() {
            self.execute_inner(stmt, params, opts).await
        } else {
            use tracing::Instrument as _;
            let span = probe.span.clone();
            self.execute_inner(stmt, params, opts)
                .instrument(span)
                .await
        };
        if let Err(e) = &r {
            self.note(e);
        }
        let rows = r.as_ref().ok().map(|x| x.rows_affected);
        self.telemetry()
            .end(probe, stmt, Op::Execute, opts.ctx, &r, rows);
        if let Some(cache) = self.queued_invalidations() {
            cache.deliver().await;
        }
        r
    }

    /// The read cache, when it has invalidations to deliver to the other
    /// processes (Redis): a write delivers them before its caller goes on.
    fn queued_invalidations(&self) -> Option<Arc<crate::cache::Cache>> {
        self.telemetry()
            .cache
            .as_ref()
            .filter(|c| c.has_queued())
            .cloned()
    }

    async fn execute_inner<P: Params + ?Sized>(
        &mut self,
        stmt: &Statement,
        params: &P,
        opts: ExecOptions,
    ) -> Result<ExecResult> {
        let mut retried = false;
        loop {
            let args = bind(self.dialect(), stmt, params)?;
            let work = Execute { stmt, args };
            match self.run(&opts.deadline, opts.busy_timeout, work).await {
                Err(e) if !retried && self.stale_statement(&e) => {
                    retried = true;
                    if !Box::pin(self.refresh_statements()).await {
                        return Err(e);
                    }
                }
                r => return r,
            }
        }
    }

    /// After a schema change invalidated prepared statements: forget them, and
    /// say whether the failed statement may simply run again (not inside a
    /// transaction, which PostgreSQL has aborted).
    async fn refresh_statements(&mut self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => {
                postgres::clear_statements(c).await;
                !c.in_transaction
            }
            #[cfg(feature = "mysql")]
            Conn::MySql(c) => {
                mysql::clear_statements(c).await;
                true
            }
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => false,
        }
    }

    /// Record whether the connection is inside an explicit transaction.
    #[cfg_attr(
        not(any(feature = "postgres", feature = "mysql")),
        allow(unused_variables)
    )]
    pub(crate) fn set_in_transaction(&mut self, yes: bool) {
        match self {
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => c.in_transaction = yes,
            #[cfg(feature = "mysql")]
            Conn::MySql(c) => c.in_transaction = yes,
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(_) => {}
        }
    }

    /// Run a query and decode up to `limit` rows as `T`.
    pub(crate) async fn fetch_as<T: FromRow + Send, P: Params + ?Sized>(
        &mut self,
        stmt: &Statement,
        params: &P,
        limit: Option<usize>,
        opts: ExecOptions,
    ) -> Result<Vec<T>> {
        let mut rows = Collect::new(limit);
        self.fetch_into::<T, P, _>(stmt, params, &mut rows, opts)
            .await
            .map(|()| rows.rows)
    }

    /// Run a query and put its rows, decoded as `T`, into `sink`.
    pub(crate) async fn fetch_into<T: FromRow + Send, P: Params + ?Sized, S: Sink<T>>(
        &mut self,
        stmt: &Statement,
        params: &P,
        sink: &mut S,
        opts: ExecOptions,
    ) -> Result<()> {
        let mut probe = self.telemetry().begin(stmt, Op::Fetch, opts.ctx);
        probe.uncontended = !self.waited();
        let r = if probe.span.is_disabled() {
            self.fetch_inner::<T, P, S>(stmt, params, sink, opts).await
        } else {
            use tracing::Instrument as _;
            let span = probe.span.clone();
            self.fetch_inner::<T, P, S>(stmt, params, sink, opts)
                .instrument(span)
                .await
        };
        if let Err(e) = &r {
            self.note(e);
        }
        let rows = r.as_ref().ok().map(|()| sink.count());
        self.telemetry()
            .end(probe, stmt, Op::Fetch, opts.ctx, &r, rows);
        if !stmt.is_read
            && let Some(cache) = self.queued_invalidations()
        {
            cache.deliver().await;
        }
        r
    }

    async fn fetch_inner<T: FromRow + Send, P: Params + ?Sized, S: Sink<T>>(
        &mut self,
        stmt: &Statement,
        params: &P,
        sink: &mut S,
        opts: ExecOptions,
    ) -> Result<()> {
        let decoder = Decoder::<T>::of();
        let mut retried = false;
        loop {
            let args = bind(self.dialect(), stmt, params)?;
            let work = Fetch::<T, S> {
                stmt,
                args,
                sink: &mut *sink,
                decoder: &decoder,
            };
            let r = self.run(&opts.deadline, opts.busy_timeout, work).await;
            match r {
                Err(e) if !retried && self.stale_statement(&e) && sink.restart() => {
                    retried = true;
                    if !Box::pin(self.refresh_statements()).await {
                        return Err(e);
                    }
                }
                r => return r,
            }
        }
    }

    /// Run SQL without parameters (no translation, no preparation), within
    /// `opts`' deadline and busy timeout, as part of transaction
    /// `opts.ctx.tx_id` (0 for none), which its span and hooks report.
    pub(crate) async fn execute_raw(&mut self, sql: &str, opts: ExecOptions) -> Result<()> {
        let dialect = self.dialect();
        let show = self.telemetry().show_literals;
        let masked = || -> Arc<str> {
            if show {
                Arc::from(sql)
            } else {
                Arc::from(crate::statement::mask_literals(sql, dialect))
            }
        };
        let ctx = opts.ctx;
        let probe = self.telemetry().begin_text(masked, 0, Op::Script, ctx);
        let r = if sql.contains('\0') {
            Err(Error::invalid_input(
                "sql",
                "the SQL text contains a NUL byte, which no database accepts in statement text",
            ))
        } else {
            self.run(&opts.deadline, opts.busy_timeout, Raw(sql)).await
        };
        if let Err(e) = &r {
            self.note(e);
        }
        self.telemetry().wrote_text(sql, ctx.tx_id);
        self.telemetry()
            .end_text(probe, masked, 0, Op::Script, ctx, &r, None);
        if let Some(cache) = self.queued_invalidations() {
            cache.deliver().await;
        }
        r
    }

    /// PostgreSQL: stream binary COPY data with `sql` (`COPY .. FROM STDIN (FORMAT binary)`);
    /// returns the number of rows copied.
    #[cfg(feature = "postgres")]
    pub(crate) async fn pg_copy_in(
        &mut self,
        sql: &str,
        data: Vec<u8>,
        opts: ExecOptions,
    ) -> Result<u64> {
        let masked =
            || -> Arc<str> { Arc::from(crate::statement::mask_literals(sql, Dialect::Postgres)) };
        let ctx = opts.ctx;
        let probe = self.telemetry().begin_text(masked, 0, Op::Copy, ctx);
        let r = self
            .run(
                &opts.deadline,
                opts.busy_timeout,
                CopyIn {
                    sql,
                    data: Some(data),
                },
            )
            .await;
        if let Err(e) = &r {
            self.note(e);
        }
        let rows = r.as_ref().ok().copied();
        self.telemetry().wrote_text(sql, ctx.tx_id);
        self.telemetry()
            .end_text(probe, masked, 0, Op::Copy, ctx, &r, rows);
        if let Some(cache) = self.queued_invalidations() {
            cache.deliver().await;
        }
        r
    }

    /// Check the connection with a round trip, within `deadline` (a ping
    /// that does not answer in time gives the connection up).
    pub(crate) async fn ping(&mut self, deadline: &Deadline) -> Result<()> {
        let r = self.run(deadline, Duration::ZERO, Ping).await;
        if let Err(e) = &r {
            self.note(e);
        }
        r
    }

    /// Roll back what the connection has open, now, on the calling thread,
    /// where the backend runs on it (SQLite: `Some(rolled back)`, queued
    /// statements dropped); `None` where statements are asynchronous (the
    /// servers: the caller rolls back through [`Conn::execute_raw`] or lets
    /// the pool reset the connection).
    pub(crate) fn rollback_now(&mut self) -> Option<bool> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => Some(sqlite::rollback_now(c)),
            #[allow(unreachable_patterns)] // SQLite alone
            _ => None,
        }
    }

    /// Run `sql` now, on the calling thread, where the backend runs on it
    /// (SQLite: `Some(result)`); `None` where statements are asynchronous.
    pub(crate) fn run_now(&mut self, sql: &str) -> Option<Result<()>> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => Some(c.conn.execute_batch(sql).map_err(sqlite::map_err)),
            #[allow(unreachable_patterns)] // SQLite alone
            _ => {
                let _ = sql;
                None
            }
        }
    }

    /// SQLite: whether an explicit transaction is still open (SQLite rolls a
    /// whole transaction back on some errors). The servers: false.
    pub(crate) fn sqlite_in_transaction(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => !c.conn.is_autocommit(),
            #[allow(unreachable_patterns)] // SQLite alone
            _ => false,
        }
    }

    /// SQLite: the first foreign-key violation in the database (`PRAGMA
    /// foreign_key_check`), as (table, referenced table). The servers check
    /// their keys as they go: `None`.
    pub(crate) fn sqlite_foreign_key_violation(&mut self) -> Result<Option<(String, String)>> {
        match self {
            #[cfg(feature = "sqlite")]
            Conn::Sqlite(c) => sqlite::foreign_key_violation(c),
            #[allow(unreachable_patterns)] // SQLite alone
            _ => Ok(None),
        }
    }

    /// Whether its checkout had to wait for it (the pool was saturated).
    fn waited(&self) -> bool {
        each_conn!(self, c => c.waited)
    }

    /// Whether the connection was given up (it will be closed, not reused).
    pub(crate) fn is_broken(&self) -> bool {
        each_conn!(self, c => c.broken)
    }
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
/// The result of server work cut off (`None`) at its deadline, after dealing
/// with the connection as `late` says.
fn late_or<C, M, W>(
    c: &mut PooledConn<M>,
    deadline: &Deadline,
    late: WhenLate,
    r: Option<Result<W>>,
) -> Result<W>
where
    C: Send + 'static,
    M: crate::pool::Manager<Conn = server::ServerConn<C, <M as server::Cancel>::Session>>
        + server::Cancel,
{
    if let Some(r) = r {
        return r;
    }
    match late {
        WhenLate::Close => c.broken = true,
        WhenLate::Terminate => {
            c.in_transaction = true;
            server::abandon(c);
        }
        WhenLate::Cancel => server::abandon(c),
    }
    Err(deadline.error(TimeoutKind::Query))
}

#[cfg(test)]
mod tests {
    /// A URL naming a backend this build leaves out is a configuration
    /// error naming the feature, never a panic (run in the reduced builds:
    /// `cargo test -p dal --lib --no-default-features --features sqlite`).
    #[cfg(not(all(feature = "postgres", feature = "mysql", feature = "sqlite")))]
    #[tokio::test]
    async fn a_backend_left_out_is_a_configuration_error() {
        for (url, feature) in [
            ("postgres://u@localhost/db", "postgres"),
            ("mysql://u@localhost/db", "mysql"),
            ("sqlite::memory:", "sqlite"),
        ] {
            let built = match feature {
                "postgres" => cfg!(feature = "postgres"),
                "mysql" => cfg!(feature = "mysql"),
                _ => cfg!(feature = "sqlite"),
            };
            if built {
                continue;
            }
            let config = crate::DatabaseConfig::from_url(url).unwrap();
            let err = match crate::db::Db::connect_lazy(config) {
                Ok(_) => panic!("{url}: connected without the `{feature}` feature"),
                Err(e) => e,
            };
            assert!(matches!(err, crate::error::Error::Config(_)), "{err:?}");
            let text = err.to_string();
            assert!(
                text.contains(&format!(
                    "dal was built without the `{feature}` feature; enable it in Cargo.toml"
                )),
                "{text}"
            );
        }
    }
}
