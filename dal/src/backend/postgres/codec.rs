//! PostgreSQL's encode/decode: binding each kind of value as a typed
//! parameter in its binary form (and as a binary COPY field), and reading
//! column values by their type OID from their binary form (tokio-postgres
//! asks for binary results).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use rust_decimal::Decimal;
use tokio_postgres::types::{FromSql, Kind, Type};
use uuid::Uuid;

pub(crate) use crate::backend::postgres::args::pg_oid;
use crate::backend::postgres::args::{
    PG_EPOCH_CE_DAYS, PG_EPOCH_UNIX_MICROS, PgArgs, date_days, numeric_bytes, time_micros,
    timestamp_micros,
};

use crate::backend::postgres::copy::{CopyValue, PgCopyRows};
use crate::codec::{
    ArgBuffer, ArgsInner, Arguments, Decode, Encode, Family, PgVal, RawValue, SqlKind, ValueInner,
    ValueRef, mismatch,
};
use crate::error::{Error, Result};
use dal_schema::Dialect;

/// Keys bound as one PostgreSQL array, for `column = ANY(?)`: one
/// parameter, one statement text and one plan whatever the number of keys.
pub(crate) struct PgArray<T>(pub(crate) Vec<T>);

impl<T: crate::codec::ArrayElement> Encode for PgArray<T> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        match &out.inner {
            ArgsInner::Pg(_) => out.push_array(&self.0),
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
            ValueInner::Pg(_) => Vec::<i64>::decode(value).map(PgIds),
            _ => Err(Error::decode("", "a bigint[] is a PostgreSQL value")),
        }
    }
}

fn copy_write(c: &mut PgCopyRows, v: CopyValue<'_>) -> Result<()> {
    c.write(v)
}

