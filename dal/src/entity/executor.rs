//! [`Executor`]: where entity operations run — on a pooled connection (`&Db`) or
//! inside a transaction (`&mut Transaction`).

use std::panic::Location;

use dal_schema::Dialect;

use crate::backend::{Conn, ExecOptions};
use crate::db::Db;
use crate::error::Result;
use crate::params::Params;
use crate::resilience::deadline::Deadline;
use crate::result::ExecResult;
use crate::row::FromRow;
use crate::statement::Statement;
use crate::transaction::Transaction;

/// Something entity operations run on: `&Db` (each operation checks out a
/// connection, and runs in its own transaction when it writes several tables)
/// or `&mut Transaction` (operations join the transaction; a multi-statement
/// write gets a savepoint so it is all or nothing even if the caller goes on).
pub trait Executor<'a>: Send {
    /// Turn into a session. Not meant to be called directly.
    #[doc(hidden)]
    fn __into_session(self) -> Session<'a>;
}

impl<'a> Executor<'a> for &'a Db {
    fn __into_session(self) -> Session<'a> {
        Session {
            db: self,
            tx: None,
            location: Location::caller(),
            deadline: std::cell::Cell::new(None),
        }
    }
}

impl<'a, 'c> Executor<'a> for &'a mut Transaction<'c> {
    fn __into_session(self) -> Session<'a> {
        let (db, conn, depth, id) = self.parts();
        Session {
            deadline: std::cell::Cell::new(None),
            db,
            tx: Some((conn, depth, id)),
            location: Location::caller(),
        }
    }
}

/// A database plus, inside a transaction, its connection. Hidden plumbing of
/// [`Executor`].
#[doc(hidden)]
pub struct Session<'a> {
    pub(crate) db: &'a Db,
    tx: Option<(&'a mut Conn, u32, u64)>,
    location: &'static Location<'static>,
    /// The operation's deadline, fixed when the operation starts running
    /// (its first use): it bounds the checkout, every statement and every
    /// re-run. Not read in `__into_session`, which builds the operation's
    /// future and should stay trivial.
    deadline: std::cell::Cell<Option<Deadline>>,
}

impl std::fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("db", &self.db.config().name())
            .field("in_transaction", &self.tx.is_some())
            .finish()
    }
}

/// A unit of work: the connection it runs on and, when it must be atomic, the
/// transaction or savepoint around it. It is one call of the application's
/// (counted when it finishes).
pub(crate) struct Unit<'a> {
    on: On<'a>,
    db: &'a Db,
    start: std::time::Instant,
}

enum On<'a> {
    Pooled(Box<Conn>),
    Borrowed(&'a mut Conn),
    Tx(Transaction<'a>),
}

impl<'a> Session<'a> {
    pub(crate) fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// Whether the session runs inside the caller's transaction.
    pub(crate) fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// The operation's deadline (fixed on first use).
    fn deadline(&self) -> Deadline {
        match self.deadline.get() {
            Some(d) => d,
            None => {
                let d = self.db.exec_options(None).deadline;
                self.deadline.set(Some(d));
                d
            }
        }
    }

    pub(crate) fn options(&self) -> ExecOptions {
        let mut o = self.db.exec_options(None);
        o.deadline = self.deadline();
        o.ctx.attempt = 1;
        if let Some((_, _, id)) = &self.tx {
            o.ctx.tx_id = *id;
        }
        o
    }

    /// Start a unit of work. `atomic` asks for all-or-nothing: a transaction on a
    /// pooled connection, or a savepoint inside the caller's transaction (not on
    /// PostgreSQL, where a failed statement already dooms the whole transaction).
    pub(crate) async fn unit(self, atomic: bool) -> Result<Unit<'a>> {
        let deadline = self.deadline();
        let (db, start) = (self.db, deadline.start);
        let on = match self.tx {
            None if atomic => Transaction::begin_within(self.db, self.location, self.options())
                .await
                .map(On::Tx),
            None => self
                .db
                .acquire_conn(self.location, &deadline)
                .await
                .map(|c| On::Pooled(Box::new(c))),
            Some((conn, depth, id)) => {
                if atomic
                    && !self
                        .db
                        .dialect()
                        .capabilities()
                        .failed_statement_aborts_transaction
                {
                    Transaction::savepoint(self.db, conn, depth, id)
                        .await
                        .map(On::Tx)
                } else {
                    Ok(On::Borrowed(conn))
                }
            }
        };
        match on {
            Ok(on) => Ok(Unit { on, db, start }),
            Err(e) => {
                let r = Err(e);
                db.telemetry().call_done(start, &r);
                r
            }
        }
    }
}

