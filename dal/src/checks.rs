//! What a backend can store and read back exactly, checked before a value is
//! sent: JSON nesting depth, NaN / infinity / negative zero, NUL characters.
//!
//! Every check here runs while parameters are encoded (or, for dynamic
//! entities, while an object is validated), so a refused value fails with
//! [`Error::InvalidInput`](crate::Error::InvalidInput) before anything is written.
//! None of them recurses: a JSON value nested a million levels deep is refused
//! without touching the stack.

use std::fmt;

use serde::ser::{self, Serialize};
use serde_json::Value as J;

use dal_schema::Dialect;

/// The deepest nesting of JSON arrays and objects dal saves, on every backend:
/// `1` and `"x"` have depth 0, `[1]` and `{"a": 1}` depth 1, `{"a": [1]}` depth 2.
///
/// It is the same for every backend, and every document within it reads back:
/// MariaDB's `JSON` columns (a `json_valid` check) refuse documents nested more
/// than 31 levels, serde_json (which reads JSON for dal on every backend) stops
/// at 127, PostgreSQL's jsonb at its stack limit. A deeper JSON parameter
/// (`serde_json::Value`, [`Json<T>`](crate::Json), a `#[dal(json)]` field, a
/// dynamic entity's object counting the object itself) is
/// [`Error::InvalidInput`](crate::Error::InvalidInput) before anything is written.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use serde_json::json;
///
/// let db = dal::Db::connect_url("sqlite::memory:").await?;
/// db.execute("CREATE TABLE [docs] ([body] TEXT)", ()).await?;
/// let mut deep = json!(1);
/// for _ in 0..dal::JSON_MAX_DEPTH + 1 {
///     deep = json!([deep]);
/// }
/// let err = db.execute("INSERT INTO [docs] ([body]) VALUES (?)", (&deep,)).await.unwrap_err();
/// assert!(matches!(err, dal::Error::InvalidInput { .. }));
/// assert_eq!(db.fetch_scalar::<i64, _>("SELECT COUNT(*) FROM [docs]", ()).await?, 0);
/// # Ok::<(), dal::Error>(()) }).unwrap();
/// ```
pub const JSON_MAX_DEPTH: usize = 31;

/// Why a JSON value cannot be stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JsonProblem {
    /// Nested deeper than [`JSON_MAX_DEPTH`].
    TooDeep,
    /// A float that JSON cannot represent (serde_json would write `null`).
    NonFinite(f64),
    /// A string (or key) holding U+0000, which PostgreSQL's jsonb refuses.
    Nul,
    /// The value's own `Serialize` failed.
    Serde(String),
}

impl JsonProblem {
    /// The reason of the [`crate::Error::InvalidInput`].
    pub(crate) fn reason(&self) -> String {
        match self {
            JsonProblem::TooDeep => format!(
                "JSON nested deeper than {JSON_MAX_DEPTH} levels of arrays and objects \
                 (dal::JSON_MAX_DEPTH, the same on every backend: MariaDB refuses deeper documents)"
            ),
            JsonProblem::NonFinite(f) => format!(
                "JSON has no NaN or infinity: {f} would be written as null and could not be read back"
            ),
            JsonProblem::Nul => {
                "a JSON string contains U+0000 (\\u0000), which PostgreSQL's jsonb cannot store"
                    .into()
            }
            JsonProblem::Serde(e) => format!("cannot be written as JSON: {e}"),
        }
    }
}

impl fmt::Display for JsonProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason())
    }
}

impl std::error::Error for JsonProblem {}

impl ser::Error for JsonProblem {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        JsonProblem::Serde(msg.to_string())
    }
}

