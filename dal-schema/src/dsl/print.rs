//! The printer: a [`tree`](super::tree) back to `schema!` source text, four
//! spaces per level, one item per line. `dal::autogen` writes migrations with
//! it; positions are ignored.

use std::fmt::{self, Display, Write as _};

use super::tree::{
    AlterItem, Arg, ColumnDef, HistoryAction, IndexDef, Lit, Modifier, Name, Statement, TableItem,
    is_rust_ident,
};

/// A name as the grammar takes it: a bare identifier, or a string literal.
pub fn name_literal(name: &str) -> String {
    if is_rust_ident(name) {
        name.to_string()
    } else {
        string_literal(name)
    }
}

/// A Rust string literal for `s`: a raw string when it holds quotes or
/// backslashes (SQL often does), an ordinary one otherwise.
pub fn string_literal(s: &str) -> String {
    if (s.contains('"') || s.contains('\\')) && !s.chars().any(|c| c.is_control() && c != '\n') {
        let mut hashes = 1;
        while s.contains(&format!("\"{}", "#".repeat(hashes))) {
            hashes += 1;
        }
        let h = "#".repeat(hashes);
        format!("r{h}\"{s}\"{h}")
    } else {
        format!("{s:?}")
    }
}

/// A float literal that reads back as the same `f64` and is a Rust float
/// literal (always with a `.` or an exponent).
pub fn float_literal(f: f64) -> String {
    let s = format!("{f:?}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

/// Every statement, each line indented by `indent` spaces and its items by four more.
pub fn write_statements<S>(out: &mut String, statements: &[Statement<S>], indent: usize) {
    for s in statements {
        write_statement(out, s, indent);
    }
}

fn write_statement<S>(out: &mut String, statement: &Statement<S>, indent: usize) {
    let pad = " ".repeat(indent);
    let inner = " ".repeat(indent + 4);
    let _ = match statement {
        Statement::Create { table, items } => {
            let _ = writeln!(out, "{pad}create {table} {{");
            for i in items {
                let _ = writeln!(out, "{inner}{i};");
            }
            writeln!(out, "{pad}}}")
        }
        Statement::Alter { table, items } => {
            let _ = writeln!(out, "{pad}alter {table} {{");
            for i in items {
                let _ = writeln!(out, "{inner}{i};");
            }
            writeln!(out, "{pad}}}")
        }
        Statement::Drop { table } => writeln!(out, "{pad}drop {table};"),
        Statement::DropIfExists { table } => writeln!(out, "{pad}drop_if_exists {table};"),
        Statement::Rename { from, to } => writeln!(out, "{pad}rename {from} to {to};"),
        Statement::Sql { sql } => writeln!(out, "{pad}sql({});", string_literal(&sql.text)),
    };
}

impl<S> Display for Statement<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        write_statement(&mut out, self, 0);
        f.write_str(&out)
    }
}

impl<S> Display for Name<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Name::Ident(w) => f.write_str(&w.text),
            Name::Str(s) => f.write_str(&string_literal(&s.text)),
        }
    }
}

impl<S> Display for Lit<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Str(s) => f.write_str(&string_literal(&s.text)),
            Lit::Int(n) | Lit::Float(n) => f.write_str(&n.digits),
            Lit::Bool(b) => write!(f, "{}", b.value),
            Lit::Other(w) => f.write_str(&w.text),
        }
    }
}

impl<S> Display for Arg<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arg::Ident(w) => f.write_str(&w.text),
            Arg::Lit(l) => write!(f, "{l}"),
            Arg::Neg(_, l) => write!(f, "-{l}"),
            Arg::List(_, items) => {
                f.write_str("[")?;
                write_list(f, items)?;
                f.write_str("]")
            }
        }
    }
}

fn write_list<T: Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl<S> Display for Modifier<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ".{}(", self.name)?;
        write_list(f, &self.args)?;
        f.write_str(")")
    }
}

impl<S> Display for ColumnDef<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.kind)?;
        if let Some(name) = &self.name {
            write!(f, "{name}")?;
            if !self.args.is_empty() {
                f.write_str(", ")?;
            }
        }
        write_list(f, &self.args)?;
        f.write_str(")")?;
        for m in &self.modifiers {
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

/// `index(a)`, `unique_index_named("u", a, b)`, with `add_` in an `alter` block.
fn write_index<S>(f: &mut fmt::Formatter<'_>, index: &IndexDef<S>, alter: bool) -> fmt::Result {
    let add = if alter { "add_" } else { "" };
    let unique = if index.unique { "unique_" } else { "" };
    let named = if index.name.is_some() { "_named" } else { "" };
    write!(f, "{add}{unique}index{named}(")?;
    if let Some(name) = &index.name {
        write!(f, "{}, ", string_literal(&name.text))?;
    }
    write_list(f, &index.columns)?;
    f.write_str(")")
}

impl<S> Display for TableItem<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableItem::Column(c) => write!(f, "{c}"),
            TableItem::Timestamps(_) => f.write_str("timestamps()"),
            TableItem::SoftDeletes(_) => f.write_str("soft_deletes()"),
            TableItem::History(_) => f.write_str("history()"),
            TableItem::WithoutRowid(_) => f.write_str("without_rowid()"),
            TableItem::Primary { columns, .. } => {
                f.write_str("primary(")?;
                write_list(f, columns)?;
                f.write_str(")")
            }
            TableItem::Index(index) => write_index(f, index, false),
            TableItem::Check {
                name: None,
                expression,
            } => write!(f, "check({})", string_literal(&expression.text)),
            TableItem::Check {
                name: Some(name),
                expression,
            } => write!(
                f,
                "check_named({}, {})",
                string_literal(&name.text),
                string_literal(&expression.text)
            ),
        }
    }
}

