//! PostgreSQL introspection from `pg_catalog`: tables of `current_schema()`.
//!
//! Types are read with `format_type` (a domain is read as its base type) and
//! mapped back as [`column_type`] documents; identity columns and `serial`
//! columns (a `nextval(..)` default) are auto-increment columns without a default.
//! Generated columns are listed without their generation expression.

use std::collections::HashMap;

use dal_schema::{Check, Column, ColumnType, Dialect, ForeignKey, Index, ReferentialAction, Table};

use crate::error::Result;
use crate::introspect::shape::{
    Catalog, TypeName, finish_table, fold_enum_checks, fold_unsigned_checks, matching_paren,
    opt_text, parse_default, strip_wrapping_parens, text, typed_default,
};

/// The tables' filter: base tables (ordinary or partitioned, not partitions) of the
/// current schema, optionally one table by name.
fn table_filter(alias: &str, one: bool) -> String {
    let mut s = format!(
        "n.nspname = current_schema() AND {alias}.relkind IN ('r', 'p') AND NOT {alias}.relispartition"
    );
    if one {
        s.push_str(&format!(" AND {alias}.relname::text = ?"));
    }
    s
}

/// Base-table names of the current schema (or `only`, if it is one).
pub(crate) async fn table_names(db: &impl Catalog, only: Option<&str>) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT c.relname::text AS name FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE {} ORDER BY 1",
        table_filter("c", only.is_some())
    );
    let rows = match only {
        Some(name) => db.fetch_all(&sql, (name,)).await?,
        None => db.fetch_all(&sql, ()).await?,
    };
    rows.iter().map(|r| text(r, "name")).collect()
}

