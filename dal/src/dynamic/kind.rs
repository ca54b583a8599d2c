//! Field kinds of dynamic entities: inferring a kind from a JSON value, deciding
//! whether a new value fits a field, and converting values to parameters and
//! columns back to JSON (the same formatting both ways, so what `save` returns is
//! what `get` returns).

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};
use dal_schema::ColumnType;
use serde_json::Value as J;

use crate::codec::{Arguments, Encode, SqlKind};
use crate::error::Result;
use crate::row::Row;
use crate::value::Value;

/// The type of one field of a dynamic entity, inferred from the first non-null
/// value saved in it and recorded in the `dal_dynamic_fields` table.
///
/// | JSON value | kind | column |
/// |---|---|---|
/// | integer (fits `i64`) | [`BigInteger`](FieldKind::BigInteger) | `BIGINT` |
/// | any other number | [`Double`](FieldKind::Double) | `DOUBLE PRECISION` / `DOUBLE` |
/// | `true` / `false` | [`Boolean`](FieldKind::Boolean) | `BOOLEAN` (`TINYINT(1)` on MySQL, 0/1 on SQLite) |
/// | `"YYYY-MM-DD"` | [`Date`](FieldKind::Date) | `DATE` |
/// | RFC 3339 or `"YYYY-MM-DD HH:MM:SS[.f]"` | [`TimestampTz`](FieldKind::TimestampTz) | `TIMESTAMPTZ` / `DATETIME(6)` (UTC) |
/// | any other string | [`Text`](FieldKind::Text) | `TEXT` (`MEDIUMTEXT` on MySQL) |
/// | object or array | [`Json`](FieldKind::Json) | `JSONB` / `JSON` |
///
/// ```
/// use dal::FieldKind;
/// assert_eq!(FieldKind::BigInteger.as_str(), "big_integer");
/// assert_eq!("timestamp_tz".parse::<FieldKind>(), Ok(FieldKind::TimestampTz));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// A JSON integer that fits a signed 64-bit integer.
    BigInteger,
    /// Any other JSON number (and integers saved into a field that holds doubles).
    Double,
    /// `true` or `false`.
    Boolean,
    /// A string that is an ISO calendar date, `YYYY-MM-DD`; read back unchanged.
    Date,
    /// A string that is an ISO date and time: RFC 3339 (`2024-05-01T12:30:00Z`,
    /// `..+02:00`) or `YYYY-MM-DD HH:MM:SS[.f]` (taken as UTC). Stored as an
    /// instant with microsecond precision and read back as RFC 3339 in UTC
    /// (`2024-05-01T10:30:00Z`).
    TimestampTz,
    /// Any other string.
    Text,
    /// A JSON object or array, stored as a JSON document.
    Json,
}

impl FieldKind {
    /// Every kind, in a fixed order.
    pub const ALL: [FieldKind; 7] = [
        FieldKind::BigInteger,
        FieldKind::Double,
        FieldKind::Boolean,
        FieldKind::Date,
        FieldKind::TimestampTz,
        FieldKind::Text,
        FieldKind::Json,
    ];

