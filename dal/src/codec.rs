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
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::value::Value;
use dal_schema::Dialect;

mod array;
mod decode;
mod scalar;

pub use array::ArrayElement;
pub(crate) use array::{ElementProbe, array_type};
#[cfg(feature = "mysql")]
pub(crate) use decode::MyVal;
#[cfg(feature = "postgres")]
pub(crate) use decode::PgVal;
pub use decode::{Decode, ValueRef};
pub(crate) use decode::{Family, Quick, RawValue, ValueInner, mismatch};
#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use decode::{decimal_to_f64, decimal_to_i64, decimal_to_i128};
pub(crate) use scalar::{ScalarRef, SqliteArg};

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
    pub(crate) fn code(self) -> u64 {
        self as u64 + 1
    }
}
/// How one backend binds each kind of value: implemented by each backend's
/// parameter buffer (in `backend/<dialect>/codec.rs`, and by the scalar form in
/// `codec/scalar.rs`). [`Arguments`] checks, counts and dispatches; the buffer
/// stores.
pub(crate) trait ArgBuffer<'q> {
    /// The dialect the buffer encodes for.
    fn dialect(&self) -> Dialect;
    /// Whether text may hold U+0000 (PostgreSQL's text and jsonb cannot).
    fn text_holds_nul(&self) -> bool {
        true
    }
    /// A NULL whose type the server infers from context.
    fn null(&mut self) -> Result<()>;
    /// A NULL of a known kind.
    fn null_of(&mut self, kind: SqlKind) -> Result<()>;
    fn bool(&mut self, v: bool) -> Result<()>;
    fn i16(&mut self, v: i16) -> Result<()>;
    fn i32(&mut self, v: i32) -> Result<()>;
    fn i64(&mut self, v: i64) -> Result<()>;
    /// An unsigned 64-bit integer where the backend has the type; `None`
    /// where it has not (the value is then bound as a `BIGINT` when it fits).
    fn u64(&mut self, _v: u64) -> Option<Result<()>> {
        None
    }
    fn f32(&mut self, v: f32) -> Result<()>;
    fn f64(&mut self, v: f64) -> Result<()>;
    fn str(&mut self, v: &'q str) -> Result<()>;
    fn string(&mut self, v: String) -> Result<()>;
    fn bytes(&mut self, v: &'q [u8]) -> Result<()>;
    fn date(&mut self, v: NaiveDate) -> Result<()>;
    fn time(&mut self, v: NaiveTime) -> Result<()>;
    fn timestamp(&mut self, v: NaiveDateTime) -> Result<()>;
    fn timestamp_tz(&mut self, v: DateTime<Utc>) -> Result<()>;
    fn uuid(&mut self, v: Uuid) -> Result<()>;
    /// A JSON value, already checked (depth, floats, NUL where refused).
    fn json<T: serde::Serialize + ?Sized + Sync>(&mut self, v: &'q T) -> Result<()>;
    fn decimal(&mut self, v: Decimal) -> Result<()>;
}

/// The parameter buffer of each backend. The payloads are the drivers' own
/// types (or dal's scalar form), so this file names no backend module: the
/// [`ArgBuffer`] implementations live with their backend.
pub(crate) enum ArgsInner<'q> {
    /// PostgreSQL: each value's type and binary form.
    #[cfg(feature = "postgres")]
    Pg(crate::backend::postgres::args::PgArgs),
    /// MySQL/MariaDB: the values as mysql_async sends them.
    #[cfg(feature = "mysql")]
    MySql(Vec<mysql_async::Value>),
    /// The scalar form: SQLite's parameters, the dialect-neutral picture of
    /// values, and the parameters of a dialect not built in (which cannot
    /// run: connecting to it fails).
    Scalar(Dialect, Vec<SqliteArg<'q>>),
    /// Rows for PostgreSQL's binary COPY (bulk saves).
    #[cfg(feature = "postgres")]
    PgCopy(crate::backend::postgres::copy::PgCopyRows),
}

/// Run `$e` with `$a` bound to whichever buffer `$inner` holds.
macro_rules! each_args {
    ($inner:expr, $a:ident => $e:expr) => {
        match $inner {
            #[cfg(feature = "postgres")]
            ArgsInner::Pg($a) => $e,
            #[cfg(feature = "mysql")]
            ArgsInner::MySql($a) => $e,
            ArgsInner::Scalar(_, $a) => $e,
            #[cfg(feature = "postgres")]
            ArgsInner::PgCopy($a) => $e,
        }
    };
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

impl<'q> Arguments<'q> {
    /// Empty arguments for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Self::with_capacity(dialect, 0)
    }

    /// Empty arguments for `dialect` with room for `n` values.
    pub fn with_capacity(dialect: Dialect, n: usize) -> Self {
        // the drivers' own buffers (this file names no backend file); a
        // backend that is not built in gets the scalar form (nothing can run
        // them: connecting to it fails)
        let inner = match dialect {
            #[cfg(feature = "postgres")]
            Dialect::Postgres => {
                ArgsInner::Pg(crate::backend::postgres::args::PgArgs::with_capacity(n))
            }
            #[cfg(feature = "mysql")]
            Dialect::MySql => ArgsInner::MySql(Vec::with_capacity(n)),
            other => ArgsInner::Scalar(other, Vec::with_capacity(n)),
        };
        Arguments::from_inner(inner)
    }

    pub(crate) fn from_inner(inner: ArgsInner<'q>) -> Self {
        Arguments {
            inner,
            signature: 0xcbf29ce484222325,
            untyped_null: false,
            len: 0,
        }
    }

    /// Take the encoded buffer out (for the backend that sends it), leaving
    /// an empty scalar one behind.
    pub(crate) fn take_inner(&mut self) -> ArgsInner<'q> {
        std::mem::replace(
            &mut self.inner,
            ArgsInner::Scalar(Dialect::Sqlite, Vec::new()),
        )
    }

    /// The dialect these arguments are encoded for.
    pub fn dialect(&self) -> Dialect {
        match &self.inner {
            ArgsInner::Scalar(dialect, _) => *dialect,
            #[allow(unreachable_patterns)] // SQLite alone: only the scalar form
            other => each_args!(other, a => a.dialect()),
        }
    }

    /// The values pushed so far, when these are SQLite arguments.
    pub(crate) fn sqlite_args(&self) -> Option<&[SqliteArg<'q>]> {
        match &self.inner {
            ArgsInner::Scalar(Dialect::Sqlite, v) => Some(v),
            _ => None,
        }
    }

    /// The values pushed so far as SQLite stores them (a dialect-neutral
    /// picture of them), when these are SQLite arguments.
    pub(crate) fn sqlite_values(self) -> Option<Vec<SqliteArg<'static>>> {
        match self.inner {
            ArgsInner::Scalar(Dialect::Sqlite, v) => {
                Some(v.into_iter().map(SqliteArg::into_owned).collect())
            }
            _ => None,
        }
    }

    /// Arguments that encode rows for a binary COPY into `columns`.
    #[cfg(feature = "postgres")]
    pub(crate) fn pg_copy(
        columns: std::sync::Arc<[(String, dal_schema::ColumnType)]>,
        capacity: usize,
    ) -> Self {
        let mut a = Arguments::from_inner(ArgsInner::PgCopy(
            crate::backend::postgres::copy::PgCopyRows::new(columns, capacity),
        ));
        a.signature = 0;
        a
    }

    /// The COPY data, when these arguments were made by [`Arguments::pg_copy`].
    #[cfg(feature = "postgres")]
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

    fn text_holds_nul(&self) -> bool {
        each_args!(&self.inner, a => a.text_holds_nul())
    }

    fn check_text(&self, v: &str) -> Result<()> {
        if !self.text_holds_nul() && v.as_bytes().contains(&0) {
            Err(Error::invalid_input(
                "text parameter",
                crate::checks::PG_NUL_TEXT,
            ))
        } else {
            Ok(())
        }
    }

    #[inline]
    /// The kind of the one value pushed so far (`None` when not exactly one
    /// was, or it was an untyped NULL).
    pub(crate) fn single_kind(&self) -> Option<SqlKind> {
        use SqlKind::*;
        if self.len != 1 {
            return None;
        }
        [
            Bool,
            SmallInt,
            Int,
            BigInt,
            Float,
            Double,
            Text,
            Bytes,
            Date,
            Time,
            Timestamp,
            TimestampTz,
            Uuid,
            Json,
            Decimal,
        ]
        .into_iter()
        .find(|k| (0xcbf29ce484222325_u64 ^ k.code()).wrapping_mul(0x100000001b3) == self.signature)
    }

    pub(crate) fn mark(&mut self, code: u64) {
        self.len += 1;
        self.signature = (self.signature ^ code).wrapping_mul(0x100000001b3);
    }

    /// Push a NULL whose type the server infers from context.
    pub fn push_null(&mut self) -> Result<()> {
        self.mark(0);
        self.untyped_null = true;
        each_args!(&mut self.inner, a => a.null())
    }

    /// Push a NULL of a known kind (PostgreSQL gets the matching parameter type).
    pub fn push_null_of(&mut self, kind: SqlKind) -> Result<()> {
        self.mark(kind.code());
        each_args!(&mut self.inner, a => a.null_of(kind))
    }

    /// Push a boolean.
    pub fn push_bool(&mut self, v: bool) -> Result<()> {
        self.mark(SqlKind::Bool.code());
        each_args!(&mut self.inner, a => a.bool(v))
    }

    /// Push a 16-bit integer (`SMALLINT` on PostgreSQL).
    pub fn push_i16(&mut self, v: i16) -> Result<()> {
        self.mark(SqlKind::SmallInt.code());
        each_args!(&mut self.inner, a => a.i16(v))
    }

    /// Push a 32-bit integer (`INTEGER` on PostgreSQL).
    pub fn push_i32(&mut self, v: i32) -> Result<()> {
        self.mark(SqlKind::Int.code());
        each_args!(&mut self.inner, a => a.i32(v))
    }

    /// Push a 64-bit integer (`BIGINT` on PostgreSQL).
    pub fn push_i64(&mut self, v: i64) -> Result<()> {
        self.mark(SqlKind::BigInt.code());
        each_args!(&mut self.inner, a => a.i64(v))
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
        if let Some(r) = each_args!(&mut self.inner, a => a.u64(v)) {
            r?;
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
        each_args!(&mut self.inner, a => a.f32(v))
    }

    /// Push a double-precision float.
    ///
    /// A value the backend cannot store and read back unchanged is refused with
    /// [`Error::InvalidInput`] (see the float rules on [`Encode`]).
    pub fn push_f64(&mut self, v: f64) -> Result<()> {
        self.check_float(v)?;
        self.mark(SqlKind::Double.code());
        each_args!(&mut self.inner, a => a.f64(v))
    }

    /// Push text borrowed for the statement's lifetime.
    ///
    /// PostgreSQL's text cannot hold U+0000: text containing `'\0'` is refused
    /// there with [`Error::InvalidInput`] before anything is sent (MySQL, MariaDB
    /// and SQLite store it as it is).
    pub fn push_str(&mut self, v: &'q str) -> Result<()> {
        self.check_text(v)?;
        self.mark(SqlKind::Text.code());
        each_args!(&mut self.inner, a => a.str(v))
    }

    /// Push owned text (NUL characters as in [`Arguments::push_str`]).
    pub fn push_string(&mut self, v: String) -> Result<()> {
        self.check_text(&v)?;
        self.mark(SqlKind::Text.code());
        each_args!(&mut self.inner, a => a.string(v))
    }

    /// Push binary data borrowed for the statement's lifetime.
    pub fn push_bytes(&mut self, v: &'q [u8]) -> Result<()> {
        self.mark(SqlKind::Bytes.code());
        each_args!(&mut self.inner, a => a.bytes(v))
    }

    /// Push a date.
    pub fn push_date(&mut self, v: NaiveDate) -> Result<()> {
        self.mark(SqlKind::Date.code());
        each_args!(&mut self.inner, a => a.date(v))
    }

    /// Push a time of day.
    pub fn push_time(&mut self, v: NaiveTime) -> Result<()> {
        self.mark(SqlKind::Time.code());
        each_args!(&mut self.inner, a => a.time(v))
    }

    /// Push a date and time without time zone.
    pub fn push_timestamp(&mut self, v: NaiveDateTime) -> Result<()> {
        self.mark(SqlKind::Timestamp.code());
        each_args!(&mut self.inner, a => a.timestamp(v))
    }

    /// Push an instant (stored in UTC).
    pub fn push_timestamp_tz(&mut self, v: DateTime<Utc>) -> Result<()> {
        self.mark(SqlKind::TimestampTz.code());
        each_args!(&mut self.inner, a => a.timestamp_tz(v))
    }

    /// Push a UUID.
    pub fn push_uuid(&mut self, v: Uuid) -> Result<()> {
        self.mark(SqlKind::Uuid.code());
        each_args!(&mut self.inner, a => a.uuid(v))
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
        crate::checks::check_json(v, self.text_holds_nul())
            .map_err(|p| Error::invalid_input("json parameter", p.reason()))?;
        self.mark(SqlKind::Json.code());
        each_args!(&mut self.inner, a => a.json(v))
    }

    /// Push an exact decimal.
    ///
    /// SQLite keeps 15 significant digits in a `DECIMAL` column (NUMERIC affinity),
    /// so a decimal with more digits is refused there instead of being rounded.
    pub fn push_decimal(&mut self, v: Decimal) -> Result<()> {
        self.mark(SqlKind::Decimal.code());
        each_args!(&mut self.inner, a => a.decimal(v))
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

#[cfg(test)]
mod tests {
    use super::*;

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
