//! Blueprint validation shared by the `schema!` macro (at compile time), the
//! entity derive and the runtime: every problem is reported, not just the first.

use std::collections::HashSet;
use std::fmt;

use crate::model::{ColumnType, DefaultValue, ReferentialAction, Schema, Table};

/// What is wrong with a blueprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SchemaErrorKind {
    /// A table, column, index or constraint name is not a valid identifier.
    InvalidIdentifier,
    /// Two tables with the same name.
    DuplicateTable,
    /// Two columns with the same name in one table.
    DuplicateColumn,
    /// Two indexes or constraints with the same name.
    DuplicateName,
    /// A table without columns.
    EmptyTable,
    /// An index, key, check or foreign key names a column the table does not have.
    UnknownColumn,
    /// A foreign key references a table not declared in the same schema.
    UnknownTable,
    /// A string length of 0 or above the portable maximum.
    InvalidLength,
    /// A decimal precision/scale out of range.
    InvalidPrecision,
    /// A default whose type does not match the column.
    DefaultTypeMismatch,
    /// An enumeration default that is not one of its variants.
    EnumDefaultNotAVariant,
    /// An enumeration without variants, with an empty or a repeated variant.
    InvalidEnumVariants,
    /// `DEFAULT NULL` on a column that is not nullable.
    NullDefaultOnNotNull,
    /// A foreign key whose column lists differ in length, or `SET NULL` on a non-null column.
    InvalidForeignKey,
    /// Auto-increment on a non-integer column, on more than one column, or outside the key.
    InvalidAutoIncrement,
    /// A primary key column that is nullable.
    NullablePrimaryKey,
    /// An index on a column type that cannot be indexed portably (text, JSON, binary).
    UnindexableColumn,
    /// A check or default expression that is not valid portable SQL.
    InvalidExpression,
    /// A `without_rowid` table with no primary key or with an auto-increment column.
    InvalidWithoutRowid,
    /// An array whose element is not a scalar (an array, JSON, binary data, an
    /// enumeration or the unsigned 64-bit integer).
    InvalidArrayElement,
}

/// One problem found in a blueprint, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    /// The kind of problem.
    pub kind: SchemaErrorKind,
    /// The table it is in.
    pub table: String,
    /// The column it concerns, if any.
    pub column: Option<String>,
    /// The index, constraint or other item it concerns, if any.
    pub item: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "{}.{}: {}", self.table, c, self.message),
            None => write!(f, "{}: {}", self.table, self.message),
        }
    }
}

impl std::error::Error for SchemaError {}

/// Longest identifier accepted: the smallest limit of the supported servers (PostgreSQL's 63).
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// Longest portable `VARCHAR`: 16383 characters of utf8mb4 fill MySQL's 65535-byte row.
pub const MAX_STRING_LENGTH: u32 = 16383;

/// Whether `name` is a portable identifier: ASCII letters, digits and `_`, not
/// starting with a digit, 1 to 63 bytes.
///
/// ```
/// assert!(dal_schema::is_valid_identifier("user_id"));
/// assert!(!dal_schema::is_valid_identifier("1st"));
/// assert!(!dal_schema::is_valid_identifier("drop table"));
/// ```
pub fn is_valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    name.len() <= MAX_IDENTIFIER_LEN && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// What is wrong with `name` as a portable identifier, if anything: the one
/// rule and message the validator, `schema!` and the entity derive share.
/// `what` names the thing (`table`, `column`, `index`, ...).
///
/// ```
/// assert_eq!(dal_schema::identifier_problem("column", "email"), None);
/// assert_eq!(
///     dal_schema::identifier_problem("column", "1st").unwrap(),
///     "invalid column name `1st`: use 1 to 63 ASCII letters, digits or `_`, not starting with a digit"
/// );
/// assert!(dal_schema::identifier_problem("table", &"t".repeat(64))
///     .unwrap()
///     .ends_with("is 64 bytes long; the limit is 63 (PostgreSQL's)"));
/// ```
pub fn identifier_problem(what: &str, name: &str) -> Option<String> {
    if is_valid_identifier(name) {
        return None;
    }
    let well_formed = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    Some(if well_formed {
        format!(
            "{what} name `{name}` is {} bytes long; the limit is {MAX_IDENTIFIER_LEN} (PostgreSQL's)",
            name.len()
        )
    } else {
        format!(
            "invalid {what} name `{name}`: use 1 to {MAX_IDENTIFIER_LEN} ASCII letters, digits or `_`, not starting with a digit"
        )
    })
}

