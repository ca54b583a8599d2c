//! The `schema!` syntax tree: statements, table and alter items, columns with
//! their modifiers, names and literal arguments, each carrying a position `S`.
//!
//! The tree records the shape of the input only; what names and values mean
//! (column types, modifiers, argument counts, references) is decided by the
//! macro's lowering and by the schema validator. The grammar itself is
//! documented on `dal::schema!`.

use std::fmt;
use std::str::FromStr;

/// The statements a `schema!` takes.
pub const STATEMENTS: &[&str] = &["create", "alter", "drop", "drop_if_exists", "rename", "sql"];

/// The items of a `create` block that are not columns.
pub const TABLE_ITEMS: &[&str] = &[
    "timestamps",
    "soft_deletes",
    "history",
    "without_rowid",
    "primary",
    "index",
    "unique_index",
    "index_named",
    "unique_index_named",
    "check",
    "check_named",
];

/// The items of an `alter` block.
pub const ALTER_ITEMS: &[&str] = &[
    "add",
    "drop_column",
    "rename_column",
    "add_index",
    "add_unique_index",
    "add_index_named",
    "drop_index",
    "add_check",
    "drop_check",
    "drop_foreign",
    "add_history",
    "refresh_history",
    "drop_history",
];

/// An identifier as written (a keyword, a column type, a modifier name, or a
/// name), `r#` included when it was written raw.
#[derive(Debug, Clone, PartialEq)]
pub struct Word<S = ()> {
    /// The identifier's text.
    pub text: String,
    /// Where it was written.
    pub span: S,
}

impl<S: Copy> Word<S> {
    /// A word at `span`.
    pub fn new(text: impl Into<String>, span: S) -> Word<S> {
        Word {
            text: text.into(),
            span,
        }
    }

    /// Where it was written.
    pub fn span(&self) -> S {
        self.span
    }
}

impl<S> Word<S> {
    /// The identifier without a leading `r#`.
    pub fn unraw(&self) -> &str {
        self.text.strip_prefix("r#").unwrap_or(&self.text)
    }
}

impl<S: Default> From<&str> for Word<S> {
    fn from(text: &str) -> Word<S> {
        Word {
            text: text.to_string(),
            span: S::default(),
        }
    }
}

impl<S> fmt::Display for Word<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<S> PartialEq<str> for Word<S> {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl<S> PartialEq<&str> for Word<S> {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

/// A string literal: its value (escapes resolved) and position.
#[derive(Debug, Clone, PartialEq)]
pub struct Str<S = ()> {
    /// The string's value.
    pub text: String,
    /// Where it was written.
    pub span: S,
}

impl<S: Copy> Str<S> {
    /// A string literal at `span`.
    pub fn new(text: impl Into<String>, span: S) -> Str<S> {
        Str {
            text: text.into(),
            span,
        }
    }

    /// The string's value.
    pub fn value(&self) -> String {
        self.text.clone()
    }

    /// Where it was written.
    pub fn span(&self) -> S {
        self.span
    }
}

impl<S: Default> From<&str> for Str<S> {
    fn from(text: &str) -> Str<S> {
        Str {
            text: text.to_string(),
            span: S::default(),
        }
    }
}

/// A number literal: its base-10 digits (no sign, suffix or `_`) and position.
#[derive(Debug, Clone, PartialEq)]
pub struct Number<S = ()> {
    /// The digits, e.g. `150` or `2.5` or `1e-9`.
    pub digits: String,
    /// Where it was written.
    pub span: S,
}

impl<S: Copy> Number<S> {
    /// A number literal at `span`.
    pub fn new(digits: impl Into<String>, span: S) -> Number<S> {
        Number {
            digits: digits.into(),
            span,
        }
    }

    /// The number parsed as `T`.
    pub fn base10_parse<T: FromStr>(&self) -> Result<T, T::Err> {
        self.digits.parse()
    }

