//! MySQL-family introspection from `information_schema`: base tables of `DATABASE()`.
//!
//! Written against MariaDB 10.11 and aware of where MySQL 8 differs: MariaDB
//! quotes string defaults and reports a nullable column without a default as the
//! text `NULL`, MySQL 8 reports defaults unquoted (expressions flagged
//! `DEFAULT_GENERATED`); MariaDB's `CHECK_CONSTRAINTS` names its table, MySQL 8's
//! does not (it is joined through `TABLE_CONSTRAINTS`).
//!
//! Two MariaDB artefacts are folded away:
//! - a `JSON` column is a `LONGTEXT` with an automatic check `json_valid(col)` named
//!   after the column: such a column is reported as [`ColumnType::Json`] and the
//!   check is not listed;
//! - InnoDB creates an index for a foreign key when no index starts with its
//!   columns, named like the constraint. A non-unique index with exactly the name
//!   and the columns of one of the table's foreign keys is taken to be that
//!   automatic index and is not reported (dal never names an index like a foreign
//!   key: its indexes end in `_index` / `_unique`, its foreign keys in `_foreign`).
//!
//! InnoDB treats `RESTRICT` and `NO ACTION` alike and reports an omitted `ON
//! DELETE` / `ON UPDATE` as `RESTRICT`; the actions are reported as the server
//! states them.

use std::collections::HashMap;

use dal_schema::model::normalize_expression;
use dal_schema::{
    Check, Column, ColumnType, DefaultValue, Dialect, ForeignKey, Index, ReferentialAction, Table,
};

use crate::error::Result;
use crate::introspect::shape::{
    Catalog, RawDefault, TypeName, finish_table, opt_text, parse_default, string_literals,
    strip_wrapping_parens, text, typed_default,
};

fn table_filter(column: &str, one: bool) -> String {
    let mut s = format!("{column} = DATABASE()");
    if one {
        s.push_str(" AND TABLE_NAME = ?");
    }
    s
}

/// Base-table names of the current database (or `only`, if it is one).
pub(crate) async fn table_names(db: &impl Catalog, only: Option<&str>) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT TABLE_NAME AS name FROM information_schema.TABLES \
         WHERE {} AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY TABLE_NAME",
        table_filter("TABLE_SCHEMA", only.is_some())
    );
    let rows = match only {
        Some(name) => db.fetch_all(&sql, (name,)).await?,
        None => db.fetch_all(&sql, ()).await?,
    };
    rows.iter().map(|r| text(r, "name")).collect()
}

