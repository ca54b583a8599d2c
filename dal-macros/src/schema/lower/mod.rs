//! Lowering: the syntax tree becomes the model `expand` emits.
//!
//! Every name is resolved and every rule checked here, each error spanned on the
//! offending token and all of them reported together. The tables are built at
//! compile time with the same `dal_schema::TableBuilder` calls the expansion makes
//! at run time, and checked with the validator the runtime uses
//! (`dal_schema::validate_table`). A symbolic schema follows the statements in
//! order (tables created, altered, renamed and dropped above), so references,
//! alters and drops are checked against what exists at that point.

use std::collections::BTreeMap;
use std::fmt::Display;

use dal_schema::ddl::DdlStatement;
use dal_schema::model::names;
use dal_schema::{
    ColumnType, DefaultValue, Dialect, MAX_STRING_LENGTH, ReferentialAction, SchemaError,
    SchemaErrorKind, Table, TableBuilder, identifier_problem, validate_table,
};
use proc_macro2::Span;

use super::parse::{
    AlterItem, Arg, ColumnDef, IndexDef, Lit, Modifier, Name, SchemaInput, Statement, Str,
    TABLE_ITEMS, TableItem, Word,
};
use super::{did_you_mean, error_between, unknown_name};

mod alter;
mod column;
mod model;

use model::{
    ACTIONS, ARRAY_ELEMENTS, KIND_ALIASES, KINDS, MODIFIER_ALIASES, MODIFIERS, build_table,
};
pub(crate) use model::{
    ColumnKind, ColumnModel, ColumnModifier, ForeignModel, HistoryAction, ItemModel, ScriptModel,
    StepModel,
};

// ---------------------------------------------------------------------------
// Where things were written, to put each error on its token.

/// A source range: from the first to the last token of something.
#[derive(Clone, Copy)]
struct Loc(Span, Span);

impl Loc {
    fn at(span: Span) -> Loc {
        Loc(span, span)
    }

    fn error(self, message: impl Display) -> syn::Error {
        error_between(self.0, self.1, message)
    }
}

#[derive(Clone, Copy)]
struct ColumnSpans {
    name: Loc,
    default: Option<Loc>,
    nullable: Option<Loc>,
    auto_increment: Option<Loc>,
    unique: Option<Loc>,
    set_null: Option<Loc>,
}

impl ColumnSpans {
    fn new(name: Loc) -> ColumnSpans {
        ColumnSpans {
            name,
            default: None,
            nullable: None,
            auto_increment: None,
            unique: None,
            set_null: None,
        }
    }
}

/// The spans of one table's declarations, to place the validator's errors.
struct TableSpans {
    table_name: String,
    table: Loc,
    columns: Vec<(String, ColumnSpans)>,
    /// Indexes, foreign keys and checks by name (generated names included).
    items: Vec<(String, Loc)>,
    checks: Vec<String>,
    primary: Option<Loc>,
    without_rowid: Option<Loc>,
    /// Columns whose default was already reported while lowering.
    default_reported: Vec<String>,
    /// Columns that could not be lowered (already reported): the validator's
    /// errors about them, or about the table having no columns, follow from that.
    failed: Vec<String>,
    any_failed: bool,
    /// The primary key was declared twice (reported).
    primary_conflict: bool,
}

impl TableSpans {
    fn new(table_name: &str, table: Span) -> TableSpans {
        TableSpans {
            table_name: table_name.to_string(),
            table: Loc::at(table),
            columns: Vec::new(),
            items: Vec::new(),
            checks: Vec::new(),
            primary: None,
            without_rowid: None,
            default_reported: Vec::new(),
            failed: Vec::new(),
            any_failed: false,
            primary_conflict: false,
        }
    }

