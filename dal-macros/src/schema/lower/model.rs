//! The model `expand` reads: the checked script's steps and the fluent-builder
//! calls of each table, with the grammar's names for column types, modifiers
//! and referential actions.

use dal_schema::{ColumnType, DefaultValue, ReferentialAction, Table, TableBuilder};

pub(crate) use super::super::parse::HistoryAction;

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
pub(super) const KINDS: &[&str] = &[
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
pub(super) const ARRAY_ELEMENTS: &[&str] = &[
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
pub(super) const KIND_ALIASES: &[(&str, &str)] = &[
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

pub(super) const MODIFIERS: &[&str] = &[
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

pub(super) const MODIFIER_ALIASES: &[(&str, &str)] = &[
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

pub(super) const ACTIONS: &[(&str, ReferentialAction)] = &[
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
    pub(super) fn apply(&self, t: &mut TableBuilder) {
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
    pub(super) fn apply(&self, t: &mut TableBuilder) {
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

pub(super) fn build_table(name: &str, items: &[ItemModel]) -> Table {
    Table::build(name, |t| {
        for item in items {
            item.apply(t);
        }
    })
}