    /// The name recorded in the metadata table: the blueprint builder's name of
    /// the column type (`big_integer`, `double`, `boolean`, `date`,
    /// `timestamp_tz`, `text`, `json`).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::BigInteger => "big_integer",
            FieldKind::Double => "double",
            FieldKind::Boolean => "boolean",
            FieldKind::Date => "date",
            FieldKind::TimestampTz => "timestamp_tz",
            FieldKind::Text => "text",
            FieldKind::Json => "json",
        }
    }

    /// The blueprint column type of fields of this kind.
    pub fn column_type(self) -> ColumnType {
        match self {
            FieldKind::BigInteger => ColumnType::BigInteger,
            FieldKind::Double => ColumnType::Double,
            FieldKind::Boolean => ColumnType::Boolean,
            FieldKind::Date => ColumnType::Date,
            FieldKind::TimestampTz => ColumnType::TimestampTz,
            FieldKind::Text => ColumnType::Text,
            FieldKind::Json => ColumnType::Json,
        }
    }

    pub(crate) fn sql_kind(self) -> SqlKind {
        match self {
            FieldKind::BigInteger => SqlKind::BigInt,
            FieldKind::Double => SqlKind::Double,
            FieldKind::Boolean => SqlKind::Bool,
            FieldKind::Date => SqlKind::Date,
            FieldKind::TimestampTz => SqlKind::TimestampTz,
            FieldKind::Text => SqlKind::Text,
            FieldKind::Json => SqlKind::Json,
        }
    }

    /// Strings that are dates or date-times are strings too.
    fn is_string(self) -> bool {
        matches!(
            self,
            FieldKind::Text | FieldKind::Date | FieldKind::TimestampTz
        )
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for FieldKind {
    type Err = String;

    /// Parses the names written by [`FieldKind::as_str`].
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        FieldKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown dynamic field kind `{s}`"))
    }
}

/// The kind of a JSON value; `Ok(None)` for `null`. `Err` says why the value
/// cannot be stored.
pub(crate) fn infer(value: &J) -> std::result::Result<Option<FieldKind>, String> {
    Ok(Some(match value {
        J::Null => return Ok(None),
        J::Bool(_) => FieldKind::Boolean,
        J::Number(n) if n.is_i64() => FieldKind::BigInteger,
        J::Number(n) if n.is_u64() => {
            return Err(format!(
                "the integer {n} does not fit a signed 64-bit integer"
            ));
        }
        J::Number(_) => FieldKind::Double,
        J::String(s) if parse_date(s).is_some() => FieldKind::Date,
        J::String(s) if parse_timestamp(s).is_some() => FieldKind::TimestampTz,
        J::String(_) => FieldKind::Text,
        J::Array(_) | J::Object(_) => FieldKind::Json,
    }))
}

/// The kind a new field gets when one batch holds values of kinds `a` and `b`:
/// integers and doubles make a double field, strings of different shapes a text
/// field. `None` when they cannot share a field.
pub(crate) fn merge(a: FieldKind, b: FieldKind) -> Option<FieldKind> {
    use FieldKind as K;
    match (a, b) {
        _ if a == b => Some(a),
        (K::BigInteger, K::Double) | (K::Double, K::BigInteger) => Some(K::Double),
        _ if a.is_string() && b.is_string() => Some(K::Text),
        _ => None,
    }
}

/// What saving a value of kind `incoming` into a field of kind `existing` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fit {
    /// The field stores it as is (converted to the field's kind).
    Fits,
    /// The field's column must widen to this kind first.
    Widen(FieldKind),
}

/// Whether a value of kind `incoming` can go into a field of kind `existing`.
///
/// A field's kind is fixed by its first value, with two allowances: an integer
/// field widens to double when a fractional number arrives (the column is altered
/// on PostgreSQL and MySQL; SQLite's integer-affinity column keeps reals as they
/// are), and a text field takes any string, date-shaped or not. Everything else
/// is an error naming both kinds.
pub(crate) fn fit(
    field: &str,
    existing: FieldKind,
    incoming: FieldKind,
) -> std::result::Result<Fit, String> {
    use FieldKind as K;
    match (existing, incoming) {
        _ if existing == incoming => Ok(Fit::Fits),
        (K::Double, K::BigInteger) => Ok(Fit::Fits),
        (K::BigInteger, K::Double) => Ok(Fit::Widen(K::Double)),
        (K::Text, K::Date | K::TimestampTz) => Ok(Fit::Fits),
        _ => Err(format!(
            "field `{field}` holds {existing} values and cannot take a {incoming} value \
             (a field's type is set by its first value; only big_integer widens to double, \
             and text takes any string)"
        )),
    }
}