impl<S> Display for AlterItem<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AlterItem::Add { column } => write!(f, "add {column}"),
            AlterItem::DropColumn { column } => write!(f, "drop_column({column})"),
            AlterItem::RenameColumn { from, to } => write!(f, "rename_column({from}, {to})"),
            AlterItem::AddIndex(index) => write_index(f, index, true),
            AlterItem::DropIndex { name } => write!(f, "drop_index({name})"),
            AlterItem::AddCheck { name, expression } => write!(
                f,
                "add_check({}, {})",
                string_literal(&name.text),
                string_literal(&expression.text)
            ),
            AlterItem::DropCheck { name } => write!(f, "drop_check({name})"),
            AlterItem::DropForeign { target } => write!(f, "drop_foreign({target})"),
            AlterItem::History { action, .. } => f.write_str(match action {
                HistoryAction::Add => "add_history()",
                HistoryAction::Refresh => "refresh_history()",
                HistoryAction::Drop => "drop_history()",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsl::tree::Str;

    #[test]
    fn literals() {
        assert_eq!(string_literal("plain"), "\"plain\"");
        assert_eq!(string_literal(r#"say "hi""#), r###"r#"say "hi""#"###);
        assert_eq!(name_literal("users"), "users");
        assert_eq!(name_literal("type"), "\"type\"");
        assert_eq!(name_literal("old users"), "\"old users\"");
        assert_eq!(float_literal(1.0), "1.0");
        assert_eq!(float_literal(-2.5), "-2.5");
    }

    #[test]
    fn every_statement_prints_in_the_grammar() {
        let statements: Vec<Statement> = vec![
            Statement::Create {
                table: Name::new("posts"),
                items: vec![
                    TableItem::Column(ColumnDef::new("id", None, vec![])),
                    TableItem::Column(
                        ColumnDef::new("foreign_id", Some(Name::new("user_id")), vec![])
                            .with("references", vec![Arg::name("users")])
                            .with("on_delete", vec![Arg::ident("cascade")]),
                    ),
                    TableItem::Column(
                        ColumnDef::new(
                            "enumeration",
                            Some(Name::new("role")),
                            vec![Arg::list(vec![Arg::string("a"), Arg::string("b")])],
                        )
                        .with("default", vec![Arg::string("a")]),
                    ),
                    TableItem::Column(
                        ColumnDef::new(
                            "decimal",
                            Some(Name::new("price")),
                            vec![10u8.into(), 2u8.into()],
                        )
                        .with("default", vec![Arg::float("-1.5")]),
                    ),
                    TableItem::Column(
                        ColumnDef::new("integer", Some(Name::new("n")), vec![])
                            .with("default", vec![Arg::int(-3)]),
                    ),
                    TableItem::Timestamps("timestamps".into()),
                    TableItem::Primary {
                        keyword: "primary".into(),
                        columns: vec![Name::new("a"), Name::new("type")],
                    },
                    TableItem::Index(IndexDef::new(true, Some("u"), &["a".to_string()])),
                    TableItem::Check {
                        name: None,
                        expression: Str::from("[n] > 0"),
                    },
                ],
            },
            Statement::Alter {
                table: Name::new("posts"),
                items: vec![
                    AlterItem::AddIndex(IndexDef::new(false, None, &["a".into(), "b".into()])),
                    AlterItem::DropForeign {
                        target: Name::string("fk"),
                    },
                    AlterItem::History {
                        keyword: "add_history".into(),
                        action: HistoryAction::Add,
                    },
                ],
            },
            Statement::Rename {
                from: Name::new("posts"),
                to: Name::new("old posts"),
            },
            Statement::Drop {
                table: Name::new("x"),
            },
            Statement::Sql {
                sql: Str::from("DELETE FROM [x]"),
            },
        ];
        let mut out = String::new();
        write_statements(&mut out, &statements, 0);
        assert_eq!(
            out,
            r#"create posts {
    id();
    foreign_id(user_id).references(users).on_delete(cascade);
    enumeration(role, ["a", "b"]).default("a");
    decimal(price, 10, 2).default(-1.5);
    integer(n).default(-3);
    timestamps();
    primary(a, "type");
    unique_index_named("u", a);
    check("[n] > 0");
}
alter posts {
    add_index(a, b);
    drop_foreign("fk");
    add_history();
}
rename posts to "old posts";
drop x;
sql("DELETE FROM [x]");
"#
        );
    }
}
