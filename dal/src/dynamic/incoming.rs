//! Incoming objects of dynamic entities, before anything is written: each
//! object validated (names, values the dialect can store), the field kinds a
//! batch needs, and the rows ready to write once the schema holds them.

use std::collections::BTreeMap;

use dal_schema::{Dialect, is_valid_identifier};
use serde_json::{Map, Value as J};

use super::kind::{self, Cell, FieldKind};
use super::rules;
use super::schema::{Meta, SYSTEM_COLUMNS};
use crate::checks;
use crate::error::{Error, Result};

/// One incoming object, validated.
#[derive(Debug)]
pub(crate) struct Incoming {
    /// Position in the caller's batch.
    pub index: usize,
    /// The `id` given: an update.
    pub id: Option<i64>,
    /// The `version` given with the id: the row must still have it.
    pub expected_version: Option<i64>,
    /// Non-null field values.
    pub values: BTreeMap<String, J>,
    /// Their kinds.
    pub kinds: BTreeMap<String, FieldKind>,
}

pub(crate) fn object_error(index: usize, batch: bool, field: &str, reason: String) -> Error {
    let reason = if batch {
        format!("object #{index}: {reason}")
    } else {
        reason
    };
    Error::invalid_input(field, reason)
}

/// How a batch's objects are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `save`: objects without `id` are inserted, objects with one update that row.
    Save,
    /// `import`: every object carries the `id` it is inserted with.
    Import,
}

/// Check one object: a JSON object, field names that are identifiers and not
/// dal's columns, values that `dialect` can store and read back (nesting depth,
/// NUL characters, floats, text length). No database access. An object nested
/// too deeply is dropped without recursion.
pub(crate) fn validate(
    index: usize,
    batch: bool,
    value: J,
    dialect: Dialect,
    mode: Mode,
) -> Result<Incoming> {
    let err = |field: &str, reason: String| object_error(index, batch, field, reason);
    if let Err((field, reason)) = check_values(&value, dialect) {
        checks::drop_json(value);
        return Err(err(&field, reason));
    }
    let J::Object(map) = value else {
        let what = match value {
            J::Null => "null",
            J::Bool(_) => "a boolean",
            J::Number(_) => "a number",
            J::String(_) => "a string",
            J::Array(_) => "an array",
            J::Object(_) => "an object",
        };
        return Err(err(
            "object",
            format!("a dynamic entity is saved from a JSON object, not {what}"),
        ));
    };
    let mut incoming = Incoming {
        index,
        id: None,
        expected_version: None,
        values: BTreeMap::new(),
        kinds: BTreeMap::new(),
    };
    let mut lower_names: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in map {
        match name.as_str() {
            "id" => {
                incoming.id = match &value {
                    J::Null => None,
                    v => Some(v.as_i64().ok_or_else(|| {
                        err(
                            "id",
                            format!("`id` must be an integer (the row's id), not {v}"),
                        )
                    })?),
                };
                continue;
            }
            "version" => {
                incoming.expected_version = match &value {
                    J::Null => None,
                    v => Some(v.as_i64().ok_or_else(|| {
                        err("version", format!("`version` must be an integer, not {v}"))
                    })?),
                };
                continue;
            }
            // maintained by dal: objects read back may be saved as they are
            "created_at" | "updated_at" | "deleted_at" => {
                if !matches!(value, J::Null | J::String(_)) {
                    return Err(err(
                        &name,
                        format!("`{name}` is maintained by dal and cannot be set (got {value})"),
                    ));
                }
                continue;
            }
            _ => {}
        }
        if !is_valid_identifier(&name) {
            return Err(err(
                &name,
                format!(
                    "field name `{name}` is not an identifier: use 1 to {} ASCII letters, digits or `_`, not starting with a digit",
                    dal_schema::MAX_IDENTIFIER_LEN
                ),
            ));
        }
        if let Some(reserved) = SYSTEM_COLUMNS
            .iter()
            .find(|c| c.eq_ignore_ascii_case(&name))
        {
            return Err(err(
                &name,
                format!("field name `{name}` is reserved: `{reserved}` is a column dal maintains"),
            ));
        }
        if let Some(other) = lower_names.insert(name.to_ascii_lowercase(), name.clone()) {
            return Err(err(
                &name,
                format!(
                    "fields `{other}` and `{name}` differ only in letter case; column names ignore case on MySQL and SQLite"
                ),
            ));
        }
        match kind::infer(&value).map_err(|reason| err(&name, reason))? {
            None => {}
            Some(k) => {
                incoming.kinds.insert(name.clone(), k);
                incoming.values.insert(name, value);
            }
        }
    }
    match mode {
        Mode::Save if incoming.id.is_none() && incoming.expected_version.is_some() => {
            return Err(err(
                "version",
                "`version` is only meaningful with the `id` of the row to update".into(),
            ));
        }
        Mode::Save => {}
        Mode::Import => {
            match incoming.id {
                None => {
                    return Err(err(
                        "id",
                        "an imported object needs the integer `id` to insert it with (save it to get a generated id)".into(),
                    ));
                }
                Some(id) if id < 1 => {
                    return Err(err(
                        "id",
                        format!(
                            "imported ids must be at least 1 (MySQL generates a new id for 0), not {id}"
                        ),
                    ));
                }
                Some(_) => {}
            }
            // imported rows start their own history at version 1
            incoming.expected_version = None;
        }
    }
    Ok(incoming)
}

