//! PostgreSQL's parameters as tokio-postgres sends them ([`PgArgs`]: each
//! value's type and binary form), the binary forms of the scalar types dal
//! binds, and the binary array format. Names no other part of dal (the codec
//! holds a [`PgArgs`] as one of its argument buffers).

use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike as _};
use dal_schema::ColumnType;
use rust_decimal::Decimal;
use tokio_postgres::types::{IsNull, Kind, ToSql, Type, to_sql_checked};

use crate::error::{Error, Result};

/// The parameters of one PostgreSQL statement: each value's type (the
/// statement is prepared with these types) and its binary form.
#[derive(Default)]
pub(crate) struct PgArgs {
    /// The parameter types, in order.
    pub(crate) types: Vec<Type>,
    /// The values' binary forms, one after another.
    buf: Vec<u8>,
    /// Each value's range in `buf` (`None`: NULL).
    slots: Vec<Option<(u32, u32)>>,
}

/// One parameter as tokio-postgres sends it: its binary form, or NULL. Its
/// `Debug` shows no value (parameters may be secrets, and the driver logs
/// them at debug level).
#[derive(Clone, Copy)]
pub(crate) struct PgParam<'a>(Option<&'a [u8]>);

impl std::fmt::Debug for PgParam<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "<value>" } else { "NULL" })
    }
}

impl ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Some(b) => {
                out.extend_from_slice(b);
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    /// The value was encoded for the type the statement was prepared with.
    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A parameter of no declared type (OID 0): the server infers it from
/// context.
static UNTYPED: LazyLock<Type> =
    LazyLock::new(|| Type::new("unknown".into(), 0, Kind::Pseudo, "pg_catalog".into()));

impl PgArgs {
    pub(crate) fn with_capacity(n: usize) -> Self {
        PgArgs {
            types: Vec::with_capacity(n),
            buf: Vec::with_capacity(n * 8),
            slots: Vec::with_capacity(n),
        }
    }

    /// The parameters, in order, as the driver takes them.
    pub(crate) fn params(&self) -> impl ExactSizeIterator<Item = PgParam<'_>> {
        self.slots
            .iter()
            .map(|s| PgParam(s.map(|(start, end)| &self.buf[start as usize..end as usize])))
    }

    /// The parameters with their types (for statements run unprepared).
    pub(crate) fn typed_params(&self) -> impl Iterator<Item = (PgParam<'_>, Type)> {
        self.params().zip(self.types.iter().cloned())
    }

    /// Append a NULL of type `ty`.
    pub(crate) fn push_null(&mut self, ty: Type) {
        self.types.push(ty);
        self.slots.push(None);
    }

    /// Append a NULL whose type the server infers (OID 0).
    pub(crate) fn push_untyped_null(&mut self) {
        self.push_null(UNTYPED.clone());
    }

    /// Append a NULL array of elements of type `element`.
    pub(crate) fn push_null_array(&mut self, element: &Type) -> Result<()> {
        let ty = array_type_of(element).ok_or_else(|| no_array_type(element))?;
        self.push_null(ty);
        Ok(())
    }

    /// Append a value of type `ty` whose binary form `write` appends.
    pub(crate) fn push_with(&mut self, ty: Type, write: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        let start = self.buf.len();
        write(&mut self.buf);
        let (Ok(s), Ok(e)) = (u32::try_from(start), u32::try_from(self.buf.len())) else {
            return Err(Error::invalid_input(
                "parameter",
                "the statement's parameters exceed 4 GiB",
            ));
        };
        self.types.push(ty);
        self.slots.push(Some((s, e)));
        Ok(())
    }

    pub(crate) fn push(&mut self, ty: Type, bytes: &[u8]) -> Result<()> {
        self.push_with(ty, |b| b.extend_from_slice(bytes))
    }

    /// The binary forms of the values pushed so far (`None`: NULL).
    pub(crate) fn values(&self) -> impl ExactSizeIterator<Item = Option<&[u8]>> {
        self.params().map(|p| p.0)
    }
}

/// The array type whose elements are of type `element` (`None` for a type
/// without a built-in array type).
pub(crate) fn array_type_of(element: &Type) -> Option<Type> {
    let oid = match element.oid() {
        pg_oid::BOOL => 1000,
        pg_oid::BYTEA => 1001,
        pg_oid::INT2 => 1005,
        pg_oid::INT4 => 1007,
        pg_oid::TEXT => 1009,
        pg_oid::VARCHAR => 1015,
        pg_oid::INT8 => 1016,
        pg_oid::FLOAT4 => 1021,
        pg_oid::FLOAT8 => 1022,
        pg_oid::TIMESTAMP => 1115,
        pg_oid::DATE => 1182,
        pg_oid::TIME => 1183,
        pg_oid::TIMESTAMPTZ => 1185,
        pg_oid::NUMERIC => 1231,
        pg_oid::UUID => 2951,
        pg_oid::JSONB => 3807,
        _ => return None,
    };
    Type::from_oid(oid)
}

fn no_array_type(element: &Type) -> Error {
    Error::invalid_input(
        "array",
        format!("{} values cannot be bound as an array", element.name()),
    )
}

