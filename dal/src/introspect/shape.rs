//! What every dialect's introspection shares, below the backends: the
//! [`Catalog`] a backend reads through, the readers of catalog text columns, the
//! parsers for column defaults, string literals and type names, and the final
//! clean-up that brings every table into one shape.
//!
//! This file imports no backend: `backend/<dialect>/introspect.rs` builds on it,
//! and `introspect/mod.rs` dispatches into those.

use std::future::Future;
use std::pin::Pin;

use dal_schema::sql::lexer::{TokenKind, tokenize_native};
use dal_schema::{ColumnType, DefaultValue, Dialect, Table};

use crate::codec::Decode;
use crate::error::Result;
use crate::params::Params;
use crate::row::Row;

/// A boxed, sendable future: the catalog's answers are boxed so that the
/// backends' generic introspection functions stay `Send` without the compiler
/// having to prove it for every lifetime.
pub(crate) type CatalogFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T>> + Send + 'a>>;

/// Where a backend's introspection reads the live catalog: the runtime's
/// portable query entry points ([`crate::Db`] implements it), behind a trait so
/// the backend files need not know the handle that runs them.
pub(crate) trait Catalog: Sync {
    /// Run a catalog query and return every row.
    fn fetch_all<'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> CatalogFuture<'a, Vec<Row<'static>>>;

    /// Run a catalog query and decode the first column of its first row
    /// ([`crate::Error::NotFound`] without a row).
    fn fetch_scalar<'a, T: Decode + Send + 'a, P: Params + 'a>(
        &'a self,
        sql: &'a str,
        params: P,
    ) -> CatalogFuture<'a, T>;
}

/// Precision and scale reported for a decimal column declared without them
/// (PostgreSQL `numeric`, SQLite `DECIMAL`): the widest decimal every dialect dal
/// supports can hold, so re-creating the column elsewhere keeps as many digits as
/// possible.
pub(crate) const UNCONSTRAINED_DECIMAL: ColumnType = ColumnType::Decimal {
    precision: 65,
    scale: 30,
};

/// Read a text column (also accepting binary strings, which some MySQL versions
/// return for catalog columns); `None` for NULL.
pub(crate) fn opt_text(row: &Row<'_>, column: &str) -> Result<Option<String>> {
    let bytes: Option<Vec<u8>> = row.get(column)?;
    Ok(bytes.map(|b| match String::from_utf8(b) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }))
}

/// Read a non-null text column (NULL reads as an empty string).
pub(crate) fn text(row: &Row<'_>, column: &str) -> Result<String> {
    Ok(opt_text(row, column)?.unwrap_or_default())
}

/// Bring an introspected table into its final shape: dal-named single-column
/// unique indexes become `unique` column flags, and indexes, foreign keys and
/// checks are sorted by name.
pub(crate) fn finish_table(mut table: Table) -> Table {
    let mut keep = Vec::with_capacity(table.indexes.len());
    for index in std::mem::take(&mut table.indexes) {
        if index.unique
            && index.columns.len() == 1
            && index.name == dal_schema::model::names::unique_index(&table.name, &index.columns)
            && let Some(column) = table.column_mut(&index.columns[0])
        {
            column.unique = true;
            continue;
        }
        keep.push(index);
    }
    table.indexes = keep;
    table.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    table.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
    table.checks.sort_by(|a, b| a.name.cmp(&b.name));
    table
}

/// PostgreSQL and SQLite: turn each `VARCHAR(255)` column that has a check named
/// `{table}_{column}_enum` into an enumeration whose variants are the string
/// literals of that check, and drop the check (dal writes it for the column).
pub(crate) fn fold_enum_checks(table: &mut Table, dialect: Dialect) {
    let table_name = table.name.clone();
    for column in &mut table.columns {
        if column.ty != (ColumnType::String { length: 255 }) {
            continue;
        }
        let check_name = dal_schema::model::names::enum_check(&table_name, &column.name);
        let Some(pos) = table.checks.iter().position(|c| c.name == check_name) else {
            continue;
        };
        let variants = string_literals(&table.checks[pos].expression, dialect);
        if variants.is_empty() {
            continue;
        }
        column.ty = ColumnType::Enumeration { variants };
        table.checks.remove(pos);
    }
}

