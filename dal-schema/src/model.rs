//! The blueprint model: schemas, tables, columns, indexes, foreign keys, checks.
//!
//! These are plain values. They are built with the fluent builder
//! ([`crate::TableBuilder`]), by the `schema!` macro, by `#[derive(Entity)]`, or by
//! introspecting a live database, and they are turned into DDL by [`crate::ddl`].

use std::fmt;

/// The type of a column, independent of any dialect.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// 16-bit signed integer (`SMALLINT`).
    SmallInteger,
    /// 32-bit signed integer (`INTEGER` / `INT`).
    Integer,
    /// 64-bit signed integer (`BIGINT`).
    BigInteger,
    /// 32-bit unsigned integer: the column of a `u32` field (Laravel's
    /// `increments()` / `unsignedInteger()` key).
    ///
    /// The MySQL family stores it as `INT UNSIGNED`. PostgreSQL and SQLite have
    /// no unsigned type: the column is a `BIGINT` (which holds every `u32`) with a
    /// check named `{table}_{column}_unsigned` (`[column] >= 0 AND [column] <=
    /// 4294967295`), and introspection reads such a column back as this type.
    UnsignedInteger,
    /// 64-bit unsigned integer: the column of a `u64` (or `usize`) field.
    ///
    /// The MySQL family stores it as `BIGINT UNSIGNED`, so every `u64` fits.
    /// PostgreSQL and SQLite have no unsigned 64-bit type: the column is a
    /// `BIGINT` with a check named `{table}_{column}_unsigned` (`[column] >= 0`),
    /// so it holds `0..=i64::MAX`. dal refuses to bind a larger value there (an
    /// invalid-input error before anything is written) instead of wrapping it,
    /// and introspection reads such a column back as this type (the check is not
    /// listed among the table's checks). See [`crate::Capabilities::unsigned_integers`].
    UnsignedBigInteger,
    /// Boolean (`BOOLEAN`; `TINYINT(1)` on the MySQL family).
    Boolean,
    /// Single-precision float (`REAL` / `FLOAT`).
    Float,
    /// Double-precision float (`DOUBLE PRECISION` / `DOUBLE`).
    Double,
    /// Exact decimal with `precision` total digits and `scale` after the point.
    ///
    /// SQLite stores decimals with NUMERIC affinity, which keeps 15 significant
    /// digits; dal refuses to bind a decimal with more digits there rather than round it.
    Decimal {
        /// Total number of digits (1..=65).
        precision: u8,
        /// Digits after the decimal point (at most `precision`, at most 30).
        scale: u8,
    },
    /// Variable-length string of at most `length` characters (`VARCHAR(n)`).
    String {
        /// Maximum length in characters (1..=16383).
        length: u32,
    },
    /// Unbounded text (`TEXT`; `LONGTEXT` on the MySQL family, whose `TEXT` stops at 64 KiB).
    Text,
    /// Calendar date.
    Date,
    /// Time of day (microsecond precision).
    Time,
    /// Date and time without time zone (microsecond precision).
    Timestamp,
    /// Instant in time, stored in UTC (`TIMESTAMPTZ` on PostgreSQL).
    ///
    /// The MySQL family has no time-zone-aware type with a useful range (its
    /// `TIMESTAMP` ends in 2038), so dal stores UTC in `DATETIME(6)` there; an
    /// introspected MySQL table therefore reports [`ColumnType::Timestamp`]
    /// (see [`Table::normalized_for`]).
    TimestampTz,
    /// UUID (`UUID` on PostgreSQL, `CHAR(36)` on the MySQL family, text on SQLite).
    ///
    /// MariaDB 10.7+ also has a native `UUID` type and MySQL 8 has none; dal uses
    /// `CHAR(36)` on both so schemas stay portable.
    Uuid,
    /// JSON document (`JSONB` on PostgreSQL, `JSON` elsewhere).
    ///
    /// On MariaDB `JSON` is an alias of `LONGTEXT` with a `json_valid` check; on
    /// MySQL 8 it is a native binary JSON type.
    Json,
    /// Binary data (`BYTEA` / `LONGBLOB` / `BLOB`).
    Binary,
    /// One of a fixed set of string values. A native `ENUM` on the MySQL family,
    /// a `VARCHAR(255)` with a `CHECK (col IN (..))` constraint elsewhere.
    Enumeration {
        /// The allowed values, in declaration order.
        variants: Vec<String>,
    },
    /// A list of scalars of one type: the column of a `Vec<T>` field.
    ///
    /// PostgreSQL stores a native array of the element type (`BIGINT[]`,
    /// `TEXT[]`, `NUMERIC(20, 6)[]`, ...). MySQL, MariaDB and SQLite have no
    /// array type: the column is a JSON column holding a JSON array (on MariaDB
    /// `JSON`, an alias of `LONGTEXT` with a `json_valid` check), and the
    /// element type is known only to the blueprint. Introspection there reads
    /// such a column back as [`ColumnType::Json`], and [`Table::normalized_for`]
    /// brings an array column to `Json` for those dialects, so a diff between a
    /// blueprint and the live table reports no change.
    ///
    /// The element is a scalar (see [`ColumnType::is_array_element`]): an
    /// integer (not the unsigned one), float, double, decimal, boolean, string,
    /// text, UUID, date, time or timestamp; never an array, JSON, binary data or
    /// an enumeration.
    Array {
        /// The type of every element.
        element: Box<ColumnType>,
    },
}

