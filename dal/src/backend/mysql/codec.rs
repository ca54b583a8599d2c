//! MySQL/MariaDB's encode/decode over mysql_async's values: binding each kind
//! of value (UUIDs as their 36-character text, instants as their UTC
//! wall-clock `DATETIME`, decimals and JSON as text), and reading column
//! values by the column's type code, flags and character set.
//!
//! Results come in the binary protocol (every fetch is a prepared
//! statement): integers arrive as `Int`/`UInt`, floats as `Float`/`Double`,
//! dates and times as `Date`/`Time`, everything else (text, binary, DECIMAL,
//! JSON, ENUM, SET, BIT) as `Bytes`. The readers also accept the text form of
//! a number or a date, so a value is read the same whichever protocol
//! carried it.

use std::str::FromStr as _;

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveDateTime, NaiveTime, Timelike as _, Utc};
use mysql_async::Value as MyValue;
use mysql_async::consts::{ColumnFlags, ColumnType};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::codec::{ArgBuffer, Family, MyVal, RawValue, SqlKind, mismatch};
use crate::error::{Error, Result};
use dal_schema::Dialect;

/// The character set number of binary strings (`BINARY`, `VARBINARY`, `BLOB`).
const BINARY_CHARSET: u16 = 63;

fn date_value(d: NaiveDate, t: NaiveTime) -> MyValue {
    MyValue::Date(
        // DATETIME's range is years 1000-9999; chrono's reach beyond it is
        // refused by the server, not wrapped here
        d.year().clamp(0, i32::from(u16::MAX)) as u16,
        d.month() as u8,
        d.day() as u8,
        t.hour() as u8,
        t.minute() as u8,
        t.second() as u8,
        // a leap second's nanoseconds (>= 1e9) are kept as the last microsecond
        (t.nanosecond() / 1000).min(999_999),
    )
}

impl<'q> ArgBuffer<'q> for Vec<MyValue> {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }
    fn null(&mut self) -> Result<()> {
        self.push(MyValue::NULL);
        Ok(())
    }
    fn null_of(&mut self, _kind: SqlKind) -> Result<()> {
        // MySQL takes its parameters' types from the values: NULL is untyped
        self.push(MyValue::NULL);
        Ok(())
    }
    fn bool(&mut self, v: bool) -> Result<()> {
        self.push(MyValue::Int(i64::from(v)));
        Ok(())
    }
    fn i16(&mut self, v: i16) -> Result<()> {
        self.push(MyValue::Int(i64::from(v)));
        Ok(())
    }
    fn i32(&mut self, v: i32) -> Result<()> {
        self.push(MyValue::Int(i64::from(v)));
        Ok(())
    }
    fn i64(&mut self, v: i64) -> Result<()> {
        self.push(MyValue::Int(v));
        Ok(())
    }
    /// `BIGINT UNSIGNED`: every `u64` fits.
    fn u64(&mut self, v: u64) -> Option<Result<()>> {
        self.push(MyValue::UInt(v));
        Some(Ok(()))
    }
    fn f32(&mut self, v: f32) -> Result<()> {
        self.push(MyValue::Float(v));
        Ok(())
    }
    fn f64(&mut self, v: f64) -> Result<()> {
        self.push(MyValue::Double(v));
        Ok(())
    }
    fn str(&mut self, v: &'q str) -> Result<()> {
        self.push(MyValue::Bytes(v.as_bytes().to_vec()));
        Ok(())
    }
    fn string(&mut self, v: String) -> Result<()> {
        self.push(MyValue::Bytes(v.into_bytes()));
        Ok(())
    }
    fn bytes(&mut self, v: &'q [u8]) -> Result<()> {
        self.push(MyValue::Bytes(v.to_vec()));
        Ok(())
    }
    fn date(&mut self, v: NaiveDate) -> Result<()> {
        self.push(date_value(v, NaiveTime::MIN));
        Ok(())
    }
    fn time(&mut self, v: NaiveTime) -> Result<()> {
        self.push(MyValue::Time(
            false,
            0,
            v.hour() as u8,
            v.minute() as u8,
            v.second() as u8,
            (v.nanosecond() / 1000).min(999_999),
        ));
        Ok(())
    }
    fn timestamp(&mut self, v: NaiveDateTime) -> Result<()> {
        self.push(date_value(v.date(), v.time()));
        Ok(())
    }
    fn timestamp_tz(&mut self, v: DateTime<Utc>) -> Result<()> {
        // DATETIME has no zone: store the UTC wall-clock time
        self.timestamp(v.naive_utc())
    }
    fn uuid(&mut self, v: Uuid) -> Result<()> {
        self.push(MyValue::Bytes(
            v.hyphenated()
                .encode_lower(&mut Uuid::encode_buffer())
                .as_bytes()
                .to_vec(),
        ));
        Ok(())
    }
    fn json<T: serde::Serialize + ?Sized + Sync>(&mut self, v: &'q T) -> Result<()> {
        let text =
            serde_json::to_vec(v).map_err(|e| Error::invalid_input("parameter", e.to_string()))?;
        self.push(MyValue::Bytes(text));
        Ok(())
    }
    fn decimal(&mut self, v: Decimal) -> Result<()> {
        self.push(MyValue::Bytes(v.to_string().into_bytes()));
        Ok(())
    }
}