    fn column(&self, name: &str) -> Option<&ColumnSpans> {
        self.columns
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    fn item(&self, name: &str) -> Option<Loc> {
        self.items
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, s)| *s)
    }

    /// Whether the validator's error was already reported on its token while
    /// lowering, or follows from an error that was.
    fn covered(&self, e: &SchemaError, table: &Table) -> bool {
        use SchemaErrorKind as K;
        if e.column.as_ref().is_some_and(|c| self.failed.contains(c))
            || (self.any_failed && e.kind == K::EmptyTable)
        {
            return true;
        }
        // a second primary key replaced the first: `id()` is no longer the whole key
        if self.primary_conflict
            && e.kind == K::InvalidAutoIncrement
            && e.column
                .as_deref()
                .and_then(|c| table.column(c))
                .is_some_and(|c| c.ty.is_integer())
        {
            return true;
        }
        match e.kind {
            // every name, every column, every type argument is checked on its own token
            K::InvalidIdentifier
            | K::DuplicateColumn
            | K::DuplicateTable
            | K::InvalidLength
            | K::InvalidPrecision
            | K::InvalidEnumVariants => true,
            // the columns of indexes and of the primary key are checked while lowering;
            // the columns a check names are left to the validator
            K::UnknownColumn => !e.item.as_ref().is_some_and(|i| self.checks.contains(i)),
            K::DefaultTypeMismatch | K::EnumDefaultNotAVariant => e
                .column
                .as_ref()
                .is_some_and(|c| self.default_reported.contains(c)),
            _ => false,
        }
    }

    /// The best place for one of the validator's errors.
    fn locate(&self, e: &SchemaError) -> Loc {
        use SchemaErrorKind as K;
        let col = e.column.as_deref().and_then(|c| self.column(c));
        let item = e.item.as_deref().and_then(|i| self.item(i));
        let pick = match e.kind {
            K::DefaultTypeMismatch | K::EnumDefaultNotAVariant | K::NullDefaultOnNotNull => {
                col.and_then(|c| c.default)
            }
            K::InvalidExpression => col.and_then(|c| c.default).or(item),
            K::InvalidAutoIncrement => col.and_then(|c| c.auto_increment),
            K::NullablePrimaryKey => col.and_then(|c| c.nullable).or(self.primary),
            K::UnindexableColumn => item.or(col.and_then(|c| c.unique)).or_else(|| {
                let c = e.column.clone()?;
                self.item(&names::unique_index(&self.table_name, &[c]))
            }),
            K::InvalidForeignKey => col.and_then(|c| c.set_null).or(item),
            K::InvalidWithoutRowid => self.without_rowid,
            _ => None,
        };
        pick.or(item).or(col.map(|c| c.name)).unwrap_or(self.table)
    }
}

/// The checked modifiers of one column.
struct Modifiers<'d> {
    list: Vec<ColumnModifier>,
    /// `.references(table[, column])`: the modifier, the table, the column.
    references: Option<(&'d Modifier, Name, Option<Name>)>,
    on_delete: Option<ReferentialAction>,
    on_update: Option<ReferentialAction>,
    fk_name: Option<String>,
    external: bool,
    default: Option<(DefaultValue, Loc)>,
}

/// A foreign key to check once the table it belongs to is complete.
struct PendingForeignKey {
    column: String,
    column_type: ColumnType,
    table: Name,
    target_column: Option<Name>,
    external: bool,
    at: Loc,
}

// ---------------------------------------------------------------------------
// Lowering.

/// Check the input and build the model, or report every problem.
pub(crate) fn lower(input: &SchemaInput) -> syn::Result<ScriptModel> {
    let mut cx = Lowerer::default();
    let mut steps = Vec::new();
    for (i, statement) in input.statements.iter().enumerate() {
        // the tables created further down, for a clearer message when one is
        // referenced too early
        cx.created_below = input.statements[i + 1..]
            .iter()
            .filter_map(|s| match s {
                Statement::Create { table, .. } => Some(table.value()),
                _ => None,
            })
            .collect();
        cx.statement(statement, &mut steps);
    }
    match cx.errors {
        Some(e) => Err(e),
        None => Ok(ScriptModel { steps }),
    }
}

#[derive(Default)]
struct Lowerer {
    errors: Option<syn::Error>,
    /// The tables created above and still there, as they are at this point.
    tables: BTreeMap<String, Table>,
    /// Tables dropped or renamed above: what happened to them.
    gone: BTreeMap<String, String>,
    /// Tables created by the statements after the current one.
    created_below: Vec<String>,
    /// Whether a table keeps a history, as far as this `schema!` tells.
    history: BTreeMap<String, bool>,
}