/// Every base table of the current database (or just `only`), fully described.
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
    let one_table = only.is_some();
    let fetch = |sql: String| async move {
        match only {
            Some(name) => db.fetch_all(&sql, (name,)).await,
            None => db.fetch_all(&sql, ()).await,
        }
    };
    // the collation, when it is not the one dal writes by default
    for row in fetch(format!(
        "SELECT TABLE_NAME AS name, TABLE_COLLATION AS collation FROM information_schema.TABLES WHERE {}",
        table_filter("TABLE_SCHEMA", one_table)
    ))
    .await?
    {
        let Some(&i) = position.get(&text(&row, "name")?) else {
            continue;
        };
        tables[i].collation = opt_text(&row, "collation")?
            .filter(|c| !c.eq_ignore_ascii_case(dal_schema::DEFAULT_MYSQL_COLLATION));
    }
    let version: String = db.fetch_scalar("SELECT VERSION()", ()).await?;
    let mariadb = version.to_ascii_lowercase().contains("mariadb");
    let one = only.is_some();

    // columns
    let rows = fetch(format!(
        "SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, \
         COLUMN_TYPE AS column_type, IS_NULLABLE AS is_nullable, \
         COLUMN_DEFAULT AS column_default, EXTRA AS extra \
         FROM information_schema.COLUMNS WHERE {} \
         ORDER BY TABLE_NAME, ORDINAL_POSITION",
        table_filter("TABLE_SCHEMA", one)
    ))
    .await?;
    let mut long_texts: Vec<(usize, String)> = Vec::new();
    for row in &rows {
        let Some(&ti) = position.get(&text(row, "table_name")?) else {
            continue;
        };
        let name = text(row, "column_name")?;
        let declared = text(row, "column_type")?;
        let ty = column_type(&declared);
        if declared.eq_ignore_ascii_case("longtext") {
            long_texts.push((ti, name.clone()));
        }
        let extra = text(row, "extra")?.to_ascii_lowercase();
        let nullable = text(row, "is_nullable")?.eq_ignore_ascii_case("yes");
        let default = column_default(
            opt_text(row, "column_default")?.as_deref(),
            &extra,
            mariadb,
            &ty,
        );
        tables[ti].columns.push(Column {
            name,
            ty,
            nullable,
            default,
            unique: false,
            auto_increment: extra.contains("auto_increment"),
        });
    }

    // primary keys and indexes, one row per key column
    let rows = fetch(format!(
        "SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, \
         CAST(NON_UNIQUE AS SIGNED) AS non_unique, COLUMN_NAME AS column_name, \
         CAST(SUB_PART IS NOT NULL AS SIGNED) AS prefix, INDEX_TYPE AS index_type \
         FROM information_schema.STATISTICS WHERE {} \
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        table_filter("TABLE_SCHEMA", one)
    ))
    .await?;
    let mut skipped: Vec<(usize, String)> = Vec::new();
    for row in &rows {
        let Some(&ti) = position.get(&text(row, "table_name")?) else {
            continue;
        };
        let index_name = text(row, "index_name")?;
        let column = opt_text(row, "column_name")?;
        let table = &mut tables[ti];
        if index_name == "PRIMARY" {
            if let Some(c) = column {
                table.primary_key.push(c);
            }
            continue;
        }
        let prefix: i64 = row.get("prefix")?;
        let index_type = text(row, "index_type")?.to_ascii_uppercase();
        let plain = prefix == 0 && !matches!(index_type.as_str(), "FULLTEXT" | "SPATIAL");
        let Some(column) = column.filter(|_| plain) else {
            // functional, prefix, full-text or spatial index: not describable, left out
            table.indexes.retain(|i| i.name != index_name);
            skipped.push((ti, index_name));
            continue;
        };
        if skipped.iter().any(|(t, n)| *t == ti && *n == index_name) {
            continue;
        }
        match table.indexes.iter_mut().find(|i| i.name == index_name) {
            Some(index) => index.columns.push(column),
            None => {
                let non_unique: i64 = row.get("non_unique")?;
                table.indexes.push(Index {
                    name: index_name,
                    columns: vec![column],
                    unique: non_unique == 0,
                });
            }
        }
    }

    // foreign keys, one row per column pair
    let rows = fetch(format!(
        "SELECT k.TABLE_NAME AS table_name, k.CONSTRAINT_NAME AS name, \
         k.COLUMN_NAME AS column_name, k.REFERENCED_TABLE_NAME AS ref_table, \
         k.REFERENCED_COLUMN_NAME AS ref_column, \
         CAST(k.REFERENCED_TABLE_SCHEMA <> k.TABLE_SCHEMA AS SIGNED) AS external, \
         r.DELETE_RULE AS on_delete, r.UPDATE_RULE AS on_update \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME \
          AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         WHERE {} AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        table_filter("k.TABLE_SCHEMA", false) + if one { " AND k.TABLE_NAME = ?" } else { "" }
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
            None => {
                let external: i64 = row.get("external")?;
                table.foreign_keys.push(ForeignKey {
                    name,
                    columns: vec![column],
                    references_table: text(row, "ref_table")?,
                    references_columns: vec![ref_column],
                    on_delete: ReferentialAction::parse(&text(row, "on_delete")?)
                        .unwrap_or_default(),
                    on_update: ReferentialAction::parse(&text(row, "on_update")?)
                        .unwrap_or_default(),
                    external: external != 0,
                });
            }
        }
    }

    // checks
    let sql = if mariadb {
        format!(
            "SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause \
             FROM information_schema.CHECK_CONSTRAINTS WHERE {} \
             ORDER BY TABLE_NAME, CONSTRAINT_NAME",
            table_filter("CONSTRAINT_SCHEMA", one)
        )
    } else {
        format!(
            "SELECT tc.TABLE_NAME AS table_name, tc.CONSTRAINT_NAME AS name, \
             cc.CHECK_CLAUSE AS clause \
             FROM information_schema.TABLE_CONSTRAINTS tc \
             JOIN information_schema.CHECK_CONSTRAINTS cc \
               ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA \
              AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
             WHERE tc.CONSTRAINT_TYPE = 'CHECK' AND {} \
             ORDER BY tc.TABLE_NAME, tc.CONSTRAINT_NAME",
            table_filter("tc.TABLE_SCHEMA", false)
                + if one { " AND tc.TABLE_NAME = ?" } else { "" }
        )
    };
    for row in &fetch(sql).await? {
        let Some(&ti) = position.get(&text(row, "table_name")?) else {
            continue;
        };
        tables[ti].checks.push(Check {
            name: text(row, "name")?,
            expression: strip_wrapping_parens(&text(row, "clause")?, Dialect::MySql).to_string(),
        });
    }

    for (ti, column) in long_texts {
        fold_json_check(&mut tables[ti], &column);
    }
    Ok(tables
        .into_iter()
        .map(|mut t| {
            drop_foreign_key_indexes(&mut t);
            finish_table(t)
        })
        .collect())
}

