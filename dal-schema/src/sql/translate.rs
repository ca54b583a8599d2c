//! Translation of portable SQL into one dialect's SQL: `[name]` identifiers quoted the
//! dialect's way, `?` parameters numbered where the dialect needs it, `??` unescaped,
//! and the statement's parameter count.
//!
//! Over 1,000 lines with its unit tests (the translator is about 300 lines;
//! the tests below pin each dialect's output for quoting, parameters and
//! literals).

use std::borrow::Cow;

use super::lexer::{Lexer, Token, TokenKind, is_ident_continue, prescan};
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
///
/// // Quote characters inside a `[name]` are doubled the dialect's way.
/// let odd = r#"SELECT [say "hi"], [back`tick], [a]]b]"#;
/// assert_eq!(
///     translate(odd, Dialect::Postgres).unwrap().sql,
///     r#"SELECT "say ""hi""", "back`tick", "a]b""#
/// );
/// assert_eq!(
///     translate(odd, Dialect::MySql).unwrap().sql,
///     r#"SELECT `say "hi"`, `back``tick`, `a]b`"#
/// );
/// ```
///
/// # Errors
///
/// A [`TranslateError`] with the byte offset where the problem starts: an unterminated
/// string, quoted identifier, `[identifier]`, block comment or dollar quote, an empty
/// `[]` where an identifier is expected, (PostgreSQL) portable `?` mixed with `$n`, an
/// identifier longer than the dialect takes, or a NUL character anywhere in the text.
pub fn translate(sql: &str, dialect: Dialect) -> Result<Translated, TranslateError> {
    let scan = prescan(sql, dialect);
    if let Some(at) = scan.nul {
        return Err(TranslateError::new(TranslateErrorKind::NulCharacter, at));
    }
    let limits = IdentifierLimit::of(dialect);
    if !scan.needs_lexing {
        // Only words can be too long here, and only in a text longer than the limit.
        if sql.len() > limits.max {
            for token in Lexer::without_nul_check(sql, dialect) {
                limits.check(sql, token?)?;
            }
        }
        return Ok(Translated {
            sql: sql.to_owned(),
            param_count: 0,
        });
    }
    let numbers_positional = numbers_positional_placeholders(dialect);
    // Each `?` may grow into `$n` plus separating spaces; nothing else grows except
    // quote characters doubled inside bracket identifiers and the rare space that
    // keeps a translated identifier apart from its neighbour.
    let growth = if numbers_positional {
        scan.question_marks * (decimal_digits(scan.question_marks) + 2)
    } else {
        0
    };
    let mut out = String::with_capacity(sql.len() + growth);
    let mut copied = 0;
    let mut params = ParamCounter::default();
    let writer = dialect.writer();
    let quote = identifier_quote(dialect);

    for token in Lexer::without_nul_check(sql, dialect) {
        let token = token?;
        limits.check(sql, token)?;
        match token.kind {
            TokenKind::BracketIdentifier => {
                out.push_str(between(sql, copied, token.start));
                // PostgreSQL reads `U&"..."` as an identifier with Unicode escapes.
                if dialect == Dialect::Postgres && ends_with_unicode_prefix(&out) {
                    out.push(' ');
                }
                writer.push_identifier(&mut out, &token.bracket_name(sql).unwrap_or_default());
                // `[a]"b"` must not become `"a""b"`, one identifier.
                if sql.as_bytes().get(token.end) == Some(&quote) {
                    out.push(' ');
                }
                copied = token.end;
            }
            TokenKind::EscapedQuestionMark => {
                out.push_str(between(sql, copied, token.start));
                out.push('?');
                copied = token.end;
            }
            TokenKind::Placeholder => {
                let index = params.positional(token.start, numbers_positional)?;
                if numbers_positional {
                    out.push_str(between(sql, copied, token.start));
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
    out.push_str(between(sql, copied, sql.len()));
    Ok(Translated {
        sql: out,
        param_count: params.highest,
    })
}

/// `sql[from..to]` without a panic path. The translator only cuts at token
/// boundaries, which always fall on `char` boundaries (the lexer module guarantees
/// it and the property tests check it), so the empty fallback is never taken.
fn between(sql: &str, from: usize, to: usize) -> &str {
    debug_assert!(sql.is_char_boundary(from) && sql.is_char_boundary(to) && from <= to);
    sql.get(from..to).unwrap_or_default()
}

/// The byte the dialect quotes identifiers with.
fn identifier_quote(dialect: Dialect) -> u8 {
    match dialect {
        Dialect::MySql => b'`',
        Dialect::Postgres | Dialect::Sqlite => b'"',
    }
}

/// `out` ends with PostgreSQL's `U&` (or `u&`) prefix, the `U` not part of a longer
/// word.
fn ends_with_unicode_prefix(out: &str) -> bool {
    let b = out.as_bytes();
    b.len() >= 2
        && b[b.len() - 1] == b'&'
        && matches!(b[b.len() - 2], b'U' | b'u')
        && (b.len() == 2 || !is_ident_continue(b[b.len() - 3]))
}

/// The dialect's identifier length limit, applied to every identifier token.
struct IdentifierLimit {
    dialect: Dialect,
    /// Longest identifier in the dialect's unit (`usize::MAX`: no limit).
    max: usize,
}

impl IdentifierLimit {
    fn of(dialect: Dialect) -> Self {
        IdentifierLimit {
            dialect,
            max: dialect.capabilities().max_identifier_len,
        }
    }

    /// Refuse `token` if it is an identifier longer than the limit: a `[name]`, a
    /// natively quoted identifier or a bare word (PostgreSQL truncates those too).
    fn check(&self, sql: &str, token: Token) -> Result<(), TranslateError> {
        let text = token.text(sql);
        // An identifier is never longer, in bytes or characters, than its text.
        if text.len() <= self.max {
            return Ok(());
        }
        let name: Cow<'_, str> = match token.kind {
            TokenKind::Word => Cow::Borrowed(text),
            TokenKind::BracketIdentifier => match token.bracket_name(sql) {
                Some(name) => name,
                None => return Ok(()),
            },
            TokenKind::QuotedIdentifier => {
                let quote = identifier_quote(self.dialect);
                // Only the dialect's own identifier quote makes an identifier; the
                // written form of a PostgreSQL `U&"..."` name is not its length.
                if text.as_bytes().first() != Some(&quote)
                    || (self.dialect == Dialect::Postgres
                        && ends_with_unicode_prefix(between(sql, 0, token.start)))
                {
                    return Ok(());
                }
                let quote = char::from(quote);
                let inner = text
                    .strip_prefix(quote)
                    .and_then(|t| t.strip_suffix(quote))
                    .unwrap_or_default();
                Cow::Owned(inner.replace(&format!("{quote}{quote}"), &quote.to_string()))
            }
            _ => return Ok(()),
        };
        if self.dialect.identifier_len(&name) > self.max {
            return Err(TranslateError::too_long(&name, self.dialect, token.start));
        }
        Ok(())
    }
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
    TranslateError::new(TranslateErrorKind::MixedPlaceholders, offset)
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

    #[test]
    fn quote_characters_in_bracket_names_are_doubled_per_dialect() {
        let q = r#"SELECT [a"b], [c`d], [e]]f], ["], [`], [""], [``]"#;
        assert_eq!(
            sql(q, Postgres),
            r#"SELECT "a""b", "c`d", "e]f", """", "`", """""", "``""#
        );
        assert_eq!(sql(q, Sqlite), sql(q, Postgres));
        assert_eq!(
            sql(q, MySql),
            r#"SELECT `a"b`, `c``d`, `e]f`, `"`, ````, `""`, ``````"#
        );
        // A name made only of a `]`, or ending with one.
        assert_eq!(sql("[]]] + [x]]]", Postgres), r#""]" + "x]""#);
        // Spaces, multi-byte characters, quotes and `]` together.
        assert_eq!(
            sql(
                r#"INSERT INTO [t "1"] ([naïve `x`], [日本 ]]語]) VALUES (?, ?)"#,
                MySql
            ),
            r#"INSERT INTO `t "1"` (`naïve ``x```, `日本 ]語`) VALUES (?, ?)"#
        );
    }

    #[test]
    fn quote_characters_in_bracket_names_on_mysql_are_not_strings() {
        // `"` starts a string on MySQL, but inside `[...]` it is part of the name.
        let t = translate(r#"SELECT [a "b] FROM t WHERE x = ? -- "?"#, MySql).unwrap();
        assert_eq!(t.sql, r#"SELECT `a "b` FROM t WHERE x = ? -- "?"#);
        assert_eq!(t.param_count, 1);
    }

    #[test]
    fn bracket_identifier_glued_to_a_native_quote_stays_apart() {
        // `"a""b"` would be the single identifier `a"b`.
        assert_eq!(sql(r#"[a]"b""#, Postgres), r#""a" "b""#);
        assert_eq!(sql(r#"[a]"b""#, Sqlite), r#""a" "b""#);
        assert_eq!(sql("[a]`b`", MySql), "`a` `b`");
        // A different quote character cannot merge.
        assert_eq!(sql("[a]'b'", Postgres), r#""a"'b'"#);
    }

    #[test]
    fn bracket_identifier_after_unicode_prefix_stays_apart() {
        // `U&"..."` is PostgreSQL's identifier with Unicode escapes.
        assert_eq!(sql(r"SELECT U&[a\0041]", Postgres), r#"SELECT U& "a\0041""#);
        assert_eq!(sql("SELECT u&[x]", Postgres), r#"SELECT u& "x""#);
        assert_eq!(sql("SELECT xU&[x]", Postgres), r#"SELECT xU&"x""#);
        assert_eq!(sql("SELECT U&[x]", MySql), "SELECT U&`x`");
    }

    // ---- identifier length ----

    fn too_long(input: &str, dialect: Dialect) -> (usize, usize, Option<String>) {
        let e = translate(input, dialect).unwrap_err();
        match e.kind {
            E::IdentifierTooLong { dialect: d, length } => {
                assert_eq!(d, dialect);
                (e.offset, length, e.identifier().map(str::to_owned))
            }
            other => panic!("{input:?} on {dialect}: {other:?}"),
        }
    }

    #[test]
    fn postgres_identifiers_are_at_most_63_bytes() {
        let ok = "a".repeat(63);
        let long = "a".repeat(64);
        assert_eq!(
            sql(&format!("SELECT [{ok}]"), Postgres),
            format!("SELECT \"{ok}\"")
        );
        assert_eq!(too_long(&format!("SELECT [{long}]"), Postgres).0, 7);
        assert_eq!(too_long(&format!("SELECT [{long}]"), Postgres).1, 64);
        // Bytes, not characters: 32 two-byte characters are 64 bytes.
        let e_acute = "é".repeat(32);
        assert_eq!(too_long(&format!("SELECT [{e_acute}]"), Postgres).1, 64);
        assert!(translate(&format!("SELECT [{}]", "é".repeat(31)), Postgres).is_ok());
        // `]]` counts as one `]`.
        let escaped = format!("[{}]]]", "a".repeat(62));
        assert_eq!(sql(&escaped, Postgres), format!("\"{}]\"", "a".repeat(62)));
        // Native quoting, `""` counting as one `"`, and bare words.
        assert!(translate(&format!("SELECT \"{}\"\"\"", "b".repeat(62)), Postgres).is_ok());
        assert_eq!(
            too_long(&format!("SELECT 1 FROM \"{long}\""), Postgres).0,
            14
        );
        assert_eq!(too_long(&format!("SELECT {long} FROM t"), Postgres).0, 7);
        assert_eq!(
            too_long(&format!("SELECT {long} FROM t WHERE a = ?"), Postgres).0,
            7
        );
        // A backtick is not PostgreSQL quoting; `U&"..."` is written with escapes.
        assert!(translate(&format!("SELECT `{long}`"), Postgres).is_ok());
        assert!(translate(&format!("SELECT U&\"{long}\""), Postgres).is_ok());
        // Literals, comments and dollar quotes are not identifiers.
        for q in [
            format!("SELECT '{long}'"),
            format!("SELECT 1 -- {long}"),
            format!("SELECT /* {long} */ 1"),
            format!("SELECT $${long}$$"),
            format!("SELECT 1{long}"),
        ] {
            assert!(translate(&q, Postgres).is_ok(), "{q}");
        }
    }

    #[test]
    fn mysql_identifiers_are_at_most_64_characters() {
        let ok = "é".repeat(64);
        assert_eq!(
            sql(&format!("SELECT [{ok}]"), MySql),
            format!("SELECT `{ok}`")
        );
        assert!(translate(&format!("SELECT `{ok}`"), MySql).is_ok());
        let long = "é".repeat(65);
        assert_eq!(too_long(&format!("SELECT [{long}]"), MySql).1, 65);
        assert_eq!(too_long(&format!("SELECT `{long}`"), MySql).0, 7);
        assert_eq!(too_long(&format!("SELECT {long}"), MySql).0, 7);
        // `` `` `` counts as one backtick; `"..."` is a string on MySQL.
        assert!(translate(&format!("SELECT `{}```", "a".repeat(63)), MySql).is_ok());
        assert!(translate(&format!("SELECT \"{long}\""), MySql).is_ok());
    }

    #[test]
    fn sqlite_identifiers_have_no_length_limit() {
        let long = "x".repeat(5000);
        for q in [
            format!("SELECT [{long}]"),
            format!("SELECT \"{long}\""),
            format!("SELECT {long}"),
        ] {
            assert!(translate(&q, Sqlite).is_ok());
        }
    }

    #[test]
    fn identifier_too_long_message_names_it_shortened() {
        let name = format!("start_{}_end", "m".repeat(80));
        let e = translate(&format!("SELECT * FROM [{name}]"), Postgres).unwrap_err();
        assert_eq!(e.identifier(), Some("start_mmmmmmmmmmmmmm…mmmm_end"));
        assert_eq!(
            e.to_string(),
            "identifier `start_mmmmmmmmmmmmmm…mmmm_end` at byte 14 is 90 bytes long; \
             PostgreSQL takes at most 63 bytes (it would silently truncate the name)"
        );
        let e = translate(&format!("SELECT [{}]", "ü".repeat(70)), MySql).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "identifier `{}…{}` at byte 7 is 70 characters long; \
                 MySQL/MariaDB takes at most 64 characters",
                "ü".repeat(20),
                "ü".repeat(8)
            )
        );
        // Short names are shown whole; other errors name no identifier.
        assert_eq!(
            translate("SELECT 'x", Postgres).unwrap_err().identifier(),
            None
        );
    }

    // ---- NUL characters ----

    #[test]
    fn nul_characters_are_refused_everywhere() {
        for d in Dialect::ALL {
            for (q, at) in [
                ("SELECT 1\0", 8),
                ("\0", 0),
                ("SELECT '\0'", 8),
                ("SELECT [a\0b]", 9),
                ("SELECT \"a\0\"", 9),
                ("SELECT 1 -- \0", 12),
                ("SELECT /* \0 */ 1", 10),
                ("SELECT $$\0$$, ?", 9),
                ("SELECT 'x' \0 'unterminated", 11),
            ] {
                assert_eq!(err(q, d), (E::NulCharacter, at), "{q:?} on {d}");
                let lexed = crate::sql::lexer::tokenize(q, d).unwrap_err();
                assert_eq!((lexed.kind, lexed.offset), (E::NulCharacter, at));
            }
        }
        assert_eq!(
            translate("a\0", Postgres).unwrap_err().to_string(),
            "NUL character (\\0) in SQL text at byte 1 (no server accepts it in a statement; \
             pass such data as a bound parameter)"
        );
        assert_eq!(
            crate::sql::bracket_identifiers("[a] > \0")
                .unwrap_err()
                .kind,
            E::NulCharacter
        );
    }

    // ---- multi-byte text ----

    #[test]
    fn multi_byte_characters_at_every_position_never_panic() {
        let samples = [
            "SELECT [a b], 'x''y', \"q\"\"r\", `s``t` FROM [t] WHERE [c] = ? AND d ?? 'k' -- c\n/* /* n */ */ $$ ? $$ $t$ x $t$ E'\\'' ?1 :n @m $v [a]]b] x[1] ARRAY[[1]]",
            "[",
            "'",
            "$a$",
            "[x",
        ];
        for base in samples {
            for insert in ["é", "日", "🚀", "\u{0300}"] {
                for at in (0..=base.len()).filter(|&i| base.is_char_boundary(i)) {
                    let (head, tail) = base.split_at(at);
                    let text = format!("{head}{insert}{tail}");
                    for d in Dialect::ALL {
                        let _ = translate(&text, d);
                        let _ = crate::sql::lexer::tokenize(&text, d);
                    }
                    let _ = crate::sql::bracket_identifiers(&text);
                }
            }
        }
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
