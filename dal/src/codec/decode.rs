//! Reading columns: [`ValueRef`] (a borrowed column value), [`Decode`] and the
//! conversions of the built-in types.
//!
//! What a value is depends on its backend, which answers through
//! [`RawValue`] (implemented in `backend/<dialect>/codec.rs`, and for the
//! scalar form SQLite and JSON arrays store in `codec/scalar.rs`); the
//! conversions between families (a text column read as a date, an integer as a
//! decimal) are written once here.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{Json, ScalarRef};
use crate::error::{Error, Result};
use crate::value::Value;
use dal_schema::Dialect;

/// The column value of each backend. The payloads are the drivers' own types
/// (or dal's scalar form); the [`RawValue`] implementations live with their
/// backend.
#[derive(Clone)]
pub(crate) enum ValueInner<'r> {
    #[cfg(feature = "postgres")]
    Pg(PgVal<'r>),
    #[cfg(feature = "mysql")]
    MySql(MyVal<'r>),
    /// SQLite's values, and the elements of a JSON array.
    Scalar(ScalarRef<'r>),
}

/// A PostgreSQL column value: its binary form and its type (the readers in
/// `backend/postgres/codec.rs` pick their conversion by the type's OID).
#[cfg(feature = "postgres")]
#[derive(Clone, Copy)]
pub(crate) struct PgVal<'r> {
    /// The value's binary form (`None`: NULL).
    pub(crate) raw: Option<&'r [u8]>,
    pub(crate) ty: &'r tokio_postgres::types::Type,
    /// The type's OID (read once: the readers dispatch on it).
    pub(crate) oid: u32,
}

/// A MySQL/MariaDB column value and its column (type code, flags, character
/// set), as mysql_async read them (the readers in `backend/mysql/codec.rs`
/// pick their conversion by the column).
#[cfg(feature = "mysql")]
#[derive(Clone, Copy)]
pub(crate) struct MyVal<'r> {
    pub(crate) value: &'r mysql_async::Value,
    pub(crate) column: &'r mysql_async::Column,
}

/// Run `$e` with `$v` bound to whichever value `$inner` holds.
macro_rules! each_value {
    ($inner:expr, $v:ident => $e:expr) => {
        match $inner {
            #[cfg(feature = "postgres")]
            ValueInner::Pg($v) => $e,
            #[cfg(feature = "mysql")]
            ValueInner::MySql($v) => $e,
            ValueInner::Scalar($v) => $e,
        }
    };
}

/// What a backend says about one of its column values. The typed readers
/// (`date`, `uuid`, ...) are asked only for a value of that [`Family`]; by
/// default they refuse.
pub(crate) trait RawValue<'r> {
    /// The dialect the value came from.
    fn dialect(&self) -> Dialect;
    /// True when the value is SQL NULL.
    fn is_null(&self) -> bool;
    /// The server's name for the value's type.
    fn type_name(&self) -> String;
    /// The broad family of the value's type ([`Family::Null`] for NULL).
    fn family(&self) -> Family;
    /// The value as text when the column holds text.
    fn text(&self) -> Result<&'r str>;
    /// The value's bytes (binary data, or the bytes of text).
    fn bytes(&self) -> Result<&'r [u8]>;
    /// The text of a JSON document.
    fn json_bytes(&self) -> Result<&'r [u8]> {
        self.bytes()
    }
    /// Whether a JSON value read as a `String` must be parsed and printed
    /// again (its stored form is not its text).
    fn json_reprinted(&self) -> bool {
        false
    }
    /// Dynamic typing (SQLite): text may hold booleans, numbers may stand
    /// for text, integers for unix timestamps.
    fn loosely_typed(&self) -> bool {
        false
    }
    fn i64(&self) -> Result<i64>;
    /// The value as an integer wide enough for every `i64` and every `u64`.
    fn i128(&self) -> Result<i128> {
        self.i64().map(i128::from)
    }
    fn f64(&self) -> Result<f64>;
    /// A [`Family::Bool`] value.
    fn bool(&self) -> Result<bool> {
        self.i64().map(|i| i != 0)
    }
    /// A [`Family::Date`] value.
    fn date(&self) -> Result<NaiveDate> {
        mismatch(&self.type_name(), "NaiveDate")
    }
    /// A [`Family::Time`] value.
    fn time(&self) -> Result<NaiveTime> {
        mismatch(&self.type_name(), "NaiveTime")
    }
    /// A [`Family::Timestamp`] or [`Family::TimestampTz`] value (UTC wall clock).
    fn timestamp(&self) -> Result<NaiveDateTime> {
        mismatch(&self.type_name(), "NaiveDateTime")
    }
    /// A [`Family::TimestampTz`] value.
    fn timestamp_tz(&self) -> Result<DateTime<Utc>> {
        self.timestamp().map(|n| n.and_utc())
    }
    /// A [`Family::Uuid`] value.
    fn uuid(&self) -> Result<Uuid> {
        mismatch(&self.type_name(), "Uuid")
    }
    /// A [`Family::Decimal`] value.
    fn decimal(&self) -> Result<Decimal> {
        mismatch(&self.type_name(), "Decimal")
    }

    // The fast readers of owned rows (`Decode::__take`). Each answers only
    // for the one shape of value (the driver's variant, or the type OID and
    // width) that the ordinary read through `Decode::decode` turns into the
    // same result whatever the column's family; `None` (NULL included)
    // sends the read the ordinary way, which also words every error.

    /// An integer value.
    fn quick_int(&self) -> Option<i128> {
        None
    }
    /// A floating-point value.
    fn quick_float(&self) -> Option<f64> {
        None
    }
    /// A boolean value.
    fn quick_bool(&self) -> Option<bool> {
        None
    }
    /// A timestamp value (UTC wall clock for a zoned one).
    fn quick_timestamp(&self) -> Option<Result<NaiveDateTime>> {
        None
    }
    /// A text value.
    fn quick_text(&self) -> Option<Result<&'r str>> {
        None
    }
}