    /// Where it was written.
    pub fn span(&self) -> S {
        self.span
    }
}

/// A `true` or `false` literal.
#[derive(Debug, Clone, PartialEq)]
pub struct Bool<S = ()> {
    /// The value.
    pub value: bool,
    /// Where it was written.
    pub span: S,
}

/// A literal argument.
#[derive(Debug, Clone, PartialEq)]
pub enum Lit<S = ()> {
    /// `"text"`
    Str(Str<S>),
    /// `150`
    Int(Number<S>),
    /// `2.5`
    Float(Number<S>),
    /// `true` / `false`
    Bool(Bool<S>),
    /// A literal the grammar takes nowhere (a char, a byte string), as
    /// written: kept so the error about it can point at it.
    Other(Word<S>),
}

impl<S: Copy> Lit<S> {
    /// Where it was written.
    pub fn span(&self) -> S {
        match self {
            Lit::Str(s) => s.span,
            Lit::Int(n) | Lit::Float(n) => n.span,
            Lit::Bool(b) => b.span,
            Lit::Other(w) => w.span,
        }
    }
}

/// A table, column or constraint name: an identifier, or a string for a name
/// that is not a Rust identifier.
#[derive(Debug, Clone, PartialEq)]
pub enum Name<S = ()> {
    /// `users`, `r#type`
    Ident(Word<S>),
    /// `"old users"`
    Str(Str<S>),
}

impl<S: Default> Name<S> {
    /// `name` as the grammar writes it: a bare identifier when it is one, a
    /// string literal otherwise.
    pub fn new(name: &str) -> Name<S> {
        if is_rust_ident(name) {
            Name::Ident(Word::from(name))
        } else {
            Name::Str(Str::from(name))
        }
    }

    /// `name` as a string literal, whatever it is.
    pub fn string(name: &str) -> Name<S> {
        Name::Str(Str::from(name))
    }
}

impl<S: Copy> Name<S> {
    /// The name as written (without `r#` or quotes).
    pub fn value(&self) -> String {
        match self {
            Name::Ident(i) => i.unraw().to_string(),
            Name::Str(s) => s.text.clone(),
        }
    }

    /// Where it was written.
    pub fn span(&self) -> S {
        match self {
            Name::Ident(i) => i.span,
            Name::Str(s) => s.span,
        }
    }
}

/// An argument of a column type or a modifier.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg<S = ()> {
    /// A bare identifier: a name, a referential action, an array element type or `null`.
    Ident(Word<S>),
    /// A string, integer, float or boolean literal.
    Lit(Lit<S>),
    /// A negative number: the `-` and the literal, `-1`, `-2.5`.
    Neg(S, Lit<S>),
    /// A list in brackets: `["admin", "user"]`.
    List(S, Vec<Arg<S>>),
}

impl<S: Copy> Arg<S> {
    /// Where it starts.
    pub fn span(&self) -> S {
        match self {
            Arg::Ident(i) => i.span,
            Arg::Lit(l) => l.span(),
            Arg::Neg(minus, _) => *minus,
            Arg::List(bracket, _) => *bracket,
        }
    }

    /// The last token's position (for errors covering the whole argument).
    pub fn end_span(&self) -> S {
        match self {
            Arg::Neg(_, l) => l.span(),
            other => other.span(),
        }
    }

    /// The argument as a name (an identifier or a string).
    pub fn as_name(&self) -> Option<Name<S>> {
        match self {
            Arg::Ident(i) => Some(Name::Ident(i.clone())),
            Arg::Lit(Lit::Str(s)) => Some(Name::Str(s.clone())),
            _ => None,
        }
    }
}

impl<S: Default> Arg<S> {
    /// A bare identifier argument.
    pub fn ident(text: &str) -> Arg<S> {
        Arg::Ident(Word::from(text))
    }

    /// A name argument (an identifier, or a string when it is not one).
    pub fn name(name: &str) -> Arg<S> {
        match Name::new(name) {
            Name::Ident(w) => Arg::Ident(w),
            Name::Str(s) => Arg::Lit(Lit::Str(s)),
        }
    }

    /// A string literal argument.
    pub fn string(text: &str) -> Arg<S> {
        Arg::Lit(Lit::Str(Str::from(text)))
    }

