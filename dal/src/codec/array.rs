//! `Vec<T>` of scalars as one column value: a native array on PostgreSQL, a
//! JSON array (text) on MySQL, MariaDB and SQLite.
//!
//! Each element of a JSON array is written the way SQLite stores the scalar
//! on its own (dates and times as ISO-8601 text, UUIDs hyphenated, booleans as
//! `true`/`false`, decimals as strings so no digit is lost) and read back
//! through the same conversions as a scalar column, so an element converts
//! exactly like a column value does (range checks included). `Vec<u8>` is
//! not an array: it stays binary data, because `u8` is no [`ArrayElement`].

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use dal_schema::{ColumnType, Dialect};
use rust_decimal::Decimal;
use uuid::Uuid;

#[cfg(feature = "postgres")]
use super::ArgsInner;
use super::{Arguments, Decode, Encode, Family, ScalarRef, ValueInner, ValueRef};

use crate::error::{Error, Result};

/// A scalar type a `Vec<T>` column can hold: `i16`, `i32`, `i64`, `f32`,
/// `f64`, `bool`, `String`, `uuid::Uuid`, chrono's `NaiveDate`, `NaiveTime`,
/// `NaiveDateTime` and `DateTime<Utc>`, and `rust_decimal::Decimal`.
///
/// A `Vec<T>` field is then an array column ([`ColumnType::Array`]): a
/// native array of the element's type on PostgreSQL (`BIGINT[]`, `TEXT[]`,
/// ...), a JSON array in a `JSON` column on MySQL, MariaDB and SQLite.
/// `Option<Vec<T>>` is a nullable array column. Reading a NULL element, or a
/// stored value that is not an array, is an [`Error::Decode`].
///
/// `u8` is deliberately not an element: `Vec<u8>` is binary data. The trait
/// is sealed: the element types are the ones every backend stores the same
/// way in a PostgreSQL array and in a JSON array.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use dal::Entity;
///
/// #[derive(Entity, Debug, PartialEq)]
/// #[dal(table = "posts")]
/// struct Post {
///     #[dal(id)]
///     id: i64,
///     tags: Vec<String>,          // TEXT[] on PostgreSQL, a JSON array elsewhere
///     scores: Option<Vec<f64>>,   // a nullable array
/// }
///
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// Post::ensure_schema(&db).await?;
/// let mut p = Post { id: 0, tags: vec!["rust".into(), "sql".into()], scores: None };
/// p.save(&db).await?;
/// assert_eq!(Post::get(&db, p.id).await?, Some(p));
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of an array column",
    label = "not an array element type",
    note = "array columns (`Vec<T>`) hold i16, i32, i64, f32, f64, bool, String, Uuid, chrono dates and times, or Decimal; `Vec<u8>` is binary data",
    note = "store anything else (nested lists, structs) as JSON with `#[dal(json)]`"
)]
pub trait ArrayElement: sealed::Element {}

pub(crate) mod sealed {
    use super::*;

    /// What an element type does on each backend (not public API).
    pub trait Element: Encode + Decode + Clone + Send + Sync + Sized + 'static {
        /// The column type of one element.
        fn element_type() -> ColumnType;
        /// The element as a JSON value (MySQL, MariaDB, SQLite).
        fn to_json(&self) -> Result<serde_json::Value>;
        /// The element's Rust name (in decode errors).
        const NAME: &'static str;
        /// A code for the statement's parameter-type signature.
        const KIND: u64;
    }
}

use sealed::Element;

fn null_element(i: usize) -> Error {
    Error::decode(
        "",
        format!("array element {i} is NULL; an array column holds no NULL elements"),
    )
}

macro_rules! element {
    ($t:ty, $name:literal, $kind:expr, $code:literal, |$v:ident| $json:expr) => {
        impl ArrayElement for $t {}
        impl Element for $t {
            fn element_type() -> ColumnType {
                $kind
            }
            fn to_json(&self) -> Result<serde_json::Value> {
                let $v = self;
                $json
            }
            const NAME: &'static str = $name;
            const KIND: u64 = $code;
        }
    };
}

