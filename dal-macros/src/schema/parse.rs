//! The `schema!` syntax tree: a plain `syn::Parse` AST that checks only the
//! shape of the input. What the names and values mean (column types, modifiers,
//! argument counts of columns, referential actions, ranges, references) is
//! checked by `lower`.
//!
//! Parsing recovers at every `;` (between statements and between the items of a
//! block), so one malformed item does not hide the others: every syntax error is
//! reported, each on its own token.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, braced, bracketed, parenthesized, token};

use super::{error_between, unknown_name};

/// The statements a `schema!` takes.
pub(crate) const STATEMENTS: &[&str] =
    &["create", "alter", "drop", "drop_if_exists", "rename", "sql"];

/// The items of a `create` block that are not columns.
pub(crate) const TABLE_ITEMS: &[&str] = &[
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
pub(crate) const ALTER_ITEMS: &[&str] = &[
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

/// The whole input of `schema! { ... }`: its statements, in order.
pub(crate) struct SchemaInput {
    pub statements: Vec<Statement>,
}

/// A table, column or constraint name: a Rust identifier (keywords and raw
/// identifiers allowed: `type`, `r#type`) or a string literal for a name that is
/// not a Rust identifier. Whether it is a valid SQL identifier is checked by `lower`.
#[derive(Clone)]
pub(crate) enum Name {
    Ident(Ident),
    Str(LitStr),
}

impl Name {
    /// The name as written (without `r#` or quotes).
    pub fn value(&self) -> String {
        match self {
            Name::Ident(i) => i.unraw().to_string(),
            Name::Str(s) => s.value(),
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Name::Ident(i) => i.span(),
            Name::Str(s) => s.span(),
        }
    }
}

/// One statement of the script.
pub(crate) enum Statement {
    /// `create <table> { <table item>; ... }` (a `;` after the block is allowed).
    Create { table: Name, items: Vec<TableItem> },
    /// `alter <table> { <alter item>; ... }`
    Alter { table: Name, items: Vec<AlterItem> },
    /// `drop <table>;`
    Drop { table: Name },
    /// `drop_if_exists <table>;`
    DropIfExists { table: Name },
    /// `rename <table> to <new>;`
    Rename { from: Name, to: Name },
    /// `sql("portable SQL");`
    Sql { sql: LitStr },
}

/// One item of a `create` block.
pub(crate) enum TableItem {
    /// A column with its modifiers: `string(email, 150).unique()`, `id()`, ...
    Column(ColumnDef),
    /// `timestamps()`: `created_at` and `updated_at`.
    Timestamps(Ident),
    /// `soft_deletes()`: `deleted_at`.
    SoftDeletes(Ident),
    /// `history()`: the hidden audit columns, the history table and its triggers.
    History(Ident),
    /// `without_rowid()`
    WithoutRowid(Ident),
    /// `primary(a, b)`
    Primary { keyword: Ident, columns: Vec<Name> },
    /// `index(..)`, `unique_index(..)`, `index_named("name", ..)`, `unique_index_named("name", ..)`
    Index(IndexDef),
    /// `check("expression")` or `check_named("name", "expression")`
    Check {
        name: Option<LitStr>,
        expression: LitStr,
    },
}

/// An index over columns, with an explicit name or the conventional one.
pub(crate) struct IndexDef {
    pub keyword: Ident,
    pub unique: bool,
    pub name: Option<LitStr>,
    pub columns: Vec<Name>,
}

/// A column definition: the column type, its parenthesised arguments and the
/// chained modifiers, e.g. `decimal(price, 10, 2).nullable().default(0)`.
pub(crate) struct ColumnDef {
    /// The column type as written (`string`, `big_integer`, ...).
    pub kind: Ident,
    /// The parentheses after the type.
    pub paren: token::Paren,
    /// The column name: the first argument when it is a name (`id()` has none).
    pub name: Option<Name>,
    /// The arguments after the name (`150` in `string(email, 150)`).
    pub args: Vec<Arg>,
    /// The modifiers, in the order written.
    pub modifiers: Vec<Modifier>,
}

impl ColumnDef {
    /// Where the column definition ends before its modifiers (`string(email)`).
    pub fn call_end(&self) -> Span {
        self.paren.span.close()
    }
}

/// A modifier: `.name(args)`, e.g. `.references(users, id)`.
pub(crate) struct Modifier {
    pub name: Ident,
    pub paren: token::Paren,
    pub args: Vec<Arg>,
}

/// An argument of a column type or a modifier.
#[derive(Clone)]
pub(crate) enum Arg {
    /// A bare identifier: a name, a referential action or `null`.
    Ident(Ident),
    /// A string, integer, float or boolean literal.
    Lit(syn::Lit),
    /// A negative number: `-1`, `-2.5`.
    Neg(Token![-], syn::Lit),
    /// A list: `["admin", "user"]`.
    List(token::Bracket, Vec<Arg>),
}

impl Arg {
    pub fn span(&self) -> Span {
        match self {
            Arg::Ident(i) => i.span(),
            Arg::Lit(l) => l.span(),
            Arg::Neg(m, _) => m.span,
            Arg::List(b, _) => b.span.join(),
        }
    }

    /// The last token's span (for errors covering the whole argument).
    pub fn end_span(&self) -> Span {
        match self {
            Arg::Neg(_, l) => l.span(),
            other => other.span(),
        }
    }

    /// The argument as a name (an identifier or a string).
    pub fn as_name(&self) -> Option<Name> {
        match self {
            Arg::Ident(i) => Some(Name::Ident(i.clone())),
            Arg::Lit(syn::Lit::Str(s)) => Some(Name::Str(s.clone())),
            _ => None,
        }
    }
}

/// One item of an `alter` block.
pub(crate) enum AlterItem {
    /// `add <column definition>`
    Add { column: ColumnDef },
    /// `drop_column(col)`
    DropColumn { column: Name },
    /// `rename_column(from, to)`
    RenameColumn { from: Name, to: Name },
    /// `add_index(..)`, `add_unique_index(..)`, `add_index_named("name", ..)`
    AddIndex(IndexDef),
    /// `drop_index(name)` or `drop_index("name")`
    DropIndex { name: Name },
    /// `add_check("name", "expression")`
    AddCheck { name: LitStr, expression: LitStr },
    /// `drop_check(name)`
    DropCheck { name: Name },
    /// `drop_foreign(col)` (the foreign key on that column) or `drop_foreign("fk_name")`
    DropForeign { target: Name },
    /// `add_history()`, `refresh_history()` or `drop_history()`.
    History {
        keyword: Ident,
        action: HistoryAction,
    },
}

/// What a history item of an `alter` block does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum HistoryAction {
    Add,
    Refresh,
    Drop,
}

// ---------------------------------------------------------------------------
// Recovery: split at `;` and parse each piece on its own.

/// Split a statement list: a statement ends at `;`, or after a `{ .. }` block
/// (taking an optional `;` right after it).
fn split_statements(tokens: TokenStream) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        let ends = match &tt {
            TokenTree::Punct(p) => p.as_char() == ';',
            TokenTree::Group(g) => g.delimiter() == Delimiter::Brace,
            _ => false,
        };
        let is_block = matches!(&tt, TokenTree::Group(_));
        current.push(tt);
        if ends {
            if is_block
                && let Some(TokenTree::Punct(p)) = iter.peek()
                && p.as_char() == ';'
            {
                current.extend(iter.next());
            }
            out.push(std::mem::take(&mut current).into_iter().collect());
        }
    }
    if !current.is_empty() {
        out.push(current.into_iter().collect());
    }
    out
}

