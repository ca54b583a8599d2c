//! What differs per dialect for dynamic entities, in one place: column types of
//! fields, reading live columns, the schema-change lock, `ADD COLUMN IF NOT
//! EXISTS`, insert-if-absent, offsets without a limit, and which server errors
//! mean "someone else already did it" or "this handle's metadata is stale".

use dal_schema::{Dialect, UpsertStyle};

use super::kind::FieldKind;
use crate::error::Error;

/// The SQL type of a field column.
pub(crate) fn field_column_sql(dialect: Dialect, kind: FieldKind) -> String {
    match (dialect, kind) {
        // MySQL's TEXT holds 64 KiB; MEDIUMTEXT holds 16 MiB and also keeps text
        // columns apart from MariaDB's JSON, which is a LONGTEXT
        (Dialect::MySql, FieldKind::Text) => "MEDIUMTEXT".into(),
        _ => dialect.column_type_sql(&kind.column_type()),
    }
}

/// The field kind of a live column type, as [`live_columns_sql`] reports it, for
/// columns created by [`field_column_sql`].
pub(crate) fn kind_of_live_type(dialect: Dialect, ty: &str) -> Option<FieldKind> {
    let ty = ty.trim().to_ascii_lowercase();
    let ty = ty.as_str();
    use FieldKind as K;
    match dialect {
        Dialect::Postgres => match ty {
            "bigint" => Some(K::BigInteger),
            "double precision" => Some(K::Double),
            "boolean" => Some(K::Boolean),
            "date" => Some(K::Date),
            "timestamp with time zone" => Some(K::TimestampTz),
            "text" => Some(K::Text),
            "jsonb" | "json" => Some(K::Json),
            _ => None,
        },
        Dialect::MySql => match ty {
            t if t.starts_with("bigint") => Some(K::BigInteger),
            "double" => Some(K::Double),
            "tinyint(1)" => Some(K::Boolean),
            "date" => Some(K::Date),
            t if t.starts_with("datetime") => Some(K::TimestampTz),
            "mediumtext" => Some(K::Text),
            // MariaDB's JSON is a LONGTEXT with a json_valid check; MySQL 8's is native
            "longtext" | "json" => Some(K::Json),
            _ => None,
        },
        Dialect::Sqlite => match ty {
            "bigint" => Some(K::BigInteger),
            "double" => Some(K::Double),
            "boolean" => Some(K::Boolean),
            "date" => Some(K::Date),
            "timestamptz" => Some(K::TimestampTz),
            "text" => Some(K::Text),
            "json" => Some(K::Json),
            _ => None,
        },
    }
}

/// `(name, type)` of every column of the table named by the one parameter, in
/// the current schema / database; no rows when the table does not exist.
pub(crate) fn live_columns_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => {
            "SELECT column_name::text, data_type::text FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = ?"
        }
        Dialect::MySql => {
            "SELECT column_name, column_type FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name = ?"
        }
        Dialect::Sqlite => "SELECT name, type FROM pragma_table_info(?)",
    }
}

/// A statement that serialises schema changes of dynamic entities until the end
/// of the transaction, where one is needed.
///
/// PostgreSQL takes a transaction-scoped advisory lock per schema (released with
/// the transaction whatever happens), which also avoids the catalog races of
/// concurrent `CREATE TABLE IF NOT EXISTS`. SQLite's `BEGIN IMMEDIATE` already
/// holds the write lock. The MySQL family commits DDL implicitly, so there is no
/// transaction to hold a lock in; there every step is idempotent instead
/// (existing tables, columns and indexes are detected and tolerated).
pub(crate) fn schema_lock_sql(dialect: Dialect) -> Option<&'static str> {
    match dialect {
        Dialect::Postgres => Some(
            "SELECT pg_advisory_xact_lock(hashtextextended('dal_dynamic:' || coalesce(current_schema(), ''), 0))",
        ),
        Dialect::MySql | Dialect::Sqlite => None,
    }
}

/// Whether `ALTER TABLE .. ADD COLUMN IF NOT EXISTS` is understood. PostgreSQL
/// and MariaDB have it, SQLite and MySQL 8 do not; the MySQL family is one
/// dialect here, so it checks the live columns and tolerates error 1060 instead.
pub(crate) fn add_column_if_not_exists(dialect: Dialect) -> bool {
    dialect == Dialect::Postgres
}

/// The clause that makes an INSERT into the field metadata table do nothing when
/// the `(entity, field)` row exists.
pub(crate) fn insert_ignore_suffix(dialect: Dialect) -> &'static str {
    match dialect.capabilities().upsert {
        UpsertStyle::OnConflict => " ON CONFLICT ([entity], [field]) DO NOTHING",
        UpsertStyle::OnDuplicateKey => " ON DUPLICATE KEY UPDATE [kind] = [kind]",
    }
}

/// `LIMIT` text to put before `OFFSET ?` when there is no limit.
pub(crate) fn no_limit(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "",
        Dialect::MySql => " LIMIT 18446744073709551615",
        Dialect::Sqlite => " LIMIT -1",
    }
}

/// A MySQL-family DDL error saying the object is already there (duplicate
/// column 1060, duplicate index name 1061, table exists 1050): another process
/// got there first.
pub(crate) fn is_already_there(e: &Error) -> bool {
    matches!(e.code(), Some("1050" | "1060" | "1061"))
}

/// An error that a read with stale field metadata can cause: PostgreSQL's
/// "cached plan must not change result type" (0A000) after a column changed
/// type, or an unknown column.
pub(crate) fn is_stale_schema(e: &Error) -> bool {
    match e.code() {
        Some("0A000" | "42703" | "1054") => true,
        _ => e.to_string().contains("no such column"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_types_map_back_to_the_kinds_that_created_them() {
        for dialect in Dialect::ALL {
            for kind in FieldKind::ALL {
                let created = field_column_sql(dialect, kind);
                // what each server reports for the type it was given
                let reported = match (dialect, created.as_str()) {
                    (Dialect::Postgres, "TIMESTAMPTZ") => "timestamp with time zone".into(),
                    (Dialect::MySql, "BIGINT") => "bigint(20)".into(),
                    (Dialect::MySql, "JSON") => "longtext".into(),
                    (_, t) => t.to_ascii_lowercase(),
                };
                assert_eq!(
                    kind_of_live_type(dialect, &reported),
                    Some(kind),
                    "{dialect} {created}"
                );
            }
        }
    }
}