/// One statement parameter of a dynamic entity's SQL.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// A NULL of a known kind (PostgreSQL keeps the statement prepared with it).
    Null(SqlKind),
    Int(i64),
    Float(f64),
    Bool(bool),
    Date(NaiveDate),
    Timestamp(DateTime<Utc>),
    Text(String),
    Json(J),
    /// A caller's filter parameter.
    Value(Value),
}

impl Encode for Cell {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        match self {
            Cell::Null(kind) => out.push_null_of(*kind),
            Cell::Int(i) => out.push_i64(*i),
            Cell::Float(f) => out.push_f64(*f),
            Cell::Bool(b) => out.push_bool(*b),
            Cell::Date(d) => out.push_date(*d),
            Cell::Timestamp(t) => out.push_timestamp_tz(*t),
            Cell::Text(s) => out.push_str(s),
            Cell::Json(j) => out.push_json(j),
            Cell::Value(v) => out.push_value(v),
        }
    }
}

impl Cell {
    /// Text, or a typed NULL.
    pub(crate) fn opt_text(s: Option<&str>) -> Cell {
        s.map_or(Cell::Null(SqlKind::Text), |s| Cell::Text(s.to_string()))
    }
}

/// Convert a non-null JSON value for a field of `kind` (which [`fit`] accepted).
pub(crate) fn to_cell(kind: FieldKind, value: &J) -> std::result::Result<Cell, String> {
    let bad = || format!("{value} is not a {kind} value");
    Ok(match kind {
        FieldKind::BigInteger => Cell::Int(value.as_i64().ok_or_else(bad)?),
        FieldKind::Double => Cell::Float(exact_double(value).ok_or_else(|| {
            if value.is_i64() {
                format!(
                    "the integer {value} has no exact double (beyond ±2^53 a double drops digits), \
                     and this field holds doubles"
                )
            } else {
                bad()
            }
        })?),
        FieldKind::Boolean => Cell::Bool(value.as_bool().ok_or_else(bad)?),
        FieldKind::Date => Cell::Date(value.as_str().and_then(parse_date).ok_or_else(bad)?),
        FieldKind::TimestampTz => {
            Cell::Timestamp(value.as_str().and_then(parse_timestamp).ok_or_else(bad)?)
        }
        FieldKind::Text => Cell::Text(value.as_str().ok_or_else(bad)?.to_string()),
        FieldKind::Json => match value {
            J::Array(_) | J::Object(_) => Cell::Json(value.clone()),
            _ => return Err(bad()),
        },
    })
}

/// A JSON number as a double, if the double is exactly that number (integers
/// beyond ±2^53 are not).
pub(crate) fn exact_double(value: &J) -> Option<f64> {
    match value.as_i64() {
        Some(i) => {
            let f = i as f64;
            (f as i128 == i128::from(i)).then_some(f)
        }
        None => value.as_f64(),
    }
}

/// The JSON a stored cell reads back as.
pub(crate) fn cell_json(cell: &Cell) -> J {
    match cell {
        Cell::Null(_) => J::Null,
        Cell::Int(i) => J::from(*i),
        Cell::Float(f) => float_json(*f),
        Cell::Bool(b) => J::Bool(*b),
        Cell::Date(d) => J::String(format_date(*d)),
        Cell::Timestamp(t) => J::String(format_timestamp(*t)),
        Cell::Text(s) => J::String(s.clone()),
        Cell::Json(j) => j.clone(),
        Cell::Value(v) => v.to_json(),
    }
}

fn float_json(f: f64) -> J {
    serde_json::Number::from_f64(f).map_or(J::Null, J::Number)
}

