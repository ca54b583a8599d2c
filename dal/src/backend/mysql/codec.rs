//! MySQL/MariaDB's encode/decode: binding each kind of value (UUIDs as their
//! 36-character text, instants as their UTC wall-clock `DATETIME`), and
//! reading column values by the type name sqlx reports.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use sqlx::mysql::{MySql, MySqlArguments, MySqlValueRef};
use sqlx::{Arguments as _, TypeInfo as _, ValueRef as _};
use uuid::Uuid;

use crate::codec::{ArgBuffer, Family, RawValue, SqlKind, mismatch};
use crate::error::{Error, Result};
use dal_schema::Dialect;

fn bind_err(e: sqlx::error::BoxDynError) -> Error {
    Error::invalid_input("parameter", e.to_string())
}

fn dec<'r, T: sqlx::Decode<'r, MySql>>(v: &MySqlValueRef<'r>) -> Result<T> {
    T::decode(v.clone()).map_err(|e| Error::decode("", e.to_string()))
}

impl<'q> ArgBuffer<'q> for MySqlArguments {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }
    fn null(&mut self) -> Result<()> {
        self.add(None::<&str>).map_err(bind_err)
    }
    fn null_of(&mut self, kind: SqlKind) -> Result<()> {
        match kind {
            SqlKind::Bool => self.add(None::<bool>),
            SqlKind::SmallInt | SqlKind::Int | SqlKind::BigInt => self.add(None::<i64>),
            SqlKind::Float | SqlKind::Double => self.add(None::<f64>),
            SqlKind::Bytes => self.add(None::<&[u8]>),
            SqlKind::Date => self.add(None::<NaiveDate>),
            SqlKind::Time => self.add(None::<NaiveTime>),
            SqlKind::Timestamp | SqlKind::TimestampTz => self.add(None::<NaiveDateTime>),
            SqlKind::Decimal => self.add(None::<Decimal>),
            SqlKind::Text | SqlKind::Uuid | SqlKind::Json => self.add(None::<&str>),
        }
        .map_err(bind_err)
    }
    fn bool(&mut self, v: bool) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn i16(&mut self, v: i16) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn i32(&mut self, v: i32) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn i64(&mut self, v: i64) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    /// `BIGINT UNSIGNED`: every `u64` fits.
    fn u64(&mut self, v: u64) -> Option<Result<()>> {
        Some(self.add(v).map_err(bind_err))
    }
    fn f32(&mut self, v: f32) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn f64(&mut self, v: f64) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn str(&mut self, v: &'q str) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn string(&mut self, v: String) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn bytes(&mut self, v: &'q [u8]) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn date(&mut self, v: NaiveDate) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn time(&mut self, v: NaiveTime) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn timestamp(&mut self, v: NaiveDateTime) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn timestamp_tz(&mut self, v: DateTime<Utc>) -> Result<()> {
        // DATETIME has no zone: store the UTC wall-clock time
        self.add(v.naive_utc()).map_err(bind_err)
    }
    fn uuid(&mut self, v: Uuid) -> Result<()> {
        self.add(v.hyphenated().to_string()).map_err(bind_err)
    }
    fn json<T: serde::Serialize + ?Sized + Sync>(&mut self, v: &'q T) -> Result<()> {
        self.add(sqlx::types::Json(v)).map_err(bind_err)
    }
    fn decimal(&mut self, v: Decimal) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
}

impl<'r> RawValue<'r> for MySqlValueRef<'r> {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    fn is_null(&self) -> bool {
        sqlx::ValueRef::is_null(self)
    }

    fn type_name(&self) -> String {
        self.type_info().name().to_string()
    }

    fn family(&self) -> Family {
        if sqlx::ValueRef::is_null(self) {
            return Family::Null;
        }
        let info = self.type_info();
        match mysql_family(info.name()) {
            // a `_bin` collation (dal's default, `utf8mb4_bin`) sets the
            // column's BINARY flag, and sqlx names such a text column
            // `VARBINARY` / `BLOB`: its collation (not `binary`) says text
            Family::Bytes if <str as sqlx::Type<sqlx::MySql>>::compatible(&info) => Family::Text,
            f => f,
        }
    }

    fn text(&self) -> Result<&'r str> {
        <&str as sqlx::Decode<MySql>>::decode(self.clone())
            .map_err(|e| Error::decode("", e.to_string()))
    }

    fn bytes(&self) -> Result<&'r [u8]> {
        <&[u8] as sqlx::Decode<MySql>>::decode(self.clone())
            .map_err(|e| Error::decode("", e.to_string()))
    }

    fn i64(&self) -> Result<i64> {
        let ti = self.type_info();
        let name = ti.name();
        match mysql_family(name) {
            Family::Int if name.ends_with("UNSIGNED") => {
                let u = dec::<u64>(self)?;
                i64::try_from(u).map_err(|_| {
                    Error::decode("", format!("{u} does not fit a signed 64-bit integer"))
                })
            }
            Family::Int | Family::Bool => dec::<i64>(self),
            Family::Decimal => crate::codec::decimal_to_i64(dec::<Decimal>(self)?),
            _ => mismatch(&self.type_name(), "an integer"),
        }
    }

    fn i128(&self) -> Result<i128> {
        let ti = self.type_info();
        let name = ti.name();
        match mysql_family(name) {
            Family::Int if name.ends_with("UNSIGNED") => dec::<u64>(self).map(i128::from),
            Family::Int | Family::Bool => dec::<i64>(self).map(i128::from),
            Family::Decimal => crate::codec::decimal_to_i128(dec::<Decimal>(self)?),
            _ => mismatch(&self.type_name(), "an integer"),
        }
    }

    fn f64(&self) -> Result<f64> {
        match self.family() {
            Family::Float => {
                if self.type_info().name() == "FLOAT" {
                    dec::<f32>(self).map(f64::from)
                } else {
                    dec::<f64>(self)
                }
            }
            Family::Decimal => {
                crate::codec::decimal_to_f64(dec::<Decimal>(self)?, &self.type_name())
            }
            Family::Int => self.i64().map(|i| i as f64),
            _ => mismatch(&self.type_name(), "a float"),
        }
    }

    fn bool(&self) -> Result<bool> {
        dec::<i64>(self).map(|i| i != 0)
    }

    fn date(&self) -> Result<NaiveDate> {
        dec(self)
    }

    fn time(&self) -> Result<NaiveTime> {
        dec(self)
    }

    fn timestamp(&self) -> Result<NaiveDateTime> {
        dec(self)
    }

    fn decimal(&self) -> Result<Decimal> {
        dec(self)
    }
}

/// Whether a MySQL integer column is unsigned (`BIGINT UNSIGNED`, ...).
/// The family of a MySQL type, by the name sqlx gives it (sqlx keeps the
/// type code private). Integers, the common case, are told apart first by
/// their last bytes; the rest by their first byte, then the whole name.
pub(crate) fn mysql_family(name: &str) -> Family {
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

impl crate::row::RawRow for sqlx::mysql::MySqlRow {
    fn raw_len(&self) -> usize {
        sqlx::Row::len(self)
    }
    fn raw_column_name(&self, i: usize) -> Option<&str> {
        use sqlx::Column as _;
        sqlx::Row::columns(self).get(i).map(|c| c.name())
    }
    fn raw_value(&self, i: usize) -> std::result::Result<crate::codec::ValueInner<'_>, String> {
        sqlx::Row::try_get_raw(self, i)
            .map(crate::codec::ValueInner::MySql)
            .map_err(|e| e.to_string())
    }
}
