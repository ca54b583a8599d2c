//! The units of work a connection runs ([`Work`]): each written once per
//! backend (prepared statement, query, raw script, COPY, ping), run by
//! `Conn::run` within the call's deadline. Names only the backends' own
//! files, never `backend/mod.rs`, which uses it.

#[cfg(any(feature = "postgres", feature = "mysql"))]
use std::future::Future;

use crate::codec::{ArgsInner, Arguments};
use crate::error::{Error, Result};
use crate::result::ExecResult;
use crate::row::Decoder;

use super::sink::Sink;
use crate::statement::Statement;

#[cfg(feature = "mysql")]
use super::mysql;
#[cfg(feature = "postgres")]
use super::postgres;
#[cfg(feature = "sqlite")]
use super::sqlite;

/// What to do with a server connection whose work ran out of its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WhenLate {
    /// Cancel the statement on the server and recover the connection (inside
    /// a transaction: end the session).
    Cancel,
    /// End the session whatever the transaction state (work that cannot be
    /// resumed, like a COPY cut off mid-stream).
    Terminate,
    /// Give the connection up without a cancel (nothing runs on the server
    /// that would outlive it: a ping).
    Close,
}

/// One unit of work on a connection, written once per backend. [`Conn::run`]
/// runs it within the call's deadline.
pub(crate) trait Work {
    type Output: Send;

    /// What to do with the connection when the work runs out of time.
    fn when_late(&self) -> WhenLate {
        WhenLate::Cancel
    }

    /// The work on a PostgreSQL connection.
    #[cfg(feature = "postgres")]
    fn postgres<'c>(
        &'c mut self,
        c: &'c mut postgres::PgConn,
    ) -> impl Future<Output = Result<Self::Output>> + Send + 'c;

    /// The work on a MySQL/MariaDB connection.
    #[cfg(feature = "mysql")]
    fn mysql<'c>(
        &'c mut self,
        c: &'c mut mysql::MySqlConn,
    ) -> impl Future<Output = Result<Self::Output>> + Send + 'c;

    /// The work on a SQLite connection, on the calling thread; run again
    /// while the database is busy (outside transactions).
    #[cfg(feature = "sqlite")]
    fn sqlite(&mut self, c: &mut sqlite::SqliteConn) -> Result<Self::Output>;
}

/// A prepared statement that returns no rows.
pub(crate) struct Execute<'a, 'q> {
    pub(crate) stmt: &'a Statement,
    pub(crate) args: Arguments<'q>,
}

/// The arguments were made for the connection's dialect (`bind` asks it).
fn wrong_dialect<T>() -> Result<T> {
    Err(Error::Driver(
        "arguments encoded for another dialect".into(),
    ))
}

impl Work for Execute<'_, '_> {
    type Output = ExecResult;

    #[cfg(feature = "postgres")]
    fn postgres<'c>(
        &'c mut self,
        c: &'c mut postgres::PgConn,
    ) -> impl Future<Output = Result<ExecResult>> + Send + 'c {
        let (signature, untyped_null) = (self.args.signature, self.args.untyped_null);
        let args = self.args.take_inner();
        async move {
            let ArgsInner::Pg(a) = args else {
                return wrong_dialect();
            };
            let (sql, persistent) = postgres::statement_text(self.stmt, signature, untyped_null);
            postgres::execute(c, sql, a, persistent).await
        }
    }

    #[cfg(feature = "mysql")]
    fn mysql<'c>(
        &'c mut self,
        c: &'c mut mysql::MySqlConn,
    ) -> impl Future<Output = Result<ExecResult>> + Send + 'c {
        let args = self.args.take_inner();
        async move {
            let ArgsInner::MySql(a) = args else {
                return wrong_dialect();
            };
            mysql::execute(c, self.stmt.sql.clone(), a, self.stmt.cached).await
        }
    }

    #[cfg(feature = "sqlite")]
    fn sqlite(&mut self, c: &mut sqlite::SqliteConn) -> Result<ExecResult> {
        #[allow(unreachable_patterns)] // SQLite alone: only the scalar form
        match &self.args.inner {
            ArgsInner::Scalar(_, a) => sqlite::execute(c, self.stmt, a),
            _ => wrong_dialect(),
        }
    }
}

/// A prepared query whose rows are decoded as `T`, each as it arrives (while
/// the server sends the next) or, on SQLite, as the statement steps, and put
/// into `sink`. Decoding is local work, but runs within the call's deadline
/// with the rest.
pub(crate) struct Fetch<'a, 'q, T, S> {
    pub(crate) stmt: &'a Statement,
    pub(crate) args: Arguments<'q>,
    pub(crate) sink: &'a mut S,
    pub(crate) decoder: &'a Decoder<T>,
}

impl<T: Send, S: Sink<T>> Work for Fetch<'_, '_, T, S> {
    type Output = ();