/// Check a `serde_json::Value` whose outermost level sits at `depth` (0 for a
/// value of its own; 1 for a field of an object): every array and object inside
/// adds one. Iterative, so any depth is refused without recursion. `nul_ok` is
/// false on PostgreSQL.
pub(crate) fn check_json_value(value: &J, depth: usize, nul_ok: bool) -> Result<(), JsonProblem> {
    let mut stack: Vec<(&J, usize)> = vec![(value, depth)];
    while let Some((v, d)) = stack.pop() {
        match v {
            J::String(s) if !nul_ok && s.contains('\0') => return Err(JsonProblem::Nul),
            J::Array(items) => {
                let d = d + 1;
                if d > JSON_MAX_DEPTH {
                    return Err(JsonProblem::TooDeep);
                }
                stack.extend(items.iter().map(|i| (i, d)));
            }
            J::Object(map) => {
                let d = d + 1;
                if d > JSON_MAX_DEPTH {
                    return Err(JsonProblem::TooDeep);
                }
                for (k, i) in map {
                    if !nul_ok && k.contains('\0') {
                        return Err(JsonProblem::Nul);
                    }
                    stack.push((i, d));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Drop a JSON value of any depth without recursion (dropping a deeply nested
/// `serde_json::Value` the ordinary way overflows the stack).
pub(crate) fn drop_json(value: J) {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            J::Array(items) => stack.extend(items),
            J::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

/// Check any serde value the way serde_json will write it: nesting depth,
/// non-finite floats and (unless `nul_ok`) NUL characters. The walk stops at the
/// first level past [`JSON_MAX_DEPTH`], so its recursion is bounded whatever the
/// value's depth.
pub(crate) fn check_json<T: Serialize + ?Sized>(
    value: &T,
    nul_ok: bool,
) -> Result<(), JsonProblem> {
    value.serialize(&mut JsonCheck { depth: 0, nul_ok })
}

struct JsonCheck {
    depth: usize,
    nul_ok: bool,
}

impl JsonCheck {
    fn enter(&mut self, levels: usize) -> Result<(), JsonProblem> {
        self.depth += levels;
        if self.depth > JSON_MAX_DEPTH {
            Err(JsonProblem::TooDeep)
        } else {
            Ok(())
        }
    }

    fn leave(&mut self, levels: usize) {
        self.depth -= levels;
    }

    fn text(&self, s: &str) -> Result<(), JsonProblem> {
        if !self.nul_ok && s.contains('\0') {
            Err(JsonProblem::Nul)
        } else {
            Ok(())
        }
    }

    fn float(&self, f: f64) -> Result<(), JsonProblem> {
        if f.is_finite() {
            Ok(())
        } else {
            Err(JsonProblem::NonFinite(f))
        }
    }
}

type Checked = Result<(), JsonProblem>;

// serde_json writes a newtype variant as `{"V": value}` (one level), a tuple
// or struct variant as `{"V": [..]}` / `{"V": {..}}` (two), sequences, tuples,
// maps and structs as one level, and bytes as an array of numbers.
impl ser::Serializer for &mut JsonCheck {
    type Ok = ();
    type Error = JsonProblem;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, _: bool) -> Checked {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Checked {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Checked {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Checked {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Checked {
        Ok(())
    }
    fn serialize_i128(self, _: i128) -> Checked {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Checked {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Checked {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Checked {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Checked {
        Ok(())
    }
    fn serialize_u128(self, _: u128) -> Checked {
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Checked {
        self.float(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Checked {
        self.float(v)
    }
    fn serialize_char(self, v: char) -> Checked {
        self.text(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Checked {
        self.text(v)
    }
    fn serialize_bytes(self, _: &[u8]) -> Checked {
        self.enter(1)?;
        self.leave(1);
        Ok(())
    }
    fn serialize_none(self) -> Checked {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Checked {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Checked {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Checked {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Checked {
        self.text(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Checked {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Checked {
        self.text(variant)?;
        self.enter(1)?;
        value.serialize(&mut *self)?;
        self.leave(1);
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, JsonProblem> {
        self.enter(1)?;
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, JsonProblem> {
        self.enter(1)?;
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, JsonProblem> {
        self.enter(1)?;
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, JsonProblem> {
        self.text(variant)?;
        self.enter(2)?;
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, JsonProblem> {
        self.enter(1)?;
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, JsonProblem> {
        self.enter(1)?;
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, JsonProblem> {
        self.text(variant)?;
        self.enter(2)?;
        Ok(self)
    }
}

impl ser::SerializeSeq for &mut JsonCheck {
    type Ok = ();
    type Error = JsonProblem;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Checked {
        value.serialize(&mut **self)
    }
    fn end(self) -> Checked {
        self.leave(1);
        Ok(())
    }
}

impl ser::SerializeTuple for &mut JsonCheck {
    type Ok = ();
    type Error = JsonProblem;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Checked {
        value.serialize(&mut **self)
    }
    fn end(self) -> Checked {
        self.leave(1);
        Ok(())
    }
}

impl ser::SerializeTupleStruct for &mut JsonCheck {
    type Ok = ();
    type Error = JsonProblem;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Checked {
        value.serialize(&mut **self)
    }
    fn end(self) -> Checked {
        self.leave(1);
        Ok(())
    }
}

impl ser::SerializeTupleVariant for &mut JsonCheck {
    type Ok = ();
    type Error = JsonProblem;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Checked {
        value.serialize(&mut **self)
    }
    fn end(self) -> Checked {
        self.leave(2);
        Ok(())
    }
}

impl ser::SerializeMap for &mut JsonCheck {
    type Ok = ();
    type Error = JsonProblem;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Checked {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Checked {
        value.serialize(&mut **self)
    }
    fn end(self) -> Checked {
        self.leave(1);
        Ok(())
    }
}

impl ser::SerializeStruct for &mut JsonCheck {
    type Ok = ();
    type Error = JsonProblem;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Checked {
        self.text(key)?;
        value.serialize(&mut **self)
    }
    fn end(self) -> Checked {
        self.leave(1);
        Ok(())
    }
}

impl ser::SerializeStructVariant for &mut JsonCheck {
    type Ok = ();
    type Error = JsonProblem;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Checked {
        self.text(key)?;
        value.serialize(&mut **self)
    }
    fn end(self) -> Checked {
        self.leave(2);
        Ok(())
    }
}

/// JSON text for PostgreSQL's jsonb, which stores numbers as `numeric`: a float
/// written in exponent form (`1e16`, as serde_json writes large doubles) comes
/// back as the integer `10000000000000000`, another JSON value for serde_json.
/// Floats are written here in plain notation with a decimal point
/// (`10000000000000000.0`), which jsonb keeps, so they read back as the same
/// floats. (jsonb has no negative zero: `-0.0` reads back as `0.0`, an equal
/// JSON number.)
pub(crate) fn pg_json_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, JsonProblem> {
    let mut out = Vec::with_capacity(64);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PlainFloats);
    value
        .serialize(&mut ser)
        .map_err(|e| JsonProblem::Serde(e.to_string()))?;
    Ok(out)
}

/// serde_json's compact format with floats in plain decimal notation.
struct PlainFloats;

impl PlainFloats {
    fn float<W: ?Sized + std::io::Write>(writer: &mut W, text: String) -> std::io::Result<()> {
        // Rust writes floats without exponent, shortest round-trip digits
        writer.write_all(text.as_bytes())?;
        if !text.contains('.') {
            writer.write_all(b".0")?;
        }
        Ok(())
    }
}

impl serde_json::ser::Formatter for PlainFloats {
    fn write_f32<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f32,
    ) -> std::io::Result<()> {
        Self::float(writer, value.to_string())
    }

    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        Self::float(writer, value.to_string())
    }
}

/// Why `dialect` cannot store the float `v` in a floating-point column and read
/// it back unchanged, if it cannot (see the float rules on [`crate::Encode`]).
pub(crate) fn float_problem(dialect: Dialect, v: f64) -> Option<String> {
    let floats = dialect.capabilities().floats;
    let server = dialect.display_name();
    if !v.is_finite() && !floats.infinity {
        // a dialect without infinities keeps finite numbers only (NaN included)
        return Some(format!(
            "{v} cannot be stored on {server} (floating-point columns hold finite numbers only)"
        ));
    }
    if v.is_nan() && !floats.nan {
        return Some(format!(
            "NaN cannot be stored on {server} (it would be stored as NULL)"
        ));
    }
    if v == 0.0 && v.is_sign_negative() && !floats.negative_zero {
        return Some(format!(
            "-0.0 cannot be stored on {server}: it reads back as 0.0 (pass 0.0, e.g. `x + 0.0`)"
        ));
    }
    None
}

/// The reason text containing U+0000 cannot go to PostgreSQL.
pub(crate) const PG_NUL_TEXT: &str =
    "the text contains a NUL character (\\0), which PostgreSQL text cannot store";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nest_arrays(levels: usize) -> J {
        let mut v = json!(1);
        for _ in 0..levels {
            v = J::Array(vec![v]);
        }
        v
    }

    #[test]
    fn depth_is_counted_in_containers() {
        assert!(check_json_value(&json!(1), 0, true).is_ok());
        assert!(check_json_value(&nest_arrays(JSON_MAX_DEPTH), 0, true).is_ok());
        assert_eq!(
            check_json_value(&nest_arrays(JSON_MAX_DEPTH + 1), 0, true),
            Err(JsonProblem::TooDeep)
        );
        // a field of an object sits one level down
        assert_eq!(
            check_json_value(&nest_arrays(JSON_MAX_DEPTH), 1, true),
            Err(JsonProblem::TooDeep)
        );
        // the serializer walk agrees with the iterative one
        assert!(check_json(&nest_arrays(JSON_MAX_DEPTH), true).is_ok());
        assert_eq!(
            check_json(&nest_arrays(JSON_MAX_DEPTH + 1), true),
            Err(JsonProblem::TooDeep)
        );
        let obj = json!({"a": {"b": [1, {"c": []}]}});
        assert!(check_json_value(&obj, JSON_MAX_DEPTH - 5, true).is_ok());
        assert!(check_json_value(&obj, JSON_MAX_DEPTH - 4, true).is_err());
    }

    #[test]
    fn every_accepted_depth_reads_back_with_serde_json() {
        for levels in [JSON_MAX_DEPTH, 100, 127] {
            let text = serde_json::to_string(&nest_arrays(levels)).unwrap();
            assert!(serde_json::from_str::<J>(&text).is_ok(), "{levels}");
        }
        let text = serde_json::to_string(&nest_arrays(128)).unwrap();
        assert!(serde_json::from_str::<J>(&text).is_err());
    }

    #[test]
    fn very_deep_values_are_refused_and_dropped_without_recursion() {
        // built, checked and dropped iteratively on a small stack
        std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let v = nest_arrays(1_000_000);
                assert_eq!(check_json_value(&v, 0, true), Err(JsonProblem::TooDeep));
                assert_eq!(check_json(&v, true), Err(JsonProblem::TooDeep));
                drop_json(v);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[derive(serde::Serialize)]
    enum Shape {
        Point,
        Circle(f64),
        Pair(f64, f64),
        Rect { w: f64, h: f64 },
    }

    #[test]
    fn typed_values_count_like_serde_json_writes_them() {
        for (value, depth) in [
            (Shape::Point, 0),
            (Shape::Circle(1.0), 1),
            (Shape::Pair(1.0, 2.0), 2),
            (Shape::Rect { w: 1.0, h: 2.0 }, 2),
        ] {
            // the depth serde_json writes ...
            let written = serde_json::to_value(&value).unwrap();
            assert!(check_json_value(&written, JSON_MAX_DEPTH - depth, true).is_ok());
            assert_eq!(
                check_json_value(&written, JSON_MAX_DEPTH - depth + 1, true).is_err(),
                depth > 0
            );
            // ... is the depth the serializer walk counts, and it leaves balanced
            let mut check = JsonCheck {
                depth: JSON_MAX_DEPTH - depth,
                nul_ok: true,
            };
            assert!(value.serialize(&mut check).is_ok());
            assert_eq!(check.depth, JSON_MAX_DEPTH - depth);
            check.depth += 1;
            assert_eq!(value.serialize(&mut check).is_err(), depth > 0);
        }
        assert!(matches!(
            check_json(&vec![1.0, f64::NAN], true),
            Err(JsonProblem::NonFinite(f)) if f.is_nan()
        ));
        assert!(matches!(
            check_json(&vec![f64::INFINITY], true),
            Err(JsonProblem::NonFinite(_))
        ));
        assert!(check_json(&json!({"a\0": 1}), true).is_ok());
        assert_eq!(check_json(&json!({"a\0": 1}), false), Err(JsonProblem::Nul));
        assert_eq!(check_json(&json!(["\0"]), false), Err(JsonProblem::Nul));
        assert_eq!(
            check_json_value(&json!({"k": ["a\0"]}), 0, false),
            Err(JsonProblem::Nul)
        );
    }

    #[test]
    fn jsonb_text_keeps_floats_floats() {
        let v = json!([1e16, -1.5e18, 1e300, 5e-324, 0.1, 1.0, 2, -0.0, {"f": 1e-7}]);
        let text = String::from_utf8(pg_json_bytes(&v).unwrap()).unwrap();
        assert!(!text.contains('e'), "{text}");
        let back: J = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert!(back[0].is_f64() && back[5].is_f64() && back[6].is_i64());
        #[derive(serde::Serialize)]
        struct S {
            x: f32,
        }
        let text = String::from_utf8(pg_json_bytes(&S { x: 3.4e38 }).unwrap()).unwrap();
        let back: J = serde_json::from_str(&text).unwrap();
        assert_eq!(back["x"].as_f64().unwrap() as f32, 3.4e38f32);
    }

    #[test]
    fn float_rules() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, 0.0, 1.5] {
            assert!(float_problem(Dialect::Postgres, v).is_none(), "{v}");
        }
        assert!(float_problem(Dialect::Sqlite, f64::NAN).is_some());
        assert!(float_problem(Dialect::Sqlite, -0.0).is_some());
        assert!(float_problem(Dialect::Sqlite, f64::INFINITY).is_none());
        assert!(float_problem(Dialect::Sqlite, f64::NEG_INFINITY).is_none());
        assert!(float_problem(Dialect::Sqlite, 0.0).is_none());
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0] {
            assert!(float_problem(Dialect::MySql, v).is_some(), "{v}");
        }
        assert!(float_problem(Dialect::MySql, 0.0).is_none());
        assert!(float_problem(Dialect::MySql, f64::MIN_POSITIVE).is_none());
    }
}
