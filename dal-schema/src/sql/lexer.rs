//! The SQL lexer behind portable SQL translation: splits SQL text into tokens (words,
//! literals, quoted identifiers, comments, parameters, punctuation) following each
//! dialect's quoting and comment rules, in one pass and without allocating per token.
//!
//! The tokens are contiguous: concatenating the text of every token gives back the
//! input. Token offsets are byte offsets and always fall on `char` boundaries.

use std::borrow::Cow;
use std::iter::FusedIterator;

use super::{TranslateError, TranslateErrorKind};
use crate::Dialect;

/// What kind of text a [`Token`] covers.
///
/// ```
/// use dal_schema::Dialect;
/// use dal_schema::sql::lexer::{TokenKind, tokenize};
///
/// let tokens = tokenize("[id] = ?", Dialect::Postgres).unwrap();
/// let kinds: Vec<TokenKind> = tokens.iter().map(|t| t.kind).collect();
/// assert_eq!(
///     kinds,
///     [
///         TokenKind::BracketIdentifier,
///         TokenKind::Whitespace,
///         TokenKind::Punct,
///         TokenKind::Whitespace,
///         TokenKind::Placeholder,
///     ]
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A run of ASCII whitespace (space, tab, newline, carriage return, form feed,
    /// vertical tab).
    Whitespace,
    /// An unquoted identifier or keyword (`SELECT`, `users`, `naïve`). Any non-ASCII
    /// character counts as an identifier character, as on PostgreSQL; `$` may appear
    /// after the first character.
    Word,
    /// A numeric literal (`42`, `1.5`, `0x1F`); letters, digits, `_` and `.` following
    /// the leading digit belong to it.
    Number,
    /// A string literal: `'...'` (with `''`), PostgreSQL `E'...'` (backslash escapes),
    /// and on MySQL `'...'` and `"..."` with backslash escapes.
    String,
    /// A natively quoted identifier: `"..."` (PostgreSQL, SQLite), `` `...` `` (every
    /// dialect), and on SQLite a native `[...]` that is not a portable identifier.
    QuotedIdentifier,
    /// A portable quoted identifier `[name]` (`]]` inside stands for `]`).
    /// See [`Token::bracket_name`].
    BracketIdentifier,
    /// `-- ...` (on MySQL only when followed by whitespace, a control character or the
    /// end of the text) or MySQL `# ...`, up to but not including the line break.
    LineComment,
    /// `/* ... */`; nested on PostgreSQL.
    BlockComment,
    /// A PostgreSQL dollar-quoted string `$tag$ ... $tag$` or `$$ ... $$`.
    DollarQuoted,
    /// The portable positional parameter `?`.
    Placeholder,
    /// `??`: a literal `?` in the translated SQL, not a parameter.
    EscapedQuestionMark,
    /// A native numbered parameter, carrying its number: PostgreSQL `$n`, SQLite `?NNN`.
    /// Numbers too large for `usize` saturate.
    NumberedParameter(usize),
    /// A native SQLite named parameter: `:name`, `@name` or `$name`.
    NamedParameter,
    /// Any other single character: operators, parentheses, commas, the brackets of
    /// array syntax (`ARRAY[1,2]`, `col[1]`, `int[]`).
    Punct,
}

/// One token: its kind and the byte range `start..end` it covers in the SQL text.
///
/// ```
/// use dal_schema::Dialect;
/// use dal_schema::sql::lexer::tokenize;
///
/// let sql = "SELECT 'a?'";
/// let tokens = tokenize(sql, Dialect::MySql).unwrap();
/// assert_eq!(tokens[2].text(sql), "'a?'");
/// assert_eq!((tokens[2].start, tokens[2].end), (7, 11));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of the first byte of the token.
    pub start: usize,
    /// Byte offset just past the last byte of the token.
    pub end: usize,
}

