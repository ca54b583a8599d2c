//! PostgreSQL's encode/decode: binding each kind of value as a typed
//! parameter (and as a binary COPY field), and reading column values by their
//! type OID.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use sqlx::postgres::{PgArguments, PgTypeInfo, PgValueFormat, PgValueRef, Postgres};
use sqlx::{Arguments as _, TypeInfo as _, ValueRef as _};
use uuid::Uuid;

use crate::backend::postgres::copy::{CopyValue, PgCopyRows};
use crate::codec::{
    ArgBuffer, ArgsInner, Arguments, Decode, Encode, Family, PgVal, RawValue, SqlKind, ValueInner,
    ValueRef, mismatch,
};
use crate::error::{Error, Result};
use dal_schema::Dialect;

pub(crate) fn bind_err(e: sqlx::error::BoxDynError) -> Error {
    Error::invalid_input("parameter", e.to_string())
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

/// PostgreSQL `int8[]` (ids reserved by a bulk save, in one value instead of
/// one row each).
pub(crate) struct PgIds(pub(crate) Vec<i64>);

impl Decode for PgIds {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        match &value.inner {
            ValueInner::Pg(v) => dec::<Vec<i64>>(v).map(PgIds),
            _ => Err(Error::decode("", "a bigint[] is a PostgreSQL value")),
        }
    }
}

