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
    ColumnType, DefaultValue, Dialect, MAX_IDENTIFIER_LEN, MAX_STRING_LENGTH, ReferentialAction,
    SchemaError, SchemaErrorKind, Table, TableBuilder, is_valid_identifier, validate_table,
};
use proc_macro2::Span;

pub(crate) use super::parse::HistoryAction;
use super::parse::{
    AlterItem, Arg, ColumnDef, IndexDef, Lit, Modifier, Name, SchemaInput, Statement, Str,
    TABLE_ITEMS, TableItem, Word,
};
use super::{did_you_mean, error_between, unknown_name};

// ---------------------------------------------------------------------------
// The model `expand` reads.

/// The checked script: its steps, in order.
pub(crate) struct ScriptModel {
    pub steps: Vec<StepModel>,
}

/// One step of the script.
pub(crate) enum StepModel {
    /// `Script::create_table(Table::build(table, |t| items))`, or
    /// `Script::create_table_with_history(..)` with `history()`.
    CreateTable {
        table: String,
        items: Vec<ItemModel>,
        history: bool,
    },
    /// `Script::add_history(table)`, `refresh_history` or `drop_history`.
    History {
        table: String,
        action: HistoryAction,
    },
    /// `Script::add_to_table(table, |t| items)`: an `alter` item that adds a
    /// column, an index or a check.
    AddToTable {
        table: String,
        items: Vec<ItemModel>,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    DropIndex {
        table: String,
        name: String,
    },
    DropCheck {
        table: String,
        name: String,
    },
    /// The foreign key's name is resolved at compile time (`drop_foreign(col)`
    /// names the key on that column).
    DropForeign {
        table: String,
        name: String,
    },
    DropTable {
        name: String,
        if_exists: bool,
    },
    RenameTable {
        from: String,
        to: String,
    },
    Sql(String),
}

/// One fluent-builder call on a table.
#[derive(Clone)]
pub(crate) enum ItemModel {
    Column(ColumnModel),
    Timestamps,
    SoftDeletes,
    WithoutRowid,
    Primary(Vec<String>),
    Index {
        name: Option<String>,
        columns: Vec<String>,
        unique: bool,
    },
    Check {
        name: Option<String>,
        expression: String,
    },
}

/// A column: the builder method, its modifiers, its foreign key.
#[derive(Clone)]
pub(crate) struct ColumnModel {
    pub kind: ColumnKind,
    pub name: String,
    /// `id(name)` / `uuid_id(name)` (`id_named` / `uuid_id_named`) rather than `id()`.
    pub explicit_name: bool,
    /// Column modifiers in the order written.
    pub modifiers: Vec<ColumnModifier>,
    pub foreign: Option<ForeignModel>,
}

/// A column type of the grammar with its arguments resolved.
#[derive(Clone, PartialEq)]
pub(crate) enum ColumnKind {
    Id,
    UuidId,
    String(u32),
    Text,
    SmallInteger,
    Integer,
    BigInteger,
    UnsignedInteger,
    UnsignedBigInteger,
    Boolean,
    Float,
    Double,
    Decimal(u8, u8),
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
    Binary,
    Enumeration(Vec<String>),
    /// `array(name, element)`: a list of the element's type.
    Array(Box<ColumnKind>),
    ForeignId,
    ForeignUuid,
}

/// A modifier that changes the column itself.
#[derive(Clone)]
pub(crate) enum ColumnModifier {
    Nullable,
    Default(DefaultValue),
    UseCurrent,
    Unique,
    Index,
    AutoIncrement,
    Primary,
}

/// `.references(..)` and the modifiers of the foreign key it adds.
#[derive(Clone)]
pub(crate) struct ForeignModel {
    pub table: String,
    pub column: Option<String>,
    pub on_delete: Option<ReferentialAction>,
    pub on_update: Option<ReferentialAction>,
    pub name: Option<String>,
    pub external: bool,
}

/// The column types, as written.
const KINDS: &[&str] = &[
    "id",
    "uuid_id",
    "string",
    "text",
    "small_integer",
    "integer",
    "big_integer",
    "unsigned_integer",
    "unsigned_big_integer",
    "boolean",
    "float",
    "double",
    "decimal",
    "date",
    "time",
    "timestamp",
    "timestamp_tz",
    "uuid",
    "json",
    "binary",
    "enumeration",
    "array",
    "foreign_id",
    "foreign_uuid",
];

/// The column types an `array(name, element)` can hold (the scalars of
/// `ColumnType::is_array_element`).
const ARRAY_ELEMENTS: &[&str] = &[
    "small_integer",
    "integer",
    "big_integer",
    "boolean",
    "float",
    "double",
    "decimal",
    "string",
    "text",
    "date",
    "time",
    "timestamp",
    "timestamp_tz",
    "uuid",
];

/// Names from SQL, Rust and other schema builders, and what dal calls them.
const KIND_ALIASES: &[(&str, &str)] = &[
    ("bool", "boolean"),
    ("int", "integer"),
    ("int4", "integer"),
    ("i32", "integer"),
    ("smallint", "small_integer"),
    ("int2", "small_integer"),
    ("i16", "small_integer"),
    ("bigint", "big_integer"),
    ("int8", "big_integer"),
    ("i64", "big_integer"),
    ("u32", "unsigned_integer"),
    ("unsigned_int", "unsigned_integer"),
    ("int_unsigned", "unsigned_integer"),
    ("u64", "unsigned_big_integer"),
    ("unsigned_bigint", "unsigned_big_integer"),
    ("bigint_unsigned", "unsigned_big_integer"),
    ("varchar", "string"),
    ("char", "string"),
    ("str", "string"),
    ("longtext", "text"),
    ("enum", "enumeration"),
    ("datetime", "timestamp"),
    ("timestamptz", "timestamp_tz"),
    ("blob", "binary"),
    ("bytes", "binary"),
    ("bytea", "binary"),
    ("jsonb", "json"),
    ("real", "float"),
    ("f32", "float"),
    ("f64", "double"),
    ("numeric", "decimal"),
    ("increments", "id"),
    ("big_increments", "id"),
];

const MODIFIERS: &[&str] = &[
    "nullable",
    "default",
    "use_current",
    "unique",
    "index",
    "auto_increment",
    "primary",
    "references",
    "on_delete",
    "on_update",
    "named",
    "external",
];

const MODIFIER_ALIASES: &[(&str, &str)] = &[
    ("null", "nullable"),
    ("optional", "nullable"),
    ("primary_key", "primary"),
    ("pk", "primary"),
    ("foreign", "references"),
    ("autoincrement", "auto_increment"),
    ("increments", "auto_increment"),
    ("default_value", "default"),
    ("use_current_timestamp", "use_current"),
    ("name", "named"),
    ("constrained", "references"),
];

const ACTIONS: &[(&str, ReferentialAction)] = &[
    ("cascade", ReferentialAction::Cascade),
    ("set_null", ReferentialAction::SetNull),
    ("restrict", ReferentialAction::Restrict),
    ("no_action", ReferentialAction::NoAction),
    ("set_default", ReferentialAction::SetDefault),
];

impl ColumnKind {
    /// The builder method that adds the column.
    pub fn method(&self, explicit_name: bool) -> &'static str {
        use ColumnKind as K;
        match self {
            K::Id if explicit_name => "id_named",
            K::Id => "id",
            K::UuidId if explicit_name => "uuid_id_named",
            K::UuidId => "uuid_id",
            K::String(_) => "string",
            K::Text => "text",
            K::SmallInteger => "small_integer",
            K::Integer => "integer",
            K::BigInteger => "big_integer",
            K::UnsignedInteger => "unsigned_integer",
            K::UnsignedBigInteger => "unsigned_big_integer",
            K::Boolean => "boolean",
            K::Float => "float",
            K::Double => "double",
            K::Decimal(..) => "decimal",
            K::Date => "date",
            K::Time => "time",
            K::Timestamp => "timestamp",
            K::TimestampTz => "timestamp_tz",
            K::Uuid => "uuid",
            K::Json => "json",
            K::Binary => "binary",
            K::Enumeration(_) => "enumeration",
            K::Array(_) => "array",
            K::ForeignId => "foreign_id",
            K::ForeignUuid => "foreign_uuid",
        }
    }

    /// The column type the builder gives this kind.
    pub(crate) fn column_type(&self) -> ColumnType {
        use ColumnKind as K;
        match self {
            K::Id | K::BigInteger | K::ForeignId => ColumnType::BigInteger,
            K::UnsignedInteger => ColumnType::UnsignedInteger,
            K::UnsignedBigInteger => ColumnType::UnsignedBigInteger,
            K::UuidId | K::Uuid | K::ForeignUuid => ColumnType::Uuid,
            K::String(length) => ColumnType::String { length: *length },
            K::Text => ColumnType::Text,
            K::SmallInteger => ColumnType::SmallInteger,
            K::Integer => ColumnType::Integer,
            K::Boolean => ColumnType::Boolean,
            K::Float => ColumnType::Float,
            K::Double => ColumnType::Double,
            K::Decimal(precision, scale) => ColumnType::Decimal {
                precision: *precision,
                scale: *scale,
            },
            K::Date => ColumnType::Date,
            K::Time => ColumnType::Time,
            K::Timestamp => ColumnType::Timestamp,
            K::TimestampTz => ColumnType::TimestampTz,
            K::Json => ColumnType::Json,
            K::Binary => ColumnType::Binary,
            K::Enumeration(variants) => ColumnType::Enumeration {
                variants: variants.clone(),
            },
            K::Array(element) => ColumnType::array(element.column_type()),
        }
    }
}