/// The family of a column, by its type code, flags and character set.
fn column_family(c: &mysql_async::Column) -> Family {
    use ColumnType as T;
    match c.column_type() {
        // `TINYINT(1)` is how MySQL spells BOOLEAN
        T::MYSQL_TYPE_TINY if c.column_length() == 1 => Family::Bool,
        T::MYSQL_TYPE_TINY
        | T::MYSQL_TYPE_SHORT
        | T::MYSQL_TYPE_LONG
        | T::MYSQL_TYPE_INT24
        | T::MYSQL_TYPE_LONGLONG
        | T::MYSQL_TYPE_YEAR => Family::Int,
        T::MYSQL_TYPE_FLOAT | T::MYSQL_TYPE_DOUBLE => Family::Float,
        T::MYSQL_TYPE_DECIMAL | T::MYSQL_TYPE_NEWDECIMAL => Family::Decimal,
        T::MYSQL_TYPE_DATE | T::MYSQL_TYPE_NEWDATE => Family::Date,
        T::MYSQL_TYPE_TIME | T::MYSQL_TYPE_TIME2 => Family::Time,
        T::MYSQL_TYPE_DATETIME
        | T::MYSQL_TYPE_DATETIME2
        | T::MYSQL_TYPE_TIMESTAMP
        | T::MYSQL_TYPE_TIMESTAMP2 => Family::Timestamp,
        T::MYSQL_TYPE_JSON => Family::Json,
        T::MYSQL_TYPE_NULL => Family::Null,
        T::MYSQL_TYPE_ENUM | T::MYSQL_TYPE_SET => Family::Text,
        T::MYSQL_TYPE_VARCHAR
        | T::MYSQL_TYPE_VAR_STRING
        | T::MYSQL_TYPE_STRING
        | T::MYSQL_TYPE_TINY_BLOB
        | T::MYSQL_TYPE_MEDIUM_BLOB
        | T::MYSQL_TYPE_LONG_BLOB
        | T::MYSQL_TYPE_BLOB => {
            // a `_bin` collation (dal's default, `utf8mb4_bin`) sets the
            // BINARY flag on text too: the character set says binary or text
            if c.character_set() == BINARY_CHARSET {
                Family::Bytes
            } else {
                Family::Text
            }
        }
        _ => Family::Other,
    }
}

