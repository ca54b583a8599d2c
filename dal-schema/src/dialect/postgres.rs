//! PostgreSQL: `"ident"` quoting, `$n` placeholders, native types (JSONB, UUID, TIMESTAMPTZ).

use super::{
    AutoIncrement, Capabilities, Dialect, DropTables, FloatStorage, GeneratedIds, RuntimeSql,
    SqlDialect, UpsertStyle, format_float, push_quoted,
};
use crate::model::{ColumnType, DefaultValue};

/// The PostgreSQL writer.
#[derive(Debug, Clone, Copy, Default)]
pub struct PostgresDialect;

static CAPABILITIES: Capabilities = Capabilities {
    returning: true,
    transactional_ddl: true,
    native_enum: false,
    unsigned_integers: false,
    native_uuid: true,
    max_bind_params: 65535,
    upsert: UpsertStyle::OnConflict,
    max_identifier_len: 63,
    alter_column: true,
    alter_add_foreign_key: true,
    index_if_not_exists: true,
    savepoints: true,
    array_params: true,
    row_locking: true,
    floats: FloatStorage {
        nan: true,
        infinity: true,
        negative_zero: true,
    },
    // what the runtime's transactions, telemetry and entity writes ask
    otel_system: "postgresql",
    failed_statement_aborts_transaction: true,
    upsert_reports_insert: true,
    generated_ids: GeneratedIds::Returning,
    copy_in: true,
    sequence_lags_explicit_ids: true,
    // dynamic entities
    add_column_if_not_exists: true,
    nul_in_text: false,
    limit_all: None,
};

pub(super) static RUNTIME_SQL: RuntimeSql = RuntimeSql {
    begin_write: "BEGIN",
    table_exists: "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?",
    dynamic_schema_lock: Some(
        "SELECT pg_advisory_xact_lock(hashtextextended('dal_dynamic:' || coalesce(current_schema(), ''), 0))",
    ),
    // tables that belong to an extension are the extension's business
    list_tables: "SELECT c.relname::text AS name FROM pg_catalog.pg_class c \
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
             WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') \
         ORDER BY 1",
    drop_tables: DropTables::Cascade,
};

impl SqlDialect for PostgresDialect {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn push_identifier(&self, out: &mut String, ident: &str) {
        push_quoted(out, ident, '"');
    }

    fn push_placeholder(&self, out: &mut String, index: usize) {
        use std::fmt::Write;
        let _ = write!(out, "${index}");
    }

    fn column_type(&self, ty: &ColumnType) -> String {
        match ty {
            ColumnType::SmallInteger => "SMALLINT".into(),
            ColumnType::Integer => "INTEGER".into(),
            ColumnType::BigInteger => "BIGINT".into(),
            // no unsigned types: the next wider signed type, with a range check
            ColumnType::UnsignedInteger | ColumnType::UnsignedBigInteger => "BIGINT".into(),
            ColumnType::Boolean => "BOOLEAN".into(),
            ColumnType::Float => "REAL".into(),
            ColumnType::Double => "DOUBLE PRECISION".into(),
            ColumnType::Decimal { precision, scale } => format!("NUMERIC({precision}, {scale})"),
            ColumnType::String { length } => format!("VARCHAR({length})"),
            ColumnType::Text => "TEXT".into(),
            ColumnType::Date => "DATE".into(),
            ColumnType::Time => "TIME".into(),
            ColumnType::Timestamp => "TIMESTAMP".into(),
            ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
            ColumnType::Uuid => "UUID".into(),
            ColumnType::Json => "JSONB".into(),
            ColumnType::Binary => "BYTEA".into(),
            // A CHECK constraint carries the variants: binding a text parameter to a
            // native enum type would need an explicit cast on every statement.
            ColumnType::Enumeration { .. } => "VARCHAR(255)".into(),
            // a native one-dimensional array of the element type
            ColumnType::Array { element } => format!("{}[]", self.column_type(element)),
        }
    }

    fn default_sql(&self, _ty: &ColumnType, value: &DefaultValue) -> String {
        match value {
            DefaultValue::Null => "NULL".into(),
            DefaultValue::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
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

    fn auto_increment(&self, ty: &ColumnType) -> AutoIncrement {
        AutoIncrement {
            type_sql: self.column_type(ty),
            suffix: "GENERATED BY DEFAULT AS IDENTITY",
            inline_primary_key: false,
        }
    }
}
