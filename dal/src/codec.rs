//! Binding parameters ([`Encode`], [`Arguments`]) and reading columns ([`Decode`],
//! [`ValueRef`]) on every backend.
//!
//! The built-in types cover integers, floats, `bool`, strings, bytes, chrono dates
//! and times, `uuid::Uuid`, JSON (`serde_json::Value` or any serde type through
//! [`Json`]), `rust_decimal::Decimal`, [`Value`] and `Option<T>` of each. Your own
//! types implement [`Encode`] and [`Decode`] by delegating to one of these:
//!
//! ```
//! use dal::{Arguments, Decode, Encode, ValueRef};
//!
//! struct Email(String);
//!
//! impl Encode for Email {
//!     fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> dal::Result<()> {
//!         self.0.encode(out)
//!     }
//! }
//!
//! impl Decode for Email {
//!     fn decode(value: ValueRef<'_>) -> dal::Result<Self> {
//!         let s = String::decode(value)?;
//!         if s.contains('@') { Ok(Email(s)) } else { Err(dal::Error::decode("", "not an e-mail address")) }
//!     }
//! }
//! ```
//!
//! Storage per dialect: PostgreSQL uses the native types (integers are sent as
//! `BIGINT`, floats as `DOUBLE PRECISION`, so one statement accepts any integer
//! width); MySQL stores UUIDs as their 36-character text; SQLite stores dates and
//! times as ISO-8601 text (`YYYY-MM-DD HH:MM:SS.ffffff`, instants with `+00:00`),
//! UUIDs, decimals and JSON as text, booleans as 0/1.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use sqlx::mysql::{MySql, MySqlArguments, MySqlValueRef};
use sqlx::postgres::{PgArguments, PgTypeInfo, PgValueFormat, PgValueRef, Postgres};
use sqlx::{Arguments as _, TypeInfo as _, ValueRef as _};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::value::Value;
use dal_schema::Dialect;

mod array;
pub use array::ArrayElement;
pub(crate) use array::{ElementProbe, array_type};

/// Wraps any serde type so it is stored as JSON.
///
/// ```
/// use dal::Json;
/// #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
/// struct Prefs { dark: bool }
/// let p = Json(Prefs { dark: true });
/// assert!(p.0.dark);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Json<T>(pub T);

/// The kinds of value a parameter can carry; used for typed NULLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SqlKind {
    /// Boolean.
    Bool,
    /// 16-bit integer (`SMALLINT`).
    SmallInt,
    /// 32-bit integer (`INTEGER`).
    Int,
    /// 64-bit integer (`BIGINT`).
    BigInt,
    /// Single-precision float (`REAL`).
    Float,
    /// Double-precision float (`DOUBLE PRECISION`).
    Double,
    /// Text.
    Text,
    /// Binary.
    Bytes,
    /// Date.
    Date,
    /// Time of day.
    Time,
    /// Date and time without zone.
    Timestamp,
    /// Instant in UTC.
    TimestampTz,
    /// UUID.
    Uuid,
    /// JSON.
    Json,
    /// Exact decimal.
    Decimal,
}

impl SqlKind {
    fn code(self) -> u64 {
        self as u64 + 1
    }
}

/// One SQLite parameter, borrowed from the caller where possible.
#[derive(Debug, Clone)]
pub(crate) enum SqliteArg<'q> {
    Null,
    Integer(i64),
    Real(f64),
    Text(Cow<'q, str>),
    Blob(Cow<'q, [u8]>),
}

impl rusqlite::ToSql for SqliteArg<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as R};
        Ok(ToSqlOutput::Borrowed(match self {
            SqliteArg::Null => R::Null,
            SqliteArg::Integer(i) => R::Integer(*i),
            SqliteArg::Real(f) => R::Real(*f),
            SqliteArg::Text(s) => R::Text(s.as_bytes()),
            SqliteArg::Blob(b) => R::Blob(b),
        }))
    }
}

impl SqliteArg<'_> {
    /// The same value, owning its text and bytes.
    pub(crate) fn into_owned(self) -> SqliteArg<'static> {
        match self {
            SqliteArg::Null => SqliteArg::Null,
            SqliteArg::Integer(i) => SqliteArg::Integer(i),
            SqliteArg::Real(f) => SqliteArg::Real(f),
            SqliteArg::Text(t) => SqliteArg::Text(Cow::Owned(t.into_owned())),
            SqliteArg::Blob(b) => SqliteArg::Blob(Cow::Owned(b.into_owned())),
        }
    }

    /// Whether two values are stored identically (floats by their bits).
    pub(crate) fn same(&self, other: &SqliteArg<'_>) -> bool {
        match (self, other) {
            (SqliteArg::Null, SqliteArg::Null) => true,
            (SqliteArg::Integer(a), SqliteArg::Integer(b)) => a == b,
            (SqliteArg::Real(a), SqliteArg::Real(b)) => a.to_bits() == b.to_bits(),
            (SqliteArg::Text(a), SqliteArg::Text(b)) => a == b,
            (SqliteArg::Blob(a), SqliteArg::Blob(b)) => a == b,
            _ => false,
        }
    }
}

impl<'q> Arguments<'q> {
    /// The values pushed so far, when these are SQLite arguments.
    pub(crate) fn sqlite_args(&self) -> Option<&[SqliteArg<'q>]> {
        match &self.inner {
            ArgsInner::Sqlite(v) => Some(v),
            _ => None,
        }
    }

    /// The values pushed so far as SQLite stores them (a dialect-neutral
    /// picture of them), when these are SQLite arguments.
    pub(crate) fn sqlite_values(self) -> Option<Vec<SqliteArg<'static>>> {
        match self.inner {
            ArgsInner::Sqlite(v) => Some(v.into_iter().map(SqliteArg::into_owned).collect()),
            _ => None,
        }
    }
}

/// Keys bound as one PostgreSQL array, for `column = ANY(?)`: one
/// parameter, one statement text and one plan whatever the number of keys.
pub(crate) struct PgArray<T>(pub(crate) Vec<T>, pub(crate) u64);

impl<T> Encode for PgArray<T>
where
    T: for<'a> sqlx::Encode<'a, Postgres>
        + sqlx::Type<Postgres>
        + sqlx::postgres::PgHasArrayType
        + Send
        + Sync,
{
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.mark(0x5043_4152_5241_5900 ^ self.1);
        match &mut out.inner {
            ArgsInner::Pg(a) => a.add(self.0.as_slice()).map_err(bind_err),
            _ => Err(Error::Unsupported(
                "array parameters are bound on PostgreSQL only".into(),
            )),
        }
    }
}

pub(crate) enum ArgsInner<'q> {
    Pg(PgArguments),
    MySql(MySqlArguments),
    Sqlite(Vec<SqliteArg<'q>>),
    /// Rows for PostgreSQL's binary COPY (bulk saves).
    PgCopy(crate::backend::postgres::copy::PgCopyRows),
}

/// The parameters of one statement, encoded for its backend.
///
/// You meet this type only when implementing [`Encode`] for your own type; call
/// the `push_*` method that matches how the value should be stored.
pub struct Arguments<'q> {
    pub(crate) inner: ArgsInner<'q>,
    /// Hash of the parameter types (PostgreSQL prepares statements with fixed types).
    pub(crate) signature: u64,
    pub(crate) untyped_null: bool,
    len: usize,
}

impl std::fmt::Debug for Arguments<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // parameter values may be secrets: show only how many there are
        f.debug_struct("Arguments").field("len", &self.len).finish()
    }
}

fn bind_err(e: sqlx::error::BoxDynError) -> Error {
    Error::invalid_input("parameter", e.to_string())
}