/// The SQL name of a column's type (`INT`, `BIGINT UNSIGNED`, `VARCHAR`,
/// `DATETIME`, ...), for messages.
fn column_type_name(c: &mysql_async::Column) -> String {
    use ColumnType as T;
    let binary = c.character_set() == BINARY_CHARSET;
    let unsigned = c.flags().contains(ColumnFlags::UNSIGNED_FLAG);
    let len = c.column_length();
    let name = match c.column_type() {
        T::MYSQL_TYPE_TINY if len == 1 => "BOOLEAN",
        T::MYSQL_TYPE_TINY => "TINYINT",
        T::MYSQL_TYPE_SHORT => "SMALLINT",
        T::MYSQL_TYPE_INT24 => "MEDIUMINT",
        T::MYSQL_TYPE_LONG => "INT",
        T::MYSQL_TYPE_LONGLONG => "BIGINT",
        T::MYSQL_TYPE_YEAR => "YEAR",
        T::MYSQL_TYPE_FLOAT => "FLOAT",
        T::MYSQL_TYPE_DOUBLE => "DOUBLE",
        T::MYSQL_TYPE_DECIMAL | T::MYSQL_TYPE_NEWDECIMAL => "DECIMAL",
        T::MYSQL_TYPE_DATE | T::MYSQL_TYPE_NEWDATE => "DATE",
        T::MYSQL_TYPE_TIME | T::MYSQL_TYPE_TIME2 => "TIME",
        T::MYSQL_TYPE_DATETIME | T::MYSQL_TYPE_DATETIME2 => "DATETIME",
        T::MYSQL_TYPE_TIMESTAMP | T::MYSQL_TYPE_TIMESTAMP2 => "TIMESTAMP",
        T::MYSQL_TYPE_JSON => "JSON",
        T::MYSQL_TYPE_NULL => "NULL",
        T::MYSQL_TYPE_ENUM => "ENUM",
        T::MYSQL_TYPE_SET => "SET",
        T::MYSQL_TYPE_BIT => "BIT",
        T::MYSQL_TYPE_GEOMETRY => "GEOMETRY",
        T::MYSQL_TYPE_VARCHAR | T::MYSQL_TYPE_VAR_STRING if binary => "VARBINARY",
        T::MYSQL_TYPE_VARCHAR | T::MYSQL_TYPE_VAR_STRING => "VARCHAR",
        T::MYSQL_TYPE_STRING if binary => "BINARY",
        T::MYSQL_TYPE_STRING => "CHAR",
        T::MYSQL_TYPE_TINY_BLOB
        | T::MYSQL_TYPE_MEDIUM_BLOB
        | T::MYSQL_TYPE_LONG_BLOB
        | T::MYSQL_TYPE_BLOB => {
            // the length is in bytes: text columns count up to 4 per character
            let per_char = if binary { 1 } else { 4 };
            let size = match len / per_char {
                0..=255 => "TINY",
                256..=65_535 => "",
                65_536..=16_777_215 => "MEDIUM",
                _ => "LONG",
            };
            return format!("{size}{}", if binary { "BLOB" } else { "TEXT" });
        }
        _ => "UNKNOWN",
    };
    if unsigned
        && matches!(
            c.column_type(),
            T::MYSQL_TYPE_SHORT
                | T::MYSQL_TYPE_INT24
                | T::MYSQL_TYPE_LONG
                | T::MYSQL_TYPE_LONGLONG
                | T::MYSQL_TYPE_TINY
        )
        && name != "BOOLEAN"
    {
        format!("{name} UNSIGNED")
    } else {
        name.to_string()
    }
}

impl MyVal<'_> {
    fn out_of_range<T>(&self, what: &str) -> Result<T> {
        Err(Error::decode(
            "",
            format!("the {} value is out of range for {what}", self.type_name()),
        ))
    }

    /// The text of a value sent as bytes (a number, date or decimal in the
    /// text protocol, or a DECIMAL in either).
    fn ascii(&self) -> Result<&str> {
        match self.value {
            MyValue::Bytes(b) => std::str::from_utf8(b).map_err(|_| {
                Error::decode("", format!("a {} value is not text", self.type_name()))
            }),
            _ => mismatch(&self.type_name(), "text"),
        }
    }

    fn parse_decimal(&self) -> Result<Decimal> {
        let text = self.ascii()?;
        Decimal::from_str(text)
            .or_else(|_| Decimal::from_scientific(text))
            .or_else(|_| self.out_of_range("Decimal"))
    }

    /// A date and time from a `Date` value (`DATE`, `DATETIME`, `TIMESTAMP`),
    /// or from its text.
    fn date_time(&self) -> Result<NaiveDateTime> {
        match *self.value {
            MyValue::Date(y, mo, d, h, mi, s, us) => {
                NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(d))
                    .and_then(|date| {
                        date.and_hms_micro_opt(u32::from(h), u32::from(mi), u32::from(s), us)
                    })
                    .map_or_else(
                        // `0000-00-00` (the zero date of a lax sql_mode) is no date
                        || self.out_of_range("a date"),
                        Ok,
                    )
            }
            MyValue::Bytes(_) => {
                let text = self.ascii()?;
                NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f")
                    .or_else(|_| {
                        NaiveDate::parse_from_str(text, "%Y-%m-%d")
                            .map(|d| d.and_time(NaiveTime::MIN))
                    })
                    .or_else(|_| self.out_of_range("a date"))
            }
            _ => mismatch(&self.type_name(), "NaiveDateTime"),
        }
    }
}

