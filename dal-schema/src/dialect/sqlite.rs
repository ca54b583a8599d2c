//! SQLite: `"ident"` quoting, `?` placeholders, declared type names chosen so that
//! each maps back to one blueprint type and gets the right column affinity.

use super::{
    AutoIncrement, Capabilities, Dialect, DropTables, FloatStorage, GeneratedIds, RuntimeSql,
    SqlDialect, UpsertStyle, format_float, push_quoted,
};
use crate::model::{ColumnType, DefaultValue};

/// The SQLite writer.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqliteDialect;

static CAPABILITIES: Capabilities = Capabilities {
    returning: true,
    transactional_ddl: true,
    native_enum: false,
    unsigned_integers: false,
    native_uuid: false,
    // SQLITE_MAX_VARIABLE_NUMBER since 3.32
    max_bind_params: 32766,
    upsert: UpsertStyle::OnConflict,
    // SQLite has no limit on identifier length.
    max_identifier_len: usize::MAX,
    alter_column: false,
    alter_add_foreign_key: false,
    index_if_not_exists: true,
    savepoints: true,
    array_params: false,
    row_locking: false,
    // NaN is stored as NULL, and `-0.0` reads back as `0.0`
    floats: FloatStorage {
        nan: false,
        infinity: true,
        negative_zero: false,
    },
    // what the runtime's transactions, telemetry and entity writes ask
    otel_system: "sqlite",
    failed_statement_aborts_transaction: false,
    upsert_reports_insert: false,
    generated_ids: GeneratedIds::LastInsertId,
    copy_in: false,
    sequence_lags_explicit_ids: false,
    // dynamic entities
    add_column_if_not_exists: false,
    nul_in_text: true,
    limit_all: Some("LIMIT -1"),
};

pub(super) static RUNTIME_SQL: RuntimeSql = RuntimeSql {
    begin_write: "BEGIN IMMEDIATE",
    table_exists: "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
    dynamic_schema_lock: None,
    list_tables: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite^_%' ESCAPE '^' ORDER BY 1",
    drop_tables: DropTables::OneByOne,
};

impl SqlDialect for SqliteDialect {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn push_identifier(&self, out: &mut String, ident: &str) {
        push_quoted(out, ident, '"');
    }

    fn push_placeholder(&self, out: &mut String, _index: usize) {
        out.push('?');
    }

    // Declared types are kept verbatim by SQLite, so introspection maps them back.
    // Types holding text (dates, UUIDs, JSON) are written as text values that never
    // look numeric, so NUMERIC affinity leaves them alone.
    fn column_type(&self, ty: &ColumnType) -> String {
        match ty {
            ColumnType::SmallInteger => "SMALLINT".into(),
            ColumnType::Integer => "INTEGER".into(),
            ColumnType::BigInteger => "BIGINT".into(),
            ColumnType::UnsignedInteger | ColumnType::UnsignedBigInteger => "BIGINT".into(),
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::Float => "FLOAT".into(),
            ColumnType::Double => "DOUBLE".into(),
            ColumnType::Decimal { precision, scale } => format!("DECIMAL({precision}, {scale})"),
            ColumnType::String { length } => format!("VARCHAR({length})"),
            ColumnType::Text => "TEXT".into(),
            ColumnType::Date => "DATE".into(),
            ColumnType::Time => "TIME".into(),
            ColumnType::Timestamp => "TIMESTAMP".into(),
            ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
            ColumnType::Uuid => "UUID".into(),
            ColumnType::Json => "JSON".into(),
            ColumnType::Binary => "BLOB".into(),
            ColumnType::Enumeration { .. } => "VARCHAR(255)".into(),
            // a JSON array, in the same column as a JSON document
            ColumnType::Array { .. } => "JSON".into(),
        }
    }

    fn default_sql(&self, _ty: &ColumnType, value: &DefaultValue) -> String {
        match value {
            DefaultValue::Null => "NULL".into(),
            DefaultValue::Bool(b) => if *b { "1" } else { "0" }.into(),
            DefaultValue::Integer(i) => i.to_string(),
            DefaultValue::Float(f) => format_float(*f),
            DefaultValue::String(s) => {
                let mut out = String::new();
                self.push_string_literal(&mut out, s);
                out
            }
            DefaultValue::CurrentTimestamp => "CURRENT_TIMESTAMP".into(),
            DefaultValue::CurrentDate => "CURRENT_DATE".into(),
            DefaultValue::Expression(e) => format!("({e})"),
        }
    }

    fn auto_increment(&self, _ty: &ColumnType) -> AutoIncrement {
        // Only `INTEGER PRIMARY KEY` aliases the rowid; AUTOINCREMENT keeps ids of
        // deleted rows from being reused (history rows refer to them).
        AutoIncrement {
            type_sql: "INTEGER".into(),
            suffix: "PRIMARY KEY AUTOINCREMENT",
            inline_primary_key: true,
        }
    }
}