/// An integer element: read from any integer array (`SMALLINT[]`, `INTEGER[]`,
/// `BIGINT[]`), each value checked to fit.
macro_rules! int_element {
    ($t:ty, $name:literal, $kind:expr, $code:literal) => {
        impl ArrayElement for $t {}
        impl Element for $t {
            fn element_type() -> ColumnType {
                $kind
            }
            fn to_json(&self) -> Result<serde_json::Value> {
                Ok(serde_json::Value::from(*self))
            }
            const NAME: &'static str = $name;
            const KIND: u64 = $code;
        }
    };
}

int_element!(i16, "i16", ColumnType::SmallInteger, 1);
int_element!(i32, "i32", ColumnType::Integer, 2);
int_element!(i64, "i64", ColumnType::BigInteger, 3);

fn json_float(v: f64) -> Result<serde_json::Value> {
    serde_json::Number::from_f64(v)
        .map(serde_json::Value::Number)
        .ok_or_else(|| {
            Error::invalid_input(
                "array element",
                format!("{v} cannot be stored in a JSON array (JSON has no NaN or infinity)"),
            )
        })
}

element!(f32, "f32", ColumnType::Float, 4, |v| {
    // the shortest text that reads back as this f32, not its f64 widening
    match v.to_string().parse::<f64>() {
        Ok(wide) if v.is_finite() => json_float(wide),
        _ => json_float(f64::from(*v)),
    }
});
element!(f64, "f64", ColumnType::Double, 5, |v| json_float(*v));
element!(bool, "bool", ColumnType::Boolean, 6, |v| Ok(
    serde_json::Value::Bool(*v)
));
element!(String, "String", ColumnType::Text, 7, |v| Ok(
    serde_json::Value::String(v.clone())
));
element!(Uuid, "Uuid", ColumnType::Uuid, 8, |v| Ok(
    serde_json::Value::String(v.hyphenated().to_string())
));
element!(NaiveDate, "NaiveDate", ColumnType::Date, 9, |v| Ok(
    serde_json::Value::String(v.format("%Y-%m-%d").to_string())
));
element!(NaiveTime, "NaiveTime", ColumnType::Time, 10, |v| Ok(
    serde_json::Value::String(v.format("%H:%M:%S%.6f").to_string())
));
element!(
    NaiveDateTime,
    "NaiveDateTime",
    ColumnType::Timestamp,
    11,
    |v| Ok(serde_json::Value::String(
        v.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    ))
);
element!(
    DateTime<Utc>,
    "DateTime<Utc>",
    ColumnType::TimestampTz,
    12,
    |v| Ok(serde_json::Value::String(
        v.naive_utc()
            .format("%Y-%m-%d %H:%M:%S%.6f+00:00")
            .to_string()
    ))
);
element!(
    Decimal,
    "Decimal",
    ColumnType::Decimal {
        precision: 20,
        scale: 6
    },
    13,
    // text keeps every digit (a JSON number would be read back as a float)
    |v| Ok(serde_json::Value::String(v.to_string()))
);

/// The elements as a JSON array's text.
fn json_text<T: ArrayElement>(values: &[T]) -> Result<String> {
    let items = values
        .iter()
        .map(Element::to_json)
        .collect::<Result<Vec<_>>>()?;
    serde_json::to_string(&items).map_err(|e| Error::invalid_input("array", e.to_string()))
}

/// PostgreSQL's native arrays: the elements encoded one by one through their
/// own [`Encode`] into the binary array format, and read back one by one
/// through their own [`Decode`].
#[cfg(feature = "postgres")]
mod pg {
    use tokio_postgres::types::{Kind, Type};

    use super::ArrayElement;
    use crate::backend::postgres::args;
    use crate::codec::{ArgsInner, Arguments, PgVal, ValueInner, ValueRef};
    use crate::error::{Error, Result};
    use dal_schema::Dialect;

