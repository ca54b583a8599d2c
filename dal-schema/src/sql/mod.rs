//! Portable SQL: one statement text that runs on every dialect, translated by a real
//! lexer (no regular expressions) that respects string literals, quoted identifiers,
//! comments and PostgreSQL dollar quoting.
//!
//! # Conventions
//!
//! - **`[name]` quotes an identifier** in every dialect: it becomes `"name"` on
//!   PostgreSQL and SQLite and `` `name` `` on MySQL. Inside the brackets, `]]` stands
//!   for a literal `]`; every other character stands for itself, and the dialect's own
//!   quote character is doubled in the output: `[say "hi"]` is `"say ""hi"""` on
//!   PostgreSQL and SQLite (and `` `say "hi"` `` on MySQL), `` [a`b] `` is
//!   `` `a``b` `` on MySQL (and `"a`b"` elsewhere), `[a]]b]` is `"a]b"`. Native
//!   quoting also works and is left as written: `"..."` (with `""`) and `` `...` ``
//!   (with ``` `` ```).
//! - **Identifiers must fit the server**: a `[name]`, a natively quoted identifier
//!   (`"..."` on PostgreSQL, `` `...` `` on MySQL) or a bare word longer than
//!   [`Capabilities::max_identifier_len`](crate::Capabilities::max_identifier_len)
//!   (PostgreSQL: 63 bytes, which it would otherwise truncate silently; MySQL/MariaDB:
//!   64 characters; SQLite: no limit) is
//!   [`TranslateErrorKind::IdentifierTooLong`], naming it. On MySQL this also applies
//!   to column aliases, which the server would take up to 256 characters long.
//! - **No NUL characters**: a NUL (`\0`) anywhere in the text, even inside a literal
//!   or comment, is [`TranslateErrorKind::NulCharacter`] (the PostgreSQL protocol
//!   cannot carry it; bind such data as a parameter).
//! - **`?` is a positional parameter**: `$1`, `$2`, ... on PostgreSQL, kept as `?` on
//!   MySQL and SQLite. **`??` is a literal `?`** in every dialect and not a parameter,
//!   so PostgreSQL's jsonb operators `?`, `?|`, `?&` are written `??`, `??|`, `??&`.
//!   A `$n` written for a `?` glued to a word gets a separating space (`LIMIT?` becomes
//!   `LIMIT $1`, not the identifier `LIMIT$1`).
//! - **Native placeholders also work** and are left as written: `$n` on PostgreSQL (the
//!   parameter count is the highest `n`); `?NNN`, `:name`, `@name`, `$name` on SQLite
//!   (counted the way SQLite numbers them). Mixing portable `?` with `$n` in one
//!   PostgreSQL statement is an error ([`TranslateErrorKind::MixedPlaceholders`]).
//! - **Nothing inside a literal, quoted identifier, comment or dollar-quoted body is
//!   touched**: `'...'` (with `''`); PostgreSQL `E'...'` (backslash escapes); on MySQL,
//!   `'...'` and `"..."` with backslash escapes; `-- ...` line comments (on MySQL only
//!   when followed by whitespace, as MySQL requires) and MySQL `# ...`; `/* ... */`
//!   (nested on PostgreSQL only); PostgreSQL `$$ ... $$` and `$tag$ ... $tag$` (a `$`
//!   followed by a digit is a parameter, not a quote). On SQLite, a `[...]` that is not
//!   a portable identifier (below) is SQLite's own bracket quoting and is left alone.
//!
//! # When `[` starts an identifier
//!
//! PostgreSQL array syntax (`ARRAY[1,2]`, `col[1]`, `col[1:2]`, `(expr)[1]`,
//! `'{1,2}'::int[]`, `x[1][2]`) must keep working, so a `[` is a portable identifier
//! only when both hold:
//!
//! 1. **Position**: the character right before it (no whitespace skipped) does *not*
//!    end an operand: a letter, digit, `_`, `$` or non-ASCII character, a closing `]`,
//!    `)`, `"` or `` ` ``, a `?`, or another `[` (`[[` is a nested array). So
//!    `col[1]`, `int[]`, `(a)[1]`, `"arr"[1]`, `x[1][2]` and `[tags][1]` are
//!    subscripts or array types, while `[a]` after a space, `(`, `,`, `.` or an
//!    operator is in identifier position (`[t].[x]` translates both names).
//! 2. **Content**: up to the closing `]` (with `]]` for a literal `]`), the text holds
//!    none of `[` `,` `:` `'` `(` `)` `;` `?` or a line break, and is not a number
//!    (digits with optional signs and dots: `1`, `-1`, `2.5`). Spaces, dashes, dots,
//!    identifier quotes (`"`, `` ` ``) and non-ASCII letters are allowed
//!    (`[user id]`, `[order-date]`, `[prénom]`, `[say "hi"]`). So `ARRAY [1, 2]`,
//!    `x [1]`, `x [-1]`, `x [1:2]` and `data ['key']` written with a space stay array
//!    syntax. After a number, `]]` is two closing brackets, not an escape, so nested
//!    arrays such as `ARRAY[[1],[2]]` keep working. A name holding one of the excluded
//!    characters is written with the dialect's native quoting (see
//!    [`Dialect::quote_identifier`](crate::Dialect::quote_identifier)).
//!
//! In identifier position, `[]` or blanks only is
//! [`TranslateErrorKind::EmptyBracketIdentifier`], and a `[` with no closing `]` before
//! the end of the text (and no character from the list above) is
//! [`TranslateErrorKind::UnterminatedBracketIdentifier`]. Write array subscripts glued
//! to their operand (`ARRAY[i]`, not `ARRAY [i]`): a lone identifier-like subscript
//! after a space reads as an identifier. For the same reason, a multi-dimensional
//! array whose rows are single columns is written `ARRAY[ARRAY[a], ARRAY[b]]`.
//!
//! ```
//! use dal_schema::{Dialect, translate};
//!
//! let sql = "SELECT [tags][1], ARRAY[1,2] FROM [posts] WHERE [id] = ? AND [body] <> '[x]?'";
//! assert_eq!(
//!     translate(sql, Dialect::Postgres).unwrap().sql,
//!     r#"SELECT "tags"[1], ARRAY[1,2] FROM "posts" WHERE "id" = $1 AND "body" <> '[x]?'"#
//! );
//! ```