// ---------------------------------------------------------------------------
// The compile-time twin of the expansion: the same builder calls, run here to
// check the result. `expand.rs` emits exactly these calls.

impl ItemModel {
    fn apply(&self, t: &mut TableBuilder) {
        match self {
            ItemModel::Column(c) => c.apply(t),
            ItemModel::Timestamps => {
                t.timestamps();
            }
            ItemModel::SoftDeletes => {
                t.soft_deletes();
            }
            ItemModel::WithoutRowid => {
                t.without_rowid();
            }
            ItemModel::Primary(columns) => {
                t.primary(columns);
            }
            ItemModel::Index {
                name,
                columns,
                unique,
            } => {
                match (name, unique) {
                    (None, false) => t.index(columns),
                    (None, true) => t.unique_index(columns),
                    (Some(n), false) => t.index_named(n, columns),
                    (Some(n), true) => t.unique_index_named(n, columns),
                };
            }
            ItemModel::Check { name, expression } => {
                match name {
                    Some(n) => t.check_named(n, expression),
                    None => t.check(expression),
                };
            }
        }
    }
}

impl ColumnModel {
    fn apply(&self, t: &mut TableBuilder) {
        use ColumnKind as K;
        let n = self.name.as_str();
        let mut b = match &self.kind {
            K::Id if self.explicit_name => t.id_named(n),
            K::Id => t.id(),
            K::UuidId if self.explicit_name => t.uuid_id_named(n),
            K::UuidId => t.uuid_id(),
            K::String(length) => t.string(n, *length),
            K::Text => t.text(n),
            K::SmallInteger => t.small_integer(n),
            K::Integer => t.integer(n),
            K::BigInteger => t.big_integer(n),
            K::UnsignedInteger => t.unsigned_integer(n),
            K::UnsignedBigInteger => t.unsigned_big_integer(n),
            K::Boolean => t.boolean(n),
            K::Float => t.float(n),
            K::Double => t.double(n),
            K::Decimal(p, s) => t.decimal(n, *p, *s),
            K::Date => t.date(n),
            K::Time => t.time(n),
            K::Timestamp => t.timestamp(n),
            K::TimestampTz => t.timestamp_tz(n),
            K::Uuid => t.uuid(n),
            K::Json => t.json(n),
            K::Binary => t.binary(n),
            K::Enumeration(variants) => t.enumeration(n, variants),
            K::Array(element) => t.array(n, element.column_type()),
            K::ForeignId => t.foreign_id(n),
            K::ForeignUuid => t.foreign_uuid(n),
        };
        for m in &self.modifiers {
            b = match m {
                ColumnModifier::Nullable => b.nullable(),
                ColumnModifier::Default(v) => b.default(v.clone()),
                ColumnModifier::UseCurrent => b.use_current(),
                ColumnModifier::Unique => b.unique(),
                ColumnModifier::Index => b.index(),
                ColumnModifier::AutoIncrement => b.auto_increment(),
                ColumnModifier::Primary => b.primary(),
            };
        }
        if let Some(fk) = &self.foreign {
            let f = match &fk.column {
                Some(column) => b.references_column(&fk.table, column),
                None => b.references(&fk.table),
            };
            let f = match fk.on_delete {
                Some(a) => f.on_delete(a),
                None => f,
            };
            let f = match fk.on_update {
                Some(a) => f.on_update(a),
                None => f,
            };
            let f = match &fk.name {
                Some(name) => f.named(name),
                None => f,
            };
            if fk.external {
                f.external();
            }
        }
    }
}

