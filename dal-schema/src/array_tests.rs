//! Array columns ([`ColumnType::Array`]): DDL per dialect, validation of the
//! element, diffs and normalization.

use crate::{ColumnType, Dialect, SchemaErrorKind, Table, ddl, diff_tables, validate_table};

fn posts(tags: ColumnType) -> Table {
    Table::build("posts", |t| {
        t.id();
        t.array("tags", tags);
        t.array("scores", ColumnType::Double).nullable();
    })
}

#[test]
fn ddl_per_dialect() {
    let t = posts(ColumnType::Text);
    let pg = ddl::create_table(&t, Dialect::Postgres).unwrap().join("; ");
    assert!(pg.contains("\"tags\" TEXT[] NOT NULL"), "{pg}");
    assert!(pg.contains("\"scores\" DOUBLE PRECISION[]"), "{pg}");
    let my = ddl::create_table(&t, Dialect::MySql).unwrap().join("; ");
    assert!(my.contains("`tags` JSON NOT NULL"), "{my}");
    let lite = ddl::create_table(&t, Dialect::Sqlite).unwrap().join("; ");
    assert!(lite.contains("\"tags\" JSON NOT NULL"), "{lite}");
    let dec = posts(ColumnType::Decimal {
        precision: 10,
        scale: 2,
    });
    let pg = ddl::create_table(&dec, Dialect::Postgres)
        .unwrap()
        .join("; ");
    assert!(pg.contains("\"tags\" NUMERIC(10, 2)[] NOT NULL"), "{pg}");
    let s = posts(ColumnType::String { length: 40 });
    let pg = ddl::create_table(&s, Dialect::Postgres).unwrap().join("; ");
    assert!(pg.contains("\"tags\" VARCHAR(40)[] NOT NULL"), "{pg}");
}

#[test]
fn elements_are_scalars() {
    assert!(validate_table(&posts(ColumnType::BigInteger)).is_ok());
    for bad in [
        ColumnType::array(ColumnType::Text),
        ColumnType::Json,
        ColumnType::Binary,
        ColumnType::UnsignedBigInteger,
        ColumnType::Enumeration {
            variants: vec!["a".into()],
        },
    ] {
        let errors = validate_table(&posts(bad.clone())).unwrap_err();
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
        assert_eq!(errors[0].kind, SchemaErrorKind::InvalidArrayElement);
        assert_eq!(errors[0].column.as_deref(), Some("tags"));
        assert!(
            errors[0]
                .message
                .contains(&format!("cannot hold {bad} elements")),
            "{}",
            errors[0].message
        );
    }
    // the element's own arguments are checked as a column's would be
    let errors = validate_table(&posts(ColumnType::String { length: 0 })).unwrap_err();
    assert_eq!(errors[0].kind, SchemaErrorKind::InvalidLength);
    // not indexable portably (a JSON text column on MySQL)
    let t = Table::build("posts", |t| {
        t.id();
        t.array("tags", ColumnType::Text).index();
    });
    let errors = validate_table(&t).unwrap_err();
    assert_eq!(errors[0].kind, SchemaErrorKind::UnindexableColumn);
    // a literal default is refused (its form differs by dialect)
    let t = Table::build("posts", |t| {
        t.id();
        t.array("tags", ColumnType::Text).default("[]");
    });
    let errors = validate_table(&t).unwrap_err();
    assert_eq!(errors[0].kind, SchemaErrorKind::DefaultTypeMismatch);
}

#[test]
fn names_and_widening() {
    let a = ColumnType::array(ColumnType::Integer);
    assert_eq!(a.builder_name(), "array(integer)");
    assert!(a.widens_to(&ColumnType::array(ColumnType::BigInteger)));
    assert!(!ColumnType::array(ColumnType::BigInteger).widens_to(&a));
    assert!(!a.widens_to(&ColumnType::Json));
    assert_eq!(ColumnType::Text.array_element(), None);
}

#[test]
fn json_dialects_see_a_json_column() {
    // what introspection reports on MySQL/MariaDB and SQLite
    let live = Table::build("posts", |t| {
        t.id();
        t.json("tags");
        t.json("scores").nullable();
    });
    let want = posts(ColumnType::Text);
    for dialect in [Dialect::MySql, Dialect::Sqlite] {
        let d = diff_tables(&want, &live, dialect);
        assert!(d.is_empty(), "{dialect:?}: {d:?}");
    }
    // PostgreSQL knows the element type: a change of it is a change
    let live = posts(ColumnType::Integer);
    let want = posts(ColumnType::BigInteger);
    let d = diff_tables(&want, &live, Dialect::Postgres);
    assert_eq!(d.changes.len(), 1, "{d:?}");
    assert!(d.destructive.is_empty(), "{d:?}");
    let sql = d.statements(Dialect::Postgres).unwrap().join("; ");
    assert!(
        sql.contains("TYPE BIGINT[] USING \"tags\"::BIGINT[]"),
        "{sql}"
    );
    let d = diff_tables(&live, &want, Dialect::Postgres);
    assert_eq!(d.destructive.len(), 1, "narrowing: {d:?}");
    assert!(diff_tables(&want, &want, Dialect::Postgres).is_empty());
}
