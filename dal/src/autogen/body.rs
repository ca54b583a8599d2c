//! A `schema!` body under construction (typed statements of the shared
//! syntax tree, comments, SQLite rebuilds) and how it is written into the
//! migration file: `dal::schema! { .. }` blocks, or `Script` segments around
//! the typed rebuilds.

use std::collections::HashSet;
use std::fmt::Write as _;

use dal_schema::dsl::{self, AlterItem, HistoryAction, Name, Statement, Str, TableItem};

/// One statement of a `schema!` body.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Stmt {
    /// A statement of the grammar, written by the shared printer.
    Schema(Statement),
    Comment(String),
    /// A typed SQLite table rebuild: both shapes as `create` bodies.
    Rebuild {
        table: String,
        from: Vec<TableItem>,
        to: Vec<TableItem>,
        comment: String,
    },
}

/// A `schema!` body under construction.
#[derive(Debug, Default)]
pub(super) struct Body {
    pub(super) stmts: Vec<Stmt>,
    /// Tables created by this body so far (foreign keys to them need no `.external()`).
    pub(super) created: HashSet<String>,
}

impl Body {
    pub(super) fn alter(&mut self, table: &str, item: AlterItem) {
        if let Some(Stmt::Schema(Statement::Alter { table: t, items })) = self.stmts.last_mut()
            && t.value() == table
        {
            items.push(item);
            return;
        }
        self.stmts.push(Stmt::Schema(Statement::Alter {
            table: Name::new(table),
            items: vec![item],
        }));
    }

    pub(super) fn history(&mut self, table: &str, action: HistoryAction) {
        let keyword = match action {
            HistoryAction::Add => "add_history",
            HistoryAction::Refresh => "refresh_history",
            HistoryAction::Drop => "drop_history",
        };
        self.alter(
            table,
            AlterItem::History {
                keyword: keyword.into(),
                action,
            },
        );
    }

    pub(super) fn drop(&mut self, table: &str) {
        self.stmts.push(Stmt::Schema(Statement::Drop {
            table: Name::new(table),
        }));
    }

    pub(super) fn sql(&mut self, statements: Vec<String>) {
        for s in statements {
            self.stmts.push(Stmt::Schema(Statement::Sql {
                sql: Str::from(s.as_str()),
            }));
        }
    }

    pub(super) fn comment(&mut self, text: impl Into<String>) {
        self.stmts.push(Stmt::Comment(text.into()));
    }

    pub(super) fn write(&self, out: &mut String, indent: usize) {
        let pad = " ".repeat(indent);
        for s in &self.stmts {
            match s {
                Stmt::Schema(statement) => {
                    dsl::write_statements(out, std::slice::from_ref(statement), indent)
                }
                Stmt::Comment(c) => {
                    for line in c.lines() {
                        let _ = writeln!(out, "{pad}// {line}");
                    }
                }
                Stmt::Rebuild { .. } => unreachable!("rebuilds are written by write_segments"),
            }
        }
    }

    pub(super) fn has_rebuild(&self) -> bool {
        self.stmts.iter().any(|s| matches!(s, Stmt::Rebuild { .. }))
    }
}

/// `let mut {var} = Script::new();` followed by one `extend` per run of
/// statements and per typed rebuild.
pub(super) fn write_segments(out: &mut String, var: &str, body: &Body) {
    let _ = writeln!(out, "    let mut {var} = dal::schema::Script::new();");
    let mut run = Body::default();
    let flush = |out: &mut String, run: &mut Body| {
        if run.stmts.is_empty() {
            return;
        }
        let _ = write!(out, "    {var}.extend(");
        write_schema(out, run, 4);
        let _ = writeln!(out, ");");
        run.stmts.clear();
    };
    for stmt in &body.stmts {
        let Stmt::Rebuild {
            table,
            from,
            to,
            comment,
        } = stmt
        else {
            run.stmts.push(stmt.clone());
            continue;
        };
        flush(out, &mut run);
        let _ = writeln!(out, "    // {comment}");
        let _ = writeln!(out, "    {var}.extend(dal::autogen::rebuild(");
        for items in [from, to] {
            let shape = Body {
                stmts: vec![Stmt::Schema(Statement::Create {
                    table: Name::new(table),
                    items: items.clone(),
                })],
                created: HashSet::new(),
            };
            write_schema(out, &shape, 8);
            let _ = writeln!(out, ",");
        }
        let _ = writeln!(out, "    ));");
    }
    flush(out, &mut run);
}

/// `dal::schema! { .. }` with its closing brace at `indent`; the opening line
/// is indented too when it starts a line (it follows `.down(` otherwise).
pub(super) fn write_schema(out: &mut String, body: &Body, indent: usize) {
    if out.ends_with('\n') {
        out.push_str(&" ".repeat(indent));
    }
    if body.stmts.is_empty() {
        out.push_str("dal::schema! {}");
        return;
    }
    out.push_str("dal::schema! {\n");
    body.write(out, indent + 4);
    out.push_str(&" ".repeat(indent));
    out.push('}');
}