/// Every base table of the current schema (or just `only`), fully described.
pub(crate) async fn tables(db: &impl Catalog, only: Option<&str>) -> Result<Vec<Table>> {
    let names = table_names(db, only).await?;
    let mut tables: Vec<Table> = names.iter().map(Table::new).collect();
    if tables.is_empty() {
        return Ok(tables);
    }
    let position: HashMap<String, usize> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.clone(), i))
        .collect();
    let filter = table_filter("c", only.is_some());
    let fetch = |sql: String| async move {
        match only {
            Some(name) => db.fetch_all(&sql, (name,)).await,
            None => db.fetch_all(&sql, ()).await,
        }
    };

    // columns
    let rows = fetch(format!(
        "SELECT c.relname::text AS table_name, a.attname::text AS column_name, \
         format_type(CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END, \
                     CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END) AS data_type, \
         a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS default_expr, \
         a.attidentity::text AS identity, a.attgenerated::text AS generated, \
         CASE WHEN t.typtype = 'e' THEN (SELECT array_to_json(array_agg(e.enumlabel::text ORDER BY e.enumsortorder))::text \
              FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) END AS enum_labels \
         FROM pg_catalog.pg_attribute a \
         JOIN pg_catalog.pg_class c ON c.oid = a.attrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_catalog.pg_type t ON t.oid = a.atttypid \
         LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
         WHERE {filter} AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY c.relname, a.attnum"
    ))
    .await?;
    for row in &rows {
        let Some(&ti) = position.get(&text(row, "table_name")?) else {
            continue;
        };
        let name = text(row, "column_name")?;
        let declared = text(row, "data_type")?;
        let ty = match opt_text(row, "enum_labels")? {
            Some(labels) => match serde_json::from_str::<Vec<String>>(&labels) {
                Ok(variants) if !variants.is_empty() => ColumnType::Enumeration { variants },
                _ => ColumnType::Text,
            },
            None => column_type(&declared),
        };
        let not_null: bool = row.get("not_null")?;
        let identity = text(row, "identity")?;
        let generated = text(row, "generated")?;
        let mut auto_increment = !identity.is_empty();
        let mut default = None;
        if generated.is_empty()
            && let Some(expr) = opt_text(row, "default_expr")?
        {
            if is_sequence_default(&expr) {
                auto_increment = true;
            } else {
                default = typed_default(parse_default(&expr, Dialect::Postgres), &ty);
            }
        }
        tables[ti].columns.push(Column {
            name,
            ty,
            nullable: !not_null,
            default,
            unique: false,
            auto_increment,
        });
    }

    // primary keys and indexes, one row per key column
    let rows = fetch(format!(
        "SELECT c.relname::text AS table_name, ic.relname::text AS index_name, \
         i.indisprimary AS is_primary, i.indisunique AS is_unique, \
         (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL OR i.indisexclusion) AS not_plain, \
         a.attname::text AS column_name \
         FROM pg_catalog.pg_index i \
         JOIN pg_catalog.pg_class c ON c.oid = i.indrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid \
         CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
         LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum \
         WHERE {filter} AND k.ord <= i.indnkeyatts \
         ORDER BY c.relname, ic.relname, k.ord"
    ))
    .await?;
    let mut skipped: Vec<(usize, String)> = Vec::new();
    for row in &rows {
        let Some(&ti) = position.get(&text(row, "table_name")?) else {
            continue;
        };
        let index_name = text(row, "index_name")?;
        let column = opt_text(row, "column_name")?;
        let is_primary: bool = row.get("is_primary")?;
        let table = &mut tables[ti];
        if is_primary {
            if let Some(c) = column {
                table.primary_key.push(c);
            }
            continue;
        }
        let not_plain: bool = row.get("not_plain")?;
        let Some(column) = column.filter(|_| !not_plain) else {
            // expression, partial or exclusion index: not describable, left out
            table.indexes.retain(|i| i.name != index_name);
            skipped.push((ti, index_name));
            continue;
        };
        if skipped.iter().any(|(t, n)| *t == ti && *n == index_name) {
            continue;
        }
        match table.indexes.iter_mut().find(|i| i.name == index_name) {
            Some(index) => index.columns.push(column),
            None => table.indexes.push(Index {
                name: index_name,
                columns: vec![column],
                unique: row.get("is_unique")?,
            }),
        }
    }

    // foreign keys, one row per column pair
    let rows = fetch(format!(
        "SELECT c.relname::text AS table_name, con.conname::text AS name, \
         rc.relname::text AS ref_table, (rn.nspname <> current_schema()) AS external, \
         con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update, \
         a.attname::text AS column_name, ra.attname::text AS ref_column \
         FROM pg_catalog.pg_constraint con \
         JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid \
         JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace \
         CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(attnum, ref_attnum, ord) \
         JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
         JOIN pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = k.ref_attnum \
         WHERE {filter} AND con.contype = 'f' AND con.conparentid = 0 \
         ORDER BY c.relname, con.conname, k.ord"
    ))
    .await?;
    for row in &rows {
        let Some(&ti) = position.get(&text(row, "table_name")?) else {
            continue;
        };
        let name = text(row, "name")?;
        let column = text(row, "column_name")?;
        let ref_column = text(row, "ref_column")?;
        let table = &mut tables[ti];
        match table.foreign_keys.iter_mut().find(|f| f.name == name) {
            Some(fk) => {
                fk.columns.push(column);
                fk.references_columns.push(ref_column);
            }
            None => table.foreign_keys.push(ForeignKey {
                name,
                columns: vec![column],
                references_table: text(row, "ref_table")?,
                references_columns: vec![ref_column],
                on_delete: action(&text(row, "on_delete")?),
                on_update: action(&text(row, "on_update")?),
                external: row.get("external")?,
            }),
        }
    }

    // checks
    let rows = fetch(format!(
        "SELECT c.relname::text AS table_name, con.conname::text AS name, \
         pg_get_constraintdef(con.oid) AS definition \
         FROM pg_catalog.pg_constraint con \
         JOIN pg_catalog.pg_class c ON c.oid = con.conrelid \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE {filter} AND con.contype = 'c' \
         ORDER BY c.relname, con.conname"
    ))
    .await?;
    for row in &rows {
        let Some(&ti) = position.get(&text(row, "table_name")?) else {
            continue;
        };
        tables[ti].checks.push(Check {
            name: text(row, "name")?,
            expression: check_expression(&text(row, "definition")?),
        });
    }

    Ok(tables
        .into_iter()
        .map(|mut t| {
            fold_enum_checks(&mut t, Dialect::Postgres);
            fold_unsigned_checks(&mut t);
            finish_table(t)
        })
        .collect())
}

/// A `serial` column's default: `nextval('seq'::regclass)`.
fn is_sequence_default(expr: &str) -> bool {
    expr.trim_start()
        .to_ascii_lowercase()
        .starts_with("nextval(")
}

/// `pg_constraint.confdeltype` / `confupdtype` codes.
fn action(code: &str) -> ReferentialAction {
    match code {
        "r" => ReferentialAction::Restrict,
        "c" => ReferentialAction::Cascade,
        "n" => ReferentialAction::SetNull,
        "d" => ReferentialAction::SetDefault,
        _ => ReferentialAction::NoAction,
    }
}

