//! Translation of portable SQL into one dialect's SQL: `[name]` identifiers quoted the
//! dialect's way, `?` parameters numbered where the dialect needs it, `??` unescaped,
//! and the statement's parameter count.

use super::lexer::{Lexer, TokenKind, is_ident_continue, prescan, unescape_bracket};
use super::{TranslateError, TranslateErrorKind};
use crate::Dialect;

/// A statement translated for one dialect.
///
/// ```
/// use dal_schema::{Dialect, Translated, translate};
///
/// let t = translate("SELECT * FROM [users] WHERE [id] = ?", Dialect::Postgres).unwrap();
/// assert_eq!(
///     t,
///     Translated {
///         sql: r#"SELECT * FROM "users" WHERE "id" = $1"#.to_string(),
///         param_count: 1,
///     }
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translated {
    /// The SQL to send to the server.
    pub sql: String,
    /// How many parameters the statement takes (the highest parameter number for
    /// native numbered placeholders).
    pub param_count: usize,
}

/// Translate portable SQL for `dialect` (see the [`sql`](crate::sql) module for the
/// conventions and the bracket rule).
///
/// Nothing inside string literals, quoted identifiers, comments or dollar-quoted
/// bodies changes. The work is one pass over the text into a pre-sized `String`; a
/// text with no quote, bracket, comment or parameter character is copied as is.
///
/// ```
/// use dal_schema::{Dialect, translate};
///
/// let sql = "SELECT [data] ?? 'k', '[x] ?' FROM [t] WHERE [t].[id] = ?";
/// let pg = translate(sql, Dialect::Postgres).unwrap();
/// assert_eq!(pg.sql, r#"SELECT "data" ? 'k', '[x] ?' FROM "t" WHERE "t"."id" = $1"#);
/// assert_eq!(pg.param_count, 1);
///
/// let my = translate(sql, Dialect::MySql).unwrap();
/// assert_eq!(my.sql, "SELECT `data` ? 'k', '[x] ?' FROM `t` WHERE `t`.`id` = ?");
/// ```
///
/// # Errors
///
/// A [`TranslateError`] with the byte offset where the problem starts: an unterminated
/// string, quoted identifier, `[identifier]`, block comment or dollar quote, an empty
/// `[]` where an identifier is expected, or (PostgreSQL) portable `?` mixed with `$n`.
pub fn translate(sql: &str, dialect: Dialect) -> Result<Translated, TranslateError> {
    let scan = prescan(sql, dialect);
    if !scan.needs_lexing {
        return Ok(Translated {
            sql: sql.to_owned(),
            param_count: 0,
        });
    }
    let numbers_positional = numbers_positional_placeholders(dialect);
    // Each `?` may grow into `$n` plus separating spaces; nothing else grows except
    // quote characters doubled inside bracket identifiers (rare).
    let growth = if numbers_positional {
        scan.question_marks * (decimal_digits(scan.question_marks) + 2)
    } else {
        0
    };
    let mut out = String::with_capacity(sql.len() + growth);
    let mut copied = 0;
    let mut params = ParamCounter::default();
    let writer = dialect.writer();

    for token in Lexer::new(sql, dialect) {
        let token = token?;
        match token.kind {
            TokenKind::BracketIdentifier => {
                out.push_str(&sql[copied..token.start]);
                writer.push_identifier(
                    &mut out,
                    &unescape_bracket(&sql[token.start + 1..token.end - 1]),
                );
                copied = token.end;
            }
            TokenKind::EscapedQuestionMark => {
                out.push_str(&sql[copied..token.start]);
                out.push('?');
                copied = token.end;
            }
            TokenKind::Placeholder => {
                let index = params.positional(token.start, numbers_positional)?;
                if numbers_positional {
                    out.push_str(&sql[copied..token.start]);
                    // `LIMIT?` must not become the identifier `LIMIT$1`, nor `?1` the
                    // parameter `$11`: keep adjacent words apart from `$n`.
                    if out.bytes().next_back().is_some_and(is_ident_continue) {
                        out.push(' ');
                    }
                    dialect.push_placeholder(&mut out, index);
                    if sql
                        .as_bytes()
                        .get(token.end)
                        .copied()
                        .is_some_and(is_ident_continue)
                    {
                        out.push(' ');
                    }
                    copied = token.end;
                }
            }
            TokenKind::NumberedParameter(n) => {
                params.numbered(n, token.start, numbers_positional)?;
            }
            TokenKind::NamedParameter => params.named(token.text(sql)),
            _ => {}
        }
    }
    out.push_str(&sql[copied..]);
    Ok(Translated {
        sql: out,
        param_count: params.highest,
    })
}

