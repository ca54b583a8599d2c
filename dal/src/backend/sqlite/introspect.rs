//! SQLite introspection: the tables of the `main` database, read from the
//! `pragma_table_info` / `pragma_index_list` / `pragma_foreign_key_list` table
//! functions and from the `CREATE TABLE` text SQLite stores in `sqlite_master`.
//!
//! The stored text, tokenized with dal's SQL lexer, supplies what the pragmas do
//! not: the names of foreign keys (`CONSTRAINT "name" FOREIGN KEY ..` or a named
//! column `REFERENCES`), the checks with their names and expressions, and the
//! `AUTOINCREMENT` keyword. An `INTEGER PRIMARY KEY AUTOINCREMENT` column is what
//! dal writes for `id()`, so it is reported as a [`ColumnType::BigInteger`]
//! auto-increment column. A foreign key or check without a name gets the name dal
//! would give it (`{table}_{cols}_foreign`, `{table}_{hash}_check`), and the
//! automatic index of a `UNIQUE` constraint (`sqlite_autoindex_*`, which cannot be
//! created by name) is reported as a unique index named `{table}_{cols}_unique`.

use dal_schema::model::names;
use dal_schema::sql::lexer::{Token, TokenKind, tokenize_native};
use dal_schema::{Check, Column, ColumnType, Dialect, ForeignKey, Index, ReferentialAction, Table};

use crate::error::Result;
use crate::introspect::shape::{
    Catalog, TypeName, UNCONSTRAINED_DECIMAL, finish_table, fold_enum_checks, fold_unsigned_checks,
    opt_text, parse_default, text, typed_default, unescape_literal,
};

/// Table names of the main database (or `only`, if it is one), without SQLite's
/// own `sqlite_*` tables and virtual tables.
pub(crate) async fn table_names(db: &impl Catalog, only: Option<&str>) -> Result<Vec<String>> {
    let mut sql = String::from(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL%'",
    );
    if only.is_some() {
        sql.push_str(" AND name = ?");
    }
    sql.push_str(" ORDER BY name");
    let rows = match only {
        Some(name) => db.fetch_all(&sql, (name,)).await?,
        None => db.fetch_all(&sql, ()).await?,
    };
    rows.iter().map(|r| text(r, "name")).collect()
}

/// Every table of the main database (or just `only`), fully described.
pub(crate) async fn tables(db: &impl Catalog, only: Option<&str>) -> Result<Vec<Table>> {
    let mut out = Vec::new();
    for name in table_names(db, only).await? {
        out.push(table(db, &name).await?);
    }
    Ok(out)
}

