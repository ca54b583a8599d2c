//! Reading dynamic entities: the SQL of `find` (filters, order, limit, offset,
//! soft-deleted rows) on top of the SELECT of `object.rs`, which also turns the
//! rows back into JSON objects.

use super::kind::Cell;
use super::object::{Select, select_sql};
use super::rules;
use super::schema::{Meta, Names, SYSTEM_COLUMNS};
use crate::error::{Error, Result};
use crate::value::Value;
use dal_schema::Dialect;

/// Sort direction of one `ORDER BY` term.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Asc,
    Desc,
}

/// What a `find` asks for.
#[derive(Debug, Clone, Default)]
pub(crate) struct FindSpec {
    pub filters: Vec<(String, Vec<Value>)>,
    pub order: Vec<(String, Direction)>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    pub include_deleted: bool,
}

impl FindSpec {
    /// Whether the filters or the order name a column this metadata does not know
    /// (another process may have added it: re-read the metadata first).
    pub(crate) fn mentions_unknown(&self, meta: &Meta) -> bool {
        let known = |n: &str| SYSTEM_COLUMNS.contains(&n) || meta.fields.contains_key(n);
        self.order.iter().any(|(n, _)| !known(n))
            || self.filters.iter().any(|(sql, _)| {
                dal_schema::sql::bracket_identifiers(sql)
                    .map(|names| names.iter().any(|n| !known(n)))
                    .unwrap_or(false)
            })
    }

    /// ` WHERE ..` (possibly empty) and its parameters.
    fn where_clause(&self, dialect: Dialect) -> Result<(String, Vec<Cell>)> {
        let mut conditions = Vec::new();
        let mut params = Vec::new();
        if !self.include_deleted {
            conditions.push("[deleted_at] IS NULL".to_string());
        }
        for (sql, values) in &self.filters {
            let expected = dal_schema::translate(sql, dialect)?.param_count;
            if expected != values.len() {
                return Err(Error::invalid_input(
                    "filter",
                    format!(
                        "`{sql}` takes {expected} parameter(s), {} given",
                        values.len()
                    ),
                ));
            }
            conditions.push(format!("({sql})"));
            params.extend(values.iter().cloned().map(Cell::Value));
        }
        if conditions.is_empty() {
            return Ok((String::new(), params));
        }
        Ok((format!(" WHERE {}", conditions.join(" AND ")), params))
    }