/// Split the items of a block at `;` (each piece keeps its `;`).
fn split_items(tokens: TokenStream) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let mut current: Vec<TokenTree> = Vec::new();
    for tt in tokens {
        let ends = matches!(&tt, TokenTree::Punct(p) if p.as_char() == ';');
        current.push(tt);
        if ends {
            out.push(std::mem::take(&mut current).into_iter().collect());
        }
    }
    if !current.is_empty() {
        out.push(current.into_iter().collect());
    }
    out
}

/// Parse every piece, keeping the ones that parse and combining the errors of the others.
fn parse_each<T: Parse>(pieces: Vec<TokenStream>) -> syn::Result<Vec<T>> {
    let mut out = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for piece in pieces {
        // a stray `;` is harmless
        if is_lone_semicolon(&piece) {
            continue;
        }
        match syn::parse2::<T>(piece) {
            Ok(v) => out.push(v),
            Err(e) => match &mut errors {
                Some(all) => all.combine(e),
                None => errors = Some(e),
            },
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn is_lone_semicolon(piece: &TokenStream) -> bool {
    let mut it = piece.clone().into_iter();
    matches!((it.next(), it.next()), (Some(TokenTree::Punct(p)), None) if p.as_char() == ';')
}

// ---------------------------------------------------------------------------
// Parse impls.

impl Parse for SchemaInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let tokens: TokenStream = input.parse()?;
        Ok(SchemaInput {
            statements: parse_each(split_statements(tokens))?,
        })
    }
}

impl Parse for Name {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            Ok(Name::Str(input.parse()?))
        } else if input.peek(Ident::peek_any) {
            Ok(Name::Ident(Ident::parse_any(input)?))
        } else {
            Err(input
                .error("expected a name: an identifier, or a string for a name that is not one"))
        }
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(token::Bracket) {
            let content;
            let bracket = bracketed!(content in input);
            Ok(Arg::List(bracket, parse_args(&content)?))
        } else if input.peek(Token![-]) {
            let minus = input.parse()?;
            let lit: syn::Lit = input.parse()?;
            Ok(Arg::Neg(minus, lit))
        } else if input.peek(syn::Lit) {
            Ok(Arg::Lit(input.parse()?))
        } else if input.peek(Ident::peek_any) {
            Ok(Arg::Ident(Ident::parse_any(input)?))
        } else {
            Err(input.error("expected a name, a literal or a `[..]` list"))
        }
    }
}