/// MariaDB: a `LONGTEXT` column with the automatic `json_valid(col)` check named
/// after it is a JSON column; the check is dropped.
fn fold_json_check(table: &mut Table, column: &str) {
    let expected = normalize_expression(&format!(
        "json_valid({})",
        Dialect::MySql.quote_identifier(column)
    ));
    let Some(pos) = table.checks.iter().position(|c| {
        c.name.eq_ignore_ascii_case(column) && normalize_expression(&c.expression) == expected
    }) else {
        return;
    };
    table.checks.remove(pos);
    if let Some(c) = table.column_mut(column) {
        c.ty = ColumnType::Json;
    }
}

/// Drop the indexes InnoDB created for foreign keys (see the module documentation).
fn drop_foreign_key_indexes(table: &mut Table) {
    let foreign_keys = &table.foreign_keys;
    table.indexes.retain(|i| {
        i.unique
            || !foreign_keys
                .iter()
                .any(|fk| fk.name == i.name && fk.columns == i.columns)
    });
}

/// The blueprint default for `COLUMN_DEFAULT` (see the module documentation for
/// how MariaDB and MySQL 8 differ).
fn column_default(
    raw: Option<&str>,
    extra: &str,
    mariadb: bool,
    ty: &ColumnType,
) -> Option<DefaultValue> {
    let raw = raw?;
    if extra.contains("generated") && !extra.contains("default_generated") {
        // a generated column: COLUMN_DEFAULT is not a default
        return None;
    }
    let parsed = if mariadb || extra.contains("default_generated") {
        parse_default(raw, Dialect::MySql)
    } else if ty.is_integer()
        || matches!(
            ty,
            ColumnType::Boolean
                | ColumnType::Float
                | ColumnType::Double
                | ColumnType::Decimal { .. }
        )
    {
        // MySQL 8 reports literal defaults unquoted
        RawDefault::Number(raw.to_string())
    } else {
        RawDefault::Literal(raw.to_string())
    };
    typed_default(parsed, ty)
}