    /// ` ORDER BY ..`: NULLs last in both directions on every dialect, then the id
    /// so that pages are stable.
    fn order_clause(&self, meta: &Meta) -> Result<String> {
        let mut out = String::from(" ORDER BY ");
        let mut by_id = false;
        for (name, direction) in &self.order {
            let nullable = match name.as_str() {
                "id" | "version" | "created_at" | "updated_at" => false,
                "deleted_at" => true,
                _ if meta.fields.contains_key(name) => true,
                _ => {
                    return Err(Error::invalid_input(
                        "order_by",
                        format!(
                            "`{name}` is not a field of {} (known: {})",
                            if meta.exists {
                                "this entity"
                            } else {
                                "an entity never saved"
                            },
                            meta.fields
                                .keys()
                                .map(String::as_str)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            };
            if nullable {
                out.push_str(&format!("[{name}] IS NULL, "));
            }
            let dir = match direction {
                Direction::Asc => "ASC",
                Direction::Desc => "DESC",
            };
            out.push_str(&format!("[{name}] {dir}, "));
            by_id |= name == "id";
        }
        if by_id {
            out.truncate(out.len() - 2);
        } else {
            out.push_str("[id] ASC");
        }
        Ok(out)
    }

    /// The rows' SQL and parameters.
    pub(crate) fn select(
        &self,
        names: &Names,
        meta: &Meta,
        dialect: Dialect,
    ) -> Result<(Select, Vec<Cell>)> {
        let mut select = select_sql(names, meta);
        let (where_sql, mut params) = self.where_clause(dialect)?;
        select.sql.push_str(&where_sql);
        select.sql.push_str(&self.order_clause(meta)?);
        match (self.limit, self.offset) {
            (None, None) => {}
            (Some(limit), offset) => {
                select.sql.push_str(" LIMIT ?");
                params.push(Cell::Int(clamp(limit)));
                if let Some(offset) = offset {
                    select.sql.push_str(" OFFSET ?");
                    params.push(Cell::Int(clamp(offset)));
                }
            }
            (None, Some(offset)) => {
                select.sql.push_str(&rules::no_limit(dialect));
                select.sql.push_str(" OFFSET ?");
                params.push(Cell::Int(clamp(offset)));
            }
        }
        Ok((select, params))
    }

    /// `SELECT COUNT(*)` with the filters (order, limit and offset do not apply).
    pub(crate) fn count(&self, names: &Names, dialect: Dialect) -> Result<(String, Vec<Cell>)> {
        let (where_sql, params) = self.where_clause(dialect)?;
        Ok((
            format!("SELECT COUNT(*) FROM [{}]{where_sql}", names.entity),
            params,
        ))
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamic::kind::FieldKind;
    use crate::dynamic::schema::FieldMeta;

    fn meta() -> Meta {
        let mut m = Meta {
            exists: true,
            ..Meta::default()
        };
        for (name, kind) in [("age", FieldKind::BigInteger), ("name", FieldKind::Text)] {
            m.fields.insert(
                name.into(),
                FieldMeta {
                    kind,
                    position: 0,
                    added_at: None,
                },
            );
        }
        m
    }

    fn names() -> Names {
        Names {
            entity: "people".into(),
            history: "people_history".into(),
        }
    }

    #[test]
    fn find_sql() {
        let spec = FindSpec {
            filters: vec![("[age] >= ?".into(), vec![Value::Int(18)])],
            order: vec![("name".into(), Direction::Desc)],
            limit: Some(10),
            offset: Some(20),
            include_deleted: false,
        };
        let (select, params) = spec.select(&names(), &meta(), Dialect::Sqlite).unwrap();
        assert!(select.sql.ends_with(
            " FROM [people] WHERE [deleted_at] IS NULL AND ([age] >= ?) ORDER BY [name] IS NULL, [name] DESC, [id] ASC LIMIT ? OFFSET ?"
        ), "{}", select.sql);
        assert_eq!(params.len(), 3);
        assert_eq!(select.fields.len(), 2);

        let spec = FindSpec {
            offset: Some(5),
            include_deleted: true,
            order: vec![("id".into(), Direction::Desc)],
            ..FindSpec::default()
        };
        let (select, _) = spec.select(&names(), &meta(), Dialect::Sqlite).unwrap();
        assert!(
            select
                .sql
                .ends_with(" FROM [people] ORDER BY [id] DESC LIMIT -1 OFFSET ?"),
            "{}",
            select.sql
        );
    }

    #[test]
    fn find_checks_its_input() {
        let spec = FindSpec {
            filters: vec![("[age] >= ? AND [age] < ?".into(), vec![Value::Int(18)])],
            ..FindSpec::default()
        };
        assert!(matches!(
            spec.select(&names(), &meta(), Dialect::Postgres),
            Err(Error::InvalidInput { field, .. }) if field == "filter"
        ));
        let spec = FindSpec {
            order: vec![("nope".into(), Direction::Asc)],
            ..FindSpec::default()
        };
        assert!(spec.mentions_unknown(&meta()));
        assert!(matches!(
            spec.select(&names(), &meta(), Dialect::Postgres),
            Err(Error::InvalidInput { field, .. }) if field == "order_by"
        ));
        let spec = FindSpec {
            filters: vec![("[age] > 1 AND [vip]".into(), vec![])],
            ..FindSpec::default()
        };
        assert!(spec.mentions_unknown(&meta()));
    }
}