impl<'q> Arguments<'q> {
    /// Empty arguments for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self::with_capacity(dialect, 0)
    }

    /// Empty arguments for `dialect` with room for `n` values.
    pub fn with_capacity(dialect: Dialect, n: usize) -> Self {
        let inner = match dialect {
            Dialect::Postgres => {
                let mut a = PgArguments::default();
                a.reserve(n, n * 8);
                ArgsInner::Pg(a)
            }
            Dialect::MySql => {
                let mut a = MySqlArguments::default();
                a.reserve(n, n * 8);
                ArgsInner::MySql(a)
            }
            Dialect::Sqlite => ArgsInner::Sqlite(Vec::with_capacity(n)),
        };
        Arguments {
            inner,
            signature: 0xcbf29ce484222325,
            untyped_null: false,
            len: 0,
        }
    }

    /// The dialect these arguments are encoded for.
    pub fn dialect(&self) -> Dialect {
        match self.inner {
            ArgsInner::Pg(_) | ArgsInner::PgCopy(_) => Dialect::Postgres,
            ArgsInner::MySql(_) => Dialect::MySql,
            ArgsInner::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Arguments that encode rows for a binary COPY into `columns`.
    pub(crate) fn pg_copy(
        columns: std::sync::Arc<[(String, dal_schema::ColumnType)]>,
        capacity: usize,
    ) -> Self {
        Arguments {
            inner: ArgsInner::PgCopy(crate::backend::postgres::copy::PgCopyRows::new(
                columns, capacity,
            )),
            signature: 0,
            untyped_null: false,
            len: 0,
        }
    }

    /// The COPY data, when these arguments were made by [`Arguments::pg_copy`].
    pub(crate) fn into_copy(self) -> Option<crate::backend::postgres::copy::PgCopyRows> {
        match self.inner {
            ArgsInner::PgCopy(c) => Some(c),
            _ => None,
        }
    }

    /// How many values were pushed.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no value was pushed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn check_float(&self, v: f64) -> Result<()> {
        match crate::checks::float_problem(self.dialect(), v) {
            None => Ok(()),
            Some(reason) => Err(Error::invalid_input("float parameter", reason)),
        }
    }

    fn check_text(&self, v: &str) -> Result<()> {
        if self.dialect() == Dialect::Postgres && v.as_bytes().contains(&0) {
            Err(Error::invalid_input(
                "text parameter",
                crate::checks::PG_NUL_TEXT,
            ))
        } else {
            Ok(())
        }
    }

    #[inline]
    fn mark(&mut self, code: u64) {
        self.len += 1;
        self.signature = (self.signature ^ code).wrapping_mul(0x100000001b3);
    }

    /// Push a NULL whose type the server infers from context.
    pub fn push_null(&mut self) -> Result<()> {
        self.mark(0);
        self.untyped_null = true;
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Null),
            ArgsInner::Pg(a) => a.add(PgUntypedNull).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(None::<&str>).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Null);
                Ok(())
            }
        }
    }

    /// Push a NULL of a known kind (PostgreSQL gets the matching parameter type).
    pub fn push_null_of(&mut self, kind: SqlKind) -> Result<()> {
        self.mark(kind.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Null),
            ArgsInner::Pg(a) => match kind {
                SqlKind::Bool => a.add(None::<bool>),
                SqlKind::SmallInt => a.add(None::<i16>),
                SqlKind::Int => a.add(None::<i32>),
                SqlKind::BigInt => a.add(None::<i64>),
                SqlKind::Float => a.add(None::<f32>),
                SqlKind::Double => a.add(None::<f64>),
                SqlKind::Text => a.add(None::<&str>),
                SqlKind::Bytes => a.add(None::<&[u8]>),
                SqlKind::Date => a.add(None::<NaiveDate>),
                SqlKind::Time => a.add(None::<NaiveTime>),
                SqlKind::Timestamp => a.add(None::<NaiveDateTime>),
                SqlKind::TimestampTz => a.add(None::<DateTime<Utc>>),
                SqlKind::Uuid => a.add(None::<Uuid>),
                SqlKind::Json => a.add(None::<sqlx::types::Json<()>>),
                SqlKind::Decimal => a.add(None::<Decimal>),
            }
            .map_err(bind_err),
            ArgsInner::MySql(a) => match kind {
                SqlKind::Bool => a.add(None::<bool>),
                SqlKind::SmallInt | SqlKind::Int | SqlKind::BigInt => a.add(None::<i64>),
                SqlKind::Float | SqlKind::Double => a.add(None::<f64>),
                SqlKind::Bytes => a.add(None::<&[u8]>),
                SqlKind::Date => a.add(None::<NaiveDate>),
                SqlKind::Time => a.add(None::<NaiveTime>),
                SqlKind::Timestamp | SqlKind::TimestampTz => a.add(None::<NaiveDateTime>),
                SqlKind::Decimal => a.add(None::<Decimal>),
                SqlKind::Text | SqlKind::Uuid | SqlKind::Json => a.add(None::<&str>),
            }
            .map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Null);
                Ok(())
            }
        }
    }

    /// Push a boolean.
    pub fn push_bool(&mut self, v: bool) -> Result<()> {
        self.mark(SqlKind::Bool.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Bool(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Integer(i64::from(v)));
                Ok(())
            }
        }
    }

    /// Push a 16-bit integer (`SMALLINT` on PostgreSQL).
    pub fn push_i16(&mut self, v: i16) -> Result<()> {
        self.mark(SqlKind::SmallInt.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => {
                c.write(crate::backend::postgres::copy::CopyValue::Int(i64::from(v)))
            }
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Integer(i64::from(v)));
                Ok(())
            }
        }
    }

    /// Push a 32-bit integer (`INTEGER` on PostgreSQL).
    pub fn push_i32(&mut self, v: i32) -> Result<()> {
        self.mark(SqlKind::Int.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => {
                c.write(crate::backend::postgres::copy::CopyValue::Int(i64::from(v)))
            }
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Integer(i64::from(v)));
                Ok(())
            }
        }
    }

    /// Push a 64-bit integer (`BIGINT` on PostgreSQL).
    pub fn push_i64(&mut self, v: i64) -> Result<()> {
        self.mark(SqlKind::BigInt.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Int(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Integer(v));
                Ok(())
            }
        }
    }

    /// Push an unsigned 64-bit integer.
    ///
    /// The MySQL family binds it as `BIGINT UNSIGNED`, so every `u64` fits.
    /// PostgreSQL and SQLite have no unsigned 64-bit type: the value is bound as a
    /// `BIGINT`, and one above `i64::MAX` is refused with [`Error::InvalidInput`]
    /// (naming the parameter) instead of being wrapped to a negative number.
    ///
    /// ```
    /// use dal::{Arguments, Dialect, Error};
    ///
    /// let mut mysql = Arguments::new(Dialect::MySql);
    /// mysql.push_u64(u64::MAX)?;
    ///
    /// let mut pg = Arguments::new(Dialect::Postgres);
    /// pg.push_u64(i64::MAX as u64)?;
    /// match pg.push_u64(u64::MAX) {
    ///     Err(Error::InvalidInput { field, reason }) => {
    ///         assert_eq!(field, "parameter 2");
    ///         assert!(reason.contains("9223372036854775807"), "{reason}");
    ///     }
    ///     other => panic!("{other:?}"),
    /// }
    /// # Ok::<(), dal::Error>(())
    /// ```
    pub fn push_u64(&mut self, v: u64) -> Result<()> {
        if let ArgsInner::MySql(a) = &mut self.inner {
            a.add(v).map_err(bind_err)?;
            self.mark(SqlKind::BigInt.code());
            return Ok(());
        }
        match i64::try_from(v) {
            Ok(i) => self.push_i64(i),
            Err(_) => Err(Error::invalid_input(
                format!("parameter {}", self.len + 1),
                u64_above_bigint(v, self.dialect()),
            )),
        }
    }

    /// Push a single-precision float (`REAL` on PostgreSQL).
    ///
    /// A value the backend cannot store and read back unchanged is refused with
    /// [`Error::InvalidInput`] (see the float rules on [`Encode`]).
    pub fn push_f32(&mut self, v: f32) -> Result<()> {
        self.check_float(f64::from(v))?;
        self.mark(SqlKind::Float.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Float(
                f64::from(v),
            )),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Real(f64::from(v)));
                Ok(())
            }
        }
    }

    /// Push a double-precision float.
    ///
    /// A value the backend cannot store and read back unchanged is refused with
    /// [`Error::InvalidInput`] (see the float rules on [`Encode`]).
    pub fn push_f64(&mut self, v: f64) -> Result<()> {
        self.check_float(v)?;
        self.mark(SqlKind::Double.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Float(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Real(v));
                Ok(())
            }
        }
    }

    /// Push text borrowed for the statement's lifetime.
    ///
    /// PostgreSQL's text cannot hold U+0000: text containing `'\0'` is refused
    /// there with [`Error::InvalidInput`] before anything is sent (MySQL, MariaDB
    /// and SQLite store it as it is).
    pub fn push_str(&mut self, v: &'q str) -> Result<()> {
        self.check_text(v)?;
        self.mark(SqlKind::Text.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Str(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Text(Cow::Borrowed(v)));
                Ok(())
            }
        }
    }

    /// Push owned text (NUL characters as in [`Arguments::push_str`]).
    pub fn push_string(&mut self, v: String) -> Result<()> {
        self.check_text(&v)?;
        self.mark(SqlKind::Text.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Str(&v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Text(Cow::Owned(v)));
                Ok(())
            }
        }
    }

    /// Push binary data borrowed for the statement's lifetime.
    pub fn push_bytes(&mut self, v: &'q [u8]) -> Result<()> {
        self.mark(SqlKind::Bytes.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Bytes(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Blob(Cow::Borrowed(v)));
                Ok(())
            }
        }
    }

    /// Push a date.
    pub fn push_date(&mut self, v: NaiveDate) -> Result<()> {
        self.mark(SqlKind::Date.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Date(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Text(Cow::Owned(
                    v.format("%Y-%m-%d").to_string(),
                )));
                Ok(())
            }
        }
    }

    /// Push a time of day.
    pub fn push_time(&mut self, v: NaiveTime) -> Result<()> {
        self.mark(SqlKind::Time.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Time(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Text(Cow::Owned(
                    v.format("%H:%M:%S%.6f").to_string(),
                )));
                Ok(())
            }
        }
    }

    /// Push a date and time without time zone.
    pub fn push_timestamp(&mut self, v: NaiveDateTime) -> Result<()> {
        self.mark(SqlKind::Timestamp.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => {
                c.write(crate::backend::postgres::copy::CopyValue::Timestamp(v))
            }
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Text(Cow::Owned(
                    v.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
                )));
                Ok(())
            }
        }
    }

    /// Push an instant (stored in UTC).
    pub fn push_timestamp_tz(&mut self, v: DateTime<Utc>) -> Result<()> {
        self.mark(SqlKind::TimestampTz.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => {
                c.write(crate::backend::postgres::copy::CopyValue::TimestampTz(v))
            }
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            // DATETIME has no zone: store the UTC wall-clock time
            ArgsInner::MySql(a) => a.add(v.naive_utc()).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Text(Cow::Owned(
                    v.naive_utc()
                        .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
                        .to_string(),
                )));
                Ok(())
            }
        }
    }

    /// Push a UUID.
    pub fn push_uuid(&mut self, v: Uuid) -> Result<()> {
        self.mark(SqlKind::Uuid.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Uuid(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v.hyphenated().to_string()).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                a.push(SqliteArg::Text(Cow::Owned(v.hyphenated().to_string())));
                Ok(())
            }
        }
    }

    /// Push any serde value as JSON.
    ///
    /// Refused with [`Error::InvalidInput`] before anything is sent: a value
    /// nested deeper than [`JSON_MAX_DEPTH`](crate::JSON_MAX_DEPTH) levels, a
    /// NaN or infinite float inside it (JSON has none; serde_json would write
    /// `null`, which does not read back as a float), and on PostgreSQL a string
    /// holding U+0000 (jsonb refuses `\u0000`). Checking never recurses deeper
    /// than the limit, whatever the value's depth.
    pub fn push_json<T: serde::Serialize + ?Sized + Sync>(&mut self, v: &'q T) -> Result<()> {
        let nul_ok = self.dialect() != Dialect::Postgres;
        crate::checks::check_json(v, nul_ok)
            .map_err(|p| Error::invalid_input("json parameter", p.reason()))?;
        self.mark(SqlKind::Json.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => {
                let bytes = crate::checks::pg_json_bytes(v)
                    .map_err(|p| Error::invalid_input("json parameter", p.reason()))?;
                c.write(crate::backend::postgres::copy::CopyValue::Json(bytes))
            }
            ArgsInner::Pg(a) => {
                let bytes = crate::checks::pg_json_bytes(v)
                    .map_err(|p| Error::invalid_input("json parameter", p.reason()))?;
                a.add(PgJsonb(bytes)).map_err(bind_err)
            }
            ArgsInner::MySql(a) => a.add(sqlx::types::Json(v)).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                let s = serde_json::to_string(v)
                    .map_err(|e| Error::invalid_input("json parameter", e.to_string()))?;
                a.push(SqliteArg::Text(Cow::Owned(s)));
                Ok(())
            }
        }
    }

    /// Push an exact decimal.
    ///
    /// SQLite keeps 15 significant digits in a `DECIMAL` column (NUMERIC affinity),
    /// so a decimal with more digits is refused there instead of being rounded.
    pub fn push_decimal(&mut self, v: Decimal) -> Result<()> {
        self.mark(SqlKind::Decimal.code());
        match &mut self.inner {
            ArgsInner::PgCopy(c) => c.write(crate::backend::postgres::copy::CopyValue::Decimal(v)),
            ArgsInner::Pg(a) => a.add(v).map_err(bind_err),
            ArgsInner::MySql(a) => a.add(v).map_err(bind_err),
            ArgsInner::Sqlite(a) => {
                let text = v.normalize().to_string();
                let digits = text.bytes().filter(u8::is_ascii_digit).count();
                let significant = text
                    .trim_start_matches('-')
                    .trim_start_matches(['0', '.'])
                    .bytes()
                    .filter(u8::is_ascii_digit)
                    .count();
                if significant > 15 {
                    return Err(Error::invalid_input(
                        "decimal parameter",
                        format!(
                            "{v} has {significant} significant digits ({digits} in all); SQLite keeps 15 in a DECIMAL column, so it would be rounded. Store it as text if every digit matters"
                        ),
                    ));
                }
                a.push(SqliteArg::Text(Cow::Owned(v.to_string())));
                Ok(())
            }
        }
    }

    /// Push a dynamic [`Value`].
    pub fn push_value(&mut self, v: &'q Value) -> Result<()> {
        match v {
            Value::Null => self.push_null(),
            Value::Bool(b) => self.push_bool(*b),
            Value::Int(i) => self.push_i64(*i),
            Value::Float(f) => self.push_f64(*f),
            Value::Text(s) => self.push_str(s),
            Value::Bytes(b) => self.push_bytes(b),
            Value::Date(d) => self.push_date(*d),
            Value::Time(t) => self.push_time(*t),
            Value::Timestamp(t) => self.push_timestamp(*t),
            Value::TimestampTz(t) => self.push_timestamp_tz(*t),
            Value::Uuid(u) => self.push_uuid(*u),
            Value::Json(j) => self.push_json(j),
            Value::Decimal(d) => self.push_decimal(*d),
        }
    }
}