/// A comma-separated argument list (a trailing comma is allowed).
fn parse_args(input: ParseStream) -> syn::Result<Vec<Arg>> {
    Ok(Punctuated::<Arg, Token![,]>::parse_terminated(input)?
        .into_iter()
        .collect())
}

/// The end of a statement or an item: a `;`, or nothing at the very end.
fn parse_terminator(input: ParseStream, what: &str) -> syn::Result<()> {
    if input.is_empty() {
        return Ok(());
    }
    if input.peek(Token![;]) {
        input.parse::<Token![;]>()?;
        if input.is_empty() {
            return Ok(());
        }
    }
    let found = input
        .cursor()
        .token_tree()
        .map(|(tt, _)| match tt {
            TokenTree::Group(g) => match g.delimiter() {
                Delimiter::Brace => "{".to_string(),
                Delimiter::Bracket => "[".to_string(),
                Delimiter::Parenthesis => "(".to_string(),
                Delimiter::None => g.stream().to_string(),
            },
            other => other.to_string(),
        })
        .unwrap_or_default();
    Err(input.error(format!("expected `;` after the {what}, found `{found}`")))
}

/// `keyword(...)`: the parentheses and their content, with a clear error when missing.
fn parse_parens<'a>(
    keyword: &Ident,
    usage: &str,
    input: ParseStream<'a>,
) -> syn::Result<(token::Paren, syn::parse::ParseBuffer<'a>)> {
    if !input.peek(token::Paren) {
        return Err(syn::Error::new(
            keyword.span(),
            format!("expected `(` after `{keyword}`: write `{usage}`"),
        ));
    }
    let content;
    let paren = parenthesized!(content in input);
    Ok((paren, content))
}

impl Parse for Statement {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(input.error(format!("expected a statement: {}", STATEMENTS.join(", "))));
        }
        let keyword = Ident::parse_any(input)?;
        let statement = match keyword.to_string().as_str() {
            "create" => {
                let table = input.parse()?;
                let content;
                braced_or_error(input, &keyword, "create <table> { <table item>; ... }")?;
                braced!(content in input);
                let tokens: TokenStream = content.parse()?;
                Statement::Create {
                    table,
                    items: parse_each(split_items(tokens))?,
                }
            }
            "alter" => {
                let table = input.parse()?;
                let content;
                braced_or_error(input, &keyword, "alter <table> { <alter item>; ... }")?;
                braced!(content in input);
                let tokens: TokenStream = content.parse()?;
                Statement::Alter {
                    table,
                    items: parse_each(split_items(tokens))?,
                }
            }
            "drop" => Statement::Drop {
                table: input.parse()?,
            },
            "drop_if_exists" => Statement::DropIfExists {
                table: input.parse()?,
            },
            "rename" => {
                let from = input.parse()?;
                let to_keyword = if input.peek(Ident::peek_any) {
                    Some(Ident::parse_any(input)?)
                } else {
                    None
                };
                if to_keyword.as_ref().is_none_or(|k| k != "to") {
                    let span = to_keyword.map_or_else(|| input.span(), |k| k.span());
                    return Err(syn::Error::new(
                        span,
                        "expected `to`: write `rename <table> to <new name>;`",
                    ));
                }
                Statement::Rename {
                    from,
                    to: input.parse()?,
                }
            }
            "sql" => {
                let (paren, content) = parse_parens(&keyword, "sql(\"portable SQL\")", input)?;
                let sql = if content.peek(LitStr) {
                    content.parse::<LitStr>()?
                } else {
                    return Err(error_between(
                        keyword.span(),
                        paren.span.close(),
                        "`sql` takes one string literal: sql(\"UPDATE [users] SET [active] = TRUE\")",
                    ));
                };
                if !content.is_empty() {
                    return Err(content.error("`sql` takes one string literal"));
                }
                Statement::Sql { sql }
            }
            other => {
                return Err(syn::Error::new(
                    keyword.span(),
                    unknown_name("statement", other, STATEMENTS, &[("table", "create")]),
                ));
            }
        };
        let braced_statement = matches!(
            statement,
            Statement::Create { .. } | Statement::Alter { .. }
        );
        if braced_statement {
            if input.peek(Token![;]) {
                input.parse::<Token![;]>()?;
            }
            if !input.is_empty() {
                return Err(input.error("expected the next statement after `}`"));
            }
            Ok(statement)
        } else {
            parse_terminator(input, "statement")?;
            Ok(statement)
        }
    }
}