impl<'a> Session<'a> {
    /// For work on the pool (no caller transaction): a session to run it
    /// again with. `None` inside a transaction (the caller decides there).
    pub(crate) fn again(&self) -> Option<Session<'a>> {
        self.tx.is_none().then_some(Session {
            db: self.db,
            tx: None,
            location: self.location,
            deadline: std::cell::Cell::new(Some(self.deadline())),
        })
    }
}

impl<'a> Session<'a> {
    /// Run a read without giving the session up (eager loading runs one per
    /// level): on the pool with the read retry policy, or on the
    /// transaction's connection.
    pub(crate) async fn fetch<T: FromRow + Send, P: Params + ?Sized>(
        &mut self,
        stmt: &Statement,
        params: &P,
    ) -> Result<Vec<T>> {
        let opts = self.options();
        match &mut self.tx {
            None => {
                self.db
                    .run_fetch::<T, P>(stmt, params, None, opts, true, self.location)
                    .await
            }
            Some((conn, _, _)) => {
                let r = conn.fetch_as::<T, P>(stmt, params, None, opts).await;
                self.db.telemetry().call_done(opts.deadline.start, &r);
                r
            }
        }
    }

    /// A transaction for a write over several entities: a new one on the
    /// pool, or a savepoint inside the caller's.
    pub(crate) async fn begin(self) -> Result<Transaction<'a>> {
        match self.tx {
            None => Transaction::begin_within(self.db, self.location, self.options()).await,
            Some((conn, depth, id)) => Transaction::savepoint(self.db, conn, depth, id).await,
        }
    }
}

impl Session<'_> {
    /// Run a read: on the pool with the read retry policy, or on the
    /// transaction's connection (never retried there).
    pub(crate) async fn read<T: FromRow + Send, P: Params + ?Sized>(
        self,
        stmt: &Statement,
        params: &P,
        limit: Option<usize>,
        opts: ExecOptions,
    ) -> Result<Vec<T>> {
        match self.tx {
            None => {
                self.db
                    .run_fetch::<T, P>(stmt, params, limit, opts, true, self.location)
                    .await
            }
            Some((conn, _, _)) => {
                let r = conn.fetch_as::<T, P>(stmt, params, limit, opts).await;
                self.db.telemetry().call_done(opts.deadline.start, &r);
                r
            }
        }
    }
}

impl Unit<'_> {
    pub(crate) fn conn(&mut self) -> &mut Conn {
        match &mut self.on {
            On::Pooled(c) => c,
            On::Borrowed(c) => c,
            On::Tx(t) => t.conn(),
        }
    }

    /// Commit (or release) on success, roll back on failure, and pass the result on.
    pub(crate) async fn finish<R>(self, result: Result<R>) -> Result<R> {
        let r = match self.on {
            On::Tx(t) => match result {
                Ok(v) => t.commit_inner().await.map(|()| v),
                Err(e) => {
                    let _ = t.rollback_inner().await;
                    Err(e)
                }
            },
            _ => result,
        };
        self.db.telemetry().call_done(self.start, &r);
        r
    }

    pub(crate) async fn execute<P: Params + ?Sized>(
        &mut self,
        stmt: &Statement,
        params: &P,
        opts: ExecOptions,
    ) -> Result<ExecResult> {
        self.conn().execute(stmt, params, opts).await
    }

    pub(crate) async fn fetch_as<T: FromRow + Send, P: Params + ?Sized>(
        &mut self,
        stmt: &Statement,
        params: &P,
        limit: Option<usize>,
        opts: ExecOptions,
    ) -> Result<Vec<T>> {
        self.conn()
            .fetch_as::<T, P>(stmt, params, limit, opts)
            .await
    }
}