impl ColumnType {
    /// True for the integer types.
    pub fn is_integer(&self) -> bool {
        matches!(
            self,
            ColumnType::SmallInteger
                | ColumnType::Integer
                | ColumnType::BigInteger
                | ColumnType::UnsignedInteger
                | ColumnType::UnsignedBigInteger
        )
    }

    /// True for the unsigned integer types ([`ColumnType::UnsignedInteger`],
    /// [`ColumnType::UnsignedBigInteger`]).
    pub fn is_unsigned(&self) -> bool {
        matches!(
            self,
            ColumnType::UnsignedInteger | ColumnType::UnsignedBigInteger
        )
    }

    /// The largest value of an unsigned type where the dialect has no unsigned
    /// type and a check keeps the column in range: `Some(u32::MAX)` for
    /// [`ColumnType::UnsignedInteger`], `None` for [`ColumnType::UnsignedBigInteger`]
    /// (bounded by the `BIGINT` itself) and every other type.
    pub fn unsigned_max(&self) -> Option<u64> {
        match self {
            ColumnType::UnsignedInteger => Some(u32::MAX.into()),
            _ => None,
        }
    }

    /// True for the types whose values are strings (string, text, enumeration).
    pub fn is_textual(&self) -> bool {
        matches!(
            self,
            ColumnType::String { .. } | ColumnType::Text | ColumnType::Enumeration { .. }
        )
    }

    /// True for the date/time types.
    pub fn is_temporal(&self) -> bool {
        matches!(
            self,
            ColumnType::Date | ColumnType::Time | ColumnType::Timestamp | ColumnType::TimestampTz
        )
    }

    /// An array of `element` ([`ColumnType::Array`]).
    ///
    /// ```
    /// use dal_schema::ColumnType;
    /// let tags = ColumnType::array(ColumnType::Text);
    /// assert_eq!(tags.array_element(), Some(&ColumnType::Text));
    /// assert_eq!(tags.to_string(), "array(text)");
    /// ```
    pub fn array(element: ColumnType) -> ColumnType {
        ColumnType::Array {
            element: Box::new(element),
        }
    }

    /// The element type when this is an array.
    pub fn array_element(&self) -> Option<&ColumnType> {
        match self {
            ColumnType::Array { element } => Some(element),
            _ => None,
        }
    }

    /// True for the types an [`ColumnType::Array`] can hold: the scalars every
    /// dialect can store in a PostgreSQL array and in a JSON array alike.
    /// Arrays (nested), JSON, binary data, enumerations and the unsigned
    /// 64-bit integer (PostgreSQL checks its range with a column check, which
    /// an element would escape) are not.
    pub fn is_array_element(&self) -> bool {
        matches!(
            self,
            ColumnType::SmallInteger
                | ColumnType::Integer
                | ColumnType::BigInteger
                | ColumnType::Boolean
                | ColumnType::Float
                | ColumnType::Double
                | ColumnType::Decimal { .. }
                | ColumnType::String { .. }
                | ColumnType::Text
                | ColumnType::Date
                | ColumnType::Time
                | ColumnType::Timestamp
                | ColumnType::TimestampTz
                | ColumnType::Uuid
        )
    }