fn braced_or_error(input: ParseStream, keyword: &Ident, usage: &str) -> syn::Result<()> {
    if input.peek(token::Brace) {
        Ok(())
    } else {
        Err(input.error(format!(
            "expected `{{` after the table name of `{keyword}`: write `{usage}`"
        )))
    }
}

/// The usage line of a `create` or `alter` item, for error messages.
fn usage(keyword: &str) -> &'static str {
    match keyword {
        "timestamps" => "timestamps()",
        "soft_deletes" => "soft_deletes()",
        "history" => "history()",
        "add_history" => "add_history()",
        "refresh_history" => "refresh_history()",
        "drop_history" => "drop_history()",
        "without_rowid" => "without_rowid()",
        "primary" => "primary(a, b)",
        "index" => "index(a, b)",
        "unique_index" => "unique_index(a, b)",
        "index_named" => "index_named(\"name\", a, b)",
        "unique_index_named" => "unique_index_named(\"name\", a, b)",
        "check" => "check(\"[age] >= 0\")",
        "check_named" => "check_named(\"name\", \"[age] >= 0\")",
        "add" => "add string(nick, 40).nullable()",
        "drop_column" => "drop_column(col)",
        "rename_column" => "rename_column(from, to)",
        "add_index" => "add_index(a, b)",
        "add_unique_index" => "add_unique_index(a, b)",
        "add_index_named" => "add_index_named(\"name\", a, b)",
        "drop_index" => "drop_index(name)",
        "add_check" => "add_check(\"name\", \"[age] >= 0\")",
        "drop_check" => "drop_check(name)",
        "drop_foreign" => "drop_foreign(col)",
        _ => "",
    }
}

/// `keyword()` with nothing inside.
fn parse_no_args(keyword: &Ident, input: ParseStream) -> syn::Result<()> {
    let (_, content) = parse_parens(keyword, usage(&keyword.to_string()), input)?;
    if !content.is_empty() {
        return Err(content.error(format!("`{keyword}()` takes no arguments")));
    }
    Ok(())
}

/// Arguments that must all be names, at least one.
fn names_of(keyword: &Ident, paren: &token::Paren, args: Vec<Arg>) -> syn::Result<Vec<Name>> {
    if args.is_empty() {
        return Err(error_between(
            keyword.span(),
            paren.span.close(),
            format!(
                "`{keyword}` needs at least one column: {}",
                usage(&keyword.to_string())
            ),
        ));
    }
    args.into_iter()
        .map(|a| {
            a.as_name().ok_or_else(|| {
                syn::Error::new(
                    a.span(),
                    format!("expected a column name in `{keyword}(..)`"),
                )
            })
        })
        .collect()
}

/// Exactly `n` arguments, else an error showing the usage.
fn exactly(
    keyword: &Ident,
    paren: &token::Paren,
    args: &[Arg],
    n: usize,
    what: &str,
) -> syn::Result<()> {
    if args.len() == n {
        return Ok(());
    }
    let message = format!("`{keyword}` takes {what}: {}", usage(&keyword.to_string()));
    Err(match args.get(n) {
        Some(extra) => syn::Error::new(extra.span(), message),
        None => error_between(keyword.span(), paren.span.close(), message),
    })
}

fn string_arg(keyword: &Ident, arg: &Arg, what: &str) -> syn::Result<LitStr> {
    match arg {
        Arg::Lit(syn::Lit::Str(s)) => Ok(s.clone()),
        other => Err(syn::Error::new(
            other.span(),
            format!(
                "expected {what} as a string literal: {}",
                usage(&keyword.to_string())
            ),
        )),
    }
}

fn name_arg(keyword: &Ident, arg: &Arg) -> syn::Result<Name> {
    arg.as_name().ok_or_else(|| {
        syn::Error::new(
            arg.span(),
            format!("expected a name: {}", usage(&keyword.to_string())),
        )
    })
}

impl IndexDef {
    /// The arguments of `index`, `unique_index`, `index_named`, `unique_index_named`
    /// and their `add_` forms.
    fn parse_args(keyword: Ident, input: ParseStream) -> syn::Result<IndexDef> {
        let kw = keyword.to_string();
        let kw = kw.strip_prefix("add_").unwrap_or(&kw);
        let unique = kw.starts_with("unique_");
        let named = kw.ends_with("_named");
        let (paren, content) = parse_parens(&keyword, usage(&keyword.to_string()), input)?;
        let mut args = parse_args(&content)?;
        let name = if named {
            if args.is_empty() {
                return Err(error_between(
                    keyword.span(),
                    paren.span.close(),
                    format!(
                        "`{keyword}` takes the index name and at least one column: {}",
                        usage(&keyword.to_string())
                    ),
                ));
            }
            Some(string_arg(
                &keyword,
                &args.remove(0),
                "the index name first",
            )?)
        } else {
            None
        };
        let columns = names_of(&keyword, &paren, args)?;
        Ok(IndexDef {
            keyword,
            unique,
            name,
            columns,
        })
    }
}