/// Whether the dialect writes positional parameters as numbers (`$1`), so that a
/// portable `?` becomes a number of its own and must not be mixed with native numbers
/// (which would collide); dialects that keep `?` let the server number them.
fn numbers_positional_placeholders(dialect: Dialect) -> bool {
    match dialect {
        Dialect::Postgres => true,
        Dialect::MySql | Dialect::Sqlite => false,
    }
}

fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

/// Counts parameters the way the servers number them (SQLite's rules, which agree with
/// PostgreSQL's and MySQL's for the forms those accept): `?` takes the number after
/// the highest so far, `$n`/`?NNN` raise the highest to `n`, and each distinct name
/// takes the next number the first time it appears.
#[derive(Default)]
struct ParamCounter<'a> {
    highest: usize,
    saw_positional: bool,
    saw_numbered: bool,
    names: Vec<&'a str>,
}

impl<'a> ParamCounter<'a> {
    /// A portable `?` at `offset`; returns its number.
    fn positional(&mut self, offset: usize, strict: bool) -> Result<usize, TranslateError> {
        if strict && self.saw_numbered {
            return Err(mixed(offset));
        }
        self.saw_positional = true;
        self.highest = self.highest.saturating_add(1);
        Ok(self.highest)
    }

    /// A native numbered parameter `n` at `offset`.
    fn numbered(&mut self, n: usize, offset: usize, strict: bool) -> Result<(), TranslateError> {
        if strict && self.saw_positional {
            return Err(mixed(offset));
        }
        self.saw_numbered = true;
        self.highest = self.highest.max(n);
        Ok(())
    }

    /// A native named parameter (with its sigil: SQLite tells `:a` and `@a` apart).
    fn named(&mut self, name: &'a str) {
        if !self.names.contains(&name) {
            self.names.push(name);
            self.highest = self.highest.saturating_add(1);
        }
    }
}

