//! The same API for synchronous programs: [`blocking::Db`](Db),
//! [`blocking::Transaction`](Transaction) and [`blocking::Query`](Query) wrap
//! their async counterparts and wait for each call to finish.
//!
//! A blocking [`Db`] owns a small tokio runtime (two worker threads named
//! `dal-blocking`, shared by every clone of the handle) and an async
//! [`crate::Db`] created on it. Each call runs its future to completion on the
//! calling thread with [`Runtime::block_on`](tokio::runtime::Runtime::block_on);
//! the workers drive the sockets and timers. Any number of threads may use one
//! handle (or its clones) at once.
//!
//! ```
//! use dal::Table;
//!
//! let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
//! db.create_table(&Table::build("notes", |t| {
//!     t.id();
//!     t.string("title", 200);
//!     t.boolean("done").default(false);
//! }))?;
//! db.execute("INSERT INTO [notes] ([title]) VALUES (?)", ("write docs",))?;
//! let open: Vec<(i64, String)> =
//!     db.fetch_all_as("SELECT [id], [title] FROM [notes] WHERE [done] = ?", (false,))?;
//! assert_eq!(open, vec![(1, "write docs".to_string())]);
//! # Ok::<(), dal::Error>(())
//! ```
//!
//! Entities work through the same handle ([`Db::save`], [`Db::get`], [`Db::all`],
//! ...), inside a transaction ([`Transaction::save`], ...), and any other async
//! dal operation runs with [`Db::block_on`] / [`Transaction::block_on`].
//!
//! # Not from async code
//!
//! Blocking a thread of an async runtime stalls every task scheduled on it, and
//! tokio panics when a runtime is started inside another one. So every call that
//! waits for the database first checks for a tokio runtime context on the
//! current thread and, if there is one, fails with [`Error::Unsupported`]
//! instead of blocking, panicking or deadlocking. In async code use the async
//! handle ([`Db::as_async`]). Tokio's `spawn_blocking` threads carry their
//! runtime's context too, and tokio offers no way to tell them apart from its
//! worker threads, so they get the same error: use a plain [`std::thread`].
//! Dropping a handle or a transaction is fine anywhere.

// How the facade is built: Most methods are twins: they build the async call
// on the handle's executor and wait for it. Those are not written out by
// hand but listed, with their docs, in `blocking_twins!` invocations per
// type (`db.rs` and `db_entities.rs`, `transaction.rs` and
// `transaction_entities.rs`, `query.rs`); only the methods that do more than
// wait (connecting, the transaction closure, commit, ...) are written out. A
// test (`twins.rs`) reads the async sources and fails when an async method
// has no blocking twin.

use crate::error::{Error, Result};

/// Worker threads of the runtime a blocking [`Db`] owns. They only drive I/O,
/// timers and the pool's background work: each call runs on the calling thread.
const WORKER_THREADS: usize = 2;

/// Name of those worker threads.
const THREAD_NAME: &str = "dal-blocking";

/// The message of the error a blocking call returns inside an async runtime.
const INSIDE_RUNTIME: &str = "dal::blocking was called from inside an async runtime (tokio); \
     use the async dal::Db there (blocking::Db::as_async), or call it from a plain thread \
     (std::thread; tokio's spawn_blocking threads are inside the runtime too)";

/// Fail, rather than block (or panic in tokio), on a thread inside a tokio runtime.
fn ensure_blocking_allowed() -> Result<()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Error::Unsupported(INSIDE_RUNTIME.to_string()));
    }
    Ok(())
}