/// The PostgreSQL type of an array element of column type `ty` (`None` for
/// a type that is not an array element).
pub(crate) fn element_type(ty: &ColumnType) -> Option<Type> {
    Some(match ty {
        ColumnType::Boolean => Type::BOOL,
        ColumnType::SmallInteger => Type::INT2,
        ColumnType::Integer => Type::INT4,
        ColumnType::BigInteger => Type::INT8,
        ColumnType::Float => Type::FLOAT4,
        ColumnType::Double => Type::FLOAT8,
        ColumnType::Text | ColumnType::String { .. } => Type::TEXT,
        ColumnType::Uuid => Type::UUID,
        ColumnType::Date => Type::DATE,
        ColumnType::Time => Type::TIME,
        ColumnType::Timestamp => Type::TIMESTAMP,
        ColumnType::TimestampTz => Type::TIMESTAMPTZ,
        ColumnType::Decimal { .. } => Type::NUMERIC,
        _ => return None,
    })
}

/// A one-dimensional array of `element` values in PostgreSQL's binary form,
/// from the elements' own binary forms (`None`: NULL); with its array type.
pub(crate) fn write_array<'a>(
    element: &Type,
    items: impl ExactSizeIterator<Item = Option<&'a [u8]>>,
) -> Result<(Type, Vec<u8>)> {
    let array = array_type_of(element).ok_or_else(|| no_array_type(element))?;
    let len = i32::try_from(items.len())
        .map_err(|_| Error::invalid_input("array", "too many elements"))?;
    let mut body = Vec::with_capacity(items.len() * 12);
    let mut has_null = false;
    for item in items {
        match item {
            None => {
                has_null = true;
                body.extend_from_slice(&(-1i32).to_be_bytes());
            }
            Some(b) => {
                let n = i32::try_from(b.len())
                    .map_err(|_| Error::invalid_input("array", "an element exceeds 2 GiB"))?;
                body.extend_from_slice(&n.to_be_bytes());
                body.extend_from_slice(b);
            }
        }
    }
    let mut out = Vec::with_capacity(20 + body.len());
    out.extend_from_slice(&1i32.to_be_bytes()); // dimensions
    out.extend_from_slice(&i32::from(has_null).to_be_bytes());
    out.extend_from_slice(&element.oid().to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes()); // lower bound
    out.extend_from_slice(&body);
    Ok((array, out))
}

/// The elements of a binary array value (`None`: a NULL element). A
/// multi-dimensional array is refused: dal's arrays have one dimension.
pub(crate) fn read_array(raw: &[u8]) -> Result<Vec<Option<&[u8]>>> {
    let mut r = Reader(raw);
    let dims = r.i32()?;
    let _flags = r.i32()?;
    let _element_oid = r.i32()?;
    if dims == 0 {
        return Ok(Vec::new());
    }
    if dims != 1 {
        return Err(Error::decode(
            "",
            format!("a {dims}-dimensional array cannot be read as a Vec"),
        ));
    }
    let len = usize::try_from(r.i32()?).map_err(|_| bad_array())?;
    let _lower = r.i32()?;
    let mut out = Vec::with_capacity(len.min(raw.len() / 4));
    for _ in 0..len {
        let n = r.i32()?;
        out.push(match usize::try_from(n) {
            Ok(n) => Some(r.take(n)?),
            Err(_) => None,
        });
    }
    Ok(out)
}

fn bad_array() -> Error {
    Error::decode("", "malformed binary array")
}

/// Reads a binary array's fields.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(bad_array());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn i32(&mut self) -> Result<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// The OIDs of the built-in types dal reads and writes.
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

/// PostgreSQL counts dates and timestamps from 2000-01-01: that day in
/// microseconds after the Unix epoch, and in days after 0001-01-01 (CE day 1).
pub(crate) const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;
pub(crate) const PG_EPOCH_CE_DAYS: i32 = 730_120;

/// A date as days from 2000-01-01.
pub(crate) fn date_days(v: NaiveDate) -> i32 {
    // chrono's dates span about ±262,000 years: the day count fits
    chrono::Datelike::num_days_from_ce(&v) - PG_EPOCH_CE_DAYS
}

/// A time of day as microseconds from midnight (a leap second counts past
/// 23:59:59.999999, which the server refuses).
pub(crate) fn time_micros(v: NaiveTime) -> i64 {
    i64::from(v.num_seconds_from_midnight()) * 1_000_000 + i64::from(v.nanosecond() / 1_000)
}

/// A timestamp as microseconds from 2000-01-01 (sub-microsecond digits are
/// dropped), or an error naming it when out of range.
pub(crate) fn timestamp_micros(v: NaiveDateTime) -> Result<i64> {
    v.and_utc()
        .timestamp_micros()
        .checked_sub(PG_EPOCH_UNIX_MICROS)
        .ok_or_else(|| Error::invalid_input("timestamp", format!("{v} is out of range")))
}

/// A decimal in PostgreSQL's binary NUMERIC form.
pub(crate) fn numeric_bytes(v: Decimal) -> Result<bytes::BytesMut> {
    let mut out = bytes::BytesMut::with_capacity(16);
    v.to_sql(&Type::NUMERIC, &mut out)
        .map_err(|e| Error::invalid_input("decimal", e.to_string()))?;
    Ok(out)
}