impl<'r> RawValue<'r> for MyVal<'r> {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    fn is_null(&self) -> bool {
        matches!(self.value, MyValue::NULL)
    }

    fn type_name(&self) -> String {
        column_type_name(self.column)
    }

    fn family(&self) -> Family {
        if self.is_null() {
            return Family::Null;
        }
        column_family(self.column)
    }

    fn text(&self) -> Result<&'r str> {
        match self.value {
            MyValue::Bytes(b) => std::str::from_utf8(b).map_err(|e| {
                Error::decode(
                    "",
                    format!("a {} value is not UTF-8: {e}", self.type_name()),
                )
            }),
            _ => mismatch(&self.type_name(), "text"),
        }
    }

    fn bytes(&self) -> Result<&'r [u8]> {
        match self.value {
            MyValue::Bytes(b) => Ok(b),
            _ => mismatch(&self.type_name(), "bytes"),
        }
    }

    fn i64(&self) -> Result<i64> {
        match *self.value {
            MyValue::Int(i) => Ok(i),
            MyValue::UInt(u) => i64::try_from(u).map_err(|_| {
                Error::decode("", format!("{u} does not fit a signed 64-bit integer"))
            }),
            MyValue::Bytes(_) => match column_family(self.column) {
                Family::Decimal => crate::codec::decimal_to_i64(self.parse_decimal()?),
                Family::Int | Family::Bool => {
                    let text = self.ascii()?;
                    text.parse::<i64>().or_else(|_| match text.parse::<u64>() {
                        Ok(u) => Err(Error::decode(
                            "",
                            format!("{u} does not fit a signed 64-bit integer"),
                        )),
                        Err(_) => mismatch(&self.type_name(), "an integer"),
                    })
                }
                _ => mismatch(&self.type_name(), "an integer"),
            },
            _ => mismatch(&self.type_name(), "an integer"),
        }
    }

    fn i128(&self) -> Result<i128> {
        match *self.value {
            MyValue::Int(i) => Ok(i128::from(i)),
            MyValue::UInt(u) => Ok(i128::from(u)),
            MyValue::Bytes(_) => match column_family(self.column) {
                Family::Decimal => crate::codec::decimal_to_i128(self.parse_decimal()?),
                Family::Int | Family::Bool => self
                    .ascii()?
                    .parse::<i128>()
                    .or_else(|_| mismatch(&self.type_name(), "an integer")),
                _ => mismatch(&self.type_name(), "an integer"),
            },
            _ => mismatch(&self.type_name(), "an integer"),
        }
    }

    fn f64(&self) -> Result<f64> {
        match *self.value {
            MyValue::Float(f) => Ok(f64::from(f)),
            MyValue::Double(d) => Ok(d),
            MyValue::Int(i) => Ok(i as f64),
            MyValue::UInt(u) => Ok(u as f64),
            MyValue::Bytes(_) => match column_family(self.column) {
                Family::Decimal => crate::codec::decimal_to_f64(self.parse_decimal()?, "DECIMAL"),
                Family::Float | Family::Int => self
                    .ascii()?
                    .parse::<f64>()
                    .or_else(|_| mismatch(&self.type_name(), "a float")),
                _ => mismatch(&self.type_name(), "a float"),
            },
            _ => mismatch(&self.type_name(), "a float"),
        }
    }

    fn bool(&self) -> Result<bool> {
        self.i64().map(|i| i != 0)
    }

    fn date(&self) -> Result<NaiveDate> {
        self.date_time().map(|d| d.date())
    }

    fn time(&self) -> Result<NaiveTime> {
        match *self.value {
            MyValue::Time(negative, days, h, m, s, us) => {
                if negative || days > 0 {
                    return self.out_of_range("a time of day");
                }
                NaiveTime::from_hms_micro_opt(u32::from(h), u32::from(m), u32::from(s), us)
                    .map_or_else(|| self.out_of_range("a time of day"), Ok)
            }
            MyValue::Bytes(_) => NaiveTime::parse_from_str(self.ascii()?, "%H:%M:%S%.f")
                .or_else(|_| self.out_of_range("a time of day")),
            _ => mismatch(&self.type_name(), "NaiveTime"),
        }
    }

    fn timestamp(&self) -> Result<NaiveDateTime> {
        self.date_time()
    }

    fn decimal(&self) -> Result<Decimal> {
        match *self.value {
            MyValue::Bytes(_) => self.parse_decimal(),
            MyValue::Int(i) => Ok(Decimal::from(i)),
            MyValue::UInt(u) => Ok(Decimal::from(u)),
            _ => mismatch(&self.type_name(), "Decimal"),
        }
    }

    fn quick_int(&self) -> Option<i128> {
        match *self.value {
            MyValue::Int(i) => Some(i.into()),
            MyValue::UInt(u) => Some(u.into()),
            _ => None,
        }
    }

    fn quick_float(&self) -> Option<f64> {
        match *self.value {
            MyValue::Double(d) => Some(d),
            MyValue::Float(f) => Some(f.into()),
            _ => None,
        }
    }

    fn quick_bool(&self) -> Option<bool> {
        match *self.value {
            MyValue::Int(i) if matches!(column_family(self.column), Family::Bool | Family::Int) => {
                Some(i != 0)
            }
            _ => None,
        }
    }

    fn quick_timestamp(&self) -> Option<Result<NaiveDateTime>> {
        match *self.value {
            MyValue::Date(..)
                if matches!(column_family(self.column), Family::Timestamp | Family::Date) =>
            {
                Some(self.date_time())
            }
            _ => None,
        }
    }
}

