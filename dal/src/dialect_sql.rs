//! Pieces of portable SQL that differ by dialect, written before the dialect
//! is known.
//!
//! A condition ([`crate::Cond`]) is built from a column handle with no
//! database in sight, yet some filters (array membership) have no common SQL:
//! PostgreSQL says `? = ANY(col)`, MariaDB `JSON_CONTAINS(col, ?)`, SQLite
//! reads the array with `json_each`. [`per_dialect`] writes all three forms
//! into the text between control characters that portable SQL never holds
//! outside a literal; the statement cache keeps the one for its database
//! ([`resolve`]) just before it translates the text, once per distinct text.
//! Every form takes the same parameters in the same order (a parameter
//! encodes itself for the dialect it is bound for), so the parameter list of
//! the condition needs no change.

use std::borrow::Cow;

use dal_schema::Dialect;
use dal_schema::sql::lexer::{TokenKind, tokenize};

use crate::error::{Error, Result};

/// Opens the forms.
const OPEN: char = '\u{2}';
/// Ends one form and starts the next.
const NEXT: char = '\u{3}';
/// Closes the forms.
const CLOSE: char = '\u{4}';

/// One piece of SQL written three ways, in the order PostgreSQL, MySQL and
/// MariaDB, SQLite. Each must take the same parameters in the same order.
pub(crate) fn per_dialect(postgres: &str, mysql: &str, sqlite: &str) -> String {
    let mut s = String::with_capacity(postgres.len() + mysql.len() + sqlite.len() + 4);
    s.push(OPEN);
    s.push_str(postgres);
    s.push(NEXT);
    s.push_str(mysql);
    s.push(NEXT);
    s.push_str(sqlite);
    s.push(CLOSE);
    s
}

/// `sql` with each [`per_dialect`] piece replaced by its form for `dialect`.
/// The markers count only outside literals, quoted names and comments; text
/// without them is returned as it is.
pub(crate) fn resolve(sql: &str, dialect: Dialect) -> Result<Cow<'_, str>> {
    if !sql.contains(OPEN) {
        return Ok(Cow::Borrowed(sql));
    }
    // the pieces come in the order of `Dialect::ALL` (PostgreSQL, MySQL, SQLite)
    let want = Dialect::ALL
        .iter()
        .position(|d| *d == dialect)
        .unwrap_or_default();
    let tokens = tokenize(sql, dialect)?;
    let mut out = String::with_capacity(sql.len());
    // the form being read, inside a piece
    let mut form: Option<usize> = None;
    let unbalanced = || {
        Error::invalid_input(
            "sql",
            "a per-dialect piece of a condition is not closed (control characters \\u{2}..\\u{4} in the SQL text)",
        )
    };
    for t in &tokens {
        let text = t.text(sql);
        if t.kind == TokenKind::Punct {
            match (text.chars().next(), form) {
                (Some(OPEN), None) => {
                    form = Some(0);
                    continue;
                }
                (Some(NEXT), Some(k)) => {
                    form = Some(k + 1);
                    continue;
                }
                (Some(CLOSE), Some(_)) => {
                    form = None;
                    continue;
                }
                (Some(OPEN | NEXT | CLOSE), _) => return Err(unbalanced()),
                _ => {}
            }
        }
        if form.is_none_or(|k| k == want) {
            out.push_str(text);
        }
    }
    if form.is_some() {
        return Err(unbalanced());
    }
    Ok(Cow::Owned(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_dialects_form() {
        let piece = per_dialect("? = ANY([t])", "JSON_CONTAINS([t], ?)", "[t] = ?");
        let sql = format!("SELECT 1 FROM [x] WHERE ({piece}) AND [a] = ?");
        assert_eq!(
            resolve(&sql, Dialect::Postgres).unwrap(),
            "SELECT 1 FROM [x] WHERE (? = ANY([t])) AND [a] = ?"
        );
        assert_eq!(
            resolve(&sql, Dialect::MySql).unwrap(),
            "SELECT 1 FROM [x] WHERE (JSON_CONTAINS([t], ?)) AND [a] = ?"
        );
        assert_eq!(
            resolve(&sql, Dialect::Sqlite).unwrap(),
            "SELECT 1 FROM [x] WHERE ([t] = ?) AND [a] = ?"
        );
        // twice in one text
        let two = format!("{piece} OR NOT ({piece})");
        assert_eq!(
            resolve(&two, Dialect::Sqlite).unwrap(),
            "[t] = ? OR NOT ([t] = ?)"
        );
    }

    #[test]
    fn leaves_literals_and_plain_text_alone() {
        assert!(matches!(
            resolve("SELECT 1", Dialect::Postgres).unwrap(),
            Cow::Borrowed(_)
        ));
        let sql = "SELECT '\u{2}a\u{3}b\u{3}c\u{4}'";
        assert_eq!(resolve(sql, Dialect::MySql).unwrap(), sql);
        let err = resolve("SELECT \u{2} 1", Dialect::Sqlite).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        let err = resolve("SELECT \u{4} 1 \u{2}", Dialect::Sqlite).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
}