    /// An integer literal argument (negative numbers become [`Arg::Neg`]).
    pub fn int(value: i128) -> Arg<S> {
        let lit = Lit::Int(Number {
            digits: value.unsigned_abs().to_string(),
            span: S::default(),
        });
        if value < 0 {
            Arg::Neg(S::default(), lit)
        } else {
            Arg::Lit(lit)
        }
    }

    /// A float literal argument from its text (`"2.5"`, `"-1e-9"`).
    pub fn float(text: &str) -> Arg<S> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let lit = Lit::Float(Number {
            digits: digits.to_string(),
            span: S::default(),
        });
        if negative {
            Arg::Neg(S::default(), lit)
        } else {
            Arg::Lit(lit)
        }
    }

    /// A `true` / `false` argument.
    pub fn bool(value: bool) -> Arg<S> {
        Arg::Lit(Lit::Bool(Bool {
            value,
            span: S::default(),
        }))
    }

    /// A `[..]` list argument.
    pub fn list(items: Vec<Arg<S>>) -> Arg<S> {
        Arg::List(S::default(), items)
    }
}

impl<S: Default> From<u32> for Arg<S> {
    fn from(value: u32) -> Arg<S> {
        Arg::int(value.into())
    }
}

impl<S: Default> From<u8> for Arg<S> {
    fn from(value: u8) -> Arg<S> {
        Arg::int(value.into())
    }
}

/// A modifier: `.name(args)`, e.g. `.references(users, id)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Modifier<S = ()> {
    /// The modifier's name.
    pub name: Word<S>,
    /// Where its `)` is.
    pub close: S,
    /// Its arguments.
    pub args: Vec<Arg<S>>,
}

impl<S: Default> Modifier<S> {
    /// `.name(args)`.
    pub fn new(name: &str, args: Vec<Arg<S>>) -> Modifier<S> {
        Modifier {
            name: Word::from(name),
            close: S::default(),
            args,
        }
    }
}

/// A column definition: the column type, its parenthesised arguments and the
/// chained modifiers, e.g. `decimal(price, 10, 2).nullable().default(0)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef<S = ()> {
    /// The column type as written (`string`, `big_integer`, ...).
    pub kind: Word<S>,
    /// Where the `)` after the type's arguments is.
    pub close: S,
    /// The column name: the first argument when it is a name (`id()` has none).
    pub name: Option<Name<S>>,
    /// The arguments after the name (`150` in `string(email, 150)`).
    pub args: Vec<Arg<S>>,
    /// The modifiers, in the order written.
    pub modifiers: Vec<Modifier<S>>,
}

impl<S: Copy> ColumnDef<S> {
    /// Where the column definition ends before its modifiers (`string(email)`).
    pub fn call_end(&self) -> S {
        self.close
    }
}

impl<S: Default> ColumnDef<S> {
    /// `kind(name, args..)` without modifiers.
    pub fn new(kind: &str, name: Option<Name<S>>, args: Vec<Arg<S>>) -> ColumnDef<S> {
        ColumnDef {
            kind: Word::from(kind),
            close: S::default(),
            name,
            args,
            modifiers: Vec::new(),
        }
    }

    /// The definition with `.name(args)` appended.
    pub fn with(mut self, name: &str, args: Vec<Arg<S>>) -> ColumnDef<S> {
        self.modifiers.push(Modifier::new(name, args));
        self
    }
}

/// An index over columns, with an explicit name or the conventional one.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef<S = ()> {
    /// The item's keyword as written (`index`, `add_unique_index`, ...).
    pub keyword: Word<S>,
    /// A unique index.
    pub unique: bool,
    /// The explicit name (`index_named("name", ..)`).
    pub name: Option<Str<S>>,
    /// The indexed columns.
    pub columns: Vec<Name<S>>,
}

impl<S: Default> IndexDef<S> {
    /// An index; the printer picks the keyword from `unique`, `name` and the
    /// block it is written in.
    pub fn new(unique: bool, name: Option<&str>, columns: &[String]) -> IndexDef<S> {
        let keyword = match (unique, name.is_some()) {
            (false, false) => "index",
            (true, false) => "unique_index",
            (false, true) => "index_named",
            (true, true) => "unique_index_named",
        };
        IndexDef {
            keyword: Word::from(keyword),
            unique,
            name: name.map(Str::from),
            columns: columns.iter().map(|c| Name::new(c)).collect(),
        }
    }
}