    /// A short, dialect-independent name (`big_integer`, `string(150)`, ...) as used by
    /// the builder and the `schema!` macro.
    pub fn builder_name(&self) -> String {
        match self {
            ColumnType::SmallInteger => "small_integer".into(),
            ColumnType::Integer => "integer".into(),
            ColumnType::BigInteger => "big_integer".into(),
            ColumnType::UnsignedInteger => "unsigned_integer".into(),
            ColumnType::UnsignedBigInteger => "unsigned_big_integer".into(),
            ColumnType::Boolean => "boolean".into(),
            ColumnType::Float => "float".into(),
            ColumnType::Double => "double".into(),
            ColumnType::Decimal { precision, scale } => format!("decimal({precision}, {scale})"),
            ColumnType::String { length } => format!("string({length})"),
            ColumnType::Text => "text".into(),
            ColumnType::Date => "date".into(),
            ColumnType::Time => "time".into(),
            ColumnType::Timestamp => "timestamp".into(),
            ColumnType::TimestampTz => "timestamp_tz".into(),
            ColumnType::Uuid => "uuid".into(),
            ColumnType::Json => "json".into(),
            ColumnType::Binary => "binary".into(),
            ColumnType::Enumeration { variants } => format!("enumeration({variants:?})"),
            ColumnType::Array { element } => format!("array({})", element.builder_name()),
        }
    }

    /// Rank used to decide whether changing from `self` to `to` can lose data
    /// (narrowing). Returns `true` when every value of `self` fits in `to`.
    pub fn widens_to(&self, to: &ColumnType) -> bool {
        use ColumnType as T;
        if self == to {
            return true;
        }
        match (self, to) {
            (T::SmallInteger, T::Integer | T::BigInteger) => true,
            (T::Integer, T::BigInteger) => true,
            (T::UnsignedInteger, T::BigInteger | T::UnsignedBigInteger | T::Double) => true,
            (T::UnsignedInteger, T::Decimal { precision, scale }) => {
                precision.saturating_sub(*scale) >= 10
            }
            (T::SmallInteger | T::Integer, T::Double | T::Decimal { .. }) => true,
            // u64::MAX has 20 digits
            (T::BigInteger | T::UnsignedBigInteger, T::Decimal { precision, scale }) => {
                precision.saturating_sub(*scale) >= if self.is_unsigned() { 20 } else { 19 }
            }
            (T::Float, T::Double) => true,
            (T::String { length: a }, T::String { length: b }) => a <= b,
            (T::String { .. } | T::Enumeration { .. }, T::Text) => true,
            (T::Enumeration { variants: a }, T::Enumeration { variants: b }) => {
                a.iter().all(|v| b.contains(v))
            }
            (
                T::Decimal {
                    precision: p1,
                    scale: s1,
                },
                T::Decimal {
                    precision: p2,
                    scale: s2,
                },
            ) => s1 <= s2 && (p1 - s1) <= (p2 - s2),
            (T::Timestamp, T::TimestampTz) | (T::TimestampTz, T::Timestamp) => true,
            (T::Array { element: a }, T::Array { element: b }) => a.widens_to(b),
            _ => false,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.builder_name())
    }
}

/// A column default.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    /// `DEFAULT NULL`.
    Null,
    /// A boolean literal.
    Bool(bool),
    /// An integer literal.
    Integer(i64),
    /// A floating-point literal.
    Float(f64),
    /// A string literal (also used for dates, times, UUIDs, decimals and JSON text).
    String(String),
    /// The current date and time (`CURRENT_TIMESTAMP`).
    CurrentTimestamp,
    /// The current date (`CURRENT_DATE`).
    CurrentDate,
    /// A raw SQL expression, written as given (portable `[name]` quoting applies).
    Expression(String),
}

impl From<bool> for DefaultValue {
    fn from(v: bool) -> Self {
        DefaultValue::Bool(v)
    }
}
impl From<i32> for DefaultValue {
    fn from(v: i32) -> Self {
        DefaultValue::Integer(v.into())
    }
}
impl From<i64> for DefaultValue {
    fn from(v: i64) -> Self {
        DefaultValue::Integer(v)
    }
}
impl From<f64> for DefaultValue {
    fn from(v: f64) -> Self {
        DefaultValue::Float(v)
    }
}
impl From<&str> for DefaultValue {
    fn from(v: &str) -> Self {
        DefaultValue::String(v.to_string())
    }
}
impl From<String> for DefaultValue {
    fn from(v: String) -> Self {
        DefaultValue::String(v)
    }
}