pub mod lexer;
mod translate;

use std::fmt;

use crate::Dialect;

pub use lexer::bracket_identifiers;
pub use translate::{Translated, translate};

/// Why a statement could not be translated, and where.
///
/// ```
/// use dal_schema::{Dialect, translate};
/// use dal_schema::sql::TranslateErrorKind;
///
/// let err = translate("SELECT * FROM 'abc", Dialect::Sqlite).unwrap_err();
/// assert_eq!((err.kind, err.offset), (TranslateErrorKind::UnterminatedString, 14));
/// assert_eq!(err.to_string(), "unterminated string literal starting at byte 14");
///
/// let long = format!("SELECT [{}]", "x".repeat(64));
/// let err = translate(&long, Dialect::Postgres).unwrap_err();
/// assert_eq!(err.identifier(), Some("xxxxxxxxxxxxxxxxxxxx…xxxxxxxx"));
/// assert_eq!(
///     err.to_string(),
///     "identifier `xxxxxxxxxxxxxxxxxxxx…xxxxxxxx` at byte 7 is 64 bytes long; \
///      PostgreSQL takes at most 63 bytes (it would silently truncate the name)"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TranslateError {
    /// What is wrong.
    pub kind: TranslateErrorKind,
    /// Byte offset in the SQL text where the problem starts.
    pub offset: usize,
    /// The identifier an [`TranslateErrorKind::IdentifierTooLong`] is about, shortened.
    identifier: Option<Box<str>>,
}

impl TranslateError {
    /// An error of `kind` starting at byte `offset`.
    pub(crate) fn new(kind: TranslateErrorKind, offset: usize) -> Self {
        TranslateError {
            kind,
            offset,
            identifier: None,
        }
    }

    /// [`TranslateErrorKind::IdentifierTooLong`] for `name` written at `offset`.
    pub(crate) fn too_long(name: &str, dialect: Dialect, offset: usize) -> Self {
        TranslateError {
            kind: TranslateErrorKind::IdentifierTooLong {
                dialect,
                length: dialect.identifier_len(name),
            },
            offset,
            identifier: Some(shorten(name).into()),
        }
    }

    /// For [`TranslateErrorKind::IdentifierTooLong`], the identifier, shortened for
    /// display when it is long (its first 20 and last 8 characters around a `…`);
    /// `None` for every other kind.
    pub fn identifier(&self) -> Option<&str> {
        self.identifier.as_deref()
    }
}

/// `name` as error messages show it: at most 29 characters, the middle elided.
fn shorten(name: &str) -> String {
    const HEAD: usize = 20;
    const TAIL: usize = 8;
    let count = name.chars().count();
    if count <= HEAD + TAIL + 1 {
        return name.to_owned();
    }
    let mut out: String = name.chars().take(HEAD).collect();
    out.push('…');
    out.extend(name.chars().skip(count - TAIL));
    out
}

