//! Portable SQL identifiers on every backend: `[name]` with quote characters,
//! `]`, spaces and multi-byte characters round-trips through DDL, writes, reads
//! and introspection; identifiers too long for the server and NUL characters are
//! refused as invalid input before anything reaches the server.

use dal::{ColumnType, Dialect, Error};

use crate::support::TestDb;

/// A table name holding both quote characters, a `]`, spaces and multi-byte text.
const TABLE: &str = "odd \"t\" `b` ]x ü 日本";

/// Column names (after `id`), as the server must report them.
const COLUMNS: [&str; 6] = [
    "say \"hi\"",
    "back`tick",
    "a]b",
    "user name",
    "prénom",
    "日本語 ключ",
];

/// A JSON column whose name holds a backtick and a `"`.
const JSON_COLUMN: &str = "doc `j` \"s\"";
const JSON_COLUMN_SQL: &str = "[doc `j` \"s\"]";

/// `name` as a portable `[name]` (`]]` for `]`).
fn bracket(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

fn bracket_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| bracket(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `[name]` with `"`, backtick, `]`, spaces and multi-byte characters: created,
/// written, read (the server reports the exact names), updated and introspected.
pub async fn ps_bracket_names_with_quotes_round_trip(db: &TestDb) {
    let t = bracket(TABLE);
    // MariaDB's JSON is a LONGTEXT with a `json_valid(`name`)` check that
    // introspection folds back into a JSON column by its quoted name.
    let json = match db.dialect() {
        Dialect::Postgres => "JSONB",
        _ => "JSON",
    };
    let create = format!(
        "CREATE TABLE {t} ([id] INTEGER PRIMARY KEY, {} VARCHAR(40) NOT NULL, {} INTEGER, \
         {} VARCHAR(40), {} VARCHAR(40), {} VARCHAR(40), {} VARCHAR(40), {JSON_COLUMN_SQL} {json})",
        bracket(COLUMNS[0]),
        bracket(COLUMNS[1]),
        bracket(COLUMNS[2]),
        bracket(COLUMNS[3]),
        bracket(COLUMNS[4]),
        bracket(COLUMNS[5]),
    );
    db.execute(&create, ()).await.unwrap();
    let index = "ix \"q\" `r` ]";
    db.execute(
        &format!(
            "CREATE INDEX {} ON {t} ({}, {})",
            bracket(index),
            bracket(COLUMNS[0]),
            bracket(COLUMNS[1])
        ),
        (),
    )
    .await
    .unwrap();

    let insert = format!(
        "INSERT INTO {t} ([id], {}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        bracket_list(&COLUMNS)
    );
    db.execute(&insert, (1, "x \"y\"", 10, "[not] ?", "ann", "Zoë", "値"))
        .await
        .unwrap();
    db.execute(&insert, (2, "`z`", 20, "]]", "bob", "Éloi", "ключ"))
        .await
        .unwrap();

    let select = format!(
        "SELECT {} FROM {t} WHERE {} >= ? ORDER BY [id]",
        bracket_list(&COLUMNS),
        bracket(COLUMNS[1])
    );
    let rows = db.fetch_all(&select, (10,)).await.unwrap();
    assert_eq!(rows.len(), 2, "{}", db.dialect());
    assert_eq!(rows[0].column_names(), COLUMNS, "{}", db.dialect());
    let first: (String, i64, String, String, String, String) =
        db.fetch_one_as(&select, (10,)).await.unwrap();
    assert_eq!(
        first,
        (
            "x \"y\"".into(),
            10,
            "[not] ?".into(),
            "ann".into(),
            "Zoë".into(),
            "値".into()
        )
    );
    assert_eq!(
        rows[1].get::<String, _>(COLUMNS[2]).unwrap(),
        "]]",
        "{}",
        db.dialect()
    );
    assert_eq!(rows[1].get::<String, _>(COLUMNS[5]).unwrap(), "ключ");

    // Qualified names and an alias with quote characters.
    let alias = "the \"a]b\" `col`";
    let qualified = format!(
        "SELECT {t}.{} AS {} FROM {t} WHERE {t}.{} = ?",
        bracket(COLUMNS[2]),
        bracket(alias),
        bracket(COLUMNS[3])
    );
    let row = db.fetch_one(&qualified, ("bob",)).await.unwrap();
    assert_eq!(row.column_names(), [alias]);
    assert_eq!(row.get::<String, _>(alias).unwrap(), "]]");

    let update = format!(
        "UPDATE {t} SET {} = ? WHERE {} = ?",
        bracket(COLUMNS[2]),
        bracket(COLUMNS[4])
    );
    let done = db.execute(&update, ("a\"b`c]d", "Zoë")).await.unwrap();
    assert_eq!(done.rows_affected, 1);
    let back: String = db
        .fetch_scalar(
            &format!("SELECT {} FROM {t} WHERE [id] = ?", bracket(COLUMNS[2])),
            (1,),
        )
        .await
        .unwrap();
    assert_eq!(back, "a\"b`c]d");

    // Introspection reads the names back exactly.
    let table = db
        .introspect_table(TABLE)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{TABLE:?} not found on {}", db.dialect()));
    assert_eq!(table.name, TABLE);
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    let mut expected = vec!["id"];
    expected.extend(COLUMNS);
    expected.push(JSON_COLUMN);
    assert_eq!(names, expected, "{}", db.dialect());
    let json_column = table.column(JSON_COLUMN).unwrap();
    assert_eq!(json_column.ty, ColumnType::Json, "{}", db.dialect());
    assert!(table.checks.is_empty(), "{:?}", table.checks);
    assert_eq!(table.primary_key, ["id"]);
    let ix = table
        .indexes
        .iter()
        .find(|i| i.name == index)
        .unwrap_or_else(|| panic!("index {index:?} in {:?}", table.indexes));
    assert_eq!(ix.columns, [COLUMNS[0], COLUMNS[1]]);
    let schema = db.introspect().await.unwrap();
    let tables: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, [TABLE]);
}

/// The names of the tables in the test database.
async fn table_names(db: &TestDb) -> Vec<String> {
    let schema = db.introspect().await.unwrap();
    schema.tables.into_iter().map(|t| t.name).collect()
}

#[track_caller]
fn assert_too_long(result: dal::Result<impl std::fmt::Debug>, shown: &str, limit: &str) {
    match result {
        Err(Error::InvalidInput { field, reason }) => {
            assert_eq!(field, "sql");
            assert!(reason.contains(shown), "{reason:?} should name {shown:?}");
            assert!(reason.contains(limit), "{reason:?} should state {limit:?}");
        }
        other => panic!("expected InvalidInput naming {shown:?}, got {other:?}"),
    }
}

/// Identifiers longer than the server takes (PostgreSQL 63 bytes, which it would
/// silently truncate; MariaDB 64 characters) are refused before anything is sent,
/// and nothing is created; names at the limit work. SQLite has no limit.
pub async fn ps_identifier_length_limits(db: &TestDb) {
    let before = db.stats();
    match db.dialect() {
        Dialect::Postgres => {
            // 64 bytes: PostgreSQL would create `uuu…` truncated to 63 bytes.
            let long = "u".repeat(64);
            let shown = format!("{}…{}", "u".repeat(20), "u".repeat(8));
            let limit = "at most 63 bytes";
            assert_too_long(
                db.execute(&format!("CREATE TABLE [{long}] ([id] INTEGER)"), ())
                    .await,
                &shown,
                limit,
            );
            assert_too_long(
                db.execute(&format!("CREATE TABLE \"{long}\" (\"id\" INTEGER)"), ())
                    .await,
                &shown,
                limit,
            );
            assert_too_long(
                db.execute(&format!("CREATE TABLE {long} (id INTEGER)"), ())
                    .await,
                &shown,
                limit,
            );
            // Bytes, not characters: 32 two-byte characters are 64 bytes.
            let wide = "é".repeat(32);
            assert_too_long(
                db.execute(&format!("CREATE TABLE [w] ([{wide}] INTEGER)"), ())
                    .await,
                &"é".repeat(20),
                limit,
            );
            assert_eq!(db.stats().statements, before.statements);
            assert!(table_names(db).await.is_empty());

            // At the limit: 63 bytes, in ASCII and in two-byte characters (+1).
            let fits = "t".repeat(63);
            let wide = format!("{}x", "é".repeat(31));
            db.execute(&format!("CREATE TABLE [{fits}] ([{wide}] INTEGER)"), ())
                .await
                .unwrap();
            db.execute(&format!("INSERT INTO [{fits}] ([{wide}]) VALUES (?)"), (5,))
                .await
                .unwrap();
            let row = db
                .fetch_one(&format!("SELECT [{wide}] FROM [{fits}]"), ())
                .await
                .unwrap();
            assert_eq!(row.column_names(), [wide.as_str()]);
            assert_eq!(table_names(db).await, [fits.as_str()]);
            let table = db.introspect_table(&fits).await.unwrap().unwrap();
            assert_eq!(table.columns[0].name, wide);
        }
        Dialect::MySql => {
            let long = "n".repeat(65);
            let shown = format!("{}…{}", "n".repeat(20), "n".repeat(8));
            let limit = "at most 64 characters";
            assert_too_long(
                db.execute(&format!("CREATE TABLE [{long}] ([id] INTEGER)"), ())
                    .await,
                &shown,
                limit,
            );
            assert_too_long(
                db.execute(&format!("CREATE TABLE `{long}` (`id` INTEGER)"), ())
                    .await,
                &shown,
                limit,
            );
            // Characters, not bytes: 65 two-byte characters are refused, 64 fit.
            assert_too_long(
                db.execute(
                    &format!("CREATE TABLE [w] ([{}] INTEGER)", "é".repeat(65)),
                    (),
                )
                .await,
                &"é".repeat(20),
                limit,
            );
            assert_eq!(db.stats().statements, before.statements);
            assert!(table_names(db).await.is_empty());

            let fits = "m".repeat(64);
            let wide = "é".repeat(64);
            db.execute(&format!("CREATE TABLE [{fits}] ([{wide}] INTEGER)"), ())
                .await
                .unwrap();
            db.execute(&format!("INSERT INTO [{fits}] ([{wide}]) VALUES (?)"), (5,))
                .await
                .unwrap();
            let row = db
                .fetch_one(&format!("SELECT [{wide}] FROM [{fits}]"), ())
                .await
                .unwrap();
            assert_eq!(row.column_names(), [wide.as_str()]);
            assert_eq!(table_names(db).await, [fits.as_str()]);
            let table = db.introspect_table(&fits).await.unwrap().unwrap();
            assert_eq!(table.columns[0].name, wide);
        }
        Dialect::Sqlite => {
            let long = format!("{}_end", "s".repeat(300));
            let wide = "é".repeat(200);
            db.execute(&format!("CREATE TABLE [{long}] ([{wide}] INTEGER)"), ())
                .await
                .unwrap();
            db.execute(&format!("INSERT INTO [{long}] ([{wide}]) VALUES (?)"), (5,))
                .await
                .unwrap();
            let n: i64 = db
                .fetch_scalar(&format!("SELECT [{wide}] FROM [{long}]"), ())
                .await
                .unwrap();
            assert_eq!(n, 5);
            let table = db.introspect_table(&long).await.unwrap().unwrap();
            assert_eq!(table.name, long);
            assert_eq!(table.columns[0].name, wide);
        }
    }
}

/// A NUL character in SQL text is a client error: refused before it is sent,
/// not retried, not counted against the connection or the breaker.
pub async fn ps_nul_in_sql_text_is_invalid_input(db: &TestDb) {
    let before = db.stats();
    for sql in ["SELECT 'a\0b'", "SELECT 1 -- \0", "SELECT [x\0y]", "\0"] {
        let err = db.fetch_all(sql, ()).await.unwrap_err();
        match &err {
            Error::InvalidInput { field, reason } => {
                assert_eq!(field, "sql");
                assert!(reason.contains("NUL character"), "{reason}");
            }
            other => panic!("{sql:?} on {}: {other:?}", db.dialect()),
        }
        assert!(!err.is_transient() && !err.is_infrastructure(), "{err:?}");
        let err = db.execute(sql, ()).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
    let after = db.stats();
    assert_eq!(after.statements, before.statements);
    assert_eq!(after.retries, before.retries);
    assert_eq!(after.breaker, before.breaker);
    // The connection is fine, and NUL in a bound value is not SQL text.
    let n: i64 = db.fetch_scalar("SELECT ?", (7,)).await.unwrap();
    assert_eq!(n, 7);
    let bytes: Vec<u8> = db
        .fetch_scalar("SELECT ?", (vec![0u8, 1, 0],))
        .await
        .unwrap();
    assert_eq!(bytes, [0, 1, 0]);
}

macro_rules! portable_tests {
    ($setup:path) => {
        backend_tests!($setup;
            portable::ps_bracket_names_with_quotes_round_trip,
            portable::ps_identifier_length_limits,
            portable::ps_nul_in_sql_text_is_invalid_input,
        );
    };
}
