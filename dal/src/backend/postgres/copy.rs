//! PostgreSQL's binary `COPY` format, for bulk saves: rows are encoded field by
//! field, each value converted to its column's type (an `i64` field bound to an
//! `INTEGER` column is written as 4 bytes, and refused if it does not fit).

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dal_schema::ColumnType;
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::error::{Error, Result};

/// One value handed to the encoder by an `Arguments::push_*` call.
#[derive(Debug)]
pub(crate) enum CopyValue<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
    Bytes(&'a [u8]),
    Date(NaiveDate),
    Time(NaiveTime),
    Timestamp(NaiveDateTime),
    TimestampTz(DateTime<Utc>),
    Uuid(Uuid),
    Json(Vec<u8>),
    Decimal(Decimal),
    /// An array already in PostgreSQL's binary form.
    Array(Vec<u8>),
}

/// Rows in binary COPY format.
pub(crate) struct PgCopyRows {
    buf: Vec<u8>,
    columns: Arc<[(String, ColumnType)]>,
    col: usize,
    rows: usize,
}

const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

fn pg_epoch_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
}

impl PgCopyRows {
    pub(crate) fn new(columns: Arc<[(String, ColumnType)]>, capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(64));
        buf.extend_from_slice(HEADER);
        PgCopyRows {
            buf,
            columns,
            col: 0,
            rows: 0,
        }
    }

    /// The finished data (with the trailer), and the number of rows.
    pub(crate) fn finish(mut self) -> Result<(Vec<u8>, usize)> {
        if self.col != 0 {
            return Err(Error::invalid_input(
                "copy",
                format!(
                    "a row ended after {} of {} columns",
                    self.col,
                    self.columns.len()
                ),
            ));
        }
        self.buf.extend_from_slice(&(-1i16).to_be_bytes());
        Ok((self.buf, self.rows))
    }

    fn field(&mut self, bytes: &[u8]) {
        self.buf
            .extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
    }

    fn mismatch(&self, v: &CopyValue<'_>) -> Error {
        let (name, ty) = &self.columns[self.col];
        Error::invalid_input(name.clone(), format!("cannot write {v:?} to a {ty} column"))
    }

    /// Append one value (the next column of the current row).
    pub(crate) fn write(&mut self, v: CopyValue<'_>) -> Result<()> {
        if self.col == 0 {
            self.buf
                .extend_from_slice(&(self.columns.len() as i16).to_be_bytes());
        }
        let Some((name, ty)) = self.columns.get(self.col).cloned() else {
            return Err(Error::invalid_input("copy", "more values than columns"));
        };
        let out_of_range = |v: i64| {
            Error::invalid_input(
                name.clone(),
                format!("{v} is out of range for a {ty} column"),
            )
        };
        use CopyValue as V;
        match (&ty, &v) {
            (_, V::Null) => self.buf.extend_from_slice(&(-1i32).to_be_bytes()),
            (ColumnType::Boolean, V::Bool(b)) => self.field(&[u8::from(*b)]),
            (ColumnType::SmallInteger, V::Int(i)) => {
                let n = i16::try_from(*i).map_err(|_| out_of_range(*i))?;
                self.field(&n.to_be_bytes())
            }
            (ColumnType::Integer, V::Int(i)) => {
                let n = i32::try_from(*i).map_err(|_| out_of_range(*i))?;
                self.field(&n.to_be_bytes())
            }
            (ColumnType::BigInteger, V::Int(i)) => self.field(&i.to_be_bytes()),
            // a BIGINT with a `>= 0` check on PostgreSQL
            (ColumnType::UnsignedBigInteger, V::Int(i)) if *i >= 0 => self.field(&i.to_be_bytes()),
            (ColumnType::UnsignedBigInteger, V::Int(i)) => return Err(out_of_range(*i)),
            // a BIGINT checked to `0..=u32::MAX` on PostgreSQL
            (ColumnType::UnsignedInteger, V::Int(i)) if u32::try_from(*i).is_ok() => {
                self.field(&i.to_be_bytes())
            }
            (ColumnType::UnsignedInteger, V::Int(i)) => return Err(out_of_range(*i)),
            (ColumnType::Float, V::Float(f)) => self.field(&(*f as f32).to_be_bytes()),
            (ColumnType::Float, V::Int(i)) => self.field(&(*i as f32).to_be_bytes()),
            (ColumnType::Double, V::Float(f)) => self.field(&f.to_be_bytes()),
            (ColumnType::Double, V::Int(i)) => self.field(&(*i as f64).to_be_bytes()),
            (
                ColumnType::String { .. } | ColumnType::Text | ColumnType::Enumeration { .. },
                V::Str(s),
            ) => self.field(s.as_bytes()),
            (ColumnType::Binary, V::Bytes(b)) => self.field(b),
            (ColumnType::Date, V::Date(d)) => {
                let days = (*d - pg_epoch_date()).num_days() as i32;
                self.field(&days.to_be_bytes())
            }
            (ColumnType::Time, V::Time(t)) => {
                let micros = (*t - NaiveTime::MIN).num_microseconds().unwrap_or(0);
                self.field(&micros.to_be_bytes())
            }
            (ColumnType::Timestamp, V::Timestamp(t)) => self.timestamp(*t)?,
            (ColumnType::Timestamp, V::TimestampTz(t)) => self.timestamp(t.naive_utc())?,
            (ColumnType::TimestampTz, V::TimestampTz(t)) => self.timestamp(t.naive_utc())?,
            (ColumnType::TimestampTz, V::Timestamp(t)) => self.timestamp(*t)?,
            (ColumnType::Uuid, V::Uuid(u)) => self.field(u.as_bytes()),
            (ColumnType::Uuid, V::Str(s)) => {
                let u = Uuid::parse_str(s)
                    .map_err(|e| Error::invalid_input(name.clone(), e.to_string()))?;
                self.field(u.as_bytes())
            }
            (ColumnType::Json, V::Json(bytes)) => {
                // JSONB's binary form: a version byte, then the text
                self.buf
                    .extend_from_slice(&((bytes.len() + 1) as i32).to_be_bytes());
                self.buf.push(1);
                self.buf.extend_from_slice(bytes);
            }
            (ColumnType::Decimal { .. }, V::Decimal(d)) => self.decimal(*d)?,
            (ColumnType::Array { .. }, V::Array(bytes)) => self.field(bytes),
            (ColumnType::Decimal { .. }, V::Int(i)) => self.decimal(Decimal::from(*i))?,
            (ColumnType::Decimal { .. }, V::Float(f)) => {
                let d = Decimal::try_from(*f)
                    .map_err(|e| Error::invalid_input(name.clone(), e.to_string()))?;
                self.decimal(d)?
            }
            _ => return Err(self.mismatch(&v)),
        }
        self.col += 1;
        if self.col == self.columns.len() {
            self.col = 0;
            self.rows += 1;
        }
        Ok(())
    }

    fn timestamp(&mut self, t: NaiveDateTime) -> Result<()> {
        let epoch = pg_epoch_date().and_hms_opt(0, 0, 0).unwrap_or_default();
        let micros = (t - epoch)
            .num_microseconds()
            .ok_or_else(|| Error::invalid_input("timestamp", format!("{t} is out of range")))?;
        self.field(&micros.to_be_bytes());
        Ok(())
    }

    fn decimal(&mut self, d: Decimal) -> Result<()> {
        let bytes = super::args::numeric_bytes(d)?;
        self.field(&bytes);
        Ok(())
    }
}