fn build_table(name: &str, items: &[ItemModel]) -> Table {
    Table::build(name, |t| {
        for item in items {
            item.apply(t);
        }
    })
}

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
        if is_valid_identifier(value) {
            return;
        }
        let well_formed = !value.is_empty()
            && !value.starts_with(|c: char| c.is_ascii_digit())
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let message = if well_formed {
            format!(
                "{what} name `{value}` is {} bytes long; the limit is {MAX_IDENTIFIER_LEN} (PostgreSQL's)",
                value.len()
            )
        } else {
            format!(
                "invalid {what} name `{value}`: use 1 to {MAX_IDENTIFIER_LEN} ASCII letters, digits or `_`, not starting with a digit"
            )
        };
        self.error(span, message);
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

    // --- columns ------------------------------------------------------------

    /// Lower a column definition (in `create`, or after `add` in `alter`).
    fn column(
        &mut self,
        table: &str,
        def: &ColumnDef,
        spans: &mut TableSpans,
        in_alter: bool,
    ) -> Option<(ColumnModel, Option<PendingForeignKey>)> {
        let kind_name = def.kind.unraw().to_string();
        let call = Loc(def.kind.span(), def.call_end());
        let Some(kind_index) = KINDS.iter().position(|k| *k == kind_name) else {
            let message = match did_you_mean(&kind_name, KINDS.iter().chain(TABLE_ITEMS).copied())
                .or_else(|| {
                    KIND_ALIASES
                        .iter()
                        .find(|(a, _)| a.eq_ignore_ascii_case(&kind_name))
                        .map(|(_, k)| *k)
                }) {
                Some(s) => format!("unknown column type `{kind_name}`: did you mean `{s}`?"),
                None => format!(
                    "unknown column type `{kind_name}`; column types are: {}; table items are: {}",
                    KINDS.join(", "),
                    TABLE_ITEMS.join(", ")
                ),
            };
            self.error(def.kind.span(), message);
            return None;
        };
        let kind_name = KINDS[kind_index];
        let is_id = matches!(kind_name, "id" | "uuid_id");
        if in_alter && is_id {
            self.error_at(
                call,
                format!("`{kind_name}()` declares a primary key, which `alter` cannot add to an existing table; add a plain column instead"),
            );
            return None;
        }
        let (name, explicit_name) = match &def.name {
            Some(n) => {
                self.check_ident("column", n);
                (n.value(), true)
            }
            None if is_id => ("id".to_string(), false),
            None => {
                let hint = if kind_name == "timestamp" {
                    " (for `created_at` and `updated_at`, write `timestamps()`)"
                } else {
                    ""
                };
                self.error_at(
                    call,
                    format!(
                        "`{kind_name}` needs a column name first: {}{hint}",
                        kind_usage(kind_name)
                    ),
                );
                return None;
            }
        };
        let kind = self.kind_args(kind_name, def, call)?;
        let name_loc = match &def.name {
            Some(n) => Loc::at(n.span()),
            None => Loc::at(def.kind.span()),
        };
        let mut s = ColumnSpans::new(name_loc);
        if kind == ColumnKind::Id {
            s.auto_increment = Some(call);
        }

        let Modifiers {
            list: modifiers,
            references,
            on_delete,
            on_update,
            fk_name,
            external,
            default,
        } = self.modifiers(table, &name, def, in_alter, &mut s, spans);

        let column_type = kind.column_type();
        if let Some((value, loc)) = &default
            && let Some(problem) = default_mismatch(&kind, &name, value)
        {
            spans.default_reported.push(name.clone());
            self.error_at(*loc, problem);
        }

        let mut pending = None;
        let foreign = references.map(|(m, target, column)| {
            let at = Loc(m.name.span(), m.close);
            let fk = ForeignModel {
                table: target.value(),
                column: column.as_ref().map(Name::value),
                on_delete,
                on_update,
                name: fk_name.clone(),
                external,
            };
            let constraint = fk_name
                .clone()
                .unwrap_or_else(|| names::foreign_key(table, std::slice::from_ref(&name)));
            spans.items.push((constraint, at));
            pending = Some(PendingForeignKey {
                column: name.clone(),
                column_type: column_type.clone(),
                table: target,
                target_column: column,
                external,
                at,
            });
            fk
        });
        spans.columns.push((name.clone(), s));
        Some((
            ColumnModel {
                kind,
                name,
                explicit_name,
                modifiers,
                foreign,
            },
            pending,
        ))
    }

    /// The modifiers of a column, checked: each one known, given once, with
    /// the right arguments; the foreign-key ones only with `.references(..)`.
    fn modifiers<'d>(
        &mut self,
        table: &str,
        name: &str,
        def: &'d ColumnDef,
        in_alter: bool,
        s: &mut ColumnSpans,
        spans: &mut TableSpans,
    ) -> Modifiers<'d> {
        let mut modifiers = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        let mut references: Option<(&Modifier, Name, Option<Name>)> = None;
        let mut on_delete = None;
        let mut on_update = None;
        let mut fk_name = None;
        let mut external = false;
        let mut fk_modifiers: Vec<&Modifier> = Vec::new();
        let mut default: Option<(DefaultValue, Loc)> = None;
        for m in &def.modifiers {
            let m_name = m.name.unraw().to_string();
            let at = Loc(m.name.span(), m.close);
            let Some(m_index) = MODIFIERS.iter().position(|k| *k == m_name) else {
                let close = did_you_mean(&m_name, MODIFIERS.iter().copied()).or_else(|| {
                    MODIFIER_ALIASES
                        .iter()
                        .find(|(a, _)| a.eq_ignore_ascii_case(&m_name))
                        .map(|(_, k)| *k)
                });
                let message = match close {
                    Some(s) => format!("unknown modifier `.{m_name}()`: did you mean `.{s}()`?"),
                    None => format!(
                        "unknown modifier `.{m_name}()`; modifiers are: {}",
                        MODIFIERS
                            .iter()
                            .map(|m| format!(".{m}()"))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                };
                self.error(m.name.span(), message);
                continue;
            };
            let m_name = MODIFIERS[m_index];
            if seen.iter().any(|x| x == m_name) {
                self.error_at(at, format!("`.{m_name}()` is given twice"));
                continue;
            }
            if (m_name == "default" && seen.iter().any(|x| x == "use_current"))
                || (m_name == "use_current" && seen.iter().any(|x| x == "default"))
            {
                self.error_at(
                    at,
                    "`.default(..)` and `.use_current()` both set the default; keep one",
                );
                continue;
            }
            seen.push(m_name.to_string());
            if in_alter && matches!(m_name, "primary" | "auto_increment") {
                self.error_at(
                    at,
                    format!("`.{m_name}()` cannot be added by `alter`: dal does not change a table's primary key in place"),
                );
                continue;
            }
            match m_name {
                "nullable" | "use_current" | "unique" | "index" | "auto_increment" | "primary"
                | "external" => {
                    if let Some(extra) = m.args.first() {
                        self.error(extra.span(), format!("`.{m_name}()` takes no arguments"));
                        continue;
                    }
                    match m_name {
                        "nullable" => {
                            s.nullable = Some(at);
                            modifiers.push(ColumnModifier::Nullable);
                        }
                        "use_current" => {
                            s.default = Some(at);
                            modifiers.push(ColumnModifier::UseCurrent);
                        }
                        "unique" => {
                            s.unique = Some(at);
                            modifiers.push(ColumnModifier::Unique);
                        }
                        "index" => {
                            spans
                                .items
                                .push((names::index(table, &[name.to_string()]), at));
                            modifiers.push(ColumnModifier::Index);
                        }
                        "auto_increment" => {
                            s.auto_increment = Some(at);
                            modifiers.push(ColumnModifier::AutoIncrement);
                        }
                        "primary" => modifiers.push(ColumnModifier::Primary),
                        _ => {
                            external = true;
                            fk_modifiers.push(m);
                        }
                    }
                }
                "default" => {
                    if m.args.len() != 1 {
                        self.arity(m, "one literal: `.default(0)`, `.default(\"text\")`, `.default(true)` or `.default(null)`");
                        continue;
                    }
                    let arg = &m.args[0];
                    let loc = Loc(arg.span(), arg.end_span());
                    if let Some(v) = self.default_value(arg) {
                        s.default = Some(loc);
                        default = Some((v.clone(), loc));
                        modifiers.push(ColumnModifier::Default(v));
                    }
                }
                "references" => {
                    if m.args.is_empty() || m.args.len() > 2 {
                        self.arity(m, "a table and an optional column: `.references(users)` or `.references(users, id)`");
                        continue;
                    }
                    let mut parts = Vec::new();
                    for a in &m.args {
                        match a.as_name() {
                            Some(n) => parts.push(n),
                            None => self.error(
                                a.span(),
                                "expected a table or column name: `.references(users, id)`",
                            ),
                        }
                    }
                    if parts.len() != m.args.len() {
                        continue;
                    }
                    self.check_ident("table", &parts[0]);
                    if let Some(c) = parts.get(1) {
                        self.check_ident("column", c);
                    }
                    let column = parts.get(1).cloned();
                    references = Some((m, parts.remove(0), column));
                }
                "on_delete" | "on_update" => {
                    fk_modifiers.push(m);
                    if m.args.len() != 1 {
                        self.arity(
                            m,
                            &format!(
                                "one action: `.{m_name}(cascade)`; actions are: {}",
                                action_names()
                            ),
                        );
                        continue;
                    }
                    if let Some(action) = self.action(&m.args[0], m_name) {
                        if action == ReferentialAction::SetNull {
                            s.set_null = Some(Loc::at(m.args[0].span()));
                        }
                        if m_name == "on_delete" {
                            on_delete = Some(action);
                        } else {
                            on_update = Some(action);
                        }
                    }
                }
                _ => {
                    // named
                    fk_modifiers.push(m);
                    match m.args.as_slice() {
                        [Arg::Lit(Lit::Str(n))] => {
                            self.check_ident_str("foreign key", &n.value(), n.span());
                            fk_name = Some(n.value());
                        }
                        _ => self.arity(m, "the foreign key's name as a string: `.named(\"posts_author_foreign\")`"),
                    }
                }
            }
        }
        // foreign-key modifiers need a foreign key
        if references.is_none() {
            for m in &fk_modifiers {
                self.error(
                    m.name.span(),
                    format!(
                        "`.{}()` applies to a foreign key: add `.references(table)` to this column",
                        m.name.unraw()
                    ),
                );
            }
        }

        Modifiers {
            list: modifiers,
            references,
            on_delete,
            on_update,
            fk_name,
            external,
            default,
        }
    }

    /// A wrong number of arguments to a modifier, reported on the call.
    fn arity(&mut self, m: &Modifier, takes: &str) {
        let message = format!("`.{}()` takes {takes}", m.name.unraw());
        let at = match m.args.first() {
            Some(a) if m.args.len() > 1 => Loc(
                m.args[1].span(),
                m.args.last().map_or(a.end_span(), Arg::end_span),
            ),
            _ => Loc(m.name.span(), m.close),
        };
        self.error_at(at, message);
    }

    /// The type arguments of a column (`150` of `string(email, 150)`), checked.
    fn kind_args(&mut self, kind: &str, def: &ColumnDef, call: Loc) -> Option<ColumnKind> {
        let args = &def.args;
        let too_many = |cx: &mut Lowerer, allowed: usize, takes: &str| {
            if let Some(extra) = args.get(allowed) {
                cx.error_at(
                    Loc(
                        extra.span(),
                        args.last().map_or(extra.end_span(), Arg::end_span),
                    ),
                    format!("`{kind}` takes {takes}: {}", kind_usage(kind)),
                );
                true
            } else {
                false
            }
        };
        use ColumnKind as K;
        Some(match kind {
            "id" | "uuid_id" => {
                if too_many(self, 0, "at most a column name") {
                    return None;
                }
                if kind == "id" { K::Id } else { K::UuidId }
            }
            "string" => {
                if too_many(self, 1, "a column name and an optional length") {
                    return None;
                }
                match args.first() {
                    None => K::String(255),
                    Some(a) => {
                        let length = self.integer_arg(a, "string length")?;
                        if length == 0 || length > u64::from(MAX_STRING_LENGTH) {
                            let hint = if length > 0 {
                                " (use text() for longer values)"
                            } else {
                                ""
                            };
                            self.error(
                                a.span(),
                                format!("string length must be between 1 and {MAX_STRING_LENGTH}, got {length}{hint}"),
                            );
                            K::String(255)
                        } else {
                            K::String(length as u32)
                        }
                    }
                }
            }
            "decimal" => {
                if args.len() < 2 {
                    self.error_at(
                        call,
                        format!(
                            "`decimal` takes a column name, a precision and a scale: {}",
                            kind_usage(kind)
                        ),
                    );
                    return None;
                }
                if too_many(self, 2, "a column name, a precision and a scale") {
                    return None;
                }
                let precision = self.integer_arg(&args[0], "decimal precision")?;
                let scale = self.integer_arg(&args[1], "decimal scale")?;
                let mut p = 10u8;
                if (1..=65).contains(&precision) {
                    p = precision as u8;
                } else {
                    self.error(
                        args[0].span(),
                        format!("decimal precision must be between 1 and 65, got {precision}"),
                    );
                }
                let mut s = 0u8;
                if scale <= 30 && scale <= precision {
                    s = scale.min(u64::from(p)) as u8;
                } else {
                    self.error(
                        args[1].span(),
                        format!("decimal scale must be at most the precision ({precision}) and at most 30, got {scale}"),
                    );
                }
                K::Decimal(p, s)
            }
            "enumeration" => {
                let Some(first) = args.first() else {
                    self.error_at(
                        call,
                        format!(
                            "`enumeration` takes a column name and a list of variants: {}",
                            kind_usage(kind)
                        ),
                    );
                    return None;
                };
                if too_many(self, 1, "a column name and a list of variants") {
                    return None;
                }
                let Arg::List(bracket, items) = first else {
                    self.error(
                        first.span(),
                        format!(
                            "expected the variants as a list of strings: {}",
                            kind_usage(kind)
                        ),
                    );
                    return None;
                };
                if items.is_empty() {
                    self.error(*bracket, "an enumeration needs at least one variant");
                    return None;
                }
                let mut variants: Vec<String> = Vec::new();
                for item in items {
                    match item {
                        Arg::Lit(Lit::Str(v)) => {
                            let value = v.value();
                            if value.is_empty() || value.len() > 255 {
                                self.error(
                                    v.span(),
                                    "an enumeration variant must be 1 to 255 bytes long",
                                );
                            } else if variants.contains(&value) {
                                self.error(
                                    v.span(),
                                    format!("variant \"{value}\" is listed twice"),
                                );
                            } else {
                                variants.push(value);
                            }
                        }
                        other => self.error(other.span(), "expected a variant as a string literal"),
                    }
                }
                if variants.is_empty() {
                    return None;
                }
                K::Enumeration(variants)
            }
            "array" => {
                let Some(first) = args.first() else {
                    self.error_at(
                        call,
                        format!(
                            "`array` takes a column name and an element type: {}",
                            kind_usage(kind)
                        ),
                    );
                    return None;
                };
                let Arg::Ident(element) = first else {
                    self.error(
                        first.span(),
                        format!("expected the element type as a name: {}", kind_usage(kind)),
                    );
                    return None;
                };
                let element_name = element.unraw().to_string();
                if !ARRAY_ELEMENTS.contains(&element_name.as_str()) {
                    let message = if KINDS.contains(&element_name.as_str()) {
                        format!(
                            "`{element_name}` cannot be an array element: an array holds {}; store nested or structured values with `json(name)`",
                            ARRAY_ELEMENTS.join(", ")
                        )
                    } else {
                        unknown_name(
                            "array element type",
                            &element_name,
                            ARRAY_ELEMENTS,
                            KIND_ALIASES,
                        )
                    };
                    self.error(element.span(), message);
                    return None;
                }
                // the element's own arguments follow it: `string, 40`, `decimal, 10, 2`
                let element_def = ColumnDef {
                    kind: element.clone(),
                    close: def.close,
                    name: def.name.clone(),
                    args: args[1..].to_vec(),
                    modifiers: Vec::new(),
                };
                let element_kind = self.kind_args(&element_name, &element_def, call)?;
                K::Array(Box::new(element_kind))
            }
            other => {
                if too_many(self, 0, "only a column name") {
                    return None;
                }
                match other {
                    "text" => K::Text,
                    "small_integer" => K::SmallInteger,
                    "integer" => K::Integer,
                    "big_integer" => K::BigInteger,
                    "unsigned_integer" => K::UnsignedInteger,
                    "unsigned_big_integer" => K::UnsignedBigInteger,
                    "boolean" => K::Boolean,
                    "float" => K::Float,
                    "double" => K::Double,
                    "date" => K::Date,
                    "time" => K::Time,
                    "timestamp" => K::Timestamp,
                    "timestamp_tz" => K::TimestampTz,
                    "uuid" => K::Uuid,
                    "json" => K::Json,
                    "binary" => K::Binary,
                    "foreign_id" => K::ForeignId,
                    _ => K::ForeignUuid,
                }
            }
        })
    }

    /// A non-negative integer literal.
    fn integer_arg(&mut self, arg: &Arg, what: &str) -> Option<u64> {
        match arg {
            Arg::Lit(Lit::Int(i)) => match i.base10_parse::<u64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    self.error(i.span(), format!("{what} is too large"));
                    None
                }
            },
            Arg::Neg(minus, _) => {
                self.error(*minus, format!("{what} cannot be negative"));
                None
            }
            other => {
                self.error(other.span(), format!("expected an integer {what}"));
                None
            }
        }
    }

    /// The literal of `.default(..)`.
    fn default_value(&mut self, arg: &Arg) -> Option<DefaultValue> {
        let loc = Loc(arg.span(), arg.end_span());
        let number = |lit: &Lit, negative: bool| -> Result<DefaultValue, String> {
            match lit {
                Lit::Int(i) => {
                    let v: i128 = i
                        .base10_parse::<i128>()
                        .map_err(|_| "integer default does not fit in 64 bits".to_string())?;
                    let v = if negative { -v } else { v };
                    i64::try_from(v)
                        .map(DefaultValue::Integer)
                        .map_err(|_| "integer default does not fit in 64 bits".to_string())
                }
                Lit::Float(f) => {
                    let v: f64 = f
                        .base10_parse()
                        .map_err(|e| format!("invalid float default: {e}"))?;
                    if !v.is_finite() {
                        return Err("float default is not a finite number".into());
                    }
                    Ok(DefaultValue::Float(if negative { -v } else { v }))
                }
                _ => Err("only numbers can be negative".into()),
            }
        };
        let result = match arg {
            Arg::Lit(Lit::Bool(b)) => Ok(DefaultValue::Bool(b.value)),
            Arg::Lit(Lit::Str(s)) => Ok(DefaultValue::String(s.value())),
            Arg::Lit(lit @ (Lit::Int(_) | Lit::Float(_))) => number(lit, false),
            Arg::Neg(_, lit) => number(lit, true),
            Arg::Ident(i) if i == "null" => Ok(DefaultValue::Null),
            Arg::Ident(i) if ["NULL", "None", "nil", "Null"].contains(&i.to_string().as_str()) => {
                Err(format!("write `null` for a NULL default, not `{i}`"))
            }
            _ => Err(
                "`.default(..)` takes a literal: an integer, a float, a string, `true`/`false` or `null`".into(),
            ),
        };
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.error_at(loc, message);
                None
            }
        }
    }

    /// A referential action of `.on_delete(..)` / `.on_update(..)`.
    fn action(&mut self, arg: &Arg, modifier: &str) -> Option<ReferentialAction> {
        let names: Vec<&str> = ACTIONS.iter().map(|(n, _)| *n).collect();
        match arg {
            Arg::Ident(i) => {
                let got = i.unraw().to_string();
                if let Some((_, a)) = ACTIONS.iter().find(|(n, _)| *n == got) {
                    return Some(*a);
                }
                let aliases = [
                    ("null", "set_null"),
                    ("setnull", "set_null"),
                    ("nullify", "set_null"),
                    ("delete", "cascade"),
                    ("none", "no_action"),
                    ("nothing", "no_action"),
                    ("noaction", "no_action"),
                ];
                self.error(
                    i.span(),
                    unknown_name("referential action", &got, &names, &aliases),
                );
                None
            }
            Arg::Lit(Lit::Str(s)) => {
                let value = s.value();
                let hint = match ReferentialAction::parse(&value) {
                    Some(a) => ACTIONS
                        .iter()
                        .find(|(_, x)| *x == a)
                        .map(|(n, _)| format!("`.{modifier}({n})`"))
                        .unwrap_or_default(),
                    None => format!("one of {}", names.join(", ")),
                };
                self.error(
                    s.span(),
                    format!("write the action as a name, without quotes: {hint}"),
                );
                None
            }
            other => {
                self.error(
                    other.span(),
                    format!("expected a referential action: {}", names.join(", ")),
                );
                None
            }
        }
    }

    // --- foreign keys -------------------------------------------------------

    /// A foreign key must reference a table created above in this `schema!` (or
    /// the table itself), and a column of it that exists, has a compatible type
    /// and is unique; `.external()` opts out.
    fn check_foreign_key(&mut self, this: Option<&Table>, fk: &PendingForeignKey) {
        if fk.external {
            return;
        }
        let target_name = fk.table.value();
        let target = match this.filter(|t| t.name == target_name) {
            Some(t) => Some(t),
            None => self.tables.get(&target_name),
        };
        let problem: Option<(Loc, String)> = match target {
            None => {
                let mut message = match self.gone.get(&target_name) {
                    Some(what) => format!("table `{target_name}` {what} above in this `schema!`"),
                    None if self.created_below.contains(&target_name) => format!(
                        "table `{target_name}` is created further down in this `schema!`: create it first (PostgreSQL and MySQL check the reference when the table is created)"
                    ),
                    None => format!("table `{target_name}` is not created in this `schema!`"),
                };
                let candidates = self
                    .tables
                    .keys()
                    .map(String::as_str)
                    .chain(this.map(|t| t.name.as_str()));
                if let Some(s) = did_you_mean(&target_name, candidates) {
                    message.push_str(&format!("; did you mean `{s}`?"));
                }
                message.push_str(
                    " (mark the reference `.external()` if the table is managed elsewhere)",
                );
                Some((Loc::at(fk.table.span()), message))
            }
            Some(target) => {
                let column = fk
                    .target_column
                    .as_ref()
                    .map_or_else(|| "id".to_string(), Name::value);
                let at = fk
                    .target_column
                    .as_ref()
                    .map_or(Loc::at(fk.table.span()), |c| Loc::at(c.span()));
                match target.column(&column) {
                    None => {
                        let mut message = format!("table `{target_name}` has no column `{column}`");
                        if fk.target_column.is_none() && target.primary_key.len() == 1 {
                            let pk = &target.primary_key[0];
                            message.push_str(&format!(
                                ": its primary key is `{pk}`, write `.references({target_name}, {pk})`"
                            ));
                        } else {
                            let all: Vec<&str> =
                                target.columns.iter().map(|c| c.name.as_str()).collect();
                            match did_you_mean(&column, all.iter().copied()) {
                                Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
                                None => {
                                    message.push_str(&format!(" (its columns: {})", all.join(", ")))
                                }
                            }
                        }
                        Some((at, message))
                    }
                    Some(tc) => {
                        // the MySQL family refuses keys between signed and unsigned integers
                        let compatible = tc.ty == fk.column_type
                            || (tc.ty.is_integer()
                                && fk.column_type.is_integer()
                                && tc.ty.is_unsigned() == fk.column_type.is_unsigned());
                        let unique = target.primary_key == [column.clone()]
                            || tc.unique
                            || target
                                .indexes
                                .iter()
                                .any(|i| i.unique && i.columns == [column.clone()]);
                        if !compatible {
                            let hint = match &tc.ty {
                                ColumnType::Uuid => {
                                    format!("; declare it with `foreign_uuid({})`", fk.column)
                                }
                                ColumnType::UnsignedBigInteger => {
                                    format!(
                                        "; declare it with `unsigned_big_integer({}).references(..)`",
                                        fk.column
                                    )
                                }
                                ColumnType::UnsignedInteger => {
                                    format!(
                                        "; declare it with `unsigned_integer({}).references(..)`",
                                        fk.column
                                    )
                                }
                                t if t.is_integer() => {
                                    format!("; declare it with `foreign_id({})`", fk.column)
                                }
                                _ => String::new(),
                            };
                            Some((
                                fk.at,
                                format!(
                                    "`{}` is {} but `{target_name}.{column}` is {}: a foreign key needs the same type{hint}",
                                    fk.column, fk.column_type, tc.ty
                                ),
                            ))
                        } else if !unique {
                            Some((
                                at,
                                format!(
                                    "`{target_name}.{column}` is neither the primary key nor unique, so a foreign key cannot reference it (make it `.unique()`)"
                                ),
                            ))
                        } else {
                            None
                        }
                    }
                }
            }
        };
        if let Some((at, message)) = problem {
            self.error_at(at, message);
        }
    }

    // --- alter --------------------------------------------------------------

    fn alter(&mut self, table: &Name, items: &[AlterItem], steps: &mut Vec<StepModel>) {
        let name = table.value();
        self.check_ident("table", table);
        if !self.tables.contains_key(&name)
            && let Some(what) = self.gone.get(&name).cloned()
        {
            self.error(
                table.span(),
                format!("table `{name}` {what} above in this `schema!`, so it cannot be altered"),
            );
        }
        // a table created above is checked item by item; any other table exists
        // outside this `schema!` and only names are checked
        let mut state = self.tables.remove(&name);
        for item in items {
            let step = match item {
                AlterItem::Add { column } => {
                    self.alter_add(&name, table.span(), &mut state, column)
                }
                AlterItem::AddIndex(def) => {
                    Some(self.alter_add_index(&name, table.span(), &mut state, def))
                }
                AlterItem::AddCheck {
                    name: check_name,
                    expression,
                } => Some(self.alter_add_check(
                    &name,
                    table.span(),
                    &mut state,
                    check_name,
                    expression,
                )),
                AlterItem::DropColumn { column } => {
                    Some(self.alter_drop_column(&name, &mut state, column))
                }
                AlterItem::RenameColumn { from, to } => {
                    Some(self.alter_rename_column(&name, &mut state, from, to))
                }
                AlterItem::DropIndex { name: index } => {
                    Some(self.alter_drop_index(&name, &mut state, index))
                }
                AlterItem::DropCheck { name: check } => {
                    Some(self.alter_drop_check(&name, &mut state, check))
                }
                AlterItem::DropForeign { target } => {
                    Some(self.alter_drop_foreign(&name, &mut state, target))
                }
                AlterItem::History { keyword, action } => {
                    self.alter_history(&name, &mut state, keyword, *action);
                    Some(StepModel::History {
                        table: name.clone(),
                        action: *action,
                    })
                }
            };
            steps.extend(step);
        }
        if let Some(t) = state {
            self.tables.insert(name, t);
        }
    }

    /// `history()` on `name`, whose table is now `table`: it needs a one-column
    /// primary key (every version is keyed by it) and its history table's name
    /// must be free; the history table is then known to the rest of the script.
    fn check_history_table(&mut self, name: &str, at: Span, table: &Table) {
        if table.primary_key.len() != 1 {
            self.error(
                at,
                format!(
                    "`{name}` needs a one-column primary key, like `id()`, to keep a history: the history table keys each version by it"
                ),
            );
            return;
        }
        let history = dal_schema::entity::history_table_name(name);
        if self.tables.contains_key(&history) {
            self.error(
                at,
                format!(
                    "the history of `{name}` is kept in table `{history}`, which is already created above in this `schema!`"
                ),
            );
            return;
        }
        self.tables.insert(
            history,
            dal_schema::entity::history_table(table, &table.primary_key[0]),
        );
        self.history.insert(name.to_string(), true);
    }

    /// `add_history()`, `refresh_history()`, `drop_history()`: checked against
    /// what this `schema!` did to the table above (a table it does not create
    /// exists outside and is checked when the script runs).
    fn alter_history(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        keyword: &Word,
        action: HistoryAction,
    ) {
        let known = self.history.get(name).copied().or_else(|| {
            state
                .as_ref()
                .map(|t| t.column(dal_schema::entity::audit_columns::STAMP).is_some())
        });
        let history = dal_schema::entity::history_table_name(name);
        match (action, known) {
            (HistoryAction::Add, Some(true)) => self.error(
                keyword.span(),
                format!("`{name}` already keeps a history above in this `schema!`"),
            ),
            (HistoryAction::Refresh | HistoryAction::Drop, Some(false)) => self.error(
                keyword.span(),
                format!(
                    "`{name}` keeps no history at this point of the `schema!`: `add_history()` first"
                ),
            ),
            (HistoryAction::Add, _) => {
                if let Some(t) = state {
                    for column in dal_schema::entity::audit_column_defs() {
                        if t.column(&column.name).is_some() {
                            self.error(
                                keyword.span(),
                                format!(
                                    "`add_history()` adds column `{}`, which `{name}` already has",
                                    column.name
                                ),
                            );
                            return;
                        }
                        t.columns.push(column);
                    }
                    let t = t.clone();
                    self.check_history_table(name, keyword.span(), &t);
                } else {
                    self.history.insert(name.to_string(), true);
                }
            }
            (HistoryAction::Refresh, _) => {
                if let Some(t) = state
                    && let Some(id) = t.primary_key.first()
                {
                    let want = dal_schema::entity::history_table(t, id);
                    if let Some(have) = self.tables.get_mut(&history) {
                        for c in want.columns {
                            if have.column(&c.name).is_none() {
                                have.columns.push(c);
                            }
                        }
                    }
                }
            }
            (HistoryAction::Drop, _) => {
                if let Some(t) = state {
                    t.columns
                        .retain(|c| !dal_schema::entity::is_audit_column(&c.name));
                }
                self.tables.remove(&history);
                self.history.insert(name.to_string(), false);
            }
        }
    }

    /// `add <column>`: a column (with its index and foreign key) added to the table.
    fn alter_add(
        &mut self,
        name: &str,
        table_span: Span,
        state: &mut Option<Table>,
        column: &ColumnDef,
    ) -> Option<StepModel> {
        let mut spans = TableSpans::new(name, table_span);
        let (c, fk) = self.column(name, column, &mut spans, true)?;
        if let Some(t) = &state
            && t.column(&c.name).is_some()
        {
            let at = spans
                .column(&c.name)
                .map_or(Loc::at(column.kind.span()), |s| s.name);
            self.error_at(
                at,
                format!("column `{}` already exists in `{name}`", c.name),
            );
            return None;
        }
        let item = ItemModel::Column(c);
        self.add_to_state(state, name, &item, &spans);
        if let Some(fk) = fk {
            self.check_foreign_key(state.as_ref(), &fk);
        }
        Some(StepModel::AddToTable {
            table: name.to_string(),
            items: vec![item],
        })
    }

    /// `add_index(..)`, `add_unique_index(..)`, `add_index_named(..)`.
    fn alter_add_index(
        &mut self,
        name: &str,
        table_span: Span,
        state: &mut Option<Table>,
        def: &IndexDef,
    ) -> StepModel {
        let (item, item_name) = self.index_item(name, def);
        if let Some(t) = &state {
            let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            self.check_column_list(
                name,
                "the index",
                &def.columns,
                |c| t.column(c).is_some(),
                &all,
            );
        }
        let mut spans = TableSpans::new(name, table_span);
        spans.items.push((item_name, index_loc(def)));
        self.add_to_state(state, name, &item, &spans);
        StepModel::AddToTable {
            table: name.to_string(),
            items: vec![item],
        }
    }

    /// `add_check("name", "expression")`.
    fn alter_add_check(
        &mut self,
        name: &str,
        table_span: Span,
        state: &mut Option<Table>,
        check_name: &Str,
        expression: &Str,
    ) -> StepModel {
        self.check_ident_str("check", &check_name.value(), check_name.span());
        match dal_schema::sql::bracket_identifiers(&expression.value()) {
            Err(e) => self.error(expression.span(), format!("not valid portable SQL: {e}")),
            Ok(idents) => {
                if let Some(t) = &state {
                    let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
                    for ident in idents {
                        if t.column(&ident).is_none() {
                            self.error(
                                expression.span(),
                                unknown_column(name, &ident, &all, "the check"),
                            );
                        }
                    }
                }
            }
        }
        if let Some(t) = &state
            && t.checks.iter().any(|c| c.name == check_name.value())
        {
            self.error(
                check_name.span(),
                format!(
                    "`{name}` already has a check named `{}`",
                    check_name.value()
                ),
            );
        }
        let item = ItemModel::Check {
            name: Some(check_name.value()),
            expression: expression.value(),
        };
        let spans = TableSpans::new(name, table_span);
        self.add_to_state(state, name, &item, &spans);
        StepModel::AddToTable {
            table: name.to_string(),
            items: vec![item],
        }
    }

    /// `drop_column(col)`.
    fn alter_drop_column(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        column: &Name,
    ) -> StepModel {
        self.check_ident("column", column);
        let col = column.value();
        if let Some(t) = state {
            match self.drop_column_problem(t, &col) {
                Some(problem) => self.error(column.span(), problem),
                None => t.apply(&DdlStatement::DropColumn {
                    table: name.to_string(),
                    column: col.clone(),
                }),
            }
        }
        StepModel::DropColumn {
            table: name.to_string(),
            column: col,
        }
    }

    /// `rename_column(from, to)`.
    fn alter_rename_column(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        from: &Name,
        to: &Name,
    ) -> StepModel {
        self.check_ident("column", from);
        self.check_ident("column", to);
        let (f, t_name) = (from.value(), to.value());
        if let Some(t) = state {
            let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            if t.column(&f).is_none() {
                self.error(
                    from.span(),
                    unknown_column(name, &f, &all, "`rename_column`"),
                );
            } else if t.column(&t_name).is_some() {
                self.error(
                    to.span(),
                    format!("column `{t_name}` already exists in `{name}`"),
                );
            } else {
                let rename = DdlStatement::RenameColumn {
                    table: name.to_string(),
                    from: f.clone(),
                    to: t_name.clone(),
                };
                t.apply(&rename);
                for other in self.tables.values_mut() {
                    other.apply(&rename);
                }
            }
        }
        StepModel::RenameColumn {
            table: name.to_string(),
            from: f,
            to: t_name,
        }
    }

    /// `drop_index(name)`.
    fn alter_drop_index(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        index: &Name,
    ) -> StepModel {
        let index_name = index.value();
        self.check_ident_str("index", &index_name, index.span());
        if let Some(t) = state {
            let all: Vec<String> = t.all_indexes().into_iter().map(|i| i.name).collect();
            if all.contains(&index_name) {
                t.apply(&DdlStatement::DropIndex {
                    table: name.to_string(),
                    name: index_name.clone(),
                });
            } else {
                self.error(index.span(), not_declared(name, "index", &index_name, &all));
            }
        }
        StepModel::DropIndex {
            table: name.to_string(),
            name: index_name,
        }
    }

    /// `drop_check(name)`.
    fn alter_drop_check(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        check: &Name,
    ) -> StepModel {
        let check_name = check.value();
        self.check_ident_str("check", &check_name, check.span());
        if let Some(t) = state {
            let all: Vec<String> = t.checks.iter().map(|c| c.name.clone()).collect();
            if all.contains(&check_name) {
                t.apply(&DdlStatement::DropCheck {
                    table: name.to_string(),
                    name: check_name.clone(),
                });
            } else {
                self.error(check.span(), not_declared(name, "check", &check_name, &all));
            }
        }
        StepModel::DropCheck {
            table: name.to_string(),
            name: check_name,
        }
    }

    /// `drop_foreign(col)` or `drop_foreign("name")`: the foreign key's name is resolved here.
    fn alter_drop_foreign(
        &mut self,
        name: &str,
        state: &mut Option<Table>,
        target: &Name,
    ) -> StepModel {
        let fk_name = match target {
            // a column: the foreign key on it
            Name::Ident(_) => {
                let col = target.value();
                self.check_ident("column", target);
                match &state {
                    Some(t) => match t.foreign_keys.iter().find(|fk| fk.columns == [col.clone()]) {
                        Some(fk) => fk.name.clone(),
                        None => {
                            let all: Vec<String> = t
                                .foreign_keys
                                .iter()
                                .map(|fk| fk.columns.join(", "))
                                .collect();
                            self.error(
                                target.span(),
                                not_declared(name, "foreign key on column", &col, &all),
                            );
                            names::foreign_key(name, &[col])
                        }
                    },
                    None => names::foreign_key(name, &[col]),
                }
            }
            Name::Str(s) => {
                let fk_name = s.value();
                self.check_ident_str("foreign key", &fk_name, s.span());
                if let Some(t) = &state {
                    let all: Vec<String> =
                        t.foreign_keys.iter().map(|fk| fk.name.clone()).collect();
                    if !all.contains(&fk_name) {
                        self.error(s.span(), not_declared(name, "foreign key", &fk_name, &all));
                    }
                }
                fk_name
            }
        };
        if let Some(t) = state {
            t.apply(&DdlStatement::DropForeignKey {
                table: name.to_string(),
                name: fk_name.clone(),
            });
        }
        StepModel::DropForeign {
            table: name.to_string(),
            name: fk_name,
        }
    }

    /// Apply an addition to the symbolic table and validate what it adds.
    fn add_to_state(
        &mut self,
        state: &mut Option<Table>,
        table: &str,
        item: &ItemModel,
        spans: &TableSpans,
    ) {
        let mut b = TableBuilder::new(table);
        item.apply(&mut b);
        let added = b.finish();
        match state {
            Some(t) => {
                let mut merged = t.clone();
                merged.columns.extend(added.columns.iter().cloned());
                merged.indexes.extend(added.indexes.iter().cloned());
                merged
                    .foreign_keys
                    .extend(added.foreign_keys.iter().cloned());
                merged.checks.extend(added.checks.iter().cloned());
                let new_columns: Vec<String> =
                    added.columns.iter().map(|c| c.name.clone()).collect();
                let new_items: Vec<String> = added
                    .all_indexes()
                    .into_iter()
                    .map(|i| i.name)
                    .chain(added.foreign_keys.iter().map(|f| f.name.clone()))
                    .collect();
                self.report_validation(&merged, spans, |e| {
                    e.column.as_ref().is_some_and(|c| new_columns.contains(c))
                        || e.item.as_ref().is_some_and(|i| new_items.contains(i))
                });
                *t = merged;
            }
            None if !added.columns.is_empty() => {
                // the column alone: its type, default and modifiers
                self.report_validation(&added, spans, |_| true);
            }
            None => {}
        }
    }

    /// Why `column` cannot be dropped from `t` portably, if it cannot.
    fn drop_column_problem(&self, t: &Table, column: &str) -> Option<String> {
        let name = &t.name;
        if t.column(column).is_none() {
            let all: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            return Some(unknown_column(name, column, &all, "`drop_column`"));
        }
        if t.primary_key.iter().any(|c| c == column) {
            return Some(format!(
                "cannot drop `{column}`: it is part of the primary key of `{name}`"
            ));
        }
        if let Some(i) = t
            .all_indexes()
            .into_iter()
            .find(|i| i.columns.iter().any(|c| c == column))
        {
            return Some(format!(
                "cannot drop `{column}` while index `{}` uses it (SQLite refuses to drop an indexed column): `drop_index({})` first",
                i.name, i.name
            ));
        }
        if let Some(fk) = t
            .foreign_keys
            .iter()
            .find(|fk| fk.columns.iter().any(|c| c == column))
        {
            return Some(format!(
                "cannot drop `{column}` while foreign key `{}` uses it: `drop_foreign({column})` first",
                fk.name
            ));
        }
        for other in self.tables.values() {
            if let Some(fk) = other.foreign_keys.iter().find(|fk| {
                !fk.external
                    && fk.references_table == *name
                    && fk.references_columns.iter().any(|c| c == column)
            }) {
                return Some(format!(
                    "cannot drop `{column}`: foreign key `{}` of `{}` references it",
                    fk.name, other.name
                ));
            }
        }
        None
    }

    // --- drop and rename ----------------------------------------------------

    fn drop(&mut self, table: &Name, if_exists: bool) {
        let name = table.value();
        self.check_ident("table", table);
        if self.tables.contains_key(&name) {
            let referencing = self.tables.values().find_map(|other| {
                other
                    .foreign_keys
                    .iter()
                    .find(|fk| other.name != name && !fk.external && fk.references_table == name)
                    .map(|fk| (other.name.clone(), fk.name.clone()))
            });
            if let Some((other, fk)) = referencing {
                self.error(
                    table.span(),
                    format!("cannot drop `{name}`: foreign key `{fk}` of `{other}` references it; drop `{other}` or its foreign key first"),
                );
            }
            self.tables.remove(&name);
            self.history.remove(&name);
            self.gone.insert(name, "was dropped".into());
        } else if !if_exists && let Some(what) = self.gone.get(&name).cloned() {
            self.error(
                table.span(),
                format!("table `{name}` {what} above in this `schema!`; there is nothing to drop (use `drop_if_exists` if that is intended)"),
            );
        }
    }

    fn rename(&mut self, from: &Name, to: &Name) {
        self.check_ident("table", from);
        self.check_ident("table", to);
        let (f, t) = (from.value(), to.value());
        if f == t {
            self.error(
                to.span(),
                format!("`rename {f} to {t}` renames the table to its own name"),
            );
            return;
        }
        if self.tables.contains_key(&t) {
            self.error(
                to.span(),
                format!("table `{t}` already exists: it is created above in this `schema!`"),
            );
            return;
        }
        if let Some(h) = self.history.remove(&f) {
            self.history.insert(t.clone(), h);
        }
        match self.tables.remove(&f) {
            Some(table) => {
                self.tables.insert(t.clone(), table);
                let rename = DdlStatement::RenameTable {
                    from: f.clone(),
                    to: t.clone(),
                };
                for table in self.tables.values_mut() {
                    table.apply(&rename);
                }
                self.gone.insert(f, format!("was renamed to `{t}`"));
                self.gone.remove(&t);
            }
            None => {
                if let Some(what) = self.gone.get(&f).cloned() {
                    self.error(
                        from.span(),
                        format!("table `{f}` {what} above in this `schema!`"),
                    );
                }
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
mod tests {
    use super::*;
    use dal_schema::ReferentialAction;

    fn lower_str(s: &str) -> syn::Result<ScriptModel> {
        let input: SchemaInput = syn::parse_str(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        lower(&input)
    }

    fn ok(s: &str) -> ScriptModel {
        lower_str(s).unwrap_or_else(|e| {
            panic!(
                "{s}: {}",
                e.into_iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })
    }

    fn errors(s: &str) -> Vec<String> {
        match lower_str(s) {
            Ok(_) => panic!("`{s}` should not lower"),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    fn error(s: &str) -> String {
        let e = errors(s);
        assert_eq!(e.len(), 1, "{e:#?}");
        e.into_iter().next().unwrap()
    }

    fn table(s: &str) -> Table {
        match ok(s).steps.remove(0) {
            StepModel::CreateTable { table, items, .. } => build_table(&table, &items),
            _ => panic!("not a create"),
        }
    }

    #[test]
    fn builds_what_the_fluent_builder_builds() {
        let from_macro = table(
            r#"create posts {
                id();
                foreign_id(user_id).references(posts).on_delete(cascade).on_update(set_default).named("fk").external();
                string(title); string(slug, 80).unique();
                text(body).nullable();
                decimal(price, 10, 2).default(0);
                enumeration(status, ["draft", "published"]).default("draft");
                boolean(featured).default(false);
                double(score).default(-1.5);
                date(day).use_current();
                timestamps(); soft_deletes();
                index(title); unique_index_named("u", slug, title);
                check("[price] >= 0"); check_named("c", "[score] < 10");
            }"#,
        );
        let by_hand = Table::build("posts", |t| {
            t.id();
            t.foreign_id("user_id")
                .references("posts")
                .on_delete(ReferentialAction::Cascade)
                .on_update(ReferentialAction::SetDefault)
                .named("fk")
                .external();
            t.string("title", 255);
            t.string("slug", 80).unique();
            t.text("body").nullable();
            t.decimal("price", 10, 2).default(0);
            t.enumeration("status", ["draft", "published"])
                .default("draft");
            t.boolean("featured").default(false);
            t.double("score").default(-1.5);
            t.date("day").use_current();
            t.timestamps();
            t.soft_deletes();
            t.index(["title"]);
            t.unique_index_named("u", ["slug", "title"]);
            t.check("[price] >= 0");
            t.check_named("c", "[score] < 10");
        });
        assert_eq!(from_macro, by_hand);
    }

    #[test]
    fn every_column_kind_and_modifier() {
        let t = table(
            r#"create every {
                id(key); uuid(u).default("123e4567-e89b-12d3-a456-426614174000");
                uuid(u2).unique(); small_integer(si).default(-3).index(); integer(i).default(7); big_integer(bi).unique();
                float(f).default(1.5); time(tm).nullable(); timestamp(ts).use_current();
                timestamp_tz(tz).nullable().default(null); json(j); binary(b).nullable();
                foreign_uuid(other).nullable().references(every, u2).on_delete(set_null);
            }"#,
        );
        assert_eq!(t.primary_key, ["key"]);
        assert!(t.column("key").unwrap().auto_increment);
        assert_eq!(
            t.column("si").unwrap().default,
            Some(DefaultValue::Integer(-3))
        );
        assert_eq!(t.column("tz").unwrap().default, Some(DefaultValue::Null));
        assert_eq!(t.indexes[0].name, "every_si_index");
        assert_eq!(t.foreign_keys[0].references_columns, ["u2"]);
        let t = table("create k { uuid_id(); }");
        assert_eq!(t.column("id").unwrap().ty, ColumnType::Uuid);
    }

    #[test]
    fn manual_keys_and_without_rowid() {
        let t =
            table("create pairs { big_integer(a); integer(b); primary(a, b); without_rowid(); }");
        assert_eq!(t.primary_key, ["a", "b"]);
        assert!(t.without_rowid);
        let t = table("create codes { string(code, 10).primary(); }");
        assert_eq!(t.primary_key, ["code"]);
    }

    #[test]
    fn duplicate_table_and_column() {
        assert_eq!(
            error("create a { id(); } create a { id(); }"),
            "table `a` is already created above in this `schema!`; drop or rename it first, or pick another name"
        );
        ok("create a { id(); } drop a; create a { id(); }");
        assert_eq!(
            error("create a { id(); string(id); }"),
            "column `id` is declared twice in `a`"
        );
        assert!(
            error("create a { id(); timestamp(created_at); timestamps(); }")
                .contains("`timestamps()` adds column `created_at`")
        );
    }

    #[test]
    fn unknown_types_and_modifiers_suggest() {
        assert_eq!(
            error("create a { strng(x); }"),
            "unknown column type `strng`: did you mean `string`?"
        );
        assert_eq!(
            error("create a { bool(x); }"),
            "unknown column type `bool`: did you mean `boolean`?"
        );
        assert!(error("create a { zzzzzz(x); }").contains("column types are: id, uuid_id, string"));
        assert_eq!(
            error("create a { string(x).nullabel(); }"),
            "unknown modifier `.nullabel()`: did you mean `.nullable()`?"
        );
        assert!(
            error("create a { string(x).frobnicate(); }")
                .contains("modifiers are: .nullable() .default()")
        );
    }

    #[test]
    fn defaults_must_fit_the_column() {
        assert_eq!(
            error("create a { boolean(b).default(\"yes\"); }"),
            "a string default does not fit boolean column `b`: write `true` or `false` without quotes"
        );
        assert!(
            error("create a { integer(n).default(1.5); }")
                .starts_with("a float default does not fit integer column `n`")
        );
        assert_eq!(
            error("create a { enumeration(role, [\"admin\", \"user\"]).default(\"usr\"); }"),
            "`usr` is not one of the variants: admin, user; did you mean `user`?"
        );
        assert!(error("create a { small_integer(n).default(40000); }").contains("out of range"));
        assert!(error("create a { string(s, 2).default(\"long\"); }").contains("holds at most 2"));
        // left to the runtime validator, spanned on the literal
        assert!(error("create a { date(d).default(\"yesterday\"); }").contains("expected a date"));
        assert!(error("create a { integer(n).default(null); }").contains("not nullable"));
        assert!(error("create a { integer(n).default(foo); }").contains("takes a literal"));
    }

    #[test]
    fn lengths_and_precision() {
        assert_eq!(
            error("create a { string(s, 0); }"),
            "string length must be between 1 and 16383, got 0"
        );
        assert!(
            error("create a { string(s, 20000); }").ends_with("(use text() for longer values)")
        );
        assert!(
            error("create a { decimal(d, 70, 2); }")
                .contains("precision must be between 1 and 65, got 70")
        );
        assert!(
            error("create a { decimal(d, 5, 6); }")
                .contains("scale must be at most the precision (5)")
        );
        assert!(
            error("create a { decimal(d, 10); }")
                .contains("`decimal` takes a column name, a precision and a scale")
        );
        assert!(error("create a { string(s, -1); }").contains("cannot be negative"));
    }

    #[test]
    fn index_and_key_columns_must_exist() {
        assert_eq!(
            error("create a { id(); string(title); index(titel); }"),
            "unknown column `titel` in the index of `a`: did you mean `title`?"
        );
        assert!(
            error("create a { id(); unique_index(title); }")
                .contains("unknown column `title` in the index of `a`")
        );
        assert!(
            error("create a { integer(x); primary(y); }")
                .contains("unknown column `y` in the primary key of `a`")
        );
        assert!(error("create a { id(); integer(x); index(x, x); }").contains("appears twice"));
        // checks may name columns or not; named ones are checked by the validator
        ok("create a { integer(x); check(\"1 = 1\"); }");
        assert_eq!(
            error("create a { integer(xy); check(\"[x] > 0\"); }"),
            "unknown column `x` in the check of `a`: did you mean `xy`?"
        );
    }

    #[test]
    fn foreign_keys_need_a_declared_target() {
        assert!(
            error("create posts { id(); foreign_id(user_id).references(users); }")
                .starts_with("table `users` is not created in this `schema!`")
        );
        ok("create posts { id(); foreign_id(user_id).references(users).external(); }");
        ok("create users { id(); } create posts { id(); foreign_id(user_id).references(users); }");
        ok("create tree { id(); foreign_id(parent_id).nullable().references(tree); }");
        assert!(error("create users { id(); } create posts { id(); foreign_id(u).references(users, uid); }")
            .contains("table `users` has no column `uid`"));
        assert!(error("create users { uuid_id(key); } create posts { id(); foreign_uuid(u).references(users); }")
            .contains("its primary key is `key`"));
        assert!(error("create users { uuid_id(); } create posts { id(); foreign_id(u).references(users); }")
            .contains("declare it with `foreign_uuid(u)`"));
        assert!(error("create users { id(); string(email); } create posts { id(); string(e).references(users, email); }")
            .contains("neither the primary key nor unique"));
        assert!(error("create users { id(); } drop users; create posts { id(); foreign_id(u).references(users); }")
            .starts_with("table `users` was dropped above"));
        assert!(
            error("create users { id(); } create posts { id(); foreign_id(u).references(user); }")
                .contains("did you mean `users`?")
        );
        assert!(
            error("create posts { id(); foreign_id(u).references(users); } create users { id(); }")
                .starts_with(
                    "table `users` is created further down in this `schema!`: create it first"
                )
        );
    }

    #[test]
    fn referential_actions() {
        assert_eq!(
            error("create a { id(); foreign_id(p).references(a).on_delete(cascde); }"),
            "unknown referential action `cascde`: did you mean `cascade`?"
        );
        assert!(
            error("create a { id(); foreign_id(p).references(a).on_delete(\"cascade\"); }")
                .contains("without quotes: `.on_delete(cascade)`")
        );
        assert!(
            error("create a { id(); foreign_id(p).on_delete(cascade); }")
                .contains("applies to a foreign key")
        );
        // the validator: SET NULL on a non-null column
        assert!(
            error("create a { id(); foreign_id(p).references(a).on_delete(set_null); }")
                .contains("not nullable")
        );
    }

    #[test]
    fn identifiers() {
        assert!(
            error("create \"user accounts\" { id(); }")
                .starts_with("invalid table name `user accounts`")
        );
        let long = "x".repeat(64);
        assert!(
            error(&format!("create a {{ integer({long}); }}"))
                .contains("is 64 bytes long; the limit is 63")
        );
        assert!(
            error("create a { id(); index_named(\"bad name\", id); }")
                .starts_with("invalid index name")
        );
        assert!(error("create a { integer(café); }").starts_with("invalid column name `café`"));
    }

    #[test]
    fn argument_counts() {
        assert!(error("create a { text(t, 5); }").contains("`text` takes only a column name"));
        assert!(error("create a { string(); }").contains("`string` needs a column name first"));
        assert!(
            error("create a { integer(n).nullable(true); }")
                .contains("`.nullable()` takes no arguments")
        );
        assert!(
            error("create a { integer(n).default(); }").contains("`.default()` takes one literal")
        );
        assert!(
            error("create a { id(); foreign_id(n).references(); }")
                .contains("`.references()` takes a table")
        );
        assert!(
            error("create a { id(); enumeration(e); }")
                .contains("a column name and a list of variants")
        );
        assert!(error("create a { id(); enumeration(e, []); }").contains("at least one variant"));
    }

    #[test]
    fn primary_key_is_declared_once() {
        assert!(
            error("create a { id(); integer(b); primary(b); }")
                .contains("already declared by `id()`")
        );
        ok("create a { id().primary(); }");
    }

    #[test]
    fn alter_checks_columns_of_tables_created_above() {
        ok(
            "create u { id(); string(a); } alter u { add string(b).nullable(); rename_column(a, c); drop_column(b); add_index(c); drop_index(u_c_index); }",
        );
        assert_eq!(
            error("create u { id(); string(nick); } alter u { add string(nick); }"),
            "column `nick` already exists in `u`"
        );
        assert!(
            error("create u { id(); } alter u { drop_column(nick); }")
                .contains("unknown column `nick`")
        );
        assert!(
            error("create u { id(); string(a); } alter u { rename_column(b, c); }")
                .contains("unknown column `b`")
        );
        assert!(
            error("create u { id(); string(a); string(b); } alter u { rename_column(a, b); }")
                .contains("already exists")
        );
        assert!(
            error("create u { id(); string(a).index(); } alter u { drop_column(a); }")
                .contains("drop_index(u_a_index)")
        );
        assert!(
            error("create u { id(); } alter u { drop_index(nope); }")
                .contains("`u` has no index `nope`")
        );
        assert!(
            error("create u { id(); } alter u { drop_check(nope); }")
                .contains("`u` has no check `nope`")
        );
        assert!(
            error("create u { id(); integer(p); } alter u { drop_foreign(p); }")
                .contains("no foreign key on column `p`")
        );
        assert!(
            error("create u { id(); } alter u { add_index(a); }").contains("unknown column `a`")
        );
        assert!(
            error("create u { id(); } alter u { add_check(\"c\", \"[x] > 0\"); }")
                .contains("unknown column `x`")
        );
        // tables not created here: only names are checked
        ok(
            "alter legacy { drop_column(x); rename_column(a, b); drop_index(i); drop_check(c); drop_foreign(user_id); add_index(q); }",
        );
        assert!(
            error("alter legacy { drop_column(\"bad name\"); }").starts_with("invalid column name")
        );
    }

    #[test]
    fn alter_forms_that_cannot_work() {
        assert!(error("alter u { add id(); }").contains("`alter` cannot add"));
        assert!(
            error("alter u { add integer(n).primary(); }").contains("cannot be added by `alter`")
        );
        assert!(
            error("alter u { add foreign_id(p).references(teams); }").contains("`.external()`")
        );
        ok("alter u { add foreign_id(p).nullable().references(teams).external(); }");
        assert!(
            error("create u { id(); } drop u; alter u { drop_column(a); }")
                .contains("was dropped above")
        );
    }

    #[test]
    fn drop_foreign_resolves_the_constraint_name() {
        let m = ok(
            "create t { id(); } create u { id(); foreign_id(t_id).references(t).named(\"custom\"); } alter u { drop_foreign(t_id); } alter legacy { drop_foreign(team_id); }",
        );
        let names: Vec<String> = m
            .steps
            .iter()
            .filter_map(|s| match s {
                StepModel::DropForeign { name, .. } => Some(name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["custom", "legacy_team_id_foreign"]);
    }

    #[test]
    fn drops_and_renames_follow_the_order() {
        ok("create a { id(); } rename a to b; alter b { add integer(n).default(0); } drop b;");
        assert!(
            error("create a { id(); } rename a to b; alter a { drop_column(id); }")
                .contains("was renamed to `b`")
        );
        assert!(
            error("create a { id(); } create b { id(); } rename a to b;")
                .contains("already exists")
        );
        assert!(error("create a { id(); } drop a; drop a;").contains("nothing to drop"));
        ok("create a { id(); } drop a; drop_if_exists a;");
        assert!(
            error("create a { id(); } create b { id(); foreign_id(a_id).references(a); } drop a;")
                .contains("references it")
        );
        ok(
            "create a { id(); } create b { id(); foreign_id(a_id).references(a); } rename a to c; drop b; drop c;",
        );
    }

    #[test]
    fn raw_sql_is_portable_and_has_no_parameters() {
        ok("sql(\"UPDATE [t] SET [x] = 1\");");
        assert!(error("sql(\"UPDATE [t] SET [x] = ?\");").contains("takes no parameters"));
    }

    #[test]
    fn validator_errors_are_mapped() {
        assert!(error("create a { text(t).unique(); }").contains("cannot be unique portably"));
        assert!(
            errors("create a { string(s).auto_increment(); }")[0]
                .contains("auto-increment needs an integer column")
        );
        assert!(error("create a { integer(a); without_rowid(); }").contains("without-rowid"));
        assert!(error("create a { }").contains("has no columns"));
    }
    #[test]
    fn arrays() {
        let t = table(
            r#"create posts {
                id();
                array(tags, text);
                array(scores, big_integer).nullable();
                array(names, string, 40);
                array(prices, decimal, 10, 2);
            }"#,
        );
        let ty = |n: &str| t.column(n).unwrap().ty.clone();
        assert_eq!(ty("tags"), ColumnType::array(ColumnType::Text));
        assert_eq!(ty("scores"), ColumnType::array(ColumnType::BigInteger));
        assert!(t.column("scores").unwrap().nullable);
        assert_eq!(
            ty("names"),
            ColumnType::array(ColumnType::String { length: 40 })
        );
        assert_eq!(
            ty("prices"),
            ColumnType::array(ColumnType::Decimal {
                precision: 10,
                scale: 2
            })
        );
        assert!(error("create a { id(); array(x, json); }").starts_with(
            "`json` cannot be an array element: an array holds small_integer, integer,"
        ));
        assert!(
            error("create a { id(); array(x, array); }")
                .starts_with("`array` cannot be an array element")
        );
        assert!(
            error("create a { id(); array(x, unsigned_big_integer); }")
                .contains("cannot be an array element")
        );
        assert_eq!(
            error("create a { id(); array(x, strng); }"),
            "unknown array element type `strng`: did you mean `string`?"
        );
        assert!(
            error("create a { id(); array(x); }")
                .starts_with("`array` takes a column name and an element type")
        );
        assert!(
            error("create a { id(); array(x, 5); }")
                .starts_with("expected the element type as a name")
        );
        assert!(
            error("create a { id(); array(x, decimal, 70, 2); }")
                .contains("decimal precision must be between 1 and 65")
        );
        assert!(error("create a { id(); array(x, text).index(); }").contains("cannot be indexed"));
    }
}