impl Lowerer {
    fn push(&mut self, e: syn::Error) {
        match &mut self.errors {
            Some(all) => all.combine(e),
            None => self.errors = Some(e),
        }
    }

    fn error(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    fn error_at(&mut self, loc: Loc, message: impl Display) {
        self.push(loc.error(message));
    }

    /// A name must be a portable SQL identifier.
    fn check_ident(&mut self, what: &str, name: &Name) {
        self.check_ident_str(what, &name.value(), name.span());
    }

    fn check_ident_str(&mut self, what: &str, value: &str, span: Span) {
        if let Some(message) = identifier_problem(what, value) {
            self.error(span, message);
        }
    }

    fn statement(&mut self, statement: &Statement, steps: &mut Vec<StepModel>) {
        match statement {
            Statement::Create { table, items } => {
                if let Some(step) = self.create(table, items) {
                    steps.push(step);
                }
            }
            Statement::Alter { table, items } => self.alter(table, items, steps),
            Statement::Drop { table } => {
                self.drop(table, false);
                steps.push(StepModel::DropTable {
                    name: table.value(),
                    if_exists: false,
                });
            }
            Statement::DropIfExists { table } => {
                self.drop(table, true);
                steps.push(StepModel::DropTable {
                    name: table.value(),
                    if_exists: true,
                });
            }
            Statement::Rename { from, to } => {
                self.rename(from, to);
                steps.push(StepModel::RenameTable {
                    from: from.value(),
                    to: to.value(),
                });
            }
            Statement::Sql { sql } => {
                let text = sql.value();
                match dal_schema::translate(&text, Dialect::Postgres) {
                    Err(e) => self.error(sql.span(), format!("not valid portable SQL: {e}")),
                    Ok(t) if t.param_count > 0 => self.error(
                        sql.span(),
                        "a script statement takes no parameters: write values as literals (`??` is a literal `?`)",
                    ),
                    Ok(_) => {}
                }
                steps.push(StepModel::Sql(text));
            }
        }
    }

    // --- create -------------------------------------------------------------

    fn create(&mut self, table: &Name, items: &[TableItem]) -> Option<StepModel> {
        let name = table.value();
        self.check_ident("table", table);
        if self.tables.contains_key(&name) {
            self.error(
                table.span(),
                format!(
                    "table `{name}` is already created above in this `schema!`; drop or rename it first, or pick another name"
                ),
            );
        }
        let mut spans = TableSpans::new(&name, table.span());
        let mut model = Vec::new();
        let mut declared: Vec<String> = Vec::new();
        let mut primary: Option<(String, Option<String>)> = None;
        let mut lists: Vec<(ColumnList, &[Name])> = Vec::new();
        let mut foreign_keys = Vec::new();
        let mut history: Option<Word> = None;
        for item in items {
            match item {
                TableItem::Column(def) => {
                    let Some((column, fk)) = self.column(&name, def, &mut spans, false) else {
                        // reported; its name still counts as declared
                        spans.any_failed = true;
                        if let Some(n) = &def.name {
                            spans.failed.push(n.value());
                            declared.push(n.value());
                        }
                        continue;
                    };
                    let at = spans
                        .column(&column.name)
                        .map_or(Loc::at(def.kind.span()), |s| s.name);
                    self.declare(&mut declared, &name, &column.name, at, None);
                    if matches!(column.kind, ColumnKind::Id | ColumnKind::UuidId) {
                        let what = format!("`{}()`", def.kind.unraw());
                        self.declare_primary(
                            &mut primary,
                            what,
                            Some(&column.name),
                            Loc::at(def.kind.span()),
                            &mut spans,
                        );
                    }
                    if let Some(m) = def.modifiers.iter().find(|m| m.name == "primary") {
                        self.declare_primary(
                            &mut primary,
                            format!("`.primary()` on `{}`", column.name),
                            Some(&column.name),
                            Loc(m.name.span(), m.close),
                            &mut spans,
                        );
                    }
                    foreign_keys.extend(fk);
                    model.push(ItemModel::Column(column));
                }
                TableItem::Timestamps(kw) => {
                    for column in ["created_at", "updated_at"] {
                        self.declare(
                            &mut declared,
                            &name,
                            column,
                            Loc::at(kw.span()),
                            Some("timestamps()"),
                        );
                        let mut s = ColumnSpans::new(Loc::at(kw.span()));
                        s.default = Some(Loc::at(kw.span()));
                        spans.columns.push((column.to_string(), s));
                    }
                    model.push(ItemModel::Timestamps);
                }
                TableItem::SoftDeletes(kw) => {
                    self.declare(
                        &mut declared,
                        &name,
                        "deleted_at",
                        Loc::at(kw.span()),
                        Some("soft_deletes()"),
                    );
                    spans
                        .columns
                        .push(("deleted_at".into(), ColumnSpans::new(Loc::at(kw.span()))));
                    model.push(ItemModel::SoftDeletes);
                }
                TableItem::History(kw) => {
                    if history.is_some() {
                        self.error(kw.span(), format!("`history()` is given twice in `{name}`"));
                    }
                    history = Some(kw.clone());
                }
                TableItem::WithoutRowid(kw) => {
                    if spans.without_rowid.is_some() {
                        self.error(kw.span(), "`without_rowid()` is given twice");
                    }
                    spans.without_rowid = Some(Loc::at(kw.span()));
                    model.push(ItemModel::WithoutRowid);
                }
                TableItem::Primary { keyword, columns } => {
                    let at = Loc(
                        keyword.span(),
                        columns.last().map_or(keyword.span(), Name::span),
                    );
                    self.declare_primary(
                        &mut primary,
                        "`primary(..)`".into(),
                        None,
                        at,
                        &mut spans,
                    );
                    spans.primary = Some(at);
                    lists.push((ColumnList::Primary, columns));
                    model.push(ItemModel::Primary(
                        columns.iter().map(Name::value).collect(),
                    ));
                }
                TableItem::Index(def) => {
                    let (item, item_name) = self.index_item(&name, def);
                    spans.items.push((item_name, index_loc(def)));
                    lists.push((ColumnList::Index, &def.columns));
                    model.push(item);
                }
                TableItem::Check {
                    name: check_name,
                    expression,
                } => {
                    let item_name = match check_name {
                        Some(n) => {
                            self.check_ident_str("check", &n.value(), n.span());
                            n.value()
                        }
                        None => names::check(&name, &expression.value()),
                    };
                    spans
                        .items
                        .push((item_name.clone(), Loc::at(expression.span())));
                    spans.checks.push(item_name);
                    model.push(ItemModel::Check {
                        name: check_name.as_ref().map(|n| n.value()),
                        expression: expression.value(),
                    });
                }
            }
        }
        // index and primary-key columns may be declared anywhere in the block
        for (what, columns) in lists {
            self.check_column_list(
                &name,
                what.describe(),
                columns,
                |c| declared.iter().any(|d| d == c),
                &declared,
            );
        }
        let mut built = build_table(&name, &model);
        self.report_validation(&built, &spans, |_| true);
        for fk in &foreign_keys {
            self.check_foreign_key(Some(&built), fk);
        }
        if let Some(kw) = &history {
            for column in dal_schema::entity::audit_column_defs() {
                self.declare(
                    &mut declared,
                    &name,
                    &column.name,
                    Loc::at(kw.span()),
                    Some("history()"),
                );
                built.columns.push(column);
            }
            self.check_history_table(&name, kw.span(), &built);
        }
        self.tables.insert(name.clone(), built);
        self.gone.remove(&name);
        Some(StepModel::CreateTable {
            table: name,
            items: model,
            history: history.is_some(),
        })
    }

    /// Record a column name, reporting a second declaration.
    fn declare(
        &mut self,
        declared: &mut Vec<String>,
        table: &str,
        column: &str,
        at: Loc,
        by: Option<&str>,
    ) {
        if declared.iter().any(|d| d == column) {
            let message = match by {
                Some(item) => {
                    format!("`{item}` adds column `{column}`, which `{table}` already declares")
                }
                None => format!("column `{column}` is declared twice in `{table}`"),
            };
            self.error_at(at, message);
        } else {
            declared.push(column.to_string());
        }
    }

    /// Record where the primary key is declared, reporting a second declaration.
    fn declare_primary(
        &mut self,
        primary: &mut Option<(String, Option<String>)>,
        what: String,
        column: Option<&str>,
        at: Loc,
        spans: &mut TableSpans,
    ) {
        match primary {
            // `id().primary()`: the same key said twice
            Some((_, Some(c))) if column == Some(c.as_str()) => {}
            Some((first, _)) => {
                let first = first.clone();
                spans.primary_conflict = true;
                self.error_at(
                    at,
                    format!("the primary key is already declared by {first}; a table has one primary key (use `primary(a, b)` alone for a composite key)"),
                );
            }
            None => *primary = Some((what, column.map(str::to_string))),
        }
    }

    /// `index(..)` and friends, in `create` and in `alter`.
    /// Returns the item and the index's name (the builder's when not given).
    fn index_item(&mut self, table: &str, def: &IndexDef) -> (ItemModel, String) {
        if let Some(n) = &def.name {
            self.check_ident_str("index", &n.value(), n.span());
        }
        for c in &def.columns {
            self.check_ident("column", c);
        }
        let columns: Vec<String> = def.columns.iter().map(Name::value).collect();
        let name = match &def.name {
            Some(n) => n.value(),
            None if def.unique => names::unique_index(table, &columns),
            None => names::index(table, &columns),
        };
        let item = ItemModel::Index {
            name: def.name.as_ref().map(|n| n.value()),
            columns,
            unique: def.unique,
        };
        (item, name)
    }

    /// Each column of an index or key list must exist, and appear once.
    fn check_column_list(
        &mut self,
        table: &str,
        what: &str,
        columns: &[Name],
        exists: impl Fn(&str) -> bool,
        all: &[String],
    ) {
        let mut seen: Vec<String> = Vec::new();
        for c in columns {
            let v = c.value();
            if !exists(&v) {
                self.error(c.span(), unknown_column(table, &v, all, what));
            } else if seen.contains(&v) {
                self.error(c.span(), format!("column `{v}` appears twice in {what}"));
            }
            seen.push(v);
        }
    }

    /// Run the runtime's validator on a table built here, reporting what was not
    /// already reported, each on the token it is about.
    fn report_validation(
        &mut self,
        table: &Table,
        spans: &TableSpans,
        keep: impl Fn(&SchemaError) -> bool,
    ) {
        let Err(errors) = validate_table(table) else {
            return;
        };
        for e in errors {
            if !keep(&e) || spans.covered(&e, table) {
                continue;
            }
            let at = spans.locate(&e);
            match (&e.kind, &e.column, &e.item) {
                // a check naming an unknown column: say which are there
                (SchemaErrorKind::UnknownColumn, Some(column), Some(check))
                    if spans.checks.contains(check) =>
                {
                    let all: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
                    self.error_at(at, unknown_column(&table.name, column, &all, "the check"));
                }
                _ => self.error_at(at, &e.message),
            }
        }
    }
}

/// A list of columns that must exist in the table.
enum ColumnList {
    Primary,
    Index,
}

impl ColumnList {
    fn describe(&self) -> &'static str {
        match self {
            ColumnList::Primary => "the primary key",
            ColumnList::Index => "the index",
        }
    }
}

