//! The `schema!` parser: token streams into the shared syntax tree
//! (`dal_schema::dsl`, with syn spans), checking only the shape of the input.
//! What the names and values mean (column types, modifiers, argument counts of
//! columns, referential actions, ranges, references) is checked by `lower`.
//! Over 1,000 lines with its unit tests (the parser is about 720 lines).
//!
//! Parsing recovers at every `;` (between statements and between the items of a
//! block), so one malformed item does not hide the others: every syntax error is
//! reported, each on its own token.

use dal_schema::dsl;
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Token, braced, bracketed, parenthesized, token};

pub(crate) use dal_schema::dsl::{ALTER_ITEMS, HistoryAction, STATEMENTS, TABLE_ITEMS};

use super::{error_between, unknown_name};

// The shared tree (`dal_schema::dsl`) with the macro's positions: every node
// keeps the span of its tokens, so each error points at what is wrong.

/// An identifier with its span.
pub(crate) type Word = dsl::Word<Span>;
/// A string literal with its span.
pub(crate) type Str = dsl::Str<Span>;
/// A literal argument.
pub(crate) type Lit = dsl::Lit<Span>;
/// A table, column or constraint name.
pub(crate) type Name = dsl::Name<Span>;
/// An argument of a column type or a modifier.
pub(crate) type Arg = dsl::Arg<Span>;
/// `.name(args)` after a column.
pub(crate) type Modifier = dsl::Modifier<Span>;
/// A column definition with its modifiers.
pub(crate) type ColumnDef = dsl::ColumnDef<Span>;
/// An index item.
pub(crate) type IndexDef = dsl::IndexDef<Span>;
/// One item of a `create` block.
pub(crate) type TableItem = dsl::TableItem<Span>;
/// One item of an `alter` block.
pub(crate) type AlterItem = dsl::AlterItem<Span>;
/// One statement.
pub(crate) type Statement = dsl::Statement<Span>;

/// The whole input of `schema! { ... }`: its statements, in order.
pub(crate) struct SchemaInput {
    pub statements: Vec<Statement>,
}

fn word(ident: &Ident) -> Word {
    Word::new(ident.to_string(), ident.span())
}

fn str_lit(lit: &LitStr) -> Str {
    Str::new(lit.value(), lit.span())
}