/// A server row's column value, for the owned-row fast paths of
/// [`Decode::__take`] (see the `quick_*` readers of [`RawValue`]).
#[derive(Clone, Copy)]
pub(crate) enum Quick<'r> {
    #[cfg(feature = "postgres")]
    Pg(PgVal<'r>),
    #[cfg(feature = "mysql")]
    My(MyVal<'r>),
    /// No server built in: no value.
    #[cfg(not(any(feature = "postgres", feature = "mysql")))]
    #[allow(dead_code)] // never built
    Never(std::marker::PhantomData<&'r ()>, std::convert::Infallible),
}

/// Run `$e` with `$v` bound to whichever value the [`Quick`] `$q` holds.
macro_rules! each_quick {
    ($q:expr, $v:ident => $e:expr) => {
        match $q {
            #[cfg(feature = "postgres")]
            Quick::Pg($v) => $e,
            #[cfg(feature = "mysql")]
            Quick::My($v) => $e,
            #[cfg(not(any(feature = "postgres", feature = "mysql")))]
            Quick::Never(_, never) => match never {},
        }
    };
}

impl<'r> Quick<'r> {
    pub(crate) fn is_null(self) -> bool {
        each_quick!(self, v => v.is_null())
    }
    fn int(self) -> Option<i128> {
        each_quick!(self, v => v.quick_int())
    }
    fn float(self) -> Option<f64> {
        each_quick!(self, v => v.quick_float())
    }
    fn bool(self) -> Option<bool> {
        each_quick!(self, v => v.quick_bool())
    }
    fn timestamp(self) -> Option<Result<NaiveDateTime>> {
        each_quick!(self, v => v.quick_timestamp())
    }
    fn text(self) -> Option<Result<&'r str>> {
        each_quick!(self, v => v.quick_text())
    }
}

/// Name column `name` in a decode error raised without one.
fn in_column(e: Error, name: &str) -> Error {
    match e {
        Error::Decode { reason, .. } => Error::Decode {
            column: name.to_string(),
            reason,
        },
        other => other,
    }
}

/// The error for a value of type `type_name` read as `want`.
pub(crate) fn mismatch<T>(type_name: &str, want: &str) -> Result<T> {
    Err(Error::decode(
        "",
        format!("cannot read a {type_name} value as {want}"),
    ))
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

impl<'r> ValueRef<'r> {
    /// True when the value is SQL NULL.
    pub fn is_null(&self) -> bool {
        each_value!(&self.inner, v => v.is_null())
    }

    /// The server's name for the value's type (`INT8`, `VARCHAR`, `integer`, ...).
    pub fn type_name(&self) -> String {
        each_value!(&self.inner, v => v.type_name())
    }

    /// The dialect the value came from.
    pub fn dialect(&self) -> Dialect {
        each_value!(&self.inner, v => v.dialect())
    }

    pub(crate) fn family(&self) -> Family {
        each_value!(&self.inner, v => v.family())
    }

    fn loosely_typed(&self) -> bool {
        each_value!(&self.inner, v => v.loosely_typed())
    }

    fn mismatch<T>(&self, want: &str) -> Result<T> {
        mismatch(&self.type_name(), want)
    }

    fn null_error<T>(&self, want: &str) -> Result<T> {
        Err(Error::decode(
            "",
            format!("unexpected NULL (read it as Option<{want}>)"),
        ))
    }

    /// The value as text when the column holds text (any dialect).
    fn text(&self) -> Result<&'r str> {
        each_value!(&self.inner, v => v.text())
    }

    pub(crate) fn bytes(&self) -> Result<&'r [u8]> {
        each_value!(&self.inner, v => v.bytes())
    }

    /// The text of a JSON document.
    pub(crate) fn json_bytes(&self) -> Result<&'r [u8]> {
        each_value!(&self.inner, v => v.json_bytes())
    }

    fn i64(&self) -> Result<i64> {
        each_value!(&self.inner, v => v.i64())
    }

    /// The value as an integer wide enough for every `i64` and every `u64` (a
    /// MySQL `BIGINT UNSIGNED`, a whole `NUMERIC`/`DECIMAL`).
    fn i128(&self) -> Result<i128> {
        each_value!(&self.inner, v => v.i128())
    }

    fn f64(&self) -> Result<f64> {
        each_value!(&self.inner, v => v.f64())
    }
}

