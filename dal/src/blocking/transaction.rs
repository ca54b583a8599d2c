//! The blocking [`Transaction`]: begin, commit, rollback and savepoints, and its
//! twins of async `dal::Transaction`, entity and query methods.

use dal_schema::Dialect;

use super::{Db, ensure_blocking_allowed};
use crate::codec::Decode;
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::params::Params;
use crate::result::ExecResult;
use crate::row::{FromRow, Row};

/// An open transaction (or, when nested, a savepoint) on a blocking [`Db`].
///
/// Dropping it without [`commit`](Transaction::commit) rolls it back, as
/// [`crate::Transaction`] does: at once on SQLite and for a savepoint; for a
/// top-level transaction on a server, `ROLLBACK` is sent by a task on the
/// handle's runtime (so dropping never blocks, even during a panic) and the
/// connection is reset before its next use should that task not get to run.
///
/// ```
/// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
/// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
/// let mut tx = db.begin()?;
/// tx.execute("INSERT INTO [t] VALUES (?)", (1,))?;
/// {
///     let mut inner = tx.begin()?;          // SAVEPOINT
///     inner.execute("INSERT INTO [t] VALUES (?)", (2,))?;
///     // dropped: rolled back to the savepoint
/// }
/// assert_eq!(tx.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [t]", ())?, 1);
/// tx.commit()?;
/// assert_eq!(db.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [t]", ())?, 1);
/// # Ok::<(), dal::Error>(())
/// ```
pub struct Transaction<'c> {
    pub(super) db: Db,
    /// `None` only while `commit` or `rollback` consume it.
    pub(super) inner: Option<crate::transaction::Transaction<'c>>,
}

impl std::fmt::Debug for Transaction<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Transaction")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // dal's own drop: synchronous on SQLite and for savepoints; on a server
            // it spawns the ROLLBACK on the current runtime, which must be ours
            // (the connection's sockets belong to it)
            let _entered = self.db.shared.runtime.get().enter();
            drop(inner);
        }
    }
}

impl<'c> Transaction<'c> {
    /// The blocking handle and the async transaction, borrowed together.
    pub(super) fn split(&mut self) -> (&Db, &mut crate::transaction::Transaction<'c>) {
        let inner = self
            .inner
            .as_mut()
            .expect("a transaction is open until commit or rollback consumes it");
        (&self.db, inner)
    }

    /// The database this transaction runs on.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let tx = db.begin()?;
    /// assert_eq!(tx.db().dialect(), dal::Dialect::Sqlite);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The dialect of the database.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert_eq!(db.begin()?.dialect(), dal::Dialect::Sqlite);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn dialect(&self) -> Dialect {
        self.db.dialect()
    }

    /// 0 for a top-level transaction, 1 for a savepoint inside it, and so on.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.depth(), 0);
    /// assert_eq!(tx.begin()?.depth(), 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn depth(&self) -> u32 {
        self.inner.as_ref().map_or(0, |t| t.depth())
    }

    /// The async transaction underneath, e.g. for an async dal API that takes
    /// `&mut dal::Transaction` (run its future with [`Transaction::block_on`]).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.as_async().depth(), 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn as_async(&mut self) -> &mut crate::transaction::Transaction<'c> {
        self.split().1
    }

    /// Run an async operation on the async transaction underneath, waiting for
    /// it: an async closure receiving `&mut dal::Transaction`, typically for an
    /// entity operation without a blocking twin here. Inside an async runtime
    /// this returns [`Error::Unsupported`] without running it.
    ///
    /// ```
    /// use dal::Entity;
    ///
    /// #[derive(Entity, Debug, Clone)]
    /// struct Note {
    ///     id: i64,
    ///     #[dal(length = 200)]
    ///     title: String,
    /// }
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.ensure_schema::<Note>()?;
    /// let mut tx = db.begin()?;
    /// let mut note = Note { id: 0, title: "hello".into() };
    /// tx.block_on(async |t| note.save(t).await)?;
    /// let n = tx.block_on(async |t| Note::find().count(t).await)?;
    /// assert_eq!(n, 1);
    /// tx.commit()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn block_on<T, F>(&mut self, f: F) -> Result<T>
    where
        F: AsyncFnOnce(&mut crate::transaction::Transaction<'c>) -> Result<T>,
    {
        ensure_blocking_allowed()?;
        let (db, tx) = self.split();
        db.block_on(f(tx))
    }

    /// Start a nested transaction: a savepoint, committed by releasing it and
    /// rolled back to on [`rollback`](Transaction::rollback) or drop.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// let mut sp = tx.begin()?;
    /// sp.execute("INSERT INTO [t] VALUES (1)", ())?;
    /// sp.commit()?;                        // RELEASE SAVEPOINT
    /// let mut sp = tx.begin()?;
    /// sp.execute("INSERT INTO [t] VALUES (2)", ())?;
    /// sp.rollback()?;                      // ROLLBACK TO SAVEPOINT
    /// tx.commit()?;
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT SUM([n]) FROM [t]", ())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn begin(&mut self) -> Result<Transaction<'_>> {
        ensure_blocking_allowed()?;
        let db = self.db.clone();
        let (_, tx) = self.split();
        let inner = db.block_on(tx.begin())?;
        Ok(Transaction {
            db,
            inner: Some(inner),
        })
    }

    /// Make the transaction's changes permanent (or release the savepoint).
    ///
    /// Inside an async runtime it fails with [`Error::Unsupported`] and the
    /// transaction is rolled back as if dropped.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// tx.execute("INSERT INTO [t] VALUES (1)", ())?;
    /// tx.commit()?;
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [t]", ())?, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn commit(mut self) -> Result<()> {
        ensure_blocking_allowed()?;
        let inner = self
            .inner
            .take()
            .expect("a transaction is open until commit or rollback consumes it");
        self.db.block_on(inner.commit())
    }

    /// Undo the transaction's changes (or roll back to the savepoint).
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// tx.execute("INSERT INTO [t] VALUES (1)", ())?;
    /// tx.rollback()?;
    /// assert_eq!(db.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [t]", ())?, 0);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn rollback(mut self) -> Result<()> {
        ensure_blocking_allowed()?;
        let inner = self
            .inner
            .take()
            .expect("a transaction is open until commit or rollback consumes it");
        self.db.block_on(inner.rollback())
    }
}