impl ColumnDef {
    /// A column definition after its type: `(name, args..)` and the modifiers.
    fn parse_after(kind: Ident, input: ParseStream) -> syn::Result<ColumnDef> {
        if !input.peek(token::Paren) {
            return Err(syn::Error::new(
                kind.span(),
                format!(
                    "expected `(` after `{kind}`: a column is declared like `string(email, 150)`"
                ),
            ));
        }
        let content;
        let paren = parenthesized!(content in input);
        let mut args = parse_args(&content)?;
        let name = match args.first().and_then(Arg::as_name) {
            Some(n) => {
                args.remove(0);
                Some(n)
            }
            None => None,
        };
        let mut modifiers = Vec::new();
        while input.peek(Token![.]) {
            input.parse::<Token![.]>()?;
            if !input.peek(Ident::peek_any) {
                return Err(input.error("expected a modifier after `.`, like `.nullable()`"));
            }
            let name = Ident::parse_any(input)?;
            if !input.peek(token::Paren) {
                return Err(syn::Error::new(
                    name.span(),
                    format!(
                        "expected `(` after `.{name}`: modifiers are written like calls, `.{name}()`"
                    ),
                ));
            }
            let content;
            let paren = parenthesized!(content in input);
            modifiers.push(Modifier {
                name,
                paren,
                args: parse_args(&content)?,
            });
        }
        Ok(ColumnDef {
            kind,
            paren,
            name,
            args,
            modifiers,
        })
    }
}

impl Parse for TableItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(input.error(
                "expected a column like `string(email, 150)` or a table item like `index(a, b)`",
            ));
        }
        let keyword = Ident::parse_any(input)?;
        let kw = keyword.to_string();
        let item = match kw.as_str() {
            "timestamps" => {
                parse_no_args(&keyword, input)?;
                TableItem::Timestamps(keyword)
            }
            "soft_deletes" => {
                parse_no_args(&keyword, input)?;
                TableItem::SoftDeletes(keyword)
            }
            "without_rowid" => {
                parse_no_args(&keyword, input)?;
                TableItem::WithoutRowid(keyword)
            }
            "history" => {
                parse_no_args(&keyword, input)?;
                TableItem::History(keyword)
            }
            "primary" => {
                let (paren, content) = parse_parens(&keyword, usage(&kw), input)?;
                let columns = names_of(&keyword, &paren, parse_args(&content)?)?;
                TableItem::Primary { keyword, columns }
            }
            "index" | "unique_index" | "index_named" | "unique_index_named" => {
                TableItem::Index(IndexDef::parse_args(keyword, input)?)
            }
            "check" | "check_named" => {
                let (paren, content) = parse_parens(&keyword, usage(&kw), input)?;
                let args = parse_args(&content)?;
                if kw == "check" {
                    exactly(&keyword, &paren, &args, 1, "one string, the expression")?;
                    let expression = string_arg(&keyword, &args[0], "the expression")?;
                    TableItem::Check {
                        name: None,
                        expression,
                    }
                } else {
                    exactly(&keyword, &paren, &args, 2, "a name and an expression")?;
                    let name = string_arg(&keyword, &args[0], "the check name")?;
                    let expression = string_arg(&keyword, &args[1], "the expression")?;
                    TableItem::Check {
                        name: Some(name),
                        expression,
                    }
                }
            }
            "add_history" => {
                return Err(syn::Error::new(
                    keyword.span(),
                    "`add_history` belongs in an `alter <table> { .. }` block; in `create`, write `history()`",
                ));
            }
            alter if ALTER_ITEMS.contains(&alter) => {
                return Err(syn::Error::new(
                    keyword.span(),
                    format!(
                        "`{alter}` belongs in an `alter <table> {{ .. }}` block; in `create`, declare columns, indexes and checks directly"
                    ),
                ));
            }
            _ => TableItem::Column(ColumnDef::parse_after(keyword, input)?),
        };
        if !matches!(item, TableItem::Column(_)) && input.peek(Token![.]) {
            return Err(input.error(format!("modifiers apply to columns; `{kw}(..)` takes none")));
        }
        parse_terminator(input, "item")?;
        Ok(item)
    }
}

