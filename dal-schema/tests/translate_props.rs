//! Property tests for portable SQL translation: statements built from random fragments
//! translate to exactly the expected text in every dialect, and arbitrary input never
//! panics.

use dal_schema::Dialect;
use dal_schema::sql::lexer::tokenize;
use dal_schema::sql::{bracket_identifiers, translate};
use proptest::prelude::*;

/// One piece of a generated statement.
#[derive(Debug, Clone)]
enum Fragment {
    /// Text that must come out unchanged: plain words, operators, array syntax,
    /// literals, quoted identifiers, comments, dollar-quoted bodies.
    Verbatim(String),
    /// A portable `?`.
    Param,
    /// A portable `[name]`, holding the name (unescaped).
    Bracket(String),
}

/// Characters for literal, comment and quoted-identifier content: everything the
/// translator must leave alone, including its own special characters.
fn content(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "a", "Z", "0", " ", "?", "??", "[", "]", "[x]", "--", "$", "$1", "$$", ":n", "@v", "#",
            "/", "é", "日本", "'", "\"", "`", ",", "\t", "-",
        ]),
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

fn quote_with(c: &str, quote: char) -> String {
    let doubled: String = [quote, quote].iter().collect();
    format!("{quote}{}{quote}", c.replace(quote, &doubled))
}

fn word(dialect: Dialect) -> impl Strategy<Value = String> {
    let mut words = vec![
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "t",
        "x_1",
        "naïve",
        "日本",
        "=",
        "<>",
        ",",
        "(",
        ")",
        "42",
        "3.5",
        "ARRAY[1,2]",
        "col[1]",
        "arr[i]",
        "x[1][2]",
        "col[1:2]",
        "(a)[1]",
        "int[]",
    ];
    if dialect == Dialect::Postgres {
        words.extend(["'{1,2}'::int[]", "#", "a::text", "ARRAY[[1],[2]]"]);
    }
    prop::sample::select(words).prop_map(str::to_owned)
}

fn bracket_name() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["a", "Z", "_", "é", "日"]),
        prop::collection::vec(
            prop::sample::select(vec![
                "a", "b", "1", "_", " ", "-", "]", "ü", ".", "\"", "`", "🚀",
            ]),
            0..8,
        ),
    )
        .prop_map(|(first, rest)| format!("{first}{}", rest.concat()))
}

fn fragment(dialect: Dialect) -> impl Strategy<Value = Fragment> {
    // Backslashes are left out of string content: they escape on MySQL only.
    let string = content(12).prop_map(|c| quote_with(&c, '\''));
    let quoted_ident = prop_oneof![
        content(10).prop_map(|c| quote_with(&c, '"')),
        content(10).prop_map(|c| quote_with(&c, '`')),
    ];
    // `-- ` with a space is a comment on MySQL too.
    let line_comment = content(12).prop_map(|c| format!("-- {}\n", c.replace(['\n', '\r'], " ")));
    // No `*` inside: no early end and no nesting.
    let block_comment = content(12).prop_map(|c| format!("/* {} */", c.replace('*', "")));
    let verbatim = prop_oneof![
        3 => word(dialect),
        2 => string,
        1 => quoted_ident,
        1 => line_comment,
        1 => block_comment,
    ];
    let verbatim = if dialect == Dialect::Postgres {
        prop_oneof![4 => verbatim, 1 => dollar_quoted()].boxed()
    } else {
        verbatim.boxed()
    };
    prop_oneof![
        4 => verbatim.prop_map(Fragment::Verbatim),
        2 => Just(Fragment::Param),
        2 => bracket_name().prop_map(Fragment::Bracket),
    ]
}

fn dollar_quoted() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["", "fn", "body_1", "x"]),
        content(14),
    )
        .prop_map(|(tag, body)| (format!("${tag}$"), body))
        // The body must not close the quote early (`$$` inside `$$ ... $$`).
        .prop_filter("body closes the quote", |(delim, body)| {
            format!("{body}{delim}").find(delim.as_str()) == Some(body.len())
        })
        .prop_map(|(delim, body)| format!("{delim}{body}{delim}"))
}

fn statement(dialect: Dialect) -> impl Strategy<Value = Vec<Fragment>> {
    prop::collection::vec(fragment(dialect), 0..14)
}