/// Read column `i` of `row` as a field of `kind`; `null` for SQL NULL.
pub(crate) fn decode(row: &Row<'_>, i: usize, kind: FieldKind) -> Result<J> {
    Ok(match kind {
        // a column widened by another process before this one re-read the
        // metadata holds doubles: show them rather than fail
        FieldKind::BigInteger => match row.get::<Option<i64>, _>(i) {
            Ok(v) => v.map_or(J::Null, J::from),
            Err(_) => row.get::<Option<f64>, _>(i)?.map_or(J::Null, float_json),
        },
        FieldKind::Double => row.get::<Option<f64>, _>(i)?.map_or(J::Null, float_json),
        FieldKind::Boolean => row.get::<Option<bool>, _>(i)?.map_or(J::Null, J::Bool),
        FieldKind::Date => row
            .get::<Option<NaiveDate>, _>(i)?
            .map_or(J::Null, |d| J::String(format_date(d))),
        FieldKind::TimestampTz => row
            .get::<Option<DateTime<Utc>>, _>(i)?
            .map_or(J::Null, |t| J::String(format_timestamp(t))),
        FieldKind::Text => row.get::<Option<String>, _>(i)?.map_or(J::Null, J::String),
        FieldKind::Json => row.get::<Option<J>, _>(i)?.unwrap_or(J::Null),
    })
}

/// `YYYY-MM-DD`, exactly (ten characters), and a real calendar date.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// RFC 3339 (`T`, `t` or space between date and time) or a zone-less
/// `YYYY-MM-DD[T ]HH:MM:SS[.f]` taken as UTC; truncated to microseconds, the
/// precision every backend stores.
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    // Any string may arrive here: `get` refuses a cut inside a multi-byte
    // character instead of panicking. Once the first ten bytes are a date (ASCII
    // digits and `-`) and byte 10 is an ASCII separator, byte 11 starts a
    // character too.
    let date = s.get(..10)?;
    let shape = b.len() >= 19
        && parse_date(date).is_some()
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !shape {
        return None;
    }
    let t_form = format!("{date}T{}", s.get(11..)?);
    let instant = DateTime::parse_from_rfc3339(&t_form)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(&t_form, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })?;
    truncate_micros(instant)
}

/// Drop sub-microsecond digits (servers keep microseconds).
pub(crate) fn truncate_micros(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    t.with_nanosecond(t.nanosecond() / 1_000 * 1_000)
}