async fn table(db: &impl Catalog, name: &str) -> Result<Table> {
    let mut table = Table::new(name);
    let create_sql: Option<String> = db
        .fetch_scalar(
            "SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = ?",
            (name,),
        )
        .await?;
    let parsed = parse_create_table(create_sql.as_deref().unwrap_or(""));

    // columns and primary key
    let rows = db
        .fetch_all(
            "SELECT name, type, \"notnull\" AS not_null, dflt_value, pk \
             FROM pragma_table_info(?, 'main') ORDER BY cid",
            (name,),
        )
        .await?;
    let mut key: Vec<(i64, String)> = Vec::new();
    for row in &rows {
        let column = text(row, "name")?;
        let declared = text(row, "type")?;
        let pk: i64 = row.get("pk")?;
        if pk > 0 {
            key.push((pk, column.clone()));
        }
        let ty = column_type(&declared);
        let default = opt_text(row, "dflt_value")?
            .and_then(|d| typed_default(parse_default(&d, Dialect::Sqlite), &ty));
        let not_null: bool = row.get("not_null")?;
        table.columns.push(Column {
            name: column,
            ty,
            nullable: !not_null,
            default,
            unique: false,
            auto_increment: false,
        });
    }
    key.sort();
    table.primary_key = key.into_iter().map(|(_, c)| c).collect();
    table.without_rowid = parsed.without_rowid;
    // AUTOINCREMENT is only allowed on the INTEGER PRIMARY KEY (the rowid alias)
    if parsed.autoincrement
        && let [pk] = table.primary_key.as_slice()
    {
        let pk = pk.clone();
        if let Some(c) = table.column_mut(&pk)
            && c.ty == ColumnType::Integer
        {
            c.ty = ColumnType::BigInteger;
            c.auto_increment = true;
            c.nullable = false;
        }
    }

    // indexes
    let rows = db
        .fetch_all(
            "SELECT name, \"unique\" AS is_unique, origin, partial \
             FROM pragma_index_list(?, 'main') ORDER BY name",
            (name,),
        )
        .await?;
    for row in &rows {
        let index_name = text(row, "name")?;
        let origin = text(row, "origin")?;
        let partial: bool = row.get("partial")?;
        if origin == "pk" || partial {
            continue;
        }
        let cols = db
            .fetch_all(
                "SELECT name FROM pragma_index_info(?, 'main') ORDER BY seqno",
                (index_name.as_str(),),
            )
            .await?;
        let mut columns = Vec::with_capacity(cols.len());
        let mut describable = !cols.is_empty();
        for c in &cols {
            match opt_text(c, "name")? {
                Some(c) => columns.push(c),
                // an expression: not describable, the index is left out
                None => {
                    describable = false;
                    break;
                }
            }
        }
        if !describable {
            continue;
        }
        let unique: bool = row.get("is_unique")?;
        let index_name = if origin == "u" {
            names::unique_index(name, &columns)
        } else {
            index_name
        };
        table.indexes.push(Index {
            name: index_name,
            columns,
            unique,
        });
    }

    // foreign keys: columns and actions from the pragma, names from the stored SQL
    let rows = db
        .fetch_all(
            "SELECT id, \"table\" AS ref_table, \"from\" AS from_column, \"to\" AS to_column, \
             on_update, on_delete FROM pragma_foreign_key_list(?, 'main') ORDER BY id, seq",
            (name,),
        )
        .await?;
    let mut current: Option<i64> = None;
    let mut pending: Vec<(ForeignKey, bool)> = Vec::new();
    for row in &rows {
        let id: i64 = row.get("id")?;
        let column = text(row, "from_column")?;
        let to = opt_text(row, "to_column")?.filter(|s| !s.is_empty());
        if current == Some(id)
            && let Some((fk, implicit)) = pending.last_mut()
        {
            fk.columns.push(column);
            *implicit |= to.is_none();
            fk.references_columns.extend(to);
            continue;
        }
        current = Some(id);
        pending.push((
            ForeignKey {
                name: String::new(),
                columns: vec![column],
                references_table: text(row, "ref_table")?,
                references_columns: to.iter().cloned().collect(),
                on_delete: ReferentialAction::parse(&text(row, "on_delete")?).unwrap_or_default(),
                on_update: ReferentialAction::parse(&text(row, "on_update")?).unwrap_or_default(),
                external: false,
            },
            to.is_none(),
        ));
    }
    let mut used = vec![false; parsed.foreign_keys.len()];
    for (mut fk, implicit) in pending {
        if implicit {
            // `REFERENCES parent` without columns: the parent's primary key
            fk.references_columns = primary_key_of(db, &fk.references_table).await?;
        }
        let found = parsed.foreign_keys.iter().enumerate().position(|(i, p)| {
            !used[i]
                && p.references_table
                    .eq_ignore_ascii_case(&fk.references_table)
                && p.columns.len() == fk.columns.len()
                && p.columns
                    .iter()
                    .zip(&fk.columns)
                    .all(|(a, b)| a.eq_ignore_ascii_case(b))
        });
        let declared = found.and_then(|i| {
            used[i] = true;
            parsed.foreign_keys[i].name.clone()
        });
        fk.name = declared.unwrap_or_else(|| names::foreign_key(name, &fk.columns));
        table.foreign_keys.push(fk);
    }

    // checks
    for (check_name, expression) in parsed.checks {
        let name = check_name.unwrap_or_else(|| names::check(name, &expression));
        table.checks.push(Check { name, expression });
    }

    fold_enum_checks(&mut table, Dialect::Sqlite);
    fold_unsigned_checks(&mut table);
    Ok(finish_table(table))
}