impl crate::row::RawRow for mysql_async::Row {
    fn raw_is_null(&self, i: usize) -> Option<bool> {
        self.as_ref(i).map(|v| matches!(v, MyValue::NULL))
    }
    fn raw_take_text(&mut self, i: usize) -> Option<Result<String>> {
        take_text(self, i)
    }
    fn raw_len(&self) -> usize {
        self.len()
    }
    fn raw_column_name(&self, i: usize) -> Option<&str> {
        self.columns_ref()
            .get(i)
            .and_then(|c| std::str::from_utf8(c.name_ref()).ok())
    }
    fn raw_value(&self, i: usize) -> std::result::Result<crate::codec::ValueInner<'_>, String> {
        match (self.as_ref(i), self.columns_ref().get(i)) {
            (Some(value), Some(column)) => {
                Ok(crate::codec::ValueInner::MySql(MyVal { value, column }))
            }
            _ => Err(format!("no column {i} (the row has {})", self.len())),
        }
    }
}

/// The text of column `i`, moved out of the row without a copy, when the
/// column is one [`String`]'s decoding reads as text and holds bytes; `None`
/// leaves the row as it was, for the ordinary read. Invalid UTF-8 is the
/// same decode error the ordinary read gives.
fn take_text(row: &mut mysql_async::Row, i: usize) -> Option<Result<String>> {
    let column = row.columns_ref().get(i)?;
    if !matches!(column_family(column), Family::Text | Family::Other)
        || !matches!(row.as_ref(i)?, MyValue::Bytes(_))
    {
        return None;
    }
    let Some(MyValue::Bytes(b)) = row.take::<MyValue, _>(i) else {
        return None;
    };
    Some(String::from_utf8(b).map_err(|e| {
        let type_name = row
            .columns_ref()
            .get(i)
            .map(column_type_name)
            .unwrap_or_default();
        Error::decode(
            "",
            format!("a {type_name} value is not UTF-8: {}", e.utf8_error()),
        )
    }))
}
