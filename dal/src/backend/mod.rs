//! One concrete pool per database and the checked-out connection that runs
//! statements on it: PostgreSQL and MySQL through sqlx, SQLite through rusqlite.

pub(crate) mod mysql;
pub(crate) mod postgres;
pub(crate) mod server;
pub(crate) mod sqlite;

use std::panic::Location;
use std::time::{Duration, Instant};

use dal_schema::Dialect;
use sqlx::mysql::MySql;
use sqlx::postgres::Postgres;

use crate::codec::{ArgsInner, Arguments};
use crate::deadline::{Checkout, CheckoutSpec, Deadline};
use crate::error::{Error, Result, TimeoutKind};
use crate::params::Params;
use crate::pool::{HeldConnection, Pool, PoolStatus, PooledConn};
use crate::result::ExecResult;
use crate::row::FromRow;
use crate::statement::Statement;
use crate::telemetry::{CallContext, Op, Telemetry};

use server::{MySqlManager, PgManager, ServerDb};
use sqlite::SqliteManager;

/// The pool of a database.
#[derive(Clone)]
pub(crate) enum Backend {
    Pg(Pool<PgManager>),
    MySql(Pool<MySqlManager>),
    Sqlite(Pool<SqliteManager>),
}

macro_rules! each_pool {
    ($self:expr, $p:ident => $e:expr) => {
        match $self {
            Backend::Pg($p) => $e,
            Backend::MySql($p) => $e,
            Backend::Sqlite($p) => $e,
        }
    };
}

impl Backend {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Backend::Pg(_) => Dialect::Postgres,
            Backend::MySql(_) => Dialect::MySql,
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
            Backend::Pg(p) => Conn::Pg(p.acquire(location, limit, fixed).await?),
            Backend::MySql(p) => Conn::MySql(p.acquire(location, limit, fixed).await?),
            Backend::Sqlite(p) => Conn::Sqlite(p.acquire(location, limit, fixed).await?),
        })
    }

    pub(crate) async fn fill(&self, n: usize, limit: &CheckoutSpec) -> Result<()> {
        each_pool!(self, p => p.fill(n, limit).await)
    }

    pub(crate) fn status(&self) -> PoolStatus {
        each_pool!(self, p => p.status())
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
            Backend::Pg(p) => p
                .manager()
                .server_max_connections
                .load(std::sync::atomic::Ordering::Relaxed),
            Backend::MySql(p) => p
                .manager()
                .server_max_connections
                .load(std::sync::atomic::Ordering::Relaxed),
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
}