/// PostgreSQL and SQLite: turn each `BIGINT` column that has a check named
/// `{table}_{column}_unsigned` saying `column >= 0` into an unsigned big integer
/// (`column >= 0 AND column <= 4294967295`: an unsigned integer), and drop the
/// check (dal writes it for the column: these dialects have no unsigned type).
pub(crate) fn fold_unsigned_checks(table: &mut Table) {
    let table_name = table.name.clone();
    for column in &mut table.columns {
        if column.ty != ColumnType::BigInteger {
            continue;
        }
        let check_name = dal_schema::model::names::unsigned_check(&table_name, &column.name);
        let Some(pos) = table.checks.iter().position(|c| c.name == check_name) else {
            continue;
        };
        let q = Dialect::Postgres.quote_identifier(&column.name);
        let expected = dal_schema::model::normalize_expression(&format!("{q} >= 0"));
        let expected_u32 =
            dal_schema::model::normalize_expression(&format!("{q} >= 0 AND {q} <= {}", u32::MAX));
        // PostgreSQL writes a literal beyond `int4` as `'4294967295'::bigint`
        let found = table.checks[pos].normalized_expression().replace('\'', "");
        column.ty = if found == expected {
            ColumnType::UnsignedBigInteger
        } else if found == expected_u32 {
            ColumnType::UnsignedInteger
        } else {
            continue;
        };
        table.checks.remove(pos);
    }
}

/// A column default as the server spells it, before the column type says what
/// the value means.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawDefault {
    /// `NULL` (with or without a cast): no default.
    Null,
    /// `TRUE` / `FALSE`.
    Bool(bool),
    /// An unquoted number, sign included (`-1`, `1.5`, `2.000`).
    Number(String),
    /// A quoted string literal, unescaped.
    Literal(String),
    /// `CURRENT_TIMESTAMP`, `now()`, `current_timestamp(6)`, ...
    CurrentTimestamp,
    /// `CURRENT_DATE`, `curdate()`.
    CurrentDate,
    /// Anything else, as written (outer parentheses removed).
    Expression(String),
}

/// Parse the text of a column default as reported by the server (PostgreSQL
/// `pg_get_expr`, MySQL `COLUMN_DEFAULT`, SQLite `dflt_value`). String literals are
/// unescaped with `dialect`'s rules; casts after a literal (`'a'::text`) are dropped.
pub(crate) fn parse_default(text: &str, dialect: Dialect) -> RawDefault {
    let t = strip_wrapping_parens(text.trim(), dialect);
    let lower = t.to_ascii_lowercase();
    if is_call_of(
        &lower,
        &[
            "current_timestamp",
            "now",
            "localtimestamp",
            "transaction_timestamp",
        ],
    ) {
        return RawDefault::CurrentTimestamp;
    }
    if is_call_of(&lower, &["current_date", "curdate"]) {
        return RawDefault::CurrentDate;
    }
    let Ok(tokens) = tokenize_native(t, dialect) else {
        return RawDefault::Expression(t.to_string());
    };
    let tokens: Vec<_> = tokens
        .into_iter()
        .filter(|tok| !is_trivia(tok.kind))
        .collect();
    let text_of = |i: usize| tokens[i].text(t);
    let mut i = 0;
    // MySQL 8 writes a character-set introducer before literals: `_utf8mb4'abc'`.
    if tokens.len() > 1
        && tokens[0].kind == TokenKind::Word
        && text_of(0).starts_with('_')
        && tokens[1].kind == TokenKind::String
    {
        i = 1;
    }
    let Some(first) = tokens.get(i) else {
        return RawDefault::Expression(t.to_string());
    };
    let value = match first.kind {
        TokenKind::String => {
            i += 1;
            unescape_literal(first.text(t), dialect).map(RawDefault::Literal)
        }
        TokenKind::Word => {
            i += 1;
            match first.text(t).to_ascii_lowercase().as_str() {
                "null" => Some(RawDefault::Null),
                "true" => Some(RawDefault::Bool(true)),
                "false" => Some(RawDefault::Bool(false)),
                _ => None,
            }
        }
        TokenKind::Number => {
            i += 1;
            Some(RawDefault::Number(first.text(t).to_string()))
        }
        TokenKind::Punct if matches!(first.text(t), "-" | "+") => match tokens.get(i + 1) {
            Some(n) if n.kind == TokenKind::Number => {
                let sign = if first.text(t) == "-" { "-" } else { "" };
                i += 2;
                Some(RawDefault::Number(format!("{sign}{}", n.text(t))))
            }
            _ => None,
        },
        _ => None,
    };
    match value {
        Some(v) if only_casts(&tokens[i..], t) => v,
        _ => RawDefault::Expression(t.to_string()),
    }
}