fn lit(lit: syn::Lit) -> Lit {
    let span = lit.span();
    match lit {
        syn::Lit::Str(s) => dsl::Lit::Str(str_lit(&s)),
        syn::Lit::Int(i) => dsl::Lit::Int(dsl::Number::new(i.base10_digits(), span)),
        syn::Lit::Float(f) => dsl::Lit::Float(dsl::Number::new(f.base10_digits(), span)),
        syn::Lit::Bool(b) => dsl::Lit::Bool(dsl::Bool {
            value: b.value,
            span,
        }),
        other => dsl::Lit::Other(Word::new(
            quote::ToTokens::to_token_stream(&other).to_string(),
            span,
        )),
    }
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
fn parse_each<T>(
    pieces: Vec<TokenStream>,
    parse: fn(ParseStream) -> syn::Result<T>,
) -> syn::Result<Vec<T>> {
    let mut out = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for piece in pieces {
        // a stray `;` is harmless
        if is_lone_semicolon(&piece) {
            continue;
        }
        match parse.parse2(piece) {
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

impl syn::parse::Parse for SchemaInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let tokens: TokenStream = input.parse()?;
        Ok(SchemaInput {
            statements: parse_each(split_statements(tokens), parse_statement)?,
        })
    }
}

fn parse_name(input: ParseStream) -> syn::Result<Name> {
    if input.peek(LitStr) {
        Ok(Name::Str(str_lit(&input.parse()?)))
    } else if input.peek(Ident::peek_any) {
        Ok(Name::Ident(word(&Ident::parse_any(input)?)))
    } else {
        Err(input.error("expected a name: an identifier, or a string for a name that is not one"))
    }
}

fn parse_arg(input: ParseStream) -> syn::Result<Arg> {
    if input.peek(token::Bracket) {
        let content;
        let bracket = bracketed!(content in input);
        Ok(Arg::List(bracket.span.join(), parse_args(&content)?))
    } else if input.peek(Token![-]) {
        let minus: Token![-] = input.parse()?;
        let value: syn::Lit = input.parse()?;
        Ok(Arg::Neg(minus.span, lit(value)))
    } else if input.peek(syn::Lit) {
        Ok(Arg::Lit(lit(input.parse()?)))
    } else if input.peek(Ident::peek_any) {
        Ok(Arg::Ident(word(&Ident::parse_any(input)?)))
    } else {
        Err(input.error("expected a name, a literal or a `[..]` list"))
    }
}

/// A comma-separated argument list (a trailing comma is allowed).
fn parse_args(input: ParseStream) -> syn::Result<Vec<Arg>> {
    Ok(
        Punctuated::<Arg, Token![,]>::parse_terminated_with(input, parse_arg)?
            .into_iter()
            .collect(),
    )
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

fn parse_statement(input: ParseStream) -> syn::Result<Statement> {
    if !input.peek(Ident::peek_any) {
        return Err(input.error(format!("expected a statement: {}", STATEMENTS.join(", "))));
    }
    let keyword = Ident::parse_any(input)?;
    let statement = match keyword.to_string().as_str() {
        "create" => {
            let table = parse_name(input)?;
            let content;
            braced_or_error(input, &keyword, "create <table> { <table item>; ... }")?;
            braced!(content in input);
            let tokens: TokenStream = content.parse()?;
            Statement::Create {
                table,
                items: parse_each(split_items(tokens), parse_table_item)?,
            }
        }
        "alter" => {
            let table = parse_name(input)?;
            let content;
            braced_or_error(input, &keyword, "alter <table> { <alter item>; ... }")?;
            braced!(content in input);
            let tokens: TokenStream = content.parse()?;
            Statement::Alter {
                table,
                items: parse_each(split_items(tokens), parse_alter_item)?,
            }
        }
        "drop" => Statement::Drop {
            table: parse_name(input)?,
        },
        "drop_if_exists" => Statement::DropIfExists {
            table: parse_name(input)?,
        },
        "rename" => {
            let from = parse_name(input)?;
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
                to: parse_name(input)?,
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
            Statement::Sql { sql: str_lit(&sql) }
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

fn string_arg(keyword: &Ident, arg: &Arg, what: &str) -> syn::Result<Str> {
    match arg {
        Arg::Lit(Lit::Str(s)) => Ok(s.clone()),
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

/// The arguments of `index`, `unique_index`, `index_named`, `unique_index_named`
/// and their `add_` forms.
fn parse_index(keyword: Ident, input: ParseStream) -> syn::Result<IndexDef> {
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
        keyword: word(&keyword),
        unique,
        name,
        columns,
    })
}

/// A column definition after its type: `(name, args..)` and the modifiers.
fn parse_column_after(kind: Ident, input: ParseStream) -> syn::Result<ColumnDef> {
    if !input.peek(token::Paren) {
        return Err(syn::Error::new(
            kind.span(),
            format!("expected `(` after `{kind}`: a column is declared like `string(email, 150)`"),
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
            name: word(&name),
            close: paren.span.close(),
            args: parse_args(&content)?,
        });
    }
    Ok(ColumnDef {
        kind: word(&kind),
        close: paren.span.close(),
        name,
        args,
        modifiers,
    })
}

fn parse_table_item(input: ParseStream) -> syn::Result<TableItem> {
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
            TableItem::Timestamps(word(&keyword))
        }
        "soft_deletes" => {
            parse_no_args(&keyword, input)?;
            TableItem::SoftDeletes(word(&keyword))
        }
        "without_rowid" => {
            parse_no_args(&keyword, input)?;
            TableItem::WithoutRowid(word(&keyword))
        }
        "history" => {
            parse_no_args(&keyword, input)?;
            TableItem::History(word(&keyword))
        }
        "primary" => {
            let (paren, content) = parse_parens(&keyword, usage(&kw), input)?;
            let columns = names_of(&keyword, &paren, parse_args(&content)?)?;
            TableItem::Primary {
                keyword: word(&keyword),
                columns,
            }
        }
        "index" | "unique_index" | "index_named" | "unique_index_named" => {
            TableItem::Index(parse_index(keyword, input)?)
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
        _ => TableItem::Column(parse_column_after(keyword, input)?),
    };
    if !matches!(item, TableItem::Column(_)) && input.peek(Token![.]) {
        return Err(input.error(format!("modifiers apply to columns; `{kw}(..)` takes none")));
    }
    parse_terminator(input, "item")?;
    Ok(item)
}

fn parse_alter_item(input: ParseStream) -> syn::Result<AlterItem> {
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
                column: parse_column_after(kind, input)?,
            }
        }
        "add_index" | "add_unique_index" | "add_index_named" => {
            AlterItem::AddIndex(parse_index(keyword, input)?)
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
            AlterItem::History {
                keyword: word(&keyword),
                action,
            }
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
                    "`history()` belongs in `create`; in `alter` write `add_history()`".to_string()
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
        assert!(matches!(&c.args[0], Arg::Lit(Lit::Int(i)) if i.digits == "10"));
        assert_eq!(c.modifiers.len(), 2);
        assert_eq!(c.modifiers[0].name, "nullable");
        assert!(c.modifiers[0].args.is_empty());
        assert_eq!(c.modifiers[1].name, "default");
        assert!(matches!(
            &c.modifiers[1].args[0],
            Arg::Neg(_, Lit::Float(_))
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
                    Arg::Lit(Lit::Bool(_))
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
                    Arg::Neg(_, Lit::Int(_))
                ),
            ),
            (
                "str",
                matches!(
                    column("text(b).default(\"x\")").modifiers[0].args[0],
                    Arg::Lit(Lit::Str(_))
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