/// Why a `u64` cannot be bound on a dialect without unsigned 64-bit integers.
fn u64_above_bigint(v: u64, dialect: Dialect) -> String {
    format!(
        "{v} is above {max} (i64::MAX), the largest value a {dialect} BIGINT holds; \
         dal stores u64 values up to i64::MAX there (only MySQL/MariaDB have BIGINT UNSIGNED)",
        max = i64::MAX,
    )
}

/// JSON text bound as a PostgreSQL `jsonb` parameter (binary form: a version
/// byte, then the text).
struct PgJsonb(Vec<u8>);

impl sqlx::Type<Postgres> for PgJsonb {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(pg_oid::JSONB))
    }
}

impl sqlx::Encode<'_, Postgres> for PgJsonb {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        buf.push(1);
        buf.extend_from_slice(&self.0);
        Ok(sqlx::encode::IsNull::No)
    }
}

/// PostgreSQL NULL with type OID 0: the server infers the type from context.
struct PgUntypedNull;

impl sqlx::Type<Postgres> for PgUntypedNull {
    fn type_info() -> PgTypeInfo {
        PgTypeInfo::with_oid(sqlx::postgres::types::Oid(0))
    }
}

impl sqlx::Encode<'_, Postgres> for PgUntypedNull {
    fn encode_by_ref(
        &self,
        _buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> std::result::Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        Ok(sqlx::encode::IsNull::Yes)
    }
}