/// Whether `lower` is one of `names`, optionally followed by `()` or `(digits)`.
fn is_call_of(lower: &str, names: &[&str]) -> bool {
    names.iter().any(|name| {
        let Some(rest) = lower.strip_prefix(name) else {
            return false;
        };
        let rest = rest.trim();
        if rest.is_empty() {
            return true;
        }
        match rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            Some(inner) => inner.trim().chars().all(|c| c.is_ascii_digit()),
            None => false,
        }
    })
}

fn is_trivia(kind: TokenKind) -> bool {
    matches!(
        kind,
        TokenKind::Whitespace | TokenKind::LineComment | TokenKind::BlockComment
    )
}

/// Whether `tokens` (no whitespace) are only PostgreSQL casts:
/// `::name [name ...] [(n[, n])] [[]]`, repeated.
fn only_casts(tokens: &[dal_schema::sql::lexer::Token], sql: &str) -> bool {
    let punct = |i: usize, s: &str| {
        tokens
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Punct && t.text(sql) == s)
    };
    let mut i = 0;
    while i < tokens.len() {
        if !(punct(i, ":") && punct(i + 1, ":")) {
            return false;
        }
        i += 2;
        let start = i;
        while tokens.get(i).is_some_and(|t| {
            matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdentifier)
                || (t.kind == TokenKind::Punct && t.text(sql) == ".")
        }) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if punct(i, "(") {
            i += 1;
            while tokens
                .get(i)
                .is_some_and(|t| t.kind == TokenKind::Number || t.text(sql) == ",")
            {
                i += 1;
            }
            if !punct(i, ")") {
                return false;
            }
            i += 1;
        }
        while punct(i, "[") && punct(i + 1, "]") {
            i += 2;
        }
    }
    true
}

