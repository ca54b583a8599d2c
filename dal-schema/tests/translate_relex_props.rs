//! Property tests of portable SQL translation checked by re-lexing its output (the
//! fragment-based expectations are in `translate_props.rs`), on every dialect:
//!
//! - translating, tokenizing or listing bracket names never panics, whatever the text;
//! - the lexer's tokens cover the text exactly, on `char` boundaries;
//! - a translation re-lexes (with the same dialect's rules, as native SQL: no portable
//!   `[name]`) to the tokens of its input
//!   with only the translation applied: `[name]` became the dialect's quoted
//!   identifier, `?` became `$1..$n` in order on PostgreSQL, `??` became `?`;
//! - the reported parameter count is the number of `?` parameters in the input and the
//!   number of placeholders in the output;
//! - any name that may be written as `[name]` comes out quoted the dialect's way, or
//!   is refused as too long exactly when it exceeds the dialect's limit.

use dal_schema::Dialect;
use dal_schema::sql::TranslateErrorKind;
use dal_schema::sql::lexer::{Token, TokenKind, tokenize, tokenize_native};
use dal_schema::{sql::bracket_identifiers, translate};
use proptest::prelude::*;

/// Fragments that exercise the lexer: brackets, quotes, parameters, comments, dollar
/// quotes, escapes, multi-byte characters, NUL, long words.
const FRAGMENTS: &[&str] = &[
    "[", "]", "]]", "[a]", "[a b]", "[x\"y]", "[`]", "[é]]]", "\"", "\"\"", "\"q\"", "`", "``",
    "`b`", "'", "''", "'s'", "?", "??", "???", "?1", "$", "$$", "$1", "$2", "$t$", "-", "--",
    "-- c\n", "/", "*", "/*", "*/", "#", ":", ":a", "@b", "$v", "E'", "e'\\''", "U&", "u&", "\\",
    "0", "1", "2.5", "x", "SELECT", "ARRAY", " ", "  ", "\n", "\r", "\t", ",", "(", ")", ";", ".",
    "=", "é", "日本", "🚀", "\u{0300}", "\0",
];

/// Whole tokens only (no unbalanced quote or comment opener), so that most texts
/// translate and the output comparison runs.
const BALANCED: &[&str] = &[
    "[a]",
    "[a b]",
    "[x\"y]",
    "[`]",
    "[é]]]",
    "[]]]",
    "[ü \"`]]\"]",
    "\"q\"",
    "\"a\"\"b\"",
    "`b`",
    "`c``d`",
    "'s'",
    "'it''s'",
    "'[x] ?'",
    "?",
    "??",
    "???",
    "?1",
    "$1",
    "$$ ? $$",
    "$t$ [x] $t$",
    "-- c ? [x]\n",
    "/* ? [y] */",
    "/* /* */ */",
    ":a",
    "@b",
    "$v",
    "e'\\''",
    "U&",
    "0",
    "1",
    "2.5",
    "x",
    "x[1]",
    "ARRAY[[1],[2]]",
    "(a)[1]",
    "SELECT",
    " ",
    "\n",
    "\t",
    ",",
    "(",
    ")",
    ";",
    ".",
    "=",
    "-",
    "/",
    "#",
    "é",
    "日本",
    "🚀",
    "\u{0300}",
];

fn sqlish_balanced() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        40 => prop::sample::select(BALANCED).prop_map(str::to_owned),
        4 => "[a-z_]{1,8}",
        1 => Just("w".repeat(64)),
    ];
    prop::collection::vec(piece, 0..30).prop_map(|v| v.concat())
}