    /// The PostgreSQL type of `T`'s elements.
    pub(super) fn element_type<T: ArrayElement>() -> Type {
        args::element_type(&T::element_type()).unwrap_or(Type::TEXT)
    }

    /// `values` as one array of `element`, with the array's type.
    pub(super) fn encode_array<T: ArrayElement>(
        values: &[T],
        element: Type,
    ) -> Result<(Type, Vec<u8>)> {
        let mut items = Arguments::with_capacity(Dialect::Postgres, values.len());
        for v in values {
            v.encode(&mut items)?;
        }
        let ArgsInner::Pg(items) = items.take_inner() else {
            return Err(Error::Driver(
                "array elements encoded for another dialect".into(),
            ));
        };
        args::write_array(&element, items.values())
    }

    /// Read a PostgreSQL array whose element type is of `T`'s family.
    pub(super) fn decode_array<T: ArrayElement>(v: &PgVal<'_>) -> Result<Vec<T>> {
        let refuse = || {
            let name = ValueRef {
                inner: ValueInner::Pg(*v),
            }
            .type_name();
            Error::decode(
                "",
                format!("cannot read a {name} value as Vec<{}>", T::NAME),
            )
        };
        let Kind::Array(element) = v.ty.kind() else {
            return Err(refuse());
        };
        // the element type's family, asked of a (non-NULL) probe value
        let probe = ValueRef {
            inner: ValueInner::Pg(PgVal {
                raw: Some(&[]),
                ty: element,
                oid: element.oid(),
            }),
        };
        let want_ty = element_type::<T>();
        let want = ValueRef {
            inner: ValueInner::Pg(PgVal {
                raw: Some(&[]),
                ty: &want_ty,
                oid: want_ty.oid(),
            }),
        }
        .family();
        if probe.family() != want {
            return Err(refuse());
        }
        let raw = v
            .raw
            .ok_or_else(|| Error::decode("", "unexpected NULL array"))?;
        let items = args::read_array(raw)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            let Some(bytes) = item else {
                return Err(super::null_element(i));
            };
            let value = ValueRef {
                inner: ValueInner::Pg(PgVal {
                    raw: Some(bytes),
                    ty: element,
                    oid: element.oid(),
                }),
            };
            out.push(T::decode(value).map_err(|e| match e {
                Error::Decode { reason, .. } => {
                    Error::decode("", format!("array element {i}: {reason}"))
                }
                other => other,
            })?);
        }
        Ok(out)
    }
}

/// Signature code of an array of `T` (PostgreSQL prepares per parameter types).
fn kind_code<T: ArrayElement>() -> u64 {
    0x4152_5241_5900_0000 ^ T::KIND
}

impl<'q> Arguments<'q> {
    /// Push an array: a native array on PostgreSQL, a JSON array (text)
    /// elsewhere. Floats are refused where the backend cannot store them
    /// unchanged (see the rules on [`Encode`]); NaN and infinities in a JSON
    /// array are refused (JSON has none).
    pub(crate) fn push_array<T: ArrayElement>(&mut self, values: &'q [T]) -> Result<()> {
        match &mut self.inner {
            #[cfg(feature = "postgres")]
            ArgsInner::Pg(_) => {
                let (ty, bytes) = pg::encode_array(values, pg::element_type::<T>())?;
                if let ArgsInner::Pg(a) = &mut self.inner {
                    a.push(ty, &bytes)?;
                }
                self.mark(kind_code::<T>());
                Ok(())
            }
            #[cfg(feature = "postgres")]
            ArgsInner::PgCopy(_) => {
                let (_, bytes) = pg::encode_array(values, pg::element_type::<T>())?;
                let ArgsInner::PgCopy(c) = &mut self.inner else {
                    return Ok(());
                };
                c.write(crate::backend::postgres::copy::CopyValue::Array(bytes))?;
                self.mark(kind_code::<T>());
                Ok(())
            }
            _ => {
                let text = json_text(values)?;
                self.push_string(text)
            }
        }
    }