impl Token {
    /// The token's text within `sql`, the text it was lexed from (an empty string if
    /// the range does not fit `sql`).
    ///
    /// ```
    /// use dal_schema::Dialect;
    /// use dal_schema::sql::lexer::tokenize;
    ///
    /// let sql = "a /* ? */";
    /// let tokens = tokenize(sql, Dialect::Sqlite).unwrap();
    /// assert_eq!(tokens.last().unwrap().text(sql), "/* ? */");
    /// ```
    pub fn text<'a>(&self, sql: &'a str) -> &'a str {
        sql.get(self.start..self.end).unwrap_or("")
    }

    /// For a [`TokenKind::BracketIdentifier`], the identifier it names, with `]]`
    /// unescaped to `]` (borrowed unless there was something to unescape); `None` for
    /// every other kind.
    ///
    /// ```
    /// use dal_schema::Dialect;
    /// use dal_schema::sql::lexer::tokenize;
    ///
    /// let sql = "[a]]b]";
    /// let token = tokenize(sql, Dialect::Postgres).unwrap()[0];
    /// assert_eq!(token.bracket_name(sql).as_deref(), Some("a]b"));
    /// ```
    pub fn bracket_name<'a>(&self, sql: &'a str) -> Option<Cow<'a, str>> {
        if self.kind != TokenKind::BracketIdentifier || self.end < self.start + 2 {
            return None;
        }
        sql.get(self.start + 1..self.end - 1).map(unescape_bracket)
    }
}

/// Turn the inside of `[...]` into the identifier it names (`]]` means `]`).
pub(super) fn unescape_bracket(content: &str) -> Cow<'_, str> {
    if content.contains("]]") {
        Cow::Owned(content.replace("]]", "]"))
    } else {
        Cow::Borrowed(content)
    }
}

/// Split `sql` into tokens using `dialect`'s lexical rules.
///
/// For a lazy, allocation-free walk use [`Lexer`].
///
/// # Errors
///
/// The first unterminated string, quoted identifier, bracket identifier, block comment
/// or dollar quote, or empty bracket identifier, with the byte offset where it starts;
/// or, before any of those, the first NUL character
/// ([`TranslateErrorKind::NulCharacter`]). Identifier lengths are not checked here
/// (that is [`translate`](crate::translate)'s job, for one dialect's limit).
///
/// ```
/// use dal_schema::Dialect;
/// use dal_schema::sql::lexer::{TokenKind, tokenize};
/// use dal_schema::sql::TranslateErrorKind;
///
/// let sql = "SELECT $1, $tag$ ? $tag$";
/// let params = tokenize(sql, Dialect::Postgres)
///     .unwrap()
///     .into_iter()
///     .filter(|t| matches!(t.kind, TokenKind::NumberedParameter(_)))
///     .count();
/// assert_eq!(params, 1);
///
/// let err = tokenize("SELECT 'oops", Dialect::Sqlite).unwrap_err();
/// assert_eq!((err.kind, err.offset), (TranslateErrorKind::UnterminatedString, 7));
/// ```
pub fn tokenize(sql: &str, dialect: Dialect) -> Result<Vec<Token>, TranslateError> {
    collect(Lexer::new(sql, dialect), sql.len())
}

/// Split `sql`, written in `dialect`'s own syntax (as [`translate`](crate::translate)
/// produces it, or as a server reports it), into tokens: like [`tokenize`], except
/// that no `[` starts a portable identifier ([`Lexer::native`]).
///
/// # Errors
///
/// As for [`tokenize`].
///
/// ```
/// use dal_schema::{Dialect, translate};
/// use dal_schema::sql::lexer::{TokenKind, tokenize_native};
///
/// // `[` glued to nothing is array punctuation in PostgreSQL's own syntax…
/// let sql = translate("SELECT x [?]", Dialect::Postgres).unwrap().sql;
/// assert_eq!(sql, "SELECT x [$1]");
/// let kinds: Vec<TokenKind> = tokenize_native(&sql, Dialect::Postgres)
///     .unwrap()
///     .iter()
///     .map(|t| t.kind)
///     .collect();
/// assert_eq!(kinds[4..], [TokenKind::Punct, TokenKind::NumberedParameter(1), TokenKind::Punct]);
///
/// // …and SQLite's own quoting, closed by the first `]`.
/// let tokens = tokenize_native("SELECT [a]", Dialect::Sqlite).unwrap();
/// assert_eq!(tokens[2].kind, TokenKind::QuotedIdentifier);
/// ```
pub fn tokenize_native(sql: &str, dialect: Dialect) -> Result<Vec<Token>, TranslateError> {
    collect(Lexer::native(sql, dialect), sql.len())
}