impl fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefaultValue::Null => f.write_str("NULL"),
            DefaultValue::Bool(b) => write!(f, "{b}"),
            DefaultValue::Integer(i) => write!(f, "{i}"),
            DefaultValue::Float(x) => write!(f, "{x}"),
            DefaultValue::String(s) => write!(f, "{s:?}"),
            DefaultValue::CurrentTimestamp => f.write_str("CURRENT_TIMESTAMP"),
            DefaultValue::CurrentDate => f.write_str("CURRENT_DATE"),
            DefaultValue::Expression(e) => write!(f, "({e})"),
        }
    }
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Column type.
    pub ty: ColumnType,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Default value, if any.
    pub default: Option<DefaultValue>,
    /// Whether the column alone is unique (a unique index named
    /// `{table}_{column}_unique` is created for it).
    pub unique: bool,
    /// Whether the server generates the value (identity / auto-increment).
    pub auto_increment: bool,
}

impl Column {
    /// A non-null column with no default.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: false,
            default: None,
            unique: false,
            auto_increment: false,
        }
    }
}

/// What a foreign key does when the referenced row is deleted or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReferentialAction {
    /// Fail at the end of the statement (the SQL default).
    #[default]
    NoAction,
    /// Fail immediately.
    Restrict,
    /// Delete/update the referencing rows too.
    Cascade,
    /// Set the referencing columns to NULL.
    SetNull,
    /// Set the referencing columns to their defaults.
    SetDefault,
}

impl ReferentialAction {
    /// The SQL spelling (`NO ACTION`, `CASCADE`, ...).
    pub fn sql(self) -> &'static str {
        match self {
            ReferentialAction::NoAction => "NO ACTION",
            ReferentialAction::Restrict => "RESTRICT",
            ReferentialAction::Cascade => "CASCADE",
            ReferentialAction::SetNull => "SET NULL",
            ReferentialAction::SetDefault => "SET DEFAULT",
        }
    }

    /// Parse the SQL spelling or the builder spelling (`cascade`, `set_null`, ...).
    pub fn parse(s: &str) -> Option<Self> {
        let norm: String = s
            .trim()
            .chars()
            .map(|c| {
                if c == '_' {
                    ' '
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        match norm.as_str() {
            "no action" | "noaction" => Some(ReferentialAction::NoAction),
            "restrict" => Some(ReferentialAction::Restrict),
            "cascade" => Some(ReferentialAction::Cascade),
            "set null" | "setnull" | "null" => Some(ReferentialAction::SetNull),
            "set default" | "setdefault" => Some(ReferentialAction::SetDefault),
            _ => None,
        }
    }
}

/// An index (unique or not) over one or more columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// Index name (unique within the schema on PostgreSQL and SQLite).
    pub name: String,
    /// Indexed columns, in order.
    pub columns: Vec<String>,
    /// Whether the index enforces uniqueness.
    pub unique: bool,
}

/// A foreign key from columns of this table to columns of another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignKey {
    /// Constraint name.
    pub name: String,
    /// Referencing columns in this table.
    pub columns: Vec<String>,
    /// Referenced table.
    pub references_table: String,
    /// Referenced columns.
    pub references_columns: Vec<String>,
    /// Action on delete of the referenced row.
    pub on_delete: ReferentialAction,
    /// Action on update of the referenced key.
    pub on_update: ReferentialAction,
    /// The referenced table is managed elsewhere (not declared in the same schema),
    /// so schema validation does not require it.
    pub external: bool,
}

/// A named CHECK constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Constraint name.
    pub name: String,
    /// The boolean SQL expression (portable SQL: `[name]` quotes identifiers).
    pub expression: String,
}

impl Check {
    /// The expression reduced to a comparable form: no quoting, parentheses,
    /// whitespace, type casts (`::text`) or case. Servers rewrite check expressions
    /// (PostgreSQL adds parentheses and casts, MariaDB adds backticks), so two
    /// checks are considered the same when their normalized forms match.
    pub fn normalized_expression(&self) -> String {
        normalize_expression(&self.expression)
    }
}