/// The kinds of [`TranslateError`].
///
/// ```
/// use dal_schema::{Dialect, translate};
/// use dal_schema::sql::TranslateErrorKind;
///
/// let err = translate("SELECT $$ body", Dialect::Postgres).unwrap_err();
/// assert_eq!(err.kind, TranslateErrorKind::UnterminatedDollarQuote);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranslateErrorKind {
    /// A `'...'` (or MySQL `"..."`) string literal has no closing quote.
    UnterminatedString,
    /// A `"..."` or `` `...` `` quoted identifier has no closing quote.
    UnterminatedQuotedIdentifier,
    /// A `[name]` identifier has no closing `]`.
    UnterminatedBracketIdentifier,
    /// A `/* ... */` comment is not closed (counting nesting on PostgreSQL).
    UnterminatedBlockComment,
    /// A PostgreSQL `$tag$` dollar quote has no closing `$tag$`.
    UnterminatedDollarQuote,
    /// `[]` (or blanks only) where an identifier is expected.
    EmptyBracketIdentifier,
    /// Portable `?` and native `$n` placeholders in one PostgreSQL statement.
    MixedPlaceholders,
    /// An identifier (`[name]`, natively quoted or bare) longer than the dialect
    /// takes: PostgreSQL would silently truncate it to 63 bytes, the MySQL family
    /// refuses more than 64 characters (see
    /// [`Capabilities::max_identifier_len`](crate::Capabilities::max_identifier_len)).
    /// [`TranslateError::identifier`] names it.
    IdentifierTooLong {
        /// The dialect whose limit the identifier exceeds.
        dialect: Dialect,
        /// The identifier's length in the unit that dialect counts (bytes on
        /// PostgreSQL, characters on the MySQL family).
        length: usize,
    },
    /// A NUL character (`\0`) in the SQL text, where no server accepts it (the
    /// PostgreSQL protocol cannot even carry it).
    NulCharacter,
}

impl TranslateErrorKind {
    /// What went wrong, in words, without the position.
    ///
    /// ```
    /// use dal_schema::sql::TranslateErrorKind;
    /// assert_eq!(
    ///     TranslateErrorKind::UnterminatedBlockComment.description(),
    ///     "unterminated block comment"
    /// );
    /// ```
    pub fn description(self) -> &'static str {
        match self {
            Self::UnterminatedString => "unterminated string literal",
            Self::UnterminatedQuotedIdentifier => "unterminated quoted identifier",
            Self::UnterminatedBracketIdentifier => "unterminated bracket identifier `[...]`",
            Self::UnterminatedBlockComment => "unterminated block comment",
            Self::UnterminatedDollarQuote => "unterminated dollar-quoted string",
            Self::EmptyBracketIdentifier => "empty bracket identifier `[]`",
            Self::MixedPlaceholders => {
                "portable `?` placeholder mixed with native `$n` placeholders"
            }
            Self::IdentifierTooLong { .. } => "identifier too long",
            Self::NulCharacter => "NUL character (\\0) in SQL text",
        }
    }

    /// What the user can do about it, appended to the message.
    fn hint(self) -> &'static str {
        match self {
            Self::UnterminatedBracketIdentifier => " (write `]]` for a literal `]`)",
            Self::EmptyBracketIdentifier => {
                " (an identifier is expected here; array subscripts are written glued to their operand, as in `col[1]`)"
            }
            Self::MixedPlaceholders => " (use one placeholder style per statement)",
            Self::NulCharacter => {
                " (no server accepts it in a statement; pass such data as a bound parameter)"
            }
            _ => "",
        }
    }
}

/// The server family's name as messages show it.
fn server_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "PostgreSQL",
        Dialect::MySql => "MySQL/MariaDB",
        Dialect::Sqlite => "SQLite",
    }
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let TranslateErrorKind::IdentifierTooLong { dialect, length } = self.kind {
            let unit = dialect.identifier_len_unit();
            let max = dialect.capabilities().max_identifier_len;
            let what = match dialect {
                Dialect::Postgres => " (it would silently truncate the name)",
                _ => "",
            };
            return write!(
                f,
                "identifier `{}` at byte {} is {length} {unit} long; {} takes at most {max} {unit}{what}",
                self.identifier().unwrap_or(""),
                self.offset,
                server_name(dialect),
            );
        }
        let at = match self.kind {
            TranslateErrorKind::EmptyBracketIdentifier
            | TranslateErrorKind::MixedPlaceholders
            | TranslateErrorKind::NulCharacter => "at",
            _ => "starting at",
        };
        write!(
            f,
            "{} {at} byte {}{}",
            self.kind.description(),
            self.offset,
            self.kind.hint()
        )
    }
}

impl std::error::Error for TranslateError {}