impl Parse for AlterItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if !input.peek(Ident::peek_any) {
            return Err(input.error(format!(
                "expected an alter item: {}",
                ALTER_ITEMS.join(", ")
            )));
        }
        let keyword = Ident::parse_any(input)?;
        let kw = keyword.to_string();
        let item = match kw.as_str() {
            "add" => {
                if !input.peek(Ident::peek_any) {
                    return Err(input.error(
                        "expected a column definition after `add`, like `add string(nick, 40).nullable()`",
                    ));
                }
                let kind = Ident::parse_any(input)?;
                AlterItem::Add {
                    column: ColumnDef::parse_after(kind, input)?,
                }
            }
            "add_index" | "add_unique_index" | "add_index_named" => {
                AlterItem::AddIndex(IndexDef::parse_args(keyword, input)?)
            }
            "drop_column" | "drop_index" | "drop_check" | "drop_foreign" => {
                let (paren, content) = parse_parens(&keyword, usage(&kw), input)?;
                let args = parse_args(&content)?;
                exactly(&keyword, &paren, &args, 1, "one name")?;
                let name = name_arg(&keyword, &args[0])?;
                match kw.as_str() {
                    "drop_column" => AlterItem::DropColumn { column: name },
                    "drop_index" => AlterItem::DropIndex { name },
                    "drop_check" => AlterItem::DropCheck { name },
                    _ => AlterItem::DropForeign { target: name },
                }
            }
            "add_history" | "refresh_history" | "drop_history" => {
                parse_no_args(&keyword, input)?;
                let action = match kw.as_str() {
                    "add_history" => HistoryAction::Add,
                    "refresh_history" => HistoryAction::Refresh,
                    _ => HistoryAction::Drop,
                };
                AlterItem::History { keyword, action }
            }
            "rename_column" => {
                let (paren, content) = parse_parens(&keyword, usage(&kw), input)?;
                let args = parse_args(&content)?;
                exactly(&keyword, &paren, &args, 2, "the current and the new name")?;
                let from = name_arg(&keyword, &args[0])?;
                let to = name_arg(&keyword, &args[1])?;
                AlterItem::RenameColumn { from, to }
            }
            "add_check" => {
                let (paren, content) = parse_parens(&keyword, usage(&kw), input)?;
                let args = parse_args(&content)?;
                exactly(&keyword, &paren, &args, 2, "a name and an expression")?;
                let name = string_arg(&keyword, &args[0], "the check name")?;
                let expression = string_arg(&keyword, &args[1], "the expression")?;
                AlterItem::AddCheck { name, expression }
            }
            other => {
                let message = match other {
                    "history" => {
                        "`history()` belongs in `create`; in `alter` write `add_history()`"
                            .to_string()
                    }
                    "index" | "unique_index" | "index_named" | "check" | "check_named" => format!(
                        "`{other}` belongs in `create`; in `alter` write `add_{}`",
                        if other.starts_with("check") {
                            "check(\"name\", \"expression\")".to_string()
                        } else {
                            format!("{other}(..)")
                        }
                    ),
                    _ if input.peek(token::Paren)
                        && !ALTER_ITEMS
                            .iter()
                            .any(|a| super::edit_distance(other, a) <= 2) =>
                    {
                        format!(
                            "unknown alter item `{other}`; to add a column write `add {other}(..)`; alter items are: {}",
                            ALTER_ITEMS.join(", ")
                        )
                    }
                    _ => unknown_name("alter item", other, ALTER_ITEMS, &[]),
                };
                return Err(syn::Error::new(keyword.span(), message));
            }
        };
        parse_terminator(input, "item")?;
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> SchemaInput {
        syn::parse_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn error(s: &str) -> String {
        match syn::parse_str::<SchemaInput>(s) {
            Ok(_) => panic!("`{s}` should not parse"),
            Err(e) => e
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn items(s: &str) -> Vec<TableItem> {
        match parse(&format!("create t {{ {s} }}")).statements.remove(0) {
            Statement::Create { items, .. } => items,
            _ => unreachable!(),
        }
    }

    fn column(s: &str) -> ColumnDef {
        match items(s).remove(0) {
            TableItem::Column(c) => c,
            _ => panic!("`{s}` is not a column"),
        }
    }

    fn alter_items(s: &str) -> Vec<AlterItem> {
        match parse(&format!("alter t {{ {s} }}")).statements.remove(0) {
            Statement::Alter { items, .. } => items,
            _ => unreachable!(),
        }
    }

    #[test]
    fn empty_input_has_no_statements() {
        assert!(parse("").statements.is_empty());
    }

    #[test]
    fn every_statement_form() {
        let s = parse(
            r#"create users { id(); }
               alter users { drop_column(x); }
               drop users;
               drop_if_exists "old users";
               rename a to b;
               sql("DELETE FROM [b]");"#,
        );
        assert_eq!(s.statements.len(), 6);
        assert!(
            matches!(&s.statements[0], Statement::Create { table, items } if table.value() == "users" && items.len() == 1)
        );
        assert!(matches!(&s.statements[1], Statement::Alter { items, .. } if items.len() == 1));
        assert!(
            matches!(&s.statements[2], Statement::Drop { table, .. } if table.value() == "users")
        );
        assert!(
            matches!(&s.statements[3], Statement::DropIfExists { table } if table.value() == "old users")
        );
        assert!(
            matches!(&s.statements[4], Statement::Rename { from, to } if from.value() == "a" && to.value() == "b")
        );
        assert!(
            matches!(&s.statements[5], Statement::Sql { sql } if sql.value() == "DELETE FROM [b]")
        );
    }

    #[test]
    fn blocks_take_an_optional_semicolon_and_a_last_item_without_one() {
        let s = parse("create a { id() }; create b { id(); string(x) } drop a");
        assert_eq!(s.statements.len(), 3);
    }

    #[test]
    fn keywords_and_raw_identifiers_are_names() {
        let c = column("string(type, 10)");
        assert_eq!(c.name.unwrap().value(), "type");
        let c = column("string(r#match)");
        assert_eq!(c.name.unwrap().value(), "match");
        let s = parse("create r#type { id(); }");
        assert!(
            matches!(&s.statements[0], Statement::Create { table, .. } if table.value() == "type")
        );
    }

    #[test]
    fn column_definition_parts() {
        let c = column("decimal(price, 10, 2).nullable().default(-1.5)");
        assert_eq!(c.kind, "decimal");
        assert_eq!(c.name.as_ref().unwrap().value(), "price");
        assert_eq!(c.args.len(), 2);
        assert!(matches!(&c.args[0], Arg::Lit(syn::Lit::Int(i)) if i.base10_digits() == "10"));
        assert_eq!(c.modifiers.len(), 2);
        assert_eq!(c.modifiers[0].name, "nullable");
        assert!(c.modifiers[0].args.is_empty());
        assert_eq!(c.modifiers[1].name, "default");
        assert!(matches!(
            &c.modifiers[1].args[0],
            Arg::Neg(_, syn::Lit::Float(_))
        ));
    }

    #[test]
    fn id_has_no_name_unless_given() {
        assert!(column("id()").name.is_none());
        assert_eq!(column("id(key)").name.unwrap().value(), "key");
        assert_eq!(
            column("uuid_id(\"the key\")").name.unwrap().value(),
            "the key"
        );
    }

    #[test]
    fn a_first_argument_that_is_not_a_name_is_kept_as_an_argument() {
        let c = column("string(150)");
        assert!(c.name.is_none());
        assert_eq!(c.args.len(), 1);
    }

    #[test]
    fn enumeration_variants_are_a_list() {
        let c = column(r#"enumeration(role, ["admin", "user",]).default("user")"#);
        match &c.args[0] {
            Arg::List(_, v) => assert_eq!(v.len(), 2),
            _ => panic!("not a list"),
        }
    }

    #[test]
    fn reference_modifiers_keep_their_arguments() {
        let c = column(
            "foreign_id(user_id).references(users, id).on_delete(cascade).named(\"fk\").external()",
        );
        let names: Vec<String> = c.modifiers.iter().map(|m| m.name.to_string()).collect();
        assert_eq!(names, ["references", "on_delete", "named", "external"]);
        assert_eq!(c.modifiers[0].args.len(), 2);
        assert!(matches!(&c.modifiers[1].args[0], Arg::Ident(i) if i == "cascade"));
    }

    #[test]
    fn default_literals() {
        for (src, ok) in [
            (
                "true",
                matches!(
                    column("boolean(b).default(true)").modifiers[0].args[0],
                    Arg::Lit(syn::Lit::Bool(_))
                ),
            ),
            (
                "null",
                matches!(&column("text(b).default(null)").modifiers[0].args[0], Arg::Ident(i) if i == "null"),
            ),
            (
                "-3",
                matches!(
                    column("integer(b).default(-3)").modifiers[0].args[0],
                    Arg::Neg(_, syn::Lit::Int(_))
                ),
            ),
            (
                "str",
                matches!(
                    column("text(b).default(\"x\")").modifiers[0].args[0],
                    Arg::Lit(syn::Lit::Str(_))
                ),
            ),
        ] {
            assert!(ok, "{src}");
        }
    }

    #[test]
    fn table_level_items() {
        let all = items(
            r#"timestamps(); soft_deletes(); without_rowid(); primary(a, b);
               index(a); unique_index(a, b); index_named("i", a); unique_index_named("u", b);
               check("[a] > 0"); check_named("c", "[b] > 0");"#,
        );
        assert_eq!(all.len(), 10);
        assert!(matches!(all[0], TableItem::Timestamps(_)));
        assert!(matches!(all[1], TableItem::SoftDeletes(_)));
        assert!(matches!(all[2], TableItem::WithoutRowid(_)));
        assert!(matches!(&all[3], TableItem::Primary { columns, .. } if columns.len() == 2));
        assert!(matches!(
            &all[4],
            TableItem::Index(IndexDef {
                unique: false,
                name: None,
                ..
            })
        ));
        assert!(
            matches!(&all[5], TableItem::Index(IndexDef { unique: true, name: None, columns, .. }) if columns.len() == 2)
        );
        assert!(
            matches!(&all[6], TableItem::Index(IndexDef { unique: false, name: Some(n), .. }) if n.value() == "i")
        );
        assert!(
            matches!(&all[7], TableItem::Index(IndexDef { unique: true, name: Some(n), .. }) if n.value() == "u")
        );
        assert!(
            matches!(&all[8], TableItem::Check { name: None, expression, .. } if expression.value() == "[a] > 0")
        );
        assert!(matches!(&all[9], TableItem::Check { name: Some(n), .. } if n.value() == "c"));
    }

    #[test]
    fn every_alter_item() {
        let all = alter_items(
            r#"add string(nick, 40).nullable(); drop_column(a); rename_column(a, b);
               add_index(a, b); add_unique_index(a); add_index_named("n", a);
               drop_index(n); drop_index("n"); add_check("c", "[a] > 0"); drop_check(c);
               drop_foreign(user_id); drop_foreign("fk");"#,
        );
        assert_eq!(all.len(), 12);
        assert!(
            matches!(&all[0], AlterItem::Add { column, .. } if column.kind == "string" && column.modifiers.len() == 1)
        );
        assert!(matches!(&all[1], AlterItem::DropColumn { column, .. } if column.value() == "a"));
        assert!(
            matches!(&all[2], AlterItem::RenameColumn { from, to, .. } if from.value() == "a" && to.value() == "b")
        );
        assert!(
            matches!(&all[3], AlterItem::AddIndex(IndexDef { unique: false, name: None, columns, .. }) if columns.len() == 2)
        );
        assert!(matches!(
            &all[4],
            AlterItem::AddIndex(IndexDef { unique: true, .. })
        ));
        assert!(matches!(
            &all[5],
            AlterItem::AddIndex(IndexDef { name: Some(_), .. })
        ));
        assert!(matches!(
            &all[6],
            AlterItem::DropIndex {
                name: Name::Ident(_),
                ..
            }
        ));
        assert!(matches!(
            &all[7],
            AlterItem::DropIndex {
                name: Name::Str(_),
                ..
            }
        ));
        assert!(matches!(&all[8], AlterItem::AddCheck { name, .. } if name.value() == "c"));
        assert!(matches!(&all[9], AlterItem::DropCheck { .. }));
        assert!(matches!(
            &all[10],
            AlterItem::DropForeign {
                target: Name::Ident(_),
                ..
            }
        ));
        assert!(matches!(
            &all[11],
            AlterItem::DropForeign {
                target: Name::Str(_),
                ..
            }
        ));
    }

    #[test]
    fn unknown_statement_suggests() {
        assert_eq!(
            error("crate users { id(); }"),
            "unknown statement `crate`: did you mean `create`?"
        );
        assert!(error("explode users;").contains("expected one of: create, alter"));
    }

    #[test]
    fn missing_semicolons_and_stray_tokens() {
        assert_eq!(
            error("drop a drop b;"),
            "expected `;` after the statement, found `drop`"
        );
        assert_eq!(
            error("create t { id() string(x); }"),
            "expected `;` after the item, found `string`"
        );
        assert!(error("create t ( id() )").starts_with("expected `{` after the table name"));
        assert!(error("rename a b;").starts_with("expected `to`"));
    }

    #[test]
    fn item_arity_is_checked() {
        assert!(error("create t { primary(); }").contains("`primary` needs at least one column"));
        assert!(error("create t { timestamps(x); }").contains("`timestamps()` takes no arguments"));
        assert!(error("create t { check(); }").contains("`check` takes one string"));
        assert!(
            error("create t { check(a); }").contains("expected the expression as a string literal")
        );
        assert!(error("create t { index_named(a, b); }").contains("the index name first"));
        assert!(error("alter t { rename_column(a); }").contains("the current and the new name"));
        assert!(error("alter t { drop_column(a, b); }").contains("`drop_column` takes one name"));
        assert!(
            error("create t { timestamps().nullable(); }").contains("modifiers apply to columns")
        );
        assert!(error("create t { string(x).nullable; }").contains("`.nullable()`"));
    }

    #[test]
    fn items_in_the_wrong_block() {
        assert!(error("create t { add string(x); }").contains("belongs in an `alter"));
        assert!(error("alter t { index(a); }").contains("write `add_index(..)`"));
        assert!(error("alter t { string(x); }").contains("write `add string(..)`"));
        assert!(error("alter t { drop_colum(x); }").contains("did you mean `drop_column`?"));
    }

    #[test]
    fn every_broken_item_is_reported() {
        let e =
            error("create t { primary(); id(); check(); } drop a b; create u { timestamps(1); }");
        assert_eq!(e.lines().count(), 4, "{e}");
    }
}