blocking_twins! { Transaction(tx) {
    /// Run a statement that returns no rows.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.execute("INSERT INTO [t] VALUES (?)", (1,))?.rows_affected, 1);
    /// tx.commit()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn execute[P: Params](sql: &str, params: P) -> ExecResult
        => tx.execute(sql, params);

    /// Run one statement once per parameter set; returns the total rows affected.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.execute_many("INSERT INTO [t] VALUES (?)", vec![(1,), (2,)])?, 2);
    /// tx.commit()?;
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn execute_many[P, I](sql: &str, param_sets: I) -> u64 where [P: Params, I: IntoIterator<Item = P>]
        => tx.execute_many(sql, param_sets);

    /// Run SQL text with no parameters, as is.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// tx.execute_script("CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);")?;
    /// tx.commit()?;
    /// assert!(db.table_exists("a")?);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn execute_script(sql: &str) -> ()
        => tx.execute_script(sql);

    /// Run a query and return every row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.fetch_all("SELECT 1 UNION ALL SELECT 2", ())?.len(), 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_all[P: Params](sql: &str, params: P) -> Vec<Row<'static>>
        => tx.fetch_all(sql, params);

    /// Run a query and return the first row; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.fetch_one("SELECT ? AS [n]", (4,))?.get::<i64, _>("n")?, 4);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_one[P: Params](sql: &str, params: P) -> Row<'static>
        => tx.fetch_one(sql, params);

    /// Run a query and return the first row, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert!(tx.fetch_optional("SELECT 1 WHERE 1 = 0", ())?.is_none());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_optional[P: Params](sql: &str, params: P) -> Option<Row<'static>>
        => tx.fetch_optional(sql, params);

    /// Run a query and decode every row as `T`.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// let v: Vec<(String,)> = tx.fetch_all_as("SELECT 'a' UNION ALL SELECT 'b'", ())?;
    /// assert_eq!(v, [("a".to_string(),), ("b".to_string(),)]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_all_as[T: FromRow + Send, P: Params](sql: &str, params: P) -> Vec<T>
        => tx.fetch_all_as(sql, params);

    /// Run a query and decode the first row as `T`; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// let (a, b): (i64, String) = tx.fetch_one_as("SELECT ?, ?", (1, "x"))?;
    /// assert_eq!((a, b.as_str()), (1, "x"));
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_one_as[T: FromRow + Send, P: Params](sql: &str, params: P) -> T
        => tx.fetch_one_as(sql, params);

    /// Run a query and decode the first row as `T`, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// let r: Option<(i64,)> = tx.fetch_optional_as("SELECT 9", ())?;
    /// assert_eq!(r, Some((9,)));
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_optional_as[T: FromRow + Send, P: Params](sql: &str, params: P) -> Option<T>
        => tx.fetch_optional_as(sql, params);

    /// Run a query and decode the first column of the first row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let mut tx = db.begin()?;
    /// assert_eq!(tx.fetch_scalar::<i64, _>("SELECT ? + 1", (1,))?, 2);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_scalar[T: Decode + Send, P: Params](sql: &str, params: P) -> T
        => tx.fetch_scalar(sql, params);
} }