/// The value of a string literal token (`'it''s'`, PostgreSQL `E'a\nb'`, MySQL
/// `'a\\b'` or `"a"`); `None` when `token` is not a string literal.
pub(crate) fn unescape_literal(token: &str, dialect: Dialect) -> Option<String> {
    let (body, quote, backslashes) = if let Some(rest) = token
        .strip_prefix(['e', 'E'])
        .filter(|r| r.starts_with('\'') && dialect == Dialect::Postgres)
    {
        (rest, '\'', true)
    } else {
        let quote = token.chars().next()?;
        if quote != '\'' && !(quote == '"' && dialect == Dialect::MySql) {
            return None;
        }
        (token, quote, dialect == Dialect::MySql)
    };
    let inner = body.strip_prefix(quote)?.strip_suffix(quote)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote {
            // a doubled quote stands for one
            if chars.peek() == Some(&quote) {
                chars.next();
            }
            out.push(quote);
        } else if c == '\\' && backslashes {
            match chars.next() {
                Some('0') => out.push('\0'),
                Some('b') => out.push('\u{8}'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some('t') => out.push('\t'),
                Some('Z') if dialect == Dialect::MySql => out.push('\u{1a}'),
                // MySQL keeps the backslash of `\%` and `\_` (they are LIKE escapes)
                Some(e @ ('%' | '_')) if dialect == Dialect::MySql => {
                    out.push('\\');
                    out.push(e);
                }
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Every string literal in `expr`, unescaped, in order (the variants of an
/// enumeration check or of a MySQL `enum(...)` type).
pub(crate) fn string_literals(expr: &str, dialect: Dialect) -> Vec<String> {
    let Ok(tokens) = tokenize_native(expr, dialect) else {
        return Vec::new();
    };
    tokens
        .iter()
        .filter(|t| t.kind == TokenKind::String)
        .filter_map(|t| unescape_literal(t.text(expr), dialect))
        .collect()
}

/// `s` without parentheses that wrap all of it: `((a > 0))` becomes `a > 0`, while
/// `(a) + (b)` is kept. Parentheses inside literals and quoted names do not count.
pub(crate) fn strip_wrapping_parens(s: &str, dialect: Dialect) -> &str {
    let mut s = s.trim();
    while s.starts_with('(') && s.ends_with(')') {
        match matching_paren(s, 0, dialect) {
            // `(` and `)` are ASCII: 1 and `end` are character boundaries
            Some(end) if end == s.len() - 1 => s = s[1..end].trim(),
            _ => break,
        }
    }
    s
}

/// The byte offset of the `)` matching the `(` at byte `open` of `s`.
pub(crate) fn matching_paren(s: &str, open: usize, dialect: Dialect) -> Option<usize> {
    let tokens = tokenize_native(s, dialect).ok()?;
    let mut depth = 0usize;
    for t in tokens.iter().filter(|t| t.start >= open) {
        if t.kind != TokenKind::Punct {
            continue;
        }
        match t.text(s) {
            "(" => depth += 1,
            ")" => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(t.start);
                }
            }
            _ => {}
        }
    }
    None
}

/// The blueprint default for a parsed default on a column of type `ty`: numbers
/// on integer columns are integers, on float and decimal columns floats, `1`/`0`
/// and `true`/`false` on boolean columns booleans, quoted text elsewhere a string.
pub(crate) fn typed_default(raw: RawDefault, ty: &ColumnType) -> Option<DefaultValue> {
    let (text, quoted) = match raw {
        RawDefault::Null => return None,
        RawDefault::Bool(b) => return Some(DefaultValue::Bool(b)),
        RawDefault::CurrentTimestamp => return Some(DefaultValue::CurrentTimestamp),
        RawDefault::CurrentDate => return Some(DefaultValue::CurrentDate),
        RawDefault::Expression(e) => return Some(DefaultValue::Expression(e)),
        RawDefault::Number(n) => (n, false),
        RawDefault::Literal(s) => (s, true),
    };
    let trimmed = text.trim();
    match ty {
        ColumnType::Boolean => match trimmed.to_ascii_lowercase().as_str() {
            "1" | "true" | "t" | "yes" | "y" | "on" => return Some(DefaultValue::Bool(true)),
            "0" | "false" | "f" | "no" | "n" | "off" => return Some(DefaultValue::Bool(false)),
            _ => {}
        },
        t if t.is_integer() => {
            if let Ok(i) = trimmed.parse::<i64>() {
                return Some(DefaultValue::Integer(i));
            }
        }
        ColumnType::Float | ColumnType::Double | ColumnType::Decimal { .. } => {
            if let Ok(f) = trimmed.parse::<f64>() {
                return Some(DefaultValue::Float(f));
            }
        }
        _ => {}
    }
    if quoted {
        return Some(DefaultValue::String(text));
    }
    if let Ok(i) = trimmed.parse::<i64>() {
        Some(DefaultValue::Integer(i))
    } else if let Ok(f) = trimmed.parse::<f64>() {
        Some(DefaultValue::Float(f))
    } else {
        Some(DefaultValue::Expression(text))
    }
}

/// A type name split for matching: `numeric(12,3)` is `numeric` with arguments
/// `[12, 3]`; `timestamp(3) without time zone` is `timestamp without time zone`
/// with `[3]`. Names are lower-cased with single spaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeName {
    /// The name without arguments.
    pub(crate) name: String,
    /// The numeric arguments (non-numeric ones are skipped).
    pub(crate) args: Vec<u64>,
    /// The name ended with `[]` (a PostgreSQL array).
    pub(crate) array: bool,
}

impl TypeName {
    /// Split a declared type.
    pub(crate) fn parse(declared: &str) -> TypeName {
        let mut s = declared.trim().to_ascii_lowercase();
        let mut array = false;
        while let Some(rest) = s.strip_suffix("[]") {
            s = rest.trim_end().to_string();
            array = true;
        }
        let mut args = Vec::new();
        let mut name = s.clone();
        // indexes of ASCII parentheses: every slice below starts and ends on a
        // character boundary
        if let (Some(open), Some(close)) = (s.find('('), s.rfind(')'))
            && open < close
        {
            args = s[open + 1..close]
                .split(',')
                .filter_map(|a| a.trim().parse::<u64>().ok())
                .collect();
            name = format!("{} {}", &s[..open], &s[close + 1..]);
        }
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        TypeName { name, args, array }
    }

    /// The `i`th numeric argument.
    pub(crate) fn arg(&self, i: usize) -> Option<u64> {
        self.args.get(i).copied()
    }

    /// `Decimal { precision, scale }` from the arguments, clamped to what dal
    /// can represent (precision 1..=65, scale 0..=30 and at most the precision);
    /// [`UNCONSTRAINED_DECIMAL`] without arguments.
    pub(crate) fn decimal(&self) -> ColumnType {
        match self.arg(0) {
            None => UNCONSTRAINED_DECIMAL,
            Some(p) => {
                let precision = p.clamp(1, 65) as u8;
                let scale = self.arg(1).unwrap_or(0).min(30).min(u64::from(precision)) as u8;
                ColumnType::Decimal { precision, scale }
            }
        }
    }

    /// `String { length }` from the first argument, or `Text` without one.
    pub(crate) fn string(&self) -> ColumnType {
        match self.arg(0) {
            Some(n) if n > 0 => ColumnType::String {
                length: u32::try_from(n).unwrap_or(u32::MAX),
            },
            _ => ColumnType::Text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postgres_defaults() {
        let p = |s| parse_default(s, Dialect::Postgres);
        assert_eq!(
            p("'abc'::character varying"),
            RawDefault::Literal("abc".into())
        );
        assert_eq!(p("'-1'::integer"), RawDefault::Literal("-1".into()));
        assert_eq!(p("true"), RawDefault::Bool(true));
        assert_eq!(p("false"), RawDefault::Bool(false));
        assert_eq!(p("1.5"), RawDefault::Number("1.5".into()));
        assert_eq!(p("(-1.5)"), RawDefault::Number("-1.5".into()));
        assert_eq!(p("CURRENT_TIMESTAMP"), RawDefault::CurrentTimestamp);
        assert_eq!(p("now()"), RawDefault::CurrentTimestamp);
        assert_eq!(p("CURRENT_DATE"), RawDefault::CurrentDate);
        assert_eq!(p("NULL::text"), RawDefault::Null);
        assert_eq!(
            p("'it''s a \\ back'::character varying"),
            RawDefault::Literal("it's a \\ back".into())
        );
        assert_eq!(
            p("'2020-01-01 00:00:00'::timestamp without time zone"),
            RawDefault::Literal("2020-01-01 00:00:00".into())
        );
        assert_eq!(p("'{}'::text[]"), RawDefault::Literal("{}".into()));
        assert_eq!(p("E'a\\nb'::text"), RawDefault::Literal("a\nb".into()));
        assert_eq!(
            p("'a'::text || 'b'::text"),
            RawDefault::Expression("'a'::text || 'b'::text".into())
        );
        assert_eq!(
            p("gen_random_uuid()"),
            RawDefault::Expression("gen_random_uuid()".into())
        );
        assert_eq!(p("(1 + 2)"), RawDefault::Expression("1 + 2".into()));
    }

    #[test]
    fn parses_mysql_defaults() {
        let p = |s| parse_default(s, Dialect::MySql);
        assert_eq!(p("'abc'"), RawDefault::Literal("abc".into()));
        assert_eq!(
            p("'it''s a \\\\ back'"),
            RawDefault::Literal("it's a \\ back".into())
        );
        assert_eq!(p("'a\\'b'"), RawDefault::Literal("a'b".into()));
        assert_eq!(p("-1"), RawDefault::Number("-1".into()));
        assert_eq!(p("2.500"), RawDefault::Number("2.500".into()));
        assert_eq!(p("NULL"), RawDefault::Null);
        assert_eq!(p("current_timestamp(6)"), RawDefault::CurrentTimestamp);
        assert_eq!(p("current_timestamp()"), RawDefault::CurrentTimestamp);
        assert_eq!(p("curdate()"), RawDefault::CurrentDate);
        assert_eq!(p("_utf8mb4'x'"), RawDefault::Literal("x".into()));
        assert_eq!(p("uuid()"), RawDefault::Expression("uuid()".into()));
    }

    #[test]
    fn parses_sqlite_defaults() {
        let p = |s| parse_default(s, Dialect::Sqlite);
        assert_eq!(
            p("'it''s a \\ back'"),
            RawDefault::Literal("it's a \\ back".into())
        );
        assert_eq!(p("-1"), RawDefault::Number("-1".into()));
        assert_eq!(p("+2"), RawDefault::Number("2".into()));
        assert_eq!(p("CURRENT_TIMESTAMP"), RawDefault::CurrentTimestamp);
        assert_eq!(p("current_date"), RawDefault::CurrentDate);
        assert_eq!(p("TRUE"), RawDefault::Bool(true));
        assert_eq!(p("NULL"), RawDefault::Null);
        assert_eq!(p("(abs(-3))"), RawDefault::Expression("abs(-3)".into()));
    }

    #[test]
    fn defaults_take_their_meaning_from_the_column_type() {
        use DefaultValue as D;
        let n = |s: &str| RawDefault::Number(s.into());
        let l = |s: &str| RawDefault::Literal(s.into());
        assert_eq!(
            typed_default(n("1"), &ColumnType::Boolean),
            Some(D::Bool(true))
        );
        assert_eq!(
            typed_default(n("0"), &ColumnType::Boolean),
            Some(D::Bool(false))
        );
        assert_eq!(
            typed_default(l("-1"), &ColumnType::Integer),
            Some(D::Integer(-1))
        );
        assert_eq!(
            typed_default(
                n("2.000"),
                &ColumnType::Decimal {
                    precision: 12,
                    scale: 3
                }
            ),
            Some(D::Float(2.0))
        );
        assert_eq!(
            typed_default(n("2"), &ColumnType::Double),
            Some(D::Float(2.0))
        );
        assert_eq!(
            typed_default(l("5"), &ColumnType::String { length: 5 }),
            Some(D::String("5".into()))
        );
        assert_eq!(
            typed_default(n("5"), &ColumnType::String { length: 5 }),
            Some(D::Integer(5))
        );
        assert_eq!(typed_default(RawDefault::Null, &ColumnType::Text), None);
        assert_eq!(
            typed_default(RawDefault::CurrentDate, &ColumnType::Date),
            Some(D::CurrentDate)
        );
    }

    #[test]
    fn literals_and_parentheses() {
        assert_eq!(
            string_literals(
                "((e)::text = ANY ((ARRAY['a'::character varying, 'b''c'::character varying])::text[]))",
                Dialect::Postgres
            ),
            ["a", "b'c"]
        );
        assert_eq!(
            string_literals("enum('x','y\\\\z','q''r')", Dialect::MySql),
            ["x", "y\\z", "q'r"]
        );
        assert_eq!(
            strip_wrapping_parens("((a > 0))", Dialect::Postgres),
            "a > 0"
        );
        assert_eq!(
            strip_wrapping_parens("(a) + (b)", Dialect::Postgres),
            "(a) + (b)"
        );
        assert_eq!(
            strip_wrapping_parens("(a = ')')", Dialect::Sqlite),
            "a = ')'"
        );
    }

    #[test]
    fn splits_type_names() {
        let t = TypeName::parse("timestamp(3) without time zone");
        assert_eq!(t.name, "timestamp without time zone");
        assert_eq!(t.args, [3]);
        let t = TypeName::parse("NUMERIC(12, 3)");
        assert_eq!(
            t.decimal(),
            ColumnType::Decimal {
                precision: 12,
                scale: 3
            }
        );
        assert_eq!(TypeName::parse("numeric").decimal(), UNCONSTRAINED_DECIMAL);
        assert_eq!(
            TypeName::parse("numeric(1000,900)").decimal(),
            ColumnType::Decimal {
                precision: 65,
                scale: 30
            }
        );
        let t = TypeName::parse("integer[]");
        assert!(t.array);
        assert_eq!(t.name, "integer");
        assert_eq!(
            TypeName::parse("varchar(150)").string(),
            ColumnType::String { length: 150 }
        );
        assert_eq!(TypeName::parse("varchar").string(), ColumnType::Text);
    }
}