fn index_loc(def: &IndexDef) -> Loc {
    Loc(
        def.keyword.span(),
        def.columns.last().map_or(def.keyword.span(), Name::span),
    )
}

/// `unknown column `x` in the index of `t``, with the closest column or the list.
fn unknown_column(table: &str, column: &str, all: &[String], what: &str) -> String {
    let head = format!("unknown column `{column}` in {what} of `{table}`");
    match did_you_mean(column, all.iter().map(String::as_str)) {
        Some(s) => format!("{head}: did you mean `{s}`?"),
        None if all.is_empty() => format!("{head}: it has no columns"),
        None => format!("{head}; its columns are: {}", all.join(", ")),
    }
}

/// `table `t` has no index `x``, with the closest name or the list.
fn not_declared(table: &str, what: &str, name: &str, all: &[String]) -> String {
    let head = format!("`{table}` has no {what} `{name}`");
    match did_you_mean(name, all.iter().map(String::as_str)) {
        Some(s) => format!("{head}: did you mean `{s}`?"),
        None if all.is_empty() => format!("{head} (it has none)"),
        None => format!("{head}; it has: {}", all.join(", ")),
    }
}

fn action_names() -> String {
    ACTIONS
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// How a column type is written, for error messages.
fn kind_usage(kind: &str) -> String {
    match kind {
        "string" => "string(email, 150)".into(),
        "decimal" => "decimal(price, 10, 2)".into(),
        "enumeration" => "enumeration(role, [\"admin\", \"user\"])".into(),
        "array" => "array(tags, text), array(scores, big_integer), array(names, string, 40) or array(prices, decimal, 10, 2)".into(),
        "id" | "uuid_id" => format!("{kind}() or {kind}(name)"),
        other => format!("{other}(name)"),
    }
}

/// Whether a literal default fits the column's type; the message when it does not.
/// (Formats of dates, times, UUIDs and decimals, and NULL on a non-null column,
/// are left to the runtime validator.)
fn default_mismatch(kind: &ColumnKind, column: &str, value: &DefaultValue) -> Option<String> {
    use ColumnKind as K;
    let ty = kind.column_type();
    let integer = matches!(
        kind,
        K::Id
            | K::SmallInteger
            | K::Integer
            | K::BigInteger
            | K::UnsignedInteger
            | K::UnsignedBigInteger
            | K::ForeignId
    );
    let numeric = integer || matches!(kind, K::Float | K::Double | K::Decimal(..));
    let textual = matches!(kind, K::String(_) | K::Text | K::Enumeration(_));
    let kind_name = kind.method(false);
    match value {
        DefaultValue::Bool(_) => match kind {
            K::Boolean => None,
            _ => Some(format!(
                "a boolean default does not fit {kind_name} column `{column}`"
            )),
        },
        DefaultValue::Integer(i) => match kind {
            K::SmallInteger if i16::try_from(*i).is_err() => Some(format!(
                "{i} is out of range for small_integer column `{column}` (16-bit: -32768 to 32767)"
            )),
            K::Integer if i32::try_from(*i).is_err() => Some(format!(
                "{i} is out of range for integer column `{column}` (32-bit); use big_integer"
            )),
            K::UnsignedBigInteger if *i < 0 => Some(format!(
                "{i} is out of range for unsigned_big_integer column `{column}` (no negative values)"
            )),
            K::UnsignedInteger if u32::try_from(*i).is_err() => Some(format!(
                "{i} is out of range for unsigned_integer column `{column}` (0 to 4294967295)"
            )),
            _ if numeric => None,
            K::Boolean => Some(format!(
                "an integer default does not fit boolean column `{column}`: write `true` or `false`"
            )),
            _ if textual => Some(format!(
                "an integer default does not fit {kind_name} column `{column}`: write it as a string, \"{i}\""
            )),
            _ => Some(format!(
                "an integer default does not fit {ty} column `{column}`"
            )),
        },
        DefaultValue::Float(f) => match kind {
            K::Float | K::Double | K::Decimal(..) => None,
            _ if integer => Some(format!(
                "a float default does not fit {kind_name} column `{column}`: write an integer, or make the column float, double or decimal"
            )),
            K::Boolean => Some(format!(
                "a float default does not fit boolean column `{column}`: write `true` or `false`"
            )),
            _ if textual => Some(format!(
                "a float default does not fit {kind_name} column `{column}`: write it as a string, \"{f}\""
            )),
            _ => Some(format!(
                "a float default does not fit {ty} column `{column}`"
            )),
        },
        DefaultValue::String(s) => match kind {
            K::Enumeration(variants) if !variants.contains(s) => {
                let mut message =
                    format!("`{s}` is not one of the variants: {}", variants.join(", "));
                if let Some(close) = did_you_mean(s, variants.iter().map(String::as_str)) {
                    message.push_str(&format!("; did you mean `{close}`?"));
                }
                Some(message)
            }
            K::String(length) if s.chars().count() > *length as usize => Some(format!(
                "the default is {} characters long but `{column}` holds at most {length}",
                s.chars().count()
            )),
            K::Boolean => Some(format!(
                "a string default does not fit boolean column `{column}`: write `true` or `false` without quotes"
            )),
            _ if integer || matches!(kind, K::Float | K::Double) => Some(format!(
                "a string default does not fit {kind_name} column `{column}`: write the number without quotes"
            )),
            K::Binary => Some(format!("binary column `{column}` takes no string default")),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests;