impl<'q> ArgBuffer<'q> for PgArgs {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn text_holds_nul(&self) -> bool {
        false
    }
    fn null(&mut self) -> Result<()> {
        self.push_untyped_null();
        Ok(())
    }
    fn null_of(&mut self, kind: SqlKind) -> Result<()> {
        self.push_null(match kind {
            SqlKind::Bool => Type::BOOL,
            SqlKind::SmallInt => Type::INT2,
            SqlKind::Int => Type::INT4,
            SqlKind::BigInt => Type::INT8,
            SqlKind::Float => Type::FLOAT4,
            SqlKind::Double => Type::FLOAT8,
            SqlKind::Text => Type::TEXT,
            SqlKind::Bytes => Type::BYTEA,
            SqlKind::Date => Type::DATE,
            SqlKind::Time => Type::TIME,
            SqlKind::Timestamp => Type::TIMESTAMP,
            SqlKind::TimestampTz => Type::TIMESTAMPTZ,
            SqlKind::Uuid => Type::UUID,
            SqlKind::Json => Type::JSONB,
            SqlKind::Decimal => Type::NUMERIC,
        });
        Ok(())
    }
    fn bool(&mut self, v: bool) -> Result<()> {
        self.push(Type::BOOL, &[u8::from(v)])
    }
    fn i16(&mut self, v: i16) -> Result<()> {
        self.push(Type::INT2, &v.to_be_bytes())
    }
    fn i32(&mut self, v: i32) -> Result<()> {
        self.push(Type::INT4, &v.to_be_bytes())
    }
    fn i64(&mut self, v: i64) -> Result<()> {
        self.push(Type::INT8, &v.to_be_bytes())
    }
    fn f32(&mut self, v: f32) -> Result<()> {
        self.push(Type::FLOAT4, &v.to_be_bytes())
    }
    fn f64(&mut self, v: f64) -> Result<()> {
        self.push(Type::FLOAT8, &v.to_be_bytes())
    }
    fn str(&mut self, v: &'q str) -> Result<()> {
        self.push(Type::TEXT, v.as_bytes())
    }
    fn string(&mut self, v: String) -> Result<()> {
        self.push(Type::TEXT, v.as_bytes())
    }
    fn bytes(&mut self, v: &'q [u8]) -> Result<()> {
        self.push(Type::BYTEA, v)
    }
    fn date(&mut self, v: NaiveDate) -> Result<()> {
        self.push(Type::DATE, &date_days(v).to_be_bytes())
    }
    fn time(&mut self, v: NaiveTime) -> Result<()> {
        self.push(Type::TIME, &time_micros(v).to_be_bytes())
    }
    fn timestamp(&mut self, v: NaiveDateTime) -> Result<()> {
        self.push(Type::TIMESTAMP, &timestamp_micros(v)?.to_be_bytes())
    }
    fn timestamp_tz(&mut self, v: DateTime<Utc>) -> Result<()> {
        self.push(
            Type::TIMESTAMPTZ,
            &timestamp_micros(v.naive_utc())?.to_be_bytes(),
        )
    }
    fn uuid(&mut self, v: Uuid) -> Result<()> {
        self.push(Type::UUID, v.as_bytes())
    }
    fn json<T: serde::Serialize + ?Sized + Sync>(&mut self, v: &'q T) -> Result<()> {
        let bytes = crate::checks::pg_json_bytes(v)
            .map_err(|p| Error::invalid_input("json parameter", p.reason()))?;
        // JSONB's binary form: a version byte, then the text
        self.push_with(Type::JSONB, |b| {
            b.push(1);
            b.extend_from_slice(&bytes);
        })
    }
    fn decimal(&mut self, v: Decimal) -> Result<()> {
        let bytes = numeric_bytes(v)?;
        self.push(Type::NUMERIC, &bytes)
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

/// The binary form of a column value as tokio-postgres hands it over
/// (`None`: NULL), whatever its type.
pub(crate) struct RawBytes<'a>(pub(crate) Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawBytes<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawBytes(Some(raw)))
    }
    fn from_sql_null(
        _ty: &Type,
    ) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawBytes(None))
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// The family of a (non-NULL) value of the type `oid`.
fn pg_family(oid: u32) -> Family {
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

/// The server's name for a type, spelled as SQL writes it (`INT8`,
/// `TEXT[]`; a type of the user's own keeps its name).
fn type_name(ty: &Type) -> String {
    match ty.kind() {
        Kind::Array(element) => format!("{}[]", type_name(element)),
        _ if ty.schema() == "pg_catalog" => match ty.oid() {
            pg_oid::BPCHAR => "CHAR".to_string(),
            pg_oid::CHAR => "\"CHAR\"".to_string(),
            _ => ty.name().to_ascii_uppercase(),
        },
        _ => ty.name().to_string(),
    }
}

impl<'r> PgVal<'r> {
    /// The value's bytes (NULL is no value).
    fn raw(&self) -> Result<&'r [u8]> {
        self.raw.ok_or_else(|| Error::decode("", "unexpected NULL"))
    }

    /// The `N` bytes of a fixed-width value.
    fn fixed<const N: usize>(&self) -> Result<[u8; N]> {
        let raw = self.raw()?;
        raw.try_into().map_err(|_| {
            Error::decode(
                "",
                format!(
                    "a {} value of {} bytes (expected {N})",
                    type_name(self.ty),
                    raw.len()
                ),
            )
        })
    }

    fn numeric(&self) -> Result<Decimal> {
        Decimal::from_sql(&Type::NUMERIC, self.raw()?)
            .map_err(|e| Error::decode("", format!("NUMERIC: {e}")))
    }

    /// A TIMESTAMP/TIMESTAMPTZ (microseconds from 2000-01-01, UTC for
    /// TIMESTAMPTZ).
    fn timestamp_of(&self) -> Result<NaiveDateTime> {
        let us = i64::from_be_bytes(self.fixed::<8>()?);
        us.checked_add(PG_EPOCH_UNIX_MICROS)
            .and_then(DateTime::from_timestamp_micros)
            .map(|t| t.naive_utc())
            .ok_or_else(|| {
                Error::decode(
                    "",
                    format!(
                        "timestamp out of range ({us} microseconds from 2000-01-01, or infinity)"
                    ),
                )
            })
    }
}

