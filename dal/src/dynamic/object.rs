//! The object a dynamic entity reads back as: the SELECT of its columns (dal's
//! five first, then the fields) and the JSON object a row becomes, with dal's
//! fields added. Shared by reads and by writes that return the stored object.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value as J};

use super::kind::{self, FieldKind};
use super::schema::{Meta, Names};
use crate::error::{Error, Result};
use crate::row::Row;

/// A SELECT of every column of an entity, and the fields in the order selected.
pub(crate) struct Select {
    /// `SELECT .. FROM [entity]` (no WHERE).
    pub sql: String,
    pub fields: Vec<(String, FieldKind)>,
}

/// The five columns dal maintains come first, then the fields.
pub(crate) fn select_sql(names: &Names, meta: &Meta) -> Select {
    // the signature keeps a statement prepared for other column types from being reused
    let mut sql = format!(
        "SELECT /* dal:dyn:{:016x} */ [id], [version], [created_at], [updated_at], [deleted_at]",
        meta.signature()
    );
    let mut fields = Vec::with_capacity(meta.fields.len());
    for (name, f) in &meta.fields {
        sql.push_str(", [");
        sql.push_str(name);
        sql.push(']');
        fields.push((name.clone(), f.kind));
    }
    sql.push_str(" FROM [");
    sql.push_str(&names.entity);
    sql.push(']');
    Select { sql, fields }
}

/// A row of [`select_sql`] as the object `save` returned: NULL fields are left out.
pub(crate) fn row_object(row: &Row<'_>, fields: &[(String, FieldKind)]) -> Result<J> {
    let id: i64 = row.get(0)?;
    let version: i64 = row.get(1)?;
    let created_at: DateTime<Utc> = row.get(2)?;
    let updated_at: DateTime<Utc> = row.get(3)?;
    let deleted_at: Option<DateTime<Utc>> = row.get(4)?;
    let mut data = Map::with_capacity(fields.len() + 5);
    for (i, (name, kind)) in fields.iter().enumerate() {
        let value = kind::decode(row, 5 + i, *kind).map_err(|e| match e {
            Error::Decode { reason, .. } => Error::decode(name.as_str(), reason),
            other => other,
        })?;
        if !value.is_null() {
            data.insert(name.clone(), value);
        }
    }
    Ok(with_system_fields(
        data, id, version, created_at, updated_at, deleted_at,
    ))
}

/// The object as it reads back: its fields plus dal's columns.
pub(crate) fn with_system_fields(
    mut data: Map<String, J>,
    id: i64,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
) -> J {
    data.insert("id".into(), J::from(id));
    data.insert("version".into(), J::from(version));
    data.insert(
        "created_at".into(),
        J::String(kind::format_timestamp(created_at)),
    );
    data.insert(
        "updated_at".into(),
        J::String(kind::format_timestamp(updated_at)),
    );
    if let Some(d) = deleted_at {
        data.insert("deleted_at".into(), J::String(kind::format_timestamp(d)));
    }
    J::Object(data)
}