/// The field and reason of the first value of `object` that `dialect` cannot
/// store and read back: JSON nested deeper than [`checks::JSON_MAX_DEPTH`] (the
/// object counts as one level, as it does in the history), U+0000 on
/// PostgreSQL, a float the backend changes, text longer than MySQL's
/// `MEDIUMTEXT`. Iterative: any depth is refused without recursion.
fn check_values(object: &J, dialect: Dialect) -> std::result::Result<(), (String, String)> {
    let J::Object(map) = object else {
        // not an object: `validate` says so (and it is not nested, or is
        // refused below without recursion)
        return checks::check_json_value(object, 0, true)
            .map_err(|p| ("object".to_string(), p.reason()));
    };
    let nul_ok = dialect.capabilities().nul_in_text;
    let max_text = rules::storage(dialect).max_text_bytes;
    for (name, value) in map {
        let problem = match value {
            J::String(s) if !nul_ok && s.contains('\0') => Some(checks::PG_NUL_TEXT.to_string()),
            J::String(s) if max_text.is_some_and(|(max, _)| s.len() > max) => {
                let (max, on) = max_text.unwrap_or_default();
                Some(format!(
                    "the text is {} bytes long; a text field holds at most {max} bytes on {on}",
                    s.len()
                ))
            }
            J::Number(n) if !n.is_i64() && !n.is_u64() => {
                n.as_f64().and_then(|f| checks::float_problem(dialect, f))
            }
            J::Array(_) | J::Object(_) => checks::check_json_value(value, 1, nul_ok)
                .err()
                .map(|p| p.reason()),
            _ => None,
        };
        if let Some(reason) = problem {
            return Err((name.clone(), reason));
        }
    }
    Ok(())
}

/// The kinds a batch needs, merged over its objects.
pub(crate) fn batch_kinds(batch: &[Incoming]) -> Result<BTreeMap<String, FieldKind>> {
    let multi = batch.len() > 1;
    let mut kinds: BTreeMap<String, FieldKind> = BTreeMap::new();
    let mut lower_names: BTreeMap<String, &str> = BTreeMap::new();
    for obj in batch {
        for (name, &k) in &obj.kinds {
            if let Some(other) = lower_names.insert(name.to_ascii_lowercase(), name)
                && other != name
            {
                return Err(object_error(
                    obj.index,
                    multi,
                    name,
                    format!(
                        "field `{name}` differs only in letter case from `{other}` in an earlier object; column names ignore case on MySQL and SQLite"
                    ),
                ));
            }
            match kinds.get(name) {
                None => {
                    kinds.insert(name.clone(), k);
                }
                Some(&prev) => {
                    let merged = kind::merge(prev, k).ok_or_else(|| {
                        object_error(
                            obj.index,
                            multi,
                            name,
                            format!(
                                "field `{name}` holds {prev} values in an earlier object of the batch and cannot take a {k} value"
                            ),
                        )
                    })?;
                    kinds.insert(name.clone(), merged);
                }
            }
        }
    }
    Ok(kinds)
}