pub(crate) fn format_date(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// RFC 3339 in UTC with `Z`, with as many fractional digits as needed (0, 3 or 6).
pub(crate) fn format_timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn infers_kinds_from_json() {
        let cases = [
            (json!(36), Some(FieldKind::BigInteger)),
            (json!(-7), Some(FieldKind::BigInteger)),
            (json!(1.5), Some(FieldKind::Double)),
            (json!(2.0), Some(FieldKind::Double)),
            (json!(true), Some(FieldKind::Boolean)),
            (json!("1815-12-10"), Some(FieldKind::Date)),
            (json!("2024-02-30"), Some(FieldKind::Text)),
            (json!("2024-1-5"), Some(FieldKind::Text)),
            (json!("2024-01-31T10:20:30Z"), Some(FieldKind::TimestampTz)),
            (
                json!("2024-01-31t10:20:30.5+02:00"),
                Some(FieldKind::TimestampTz),
            ),
            (json!("2024-01-31 10:20:30"), Some(FieldKind::TimestampTz)),
            (
                json!("2024-01-31 10:20:30.123456"),
                Some(FieldKind::TimestampTz),
            ),
            (json!("2024-01-31 10:20"), Some(FieldKind::Text)),
            (json!("2024-01-31T25:20:30Z"), Some(FieldKind::Text)),
            (json!("hello"), Some(FieldKind::Text)),
            (json!(""), Some(FieldKind::Text)),
            (json!([1]), Some(FieldKind::Json)),
            (json!({"a": 1}), Some(FieldKind::Json)),
            (json!(null), None),
        ];
        for (value, want) in cases {
            assert_eq!(infer(&value).unwrap(), want, "{value}");
        }
        assert!(infer(&json!(u64::MAX)).is_err());
    }

    #[test]
    fn timestamps_normalise_to_utc() {
        let t = parse_timestamp("2024-01-31T12:20:30.5+02:00").unwrap();
        assert_eq!(format_timestamp(t), "2024-01-31T10:20:30.500Z");
        let t = parse_timestamp("2024-01-31 10:20:30").unwrap();
        assert_eq!(format_timestamp(t), "2024-01-31T10:20:30Z");
        let t = parse_timestamp("2024-01-31T10:20:30.123456789Z").unwrap();
        assert_eq!(format_timestamp(t), "2024-01-31T10:20:30.123456Z");
        let t = parse_timestamp("2024-01-31T10:20:30Z").unwrap();
        assert_eq!(format_timestamp(t), "2024-01-31T10:20:30Z");
    }

    #[test]
    fn fit_rules() {
        use FieldKind as K;
        assert_eq!(fit("a", K::BigInteger, K::BigInteger), Ok(Fit::Fits));
        assert_eq!(
            fit("a", K::BigInteger, K::Double),
            Ok(Fit::Widen(K::Double))
        );
        assert_eq!(fit("a", K::Double, K::BigInteger), Ok(Fit::Fits));
        assert_eq!(fit("a", K::Text, K::Date), Ok(Fit::Fits));
        let e = fit("age", K::BigInteger, K::Text).unwrap_err();
        assert!(e.contains("`age`") && e.contains("big_integer") && e.contains("text"));
        assert!(fit("d", K::Date, K::Text).is_err());
        assert!(fit("j", K::Json, K::Text).is_err());
        assert_eq!(merge(K::BigInteger, K::Double), Some(K::Double));
        assert_eq!(merge(K::Date, K::Text), Some(K::Text));
        assert_eq!(merge(K::Boolean, K::Text), None);
    }

    #[test]
    fn kind_names_round_trip() {
        for k in FieldKind::ALL {
            assert_eq!(k.as_str().parse::<FieldKind>(), Ok(k));
            assert_eq!(k.as_str(), k.column_type().builder_name());
        }
    }

    #[test]
    fn cells_read_back_as_normalised_json() {
        let c = to_cell(FieldKind::Double, &json!(36)).unwrap();
        assert_eq!(cell_json(&c), json!(36.0));
        let c = to_cell(FieldKind::Date, &json!("1815-12-10")).unwrap();
        assert_eq!(cell_json(&c), json!("1815-12-10"));
        let c = to_cell(FieldKind::Text, &json!("1815-12-10")).unwrap();
        assert_eq!(c, Cell::Text("1815-12-10".into()));
        assert!(to_cell(FieldKind::Json, &json!(1)).is_err());
        // integers go into double fields only when the double is exact
        let exact = 1i64 << 53;
        assert_eq!(
            to_cell(FieldKind::Double, &json!(exact)).unwrap(),
            Cell::Float(exact as f64)
        );
        assert!(to_cell(FieldKind::Double, &json!(exact + 1)).is_err());
        assert!(to_cell(FieldKind::Double, &json!(i64::MAX)).is_err());
        assert!(to_cell(FieldKind::Double, &json!(i64::MIN)).is_ok());
    }

    #[test]
    fn timestamps_with_multi_byte_text_never_panic() {
        // a multi-byte character at every byte position of strings long
        // enough to be probed as timestamps
        let base = "2024-01-31T10:20:30.123456Z";
        for c in ['é', '€', '😀'] {
            for at in 0..=base.len() {
                let mut s: String = base.chars().take(at).collect();
                s.push(c);
                s.extend(base.chars().skip(at));
                assert_eq!(parse_timestamp(&s), None, "{s}");
                assert_eq!(infer(&json!(s)).unwrap(), Some(FieldKind::Text), "{s}");
                let long = format!("{}{c}{}", &"x".repeat(at), "y".repeat(25));
                assert_eq!(infer(&json!(long)).unwrap(), Some(FieldKind::Text));
            }
        }
        assert!(parse_timestamp("2024-01-31T10:20:30Z").is_some());
    }
}