/// See [`Check::normalized_expression`].
pub fn normalize_expression(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\'' {
                in_string = false;
            }
            continue;
        }
        match c {
            '\'' => {
                in_string = true;
                out.push(c);
            }
            ':' if chars.peek() == Some(&':') => {
                chars.next();
                // skip the cast's type name, e.g. `::character varying`, `::text[]`
                while let Some(&n) = chars.peek() {
                    if n.is_alphanumeric() || n == '_' || n == '[' || n == ']' {
                        chars.next();
                    } else if n == ' ' {
                        // multi-word type names (`character varying`)
                        let rest: String = chars.clone().skip(1).take(7).collect();
                        if rest.to_ascii_lowercase().starts_with("varying") {
                            chars.next();
                        } else {
                            break;
                        }
                    } else {
                        break;
                    }
                }
            }
            '"' | '`' | '[' | ']' | '(' | ')' => {}
            c if c.is_whitespace() => {}
            c => out.push(c.to_ascii_lowercase()),
        }
    }
    out
}

/// A table blueprint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Columns, in order.
    pub columns: Vec<Column>,
    /// Primary-key columns (empty when the table has none).
    pub primary_key: Vec<String>,
    /// Secondary indexes (unique or not), not counting single-column `unique` flags.
    pub indexes: Vec<Index>,
    /// Foreign keys.
    pub foreign_keys: Vec<ForeignKey>,
    /// CHECK constraints (not counting the ones dal writes for enumerations).
    pub checks: Vec<Check>,
    /// Store the rows in primary-key order instead of by a hidden row id.
    ///
    /// On SQLite this is a `WITHOUT ROWID` table: one b-tree instead of a
    /// table plus the index behind a composite primary key, which makes writes
    /// to tables keyed by several columns (history tables, join tables)
    /// markedly cheaper. InnoDB always clusters rows by their primary key and
    /// PostgreSQL has no such layout, so the flag changes nothing there. It
    /// needs a primary key and no auto-increment column. A schema diff does not
    /// compare it (switching needs a table rebuild).
    pub without_rowid: bool,
    /// The table's collation on the MySQL family (`CREATE TABLE .. DEFAULT
    /// CHARSET=.. COLLATE=..`); `None` is [`DEFAULT_MYSQL_COLLATION`].
    ///
    /// dal always writes the collation instead of taking the server's default
    /// (`utf8mb4_general_ci` on MariaDB, `utf8mb4_0900_ai_ci` on MySQL 8: both
    /// case- and accent-insensitive), so a table behaves the same on every
    /// server. The character set is the collation's prefix (`utf8mb4` of
    /// `utf8mb4_unicode_ci`). PostgreSQL and SQLite ignore it. Introspection
    /// reports a MySQL table's collation here when it is not the default; a
    /// schema diff does not compare it (change it with
    /// `ALTER TABLE .. CONVERT TO CHARACTER SET ..`, which rewrites the table).
    pub collation: Option<String>,
}

/// The collation dal gives MySQL/MariaDB tables that do not name one
/// ([`Table::collation`]): `utf8mb4_bin`.
///
/// It compares strings by code point, as PostgreSQL (with the `C` collation,
/// and for equality whatever the collation) and SQLite do by default: a unique
/// column accepts `Ada` and `ada` as two values, `=` and `LIKE` are case
/// sensitive, and reading back a value finds exactly what was saved. It exists
/// on MariaDB and MySQL 8 alike. One difference remains: it is a `PAD SPACE`
/// collation, so trailing spaces are ignored when comparing (`'a' = 'a '`);
/// name `utf8mb4_nopad_bin` (MariaDB) or `utf8mb4_0900_bin` (MySQL 8) to
/// compare them too.
pub const DEFAULT_MYSQL_COLLATION: &str = "utf8mb4_bin";

