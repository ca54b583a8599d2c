//! The blocking [`Query`]: a statement with per-call options, and its twins of
//! the async [`crate::Query`]'s run methods.

use std::time::Duration;

use super::Db;
use crate::codec::{Decode, Encode};
use crate::db::CallOptions;
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::result::ExecResult;
use crate::row::{FromRow, Row};

/// A statement being prepared with per-call options; see [`Db::query`].
pub struct Query<'a> {
    pub(super) db: &'a Db,
    pub(super) inner: crate::Query<'a>,
}

impl std::fmt::Debug for Query<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.inner, f)
    }
}

impl<'a> Query<'a> {
    /// Bind the next parameter.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let s: String = db.query("SELECT ? || ?").bind("a").bind(String::from("b")).fetch_scalar()?;
    /// assert_eq!(s, "ab");
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn bind<T: Encode + 'a>(mut self, value: T) -> Self {
        self.inner = self.inner.bind(value);
        self
    }

    /// Limit how long the statement may run (cancelled when exceeded, failing
    /// with [`Error::Timeout`]).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
    ///             SELECT COUNT(*) FROM c";
    /// let err = db.query(slow).timeout(Duration::from_millis(50)).fetch_scalar::<i64>().unwrap_err();
    /// assert!(matches!(err, dal::Error::Timeout { kind: dal::TimeoutKind::Query, .. }));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.timeout(timeout);
        self
    }

    /// Attach a label to the statement's tracing span.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let q = db.query("SELECT 1").tag("feature", "health");
    /// assert_eq!(q.options().tags, [("feature".to_string(), "health".to_string())]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner = self.inner.tag(key, value);
        self
    }

    /// The options set so far.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let q = db.query("SELECT 1").timeout(Duration::from_secs(1));
    /// assert_eq!(q.options().timeout, Some(Duration::from_secs(1)));
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn options(&self) -> &CallOptions {
        self.inner.options()
    }
}

blocking_twins! { Query(query) {
    /// Run it as a statement that returns no rows.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// db.execute("CREATE TABLE [t] ([n] INTEGER)", ())?;
    /// let r = db.query("INSERT INTO [t] VALUES (?)").bind(1).execute()?;
    /// assert_eq!(r.rows_affected, 1);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn execute() -> ExecResult
        => query.execute();

    /// Run it and decode every row as `T`.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let rows: Vec<(i64,)> = db.query("SELECT ? UNION ALL SELECT ?").bind(1).bind(2).fetch_all_as()?;
    /// assert_eq!(rows, [(1,), (2,)]);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_all_as[T: FromRow + Send]() -> Vec<T>
        => query.fetch_all_as::<T>();

    /// Run it and return every row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let rows = db.query("SELECT ? AS [n]").bind(3).fetch_all()?;
    /// assert_eq!(rows[0].get::<i64, _>("n")?, 3);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_all() -> Vec<Row<'static>>
        => query.fetch_all();

    /// Run it and decode the first row as `T`, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let r: Option<(i64,)> = db.query("SELECT 1 WHERE 1 = ?").bind(0).fetch_optional_as()?;
    /// assert_eq!(r, None);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_optional_as[T: FromRow + Send]() -> Option<T>
        => query.fetch_optional_as::<T>();

    /// Run it and return the first row, if any.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// assert!(db.query("SELECT 1 WHERE 1 = ?").bind(1).fetch_optional()?.is_some());
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_optional() -> Option<Row<'static>>
        => query.fetch_optional();

    /// Run it and return the first row; [`Error::NotFound`] when there is none.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let row = db.query("SELECT ? AS [x]").bind("y").fetch_one()?;
    /// assert_eq!(row.get::<String, _>("x")?, "y");
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_one() -> Row<'static>
        => query.fetch_one();

    /// Run it and decode the first column of the first row.
    ///
    /// ```
    /// let db = dal::blocking::Db::connect_url("sqlite::memory:")?;
    /// let n: f64 = db.query("SELECT ? / 2.0").bind(5).fetch_scalar()?;
    /// assert_eq!(n, 2.5);
    /// # Ok::<(), dal::Error>(())
    /// ```
    fn fetch_scalar[T: Decode + Send]() -> T
        => query.fetch_scalar::<T>();
} }