/// Before any schema change: check that every value converts exactly to the
/// kind its field will have once the batch's changes are made (an integer
/// going into a field that holds doubles must have an exact double).
pub(crate) fn check_planned(
    batch: &[Incoming],
    meta: &Meta,
    wanted: &BTreeMap<String, FieldKind>,
) -> Result<()> {
    let multi = batch.len() > 1;
    let planned = |name: &str| -> Option<FieldKind> {
        let incoming = *wanted.get(name)?;
        match meta.fields.get(name) {
            None => Some(incoming),
            Some(f) => match kind::fit(name, f.kind, incoming).ok()? {
                kind::Fit::Fits => Some(f.kind),
                kind::Fit::Widen(to) => Some(to),
            },
        }
    };
    for obj in batch {
        for (name, value) in &obj.values {
            if let Some(k) = planned(name)
                && k == FieldKind::Double
                && value.is_i64()
            {
                kind::to_cell(k, value)
                    .map_err(|reason| object_error(obj.index, multi, name, reason))?;
            }
        }
    }
    Ok(())
}

/// One object ready to write: its values converted for the fields' kinds.
#[derive(Debug)]
pub(crate) struct PendingRow {
    pub index: usize,
    pub id: Option<i64>,
    pub expected_version: Option<i64>,
    pub cells: BTreeMap<String, Cell>,
    /// The field values as they will read back.
    pub data: Map<String, J>,
}