impl Table {
    /// An empty table blueprint.
    pub fn new(name: impl Into<String>) -> Self {
        Table {
            name: name.into(),
            ..Default::default()
        }
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column called `name`, mutably.
    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// The index called `name`.
    pub fn index(&self, name: &str) -> Option<&Index> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// Every index that DDL creates for this table: the declared indexes plus one
    /// unique index per `unique` column.
    pub fn all_indexes(&self) -> Vec<Index> {
        let mut out: Vec<Index> = self
            .columns
            .iter()
            .filter(|c| c.unique)
            .map(|c| Index {
                name: names::unique_index(&self.name, std::slice::from_ref(&c.name)),
                columns: vec![c.name.clone()],
                unique: true,
            })
            .collect();
        out.extend(self.indexes.iter().cloned());
        out
    }

    /// The canonical form used for comparisons: single-column unique indexes with
    /// the default name become `unique` column flags, and indexes, foreign keys and
    /// checks are sorted by name.
    pub fn canonical(&self) -> Table {
        let mut t = self.clone();
        let mut keep = Vec::new();
        for idx in std::mem::take(&mut t.indexes) {
            if idx.unique
                && idx.columns.len() == 1
                && idx.name == names::unique_index(&t.name, &idx.columns)
                && let Some(c) = t.column_mut(&idx.columns[0])
            {
                c.unique = true;
                continue;
            }
            keep.push(idx);
        }
        t.indexes = keep;
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        t.checks.sort_by(|a, b| a.name.cmp(&b.name));
        for fk in &mut t.foreign_keys {
            fk.external = false;
        }
        for c in &mut t.checks {
            c.expression = c.normalized_expression();
        }
        t
    }
}

/// A set of tables.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Schema {
    /// The tables, in declaration order.
    pub tables: Vec<Table>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Schema::default()
    }

    /// The table called `name`.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }

    /// Add a table built with the fluent builder, returning `self` for chaining.
    ///
    /// ```
    /// use dal_schema::Schema;
    /// let schema = Schema::new()
    ///     .create("teams", |t| { t.id(); t.string("name", 100); })
    ///     .create("users", |t| {
    ///         t.id();
    ///         t.foreign_id("team_id").references("teams");
    ///     });
    /// assert_eq!(schema.tables.len(), 2);
    /// ```
    pub fn create(mut self, name: &str, f: impl FnOnce(&mut crate::TableBuilder)) -> Self {
        self.tables.push(crate::Table::build(name, f));
        self
    }

    /// Add a table blueprint.
    pub fn push(&mut self, table: Table) {
        self.tables.push(table);
    }

    /// The tables ordered so that every table comes after the tables its foreign
    /// keys reference (cycles and external references are kept in declaration order).
    pub fn tables_in_dependency_order(&self) -> Vec<&Table> {
        let mut placed: Vec<&Table> = Vec::with_capacity(self.tables.len());
        let mut remaining: Vec<&Table> = self.tables.iter().collect();
        while !remaining.is_empty() {
            let before = remaining.len();
            let mut i = 0;
            while i < remaining.len() {
                let t = remaining[i];
                let ready = t.foreign_keys.iter().all(|fk| {
                    fk.references_table == t.name
                        || placed.iter().any(|p| p.name == fk.references_table)
                        || !remaining.iter().any(|r| r.name == fk.references_table)
                });
                if ready {
                    placed.push(t);
                    remaining.remove(i);
                } else {
                    i += 1;
                }
            }
            if remaining.len() == before {
                // a cycle: keep declaration order for the rest
                placed.append(&mut remaining);
            }
        }
        placed
    }
}

/// Default names dal gives to indexes and constraints, shortened (with a stable
/// hash suffix) when they would exceed the identifier limit of every dialect (63).
pub mod names {
    /// Longest generated name: PostgreSQL's limit, the smallest of the three.
    pub const MAX_LEN: usize = 63;

    fn join(table: &str, columns: &[String], suffix: &str) -> String {
        let mut s = String::from(table);
        for c in columns {
            s.push('_');
            s.push_str(c);
        }
        s.push('_');
        s.push_str(suffix);
        shorten(s)
    }

    /// `{table}_{cols}_index`.
    pub fn index(table: &str, columns: &[String]) -> String {
        join(table, columns, "index")
    }

    /// `{table}_{cols}_unique`.
    pub fn unique_index(table: &str, columns: &[String]) -> String {
        join(table, columns, "unique")
    }

    /// `{table}_{cols}_foreign`.
    pub fn foreign_key(table: &str, columns: &[String]) -> String {
        join(table, columns, "foreign")
    }

    /// `{table}_{column}_enum`: the CHECK constraint of an enumeration column.
    pub fn enum_check(table: &str, column: &str) -> String {
        join(table, &[column.to_string()], "enum")
    }

    /// `{table}_{column}_unsigned`: the CHECK (`[column] >= 0`) that keeps an
    /// unsigned column non-negative where the dialect has no unsigned type.
    pub fn unsigned_check(table: &str, column: &str) -> String {
        join(table, &[column.to_string()], "unsigned")
    }

    /// `{table}_{hash}_check`: a CHECK named after its expression, so reordering
    /// checks does not rename them.
    pub fn check(table: &str, expression: &str) -> String {
        let h = fnv1a(super::normalize_expression(expression).as_bytes());
        shorten(format!("{table}_{:08x}_check", h as u32))
    }