    /// Push a NULL array (typed on PostgreSQL).
    #[cfg_attr(not(feature = "postgres"), allow(clippy::extra_unused_type_parameters))]
    pub(crate) fn push_null_array<T: ArrayElement>(&mut self) -> Result<()> {
        match &mut self.inner {
            #[cfg(feature = "postgres")]
            ArgsInner::Pg(a) => {
                a.push_null_array(&pg::element_type::<T>())?;
                self.mark(kind_code::<T>());
                Ok(())
            }
            _ => self.push_null_of(super::SqlKind::Json),
        }
    }
}

/// A `Vec<T>` of scalars is one array value (see [`ArrayElement`]).
impl<T: ArrayElement> Encode for Vec<T> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        if !out.text_holds_nul() {
            for v in self {
                check_pg_element(v, out)?;
            }
        }
        out.push_array(self.as_slice())
    }
    fn encode_null(out: &mut Arguments<'_>) -> Result<()> {
        out.push_null_array::<T>()
    }
}

/// PostgreSQL text cannot hold U+0000: refuse it in a text element as in a
/// text parameter.
fn check_pg_element<T: ArrayElement>(v: &T, out: &Arguments<'_>) -> Result<()> {
    if let Some(s) = (v as &dyn std::any::Any).downcast_ref::<String>()
        && s.as_bytes().contains(&0)
    {
        return Err(Error::invalid_input(
            format!("parameter {}", out.len() + 1),
            crate::checks::PG_NUL_TEXT,
        ));
    }
    Ok(())
}

impl<T: ArrayElement> Decode for Vec<T> {
    fn decode(value: ValueRef<'_>) -> Result<Self> {
        #[cfg(feature = "postgres")]
        if let ValueInner::Pg(v) = &value.inner
            && !value.is_null()
            && value.family() == Family::Other
        {
            return pg::decode_array::<T>(v);
        }
        match value.family() {
            Family::Null => Err(Error::decode(
                "",
                "unexpected NULL (read a nullable array as Option<Vec<T>>)",
            )),
            Family::Json | Family::Text | Family::Bytes => {
                let doc: serde_json::Value = serde_json::from_slice(value.json_bytes()?)
                    .map_err(|e| Error::decode("", format!("invalid JSON array: {e}")))?;
                from_json(doc)
            }
            // SQLite's NUMERIC affinity stores a top-level JSON number as a number
            Family::Int | Family::Float | Family::Decimal => Err(Error::decode(
                "",
                format!(
                    "expected a JSON array, found a number (a {} value)",
                    value.type_name()
                ),
            )),
            _ => Err(Error::decode(
                "",
                format!("expected an array, found a {} value", value.type_name()),
            )),
        }
    }
}