// The readers decode the binary form of each type from its bytes.
impl<'r> RawValue<'r> for PgVal<'r> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn is_null(&self) -> bool {
        self.raw.is_none()
    }

    fn type_name(&self) -> String {
        type_name(self.ty)
    }

    fn family(&self) -> Family {
        if self.raw.is_none() {
            return Family::Null;
        }
        pg_family(self.oid)
    }

    fn text(&self) -> Result<&'r str> {
        std::str::from_utf8(self.raw()?).map_err(|e| Error::decode("", e.to_string()))
    }

    fn bytes(&self) -> Result<&'r [u8]> {
        self.raw()
    }

    fn json_bytes(&self) -> Result<&'r [u8]> {
        let bytes = self.raw()?;
        if self.oid == pg_oid::JSONB {
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
            pg_oid::INT2 => Ok(i16::from_be_bytes(self.fixed()?).into()),
            pg_oid::INT4 => Ok(i32::from_be_bytes(self.fixed()?).into()),
            pg_oid::INT8 => Ok(i64::from_be_bytes(self.fixed()?)),
            pg_oid::OID => Ok(u32::from_be_bytes(self.fixed()?).into()),
            pg_oid::NUMERIC => crate::codec::decimal_to_i64(self.numeric()?),
            pg_oid::BOOL => self.bool().map(i64::from),
            _ => mismatch(&self.type_name(), "an integer"),
        }
    }

    fn i128(&self) -> Result<i128> {
        if self.oid == pg_oid::NUMERIC {
            crate::codec::decimal_to_i128(self.numeric()?)
        } else {
            self.i64().map(i128::from)
        }
    }

    fn f64(&self) -> Result<f64> {
        match self.oid {
            pg_oid::FLOAT4 => Ok(f32::from_be_bytes(self.fixed()?).into()),
            pg_oid::FLOAT8 => Ok(f64::from_be_bytes(self.fixed()?)),
            pg_oid::NUMERIC => crate::codec::decimal_to_f64(self.numeric()?, &self.type_name()),
            pg_oid::INT2 | pg_oid::INT4 | pg_oid::INT8 => self.i64().map(|i| i as f64),
            _ => mismatch(&self.type_name(), "a float"),
        }
    }

    fn bool(&self) -> Result<bool> {
        let [b] = self.fixed::<1>()?;
        Ok(b != 0)
    }

    fn date(&self) -> Result<NaiveDate> {
        let days = i32::from_be_bytes(self.fixed()?);
        days.checked_add(PG_EPOCH_CE_DAYS)
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .ok_or_else(|| {
                Error::decode(
                    "",
                    format!("date out of range ({days} days from 2000-01-01, or infinity)"),
                )
            })
    }

    fn time(&self) -> Result<NaiveTime> {
        let us = i64::from_be_bytes(self.fixed()?);
        u32::try_from(us.div_euclid(1_000_000))
            .ok()
            .and_then(|secs| {
                NaiveTime::from_num_seconds_from_midnight_opt(
                    secs,
                    (us.rem_euclid(1_000_000) * 1_000) as u32,
                )
            })
            .ok_or_else(|| {
                Error::decode(
                    "",
                    format!("time out of range ({us} microseconds from midnight: 24:00:00 has no NaiveTime)"),
                )
            })
    }

    fn timestamp(&self) -> Result<NaiveDateTime> {
        self.timestamp_of()
    }

    fn timestamp_tz(&self) -> Result<DateTime<Utc>> {
        self.timestamp_of().map(|n| n.and_utc())
    }

    fn uuid(&self) -> Result<Uuid> {
        Ok(Uuid::from_bytes(self.fixed()?))
    }

    fn decimal(&self) -> Result<Decimal> {
        self.numeric()
    }

    fn quick_int(&self) -> Option<i128> {
        let raw = self.raw?;
        match self.oid {
            pg_oid::INT8 => Some(i64::from_be_bytes(raw.try_into().ok()?).into()),
            pg_oid::INT4 => Some(i32::from_be_bytes(raw.try_into().ok()?).into()),
            pg_oid::INT2 => Some(i16::from_be_bytes(raw.try_into().ok()?).into()),
            _ => None,
        }
    }

    fn quick_float(&self) -> Option<f64> {
        let raw = self.raw?;
        match self.oid {
            pg_oid::FLOAT8 => Some(f64::from_be_bytes(raw.try_into().ok()?)),
            pg_oid::FLOAT4 => Some(f32::from_be_bytes(raw.try_into().ok()?).into()),
            _ => None,
        }
    }

    fn quick_bool(&self) -> Option<bool> {
        match (self.oid, self.raw?) {
            (pg_oid::BOOL, [b]) => Some(*b != 0),
            _ => None,
        }
    }

    fn quick_timestamp(&self) -> Option<Result<NaiveDateTime>> {
        self.raw?;
        matches!(self.oid, pg_oid::TIMESTAMP | pg_oid::TIMESTAMPTZ).then(|| self.timestamp_of())
    }

    fn quick_text(&self) -> Option<Result<&'r str>> {
        self.raw?;
        (pg_family(self.oid) == Family::Text).then(|| self.text())
    }
}

impl crate::row::RawRow for tokio_postgres::Row {
    fn raw_len(&self) -> usize {
        self.len()
    }
    fn raw_column_name(&self, i: usize) -> Option<&str> {
        self.columns().get(i).map(|c| c.name())
    }
    fn raw_value(&self, i: usize) -> std::result::Result<crate::codec::ValueInner<'_>, String> {
        let Some(column) = self.columns().get(i) else {
            return Err(format!(
                "column index out of range (the row has {})",
                self.len()
            ));
        };
        self.try_get::<_, RawBytes<'_>>(i)
            .map(|raw| {
                let ty = column.type_();
                crate::codec::ValueInner::Pg(PgVal {
                    raw: raw.0,
                    ty,
                    oid: ty.oid(),
                })
            })
            .map_err(|e| e.to_string())
    }
}