struct Errors<'a> {
    table: &'a str,
    out: Vec<SchemaError>,
}

impl Errors<'_> {
    fn push(
        &mut self,
        kind: SchemaErrorKind,
        column: Option<&str>,
        item: Option<&str>,
        message: String,
    ) {
        self.out.push(SchemaError {
            kind,
            table: self.table.to_string(),
            column: column.map(str::to_string),
            item: item.map(str::to_string),
            message,
        });
    }

    fn ident(&mut self, what: &str, name: &str, column: Option<&str>, item: Option<&str>) {
        if let Some(message) = identifier_problem(what, name) {
            self.push(SchemaErrorKind::InvalidIdentifier, column, item, message);
        }
    }
}

/// Check one table on its own. Foreign-key targets are checked by [`validate_schema`].
pub fn validate_table(table: &Table) -> Result<(), Vec<SchemaError>> {
    let errors = table_errors(table);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Check every table, plus what spans tables: duplicate table names, foreign keys
/// to tables or columns not declared in the schema (unless marked external), and
/// index names that collide across tables (PostgreSQL and SQLite scope them to the schema).
pub fn validate_schema(schema: &Schema) -> Result<(), Vec<SchemaError>> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut index_names = HashSet::new();
    for table in &schema.tables {
        if !seen.insert(table.name.as_str()) {
            out.push(SchemaError {
                kind: SchemaErrorKind::DuplicateTable,
                table: table.name.clone(),
                column: None,
                item: None,
                message: format!("table `{}` is declared more than once", table.name),
            });
        }
        out.extend(table_errors(table));
        for idx in table.all_indexes() {
            if !index_names.insert(idx.name.clone()) {
                out.push(SchemaError {
                    kind: SchemaErrorKind::DuplicateName,
                    table: table.name.clone(),
                    column: None,
                    item: Some(idx.name.clone()),
                    message: format!("index name `{}` is used by another table", idx.name),
                });
            }
        }
        for fk in &table.foreign_keys {
            if fk.external {
                continue;
            }
            match schema.table(&fk.references_table) {
                None => out.push(SchemaError {
                    kind: SchemaErrorKind::UnknownTable,
                    table: table.name.clone(),
                    column: fk.columns.first().cloned(),
                    item: Some(fk.name.clone()),
                    message: format!(
                        "foreign key `{}` references table `{}`, which is not declared here (mark the reference external if it is managed elsewhere)",
                        fk.name, fk.references_table
                    ),
                }),
                Some(target) => {
                    for (local, col) in fk.columns.iter().zip(&fk.references_columns) {
                        match target.column(col) {
                            None => out.push(SchemaError {
                                kind: SchemaErrorKind::UnknownColumn,
                                table: table.name.clone(),
                                column: Some(local.clone()),
                                item: Some(fk.name.clone()),
                                message: format!(
                                    "foreign key `{}` references `{}.{}`, which does not exist",
                                    fk.name, fk.references_table, col
                                ),
                            }),
                            Some(tc) => {
                                if let Some(lc) = table.column(local)
                                    && !same_key_type(&lc.ty, &tc.ty) {
                                        out.push(SchemaError {
                                            kind: SchemaErrorKind::InvalidForeignKey,
                                            table: table.name.clone(),
                                            column: Some(local.clone()),
                                            item: Some(fk.name.clone()),
                                            message: format!(
                                                "foreign key `{}`: `{}` is {} but `{}.{}` is {}",
                                                fk.name,
                                                local,
                                                lc.ty,
                                                fk.references_table,
                                                col,
                                                tc.ty
                                            ),
                                        })
                                    }
                            }
                        }
                    }
                }
            }
        }
    }
    if out.is_empty() { Ok(()) } else { Err(out) }
}