/// A value that can be bound as a statement parameter.
///
/// # What each backend stores faithfully
///
/// A value a backend cannot store and read back unchanged is refused with
/// [`Error::InvalidInput`] when it is encoded, before anything is sent:
///
/// | value | PostgreSQL | SQLite | MySQL / MariaDB |
/// |---|---|---|---|
/// | float NaN (`f32`, `f64`) | stored | refused (SQLite stores NULL) | refused (out of range) |
/// | float `+inf` / `-inf` | stored | stored | refused (out of range) |
/// | float `-0.0` | stored | refused (reads back as `0.0`) | refused (reads back as `0.0`) |
/// | text with U+0000 | refused (text cannot hold it) | stored | stored |
/// | JSON deeper than [`JSON_MAX_DEPTH`](crate::JSON_MAX_DEPTH) | refused | refused | refused |
/// | JSON holding NaN or infinity | refused | refused | refused |
/// | JSON string holding U+0000 | refused (jsonb cannot hold it) | stored | stored |
///
/// These apply to every way a value is bound: plain parameters, [`Value`]s,
/// entity fields and dynamic entities' values. (Inside JSON documents numbers
/// are JSON numbers: PostgreSQL's jsonb keeps `-0.0` as `0.0`, which is the same
/// JSON number.)
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// db.execute("CREATE TABLE [m] ([x] DOUBLE PRECISION)", ()).await?;
/// db.execute("INSERT INTO [m] ([x]) VALUES (?)", (f64::INFINITY,)).await?;
/// let err = db.execute("INSERT INTO [m] ([x]) VALUES (?)", (f64::NAN,)).await.unwrap_err();
/// assert!(matches!(err, dal::Error::InvalidInput { .. }));
/// assert_eq!(db.fetch_all_as::<(f64,), _>("SELECT [x] FROM [m]", ()).await?, vec![(f64::INFINITY,)]);
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub trait Encode: Send + Sync {
    /// Push this value onto `out`.
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()>;

    /// Push a NULL of this type (used for `Option::<Self>::None`).
    fn encode_null(out: &mut Arguments<'_>) -> Result<()>
    where
        Self: Sized,
    {
        out.push_null()
    }
}

impl<T: Encode + ?Sized> Encode for &T {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        (**self).encode(out)
    }
}

impl<T: Encode + ?Sized> Encode for std::sync::Arc<T> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        (**self).encode(out)
    }
}

impl<T: Encode + ?Sized> Encode for Box<T> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        (**self).encode(out)
    }
}

impl<T: Encode> Encode for Option<T> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        match self {
            Some(v) => v.encode(out),
            None => T::encode_null(out),
        }
    }
}

// Each Rust integer is sent with the narrowest PostgreSQL type that holds it, as
// sqlx does, so functions taking `integer` (`left(text, int)`, `date + int`) accept it.
macro_rules! encode_int {
    ($($t:ty => $push:ident($wide:ty), $kind:ident);* $(;)?) => {$(
        impl Encode for $t {
            fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
                out.$push(<$wide>::from(*self))
            }
            fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
                out.push_null_of(SqlKind::$kind)
            }
        }
    )*};
}
encode_int! {
    i8 => push_i16(i16), SmallInt;
    u8 => push_i16(i16), SmallInt;
    i16 => push_i16(i16), SmallInt;
    u16 => push_i32(i32), Int;
    i32 => push_i32(i32), Int;
    u32 => push_i64(i64), BigInt;
    i64 => push_i64(i64), BigInt;
}

impl Encode for u64 {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_u64(*self)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::BigInt)
    }
}

impl Encode for usize {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        match u64::try_from(*self) {
            Ok(v) => out.push_u64(v),
            Err(_) => Err(Error::invalid_input(
                format!("parameter {}", out.len() + 1),
                format!("{self} does not fit a 64-bit integer"),
            )),
        }
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::BigInt)
    }
}

impl Encode for isize {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        match i64::try_from(*self) {
            Ok(v) => out.push_i64(v),
            Err(_) => Err(Error::invalid_input(
                format!("parameter {}", out.len() + 1),
                format!("{self} does not fit a 64-bit integer"),
            )),
        }
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::BigInt)
    }
}

impl Encode for bool {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_bool(*self)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::Bool)
    }
}

/// See the float rules on [`Encode`]: NaN, infinities and `-0.0` are refused
/// where the backend cannot store them unchanged.
impl Encode for f32 {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_f32(*self)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::Float)
    }
}

/// See the float rules on [`Encode`]: NaN, infinities and `-0.0` are refused
/// where the backend cannot store them unchanged.
impl Encode for f64 {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_f64(*self)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::Double)
    }
}

impl Encode for str {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_str(self)
    }
}

impl Encode for String {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_str(self)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::Text)
    }
}

impl Encode for Cow<'_, str> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_str(self)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::Text)
    }
}

impl Encode for [u8] {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_bytes(self)
    }
}

impl Encode for Vec<u8> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_bytes(self)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::Bytes)
    }
}

macro_rules! encode_copy {
    ($t:ty, $push:ident, $kind:ident) => {
        impl Encode for $t {
            fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
                out.$push(*self)
            }
            fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
                out.push_null_of(SqlKind::$kind)
            }
        }
    };
}
encode_copy!(NaiveDate, push_date, Date);
encode_copy!(NaiveTime, push_time, Time);
encode_copy!(NaiveDateTime, push_timestamp, Timestamp);
encode_copy!(DateTime<Utc>, push_timestamp_tz, TimestampTz);
encode_copy!(Uuid, push_uuid, Uuid);
encode_copy!(Decimal, push_decimal, Decimal);

impl Encode for serde_json::Value {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_json(self)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::Json)
    }
}