async fn primary_key_of(db: &impl Catalog, table: &str) -> Result<Vec<String>> {
    let rows = db
        .fetch_all(
            "SELECT name FROM pragma_table_info(?, 'main') WHERE pk > 0 ORDER BY pk",
            (table,),
        )
        .await?;
    rows.iter().map(|r| text(r, "name")).collect()
}

/// What the stored `CREATE TABLE` text says that the pragmas do not.
#[derive(Debug, Default, PartialEq)]
struct ParsedTable {
    /// Checks (table and column constraints) with their names when they have one.
    checks: Vec<(Option<String>, String)>,
    /// Foreign keys (table and column constraints) with their names when they have one.
    foreign_keys: Vec<ParsedForeignKey>,
    /// The `AUTOINCREMENT` keyword appears.
    autoincrement: bool,
    /// The table options after the column list include `WITHOUT ROWID`.
    without_rowid: bool,
}

#[derive(Debug, PartialEq)]
struct ParsedForeignKey {
    name: Option<String>,
    columns: Vec<String>,
    references_table: String,
}

/// Read the checks, foreign-key names and `AUTOINCREMENT` from a `CREATE TABLE`
/// statement. Text that cannot be tokenized gives an empty result.
fn parse_create_table(sql: &str) -> ParsedTable {
    let mut out = ParsedTable::default();
    let Ok(tokens) = tokenize_native(sql, Dialect::Sqlite) else {
        return out;
    };
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| {
            !matches!(
                t.kind,
                TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment
            )
        })
        .collect();
    let Some(open) = tokens.iter().position(|t| is_punct(t, sql, "(")) else {
        return out;
    };
    let mut depth = 0usize;
    let mut start = open + 1;
    for i in open + 1..tokens.len() {
        let t = &tokens[i];
        if is_punct(t, sql, "(") {
            depth += 1;
        } else if is_punct(t, sql, ")") {
            if depth == 0 {
                parse_item(&tokens[start..i], sql, &mut out);
                // table options: `WITHOUT ROWID`, `STRICT`, separated by commas
                let words: Vec<String> = (i + 1..tokens.len())
                    .filter_map(|j| keyword(&tokens, j, sql))
                    .collect();
                out.without_rowid = words
                    .windows(2)
                    .any(|w| w[0] == "WITHOUT" && w[1] == "ROWID");
                break;
            }
            depth -= 1;
        } else if is_punct(t, sql, ",") && depth == 0 {
            parse_item(&tokens[start..i], sql, &mut out);
            start = i + 1;
        }
    }
    out
}

fn is_punct(t: &Token, sql: &str, p: &str) -> bool {
    t.kind == TokenKind::Punct && t.text(sql) == p
}

fn keyword(tokens: &[Token], i: usize, sql: &str) -> Option<String> {
    tokens
        .get(i)
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| t.text(sql).to_ascii_uppercase())
}

/// The name an identifier token stands for (bare, `"quoted"`, `` `quoted` ``,
/// `[quoted]` or, as SQLite also accepts, `'quoted'`).
fn identifier(t: &Token, sql: &str) -> String {
    let s = t.text(sql);
    match t.kind {
        TokenKind::QuotedIdentifier => {
            let inner = s.get(1..s.len().saturating_sub(1)).unwrap_or("");
            match s.chars().next() {
                // SQLite's native `[name]` has no escapes
                Some('[') | None => inner.to_string(),
                Some(q) => inner.replace(&format!("{q}{q}"), &q.to_string()),
            }
        }
        TokenKind::BracketIdentifier => t
            .bracket_name(sql)
            .map(|n| n.into_owned())
            .unwrap_or_default(),
        TokenKind::String => unescape_literal(s, Dialect::Sqlite).unwrap_or_default(),
        _ => s.to_string(),
    }
}