    #[cfg(feature = "postgres")]
    fn postgres<'c>(
        &'c mut self,
        c: &'c mut postgres::PgConn,
    ) -> impl Future<Output = Result<()>> + Send + 'c {
        let (signature, untyped_null) = (self.args.signature, self.args.untyped_null);
        let args = self.args.take_inner();
        async move {
            let ArgsInner::Pg(a) = args else {
                return wrong_dialect();
            };
            let (sql, persistent) = postgres::statement_text(self.stmt, signature, untyped_null);
            postgres::fetch(c, sql, a, persistent, &mut *self.sink, self.decoder).await
        }
    }

    #[cfg(feature = "mysql")]
    fn mysql<'c>(
        &'c mut self,
        c: &'c mut mysql::MySqlConn,
    ) -> impl Future<Output = Result<()>> + Send + 'c {
        let args = self.args.take_inner();
        async move {
            let ArgsInner::MySql(a) = args else {
                return wrong_dialect();
            };
            mysql::fetch(
                c,
                self.stmt.sql.clone(),
                a,
                self.stmt.cached,
                &mut *self.sink,
                self.decoder,
            )
            .await
        }
    }

    /// Run again while the database is busy: only while no row went to a
    /// stream's reader (rows it already has would come twice).
    #[cfg(feature = "sqlite")]
    fn sqlite(&mut self, c: &mut sqlite::SqliteConn) -> Result<()> {
        if !self.sink.restart() {
            return Err(Error::Driver(
                "the database became busy while a stream was being read: the rows \
                 already delivered are not read again"
                    .into(),
            ));
        }
        #[allow(unreachable_patterns)] // SQLite alone: only the scalar form
        match &self.args.inner {
            ArgsInner::Scalar(_, a) => {
                sqlite::fetch_into(c, self.stmt, a, &mut *self.sink, self.decoder)
            }
            _ => wrong_dialect(),
        }
    }
}

/// SQL text without parameters (scripts, DDL, transaction control).
pub(crate) struct Raw<'a>(pub(crate) &'a str);

impl Work for Raw<'_> {
    type Output = ();

    #[cfg(feature = "postgres")]
    fn postgres<'c>(
        &'c mut self,
        c: &'c mut postgres::PgConn,
    ) -> impl Future<Output = Result<()>> + Send + 'c {
        postgres::execute_raw(c, self.0)
    }

    #[cfg(feature = "mysql")]
    fn mysql<'c>(
        &'c mut self,
        c: &'c mut mysql::MySqlConn,
    ) -> impl Future<Output = Result<()>> + Send + 'c {
        mysql::execute_raw(c, self.0)
    }

    #[cfg(feature = "sqlite")]
    fn sqlite(&mut self, c: &mut sqlite::SqliteConn) -> Result<()> {
        sqlite::execute_batch(c, self.0)
    }
}

/// PostgreSQL's binary COPY of `data` with `sql`.
#[cfg(feature = "postgres")]
pub(crate) struct CopyIn<'a> {
    pub(crate) sql: &'a str,
    pub(crate) data: Option<Vec<u8>>,
}

#[cfg(feature = "postgres")]
impl Work for CopyIn<'_> {
    type Output = u64;

    /// A COPY cut off mid-stream cannot be resumed: the session is ended (the
    /// server rolls the COPY back) and the connection closed.
    fn when_late(&self) -> WhenLate {
        WhenLate::Terminate
    }

    #[cfg(feature = "postgres")]
    fn postgres<'c>(
        &'c mut self,
        c: &'c mut postgres::PgConn,
    ) -> impl Future<Output = Result<u64>> + Send + 'c {
        let data = self.data.take().unwrap_or_default();
        postgres::copy_in(c, self.sql, data)
    }

    #[cfg(feature = "mysql")]
    fn mysql<'c>(
        &'c mut self,
        _c: &'c mut mysql::MySqlConn,
    ) -> impl Future<Output = Result<u64>> + Send + 'c {
        std::future::ready(Err(Error::Unsupported(
            "COPY is a PostgreSQL feature".into(),
        )))
    }

    #[cfg(feature = "sqlite")]
    fn sqlite(&mut self, _c: &mut sqlite::SqliteConn) -> Result<u64> {
        Err(Error::Unsupported("COPY is a PostgreSQL feature".into()))
    }
}

/// A round trip that checks the connection.
pub(crate) struct Ping;

impl Work for Ping {
    type Output = ();

    /// Nothing runs on the server that would outlive the connection.
    fn when_late(&self) -> WhenLate {
        WhenLate::Close
    }

    #[cfg(feature = "postgres")]
    fn postgres<'c>(
        &'c mut self,
        c: &'c mut postgres::PgConn,
    ) -> impl Future<Output = Result<()>> + Send + 'c {
        postgres::ping(c)
    }

    #[cfg(feature = "mysql")]
    fn mysql<'c>(
        &'c mut self,
        c: &'c mut mysql::MySqlConn,
    ) -> impl Future<Output = Result<()>> + Send + 'c {
        mysql::ping(c)
    }

    #[cfg(feature = "sqlite")]
    fn sqlite(&mut self, c: &mut sqlite::SqliteConn) -> Result<()> {
        sqlite::ping(c)
    }
}