fn sqlish() -> impl Strategy<Value = String> {
    let long_word = Just("w".repeat(64));
    let long_bracket = Just(format!("[{}]", "é".repeat(33)));
    let piece = prop_oneof![
        8 => prop::sample::select(FRAGMENTS).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
        1 => "[a-z_]{1,8}",
        1 => prop_oneof![long_word, long_bracket],
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

/// One comparable unit of a token stream: whitespace dropped, runs of `?` merged
/// (a translated `??` is a `?` that may sit next to another one).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Unit {
    QuestionMarks(String),
    Token(TokenKind, String),
}

fn push(units: &mut Vec<Unit>, unit: Unit) {
    if let (Some(Unit::QuestionMarks(run)), Unit::QuestionMarks(more)) = (units.last_mut(), &unit) {
        run.push_str(more);
        return;
    }
    units.push(unit);
}

/// The units the translation of `tokens` (lexed from `sql`) must re-lex to.
fn expected_units(sql: &str, tokens: &[Token], dialect: Dialect) -> Vec<Unit> {
    let mut units = Vec::new();
    let mut param = 0;
    for t in tokens {
        let unit = match t.kind {
            TokenKind::Whitespace => continue,
            TokenKind::BracketIdentifier => {
                let name = t.bracket_name(sql).expect("bracket name");
                Unit::Token(TokenKind::QuotedIdentifier, dialect.quote_identifier(&name))
            }
            TokenKind::Placeholder if dialect == Dialect::Postgres => {
                param += 1;
                Unit::Token(TokenKind::NumberedParameter(param), format!("${param}"))
            }
            TokenKind::Placeholder | TokenKind::EscapedQuestionMark => {
                Unit::QuestionMarks("?".into())
            }
            kind => Unit::Token(kind, t.text(sql).to_owned()),
        };
        push(&mut units, unit);
    }
    units
}

/// The units of translated SQL as lexed.
fn actual_units(sql: &str, tokens: &[Token]) -> Vec<Unit> {
    let mut units = Vec::new();
    for t in tokens {
        let unit = match t.kind {
            TokenKind::Whitespace => continue,
            TokenKind::Placeholder | TokenKind::EscapedQuestionMark => {
                Unit::QuestionMarks(t.text(sql).to_owned())
            }
            kind => Unit::Token(kind, t.text(sql).to_owned()),
        };
        push(&mut units, unit);
    }
    units
}

fn assert_tokens_cover(sql: &str, tokens: &[Token]) -> Result<(), TestCaseError> {
    let mut at = 0;
    for t in tokens {
        prop_assert_eq!(t.start, at);
        prop_assert!(t.start < t.end, "empty token {:?}", t);
        prop_assert!(sql.is_char_boundary(t.start) && sql.is_char_boundary(t.end));
        at = t.end;
    }
    prop_assert_eq!(at, sql.len());
    Ok(())
}

fn count(tokens: &[Token], f: impl Fn(TokenKind) -> bool) -> usize {
    tokens.iter().filter(|t| f(t.kind)).count()
}

/// Every property for one text on one dialect.
fn check(sql: &str, dialect: Dialect) -> Result<(), TestCaseError> {
    let translated = translate(sql, dialect);
    let lexed = tokenize(sql, dialect);
    let _ = bracket_identifiers(sql);
    if let Ok(tokens) = &lexed {
        assert_tokens_cover(sql, tokens)?;
    }
    if let Ok(tokens) = &tokenize_native(sql, dialect) {
        assert_tokens_cover(sql, tokens)?;
    }
    let t = match translated {
        Ok(t) => t,
        Err(e) => {
            prop_assert!(e.offset <= sql.len());
            prop_assert!(!e.to_string().is_empty());
            return Ok(());
        }
    };
    prop_assert!(!sql.contains('\0'));
    let input = lexed.expect("a translated text lexes");
    // The output is the dialect's own SQL: re-lex it the way its server reads it.
    let output = match tokenize_native(&t.sql, dialect) {
        Ok(o) => o,
        Err(e) => {
            return Err(TestCaseError::fail(format!(
                "{dialect}: output {:?} of {sql:?} does not lex: {e}",
                t.sql
            )));
        }
    };
    assert_tokens_cover(&t.sql, &output)?;

    let escaped = count(&input, |k| k == TokenKind::EscapedQuestionMark);
    let portable = count(&input, |k| k == TokenKind::Placeholder);
    let native = count(&input, |k| {
        matches!(
            k,
            TokenKind::NumberedParameter(_) | TokenKind::NamedParameter
        )
    });
    // On MySQL and SQLite a translated `??` is a bare `?`, which their servers read
    // as a parameter (and SQLite's `?` before a digit as `?NNN`): `??` is only
    // meaningful on PostgreSQL, so those texts are compared on PostgreSQL alone.
    if escaped > 0 && dialect != Dialect::Postgres {
        return Ok(());
    }
    prop_assert_eq!(
        actual_units(&t.sql, &output),
        expected_units(sql, &input, dialect),
        "{}: {:?} -> {:?}",
        dialect,
        sql,
        t.sql
    );
    if native == 0 {
        prop_assert_eq!(t.param_count, portable);
        let placeholders = match dialect {
            Dialect::Postgres => {
                let numbers: Vec<usize> = output
                    .iter()
                    .filter_map(|t| match t.kind {
                        TokenKind::NumberedParameter(n) => Some(n),
                        _ => None,
                    })
                    .collect();
                prop_assert_eq!(&numbers, &(1..=portable).collect::<Vec<_>>());
                numbers.len()
            }
            _ => count(&output, |k| k == TokenKind::Placeholder),
        };
        prop_assert_eq!(placeholders, t.param_count);
    } else if dialect == Dialect::Postgres {
        // Native `$n` only (mixing is refused): the count is the highest number.
        prop_assert_eq!(portable, 0);
        let highest = input
            .iter()
            .filter_map(|t| match t.kind {
                TokenKind::NumberedParameter(n) => Some(n),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        prop_assert_eq!(t.param_count, highest);
    }
    Ok(())
}

/// A name `[...]` can carry: no NUL, none of the characters that make a bracket array
/// syntax, starting with a letter (so it is neither blank nor a number).
fn bracket_name() -> impl Strategy<Value = String> {
    let first = prop_oneof![
        prop::char::range('a', 'z'),
        Just('é'),
        Just('日'),
        Just('Ж'),
        Just('"'),
        Just('`'),
        Just(']'),
    ];
    let char = prop_oneof![
        3 => any::<char>().prop_map(|c| match c {
            '\0' | '[' | ',' | ':' | '\'' | '(' | ')' | ';' | '?' | '\n' | '\r' => '_',
            c => c,
        }),
        1 => prop::sample::select(&['"', '`', ']', ' ', '-', '.', '$', '\\', 'é', '🚀'][..]),
    ];
    let rest = prop::collection::vec(char, 0..80);
    (first, rest).prop_map(|(f, r)| std::iter::once(f).chain(r).collect())
}

fn config() -> ProptestConfig {
    // PROPTEST_CASES raises the count for a longer run.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text(sql in any::<String>()) {
        for d in Dialect::ALL {
            check(&sql, d)?;
        }
    }

    #[test]
    fn sql_like_text(sql in sqlish()) {
        for d in Dialect::ALL {
            check(&sql, d)?;
        }
    }

    #[test]
    fn sql_like_text_of_whole_tokens(sql in sqlish_balanced()) {
        for d in Dialect::ALL {
            check(&sql, d)?;
        }
    }

    #[test]
    fn bracket_names_are_quoted_or_refused_as_too_long(name in bracket_name()) {
        let escaped = name.replace(']', "]]");
        let sql = format!("SELECT [{escaped}] FROM t WHERE x = ?");
        for d in Dialect::ALL {
            let too_long = d.capabilities().max_identifier_len < match d {
                Dialect::MySql => name.chars().count(),
                _ => name.len(),
            };
            match translate(&sql, d) {
                Ok(t) => {
                    prop_assert!(!too_long, "{}: {:?} accepted", d, name);
                    let placeholder = if d == Dialect::Postgres { "$1" } else { "?" };
                    prop_assert_eq!(
                        t.sql,
                        format!(
                            "SELECT {} FROM t WHERE x = {placeholder}",
                            d.quote_identifier(&name)
                        )
                    );
                    prop_assert_eq!(t.param_count, 1);
                }
                Err(e) => {
                    prop_assert!(too_long, "{}: {:?} refused: {}", d, name, e);
                    prop_assert_eq!(e.offset, 7);
                    let is_too_long =
                        matches!(e.kind, TranslateErrorKind::IdentifierTooLong { .. });
                    prop_assert!(is_too_long);
                }
            }
        }
    }
}