/// The owned runtime, shut down without waiting when dropped (dropping a tokio
/// `Runtime` the ordinary way panics inside an async context).
struct OwnedRuntime(Option<tokio::runtime::Runtime>);
impl OwnedRuntime {
    fn start() -> Result<OwnedRuntime> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()
            .map(|rt| OwnedRuntime(Some(rt)))
            .map_err(|e| Error::Driver(format!("cannot start the dal-blocking runtime: {e}")))
    }

    fn get(&self) -> &tokio::runtime::Runtime {
        self.0
            .as_ref()
            .expect("the runtime lives until the handle is dropped")
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// Writes blocking twins: each entry is the doc, attributes and signature of
/// one method (generics in `[..]`, the `Result`'s `Ok` type after `->`, a where
/// clause in `where [..]`) and, after `=>`, the async call to wait for, written
/// against the executor named in the header: `Db(db)` binds `db: &crate::Db`,
/// `Transaction(tx)` binds `tx: &mut crate::Transaction`, and `Query(query)`
/// binds the async `crate::Query` by value.
///
/// ```ignore
/// blocking_twins! { Db(db) {
///     /// Run a statement that returns no rows.
///     #[track_caller]
///     fn execute[P: Params](sql: &str, params: P) -> ExecResult
///         => db.execute(sql, params);
/// } }
/// // becomes
/// impl Db {
///     /// Run a statement that returns no rows.
///     #[track_caller]
///     pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<ExecResult> {
///         let db = &self.shared.db;
///         self.block_on(db.execute(sql, params))
///     }
/// }
/// ```
macro_rules! blocking_twins {
    (Db($on:ident) { $(
        $(#[$attr:meta])*
        fn $name:ident $([$($gen:tt)*])? ($($arg:ident : $argty:ty),* $(,)?) -> $ret:ty
            $(where [$($wc:tt)*])?
            => $call:expr;
    )* }) => {
        impl Db { $(
            $(#[$attr])*
            pub fn $name $(<$($gen)*>)? (&self, $($arg: $argty),*) -> Result<$ret>
            $(where $($wc)*)?
            {
                let $on = &self.shared.db;
                self.block_on($call)
            }
        )* }
    };
    (Transaction($on:ident) { $(
        $(#[$attr:meta])*
        fn $name:ident $([$($gen:tt)*])? ($($arg:ident : $argty:ty),* $(,)?) -> $ret:ty
            $(where [$($wc:tt)*])?
            => $call:expr;
    )* }) => {
        impl Transaction<'_> { $(
            $(#[$attr])*
            pub fn $name $(<$($gen)*>)? (&mut self, $($arg: $argty),*) -> Result<$ret>
            $(where $($wc)*)?
            {
                let (db, $on) = self.split();
                db.block_on($call)
            }
        )* }
    };
    (Query($on:ident) { $(
        $(#[$attr:meta])*
        fn $name:ident $([$($gen:tt)*])? () -> $ret:ty
            => $call:expr;
    )* }) => {
        impl Query<'_> { $(
            $(#[$attr])*
            pub fn $name $(<$($gen)*>)? (self) -> Result<$ret> {
                let Query { db, inner: $on } = self;
                db.block_on($call)
            }
        )* }
    };
}
// the macro is defined above: these modules see it
mod db;
mod db_entities;
mod query;
mod transaction;
mod transaction_entities;
#[cfg(test)]
mod twins;

pub use db::Db;
pub use query::Query;
pub use transaction::Transaction;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transaction::rerunnable;

    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}

    #[test]
    fn handles_are_send_and_sync() {
        assert_send_sync::<Db>();
        assert_send::<Transaction<'static>>();
    }

    #[test]
    fn rerun_policy_matches_the_async_one() {
        let ser = Error::Serialization {
            deadlock: true,
            message: "x".into(),
            code: None,
        };
        let lost = Error::ConnectionLost {
            message: "x".into(),
            code: None,
        };
        assert!(rerunnable(&ser, false) && rerunnable(&ser, true));
        assert!(rerunnable(&lost, false) && !rerunnable(&lost, true));
        assert!(rerunnable(&Error::PoolClosed, false));
        assert!(!rerunnable(&Error::NotFound("x".into()), false));
        assert!(!rerunnable(
            &Error::Unsupported(INSIDE_RUNTIME.into()),
            false
        ));
    }

    #[test]
    fn refuses_inside_a_runtime() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt
            .block_on(async { ensure_blocking_allowed() })
            .unwrap_err();
        assert!(matches!(&err, Error::Unsupported(m) if m.contains("inside an async runtime")));
        assert!(ensure_blocking_allowed().is_ok());
    }
}