impl<T: serde::Serialize + Send + Sync> Encode for Json<T> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_json(&self.0)
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_of(SqlKind::Json)
    }
}

impl Encode for Value {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        out.push_value(self)
    }
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

#[derive(Clone)]
pub(crate) enum ValueInner<'r> {
    Pg(PgValueRef<'r>),
    MySql(MySqlValueRef<'r>),
    Sqlite(rusqlite::types::ValueRef<'r>),
}

/// A borrowed column value of a row, handed to [`Decode::decode`].
#[derive(Clone)]
pub struct ValueRef<'r> {
    pub(crate) inner: ValueInner<'r>,
}

impl std::fmt::Debug for ValueRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueRef")
            .field("type", &self.type_name())
            .field("null", &self.is_null())
            .finish()
    }
}

/// The broad family of a column's type, used to pick a conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Null,
    Bool,
    Int,
    Float,
    Decimal,
    Text,
    Bytes,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
    Other,
}

mod pg_oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const UNKNOWN: u32 = 705;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
}

impl<'r> ValueRef<'r> {
    /// True when the value is SQL NULL.
    pub fn is_null(&self) -> bool {
        match &self.inner {
            ValueInner::Pg(v) => v.is_null(),
            ValueInner::MySql(v) => v.is_null(),
            ValueInner::Sqlite(v) => matches!(v, rusqlite::types::ValueRef::Null),
        }
    }

    /// The server's name for the value's type (`INT8`, `VARCHAR`, `integer`, ...).
    pub fn type_name(&self) -> String {
        match &self.inner {
            ValueInner::Pg(v) => v.type_info().name().to_string(),
            ValueInner::MySql(v) => v.type_info().name().to_string(),
            ValueInner::Sqlite(v) => match v {
                rusqlite::types::ValueRef::Null => "null",
                rusqlite::types::ValueRef::Integer(_) => "integer",
                rusqlite::types::ValueRef::Real(_) => "real",
                rusqlite::types::ValueRef::Text(_) => "text",
                rusqlite::types::ValueRef::Blob(_) => "blob",
            }
            .to_string(),
        }
    }

    /// The dialect the value came from.
    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            ValueInner::Pg(_) => Dialect::Postgres,
            ValueInner::MySql(_) => Dialect::MySql,
            ValueInner::Sqlite(_) => Dialect::Sqlite,
        }
    }

    pub(crate) fn family(&self) -> Family {
        if self.is_null() {
            return Family::Null;
        }
        match &self.inner {
            ValueInner::Pg(v) => {
                let oid = v.type_info().oid().map(|o| o.0).unwrap_or(0);
                use pg_oid::*;
                match oid {
                    BOOL => Family::Bool,
                    INT2 | INT4 | INT8 | OID => Family::Int,
                    FLOAT4 | FLOAT8 => Family::Float,
                    NUMERIC => Family::Decimal,
                    TEXT | VARCHAR | BPCHAR | NAME | CHAR | UNKNOWN => Family::Text,
                    BYTEA => Family::Bytes,
                    DATE => Family::Date,
                    TIME => Family::Time,
                    TIMESTAMP => Family::Timestamp,
                    TIMESTAMPTZ => Family::TimestampTz,
                    UUID => Family::Uuid,
                    JSON | JSONB => Family::Json,
                    _ => Family::Other,
                }
            }
            ValueInner::MySql(v) => {
                let info = v.type_info();
                match mysql_family(info.name()) {
                    // a `_bin` collation (dal's default, `utf8mb4_bin`) sets the
                    // column's BINARY flag, and sqlx names such a text column
                    // `VARBINARY` / `BLOB`: its collation (not `binary`) says text
                    Family::Bytes if <str as sqlx::Type<sqlx::MySql>>::compatible(&info) => {
                        Family::Text
                    }
                    f => f,
                }
            }
            ValueInner::Sqlite(v) => match v {
                rusqlite::types::ValueRef::Null => Family::Null,
                rusqlite::types::ValueRef::Integer(_) => Family::Int,
                rusqlite::types::ValueRef::Real(_) => Family::Float,
                rusqlite::types::ValueRef::Text(_) => Family::Text,
                rusqlite::types::ValueRef::Blob(_) => Family::Bytes,
            },
        }
    }

    fn mismatch<T>(&self, want: &str) -> Result<T> {
        Err(Error::decode(
            "",
            format!("cannot read a {} value as {want}", self.type_name()),
        ))
    }

    fn null_error<T>(&self, want: &str) -> Result<T> {
        Err(Error::decode(
            "",
            format!("unexpected NULL (read it as Option<{want}>)"),
        ))
    }

    /// The value as text when the column holds text (any dialect).
    fn text(&self) -> Result<&'r str> {
        match &self.inner {
            ValueInner::Pg(v) => v.as_str().map_err(|e| Error::decode("", e.to_string())),
            ValueInner::MySql(v) => <&str as sqlx::Decode<MySql>>::decode(v.clone())
                .map_err(|e| Error::decode("", e.to_string())),
            ValueInner::Sqlite(v) => match v {
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t)
                    .map_err(|e| Error::decode("", format!("invalid UTF-8: {e}"))),
                _ => self.mismatch("text"),
            },
        }
    }

    fn bytes(&self) -> Result<&'r [u8]> {
        match &self.inner {
            ValueInner::Pg(v) => v.as_bytes().map_err(|e| Error::decode("", e.to_string())),
            ValueInner::MySql(v) => <&[u8] as sqlx::Decode<MySql>>::decode(v.clone())
                .map_err(|e| Error::decode("", e.to_string())),
            ValueInner::Sqlite(v) => match v {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => Ok(t),
                _ => self.mismatch("bytes"),
            },
        }
    }

    fn i64(&self) -> Result<i64> {
        match &self.inner {
            ValueInner::Pg(v) => {
                let oid = v.type_info().oid().map(|o| o.0).unwrap_or(0);
                match oid {
                    pg_oid::INT2 => pg_dec::<i16>(v).map(i64::from),
                    pg_oid::INT4 => pg_dec::<i32>(v).map(i64::from),
                    pg_oid::INT8 => pg_dec::<i64>(v),
                    pg_oid::OID => pg_dec::<sqlx::postgres::types::Oid>(v).map(|o| i64::from(o.0)),
                    pg_oid::NUMERIC => decimal_to_i64(pg_dec::<Decimal>(v)?),
                    pg_oid::BOOL => pg_dec::<bool>(v).map(i64::from),
                    _ => self.mismatch("an integer"),
                }
            }
            ValueInner::MySql(v) => {
                let ti = v.type_info();
                let name = ti.name();
                match mysql_family(name) {
                    Family::Int if name.ends_with("UNSIGNED") => {
                        let u = my_dec::<u64>(v)?;
                        i64::try_from(u).map_err(|_| {
                            Error::decode("", format!("{u} does not fit a signed 64-bit integer"))
                        })
                    }
                    Family::Int | Family::Bool => my_dec::<i64>(v),
                    Family::Decimal => decimal_to_i64(my_dec::<Decimal>(v)?),
                    _ => self.mismatch("an integer"),
                }
            }
            ValueInner::Sqlite(v) => match v {
                rusqlite::types::ValueRef::Integer(i) => Ok(*i),
                rusqlite::types::ValueRef::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => {
                    Ok(*f as i64)
                }
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t)
                    .ok()
                    .and_then(|s| s.trim().parse::<i64>().ok())
                    .map_or_else(|| self.mismatch("an integer"), Ok),
                _ => self.mismatch("an integer"),
            },
        }
    }

    /// The value as an integer wide enough for every `i64` and every `u64` (a
    /// MySQL `BIGINT UNSIGNED`, a whole `NUMERIC`/`DECIMAL`).
    fn i128(&self) -> Result<i128> {
        match &self.inner {
            ValueInner::Sqlite(rusqlite::types::ValueRef::Integer(i)) => Ok(i128::from(*i)),
            ValueInner::Pg(v) if v.type_info().oid().map(|o| o.0) == Some(pg_oid::NUMERIC) => {
                decimal_to_i128(pg_dec::<Decimal>(v)?)
            }
            ValueInner::MySql(v) => {
                let ti = v.type_info();
                let name = ti.name();
                match mysql_family(name) {
                    Family::Int if name.ends_with("UNSIGNED") => my_dec::<u64>(v).map(i128::from),
                    Family::Int | Family::Bool => my_dec::<i64>(v).map(i128::from),
                    Family::Decimal => decimal_to_i128(my_dec::<Decimal>(v)?),
                    _ => self.mismatch("an integer"),
                }
            }
            _ => self.i64().map(i128::from),
        }
    }

    fn f64(&self) -> Result<f64> {
        match &self.inner {
            ValueInner::Pg(v) => {
                let oid = v.type_info().oid().map(|o| o.0).unwrap_or(0);
                match oid {
                    pg_oid::FLOAT4 => pg_dec::<f32>(v).map(f64::from),
                    pg_oid::FLOAT8 => pg_dec::<f64>(v),
                    pg_oid::NUMERIC => {
                        use rust_decimal::prelude::ToPrimitive;
                        pg_dec::<Decimal>(v)?
                            .to_f64()
                            .map_or_else(|| self.mismatch("a float"), Ok)
                    }
                    pg_oid::INT2 | pg_oid::INT4 | pg_oid::INT8 => self.i64().map(|i| i as f64),
                    _ => self.mismatch("a float"),
                }
            }
            ValueInner::MySql(v) => match self.family() {
                Family::Float => {
                    if v.type_info().name() == "FLOAT" {
                        my_dec::<f32>(v).map(f64::from)
                    } else {
                        my_dec::<f64>(v)
                    }
                }
                Family::Decimal => {
                    use rust_decimal::prelude::ToPrimitive;
                    my_dec::<Decimal>(v)?
                        .to_f64()
                        .map_or_else(|| self.mismatch("a float"), Ok)
                }
                Family::Int => self.i64().map(|i| i as f64),
                _ => self.mismatch("a float"),
            },
            ValueInner::Sqlite(v) => match v {
                rusqlite::types::ValueRef::Real(f) => Ok(*f),
                rusqlite::types::ValueRef::Integer(i) => Ok(*i as f64),
                rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
                    .map_or_else(|| self.mismatch("a float"), Ok),
                _ => self.mismatch("a float"),
            },
        }
    }
}

