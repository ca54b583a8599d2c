//! The scalar form of values: null, integer, real, text or blob, with dates
//! and times as ISO-8601 text, UUIDs, decimals and JSON as text, booleans as
//! 0/1. It is how SQLite stores values, how the elements of a JSON array
//! column are read, and the dialect-neutral picture of an entity's values
//! (change tracking), so it is shared and always compiled; the SQLite driver
//! only bridges it to rusqlite (`backend/sqlite/codec.rs`).

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{ArgBuffer, Family, RawValue, SqlKind, mismatch};
use crate::error::{Error, Result};
use dal_schema::Dialect;

/// One SQLite parameter, borrowed from the caller where possible.
#[derive(Debug, Clone)]
pub(crate) enum SqliteArg<'q> {
    Null,
    Integer(i64),
    Real(f64),
    Text(Cow<'q, str>),
    Blob(Cow<'q, [u8]>),
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

impl<'q> ArgBuffer<'q> for Vec<SqliteArg<'q>> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn null(&mut self) -> Result<()> {
        self.push(SqliteArg::Null);
        Ok(())
    }
    fn null_of(&mut self, _kind: SqlKind) -> Result<()> {
        self.push(SqliteArg::Null);
        Ok(())
    }
    fn bool(&mut self, v: bool) -> Result<()> {
        self.push(SqliteArg::Integer(i64::from(v)));
        Ok(())
    }
    fn i16(&mut self, v: i16) -> Result<()> {
        self.push(SqliteArg::Integer(i64::from(v)));
        Ok(())
    }
    fn i32(&mut self, v: i32) -> Result<()> {
        self.push(SqliteArg::Integer(i64::from(v)));
        Ok(())
    }
    fn i64(&mut self, v: i64) -> Result<()> {
        self.push(SqliteArg::Integer(v));
        Ok(())
    }
    fn f32(&mut self, v: f32) -> Result<()> {
        self.push(SqliteArg::Real(f64::from(v)));
        Ok(())
    }
    fn f64(&mut self, v: f64) -> Result<()> {
        self.push(SqliteArg::Real(v));
        Ok(())
    }
    fn str(&mut self, v: &'q str) -> Result<()> {
        self.push(SqliteArg::Text(Cow::Borrowed(v)));
        Ok(())
    }
    fn string(&mut self, v: String) -> Result<()> {
        self.push(SqliteArg::Text(Cow::Owned(v)));
        Ok(())
    }
    fn bytes(&mut self, v: &'q [u8]) -> Result<()> {
        self.push(SqliteArg::Blob(Cow::Borrowed(v)));
        Ok(())
    }
    fn date(&mut self, v: NaiveDate) -> Result<()> {
        self.push(SqliteArg::Text(Cow::Owned(
            v.format("%Y-%m-%d").to_string(),
        )));
        Ok(())
    }
    fn time(&mut self, v: NaiveTime) -> Result<()> {
        self.push(SqliteArg::Text(Cow::Owned(
            v.format("%H:%M:%S%.6f").to_string(),
        )));
        Ok(())
    }
    fn timestamp(&mut self, v: NaiveDateTime) -> Result<()> {
        self.push(SqliteArg::Text(Cow::Owned(
            v.format("%Y-%m-%d %H:%M:%S%.6f").to_string(),
        )));
        Ok(())
    }
    fn timestamp_tz(&mut self, v: DateTime<Utc>) -> Result<()> {
        self.push(SqliteArg::Text(Cow::Owned(
            v.naive_utc()
                .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
                .to_string(),
        )));
        Ok(())
    }
    fn uuid(&mut self, v: Uuid) -> Result<()> {
        self.push(SqliteArg::Text(Cow::Owned(v.hyphenated().to_string())));
        Ok(())
    }
    fn json<T: serde::Serialize + ?Sized + Sync>(&mut self, v: &'q T) -> Result<()> {
        let s = serde_json::to_string(v)
            .map_err(|e| Error::invalid_input("json parameter", e.to_string()))?;
        self.push(SqliteArg::Text(Cow::Owned(s)));
        Ok(())
    }
    fn decimal(&mut self, v: Decimal) -> Result<()> {
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
        self.push(SqliteArg::Text(Cow::Owned(v.to_string())));
        Ok(())
    }
}

/// One stored scalar, borrowed (a SQLite column value, a JSON array element).
#[derive(Debug, Clone, Copy)]
pub(crate) enum ScalarRef<'r> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'r [u8]),
    Blob(&'r [u8]),
}

impl<'r> RawValue<'r> for ScalarRef<'r> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn is_null(&self) -> bool {
        matches!(self, ScalarRef::Null)
    }

    fn type_name(&self) -> String {
        match self {
            ScalarRef::Null => "null",
            ScalarRef::Integer(_) => "integer",
            ScalarRef::Real(_) => "real",
            ScalarRef::Text(_) => "text",
            ScalarRef::Blob(_) => "blob",
        }
        .to_string()
    }

    fn family(&self) -> Family {
        match self {
            ScalarRef::Null => Family::Null,
            ScalarRef::Integer(_) => Family::Int,
            ScalarRef::Real(_) => Family::Float,
            ScalarRef::Text(_) => Family::Text,
            ScalarRef::Blob(_) => Family::Bytes,
        }
    }

    fn loosely_typed(&self) -> bool {
        true
    }

    fn text(&self) -> Result<&'r str> {
        match self {
            ScalarRef::Text(t) => {
                std::str::from_utf8(t).map_err(|e| Error::decode("", format!("invalid UTF-8: {e}")))
            }
            _ => mismatch(&self.type_name(), "text"),
        }
    }

    fn bytes(&self) -> Result<&'r [u8]> {
        match self {
            ScalarRef::Text(t) | ScalarRef::Blob(t) => Ok(t),
            _ => mismatch(&self.type_name(), "bytes"),
        }
    }

    fn i64(&self) -> Result<i64> {
        match self {
            ScalarRef::Integer(i) => Ok(*i),
            ScalarRef::Real(f) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(*f as i64),
            ScalarRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .map_or_else(|| mismatch(&self.type_name(), "an integer"), Ok),
            _ => mismatch(&self.type_name(), "an integer"),
        }
    }

    fn f64(&self) -> Result<f64> {
        match self {
            ScalarRef::Real(f) => Ok(*f),
            ScalarRef::Integer(i) => Ok(*i as f64),
            ScalarRef::Text(t) => std::str::from_utf8(t)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .map_or_else(|| mismatch(&self.type_name(), "a float"), Ok),
            _ => mismatch(&self.type_name(), "a float"),
        }
    }
}