/// The elements of a JSON array, each read like the SQLite scalar it is
/// written as.
fn from_json<T: ArrayElement>(doc: serde_json::Value) -> Result<Vec<T>> {
    let serde_json::Value::Array(items) = doc else {
        return Err(Error::decode(
            "",
            format!("expected a JSON array, found {}", json_kind(&doc)),
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        use ScalarRef as R;
        let raw = match item {
            serde_json::Value::Null => return Err(null_element(i)),
            serde_json::Value::Bool(b) => R::Integer(i64::from(*b)),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(v) => R::Integer(v),
                None => R::Real(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => R::Text(s.as_bytes()),
            other => {
                return Err(Error::decode(
                    "",
                    format!("array element {i} is {}, not a scalar", json_kind(other)),
                ));
            }
        };
        let v = T::decode(ValueRef {
            inner: ValueInner::Scalar(raw),
        })
        .map_err(|e| match e {
            Error::Decode { reason, .. } => {
                Error::decode("", format!("array element {i}: {reason}"))
            }
            other => other,
        })?;
        out.push(v);
    }
    Ok(out)
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The column type of an array of `T`.
pub(crate) fn array_type<T: ArrayElement>() -> ColumnType {
    ColumnType::array(T::element_type())
}

/// One element bound for a filter ([`crate::entity::Col::contains`]): the
/// element itself on PostgreSQL, its JSON text on MySQL, MariaDB and SQLite
/// (compared with the stored JSON array's elements there).
pub(crate) struct ElementProbe<T>(pub(crate) T);

impl<T: ArrayElement> Encode for ElementProbe<T> {
    fn encode<'q>(&'q self, out: &mut Arguments<'q>) -> Result<()> {
        match out.dialect() {
            Dialect::Postgres => {
                check_pg_element(&self.0, out)?;
                self.0.encode(out)
            }
            Dialect::MySql | Dialect::Sqlite => {
                let text = serde_json::to_string(&self.0.to_json()?)
                    .map_err(|e| Error::invalid_input("array element", e.to_string()))?;
                out.push_string(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::SqliteArg;

    fn sqlite_text(args: &Arguments<'_>) -> String {
        match args.sqlite_args().and_then(|a| a.first()) {
            Some(SqliteArg::Text(t)) => t.to_string(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_forms() {
        let mut a = Arguments::new(Dialect::Sqlite);
        let v = vec!["a \"quoted\" é".to_string(), String::new()];
        v.encode(&mut a).unwrap();
        assert_eq!(sqlite_text(&a), r#"["a \"quoted\" é",""]"#);
        let mut a = Arguments::new(Dialect::Sqlite);
        let floats = vec![0.1f32, 2.5];
        floats.encode(&mut a).unwrap();
        assert_eq!(sqlite_text(&a), "[0.1,2.5]");
        let mut a = Arguments::new(Dialect::Sqlite);
        let d: Decimal = "12.50".parse().unwrap();
        let decimals = vec![d];
        decimals.encode(&mut a).unwrap();
        assert_eq!(sqlite_text(&a), r#"["12.50"]"#);
        let mut a = Arguments::new(Dialect::MySql);
        let nan = vec![f64::NAN];
        let err = nan.encode(&mut a).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }

    #[test]
    fn reads_json_arrays() {
        let v: Vec<i64> = from_json(serde_json::json!([1, -2, 3])).unwrap();
        assert_eq!(v, [1, -2, 3]);
        let v: Vec<NaiveDate> = from_json(serde_json::json!(["2024-01-31"])).unwrap();
        assert_eq!(v, [NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()]);
        let v: Vec<bool> = from_json(serde_json::json!([true, false])).unwrap();
        assert_eq!(v, [true, false]);
        for (doc, want) in [
            (
                serde_json::json!({"a": 1}),
                "expected a JSON array, found an object",
            ),
            (
                serde_json::json!(7),
                "expected a JSON array, found a number",
            ),
            (serde_json::json!([1, null]), "array element 1 is NULL"),
            (
                serde_json::json!([[1]]),
                "array element 0 is an array, not a scalar",
            ),
            (serde_json::json!(["x"]), "array element 0: "),
            (
                serde_json::json!([40000]),
                "array element 0: 40000 is out of range",
            ),
        ] {
            let err = from_json::<i16>(doc).unwrap_err();
            match &err {
                Error::Decode { reason, .. } => assert!(reason.contains(want), "{reason}"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn probes_are_json_outside_postgres() {
        let mut a = Arguments::new(Dialect::MySql);
        ElementProbe("it's".to_string()).encode(&mut a).unwrap();
        let mut a = Arguments::new(Dialect::Sqlite);
        ElementProbe(5i64).encode(&mut a).unwrap();
        assert_eq!(sqlite_text(&a), "5");
        let mut a = Arguments::new(Dialect::Postgres);
        let err = ElementProbe("a\0b".to_string()).encode(&mut a).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
}