/// Convert validated objects for the fields of `meta`.
pub(crate) fn prepare(batch: Vec<Incoming>, meta: &Meta) -> Result<Vec<PendingRow>> {
    let multi = batch.len() > 1;
    batch
        .into_iter()
        .map(|obj| {
            let mut cells = BTreeMap::new();
            let mut data = Map::new();
            for (name, value) in &obj.values {
                let kind = meta.fields.get(name).map(|f| f.kind).ok_or_else(|| {
                    Error::Driver(format!("field `{name}` missing after the schema update"))
                })?;
                let cell = kind::to_cell(kind, value)
                    .map_err(|reason| object_error(obj.index, multi, name, reason))?;
                data.insert(name.clone(), kind::cell_json(&cell));
                cells.insert(name.clone(), cell);
            }
            Ok(PendingRow {
                index: obj.index,
                id: obj.id,
                expected_version: obj.expected_version,
                cells,
                data,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(index: usize, batch: bool, value: J) -> Result<Incoming> {
        validate(index, batch, value, Dialect::Sqlite, Mode::Save)
    }

    fn invalid_field(r: Result<Incoming>) -> String {
        match r {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn validates_objects_and_names() {
        assert_eq!(invalid_field(check(0, false, json!([1]))), "object");
        assert_eq!(invalid_field(check(0, false, json!({"1st": 1}))), "1st");
        assert_eq!(invalid_field(check(0, false, json!({"a b": 1}))), "a b");
        assert_eq!(
            invalid_field(check(0, false, json!({"Version": 1}))),
            "Version"
        );
        assert_eq!(
            invalid_field(check(0, false, json!({"DELETED_AT": 1}))),
            "DELETED_AT"
        );
        assert_eq!(invalid_field(check(0, false, json!({"id": "7"}))), "id");
        assert_eq!(
            invalid_field(check(0, false, json!({"created_at": 5}))),
            "created_at"
        );
        assert_eq!(
            invalid_field(check(0, false, json!({"version": 2}))),
            "version"
        );
        assert_eq!(
            invalid_field(check(0, false, json!({"name": 1, "Name": 2}))),
            "name"
        );
        let ok = check(
            0,
            false,
            json!({"id": 4, "version": 2, "created_at": "x", "name": "Ada", "nick": null}),
        )
        .unwrap();
        assert_eq!(ok.id, Some(4));
        assert_eq!(ok.expected_version, Some(2));
        assert_eq!(ok.values.keys().collect::<Vec<_>>(), ["name"]);
    }

    #[test]
    fn values_are_checked_for_the_dialect() {
        let on = |d: Dialect, v: J| validate(0, false, v, d, Mode::Save);
        // NUL: PostgreSQL only, in text and inside JSON (values and keys)
        for v in [
            json!({"s": "a\0b"}),
            json!({"j": ["a\0"]}),
            json!({"j": {"k\0": 1}}),
        ] {
            assert!(on(Dialect::Sqlite, v.clone()).is_ok());
            assert!(on(Dialect::MySql, v.clone()).is_ok());
            let (field, reason) = match on(Dialect::Postgres, v) {
                Err(Error::InvalidInput { field, reason }) => (field, reason),
                other => panic!("{other:?}"),
            };
            assert!(field == "s" || field == "j", "{field}");
            assert!(
                reason.contains("NUL") || reason.contains("U+0000"),
                "{reason}"
            );
        }
        // -0.0 loses its sign on SQLite and MySQL
        assert!(on(Dialect::Postgres, json!({"x": -0.0})).is_ok());
        assert_eq!(invalid_field(on(Dialect::Sqlite, json!({"x": -0.0}))), "x");
        assert_eq!(invalid_field(on(Dialect::MySql, json!({"x": -0.0}))), "x");
        assert!(on(Dialect::MySql, json!({"x": 0.0, "i": 0})).is_ok());
        // depth: the object is the first level
        let mut deep = json!(1);
        for _ in 0..checks::JSON_MAX_DEPTH - 1 {
            deep = json!([deep]);
        }
        assert!(on(Dialect::Postgres, json!({"d": deep.clone()})).is_ok());
        assert_eq!(
            invalid_field(on(Dialect::Postgres, json!({"d": [deep]}))),
            "d"
        );
        // import: ids required, at least 1; versions are not imported
        let import = |v: J| validate(0, true, v, Dialect::Sqlite, Mode::Import);
        assert_eq!(invalid_field(import(json!({"a": 1}))), "id");
        assert_eq!(invalid_field(import(json!({"id": 0}))), "id");
        let ok = import(json!({"id": 5, "version": 3})).unwrap();
        assert_eq!((ok.id, ok.expected_version), (Some(5), None));
    }

    #[test]
    fn batch_kinds_merge_numbers_and_reject_conflicts() {
        let a = check(0, true, json!({"n": 1, "s": "2024-01-01"})).unwrap();
        let b = check(1, true, json!({"n": 1.5, "s": "soon"})).unwrap();
        let kinds = batch_kinds(&[a, b]).unwrap();
        assert_eq!(kinds["n"], FieldKind::Double);
        assert_eq!(kinds["s"], FieldKind::Text);
        let a = check(0, true, json!({"n": 1})).unwrap();
        let b = check(1, true, json!({"N": 2})).unwrap();
        assert!(matches!(
            batch_kinds(&[a, b]),
            Err(Error::InvalidInput { field, .. }) if field == "N"
        ));
        let a = check(0, true, json!({"n": 1})).unwrap();
        let b = check(1, true, json!({"n": "one"})).unwrap();
        match batch_kinds(&[a, b]) {
            Err(Error::InvalidInput { field, reason }) => {
                assert_eq!(field, "n");
                assert!(reason.contains("object #1"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
}