pub(crate) mod pg_oid {
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

fn dec<'r, T: sqlx::Decode<'r, Postgres>>(v: &PgValueRef<'r>) -> Result<T> {
    T::decode(v.clone()).map_err(|e| Error::decode("", e.to_string()))
}

fn copy_write(c: &mut PgCopyRows, v: CopyValue<'_>) -> Result<()> {
    c.write(v)
}

impl<'q> ArgBuffer<'q> for PgArguments {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn text_holds_nul(&self) -> bool {
        false
    }
    fn null(&mut self) -> Result<()> {
        self.add(PgUntypedNull).map_err(bind_err)
    }
    fn null_of(&mut self, kind: SqlKind) -> Result<()> {
        match kind {
            SqlKind::Bool => self.add(None::<bool>),
            SqlKind::SmallInt => self.add(None::<i16>),
            SqlKind::Int => self.add(None::<i32>),
            SqlKind::BigInt => self.add(None::<i64>),
            SqlKind::Float => self.add(None::<f32>),
            SqlKind::Double => self.add(None::<f64>),
            SqlKind::Text => self.add(None::<&str>),
            SqlKind::Bytes => self.add(None::<&[u8]>),
            SqlKind::Date => self.add(None::<NaiveDate>),
            SqlKind::Time => self.add(None::<NaiveTime>),
            SqlKind::Timestamp => self.add(None::<NaiveDateTime>),
            SqlKind::TimestampTz => self.add(None::<DateTime<Utc>>),
            SqlKind::Uuid => self.add(None::<Uuid>),
            SqlKind::Json => self.add(None::<sqlx::types::Json<()>>),
            SqlKind::Decimal => self.add(None::<Decimal>),
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
        self.add(v).map_err(bind_err)
    }
    fn uuid(&mut self, v: Uuid) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
    fn json<T: serde::Serialize + ?Sized + Sync>(&mut self, v: &'q T) -> Result<()> {
        let bytes = crate::checks::pg_json_bytes(v)
            .map_err(|p| Error::invalid_input("json parameter", p.reason()))?;
        self.add(PgJsonb(bytes)).map_err(bind_err)
    }
    fn decimal(&mut self, v: Decimal) -> Result<()> {
        self.add(v).map_err(bind_err)
    }
}

/// Binary COPY rows take the same values, each converted to its column's type.
impl<'q> ArgBuffer<'q> for PgCopyRows {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn text_holds_nul(&self) -> bool {
        false
    }
    fn null(&mut self) -> Result<()> {
        copy_write(self, CopyValue::Null)
    }
    fn null_of(&mut self, _kind: SqlKind) -> Result<()> {
        copy_write(self, CopyValue::Null)
    }
    fn bool(&mut self, v: bool) -> Result<()> {
        copy_write(self, CopyValue::Bool(v))
    }
    fn i16(&mut self, v: i16) -> Result<()> {
        copy_write(self, CopyValue::Int(i64::from(v)))
    }
    fn i32(&mut self, v: i32) -> Result<()> {
        copy_write(self, CopyValue::Int(i64::from(v)))
    }
    fn i64(&mut self, v: i64) -> Result<()> {
        copy_write(self, CopyValue::Int(v))
    }
    fn f32(&mut self, v: f32) -> Result<()> {
        copy_write(self, CopyValue::Float(f64::from(v)))
    }
    fn f64(&mut self, v: f64) -> Result<()> {
        copy_write(self, CopyValue::Float(v))
    }
    fn str(&mut self, v: &'q str) -> Result<()> {
        copy_write(self, CopyValue::Str(v))
    }
    fn string(&mut self, v: String) -> Result<()> {
        copy_write(self, CopyValue::Str(&v))
    }
    fn bytes(&mut self, v: &'q [u8]) -> Result<()> {
        copy_write(self, CopyValue::Bytes(v))
    }
    fn date(&mut self, v: NaiveDate) -> Result<()> {
        copy_write(self, CopyValue::Date(v))
    }
    fn time(&mut self, v: NaiveTime) -> Result<()> {
        copy_write(self, CopyValue::Time(v))
    }
    fn timestamp(&mut self, v: NaiveDateTime) -> Result<()> {
        copy_write(self, CopyValue::Timestamp(v))
    }
    fn timestamp_tz(&mut self, v: DateTime<Utc>) -> Result<()> {
        copy_write(self, CopyValue::TimestampTz(v))
    }
    fn uuid(&mut self, v: Uuid) -> Result<()> {
        copy_write(self, CopyValue::Uuid(v))
    }
    fn json<T: serde::Serialize + ?Sized + Sync>(&mut self, v: &'q T) -> Result<()> {
        let bytes = crate::checks::pg_json_bytes(v)
            .map_err(|p| Error::invalid_input("json parameter", p.reason()))?;
        copy_write(self, CopyValue::Json(bytes))
    }
    fn decimal(&mut self, v: Decimal) -> Result<()> {
        copy_write(self, CopyValue::Decimal(v))
    }
}

fn oid(v: &PgValueRef<'_>) -> u32 {
    v.type_info().oid().map(|o| o.0).unwrap_or(0)
}

/// A column value of `row` with its type's OID.
pub(crate) fn pg_val(v: PgValueRef<'_>) -> PgVal<'_> {
    let oid = oid(&v);
    PgVal { value: v, oid }
}

/// The `N` bytes of a binary-format value, or `None` (text format, NULL, or
/// another width: then the driver's decoder reads it and names the error).
fn fixed<const N: usize>(v: &PgVal<'_>) -> Option<[u8; N]> {
    if v.format() != PgValueFormat::Binary {
        return None;
    }
    v.as_bytes().ok()?.try_into().ok()
}

/// PostgreSQL counts dates and timestamps from 2000-01-01: that day in
/// microseconds after the Unix epoch, and in days after 0001-01-01 (CE day 1).
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;
const PG_EPOCH_CE_DAYS: i32 = 730_120;

/// A binary TIMESTAMP/TIMESTAMPTZ (microseconds since 2000-01-01, UTC for
/// TIMESTAMPTZ), or the driver's reading when the value is not in that form.
fn timestamp_of(v: &PgVal<'_>) -> Result<NaiveDateTime> {
    if let Some(b) = fixed::<8>(v) {
        let us = i64::from_be_bytes(b);
        return us
            .checked_add(PG_EPOCH_UNIX_MICROS)
            .and_then(DateTime::from_timestamp_micros)
            .map(|t| t.naive_utc())
            .ok_or_else(|| {
                Error::decode(
                    "",
                    format!(
                        "timestamp out of range ({us} microseconds from 2000-01-01, or infinity)"
                    ),
                )
            });
    }
    if v.oid == pg_oid::TIMESTAMPTZ {
        dec::<DateTime<Utc>>(v).map(|d| d.naive_utc())
    } else {
        dec(v)
    }
}

// The readers decode the binary form of the common types from its bytes (the
// result of a prepared statement is binary), and hand anything else to the
// driver's decoders.
impl<'r> RawValue<'r> for PgVal<'r> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn is_null(&self) -> bool {
        sqlx::ValueRef::is_null(&self.value)
    }

    fn type_name(&self) -> String {
        self.type_info().name().to_string()
    }

    fn family(&self) -> Family {
        if sqlx::ValueRef::is_null(&self.value) {
            return Family::Null;
        }
        use pg_oid::*;
        match self.oid {
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

    fn text(&self) -> Result<&'r str> {
        self.as_str().map_err(|e| Error::decode("", e.to_string()))
    }

    fn bytes(&self) -> Result<&'r [u8]> {
        self.as_bytes()
            .map_err(|e| Error::decode("", e.to_string()))
    }