/// The value of a string literal as `dialect` writes it natively: `'it''s'`,
/// PostgreSQL `E'a\nb'` (backslash escapes), MySQL `'a\\b'` and `"a"` (backslash
/// escapes; `\Z` is Ctrl-Z, and `\%` / `\_` keep their backslash, as they are
/// `LIKE` escapes). `None` when `literal` is not a string literal of the dialect.
///
/// ```
/// use dal_schema::Dialect;
/// use dal_schema::sql::lexer::string_literal_value;
///
/// assert_eq!(string_literal_value("'it''s'", Dialect::Sqlite).as_deref(), Some("it's"));
/// assert_eq!(string_literal_value("E'a\\nb'", Dialect::Postgres).as_deref(), Some("a\nb"));
/// assert_eq!(string_literal_value(r#""a\'b""#, Dialect::MySql).as_deref(), Some("a'b"));
/// assert_eq!(string_literal_value(r#""a""#, Dialect::Postgres), None);
/// ```
pub fn string_literal_value(literal: &str, dialect: Dialect) -> Option<String> {
    let rules = LexRules::of(dialect);
    let (body, quote, backslashes) = if let Some(rest) = literal
        .strip_prefix(['e', 'E'])
        .filter(|r| r.starts_with('\'') && rules.escape_strings)
    {
        (rest, '\'', true)
    } else {
        let quote = literal.chars().next()?;
        if quote != '\'' && !(quote == '"' && rules.double_quote_is_string) {
            return None;
        }
        (literal, quote, rules.backslash_escapes)
    };
    // MySQL's backslash escapes in plain literals go further than PostgreSQL's `E'..'`
    let mysql_escapes = rules.backslash_escapes;
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
                Some('Z') if mysql_escapes => out.push('\u{1a}'),
                // MySQL keeps the backslash of `\%` and `\_` (they are LIKE escapes)
                Some(e @ ('%' | '_')) if mysql_escapes => {
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

fn collect(lexer: Lexer<'_>, len: usize) -> Result<Vec<Token>, TranslateError> {
    // Most tokens are a few bytes long; this avoids regrowing for typical statements.
    let mut tokens = Vec::with_capacity(len / 4 + 1);
    for token in lexer {
        tokens.push(token?);
    }
    Ok(tokens)
}

/// The names written as portable `[name]` identifiers in `sql`, in order of appearance
/// (repeats included), with `]]` unescaped.
///
/// Used to check that a CHECK expression only names known columns. Portable SQL is
/// lexed with the rules shared by all dialects; where they differ (dollar quotes,
/// nested comments, `E'...'`), PostgreSQL's rules apply. Brackets inside literals and
/// comments, and array syntax such as `col[1]`, are not identifiers.
///
/// # Errors
///
/// The same lexical errors as [`tokenize`] (an unterminated literal, comment or
/// identifier, an empty `[]`, a NUL character), with the byte offset where the
/// problem starts.
///
/// ```
/// use dal_schema::sql::bracket_identifiers;
///
/// let names = bracket_identifiers("[age] >= 18 AND [tags][1] <> '[x]'").unwrap();
/// assert_eq!(names, ["age", "tags"]);
/// ```
pub fn bracket_identifiers(sql: &str) -> Result<Vec<String>, TranslateError> {
    let mut names = Vec::new();
    for token in Lexer::new(sql, Dialect::Postgres) {
        if let Some(name) = token?.bracket_name(sql) {
            names.push(name.into_owned());
        }
    }
    Ok(names)
}

/// A lazy tokenizer: an iterator of [`Token`]s over one SQL text.
///
/// After yielding an error it yields nothing more.
///
/// ```
/// use dal_schema::Dialect;
/// use dal_schema::sql::lexer::{Lexer, TokenKind};
///
/// let placeholders = Lexer::new("a = ? AND b = '?' -- ?", Dialect::Sqlite)
///     .filter(|t| matches!(t, Ok(t) if t.kind == TokenKind::Placeholder))
///     .count();
/// assert_eq!(placeholders, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Lexer<'a> {
    sql: &'a str,
    pos: usize,
    rules: &'static LexRules,
    failed: bool,
    /// Offset of the first NUL byte, reported before any token.
    nul: Option<usize>,
    /// A `[` in identifier position may start a portable `[name]` (false when lexing
    /// a dialect's own SQL).
    portable: bool,
}

impl<'a> Lexer<'a> {
    /// A lexer over `sql` using `dialect`'s lexical rules.
    ///
    /// A text holding a NUL character anywhere (even inside a literal or comment)
    /// is refused as a whole: the first item is a
    /// [`TranslateErrorKind::NulCharacter`] error at the first NUL.
    pub fn new(sql: &'a str, dialect: Dialect) -> Self {
        let mut lexer = Self::without_nul_check(sql, dialect);
        lexer.nul = sql.bytes().position(|c| c == 0);
        lexer
    }

    /// A lexer over SQL written in `dialect`'s own syntax rather than portable SQL:
    /// a `[` never starts a portable identifier ([`TokenKind::BracketIdentifier`]).
    /// It is array punctuation on PostgreSQL and MySQL, and SQLite's own quoting on
    /// SQLite (a [`TokenKind::QuotedIdentifier`] closed by the next `]`, without
    /// escapes). This is how a server reads the text [`translate`](crate::translate)
    /// produces: use it to look at translated SQL or SQL a server reports.
    pub fn native(sql: &'a str, dialect: Dialect) -> Self {
        Lexer {
            portable: false,
            ..Self::new(sql, dialect)
        }
    }

    /// A lexer over a text known to hold no NUL byte (the translator's prescan
    /// checked it), sparing a second pass.
    pub(super) fn without_nul_check(sql: &'a str, dialect: Dialect) -> Self {
        Lexer {
            sql,
            pos: 0,
            rules: LexRules::of(dialect),
            failed: false,
            nul: None,
            portable: true,
        }
    }

    /// Scan the token starting at `start` (which is inside the text): its kind and end,
    /// or the kind of error that starts there.
    fn scan_token(&self, start: usize) -> Result<(TokenKind, usize), TranslateErrorKind> {
        use TokenKind as K;
        let b = self.sql.as_bytes();
        let r = self.rules;
        let next = b.get(start + 1).copied();
        match b[start] {
            c if is_space(c) => Ok((K::Whitespace, skip(b, start + 1, is_space))),
            b'\'' => quoted_end(b, start + 1, b'\'', r.backslash_escapes)
                .map(|end| (K::String, end))
                .ok_or(TranslateErrorKind::UnterminatedString),
            // MySQL's default mode reads `"..."` as a string, with backslash escapes.
            b'"' if r.double_quote_is_string => quoted_end(b, start + 1, b'"', true)
                .map(|end| (K::String, end))
                .ok_or(TranslateErrorKind::UnterminatedString),
            b'"' | b'`' => quoted_end(b, start + 1, b[start], false)
                .map(|end| (K::QuotedIdentifier, end))
                .ok_or(TranslateErrorKind::UnterminatedQuotedIdentifier),
            b'[' => self.bracket(start),
            b'?' => Ok(match next {
                Some(b'?') => (K::EscapedQuestionMark, start + 2),
                Some(d) if r.sqlite_params && d.is_ascii_digit() => numbered(b, start + 1),
                _ => (K::Placeholder, start + 1),
            }),
            // MySQL needs whitespace or a control character after `--` (`1--1` is `1 - -1`).
            b'-' if next == Some(b'-')
                && (!r.dash_comment_needs_space
                    || b.get(start + 2).is_none_or(|&c| c <= b' ' || c == 0x7f)) =>
            {
                Ok((K::LineComment, line_end(b, start + 2)))
            }
            b'#' if r.hash_comments => Ok((K::LineComment, line_end(b, start + 1))),
            b'/' if next == Some(b'*') => block_comment_end(b, start + 2, r.nested_block_comments)
                .map(|end| (K::BlockComment, end))
                .ok_or(TranslateErrorKind::UnterminatedBlockComment),
            b'$' if r.dollar_quotes => dollar(b, start),
            b'$' | b':' | b'@' if r.sqlite_params && next.is_some_and(is_ident_continue) => {
                Ok((K::NamedParameter, skip(b, start + 1, is_ident_continue)))
            }
            // PostgreSQL escape string: a lone `E` glued to the opening quote.
            b'e' | b'E' if r.escape_strings && next == Some(b'\'') => {
                quoted_end(b, start + 2, b'\'', true)
                    .map(|end| (K::String, end))
                    .ok_or(TranslateErrorKind::UnterminatedString)
            }
            c if is_ident_start(c) => Ok((K::Word, skip(b, start + 1, is_ident_continue))),
            c if c.is_ascii_digit() => Ok((K::Number, skip(b, start + 1, is_number_continue))),
            // Every byte >= 0x80 starts a word, so this is one ASCII character.
            _ => Ok((K::Punct, start + 1)),
        }
    }

    /// Scan a `[` at `start`: a portable identifier, array syntax, or (SQLite) a native
    /// bracket-quoted identifier. The rule is documented on the `sql` module.
    fn bracket(&self, start: usize) -> Result<(TokenKind, usize), TranslateErrorKind> {
        let b = self.sql.as_bytes();
        let after_operand = start > 0 && ends_operand(b[start - 1]);
        if self.portable && !after_operand {
            match portable_bracket(b, start) {
                Bracket::Identifier(end) => return Ok((TokenKind::BracketIdentifier, end)),
                Bracket::Empty => return Err(TranslateErrorKind::EmptyBracketIdentifier),
                Bracket::Unterminated => {
                    return Err(TranslateErrorKind::UnterminatedBracketIdentifier);
                }
                Bracket::NotIdentifier => {}
            }
        }
        if self.rules.native_brackets {
            // SQLite reads every other `[` as a native identifier closed by the next `]`
            // (no escapes): its content must stay untouched.
            return match b[start + 1..].iter().position(|&c| c == b']') {
                Some(p) => Ok((TokenKind::QuotedIdentifier, start + p + 2)),
                None => Err(TranslateErrorKind::UnterminatedBracketIdentifier),
            };
        }
        Ok((TokenKind::Punct, start + 1))
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Token, TranslateError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.sql.len() {
            return None;
        }
        if let Some(at) = self.nul {
            self.failed = true;
            return Some(Err(TranslateError::new(
                TranslateErrorKind::NulCharacter,
                at,
            )));
        }
        let start = self.pos;
        match self.scan_token(start) {
            Ok((kind, end)) => {
                self.pos = end;
                Some(Ok(Token { kind, start, end }))
            }
            Err(kind) => {
                self.failed = true;
                Some(Err(TranslateError::new(kind, start)))
            }
        }
    }
}

impl FusedIterator for Lexer<'_> {}

/// The lexical rules of one dialect, as data.
#[derive(Debug)]
struct LexRules {
    /// Backslash escapes the next character inside `'...'` and `"..."` (MySQL).
    backslash_escapes: bool,
    /// `"..."` is a string literal, not an identifier (MySQL without ANSI_QUOTES).
    double_quote_is_string: bool,
    /// `#` starts a line comment (MySQL).
    hash_comments: bool,
    /// `--` starts a comment only when followed by whitespace or a control character (MySQL).
    dash_comment_needs_space: bool,
    /// `/* /* */ */` nests (PostgreSQL).
    nested_block_comments: bool,
    /// `$tag$...$tag$` strings and `$n` parameters (PostgreSQL).
    dollar_quotes: bool,
    /// `E'...'` escape strings (PostgreSQL).
    escape_strings: bool,
    /// `?NNN`, `:name`, `@name`, `$name` parameters (SQLite).
    sqlite_params: bool,
    /// A `[` that is not a portable identifier still quotes an identifier (SQLite).
    native_brackets: bool,
}

const POSTGRES: LexRules = LexRules {
    backslash_escapes: false,
    double_quote_is_string: false,
    hash_comments: false,
    dash_comment_needs_space: false,
    nested_block_comments: true,
    dollar_quotes: true,
    escape_strings: true,
    sqlite_params: false,
    native_brackets: false,
};

const MYSQL: LexRules = LexRules {
    backslash_escapes: true,
    double_quote_is_string: true,
    hash_comments: true,
    dash_comment_needs_space: true,
    nested_block_comments: false,
    dollar_quotes: false,
    escape_strings: false,
    sqlite_params: false,
    native_brackets: false,
};

const SQLITE: LexRules = LexRules {
    backslash_escapes: false,
    double_quote_is_string: false,
    hash_comments: false,
    dash_comment_needs_space: false,
    nested_block_comments: false,
    dollar_quotes: false,
    escape_strings: false,
    sqlite_params: true,
    native_brackets: true,
};

const POSTGRES_SPECIAL: [bool; 256] = special_bytes(&POSTGRES);
const MYSQL_SPECIAL: [bool; 256] = special_bytes(&MYSQL);
const SQLITE_SPECIAL: [bool; 256] = special_bytes(&SQLITE);

impl LexRules {
    fn of(dialect: Dialect) -> &'static LexRules {
        match dialect {
            Dialect::Postgres => &POSTGRES,
            Dialect::MySql => &MYSQL,
            Dialect::Sqlite => &SQLITE,
        }
    }
}