/// The index of the `)` closing the `(` at `open`.
fn closing(tokens: &[Token], open: usize, sql: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if is_punct(t, sql, "(") {
            depth += 1;
        } else if is_punct(t, sql, ")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// The text between the parentheses at `open` and its closing one, and the index
/// of the closing one.
fn parenthesized<'a>(tokens: &[Token], open: usize, sql: &'a str) -> Option<(&'a str, usize)> {
    if !tokens.get(open).is_some_and(|t| is_punct(t, sql, "(")) {
        return None;
    }
    let close = closing(tokens, open, sql)?;
    // token bounds from the lexer are character boundaries (tokens start and
    // end at ASCII punctuation here)
    Some((sql[tokens[open].end..tokens[close].start].trim(), close))
}

/// A (possibly schema-qualified) table name at `i`: the name and the index after it.
fn table_name(tokens: &[Token], i: usize, sql: &str) -> Option<(String, usize)> {
    let mut name = identifier(tokens.get(i)?, sql);
    let mut next = i + 1;
    while tokens.get(next).is_some_and(|t| is_punct(t, sql, ".")) {
        name = identifier(tokens.get(next + 1)?, sql);
        next += 2;
    }
    Some((name, next))
}

fn parse_item(tokens: &[Token], sql: &str, out: &mut ParsedTable) {
    let Some(first) = tokens.first() else {
        return;
    };
    let is_table_constraint = first.kind == TokenKind::Word
        && matches!(
            first.text(sql).to_ascii_uppercase().as_str(),
            "CONSTRAINT" | "PRIMARY" | "UNIQUE" | "CHECK" | "FOREIGN"
        );
    if is_table_constraint {
        let mut i = 0;
        let mut name = None;
        if keyword(tokens, 0, sql).as_deref() == Some("CONSTRAINT") {
            name = tokens.get(1).map(|t| identifier(t, sql));
            i = 2;
        }
        match keyword(tokens, i, sql).as_deref() {
            Some("CHECK") => {
                if let Some((expr, _)) = parenthesized(tokens, i + 1, sql) {
                    out.checks.push((name, expr.to_string()));
                }
            }
            Some("FOREIGN") if keyword(tokens, i + 1, sql).as_deref() == Some("KEY") => {
                let open = i + 2;
                let Some(close) = tokens
                    .get(open)
                    .filter(|t| is_punct(t, sql, "("))
                    .and_then(|_| closing(tokens, open, sql))
                else {
                    return;
                };
                let columns: Vec<String> = tokens[open + 1..close]
                    .iter()
                    .filter(|t| !is_punct(t, sql, ","))
                    .map(|t| identifier(t, sql))
                    .collect();
                if keyword(tokens, close + 1, sql).as_deref() == Some("REFERENCES")
                    && let Some((references_table, _)) = table_name(tokens, close + 2, sql)
                {
                    out.foreign_keys.push(ParsedForeignKey {
                        name,
                        columns,
                        references_table,
                    });
                }
            }
            _ => {}
        }
        if keyword(tokens, i, sql).as_deref() == Some("PRIMARY")
            && tokens.iter().any(|t| {
                t.kind == TokenKind::Word && t.text(sql).eq_ignore_ascii_case("AUTOINCREMENT")
            })
        {
            out.autoincrement = true;
        }
        return;
    }
    // a column definition: name, type, then column constraints
    let column = identifier(first, sql);
    let mut pending_name: Option<String> = None;
    let mut i = 1;
    while i < tokens.len() {
        let t = &tokens[i];
        if is_punct(t, sql, "(") {
            i = closing(tokens, i, sql).map_or(tokens.len(), |c| c + 1);
            continue;
        }
        match keyword(tokens, i, sql).as_deref() {
            Some("CONSTRAINT") => {
                pending_name = tokens.get(i + 1).map(|t| identifier(t, sql));
                i += 2;
                continue;
            }
            Some("CHECK") => {
                if let Some((expr, close)) = parenthesized(tokens, i + 1, sql) {
                    out.checks.push((pending_name.take(), expr.to_string()));
                    i = close + 1;
                    continue;
                }
            }
            Some("REFERENCES") => {
                if let Some((references_table, next)) = table_name(tokens, i + 1, sql) {
                    out.foreign_keys.push(ParsedForeignKey {
                        name: pending_name.take(),
                        columns: vec![column.clone()],
                        references_table,
                    });
                    i = next;
                    continue;
                }
            }
            Some("AUTOINCREMENT") => out.autoincrement = true,
            Some(
                "PRIMARY" | "NOT" | "NULL" | "UNIQUE" | "DEFAULT" | "COLLATE" | "GENERATED" | "AS",
            ) => pending_name = None,
            _ => {}
        }
        i += 1;
    }
}

/// The blueprint type for a declared SQLite column type.
///
/// The inverse of what dal writes (`BIGINT`, `BOOLEAN`, `FLOAT`, `DOUBLE`,
/// `DECIMAL(p, s)`, `VARCHAR(n)`, `TEXT`, `DATE`, `TIME`, `TIMESTAMP`,
/// `TIMESTAMPTZ`, `UUID`, `JSON`, `BLOB`), plus the closest type for other
/// declarations: `INT`/`MEDIUMINT` are integers, `TINYINT`/`INT2` small integers,
/// `INT8`/`UNSIGNED BIG INT` big integers, `REAL` a double (SQLite's REAL is
/// 8 bytes), `NUMERIC`/`DECIMAL` without arguments [`UNCONSTRAINED_DECIMAL`],
/// `CHAR(n)`/`CHARACTER(n)`/`NCHAR(n)`/`NVARCHAR(n)` strings, `CLOB` text,
/// `DATETIME` a timestamp. Other names follow SQLite's affinity rules (a name
/// containing `INT` is a big integer, `CHAR`/`CLOB`/`TEXT` text, `BLOB` binary,
/// `REAL`/`FLOA`/`DOUB` a double); a column without a declared type and anything
/// else is text.
pub(crate) fn column_type(declared: &str) -> ColumnType {
    let t = TypeName::parse(declared);
    match t.name.as_str() {
        "smallint" | "int2" | "tinyint" => ColumnType::SmallInteger,
        "integer" | "int" | "int4" | "mediumint" => ColumnType::Integer,
        "bigint" | "int8" | "unsigned big int" => ColumnType::BigInteger,
        "boolean" | "bool" => ColumnType::Boolean,
        "float" | "float4" => ColumnType::Float,
        "double" | "double precision" | "real" | "float8" => ColumnType::Double,
        "decimal" | "numeric" => t.decimal(),
        "varchar" | "character varying" | "varying character" | "nvarchar" | "char"
        | "character" | "nchar" | "native character" => t.string(),
        "text" | "clob" => ColumnType::Text,
        "date" => ColumnType::Date,
        "time" => ColumnType::Time,
        "timestamp" | "datetime" => ColumnType::Timestamp,
        "timestamptz" | "timestamp with time zone" => ColumnType::TimestampTz,
        "uuid" => ColumnType::Uuid,
        "json" | "jsonb" => ColumnType::Json,
        "blob" | "bytea" => ColumnType::Binary,
        other if other.contains("int") => ColumnType::BigInteger,
        other if ["char", "clob", "text"].iter().any(|k| other.contains(k)) => ColumnType::Text,
        other if other.contains("blob") => ColumnType::Binary,
        other if ["real", "floa", "doub"].iter().any(|k| other.contains(k)) => ColumnType::Double,
        other if other.contains("decimal") || other.contains("numeric") => UNCONSTRAINED_DECIMAL,
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
                precision: 10,
                scale: 2,
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
        ] {
            let written = Dialect::Sqlite.column_type_sql(&ty);
            assert_eq!(column_type(&written), ty, "{written}");
        }
    }

    #[test]
    fn maps_foreign_declarations() {
        assert_eq!(column_type(""), ColumnType::Text);
        assert_eq!(column_type("INT"), ColumnType::Integer);
        assert_eq!(column_type("UNSIGNED BIG INT"), ColumnType::BigInteger);
        assert_eq!(column_type("REAL"), ColumnType::Double);
        assert_eq!(column_type("NUMERIC"), UNCONSTRAINED_DECIMAL);
        assert_eq!(
            column_type("NVARCHAR(20)"),
            ColumnType::String { length: 20 }
        );
        assert_eq!(column_type("CLOB"), ColumnType::Text);
        assert_eq!(column_type("DATETIME"), ColumnType::Timestamp);
        assert_eq!(column_type("MY_INTEGRAL"), ColumnType::BigInteger);
        assert_eq!(column_type("GEOGRAPHY"), ColumnType::Text);
        assert_eq!(
            column_type("decimal( 10 , 2 )"),
            ColumnType::Decimal {
                precision: 10,
                scale: 2
            }
        );
    }

    #[test]
    fn reads_sqlite_defaults() {
        let d = |s: &str, ty: ColumnType| typed_default(parse_default(s, Dialect::Sqlite), &ty);
        assert_eq!(d("1", ColumnType::Boolean), Some(DefaultValue::Bool(true)));
        assert_eq!(
            d("-1", ColumnType::Integer),
            Some(DefaultValue::Integer(-1))
        );
        assert_eq!(
            d(
                "'2.5'",
                ColumnType::Decimal {
                    precision: 12,
                    scale: 3
                }
            ),
            Some(DefaultValue::Float(2.5))
        );
        assert_eq!(
            d("'it''s a \\ back'", ColumnType::String { length: 20 }),
            Some(DefaultValue::String("it's a \\ back".into()))
        );
        assert_eq!(
            d("CURRENT_TIMESTAMP", ColumnType::TimestampTz),
            Some(DefaultValue::CurrentTimestamp)
        );
        assert_eq!(d("NULL", ColumnType::Text), None);
    }

    #[test]
    fn parses_the_stored_create_table() {
        let sql = "CREATE TABLE \"posts\" (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, \
            \"user_id\" BIGINT NOT NULL, \
            \"status\" VARCHAR(255) NOT NULL DEFAULT 'a' CONSTRAINT \"posts_status_enum\" CHECK (\"status\" IN ('a', 'b''c')), \
            \"price\" DECIMAL(10, 2) NOT NULL DEFAULT (1 + 1) CHECK (price > 0), \
            parent integer constraint parent_fk references \"posts\" (id) on delete cascade, \
            other INT REFERENCES main.posts, \
            CONSTRAINT \"posts_user_id_foreign\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE, \
            FOREIGN KEY (a, [b]) REFERENCES t2, \
            CONSTRAINT \"posts_x_check\" CHECK (\"price\" >= 0 AND \"status\" <> ')'), \
            UNIQUE (user_id))";
        let p = parse_create_table(sql);
        assert!(p.autoincrement);
        assert_eq!(
            p.checks,
            vec![
                (
                    Some("posts_status_enum".to_string()),
                    "\"status\" IN ('a', 'b''c')".to_string()
                ),
                (None, "price > 0".to_string()),
                (
                    Some("posts_x_check".to_string()),
                    "\"price\" >= 0 AND \"status\" <> ')'".to_string()
                ),
            ]
        );
        let fks: Vec<(Option<&str>, Vec<&str>, &str)> = p
            .foreign_keys
            .iter()
            .map(|f| {
                (
                    f.name.as_deref(),
                    f.columns.iter().map(String::as_str).collect(),
                    f.references_table.as_str(),
                )
            })
            .collect();
        assert_eq!(
            fks,
            vec![
                (Some("parent_fk"), vec!["parent"], "posts"),
                (None, vec!["other"], "posts"),
                (Some("posts_user_id_foreign"), vec!["user_id"], "users"),
                (None, vec!["a", "b"], "t2"),
            ]
        );
        assert_eq!(parse_create_table("not sql ("), ParsedTable::default());
    }
}