    /// Shorten a name to [`MAX_LEN`] bytes, keeping a hash of the full name.
    pub fn shorten(name: String) -> String {
        if name.len() <= MAX_LEN {
            return name;
        }
        let h = fnv1a(name.as_bytes());
        // Cut on a character boundary so a multi-byte character is never split.
        let head = name
            .get(..name.floor_char_boundary(MAX_LEN - 9))
            .unwrap_or_default();
        format!("{head}_{:08x}", h as u32)
    }

    /// FNV-1a, 64-bit: a small stable hash for generated names.
    pub fn fnv1a(bytes: &[u8]) -> u64 {
        let mut h: u64 = 0xcbf29ce484222325;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100000001b3);
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_server_rewritten_checks() {
        let ours = normalize_expression("[age] >= 0");
        assert_eq!(ours, "age>=0");
        assert_eq!(normalize_expression("((age >= 0))"), ours);
        assert_eq!(normalize_expression("`age` >= 0"), ours);
        assert_eq!(
            normalize_expression("((status)::text <> 'Draft Mode'::text)"),
            "status<>'Draft Mode'"
        );
        assert_eq!(
            normalize_expression("((kind)::character varying <> 'x'::character varying)"),
            "kind<>'x'"
        );
    }

    #[test]
    fn long_names_are_shortened_stably() {
        let long = "t".repeat(80);
        let a = names::index(&long, &["c".into()]);
        assert!(a.len() <= names::MAX_LEN);
        assert_eq!(a, names::index(&long, &["c".into()]));
        assert_ne!(a, names::index(&long, &["d".into()]));
    }

    /// The names dal gives to indexes and constraints are stored in deployed
    /// databases, and later migrations, diffs and `drop_*` calls find the objects
    /// by these names. NEVER CHANGE THESE VALUES without a migration plan: a
    /// changed name makes every deployed database look different from its
    /// blueprint (autogenerate would drop and re-create the object) and breaks
    /// migrations that drop or alter it by name. (Expected values computed
    /// independently: FNV-1a 64 of the normalized expression / full name, low
    /// 32 bits in hex; a shortened name keeps its first 54 bytes.)

    #[test]
    fn shortening_never_splits_a_character() {
        for pad in 0..4 {
            for ch in ["é", "日", "🚀"] {
                let name = format!("{}{}", "a".repeat(pad), ch.repeat(40));
                let short = names::shorten(name.clone());
                assert!(short.len() <= names::MAX_LEN, "{short}");
                let (head, hash) = short.rsplit_once('_').unwrap();
                assert!(name.starts_with(head) && hash.len() == 8, "{short}");
            }
        }
    }

    #[test]
    fn widening() {
        assert!(ColumnType::Integer.widens_to(&ColumnType::BigInteger));
        assert!(!ColumnType::BigInteger.widens_to(&ColumnType::Integer));
        assert!(ColumnType::String { length: 10 }.widens_to(&ColumnType::String { length: 20 }));
        assert!(!ColumnType::String { length: 20 }.widens_to(&ColumnType::String { length: 10 }));
        assert!(!ColumnType::Text.widens_to(&ColumnType::String { length: 10 }));
        let u = ColumnType::UnsignedBigInteger;
        assert!(!u.widens_to(&ColumnType::BigInteger), "u64 above i64::MAX");
        assert!(!ColumnType::BigInteger.widens_to(&u), "negative values");
        assert!(!ColumnType::Integer.widens_to(&u), "negative values");
        let dec = |precision, scale| ColumnType::Decimal { precision, scale };
        assert!(u.widens_to(&dec(20, 0)));
        assert!(!u.widens_to(&dec(20, 1)));
        assert!(ColumnType::BigInteger.widens_to(&dec(19, 0)));
        assert!(!ColumnType::BigInteger.widens_to(&dec(18, 0)));
        assert!(u.is_integer() && u.is_unsigned());
        assert!(!ColumnType::BigInteger.is_unsigned());
    }

    #[test]
    fn referential_actions_parse() {
        assert_eq!(
            ReferentialAction::parse("set_null"),
            Some(ReferentialAction::SetNull)
        );
        assert_eq!(
            ReferentialAction::parse("NO ACTION"),
            Some(ReferentialAction::NoAction)
        );
        assert_eq!(ReferentialAction::parse("explode"), None);
    }
}