/// The statement text and what its translation must be.
fn render(fragments: &[Fragment], dialect: Dialect) -> (String, String, usize) {
    let mut input = Vec::new();
    let mut expected = Vec::new();
    let mut params = 0;
    for f in fragments {
        match f {
            Fragment::Verbatim(text) => {
                input.push(text.clone());
                expected.push(text.clone());
            }
            Fragment::Param => {
                params += 1;
                input.push("?".to_owned());
                let mut p = String::new();
                dialect.push_placeholder(&mut p, params);
                expected.push(p);
            }
            Fragment::Bracket(name) => {
                input.push(format!("[{}]", name.replace(']', "]]")));
                expected.push(dialect.quote_identifier(name));
            }
        }
    }
    (input.join(" "), expected.join(" "), params)
}

fn check_dialect(fragments: &[Fragment], dialect: Dialect) -> Result<(), TestCaseError> {
    let (input, expected, params) = render(fragments, dialect);
    let translated = translate(&input, dialect)
        .map_err(|e| TestCaseError::fail(format!("{input:?} on {dialect}: {e}")))?;
    // (a) every verbatim fragment comes out unchanged and in order, and the rest is
    // exactly the dialect's quoting and placeholders.
    prop_assert_eq!(
        &translated.sql,
        &expected,
        "input {:?} on {}",
        input,
        dialect
    );
    let mut from = 0;
    for f in fragments {
        if let Fragment::Verbatim(text) = f {
            let at = translated.sql[from..].find(text.as_str());
            prop_assert!(at.is_some(), "{:?} missing after byte {}", text, from);
            from += at.unwrap_or(0) + text.len();
        }
    }
    // (b) one parameter per `?` fragment.
    prop_assert_eq!(translated.param_count, params);
    // (c) PostgreSQL numbers them $1..$n in order.
    if dialect == Dialect::Postgres {
        let mut from = 0;
        for n in 1..=params {
            let placeholder = format!("${n}");
            let at = translated.sql[from..].find(&placeholder);
            prop_assert!(
                at.is_some(),
                "{} missing in {:?}",
                placeholder,
                translated.sql
            );
            from += at.unwrap_or(0) + placeholder.len();
        }
    }
    // The portable names are found again by `bracket_identifiers` (PostgreSQL rules).
    if dialect == Dialect::Postgres {
        let names: Vec<String> = fragments
            .iter()
            .filter_map(|f| match f {
                Fragment::Bracket(name) => Some(name.clone()),
                _ => None,
            })
            .collect();
        prop_assert_eq!(bracket_identifiers(&input).ok(), Some(names));
    }
    Ok(())
}

/// Lexing and translating never panic; when lexing succeeds, the tokens cover the text
/// exactly; errors point inside the text at a character boundary.
fn check_total(sql: &str) -> Result<(), TestCaseError> {
    for dialect in Dialect::ALL {
        match translate(sql, dialect) {
            Ok(t) => {
                let tokens = tokenize(sql, dialect);
                prop_assert!(tokens.is_ok());
                let mut at = 0;
                for token in tokens.unwrap_or_default() {
                    prop_assert_eq!(token.start, at);
                    prop_assert!(token.end > token.start);
                    at = token.end;
                }
                prop_assert_eq!(at, sql.len());
                // Only `[name]`, `?` and `??` are ever rewritten.
                if !sql.contains(['[', '?']) {
                    prop_assert_eq!(&t.sql, sql);
                }
            }
            Err(e) => {
                prop_assert!(e.offset < sql.len(), "{e} for {sql:?}");
                prop_assert!(sql.is_char_boundary(e.offset));
                prop_assert!(!e.to_string().is_empty());
            }
        }
        let _ = bracket_identifiers(sql);
    }
    Ok(())
}

fn sqlish_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            "'", "\"", "`", "[", "]", "]]", "?", "??", "$", "$$", "$1", "$a$", "--", "-", "/*",
            "*/", "/", "*", "#", "\\", "E'", "e", ":", "::", "@", "\n", "\r", " ", "a", "1", "é",
            "(", ")", ",", ";", "x[", "ARRAY[",
        ]),
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    // At least 512 cases; more with PROPTEST_CASES.
    #![proptest_config(ProptestConfig::with_cases(ProptestConfig::default().cases.max(512)))]

    #[test]
    fn postgres_fragments(fragments in statement(Dialect::Postgres)) {
        check_dialect(&fragments, Dialect::Postgres)?;
    }

    #[test]
    fn mysql_fragments(fragments in statement(Dialect::MySql)) {
        check_dialect(&fragments, Dialect::MySql)?;
    }

    #[test]
    fn sqlite_fragments(fragments in statement(Dialect::Sqlite)) {
        check_dialect(&fragments, Dialect::Sqlite)?;
    }

    #[test]
    fn arbitrary_strings_never_panic(sql in any::<String>()) {
        check_total(&sql)?;
    }

    #[test]
    fn sqlish_soup_never_panics(sql in sqlish_soup()) {
        check_total(&sql)?;
    }
}