/// Whether a MySQL integer column is unsigned (`BIGINT UNSIGNED`, ...).
/// The family of a MySQL type, by the name sqlx gives it (sqlx keeps the
/// type code private). Integers, the common case, are told apart first by
/// their last bytes; the rest by their first byte, then the whole name.
fn mysql_family(name: &str) -> Family {
    let b = name.as_bytes();
    if b.ends_with(b"INT") || b.ends_with(b"INT UNSIGNED") {
        return Family::Int;
    }
    match (b.first(), name) {
        (Some(b'V'), "VARCHAR") | (Some(b'C'), "CHAR") => Family::Text,
        (Some(b'V'), "VARBINARY") => Family::Bytes,
        (Some(b'D'), "DOUBLE") | (Some(b'F'), "FLOAT") => Family::Float,
        (Some(b'D'), "DECIMAL") => Family::Decimal,
        (Some(b'D'), "DATETIME") | (Some(b'T'), "TIMESTAMP") => Family::Timestamp,
        (Some(b'D'), "DATE") => Family::Date,
        (Some(b'T'), "TIME") => Family::Time,
        (Some(b'B'), "BOOLEAN") => Family::Bool,
        (Some(b'J'), "JSON") => Family::Json,
        (Some(b'T'), "TEXT" | "TINYTEXT")
        | (Some(b'M'), "MEDIUMTEXT")
        | (Some(b'L'), "LONGTEXT")
        | (Some(b'E'), "ENUM")
        | (Some(b'S'), "SET") => Family::Text,
        (Some(b'B'), "BINARY" | "BLOB")
        | (Some(b'T'), "TINYBLOB")
        | (Some(b'M'), "MEDIUMBLOB")
        | (Some(b'L'), "LONGBLOB") => Family::Bytes,
        (Some(b'Y'), "YEAR") => Family::Int,
        (Some(b'N'), "NULL") => Family::Null,
        _ => Family::Other,
    }
}

fn pg_dec<'r, T: sqlx::Decode<'r, Postgres>>(v: &PgValueRef<'r>) -> Result<T> {
    T::decode(v.clone()).map_err(|e| Error::decode("", e.to_string()))
}

fn my_dec<'r, T: sqlx::Decode<'r, MySql>>(v: &MySqlValueRef<'r>) -> Result<T> {
    T::decode(v.clone()).map_err(|e| Error::decode("", e.to_string()))
}

fn decimal_to_i64(d: Decimal) -> Result<i64> {
    use rust_decimal::prelude::ToPrimitive;
    if d.fract().is_zero() {
        d.to_i64()
            .ok_or_else(|| Error::decode("", format!("{d} does not fit a 64-bit integer")))
    } else {
        Err(Error::decode("", format!("{d} is not a whole number")))
    }
}

fn decimal_to_i128(d: Decimal) -> Result<i128> {
    use rust_decimal::prelude::ToPrimitive;
    if d.fract().is_zero() {
        d.to_i128()
            .ok_or_else(|| Error::decode("", format!("{d} is not an integer")))
    } else {
        Err(Error::decode("", format!("{d} is not a whole number")))
    }
}

/// PostgreSQL `int8[]` (ids reserved by a bulk save, in one value instead of
/// one row each).
pub(crate) struct PgIds(pub(crate) Vec<i64>);

impl Decode for PgIds {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match &value.inner {
            ValueInner::Pg(v) => pg_dec::<Vec<i64>>(v).map(PgIds),
            _ => Err(Error::decode("", "a bigint[] is a PostgreSQL value")),
        }
    }
}

/// A type that can be read from a column.
pub trait Decode: Sized {
    /// Convert the column value. A NULL is an error unless the type is an `Option`.
    fn decode(value: ValueRef<'_>) -> Result<Self>;
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        if value.is_null() {
            Ok(None)
        } else {
            T::decode(value).map(Some)
        }
    }
}

// Read through `i128`, which holds every `i64` and every `u64`, so a value out of
// the field's range (a negative number for a `u64`, a MySQL `BIGINT UNSIGNED`
// above `i64::MAX` for an `i64`) is an error naming the range, never a wrap.
macro_rules! decode_int {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode(value: ValueRef<'_>) -> Result<Self> {
                if value.is_null() { return value.null_error(stringify!($t)); }
                let v = value.i128()?;
                <$t>::try_from(v).map_err(|_| Error::decode("", format!(
                    "{v} is out of range for {} ({}..={})",
                    stringify!($t), <$t>::MIN, <$t>::MAX,
                )))
            }
        }
    )*};
}
decode_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Decode for bool {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match value.family() {
            Family::Null => value.null_error("bool"),
            Family::Bool => match &value.inner {
                ValueInner::Pg(v) => pg_dec::<bool>(v),
                ValueInner::MySql(v) => my_dec::<i64>(v).map(|i| i != 0),
                ValueInner::Sqlite(_) => value.i64().map(|i| i != 0),
            },
            Family::Int => value.i64().map(|i| i != 0),
            Family::Text if value.dialect() == Dialect::Sqlite => {
                match value.text()?.to_ascii_lowercase().as_str() {
                    "true" | "t" | "1" => Ok(true),
                    "false" | "f" | "0" => Ok(false),
                    _ => value.mismatch("bool"),
                }
            }
            _ => value.mismatch("bool"),
        }
    }
}