/// A whole decimal as an `i64`.
pub(crate) fn decimal_to_i64(d: Decimal) -> Result<i64> {
    use rust_decimal::prelude::ToPrimitive;
    if d.fract().is_zero() {
        d.to_i64()
            .ok_or_else(|| Error::decode("", format!("{d} does not fit a 64-bit integer")))
    } else {
        Err(Error::decode("", format!("{d} is not a whole number")))
    }
}

/// A whole decimal as an `i128`.
pub(crate) fn decimal_to_i128(d: Decimal) -> Result<i128> {
    use rust_decimal::prelude::ToPrimitive;
    if d.fract().is_zero() {
        d.to_i128()
            .ok_or_else(|| Error::decode("", format!("{d} is not an integer")))
    } else {
        Err(Error::decode("", format!("{d} is not a whole number")))
    }
}

/// A decimal as a float, or the mismatch error.
pub(crate) fn decimal_to_f64(d: Decimal, type_name: &str) -> Result<f64> {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64()
        .map_or_else(|| mismatch(type_name, "a float"), Ok)
}

/// A type that can be read from a column.
pub trait Decode: Sized {
    /// Convert the column value. A NULL is an error unless the type is an `Option`.
    fn decode(value: ValueRef<'_>) -> Result<Self>;

    /// Read column `name` (looked for at position `hint` first) out of a row
    /// the caller owns, taking the value without a copy where the type can
    /// (text from MySQL); the same result as `Row::get_hinted`. Entity
    /// decoding calls it; implementations keep this default.
    #[doc(hidden)]
    fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
        row.get_hinted(hint, name)
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        if value.is_null() {
            Ok(None)
        } else {
            T::decode(value).map(Some)
        }
    }

    fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
        match row.null_at(hint, name) {
            Some(true) => Ok(None),
            Some(false) => T::__take(row, hint, name).map(Some),
            None => row.get_hinted(hint, name),
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
                int_in_range(value.i128()?)
            }

            #[inline]
            fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
                match row.quick(hint, name).and_then(Quick::int) {
                    Some(v) => int_in_range(v).map_err(|e| in_column(e, name)),
                    None => row.get_hinted(hint, name),
                }
            }
        }
    )*};
}

/// `v` as the integer type `T`, or an error naming `T`'s range.
fn int_in_range<T: TryFrom<i128> + std::fmt::Display + Bounded>(v: i128) -> Result<T> {
    T::try_from(v).map_err(|_| {
        Error::decode(
            "",
            format!(
                "{v} is out of range for {} ({}..={})",
                std::any::type_name::<T>(),
                T::MIN,
                T::MAX,
            ),
        )
    })
}

/// The range of an integer type, for [`int_in_range`]'s message.
trait Bounded: Sized {
    const MIN: Self;
    const MAX: Self;
}