/// A checked-out connection.
pub(crate) enum Conn {
    Pg(PooledConn<PgManager>),
    MySql(PooledConn<MySqlManager>),
    Sqlite(PooledConn<SqliteManager>),
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

/// The SQL text and whether to keep it prepared, for PostgreSQL.
fn pg_text(stmt: &Statement, signature: u64, untyped_null: bool) -> (std::sync::Arc<str>, bool) {
    if untyped_null {
        return (stmt.sql.clone(), false);
    }
    match stmt.pg_sql_for(signature) {
        Some(s) => (s, true),
        None => (stmt.sql.clone(), false),
    }
}

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
            Conn::Pg(_) => Dialect::Postgres,
            Conn::MySql(_) => Dialect::MySql,
            Conn::Sqlite(_) => Dialect::Sqlite,
        }
    }

    fn note(&mut self, e: &Error) {
        if server::breaks_connection(e) {
            match self {
                Conn::Pg(c) => c.broken = true,
                Conn::MySql(c) => c.broken = true,
                Conn::Sqlite(_) => {}
            }
        }
    }

    /// Mark (or unmark) the connection to be reset (rolled back) before its next checkout.
    pub(crate) fn set_needs_reset(&mut self, needs_reset: bool) {
        match self {
            Conn::Pg(c) => c.set_needs_reset(needs_reset),
            Conn::MySql(c) => c.set_needs_reset(needs_reset),
            Conn::Sqlite(c) => c.set_needs_reset(needs_reset),
        }
    }

    /// Mark the connection unusable: it is closed instead of returned.
    pub(crate) fn mark_broken(&mut self) {
        match self {
            Conn::Pg(c) => c.broken = true,
            Conn::MySql(c) => c.broken = true,
            Conn::Sqlite(c) => c.broken = true,
        }
    }

    /// Queue statements to run before the next use of this connection.
    pub(crate) fn push_pending(&mut self, sql: String) {
        match self {
            Conn::Pg(c) => c.pending.push(sql),
            Conn::MySql(c) => c.pending.push(sql),
            Conn::Sqlite(c) => c.pending.push(sql),
        }
    }

    /// The database's telemetry.
    pub(crate) fn telemetry(&self) -> &Telemetry {
        match self {
            Conn::Pg(c) => c.telemetry(),
            Conn::MySql(c) => c.telemetry(),
            Conn::Sqlite(c) => c.telemetry(),
        }
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
        r
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
            let (signature, untyped_null) = (args.signature, args.untyped_null);
            let r = match (&mut *self, args.inner) {
                (Conn::Pg(c), ArgsInner::Pg(a)) => {
                    let (sql, persistent) = pg_text(stmt, signature, untyped_null);
                    // boxed: a server round trip dwarfs the allocation, and every call's
                    // future (SQLite's included) stays small
                    let run = Box::pin(server::pg::execute(c, sql, a, persistent));
                    server::until_deadline(&opts.deadline, run)
                        .await
                        .unwrap_or_else(|| Err(server::abandoned(c, &opts.deadline)))
                }
                (Conn::MySql(c), ArgsInner::MySql(a)) => {
                    let run = Box::pin(server::mysql::execute(c, stmt.sql.clone(), a, stmt.cached));
                    server::until_deadline(&opts.deadline, run)
                        .await
                        .unwrap_or_else(|| Err(server::abandoned(c, &opts.deadline)))
                }
                (Conn::Sqlite(c), ArgsInner::Sqlite(a)) => {
                    return sqlite_retry(c, opts.busy_timeout, &opts.deadline, |c| {
                        sqlite::execute(c, stmt, &a, &opts.deadline)
                    })
                    .await;
                }
                _ => {
                    return Err(Error::Driver(
                        "arguments encoded for another dialect".into(),
                    ));
                }
            };
            match r {
                Err(e) if server::stale_statement(&e) && !retried => {
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
            Conn::Pg(c) => {
                server::pg::clear_statements(c).await;
                !c.in_transaction
            }
            Conn::MySql(c) => {
                server::mysql::clear_statements(c).await;
                true
            }
            Conn::Sqlite(_) => false,
        }
    }

    /// Record whether the connection is inside an explicit transaction.
    pub(crate) fn set_in_transaction(&mut self, yes: bool) {
        match self {
            Conn::Pg(c) => c.in_transaction = yes,
            Conn::MySql(c) => c.in_transaction = yes,
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
        let mut probe = self.telemetry().begin(stmt, Op::Fetch, opts.ctx);
        probe.uncontended = !self.waited();
        let r = if probe.span.is_disabled() {
            self.fetch_as_inner::<T, P>(stmt, params, limit, opts).await
        } else {
            use tracing::Instrument as _;
            let span = probe.span.clone();
            self.fetch_as_inner::<T, P>(stmt, params, limit, opts)
                .instrument(span)
                .await
        };
        if let Err(e) = &r {
            self.note(e);
        }
        let rows = r.as_ref().ok().map(|v| v.len() as u64);
        self.telemetry()
            .end(probe, stmt, Op::Fetch, opts.ctx, &r, rows);
        r
    }

    async fn fetch_as_inner<T: FromRow + Send, P: Params + ?Sized>(
        &mut self,
        stmt: &Statement,
        params: &P,
        limit: Option<usize>,
        opts: ExecOptions,
    ) -> Result<Vec<T>> {
        let mut retried = false;
        loop {
            let args = bind(self.dialect(), stmt, params)?;
            let (signature, untyped_null) = (args.signature, args.untyped_null);
            let r = match (&mut *self, args.inner) {
                (Conn::Pg(c), ArgsInner::Pg(a)) => {
                    let (sql, persistent) = pg_text(stmt, signature, untyped_null);
                    let run = Box::pin(server::pg::fetch(c, sql, a, persistent, limit));
                    let r = server::until_deadline(&opts.deadline, run)
                        .await
                        .unwrap_or_else(|| Err(server::abandoned(c, &opts.deadline)));
                    r.and_then(|rows| {
                        use sqlx::{Column as _, Row as _};
                        let positional = rows.first().is_some_and(|r| {
                            crate::row::positional::<T>(r.columns().iter().map(|c| c.name()))
                        });
                        rows.into_iter()
                            .map(|r| {
                                let mut row = Postgres::wrap_row(r);
                                row.positional = positional;
                                T::from_owned_row(row)
                            })
                            .collect()
                    })
                }
                (Conn::MySql(c), ArgsInner::MySql(a)) => {
                    let run = Box::pin(server::mysql::fetch(
                        c,
                        stmt.sql.clone(),
                        a,
                        stmt.cached,
                        limit,
                    ));
                    let r = server::until_deadline(&opts.deadline, run)
                        .await
                        .unwrap_or_else(|| Err(server::abandoned(c, &opts.deadline)));
                    r.and_then(|rows| {
                        use sqlx::{Column as _, Row as _};
                        let positional = rows.first().is_some_and(|r| {
                            crate::row::positional::<T>(r.columns().iter().map(|c| c.name()))
                        });
                        rows.into_iter()
                            .map(|r| {
                                let mut row = MySql::wrap_row(r);
                                row.positional = positional;
                                T::from_owned_row(row)
                            })
                            .collect()
                    })
                }
                (Conn::Sqlite(c), ArgsInner::Sqlite(a)) => {
                    return sqlite_retry(c, opts.busy_timeout, &opts.deadline, |c| {
                        sqlite::fetch_as::<T>(c, stmt, &a, limit, &opts.deadline)
                    })
                    .await;
                }
                _ => {
                    return Err(Error::Driver(
                        "arguments encoded for another dialect".into(),
                    ));
                }
            };
            match r {
                Err(e) if server::stale_statement(&e) && !retried => {
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
        let masked = || -> std::sync::Arc<str> {
            if show {
                std::sync::Arc::from(sql)
            } else {
                std::sync::Arc::from(crate::statement::mask_literals(sql, dialect))
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
            match self {
                Conn::Pg(c) => {
                    server::until_deadline(&opts.deadline, server::pg::execute_raw(c, sql))
                        .await
                        .unwrap_or_else(|| Err(server::abandoned(c, &opts.deadline)))
                }
                Conn::MySql(c) => {
                    server::until_deadline(&opts.deadline, server::mysql::execute_raw(c, sql))
                        .await
                        .unwrap_or_else(|| Err(server::abandoned(c, &opts.deadline)))
                }
                Conn::Sqlite(c) => {
                    sqlite_retry(c, opts.busy_timeout, &opts.deadline, |c| {
                        sqlite::execute_batch(c, sql, &opts.deadline)
                    })
                    .await
                }
            }
        };
        if let Err(e) = &r {
            self.note(e);
        }
        self.telemetry()
            .end_text(probe, masked, 0, Op::Script, ctx, &r, None);
        r
    }

    /// PostgreSQL: stream binary COPY data with `sql` (`COPY .. FROM STDIN (FORMAT binary)`);
    /// returns the number of rows copied.
    pub(crate) async fn pg_copy_in(
        &mut self,
        sql: &str,
        data: Vec<u8>,
        opts: ExecOptions,
    ) -> Result<u64> {
        let masked = || -> std::sync::Arc<str> {
            std::sync::Arc::from(crate::statement::mask_literals(sql, Dialect::Postgres))
        };
        let ctx = opts.ctx;
        let probe = self.telemetry().begin_text(masked, 0, Op::Copy, ctx);
        let Conn::Pg(c) = self else {
            return Err(Error::Unsupported("COPY is a PostgreSQL feature".into()));
        };
        let copy = async {
            server::pg::run_pending(c).await?;
            let mut copy = c.conn.copy_in_raw(sql).await.map_err(server::map_err)?;
            copy.send(data).await.map_err(server::map_err)?;
            copy.finish().await.map_err(server::map_err)
        };
        let r = match server::until_deadline(&opts.deadline, copy).await {
            Some(r) => r,
            None => {
                // a COPY cut off mid-stream cannot be resumed: end the session
                // (the server rolls the COPY back) and close the connection
                c.in_transaction = true;
                let canceller = server::Canceller::pg(c);
                server::abandon(c, canceller);
                Err(opts.deadline.error(TimeoutKind::Query))
            }
        };
        if let Err(e) = &r {
            self.note(e);
        }
        let rows = r.as_ref().ok().copied();
        self.telemetry()
            .end_text(probe, masked, 0, Op::Copy, ctx, &r, rows);
        r
    }

    /// Check the connection with a round trip, within `deadline` (a ping
    /// that does not answer in time gives the connection up).
    pub(crate) async fn ping(&mut self, deadline: &Deadline) -> Result<()> {
        use sqlx::Connection as _;
        let r = match self {
            Conn::Pg(c) => match server::until_deadline(deadline, async {
                c.conn.ping().await.map_err(server::map_err)
            })
            .await
            {
                Some(r) => r,
                None => {
                    c.broken = true;
                    Err(deadline.error(TimeoutKind::Query))
                }
            },
            Conn::MySql(c) => match server::until_deadline(deadline, async {
                c.conn.ping().await.map_err(server::map_err)
            })
            .await
            {
                Some(r) => r,
                None => {
                    c.broken = true;
                    Err(deadline.error(TimeoutKind::Query))
                }
            },
            Conn::Sqlite(c) => c
                .conn
                .query_row("SELECT 1", [], |_| Ok(()))
                .map_err(sqlite::map_err),
        };
        if let Err(e) = &r {
            self.note(e);
        }
        r
    }

    /// Whether its checkout had to wait for it (the pool was saturated).
    fn waited(&self) -> bool {
        match self {
            Conn::Pg(c) => c.waited,
            Conn::MySql(c) => c.waited,
            Conn::Sqlite(c) => c.waited,
        }
    }

    /// Whether the connection was given up (it will be closed, not reused).
    pub(crate) fn is_broken(&self) -> bool {
        match self {
            Conn::Pg(c) => c.broken,
            Conn::MySql(c) => c.broken,
            Conn::Sqlite(c) => c.broken,
        }
    }
}