/// The blueprint type for a MySQL `COLUMN_TYPE`.
///
/// The inverse of what dal writes (`TINYINT(1)` is a boolean, `CHAR(36)` a UUID,
/// `DATETIME(6)` a timestamp, `TIME(6)` a time, `LONGBLOB` binary, `ENUM(..)` an
/// enumeration), plus the closest type for the rest: other `TINYINT`s and `YEAR`
/// are small integers, `MEDIUMINT` an integer, `BIGINT UNSIGNED` an unsigned big
/// integer and the other unsigned integers the next wider signed type, `BIT(1)` a boolean and wider `BIT`s big integers, `REAL` a double, other
/// `CHAR(n)` strings, every `*TEXT` text, `TIMESTAMP` a timestamp, every binary
/// and `*BLOB` type binary, MariaDB's `UUID` a UUID; `SET`, spatial, `INET*` and
/// unknown types are text.
pub(crate) fn column_type(declared: &str) -> ColumnType {
    let lower = declared.trim().to_ascii_lowercase();
    if lower.starts_with("enum(") || lower.starts_with("enum (") {
        let variants = string_literals(declared, Dialect::MySql);
        return if variants.is_empty() {
            ColumnType::Text
        } else {
            ColumnType::Enumeration { variants }
        };
    }
    let t = TypeName::parse(&lower);
    let unsigned = t.name.split_whitespace().any(|w| w == "unsigned");
    let base = t.name.split_whitespace().next().unwrap_or("");
    match base {
        "tinyint" if t.arg(0) == Some(1) && !unsigned => ColumnType::Boolean,
        "bool" | "boolean" => ColumnType::Boolean,
        "tinyint" | "year" => ColumnType::SmallInteger,
        "smallint" if unsigned => ColumnType::Integer,
        "smallint" => ColumnType::SmallInteger,
        "mediumint" => ColumnType::Integer,
        "int" | "integer" if unsigned => ColumnType::UnsignedInteger,
        "int" | "integer" => ColumnType::Integer,
        // `SERIAL` is `BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE`
        "bigint" if unsigned => ColumnType::UnsignedBigInteger,
        "serial" => ColumnType::UnsignedBigInteger,
        "bigint" => ColumnType::BigInteger,
        "bit" if t.arg(0).unwrap_or(1) == 1 => ColumnType::Boolean,
        "bit" => ColumnType::BigInteger,
        "float" => ColumnType::Float,
        "double" | "real" => ColumnType::Double,
        "decimal" | "numeric" | "dec" | "fixed" => t.decimal(),
        "varchar" | "nvarchar" => t.string(),
        "char" | "nchar" if t.arg(0) == Some(36) => ColumnType::Uuid,
        "char" | "nchar" => match t.string() {
            ColumnType::Text => ColumnType::String { length: 1 },
            other => other,
        },
        "tinytext" | "text" | "mediumtext" | "longtext" => ColumnType::Text,
        "json" => ColumnType::Json,
        "date" => ColumnType::Date,
        "time" => ColumnType::Time,
        "datetime" | "timestamp" => ColumnType::Timestamp,
        "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
            ColumnType::Binary
        }
        "uuid" => ColumnType::Uuid,
        _ => ColumnType::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_type_dal_writes_back() {
        for ty in [
            ColumnType::SmallInteger,
            ColumnType::Integer,
            ColumnType::BigInteger,
            ColumnType::UnsignedInteger,
            ColumnType::UnsignedBigInteger,
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
            ColumnType::Uuid,
            ColumnType::Json,
            ColumnType::Binary,
            ColumnType::Enumeration {
                variants: vec!["a".into(), "it's".into(), "back\\slash".into()],
            },
        ] {
            let written = Dialect::MySql.column_type_sql(&ty);
            assert_eq!(column_type(&written), ty, "{written}");
        }
    }

    #[test]
    fn maps_server_spellings_and_foreign_types() {
        assert_eq!(column_type("tinyint(1)"), ColumnType::Boolean);
        assert_eq!(column_type("tinyint(4)"), ColumnType::SmallInteger);
        assert_eq!(column_type("bigint(20)"), ColumnType::BigInteger);
        assert_eq!(column_type("int(11)"), ColumnType::Integer);
        assert_eq!(column_type("int(10) unsigned"), ColumnType::UnsignedInteger);
        assert_eq!(
            column_type("bigint(20) unsigned"),
            ColumnType::UnsignedBigInteger
        );
        assert_eq!(
            column_type("bigint unsigned zerofill"),
            ColumnType::UnsignedBigInteger
        );
        assert_eq!(column_type("serial"), ColumnType::UnsignedBigInteger);
        assert_eq!(column_type("mediumint(9)"), ColumnType::Integer);
        assert_eq!(column_type("char(36)"), ColumnType::Uuid);
        assert_eq!(column_type("char(2)"), ColumnType::String { length: 2 });
        assert_eq!(column_type("datetime(6)"), ColumnType::Timestamp);
        assert_eq!(column_type("timestamp"), ColumnType::Timestamp);
        assert_eq!(column_type("time(6)"), ColumnType::Time);
        assert_eq!(column_type("longblob"), ColumnType::Binary);
        assert_eq!(column_type("varbinary(16)"), ColumnType::Binary);
        assert_eq!(
            column_type("decimal(12,3)"),
            ColumnType::Decimal {
                precision: 12,
                scale: 3
            }
        );
        assert_eq!(
            column_type("enum('a','b''c')"),
            ColumnType::Enumeration {
                variants: vec!["a".into(), "b'c".into()]
            }
        );
        assert_eq!(
            column_type("ENUM('Draft','Live')"),
            ColumnType::Enumeration {
                variants: vec!["Draft".into(), "Live".into()]
            }
        );
        assert_eq!(column_type("set('a','b')"), ColumnType::Text);
        assert_eq!(column_type("geometry"), ColumnType::Text);
        assert_eq!(column_type("year(4)"), ColumnType::SmallInteger);
    }

    #[test]
    fn reads_mariadb_and_mysql8_defaults() {
        let int = ColumnType::Integer;
        let s = ColumnType::String { length: 20 };
        assert_eq!(
            column_default(Some("-1"), "", true, &int),
            Some(DefaultValue::Integer(-1))
        );
        assert_eq!(column_default(Some("NULL"), "", true, &s), None);
        assert_eq!(column_default(None, "", true, &s), None);
        assert_eq!(
            column_default(Some("'it''s a \\\\ back'"), "", true, &s),
            Some(DefaultValue::String("it's a \\ back".into()))
        );
        assert_eq!(
            column_default(Some("1"), "", true, &ColumnType::Boolean),
            Some(DefaultValue::Bool(true))
        );
        assert_eq!(
            column_default(
                Some("2.500"),
                "",
                true,
                &ColumnType::Decimal {
                    precision: 12,
                    scale: 3
                }
            ),
            Some(DefaultValue::Float(2.5))
        );
        assert_eq!(
            column_default(
                Some("current_timestamp(6)"),
                "",
                true,
                &ColumnType::Timestamp
            ),
            Some(DefaultValue::CurrentTimestamp)
        );
        assert_eq!(
            column_default(Some("curdate()"), "", true, &ColumnType::Date),
            Some(DefaultValue::CurrentDate)
        );
        // MySQL 8
        assert_eq!(
            column_default(Some("abc"), "", false, &s),
            Some(DefaultValue::String("abc".into()))
        );
        assert_eq!(
            column_default(
                Some("CURRENT_TIMESTAMP(6)"),
                "default_generated",
                false,
                &ColumnType::Timestamp
            ),
            Some(DefaultValue::CurrentTimestamp)
        );
        assert_eq!(
            column_default(Some("`a` + 1"), "virtual generated", true, &int),
            None
        );
    }

    #[test]
    fn folds_json_checks_and_foreign_key_indexes() {
        let mut t = Table::build("t", |t| {
            t.text("j");
            t.foreign_id("p_id").references("p");
            t.check_named("j", "json_valid(`j`)");
            t.check_named("other", "`p_id` > 0");
        });
        t.indexes.push(Index {
            name: "t_p_id_foreign".into(),
            columns: vec!["p_id".into()],
            unique: false,
        });
        fold_json_check(&mut t, "j");
        drop_foreign_key_indexes(&mut t);
        assert_eq!(t.column("j").unwrap().ty, ColumnType::Json);
        assert_eq!(t.checks.len(), 1);
        assert!(t.indexes.is_empty());
    }
}