macro_rules! bounded {
    ($($t:ty),*) => {$(
        impl Bounded for $t {
            const MIN: Self = <$t>::MIN;
            const MAX: Self = <$t>::MAX;
        }
    )*};
}
bounded!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
decode_int!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl Decode for bool {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match value.family() {
            Family::Null => value.null_error("bool"),
            Family::Bool => each_value!(&value.inner, v => v.bool()),
            Family::Int => value.i64().map(|i| i != 0),
            Family::Text if value.loosely_typed() => {
                match value.text()?.to_ascii_lowercase().as_str() {
                    "true" | "t" | "1" => Ok(true),
                    "false" | "f" | "0" => Ok(false),
                    _ => value.mismatch("bool"),
                }
            }
            _ => value.mismatch("bool"),
        }
    }

    #[inline]
    fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
        match row.quick(hint, name).and_then(Quick::bool) {
            Some(b) => Ok(b),
            None => row.get_hinted(hint, name),
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

    #[inline]
    fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
        match row.quick(hint, name).and_then(Quick::float) {
            Some(f) => Ok(f),
            None => row.get_hinted(hint, name),
        }
    }
}

impl Decode for f32 {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        if value.is_null() {
            return value.null_error("f32");
        }
        value.f64().map(|f| f as f32)
    }

    #[inline]
    fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
        match row.quick(hint, name).and_then(Quick::float) {
            Some(f) => Ok(f as f32),
            None => row.get_hinted(hint, name),
        }
    }
}

impl Decode for String {
    fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
        if let Some(text) = row.take_text(hint, name) {
            return text;
        }
        match row.quick(hint, name).and_then(Quick::text) {
            Some(text) => text.map(str::to_string).map_err(|e| in_column(e, name)),
            None => row.get_hinted(hint, name),
        }
    }

    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match value.family() {
            Family::Null => value.null_error("String"),
            Family::Text | Family::Other => value.text().map(str::to_string),
            Family::Json => {
                if each_value!(&value.inner, v => v.json_reprinted()) {
                    serde_json::Value::decode(value).map(|j| j.to_string())
                } else {
                    value.text().map(str::to_string)
                }
            }
            Family::Uuid => Uuid::decode(value).map(|u| u.to_string()),
            Family::Decimal => Decimal::decode(value).map(|d| d.to_string()),
            // SQLite's NUMERIC affinity may have turned a numeric-looking string into a number
            Family::Int if value.loosely_typed() => value.i64().map(|i| i.to_string()),
            Family::Float if value.loosely_typed() => value.f64().map(|f| f.to_string()),
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
            (Family::Date, v) => each_value!(v, v => v.date()),
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
            (Family::Time, v) => each_value!(v, v => v.time()),
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
            (Family::Timestamp | Family::TimestampTz, v) => each_value!(v, v => v.timestamp()),
            (Family::Date, _) => {
                NaiveDate::decode(value).map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
            }
            (Family::Text, _) => parse_datetime(value.text()?)
                .map_or_else(|| value.mismatch("a timestamp (YYYY-MM-DD HH:MM:SS)"), Ok),
            (Family::Int, _) if value.loosely_typed() => {
                let secs = value.i64()?;
                DateTime::from_timestamp(secs, 0)
                    .map(|d| d.naive_utc())
                    .map_or_else(|| value.mismatch("a unix timestamp"), Ok)
            }
            _ => value.mismatch("NaiveDateTime"),
        }
    }

    #[inline]
    fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
        match row.quick(hint, name).and_then(Quick::timestamp) {
            Some(t) => t.map_err(|e| in_column(e, name)),
            None => row.get_hinted(hint, name),
        }
    }
}

impl Decode for DateTime<Utc> {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match (value.family(), &value.inner) {
            (Family::Null, _) => value.null_error("DateTime<Utc>"),
            (Family::TimestampTz, v) => each_value!(v, v => v.timestamp_tz()),
            // a zone-less timestamp is taken to be UTC (that is how dal writes them)
            _ => NaiveDateTime::decode(value).map(|n| n.and_utc()),
        }
    }

    #[inline]
    fn __take(row: &mut crate::row::Row<'static>, hint: usize, name: &str) -> Result<Self> {
        match row.quick(hint, name).and_then(Quick::timestamp) {
            Some(t) => t.map(|n| n.and_utc()).map_err(|e| in_column(e, name)),
            None => row.get_hinted(hint, name),
        }
    }
}

impl Decode for Uuid {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match (value.family(), &value.inner) {
            (Family::Null, _) => value.null_error("Uuid"),
            (Family::Uuid, v) => each_value!(v, v => v.uuid()),
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
            (Family::Decimal, v) => each_value!(v, v => v.decimal()),
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

impl Decode for serde_json::Value {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match value.family() {
            Family::Null => value.null_error("serde_json::Value"),
            Family::Json | Family::Text | Family::Bytes => {
                serde_json::from_slice(value.json_bytes()?)
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
                serde_json::from_slice(value.json_bytes()?)
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
}