/// The bytes that can start a token the translator must look at or validate: quotes,
/// brackets, comments, parameters. Text without any of them translates to itself.
const fn special_bytes(rules: &LexRules) -> [bool; 256] {
    let mut table = [false; 256];
    let always = b"[?'\"`-/";
    let mut i = 0;
    while i < always.len() {
        table[always[i] as usize] = true;
        i += 1;
    }
    if rules.hash_comments {
        table[b'#' as usize] = true;
    }
    if rules.dollar_quotes || rules.sqlite_params {
        table[b'$' as usize] = true;
    }
    if rules.sqlite_params {
        table[b':' as usize] = true;
        table[b'@' as usize] = true;
    }
    table
}

/// What a quick byte scan says about a text before lexing it.
pub(super) struct Prescan {
    /// The text holds a byte that may start a quote, bracket, comment or parameter.
    pub(super) needs_lexing: bool,
    /// How many `?` bytes it holds (to size the output).
    pub(super) question_marks: usize,
    /// Offset of the first NUL byte, if any.
    pub(super) nul: Option<usize>,
}

/// One tight pass over the bytes of `sql` (see [`Prescan`]).
pub(super) fn prescan(sql: &str, dialect: Dialect) -> Prescan {
    let table = match dialect {
        Dialect::Postgres => &POSTGRES_SPECIAL,
        Dialect::MySql => &MYSQL_SPECIAL,
        Dialect::Sqlite => &SQLITE_SPECIAL,
    };
    let mut needs_lexing = false;
    let mut question_marks = 0;
    let mut has_nul = false;
    for &c in sql.as_bytes() {
        needs_lexing |= table[c as usize];
        question_marks += usize::from(c == b'?');
        has_nul |= c == 0;
    }
    Prescan {
        needs_lexing,
        question_marks,
        nul: if has_nul {
            sql.bytes().position(|c| c == 0)
        } else {
            None
        },
    }
}

const fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// First byte of an unquoted identifier. Bytes >= 0x80 belong to non-ASCII characters,
/// which are identifier characters (as on PostgreSQL).
const fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

/// A byte that continues an unquoted identifier (or starts one, or is a digit).
pub(super) const fn is_ident_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

const fn is_number_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

/// Characters that end an operand: a `[` glued to one of them is a subscript or an
/// array type, never a portable identifier. `[[` is always a nested array.
const fn ends_operand(c: u8) -> bool {
    is_ident_continue(c) || matches!(c, b']' | b')' | b'"' | b'`' | b'?' | b'[')
}

/// Index of the first byte at or after `from` that does not satisfy `keep`.
fn skip(b: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    b[from.min(b.len())..]
        .iter()
        .position(|&c| !keep(c))
        .map_or(b.len(), |p| from + p)
}

/// End of a quoted run whose content starts at `from` (just after the opening `quote`):
/// a doubled quote stands for itself; with `backslash`, `\` escapes the next byte.
/// `None` when the closing quote is missing.
fn quoted_end(b: &[u8], from: usize, quote: u8, backslash: bool) -> Option<usize> {
    let mut i = from;
    while i < b.len() {
        let c = b[i];
        if backslash && c == b'\\' {
            i += 2;
        } else if c == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return Some(i + 1);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// End of a line comment whose body starts at `from`: the next line break (excluded).
fn line_end(b: &[u8], from: usize) -> usize {
    skip(b, from, |c| c != b'\n' && c != b'\r')
}

/// End of a block comment whose body starts at `from` (just after `/*`).
fn block_comment_end(b: &[u8], from: usize, nested: bool) -> Option<usize> {
    let mut depth = 1usize;
    let mut i = from;
    while i + 1 < b.len() {
        match (b[i], b[i + 1]) {
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            (b'/', b'*') if nested => {
                depth += 1;
                i += 2;
            }
            _ => i += 1,
        }
    }
    None
}

/// A numbered parameter whose digits start at `from`: its number (saturating) and end.
fn numbered(b: &[u8], from: usize) -> (TokenKind, usize) {
    let end = skip(b, from, |c| c.is_ascii_digit());
    let n = b[from..end].iter().fold(0usize, |n, &d| {
        n.saturating_mul(10).saturating_add(usize::from(d - b'0'))
    });
    (TokenKind::NumberedParameter(n), end)
}

/// A PostgreSQL `$` at `start`: `$n` parameter, dollar-quoted string, or plain `$`.
fn dollar(b: &[u8], start: usize) -> Result<(TokenKind, usize), TranslateErrorKind> {
    // The opening delimiter `$tag$` ends at `open_end`. A tag is identifier characters
    // not starting with a digit (a digit after `$` makes a parameter).
    let open_end = match b.get(start + 1) {
        Some(d) if d.is_ascii_digit() => return Ok(numbered(b, start + 1)),
        Some(b'$') => start + 2,
        Some(&c) if is_ident_start(c) => {
            let tag_end = skip(b, start + 1, |c| {
                c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
            });
            if b.get(tag_end) != Some(&b'$') {
                return Ok((TokenKind::Punct, start + 1));
            }
            tag_end + 1
        }
        _ => return Ok((TokenKind::Punct, start + 1)),
    };
    // Compared as bytes: the delimiter starts and ends with the ASCII `$`, so a match
    // can only start and end on character boundaries.
    let delimiter = &b[start..open_end];
    b[open_end..]
        .windows(delimiter.len())
        .position(|w| w == delimiter)
        .map(|p| (TokenKind::DollarQuoted, open_end + p + delimiter.len()))
        .ok_or(TranslateErrorKind::UnterminatedDollarQuote)
}

/// What a `[` in identifier position turned out to be.
enum Bracket {
    /// A portable identifier ending at the given offset.
    Identifier(usize),
    /// `[]` or blanks only.
    Empty,
    /// No closing `]` before the end of the text.
    Unterminated,
    /// Array syntax or other non-identifier content (digits only, `,`, `:`, ...).
    NotIdentifier,
}

/// Scan the content of a `[` at `start` that is in identifier position.
fn portable_bracket(b: &[u8], start: usize) -> Bracket {
    let mut i = start + 1;
    let mut blank = true;
    // Only digits, signs and dots so far, with at least one digit: a number.
    let mut numeric = true;
    let mut has_digit = false;
    loop {
        let Some(&c) = b.get(i) else {
            return Bracket::Unterminated;
        };
        match c {
            // A number is never a name, so `]]` after one closes a subscript and an
            // outer array (`ARRAY[[1],[2]]`) rather than escaping a `]`.
            b']' if b.get(i + 1) == Some(&b']') && !(numeric && has_digit) => {
                blank = false;
                numeric = false;
                i += 2;
            }
            b']' if blank => return Bracket::Empty,
            b']' if numeric && has_digit => return Bracket::NotIdentifier,
            b']' => return Bracket::Identifier(i + 1),
            // Not identifier text: array literals and slices (`,` `:`), nesting, string
            // quotes (`data ['key']` is a jsonb subscript), parameters, statement or
            // line ends. Identifier quotes (`"`, `` ` ``) are name characters: the
            // writer doubles them.
            b'[' | b',' | b':' | b'\'' | b'(' | b')' | b';' | b'?' | b'\n' | b'\r' => {
                return Bracket::NotIdentifier;
            }
            b' ' | b'\t' | 0x0b | 0x0c => i += 1,
            c => {
                blank = false;
                has_digit |= c.is_ascii_digit();
                numeric &= matches!(c, b'0'..=b'9' | b'.' | b'+' | b'-');
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind as K;

    fn kinds(sql: &str, dialect: Dialect) -> Vec<(TokenKind, &str)> {
        tokenize(sql, dialect)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text(sql)))
            .collect()
    }

    #[test]
    fn tokens_cover_the_text() {
        let sql = "SELECT [a b], \"c\", E'x\\'', $t$ ? $t$ /* /* */ */ -- z\n?";
        let tokens = tokenize(sql, Dialect::Postgres).unwrap();
        let joined: String = tokens.iter().map(|t| t.text(sql)).collect();
        assert_eq!(joined, sql);
        assert!(tokens.windows(2).all(|w| w[0].end == w[1].start));
    }

    #[test]
    fn parameter_tokens_per_dialect() {
        assert_eq!(
            kinds("$12 ?", Dialect::Postgres),
            [
                (K::NumberedParameter(12), "$12"),
                (K::Whitespace, " "),
                (K::Placeholder, "?"),
            ]
        );
        assert_eq!(
            kinds("?7 :a @b $c ??", Dialect::Sqlite)
                .into_iter()
                .filter(|(k, _)| *k != K::Whitespace)
                .collect::<Vec<_>>(),
            [
                (K::NumberedParameter(7), "?7"),
                (K::NamedParameter, ":a"),
                (K::NamedParameter, "@b"),
                (K::NamedParameter, "$c"),
                (K::EscapedQuestionMark, "??"),
            ]
        );
        assert_eq!(
            kinds("$99999999999999999999999999", Dialect::Postgres)[0].0,
            K::NumberedParameter(usize::MAX)
        );
    }

    #[test]
    fn array_brackets_are_punctuation() {
        assert_eq!(
            kinds("a[1]", Dialect::Postgres),
            [
                (K::Word, "a"),
                (K::Punct, "["),
                (K::Number, "1"),
                (K::Punct, "]"),
            ]
        );
        assert_eq!(
            kinds("a[1]", Dialect::Sqlite),
            [(K::Word, "a"), (K::QuotedIdentifier, "[1]")]
        );
    }

    #[test]
    fn bracket_identifiers_lists_portable_names_only() {
        assert_eq!(
            bracket_identifiers("[a] + [b c] - [a]]x] + x[i] + '[s]' /* [c] */ + [1]").unwrap(),
            ["a", "b c", "a]x"]
        );
        assert_eq!(
            bracket_identifiers("[] > 0").unwrap_err().kind,
            TranslateErrorKind::EmptyBracketIdentifier
        );
        assert!(bracket_identifiers("").unwrap().is_empty());
    }

    #[test]
    fn lexer_stops_after_an_error() {
        let mut lexer = Lexer::new("a 'b", Dialect::MySql);
        assert!(lexer.next().unwrap().is_ok());
        assert!(lexer.next().unwrap().is_ok());
        assert!(lexer.next().unwrap().is_err());
        assert!(lexer.next().is_none());
    }
}