/// Whether a foreign key from a column of type `a` to one of type `b` works on
/// every dialect: the same type, or two integers of the same signedness (the
/// MySQL family refuses a key between a signed and an unsigned column).
fn same_key_type(a: &ColumnType, b: &ColumnType) -> bool {
    a == b || (a.is_integer() && b.is_integer() && a.is_unsigned() == b.is_unsigned())
}

fn table_errors(table: &Table) -> Vec<SchemaError> {
    let mut e = Errors {
        table: &table.name,
        out: Vec::new(),
    };
    e.ident("table", &table.name, None, None);
    if table.columns.is_empty() {
        e.push(
            SchemaErrorKind::EmptyTable,
            None,
            None,
            format!("table `{}` has no columns", table.name),
        );
    }
    let mut names = HashSet::new();
    let mut auto_increments = 0;
    for c in &table.columns {
        let col = Some(c.name.as_str());
        e.ident("column", &c.name, col, None);
        if !names.insert(c.name.as_str()) {
            e.push(
                SchemaErrorKind::DuplicateColumn,
                col,
                None,
                format!("column `{}` is declared more than once", c.name),
            );
        }
        let ty = match &c.ty {
            ColumnType::Array { element } if !element.is_array_element() => {
                e.push(
                    SchemaErrorKind::InvalidArrayElement,
                    col,
                    None,
                    format!(
                        "array column `{}` cannot hold {element} elements: an array holds integers, floats, decimals, booleans, strings, text, UUIDs, dates, times or timestamps (use json() for nested or structured values)",
                        c.name
                    ),
                );
                element.as_ref()
            }
            // the element's own arguments (string length, decimal precision)
            ColumnType::Array { element } => element.as_ref(),
            ty => ty,
        };
        match ty {
            ColumnType::String { length } if *length == 0 || *length > MAX_STRING_LENGTH => {
                e.push(
                    SchemaErrorKind::InvalidLength,
                    col,
                    None,
                    format!(
                        "string length must be between 1 and {MAX_STRING_LENGTH}, got {length} (use text() for longer values)"
                    ),
                );
            }
            ColumnType::Decimal { precision, scale }
                if *precision == 0 || *precision > 65 || scale > precision || *scale > 30 =>
            {
                e.push(
                    SchemaErrorKind::InvalidPrecision,
                    col,
                    None,
                    format!(
                        "decimal({precision}, {scale}) is out of range: precision must be 1..=65 and scale at most the precision and at most 30"
                    ),
                );
            }
            ColumnType::Enumeration { variants } => {
                let mut seen = HashSet::new();
                if variants.is_empty() {
                    e.push(
                        SchemaErrorKind::InvalidEnumVariants,
                        col,
                        None,
                        "an enumeration needs at least one variant".into(),
                    );
                }
                for v in variants {
                    if v.is_empty() || v.len() > 255 {
                        e.push(
                            SchemaErrorKind::InvalidEnumVariants,
                            col,
                            None,
                            format!("enumeration variant `{v}` must be 1 to 255 bytes long"),
                        );
                    }
                    if !seen.insert(v.as_str()) {
                        e.push(
                            SchemaErrorKind::InvalidEnumVariants,
                            col,
                            None,
                            format!("enumeration variant `{v}` is repeated"),
                        );
                    }
                }
            }
            _ => {}
        }
        if c.auto_increment {
            auto_increments += 1;
            if !c.ty.is_integer() {
                e.push(
                    SchemaErrorKind::InvalidAutoIncrement,
                    col,
                    None,
                    format!(
                        "auto-increment needs an integer column, `{}` is {}",
                        c.name, c.ty
                    ),
                );
            }
            if table.primary_key != [c.name.clone()] {
                e.push(
                    SchemaErrorKind::InvalidAutoIncrement,
                    col,
                    None,
                    format!(
                        "auto-increment column `{}` must be the whole primary key",
                        c.name
                    ),
                );
            }
        }
        if let Some(d) = &c.default {
            check_default(&mut e, c, d);
        }
        if c.unique && !indexable(&c.ty) {
            e.push(
                SchemaErrorKind::UnindexableColumn,
                col,
                None,
                format!(
                    "`{}` is {} and cannot be unique portably (MySQL needs a key prefix); use string(n)",
                    c.name, c.ty
                ),
            );
        }
    }
    // the collation is written into MySQL DDL as a bare word
    if let Some(collation) = &table.collation
        && (collation.is_empty()
            || !collation
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        e.push(
            SchemaErrorKind::InvalidIdentifier,
            None,
            None,
            format!(
                "`{collation}` is not a collation name (letters, digits and `_`, e.g. utf8mb4_unicode_ci)"
            ),
        );
    }
    if table.without_rowid && (table.primary_key.is_empty() || auto_increments > 0) {
        e.push(
            SchemaErrorKind::InvalidWithoutRowid,
            None,
            None,
            "a without-rowid table needs a primary key and no auto-increment column".into(),
        );
    }
    if auto_increments > 1 {
        e.push(
            SchemaErrorKind::InvalidAutoIncrement,
            None,
            None,
            "a table can have only one auto-increment column".into(),
        );
    }
    for pk in &table.primary_key {
        match table.column(pk) {
            None => e.push(
                SchemaErrorKind::UnknownColumn,
                Some(pk),
                Some("primary key"),
                format!("primary key names unknown column `{pk}`"),
            ),
            Some(c) if c.nullable => e.push(
                SchemaErrorKind::NullablePrimaryKey,
                Some(pk),
                Some("primary key"),
                format!("primary key column `{pk}` cannot be nullable"),
            ),
            Some(_) => {}
        }
    }
    let mut constraint_names = HashSet::new();
    for idx in &table.indexes {
        e.ident("index", &idx.name, None, Some(&idx.name));
        if !constraint_names.insert(idx.name.as_str()) {
            e.push(
                SchemaErrorKind::DuplicateName,
                None,
                Some(&idx.name),
                format!("index `{}` is declared more than once", idx.name),
            );
        }
        if idx.columns.is_empty() {
            e.push(
                SchemaErrorKind::UnknownColumn,
                None,
                Some(&idx.name),
                format!("index `{}` has no columns", idx.name),
            );
        }
        for col in &idx.columns {
            match table.column(col) {
                None => e.push(
                    SchemaErrorKind::UnknownColumn,
                    Some(col),
                    Some(&idx.name),
                    format!("index `{}` names unknown column `{col}`", idx.name),
                ),
                Some(c) if !indexable(&c.ty) => e.push(
                    SchemaErrorKind::UnindexableColumn,
                    Some(col),
                    Some(&idx.name),
                    format!(
                        "index `{}`: `{col}` is {} and cannot be indexed portably (MySQL needs a key prefix); use string(n)",
                        idx.name, c.ty
                    ),
                ),
                Some(_) => {}
            }
        }
    }
    for fk in &table.foreign_keys {
        e.ident("foreign key", &fk.name, None, Some(&fk.name));
        e.ident("table", &fk.references_table, None, Some(&fk.name));
        if !constraint_names.insert(fk.name.as_str()) {
            e.push(
                SchemaErrorKind::DuplicateName,
                None,
                Some(&fk.name),
                format!("constraint `{}` is declared more than once", fk.name),
            );
        }
        if fk.columns.len() != fk.references_columns.len() || fk.columns.is_empty() {
            e.push(
                SchemaErrorKind::InvalidForeignKey,
                None,
                Some(&fk.name),
                format!(
                    "foreign key `{}` has {} column(s) but references {}",
                    fk.name,
                    fk.columns.len(),
                    fk.references_columns.len()
                ),
            );
        }
        for col in &fk.columns {
            match table.column(col) {
                None => e.push(
                    SchemaErrorKind::UnknownColumn,
                    Some(col),
                    Some(&fk.name),
                    format!("foreign key `{}` names unknown column `{col}`", fk.name),
                ),
                Some(c) => {
                    if !c.nullable
                        && (fk.on_delete == ReferentialAction::SetNull
                            || fk.on_update == ReferentialAction::SetNull)
                    {
                        e.push(
                            SchemaErrorKind::InvalidForeignKey,
                            Some(col),
                            Some(&fk.name),
                            format!(
                                "foreign key `{}` sets `{col}` to NULL but the column is not nullable (add .nullable())",
                                fk.name
                            ),
                        );
                    }
                }
            }
        }
        for col in &fk.references_columns {
            e.ident("column", col, None, Some(&fk.name));
        }
    }
    for check in &table.checks {
        e.ident("check", &check.name, None, Some(&check.name));
        if !constraint_names.insert(check.name.as_str()) {
            e.push(
                SchemaErrorKind::DuplicateName,
                None,
                Some(&check.name),
                format!("constraint `{}` is declared more than once", check.name),
            );
        }
        match crate::sql::bracket_identifiers(&check.expression) {
            Err(err) => e.push(
                SchemaErrorKind::InvalidExpression,
                None,
                Some(&check.name),
                format!("check `{}`: {err}", check.name),
            ),
            Ok(idents) => {
                for ident in idents {
                    if table.column(&ident).is_none() {
                        e.push(
                            SchemaErrorKind::UnknownColumn,
                            Some(&ident),
                            Some(&check.name),
                            format!("check `{}` names unknown column `{ident}`", check.name),
                        );
                    }
                }
            }
        }
    }
    e.out
}