fn mixed(offset: usize) -> TranslateError {
    TranslateError {
        kind: TranslateErrorKind::MixedPlaceholders,
        offset,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Dialect::{MySql, Postgres, Sqlite};
    use TranslateErrorKind as E;

    fn sql(input: &str, dialect: Dialect) -> String {
        match translate(input, dialect) {
            Ok(t) => t.sql,
            Err(e) => panic!("{input:?} on {dialect}: {e}"),
        }
    }

    fn count(input: &str, dialect: Dialect) -> usize {
        translate(input, dialect).unwrap().param_count
    }

    fn err(input: &str, dialect: Dialect) -> (TranslateErrorKind, usize) {
        let e = translate(input, dialect).unwrap_err();
        (e.kind, e.offset)
    }

    fn unchanged_everywhere(input: &str) {
        for d in Dialect::ALL {
            assert_eq!(sql(input, d), input, "{d}");
        }
    }

    // ---- [name] identifiers ----

    #[test]
    fn brackets_quote_per_dialect() {
        let q = "SELECT [a], [b] FROM [t] WHERE [t].[x] = ?";
        assert_eq!(
            sql(q, Postgres),
            r#"SELECT "a", "b" FROM "t" WHERE "t"."x" = $1"#
        );
        assert_eq!(sql(q, MySql), "SELECT `a`, `b` FROM `t` WHERE `t`.`x` = ?");
        assert_eq!(
            sql(q, Sqlite),
            r#"SELECT "a", "b" FROM "t" WHERE "t"."x" = ?"#
        );
    }

    #[test]
    fn bracket_with_doubled_close_is_a_literal_bracket() {
        assert_eq!(sql("SELECT [a]]b]", Postgres), r#"SELECT "a]b""#);
        assert_eq!(sql("SELECT [a]]b]", MySql), "SELECT `a]b`");
        assert_eq!(sql("[x]]]]]", Sqlite), r#""x]]""#);
        // After a number `]]` closes twice (nested arrays), it is not an escape.
        assert_eq!(
            sql("ARRAY[[1], [2]] $$]$$", Postgres),
            "ARRAY[[1], [2]] $$]$$"
        );
    }

    #[test]
    fn bracket_names_may_hold_spaces_and_dashes() {
        assert_eq!(sql("[a b]", MySql), "`a b`");
        assert_eq!(
            sql("SELECT [user id] FROM t", Sqlite),
            r#"SELECT "user id" FROM t"#
        );
        assert_eq!(sql("[order-date]", Postgres), r#""order-date""#);
    }

    #[test]
    fn brackets_after_punctuation_are_identifiers() {
        assert_eq!(
            sql("COUNT([id]),([a]+[b])", Postgres),
            r#"COUNT("id"),("a"+"b")"#
        );
        assert_eq!(sql("x=[y]", MySql), "x=`y`");
        assert_eq!(sql("/*c*/[y]", Sqlite), r#"/*c*/"y""#);
    }

    #[test]
    fn unicode_in_bracket_identifiers_and_strings() {
        assert_eq!(
            sql(
                "SELECT [prénom], '日本 [x] ?' FROM [über] WHERE [ключ] = ?",
                Postgres
            ),
            r#"SELECT "prénom", '日本 [x] ?' FROM "über" WHERE "ключ" = $1"#
        );
        assert_eq!(sql("[日本語]", MySql), "`日本語`");
    }

    #[test]
    fn empty_bracket_identifier_is_an_error() {
        assert_eq!(
            err("SELECT [] FROM t", Postgres),
            (E::EmptyBracketIdentifier, 7)
        );
        assert_eq!(err("SELECT [  ]", MySql), (E::EmptyBracketIdentifier, 7));
        assert_eq!(err("([])", Sqlite), (E::EmptyBracketIdentifier, 1));
    }

    #[test]
    fn unterminated_bracket_identifier_is_an_error() {
        assert_eq!(
            err("SELECT [name FROM t", Postgres),
            (E::UnterminatedBracketIdentifier, 7)
        );
        assert_eq!(err("[]]a", MySql), (E::UnterminatedBracketIdentifier, 0));
        // SQLite's native brackets must close too.
        assert_eq!(err("x[1", Sqlite), (E::UnterminatedBracketIdentifier, 1));
    }

    // ---- PostgreSQL array syntax stays untouched ----

    #[test]
    fn array_forms_are_not_identifiers() {
        for q in [
            "SELECT ARRAY[1,2]",
            "SELECT col[1] FROM t",
            "SELECT col[1:2] FROM t",
            "SELECT arr[i] FROM t",
            "SELECT (expr)[1]",
            "SELECT '{1,2}'::int[]",
            "CREATE TABLE t (a int[], b text[][])",
            "SELECT x[1][2]",
            r#"SELECT "arr"[1]"#,
            "SELECT $1[2]",
            "SELECT a.b[idx] FROM t",
            "SELECT ARRAY[[1,2],[3,4]]",
            "SELECT ARRAY[[1],[2]]",
            "SELECT ARRAY[ARRAY[a], ARRAY[b]]",
            "SELECT ARRAY[[x]]",
            "SELECT '{{1}}'::int[][]",
        ] {
            assert_eq!(sql(q, Postgres), q);
            assert_eq!(sql(q, MySql), q);
        }
    }

    #[test]
    fn array_subscripts_after_a_space_with_non_identifier_content() {
        let q = "SELECT ARRAY [1, 2], x [1], y [1:2], z [ 3 ], w [-1], v [2.5]";
        assert_eq!(sql(q, Postgres), q);
    }

    #[test]
    fn portable_identifier_subscripted_then_translated() {
        assert_eq!(sql("SELECT [tags][1]", Postgres), r#"SELECT "tags"[1]"#);
        assert_eq!(
            sql("SELECT [t].[arr][2:3] = ?", Postgres),
            r#"SELECT "t"."arr"[2:3] = $1"#
        );
    }

    #[test]
    fn sqlite_native_brackets_are_left_alone() {
        // Not portable identifiers (glued to a word, or holding `,`/`?`): SQLite reads
        // them as its own quoted identifiers, so nothing inside counts.
        assert_eq!(sql("SELECT x[a?b]", Sqlite), "SELECT x[a?b]");
        assert_eq!(count("SELECT x[a?b]", Sqlite), 0);
        assert_eq!(sql("SELECT [a,b] FROM t", Sqlite), "SELECT [a,b] FROM t");
    }

    // ---- ? parameters ----

    #[test]
    fn question_marks_are_numbered_on_postgres_only() {
        let q = "INSERT INTO t VALUES (?, ?, ?)";
        let pg = translate(q, Postgres).unwrap();
        assert_eq!(pg.sql, "INSERT INTO t VALUES ($1, $2, $3)");
        assert_eq!(pg.param_count, 3);
        for d in [MySql, Sqlite] {
            let t = translate(q, d).unwrap();
            assert_eq!(t.sql, q);
            assert_eq!(t.param_count, 3);
        }
    }

    #[test]
    fn many_parameters_get_multi_digit_numbers() {
        let q = ["?"; 12].join(",");
        let expected = (1..=12)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(sql(&q, Postgres), expected);
        assert_eq!(count(&q, Postgres), 12);
    }

    #[test]
    fn placeholder_glued_to_a_word_stays_apart() {
        assert_eq!(sql("SELECT ?1", Postgres), "SELECT $1 1");
        assert_eq!(sql("a=?AND", Postgres), "a=$1 AND");
        assert_eq!(
            sql("SELECT a FROM t LIMIT?", Postgres),
            "SELECT a FROM t LIMIT $1"
        );
        assert_eq!(sql("a?b", Postgres), "a $1 b");
        assert_eq!(sql("a?b", MySql), "a?b");
        assert_eq!(sql("(?)", Postgres), "($1)");
    }

    #[test]
    fn double_question_mark_is_a_literal() {
        let q = "SELECT data ?? 'key' FROM t WHERE id = ?";
        assert_eq!(sql(q, Postgres), "SELECT data ? 'key' FROM t WHERE id = $1");
        assert_eq!(count(q, Postgres), 1);
        assert_eq!(sql(q, MySql), "SELECT data ? 'key' FROM t WHERE id = ?");
        assert_eq!(count(q, Sqlite), 1);
    }

    #[test]
    fn jsonb_operators_via_double_question_mark() {
        let q = "SELECT d ??| array['a'], d ??& array['b'], d @?? '$.x' WHERE k = ?";
        let t = translate(q, Postgres).unwrap();
        assert_eq!(
            t.sql,
            "SELECT d ?| array['a'], d ?& array['b'], d @? '$.x' WHERE k = $1"
        );
        assert_eq!(t.param_count, 1);
    }

    #[test]
    fn triple_question_mark_is_literal_then_parameter() {
        assert_eq!(sql("a ??? b", Postgres), "a ?$1 b");
        assert_eq!(count("a ??? b", MySql), 1);
    }

    // ---- native placeholders ----

    #[test]
    fn postgres_native_dollar_parameters_count_by_highest() {
        let q = "SELECT $1, $3, $1::int, $2";
        let t = translate(q, Postgres).unwrap();
        assert_eq!(t.sql, q);
        assert_eq!(t.param_count, 3);
        assert_eq!(count("SELECT $12", Postgres), 12);
    }

    #[test]
    fn postgres_rejects_mixed_placeholders() {
        assert_eq!(err("SELECT ?, $1", Postgres), (E::MixedPlaceholders, 10));
        assert_eq!(err("SELECT $1, ?", Postgres), (E::MixedPlaceholders, 11));
        // `$1` inside literals does not count as mixing.
        assert_eq!(count("SELECT ?, '$1', $$ $2 $$", Postgres), 1);
    }

    #[test]
    fn dollar_is_plain_text_outside_postgres() {
        let q = "SELECT $1, ?";
        assert_eq!(sql(q, MySql), q);
        assert_eq!(count(q, MySql), 1);
    }

    #[test]
    fn sqlite_native_placeholders() {
        let t = translate("SELECT ?1, ?3, ?1", Sqlite).unwrap();
        assert_eq!(t.sql, "SELECT ?1, ?3, ?1");
        assert_eq!(t.param_count, 3);
        let t = translate("SELECT :a, @b, $c, :a, :a2", Sqlite).unwrap();
        assert_eq!(t.sql, "SELECT :a, @b, $c, :a, :a2");
        assert_eq!(t.param_count, 4);
        // `?` takes the number after the highest so far, like SQLite does.
        assert_eq!(count("SELECT ?5, ?", Sqlite), 6);
        assert_eq!(count("SELECT :x, ?", Sqlite), 2);
    }

    #[test]
    fn colon_and_at_are_not_parameters_elsewhere() {
        let q = "SELECT x::int, @v := 1, :name";
        for d in [Postgres, MySql] {
            assert_eq!(sql(q, d), q);
            assert_eq!(count(q, d), 0);
        }
    }

    // ---- literals ----

    #[test]
    fn strings_are_untouched() {
        unchanged_everywhere("SELECT 'a ? [x] -- /* $1 :n'");
        assert_eq!(
            sql("SELECT 'it''s ? [x]', [y]", Postgres),
            r#"SELECT 'it''s ? [x]', "y""#
        );
        assert_eq!(count("SELECT 'it''s ?' , ?", Sqlite), 1);
    }

    #[test]
    fn postgres_escape_strings() {
        let q = r"SELECT E'it\'s ?', e'\\', [a] = ?";
        assert_eq!(sql(q, Postgres), r#"SELECT E'it\'s ?', e'\\', "a" = $1"#);
        assert_eq!(count(q, Postgres), 1);
        // In a standard string, a backslash is an ordinary character.
        assert_eq!(sql(r"SELECT 'a\', ?", Postgres), r"SELECT 'a\', $1");
        // A word ending in e is not an escape-string prefix.
        assert_eq!(sql(r"SELECT name'x\', ?", Postgres), r"SELECT name'x\', $1");
    }

    #[test]
    fn mysql_backslash_strings() {
        let q = r#"SELECT 'it\'s ? [x]', "say \"?\"", [a] = ?"#;
        let t = translate(q, MySql).unwrap();
        assert_eq!(t.sql, r#"SELECT 'it\'s ? [x]', "say \"?\"", `a` = ?"#);
        assert_eq!(t.param_count, 1);
        // Not on SQLite: there `'a\'` is a complete string.
        assert_eq!(count(r"SELECT 'a\', ?", Sqlite), 1);
        assert_eq!(err(r"SELECT 'a\', ?", MySql), (E::UnterminatedString, 7));
    }

    #[test]
    fn quoted_identifiers_are_untouched() {
        unchanged_everywhere("SELECT `a ? [b]`, `x``y?` FROM t");
        let q = r#"SELECT "a ""?"" [b]" FROM t WHERE c = ?"#;
        assert_eq!(
            sql(q, Postgres),
            r#"SELECT "a ""?"" [b]" FROM t WHERE c = $1"#
        );
        assert_eq!(sql(q, Sqlite), q);
        assert_eq!(count(q, Sqlite), 1);
        assert_eq!(count(q, MySql), 1);
    }

    // ---- comments ----

    #[test]
    fn line_comments_are_untouched() {
        let q = "SELECT ? -- what [x] ? $1\n, [y]";
        assert_eq!(sql(q, Postgres), "SELECT $1 -- what [x] ? $1\n, \"y\"");
        assert_eq!(sql(q, MySql), "SELECT ? -- what [x] ? $1\n, `y`");
        assert_eq!(count(q, Sqlite), 1);
        assert_eq!(count("SELECT 1 -- ? at the end", MySql), 0);
    }

    #[test]
    fn mysql_double_dash_needs_a_space() {
        // On MySQL `--?` is not a comment: it is two minus signs and a parameter.
        assert_eq!(count("SELECT 1--?", MySql), 1);
        assert_eq!(count("SELECT 1--?", Postgres), 0);
        assert_eq!(count("SELECT 1--\t?", MySql), 0);
        assert_eq!(count("SELECT 1--", MySql), 0);
    }

    #[test]
    fn hash_comments_on_mysql_only() {
        let q = "SELECT a # b ? [c]\n, ?";
        let my = translate(q, MySql).unwrap();
        assert_eq!(my.sql, "SELECT a # b ? [c]\n, ?");
        assert_eq!(my.param_count, 1);
        // On PostgreSQL `#` is an operator (bitwise xor, `#>` for JSON paths).
        let pg = translate(q, Postgres).unwrap();
        assert_eq!(pg.sql, "SELECT a # b $1 \"c\"\n, $2");
        assert_eq!(pg.param_count, 2);
        assert_eq!(count(q, Sqlite), 2);
    }

    #[test]
    fn block_comments_nest_on_postgres_only() {
        let q = "SELECT /* a /* b */ ? */ 1";
        assert_eq!(sql(q, Postgres), q);
        assert_eq!(count(q, Postgres), 0);
        // Elsewhere the comment ends at the first `*/`.
        assert_eq!(count(q, MySql), 1);
        assert_eq!(count(q, Sqlite), 1);
        assert_eq!(sql(q, MySql), q);
    }

    #[test]
    fn block_comment_content_is_untouched() {
        unchanged_everywhere("SELECT /* [x] ? '$1 */ 1");
    }

    #[test]
    fn unterminated_block_comment() {
        assert_eq!(
            err("SELECT 1 /* open", MySql),
            (E::UnterminatedBlockComment, 9)
        );
        assert_eq!(
            err("SELECT /* a /* b */ c", Postgres),
            (E::UnterminatedBlockComment, 7)
        );
        assert_eq!(count("SELECT /* a /* b */ c", Sqlite), 0);
        assert_eq!(err("/*/", Sqlite), (E::UnterminatedBlockComment, 0));
    }

    // ---- dollar quoting ----

    #[test]
    fn dollar_quotes_on_postgres() {
        let q = "SELECT $$ ? [x] 'a $$, $fn$ ? $$ [y] $fn$, [z] = ?";
        let t = translate(q, Postgres).unwrap();
        assert_eq!(
            t.sql,
            "SELECT $$ ? [x] 'a $$, $fn$ ? $$ [y] $fn$, \"z\" = $1"
        );
        assert_eq!(t.param_count, 1);
    }

    #[test]
    fn dollar_quote_tags() {
        assert_eq!(
            sql("DO $body_1$ BEGIN ? END $body_1$", Postgres),
            "DO $body_1$ BEGIN ? END $body_1$"
        );
        // A tag differing from the opening one does not close it.
        assert_eq!(
            err("SELECT $a$ x $b$", Postgres),
            (E::UnterminatedDollarQuote, 7)
        );
        assert_eq!(
            err("SELECT $$ ?", Postgres),
            (E::UnterminatedDollarQuote, 7)
        );
        // `$` glued to an identifier is part of it, not a quote.
        assert_eq!(sql("SELECT a$b$, ?", Postgres), "SELECT a$b$, $1");
    }

    #[test]
    fn dollar_quotes_are_not_special_elsewhere() {
        let q = "SELECT $$ ? $$";
        assert_eq!(count(q, MySql), 1);
        assert_eq!(sql(q, MySql), q);
    }

    // ---- unterminated literals ----

    #[test]
    fn unterminated_strings_and_identifiers() {
        assert_eq!(
            err("SELECT * FROM t WHERE a = 'x", Postgres),
            (E::UnterminatedString, 26)
        );
        assert_eq!(err("SELECT 'it''s", Sqlite), (E::UnterminatedString, 7));
        assert_eq!(err(r"SELECT E'a\'", Postgres), (E::UnterminatedString, 7));
        assert_eq!(
            err(r#"SELECT "col"#, Postgres),
            (E::UnterminatedQuotedIdentifier, 7)
        );
        assert_eq!(err(r#"SELECT "col"#, MySql), (E::UnterminatedString, 7));
        assert_eq!(
            err("SELECT `col", Sqlite),
            (E::UnterminatedQuotedIdentifier, 7)
        );
    }

    #[test]
    fn error_offsets_are_bytes() {
        assert_eq!(err("SELECT 'é', 'x", Postgres), (E::UnterminatedString, 13));
    }

    #[test]
    fn error_messages_name_the_problem_and_offset() {
        let e = translate("SELECT * FROM 'abc", Postgres).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unterminated string literal starting at byte 14"
        );
        let e = translate("SELECT []", Postgres).unwrap_err();
        assert!(e.to_string().contains("byte 7"), "{e}");
    }

    // ---- fast path and misc ----

    #[test]
    fn plain_text_is_copied() {
        let q = "SELECT a, b FROM t WHERE x = 1 AND y > 2.5";
        for d in Dialect::ALL {
            assert_eq!(
                translate(q, d).unwrap(),
                Translated {
                    sql: q.into(),
                    param_count: 0
                }
            );
        }
        assert_eq!(sql("", Postgres), "");
    }

    #[test]
    fn text_needing_the_lexer_but_no_change() {
        unchanged_everywhere("SELECT 'x' - 1 / 2");
    }

    #[test]
    fn capacity_is_enough_for_numbered_output() {
        let q = ["?"; 150].join(",");
        let t = translate(&q, Postgres).unwrap();
        assert_eq!(t.param_count, 150);
        assert!(t.sql.starts_with("$1,$2,"));
        assert!(t.sql.ends_with("$149,$150"));
        // `??` shrinks; the literal is not a parameter.
        assert_eq!(translate("????", Postgres).unwrap().param_count, 0);
    }

    #[test]
    fn crlf_and_tabs() {
        assert_eq!(
            sql("SELECT\r\n\t[a] -- ?\r\nFROM [t]", Postgres),
            "SELECT\r\n\t\"a\" -- ?\r\nFROM \"t\""
        );
    }
}