impl Decode for f64 {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        if value.is_null() {
            return value.null_error("f64");
        }
        value.f64()
    }
}

impl Decode for f32 {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        if value.is_null() {
            return value.null_error("f32");
        }
        value.f64().map(|f| f as f32)
    }
}

impl Decode for String {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match value.family() {
            Family::Null => value.null_error("String"),
            Family::Text | Family::Other => value.text().map(str::to_string),
            Family::Json => match &value.inner {
                ValueInner::Pg(_) => serde_json::Value::decode(value).map(|j| j.to_string()),
                _ => value.text().map(str::to_string),
            },
            Family::Uuid => Uuid::decode(value).map(|u| u.to_string()),
            Family::Decimal => Decimal::decode(value).map(|d| d.to_string()),
            // SQLite's NUMERIC affinity may have turned a numeric-looking string into a number
            Family::Int if value.dialect() == Dialect::Sqlite => value.i64().map(|i| i.to_string()),
            Family::Float if value.dialect() == Dialect::Sqlite => {
                value.f64().map(|f| f.to_string())
            }
            _ => value.mismatch("String"),
        }
    }
}

impl Decode for Vec<u8> {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match value.family() {
            Family::Null => value.null_error("Vec<u8>"),
            Family::Bytes | Family::Text => value.bytes().map(<[u8]>::to_vec),
            _ => value.mismatch("Vec<u8>"),
        }
    }
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() >= 10
        && b[4] == b'-'
        && b[7] == b'-'
        && let (Some(y), Some(m), Some(d)) = (digits(b, 0, 4), digits(b, 5, 7), digits(b, 8, 10))
    {
        return NaiveDate::from_ymd_opt(y as i32, m, d);
    }
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M"))
        .ok()
}

/// Digits `s[from..to]` as a number.
fn digits(b: &[u8], from: usize, to: usize) -> Option<u32> {
    let mut n = 0u32;
    for &c in b.get(from..to)? {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

/// The form dal writes (`YYYY-MM-DD HH:MM:SS[.ffffff][+00:00|Z]`, `T` accepted
/// for the space), parsed without a format string: large SQLite reads spend most
/// of their time here otherwise.
fn parse_datetime_fast(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b' ' | b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let date =
        NaiveDate::from_ymd_opt(digits(b, 0, 4)? as i32, digits(b, 5, 7)?, digits(b, 8, 10)?)?;
    let (h, m, sec) = (digits(b, 11, 13)?, digits(b, 14, 16)?, digits(b, 17, 19)?);
    let mut i = 19;
    let mut micros = 0u32;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while end < b.len() && b[end].is_ascii_digit() {
            end += 1;
        }
        let frac = &b[start..end];
        if frac.is_empty() || frac.len() > 9 {
            return None;
        }
        let mut nanos = digits(b, start, end)?;
        for _ in frac.len()..9 {
            nanos *= 10;
        }
        micros = nanos / 1000;
        i = end;
    }
    match &b[i..] {
        [] | b"Z" | b"+00:00" | b"+0000" | b"+00" => {}
        _ => return None, // another offset: the general parser converts it
    }
    date.and_hms_micro_opt(h, m, sec, micros)
}

/// Parse the text forms SQLite may hold: `YYYY-MM-DD[ T]HH:MM[:SS[.f]][Z|±HH:MM]`
/// or a bare date. Returns the UTC wall-clock time when an offset is present.
fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    if let Some(dt) = parse_datetime_fast(s) {
        return Some(dt);
    }
    if s.len() == 10 {
        return parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.naive_utc());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
    ] {
        if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
            return Some(dt.naive_utc());
        }
    }
    let s = s.trim_end_matches('Z');
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(dt);
        }
    }
    None
}

impl Decode for NaiveDate {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match (value.family(), &value.inner) {
            (Family::Null, _) => value.null_error("NaiveDate"),
            (Family::Date, ValueInner::Pg(v)) => pg_dec(v),
            (Family::Date, ValueInner::MySql(v)) => my_dec(v),
            (Family::Text, _) => {
                parse_date(value.text()?).map_or_else(|| value.mismatch("a date (YYYY-MM-DD)"), Ok)
            }
            (Family::Timestamp | Family::TimestampTz, _) => {
                NaiveDateTime::decode(value).map(|d| d.date())
            }
            _ => value.mismatch("NaiveDate"),
        }
    }
}

impl Decode for NaiveTime {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match (value.family(), &value.inner) {
            (Family::Null, _) => value.null_error("NaiveTime"),
            (Family::Time, ValueInner::Pg(v)) => pg_dec(v),
            (Family::Time, ValueInner::MySql(v)) => my_dec(v),
            (Family::Text, _) => {
                parse_time(value.text()?).map_or_else(|| value.mismatch("a time (HH:MM:SS)"), Ok)
            }
            _ => value.mismatch("NaiveTime"),
        }
    }
}

impl Decode for NaiveDateTime {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match (value.family(), &value.inner) {
            (Family::Null, _) => value.null_error("NaiveDateTime"),
            (Family::Timestamp, ValueInner::Pg(v)) => pg_dec(v),
            (Family::TimestampTz, ValueInner::Pg(v)) => {
                pg_dec::<DateTime<Utc>>(v).map(|d| d.naive_utc())
            }
            (Family::Timestamp, ValueInner::MySql(v)) => my_dec(v),
            (Family::Date, _) => {
                NaiveDate::decode(value).map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
            }
            (Family::Text, _) => parse_datetime(value.text()?)
                .map_or_else(|| value.mismatch("a timestamp (YYYY-MM-DD HH:MM:SS)"), Ok),
            (Family::Int, ValueInner::Sqlite(_)) => {
                let secs = value.i64()?;
                DateTime::from_timestamp(secs, 0)
                    .map(|d| d.naive_utc())
                    .map_or_else(|| value.mismatch("a unix timestamp"), Ok)
            }
            _ => value.mismatch("NaiveDateTime"),
        }
    }
}

impl Decode for DateTime<Utc> {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match (value.family(), &value.inner) {
            (Family::Null, _) => value.null_error("DateTime<Utc>"),
            (Family::TimestampTz, ValueInner::Pg(v)) => pg_dec(v),
            // a zone-less timestamp is taken to be UTC (that is how dal writes them)
            _ => NaiveDateTime::decode(value).map(|n| n.and_utc()),
        }
    }
}

impl Decode for Uuid {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match (value.family(), &value.inner) {
            (Family::Null, _) => value.null_error("Uuid"),
            (Family::Uuid, ValueInner::Pg(v)) => pg_dec(v),
            (Family::Text, _) => Uuid::parse_str(value.text()?.trim())
                .map_err(|e| Error::decode("", format!("invalid UUID: {e}"))),
            (Family::Bytes, _) => Uuid::from_slice(value.bytes()?)
                .map_err(|e| Error::decode("", format!("invalid UUID: {e}"))),
            _ => value.mismatch("Uuid"),
        }
    }
}