/// One item of a `create` block.
#[derive(Debug, Clone, PartialEq)]
pub enum TableItem<S = ()> {
    /// A column with its modifiers: `string(email, 150).unique()`, `id()`, ...
    Column(ColumnDef<S>),
    /// `timestamps()`: `created_at` and `updated_at`.
    Timestamps(Word<S>),
    /// `soft_deletes()`: `deleted_at`.
    SoftDeletes(Word<S>),
    /// `history()`: the hidden audit columns, the history table and its triggers.
    History(Word<S>),
    /// `without_rowid()`
    WithoutRowid(Word<S>),
    /// `primary(a, b)`
    Primary {
        /// The `primary` keyword.
        keyword: Word<S>,
        /// The key's columns.
        columns: Vec<Name<S>>,
    },
    /// `index(..)`, `unique_index(..)`, `index_named("name", ..)`, `unique_index_named("name", ..)`
    Index(IndexDef<S>),
    /// `check("expression")` or `check_named("name", "expression")`
    Check {
        /// The explicit name.
        name: Option<Str<S>>,
        /// The portable SQL expression.
        expression: Str<S>,
    },
}

/// What a history item of an `alter` block does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryAction {
    /// `add_history()`
    Add,
    /// `refresh_history()`
    Refresh,
    /// `drop_history()`
    Drop,
}

/// One item of an `alter` block.
#[derive(Debug, Clone, PartialEq)]
pub enum AlterItem<S = ()> {
    /// `add <column definition>`
    Add {
        /// The column added.
        column: ColumnDef<S>,
    },
    /// `drop_column(col)`
    DropColumn {
        /// The column dropped.
        column: Name<S>,
    },
    /// `rename_column(from, to)`
    RenameColumn {
        /// The current name.
        from: Name<S>,
        /// The new name.
        to: Name<S>,
    },
    /// `add_index(..)`, `add_unique_index(..)`, `add_index_named("name", ..)`
    AddIndex(IndexDef<S>),
    /// `drop_index(name)` or `drop_index("name")`
    DropIndex {
        /// The index dropped.
        name: Name<S>,
    },
    /// `add_check("name", "expression")`
    AddCheck {
        /// The check's name.
        name: Str<S>,
        /// The portable SQL expression.
        expression: Str<S>,
    },
    /// `drop_check(name)`
    DropCheck {
        /// The check dropped.
        name: Name<S>,
    },
    /// `drop_foreign(col)` (the foreign key on that column) or `drop_foreign("fk_name")`
    DropForeign {
        /// The column, or the key's name as a string.
        target: Name<S>,
    },
    /// `add_history()`, `refresh_history()` or `drop_history()`.
    History {
        /// The keyword.
        keyword: Word<S>,
        /// What it does.
        action: HistoryAction,
    },
}

/// One statement of a `schema!`.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement<S = ()> {
    /// `create <table> { <table item>; ... }` (a `;` after the block is allowed).
    Create {
        /// The table created.
        table: Name<S>,
        /// Its columns, keys, indexes and checks.
        items: Vec<TableItem<S>>,
    },
    /// `alter <table> { <alter item>; ... }`
    Alter {
        /// The table altered.
        table: Name<S>,
        /// The changes, in order.
        items: Vec<AlterItem<S>>,
    },
    /// `drop <table>;`
    Drop {
        /// The table dropped.
        table: Name<S>,
    },
    /// `drop_if_exists <table>;`
    DropIfExists {
        /// The table dropped.
        table: Name<S>,
    },
    /// `rename <table> to <new>;`
    Rename {
        /// The current name.
        from: Name<S>,
        /// The new name.
        to: Name<S>,
    },
    /// `sql("portable SQL");`
    Sql {
        /// The SQL.
        sql: Str<S>,
    },
}

/// Rust keywords (strict, reserved and the 2024 edition's), which cannot be
/// written as a bare identifier.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut",
    "pub", "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Whether `name` can be written as a bare Rust identifier.
pub fn is_rust_ident(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && name != "_"
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !KEYWORDS.contains(&name)
}
