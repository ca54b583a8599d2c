//! How dynamic fields are stored per dialect, as one table ([`FieldStorage`]):
//! column types of fields and what the live catalog reports for them, the
//! longest text a field holds, and the query reading live columns. Behaviour
//! that differs per dialect is asked of [`Dialect::capabilities`] instead
//! (`add_column_if_not_exists`, `nul_in_text`, `limit_all`, `upsert`,
//! `transactional_ddl`). Also here: which server errors mean "someone else
//! already did it" or "this handle's metadata is stale".

use dal_schema::{Dialect, UpsertStyle};

use super::kind::FieldKind;
use crate::error::Error;

/// How one dialect stores dynamic fields: data, read through [`storage`].
pub(crate) struct FieldStorage {
    /// The column type of text fields where it is not the dialect's `TEXT`.
    /// (MySQL's TEXT holds 64 KiB; MEDIUMTEXT holds 16 MiB and also keeps text
    /// columns apart from MariaDB's JSON, which is a LONGTEXT.)
    pub text_column: Option<&'static str>,
    /// The longest text a text field holds, in bytes, where dal knows a limit,
    /// and the servers and column type to name in the error.
    pub max_text_bytes: Option<(usize, &'static str)>,
    /// Live column types (lower case, as [`FieldStorage::live_columns_sql`]
    /// reports them) and the kind each is; a pattern ending in `*` matches a
    /// prefix (MySQL reports `bigint(20)` on some versions, `bigint` on others).
    pub live_types: &'static [(&'static str, FieldKind)],
    /// `(name, type)` of every column of the table named by the one parameter,
    /// in the current schema / database; no rows when the table does not exist.
    pub live_columns_sql: &'static str,
}

use FieldKind as K;

static POSTGRES: FieldStorage = FieldStorage {
    text_column: None,
    max_text_bytes: None,
    live_types: &[
        ("bigint", K::BigInteger),
        ("double precision", K::Double),
        ("boolean", K::Boolean),
        ("date", K::Date),
        ("timestamp with time zone", K::TimestampTz),
        ("text", K::Text),
        ("jsonb", K::Json),
        ("json", K::Json),
    ],
    live_columns_sql: "SELECT column_name::text, data_type::text FROM information_schema.columns \
                       WHERE table_schema = current_schema() AND table_name = ?",
};

static MYSQL: FieldStorage = FieldStorage {
    text_column: Some("MEDIUMTEXT"),
    max_text_bytes: Some((16 * 1024 * 1024 - 1, "MySQL/MariaDB (MEDIUMTEXT)")),
    live_types: &[
        ("bigint*", K::BigInteger),
        ("double", K::Double),
        ("tinyint(1)", K::Boolean),
        ("date", K::Date),
        ("datetime*", K::TimestampTz),
        ("mediumtext", K::Text),
        // MariaDB's JSON is a LONGTEXT with a json_valid check; MySQL 8's is native
        ("longtext", K::Json),
        ("json", K::Json),
    ],
    live_columns_sql: "SELECT column_name, column_type FROM information_schema.columns \
                       WHERE table_schema = DATABASE() AND table_name = ?",
};

static SQLITE: FieldStorage = FieldStorage {
    text_column: None,
    max_text_bytes: None,
    live_types: &[
        ("bigint", K::BigInteger),
        ("double", K::Double),
        ("boolean", K::Boolean),
        ("date", K::Date),
        ("timestamptz", K::TimestampTz),
        ("text", K::Text),
        ("json", K::Json),
    ],
    live_columns_sql: "SELECT name, type FROM pragma_table_info(?)",
};

/// The storage table of `dialect` (the one place dynamic entities look the
/// dialect up).
pub(crate) fn storage(dialect: Dialect) -> &'static FieldStorage {
    match dialect {
        Dialect::Postgres => &POSTGRES,
        Dialect::MySql => &MYSQL,
        Dialect::Sqlite => &SQLITE,
    }
}

/// The SQL type of a field column.
pub(crate) fn field_column_sql(dialect: Dialect, kind: FieldKind) -> String {
    match (kind, storage(dialect).text_column) {
        (FieldKind::Text, Some(text)) => text.into(),
        _ => dialect.column_type_sql(&kind.column_type()),
    }
}

/// The field kind of a live column type, as the live-columns query reports it,
/// for columns created by [`field_column_sql`].
pub(crate) fn kind_of_live_type(dialect: Dialect, ty: &str) -> Option<FieldKind> {
    let ty = ty.trim().to_ascii_lowercase();
    storage(dialect)
        .live_types
        .iter()
        .find(|(pattern, _)| match pattern.strip_suffix('*') {
            Some(prefix) => ty.starts_with(prefix),
            None => ty == *pattern,
        })
        .map(|&(_, kind)| kind)
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
pub(crate) fn no_limit(dialect: Dialect) -> String {
    dialect
        .capabilities()
        .limit_all
        .map_or(String::new(), |limit| format!(" {limit}"))
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
        // MySQL 8 reports `bigint` and a native `json`
        assert_eq!(
            kind_of_live_type(Dialect::MySql, "bigint"),
            Some(K::BigInteger)
        );
        assert_eq!(kind_of_live_type(Dialect::MySql, "json"), Some(K::Json));
        assert_eq!(kind_of_live_type(Dialect::Postgres, "integer"), None);
    }

    #[test]
    fn offsets_without_a_limit() {
        assert_eq!(no_limit(Dialect::Postgres), "");
        assert_eq!(no_limit(Dialect::MySql), " LIMIT 18446744073709551615");
        assert_eq!(no_limit(Dialect::Sqlite), " LIMIT -1");
    }
}