impl Decode for Decimal {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match (value.family(), &value.inner) {
            (Family::Null, _) => value.null_error("Decimal"),
            (Family::Decimal, ValueInner::Pg(v)) => pg_dec(v),
            (Family::Decimal, ValueInner::MySql(v)) => my_dec(v),
            (Family::Int, _) => value.i128().and_then(|i| {
                Decimal::try_from_i128_with_scale(i, 0)
                    .map_err(|e| Error::decode("", format!("{i} is not a decimal: {e}")))
            }),
            (Family::Float, _) => {
                let f = value.f64()?;
                // the shortest text that reads back as the same double
                f.to_string()
                    .parse::<Decimal>()
                    .or_else(|_| Decimal::try_from(f))
                    .map_err(|e| Error::decode("", format!("{f} is not a decimal: {e}")))
            }
            (Family::Text, _) => {
                let s = value.text()?.trim();
                s.parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(s))
                    .map_err(|e| Error::decode("", format!("invalid decimal {s:?}: {e}")))
            }
            _ => value.mismatch("Decimal"),
        }
    }
}

fn json_bytes<'r>(value: &ValueRef<'r>) -> Result<&'r [u8]> {
    match &value.inner {
        ValueInner::Pg(v) => {
            let bytes = v.as_bytes().map_err(|e| Error::decode("", e.to_string()))?;
            let is_jsonb = v.type_info().oid().map(|o| o.0) == Some(pg_oid::JSONB);
            if is_jsonb && v.format() == PgValueFormat::Binary {
                // binary JSONB starts with a version byte
                match bytes.split_first() {
                    Some((1, rest)) => Ok(rest),
                    _ => Err(Error::decode("", "unsupported JSONB version")),
                }
            } else {
                Ok(bytes)
            }
        }
        _ => value.bytes(),
    }
}

impl Decode for serde_json::Value {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match value.family() {
            Family::Null => value.null_error("serde_json::Value"),
            Family::Json | Family::Text | Family::Bytes => {
                serde_json::from_slice(json_bytes(&value)?)
                    .map_err(|e| Error::decode("", format!("invalid JSON: {e}")))
            }
            // SQLite's NUMERIC affinity stores a top-level JSON number as a number
            Family::Int => value.i64().map(serde_json::Value::from),
            Family::Float => Ok(serde_json::Number::from_f64(value.f64()?)
                .map_or(serde_json::Value::Null, serde_json::Value::Number)),
            _ => value.mismatch("JSON"),
        }
    }
}

impl<T: serde::de::DeserializeOwned> Decode for Json<T> {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match value.family() {
            Family::Null => value.null_error("Json<T>"),
            Family::Json | Family::Text | Family::Bytes => {
                serde_json::from_slice(json_bytes(&value)?)
                    .map(Json)
                    .map_err(|e| Error::decode("", format!("invalid JSON: {e}")))
            }
            _ => {
                let v = serde_json::Value::decode(value)?;
                serde_json::from_value(v)
                    .map(Json)
                    .map_err(|e| Error::decode("", format!("invalid JSON: {e}")))
            }
        }
    }
}

impl Decode for Value {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        Ok(match value.family() {
            Family::Null => Value::Null,
            Family::Bool => Value::Bool(bool::decode(value)?),
            // a MySQL `BIGINT UNSIGNED` above i64::MAX stays exact as a decimal
            Family::Int => {
                let i = value.i128()?;
                match i64::try_from(i) {
                    Ok(v) => Value::Int(v),
                    Err(_) => Value::Decimal(
                        Decimal::try_from_i128_with_scale(i, 0)
                            .map_err(|e| Error::decode("", format!("{i} is not a decimal: {e}")))?,
                    ),
                }
            }
            Family::Float => Value::Float(value.f64()?),
            Family::Decimal => Value::Decimal(Decimal::decode(value)?),
            Family::Text | Family::Other => Value::Text(value.text()?.to_string()),
            Family::Bytes => Value::Bytes(value.bytes()?.to_vec()),
            Family::Date => Value::Date(NaiveDate::decode(value)?),
            Family::Time => Value::Time(NaiveTime::decode(value)?),
            Family::Timestamp => Value::Timestamp(NaiveDateTime::decode(value)?),
            Family::TimestampTz => Value::TimestampTz(DateTime::<Utc>::decode(value)?),
            Family::Uuid => Value::Uuid(Uuid::decode(value)?),
            Family::Json => Value::Json(serde_json::Value::decode(value)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    #[test]
    fn sqlite_text_datetimes_parse() {
        let cases = [
            ("2024-01-31 10:20:30", "2024-01-31T10:20:30"),
            ("2024-01-31 10:20:30.123456", "2024-01-31T10:20:30.123456"),
            ("2024-01-31T10:20:30Z", "2024-01-31T10:20:30"),
            ("2024-01-31 12:20:30.5+02:00", "2024-01-31T10:20:30.500"),
            ("2024-01-31", "2024-01-31T00:00:00"),
        ];
        for (input, want) in cases {
            let got = parse_datetime(input).unwrap_or_else(|| panic!("{input}"));
            assert_eq!(
                got.format("%Y-%m-%dT%H:%M:%S%.f")
                    .to_string()
                    .trim_end_matches('0'),
                want.trim_end_matches('0'),
                "{input}"
            );
        }
        assert!(parse_datetime("not a date").is_none());
    }

    #[test]
    fn fast_datetime_parser_agrees_with_chrono() {
        for s in [
            "2024-01-31 10:20:30",
            "2024-01-31 10:20:30.5",
            "2024-01-31T10:20:30.123456",
            "2024-01-31 10:20:30.123456789",
            "1970-01-01 00:00:00.000000+00:00",
            "9999-12-31 23:59:59.999999Z",
        ] {
            let fast = parse_datetime_fast(s).unwrap_or_else(|| panic!("{s}"));
            let slow = NaiveDateTime::parse_from_str(
                s.trim_end_matches("+00:00")
                    .trim_end_matches('Z')
                    .replace('T', " ")
                    .as_str(),
                "%Y-%m-%d %H:%M:%S%.f",
            )
            .unwrap();
            assert_eq!(
                fast,
                slow.with_nanosecond(slow.nanosecond() / 1000 * 1000)
                    .unwrap(),
                "{s}"
            );
        }
        for bad in [
            "2024-13-01 00:00:00",
            "2024-01-31 25:00:00",
            "2024-01-31 10:20:30+02:00",
            "2024/01/31 10:20:30",
            "2024-01-31 10:20:30.",
        ] {
            assert!(parse_datetime_fast(bad).is_none(), "{bad}");
        }
        // offsets other than UTC still parse through the general path
        assert_eq!(
            parse_datetime("2024-01-31 12:20:30+02:00").unwrap(),
            parse_datetime("2024-01-31 10:20:30").unwrap()
        );
    }

    #[test]
    fn sqlite_decimal_guard() {
        let mut a = Arguments::new(Dialect::Sqlite);
        assert!(a.push_decimal("12345678901234.5".parse().unwrap()).is_ok());
        let err = a
            .push_decimal("1234567890123456.78".parse().unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("15"), "{err}");
    }

    #[test]
    fn signatures_follow_parameter_types() {
        let sig = |f: &dyn Fn(&mut Arguments<'_>)| {
            let mut a = Arguments::new(Dialect::Postgres);
            f(&mut a);
            a.signature
        };
        let a = sig(&|a| 1i32.encode(a).unwrap());
        let b = sig(&|a| 1i64.encode(a).unwrap());
        let c = sig(&|a| 1.0f64.encode(a).unwrap());
        let d = sig(&|a| None::<i64>.encode(a).unwrap());
        let e = sig(&|a| 7i64.encode(a).unwrap());
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_eq!(b, d);
        assert_eq!(b, e);
    }
}
