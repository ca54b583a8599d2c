//! MySQL family (MariaDB 10.11 tested): backtick quoting, `?` placeholders,
//! inline `ENUM`, `AUTO_INCREMENT`, backslash escapes in string literals.

use super::{
    AutoIncrement, Capabilities, Dialect, DropTables, FloatStorage, GeneratedIds, RuntimeSql,
    SqlDialect, UpsertStyle, format_float, push_quoted,
};
use crate::model::{ColumnType, DefaultValue};

/// The MySQL / MariaDB writer.
#[derive(Debug, Clone, Copy, Default)]
pub struct MySqlDialect;

static CAPABILITIES: Capabilities = Capabilities {
    // MariaDB has INSERT/DELETE .. RETURNING, MySQL 8 has none: use the OK packet's
    // last-insert id instead, which costs no extra round trip.
    returning: false,
    transactional_ddl: false,
    native_enum: true,
    unsigned_integers: true,
    native_uuid: false,
    max_bind_params: 65535,
    upsert: UpsertStyle::OnDuplicateKey,
    max_identifier_len: 64,
    alter_column: true,
    alter_add_foreign_key: true,
    // MariaDB understands `CREATE INDEX IF NOT EXISTS`, MySQL 8 does not.
    index_if_not_exists: false,
    savepoints: true,
    array_params: false,
    row_locking: true,
    // floating-point columns hold finite numbers only, and `-0.0` reads back as `0.0`
    floats: FloatStorage {
        nan: false,
        infinity: false,
        negative_zero: false,
    },
    // what the runtime's transactions, telemetry and entity writes ask
    otel_system: "mysql",
    failed_statement_aborts_transaction: false,
    upsert_reports_insert: false,
    generated_ids: GeneratedIds::FirstInsertId,
    copy_in: false,
    sequence_lags_explicit_ids: false,
    // dynamic entities
    add_column_if_not_exists: false,
    nul_in_text: true,
    limit_all: Some("LIMIT 18446744073709551615"),
};

pub(super) static RUNTIME_SQL: RuntimeSql = RuntimeSql {
    begin_write: "START TRANSACTION",
    table_exists: "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
    dynamic_schema_lock: None,
    list_tables: "SELECT TABLE_NAME AS name FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1",
    drop_tables: DropTables::WithoutForeignKeyChecks {
        off: "SET FOREIGN_KEY_CHECKS = 0",
        on: "SET FOREIGN_KEY_CHECKS = 1",
    },
};

impl SqlDialect for MySqlDialect {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    fn capabilities(&self) -> &'static Capabilities {
        &CAPABILITIES
    }

    fn push_identifier(&self, out: &mut String, ident: &str) {
        push_quoted(out, ident, '`');
    }

    fn push_placeholder(&self, out: &mut String, _index: usize) {
        out.push('?');
    }

    fn push_string_literal(&self, out: &mut String, value: &str) {
        // Backslash is an escape character in MySQL strings unless the server runs
        // with NO_BACKSLASH_ESCAPES; doubling it is correct in the default mode.
        out.push('\'');
        for c in value.chars() {
            match c {
                '\'' => out.push_str("''"),
                '\\' => out.push_str("\\\\"),
                c => out.push(c),
            }
        }
        out.push('\'');
    }

    fn column_type(&self, ty: &ColumnType) -> String {
        match ty {
            ColumnType::SmallInteger => "SMALLINT".into(),
            ColumnType::Integer => "INT".into(),
            ColumnType::BigInteger => "BIGINT".into(),
            ColumnType::UnsignedInteger => "INT UNSIGNED".into(),
            ColumnType::UnsignedBigInteger => "BIGINT UNSIGNED".into(),
            ColumnType::Boolean => "TINYINT(1)".into(),
            ColumnType::Float => "FLOAT".into(),
            ColumnType::Double => "DOUBLE".into(),
            ColumnType::Decimal { precision, scale } => format!("DECIMAL({precision}, {scale})"),
            ColumnType::String { length } => format!("VARCHAR({length})"),
            // TEXT holds 64 KiB; unbounded text on the other dialects means LONGTEXT here
            ColumnType::Text => "LONGTEXT".into(),
            ColumnType::Date => "DATE".into(),
            ColumnType::Time => "TIME(6)".into(),
            ColumnType::Timestamp | ColumnType::TimestampTz => "DATETIME(6)".into(),
            ColumnType::Uuid => "CHAR(36)".into(),
            ColumnType::Json => "JSON".into(),
            ColumnType::Binary => "LONGBLOB".into(),
            ColumnType::Enumeration { variants } => {
                let mut out = String::from("ENUM(");
                for (i, v) in variants.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.push_string_literal(&mut out, v);
                }
                out.push(')');
                out
            }
            // a JSON array, in the same column as a JSON document (on MariaDB
            // `LONGTEXT` with a `json_valid` check)
            ColumnType::Array { .. } => "JSON".into(),
        }
    }

    fn default_sql(&self, ty: &ColumnType, value: &DefaultValue) -> String {
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
            DefaultValue::CurrentTimestamp => match ty {
                // the default's fractional precision must match the column's
                ColumnType::Timestamp | ColumnType::TimestampTz => "CURRENT_TIMESTAMP(6)".into(),
                _ => "CURRENT_TIMESTAMP".into(),
            },
            // MySQL 8.0.13+ and MariaDB 10.2+ accept expression defaults in parentheses.
            DefaultValue::CurrentDate => "(CURRENT_DATE)".into(),
            DefaultValue::Expression(e) => format!("({e})"),
        }
    }

    fn auto_increment(&self, ty: &ColumnType) -> AutoIncrement {
        AutoIncrement {
            type_sql: self.column_type(ty),
            suffix: "AUTO_INCREMENT",
            inline_primary_key: false,
        }
    }
}