/// The expression of `CHECK (expr) [NOT VALID]` as `pg_get_constraintdef` writes
/// it, without the keyword and the parentheses around it.
pub(crate) fn check_expression(definition: &str) -> String {
    let d = definition.trim();
    // `open` and `close` index ASCII parentheses (from `find` and the lexer's
    // tokens), so the slices cannot split a character
    if let Some(open) = d.find('(')
        && d[..open].trim().eq_ignore_ascii_case("check")
        && let Some(close) = matching_paren(d, open, Dialect::Postgres)
    {
        return strip_wrapping_parens(&d[open + 1..close], Dialect::Postgres).to_string();
    }
    d.to_string()
}

/// The blueprint type for a PostgreSQL type as `format_type` spells it.
///
/// The inverse of what dal writes (`BIGINT`, `NUMERIC(p, s)`, `VARCHAR(n)`,
/// `TIMESTAMPTZ`, `JSONB`, `BYTEA`, ...), plus the closest type for the rest:
/// `character(n)` / `bpchar` / `"char"` are strings, `character varying` without a
/// length and `citext` are text, `json` is JSON, `time with time zone` is a time,
/// `numeric` without a precision is [`super::UNCONSTRAINED_DECIMAL`], `money` is
/// `Decimal(19, 2)`; an array of a scalar ([`ColumnType::is_array_element`]) is
/// [`ColumnType::Array`]; other arrays, intervals, network, geometric, range,
/// XML and other types are text. (Native enum types are read as enumerations by the caller.)
pub(crate) fn column_type(declared: &str) -> ColumnType {
    let t = TypeName::parse(declared);
    if t.array {
        // an array of a scalar dal stores in arrays is that array (PostgreSQL
        // reports every dimension as one `[]`); the rest read as text
        let element = declared.trim_end().trim_end_matches("[]").trim_end();
        // (text is also the fallback for unknown types: only real text counts)
        let text = matches!(
            TypeName::parse(element).name.as_str(),
            "text" | "citext" | "character varying" | "varchar"
        );
        return match column_type(element) {
            ColumnType::Text if !text => ColumnType::Text,
            e if e.is_array_element() => ColumnType::array(e),
            _ => ColumnType::Text,
        };
    }
    match t.name.as_str() {
        "smallint" | "int2" | "smallserial" | "serial2" => ColumnType::SmallInteger,
        "integer" | "int" | "int4" | "serial" | "serial4" => ColumnType::Integer,
        "bigint" | "int8" | "bigserial" | "serial8" | "oid" => ColumnType::BigInteger,
        "boolean" | "bool" => ColumnType::Boolean,
        "real" | "float4" => ColumnType::Float,
        "double precision" | "float8" => ColumnType::Double,
        "float" => match t.arg(0) {
            Some(p) if p <= 24 => ColumnType::Float,
            _ => ColumnType::Double,
        },
        "numeric" | "decimal" => t.decimal(),
        "money" => ColumnType::Decimal {
            precision: 19,
            scale: 2,
        },
        "character varying"
        | "varchar"
        | "character"
        | "char"
        | "bpchar"
        | "nchar"
        | "national character"
        | "national character varying" => t.string(),
        "\"char\"" => ColumnType::String { length: 1 },
        "text" | "citext" | "name" => ColumnType::Text,
        "date" => ColumnType::Date,
        "time" | "time without time zone" | "time with time zone" | "timetz" => ColumnType::Time,
        "timestamp" | "timestamp without time zone" => ColumnType::Timestamp,
        "timestamp with time zone" | "timestamptz" => ColumnType::TimestampTz,
        "uuid" => ColumnType::Uuid,
        "json" | "jsonb" => ColumnType::Json,
        "bytea" => ColumnType::Binary,
        _ => ColumnType::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dal_schema::DefaultValue;

    #[test]
    fn maps_every_type_dal_writes_back() {
        for ty in [
            ColumnType::SmallInteger,
            ColumnType::Integer,
            ColumnType::BigInteger,
            ColumnType::Boolean,
            ColumnType::Float,
            ColumnType::Double,
            ColumnType::Decimal {
                precision: 12,
                scale: 3,
            },
            ColumnType::String { length: 150 },
            ColumnType::Text,
            ColumnType::Date,
            ColumnType::Time,
            ColumnType::Timestamp,
            ColumnType::TimestampTz,
            ColumnType::Uuid,
            ColumnType::Json,
            ColumnType::Binary,
            ColumnType::array(ColumnType::BigInteger),
            ColumnType::array(ColumnType::Text),
            ColumnType::array(ColumnType::Double),
            ColumnType::array(ColumnType::TimestampTz),
            ColumnType::array(ColumnType::Uuid),
            ColumnType::array(ColumnType::Decimal {
                precision: 20,
                scale: 6,
            }),
        ] {
            let written = Dialect::Postgres.column_type_sql(&ty);
            assert_eq!(column_type(&written), ty, "{written}");
        }
    }

    #[test]
    fn maps_format_type_output_and_foreign_types() {
        assert_eq!(
            column_type("character varying(10)"),
            ColumnType::String { length: 10 }
        );
        assert_eq!(
            column_type("numeric(12,3)"),
            ColumnType::Decimal {
                precision: 12,
                scale: 3
            }
        );
        assert_eq!(
            column_type("numeric"),
            crate::introspect::shape::UNCONSTRAINED_DECIMAL
        );
        assert_eq!(
            column_type("timestamp(3) without time zone"),
            ColumnType::Timestamp
        );
        assert_eq!(
            column_type("timestamp with time zone"),
            ColumnType::TimestampTz
        );
        assert_eq!(column_type("time without time zone"), ColumnType::Time);
        assert_eq!(
            column_type("character(5)"),
            ColumnType::String { length: 5 }
        );
        assert_eq!(column_type("bpchar"), ColumnType::Text);
        assert_eq!(column_type("jsonb"), ColumnType::Json);
        assert_eq!(
            column_type("integer[]"),
            ColumnType::array(ColumnType::Integer)
        );
        assert_eq!(
            column_type("character varying(40)[]"),
            ColumnType::array(ColumnType::String { length: 40 })
        );
        assert_eq!(
            column_type("numeric(10,2)[]"),
            ColumnType::array(ColumnType::Decimal {
                precision: 10,
                scale: 2
            })
        );
        assert_eq!(column_type("jsonb[]"), ColumnType::Text);
        assert_eq!(column_type("bytea[]"), ColumnType::Text);
        assert_eq!(column_type("interval[]"), ColumnType::Text);
        assert_eq!(column_type("interval"), ColumnType::Text);
        assert_eq!(column_type("inet"), ColumnType::Text);
        assert_eq!(column_type("character varying"), ColumnType::Text);
    }

    #[test]
    fn reads_defaults_and_checks() {
        let d =
            |expr: &str, ty: ColumnType| typed_default(parse_default(expr, Dialect::Postgres), &ty);
        assert_eq!(
            d(
                "'abc'::character varying",
                ColumnType::String { length: 10 }
            ),
            Some(DefaultValue::String("abc".into()))
        );
        assert_eq!(
            d("'-1'::integer", ColumnType::Integer),
            Some(DefaultValue::Integer(-1))
        );
        assert_eq!(
            d("true", ColumnType::Boolean),
            Some(DefaultValue::Bool(true))
        );
        assert_eq!(d("1.5", ColumnType::Double), Some(DefaultValue::Float(1.5)));
        assert_eq!(
            d(
                "2",
                ColumnType::Decimal {
                    precision: 10,
                    scale: 2
                }
            ),
            Some(DefaultValue::Float(2.0))
        );
        assert_eq!(d("NULL::text", ColumnType::Text), None);
        assert_eq!(
            d("CURRENT_TIMESTAMP", ColumnType::TimestampTz),
            Some(DefaultValue::CurrentTimestamp)
        );
        assert_eq!(
            d("CURRENT_DATE", ColumnType::Date),
            Some(DefaultValue::CurrentDate)
        );
        assert!(is_sequence_default("nextval('t_id_seq'::regclass)"));
        assert_eq!(check_expression("CHECK ((i > 0))"), "i > 0");
        assert_eq!(
            check_expression("CHECK (((q)::text <> 'x)'::text)) NOT VALID"),
            "(q)::text <> 'x)'::text"
        );
        assert_eq!(action("c"), ReferentialAction::Cascade);
        assert_eq!(action("a"), ReferentialAction::NoAction);
        assert_eq!(action("d"), ReferentialAction::SetDefault);
    }
}