    fn json_bytes(&self) -> Result<&'r [u8]> {
        let bytes = self
            .as_bytes()
            .map_err(|e| Error::decode("", e.to_string()))?;
        if self.oid == pg_oid::JSONB && self.format() == PgValueFormat::Binary {
            // binary JSONB starts with a version byte
            match bytes.split_first() {
                Some((1, rest)) => Ok(rest),
                _ => Err(Error::decode("", "unsupported JSONB version")),
            }
        } else {
            Ok(bytes)
        }
    }

    fn json_reprinted(&self) -> bool {
        true
    }

    fn i64(&self) -> Result<i64> {
        match self.oid {
            pg_oid::INT2 => match fixed(self) {
                Some(b) => Ok(i16::from_be_bytes(b).into()),
                None => dec::<i16>(self).map(i64::from),
            },
            pg_oid::INT4 => match fixed(self) {
                Some(b) => Ok(i32::from_be_bytes(b).into()),
                None => dec::<i32>(self).map(i64::from),
            },
            pg_oid::INT8 => match fixed(self) {
                Some(b) => Ok(i64::from_be_bytes(b)),
                None => dec::<i64>(self),
            },
            pg_oid::OID => dec::<sqlx::postgres::types::Oid>(self).map(|o| i64::from(o.0)),
            pg_oid::NUMERIC => crate::codec::decimal_to_i64(dec::<Decimal>(self)?),
            pg_oid::BOOL => self.bool().map(i64::from),
            _ => mismatch(&self.type_name(), "an integer"),
        }
    }

    fn i128(&self) -> Result<i128> {
        if self.oid == pg_oid::NUMERIC {
            crate::codec::decimal_to_i128(dec::<Decimal>(self)?)
        } else {
            self.i64().map(i128::from)
        }
    }

    fn f64(&self) -> Result<f64> {
        match self.oid {
            pg_oid::FLOAT4 => match fixed(self) {
                Some(b) => Ok(f32::from_be_bytes(b).into()),
                None => dec::<f32>(self).map(f64::from),
            },
            pg_oid::FLOAT8 => match fixed(self) {
                Some(b) => Ok(f64::from_be_bytes(b)),
                None => dec::<f64>(self),
            },
            pg_oid::NUMERIC => {
                crate::codec::decimal_to_f64(dec::<Decimal>(self)?, &self.type_name())
            }
            pg_oid::INT2 | pg_oid::INT4 | pg_oid::INT8 => self.i64().map(|i| i as f64),
            _ => mismatch(&self.type_name(), "a float"),
        }
    }

    fn bool(&self) -> Result<bool> {
        match fixed::<1>(self) {
            Some([b]) => Ok(b != 0),
            None => dec::<bool>(self),
        }
    }

    fn date(&self) -> Result<NaiveDate> {
        if let Some(b) = fixed::<4>(self) {
            let days = i32::from_be_bytes(b);
            return days
                .checked_add(PG_EPOCH_CE_DAYS)
                .and_then(NaiveDate::from_num_days_from_ce_opt)
                .ok_or_else(|| {
                    Error::decode(
                        "",
                        format!("date out of range ({days} days from 2000-01-01, or infinity)"),
                    )
                });
        }
        dec(self)
    }

    fn time(&self) -> Result<NaiveTime> {
        dec(self)
    }

    fn timestamp(&self) -> Result<NaiveDateTime> {
        timestamp_of(self)
    }

    fn timestamp_tz(&self) -> Result<DateTime<Utc>> {
        timestamp_of(self).map(|n| n.and_utc())
    }

    fn uuid(&self) -> Result<Uuid> {
        match fixed::<16>(self) {
            Some(b) => Ok(Uuid::from_bytes(b)),
            None => dec(self),
        }
    }

    fn decimal(&self) -> Result<Decimal> {
        dec(self)
    }
}

impl crate::row::RawRow for sqlx::postgres::PgRow {
    fn raw_len(&self) -> usize {
        sqlx::Row::len(self)
    }
    fn raw_column_name(&self, i: usize) -> Option<&str> {
        use sqlx::Column as _;
        sqlx::Row::columns(self).get(i).map(|c| c.name())
    }
    fn raw_value(&self, i: usize) -> std::result::Result<crate::codec::ValueInner<'_>, String> {
        sqlx::Row::try_get_raw(self, i)
            .map(|v| crate::codec::ValueInner::Pg(pg_val(v)))
            .map_err(|e| e.to_string())
    }
}