fn indexable(ty: &ColumnType) -> bool {
    !matches!(
        ty,
        ColumnType::Text | ColumnType::Json | ColumnType::Binary | ColumnType::Array { .. }
    )
}

fn check_default(e: &mut Errors<'_>, c: &crate::model::Column, d: &DefaultValue) {
    use ColumnType as T;
    let col = Some(c.name.as_str());
    let mismatch = |e: &mut Errors<'_>, what: &str| {
        e.push(
            SchemaErrorKind::DefaultTypeMismatch,
            col,
            None,
            format!(
                "default {d} does not fit column `{}` of type {}: {what}",
                c.name, c.ty
            ),
        );
    };
    match d {
        DefaultValue::Null => {
            if !c.nullable {
                e.push(
                    SchemaErrorKind::NullDefaultOnNotNull,
                    col,
                    None,
                    format!(
                        "default NULL on `{}`, which is not nullable (add .nullable())",
                        c.name
                    ),
                );
            }
        }
        DefaultValue::Bool(_) => {
            if c.ty != T::Boolean {
                mismatch(e, "a boolean default needs a boolean column");
            }
        }
        DefaultValue::Integer(i) => match c.ty {
            T::SmallInteger if i16::try_from(*i).is_err() => {
                mismatch(e, "out of range for a 16-bit integer")
            }
            T::Integer if i32::try_from(*i).is_err() => {
                mismatch(e, "out of range for a 32-bit integer")
            }
            T::UnsignedInteger | T::UnsignedBigInteger if *i < 0 => {
                mismatch(e, "an unsigned column holds no negative value")
            }
            T::UnsignedInteger if u32::try_from(*i).is_err() => {
                mismatch(e, "out of range for an unsigned 32-bit integer")
            }
            T::SmallInteger
            | T::Integer
            | T::BigInteger
            | T::UnsignedInteger
            | T::UnsignedBigInteger
            | T::Float
            | T::Double
            | T::Decimal { .. } => {}
            _ => mismatch(e, "an integer default needs a numeric column"),
        },
        DefaultValue::Float(f) => match c.ty {
            T::Float | T::Double | T::Decimal { .. } if f.is_finite() => {}
            T::Float | T::Double | T::Decimal { .. } => mismatch(e, "not a finite number"),
            _ => mismatch(
                e,
                "a floating-point default needs a float, double or decimal column",
            ),
        },
        DefaultValue::String(s) => match &c.ty {
            T::String { length } => {
                if s.chars().count() > *length as usize {
                    mismatch(e, "longer than the column");
                }
            }
            T::Text | T::Json => {}
            T::Enumeration { variants } => {
                if !variants.iter().any(|v| v == s) {
                    e.push(
                        SchemaErrorKind::EnumDefaultNotAVariant,
                        col,
                        None,
                        format!(
                            "default \"{s}\" is not one of the variants of `{}` ({})",
                            c.name,
                            variants
                                .iter()
                                .map(|v| format!("\"{v}\""))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
            }
            T::Date if !looks_like_date(s) => mismatch(e, "expected a date like \"2024-01-31\""),
            T::Time if !looks_like_time(s) => mismatch(e, "expected a time like \"13:45:00\""),
            T::Timestamp | T::TimestampTz if !looks_like_timestamp(s) => {
                mismatch(e, "expected a timestamp like \"2024-01-31 13:45:00\"")
            }
            T::Uuid if !looks_like_uuid(s) => mismatch(e, "expected a hyphenated UUID"),
            T::Decimal { .. } if s.parse::<f64>().is_err() => mismatch(e, "expected a number"),
            T::Date | T::Time | T::Timestamp | T::TimestampTz | T::Uuid | T::Decimal { .. } => {}
            _ => mismatch(
                e,
                "a string default needs a string, text or enumeration column",
            ),
        },
        DefaultValue::CurrentTimestamp => {
            if !matches!(c.ty, T::Timestamp | T::TimestampTz) {
                mismatch(e, "CURRENT_TIMESTAMP needs a timestamp column");
            }
        }
        DefaultValue::CurrentDate => {
            if c.ty != T::Date {
                mismatch(e, "CURRENT_DATE needs a date column");
            }
        }
        DefaultValue::Expression(expr) => {
            if let Err(err) = crate::sql::translate(expr, crate::Dialect::Postgres) {
                e.push(
                    SchemaErrorKind::InvalidExpression,
                    col,
                    None,
                    format!("default expression: {err}"),
                );
            }
        }
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn looks_like_date(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    p.len() == 3
        && p[0].len() == 4
        && p[1].len() == 2
        && p[2].len() == 2
        && p.iter().all(|x| digits(x))
        && (1..=12).contains(&p[1].parse::<u8>().unwrap_or(0))
        && (1..=31).contains(&p[2].parse::<u8>().unwrap_or(0))
}

fn looks_like_time(s: &str) -> bool {
    let (hms, frac) = s.split_once('.').unwrap_or((s, "0"));
    let p: Vec<&str> = hms.split(':').collect();
    (p.len() == 2 || p.len() == 3)
        && p.iter().all(|x| x.len() == 2 && digits(x))
        && digits(frac)
        && p[0].parse::<u8>().unwrap_or(99) < 24
        && p[1].parse::<u8>().unwrap_or(99) < 60
        && p.get(2).is_none_or(|s| s.parse::<u8>().unwrap_or(99) < 61)
}

fn looks_like_timestamp(s: &str) -> bool {
    let s = s.trim_end_matches('Z');
    let s = match s.rsplit_once('+') {
        Some((head, _)) if head.len() > 10 => head,
        _ => s,
    };
    match s.split_once([' ', 'T']) {
        Some((d, t)) => looks_like_date(d) && looks_like_time(t),
        None => looks_like_date(s),
    }
}

fn looks_like_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && [8, 4, 4, 4, 12]
            .iter()
            .zip(&parts)
            .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Table;

    fn kinds(t: &Table) -> Vec<SchemaErrorKind> {
        validate_table(t)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    #[test]
    fn without_rowid_needs_a_key_and_no_auto_increment() {
        let keyed = Table::build("pairs", |t| {
            t.integer("a");
            t.integer("b");
            t.primary(["a", "b"]);
            t.without_rowid();
        });
        assert!(kinds(&keyed).is_empty());
        let auto = Table::build("ids", |t| {
            t.id();
            t.without_rowid();
        });
        assert_eq!(kinds(&auto), [SchemaErrorKind::InvalidWithoutRowid]);
        let keyless = Table::build("loose", |t| {
            t.integer("a");
            t.without_rowid();
        });
        assert_eq!(kinds(&keyless), [SchemaErrorKind::InvalidWithoutRowid]);
    }

    #[test]
    fn valid_table_passes() {
        let t = Table::build("users", |t| {
            t.id();
            t.string("email", 150).unique();
            t.enumeration("role", ["admin", "user"]).default("user");
            t.date("born").default("2000-01-31");
            t.timestamp("seen").default("2020-01-01 10:00:00");
            t.uuid("token")
                .default("123e4567-e89b-12d3-a456-426614174000");
            t.timestamps();
            t.check("[email] <> ''");
        });
        assert_eq!(validate_table(&t), Ok(()));
    }

    #[test]
    fn reports_every_problem_at_once() {
        let t = Table::build("bad table", |t| {
            t.string("a", 0);
            t.string("a", 10).default(true);
            t.enumeration("e", ["x", "x"]).default("y");
            t.decimal("d", 70, 2);
            t.integer("n").default(DefaultValue::Null);
            t.small_integer("s").default(100_000);
            t.text("body").unique();
            t.index(["missing"]);
            t.check("[nope] > 1");
        });
        let k = kinds(&t);
        for expected in [
            SchemaErrorKind::InvalidIdentifier,
            SchemaErrorKind::InvalidLength,
            SchemaErrorKind::DuplicateColumn,
            SchemaErrorKind::DefaultTypeMismatch,
            SchemaErrorKind::InvalidEnumVariants,
            SchemaErrorKind::EnumDefaultNotAVariant,
            SchemaErrorKind::InvalidPrecision,
            SchemaErrorKind::NullDefaultOnNotNull,
            SchemaErrorKind::UnindexableColumn,
            SchemaErrorKind::UnknownColumn,
        ] {
            assert!(k.contains(&expected), "missing {expected:?} in {k:?}");
        }
        assert!(k.len() >= 11, "{k:?}");
    }

    #[test]
    fn schema_checks_foreign_key_targets() {
        let schema = Schema::new()
            .create("teams", |t| {
                t.id();
            })
            .create("users", |t| {
                t.id();
                t.foreign_id("team_id").references("teams");
                t.foreign_id("org_id").references("orgs");
                t.foreign_id("ext_id")
                    .references("billing_accounts")
                    .external();
                t.foreign_id("boss_id").references_column("teams", "boss");
            });
        let errs = validate_schema(&schema).unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].kind, SchemaErrorKind::UnknownTable);
        assert_eq!(errs[1].kind, SchemaErrorKind::UnknownColumn);
    }

    #[test]
    fn unsigned_columns() {
        let ok = Table::build("counters", |t| {
            t.unsigned_big_integer("hits").default(0);
            t.unsigned_big_integer("peak").default(i64::MAX);
        });
        assert_eq!(validate_table(&ok), Ok(()));
        let negative = Table::build("counters", |t| {
            t.unsigned_big_integer("hits").default(-1);
        });
        let errs = validate_table(&negative).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].kind, SchemaErrorKind::DefaultTypeMismatch);
        assert!(errs[0].message.contains("negative"), "{}", errs[0].message);
        let mut auto = Table::build("accounts", |t| {
            t.unsigned_big_integer("id").primary();
        });
        auto.columns[0].auto_increment = true;
        assert_eq!(validate_table(&auto), Ok(()));
    }

    #[test]
    fn foreign_keys_between_signed_and_unsigned_keys_are_refused() {
        let schema = Schema::new()
            .create("accounts", |t| {
                t.unsigned_big_integer("id").primary();
            })
            .create("payments", |t| {
                t.id();
                t.unsigned_big_integer("account_id").references("accounts");
                t.foreign_id("signed_account_id").references("accounts");
            });
        let errs = validate_schema(&schema).unwrap_err();
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].kind, SchemaErrorKind::InvalidForeignKey);
        assert_eq!(errs[0].column.as_deref(), Some("signed_account_id"));
        assert!(
            errs[0].message.contains("unsigned_big_integer"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn default_formats() {
        assert!(looks_like_date("2024-02-29"));
        assert!(!looks_like_date("2024-13-01"));
        assert!(looks_like_time("23:59:59.123456"));
        assert!(!looks_like_time("24:00:00"));
        assert!(looks_like_timestamp("2024-01-01T10:00:00Z"));
        assert!(looks_like_timestamp("2024-01-01 10:00:00+02:00"));
        assert!(!looks_like_timestamp("yesterday"));
        assert!(looks_like_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(!looks_like_uuid("123e4567e89b12d3a456426614174000"));
    }
}
