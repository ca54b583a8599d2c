//! DDL and introspection against the real servers: every blueprint feature is
//! created, read back and compared; alter operations, the schema diff round trip
//! and tables dal did not create are introspected.

use dal::schema::ddl::DdlStatement;
use dal::schema::{Change, Check, ForeignKey, Index, diff_schemas};
use dal::{
    Column, ColumnType, ConstraintKind, DefaultValue, Dialect, Error, ReferentialAction, Schema,
    Table,
};

use crate::support::TestDb;

const ACTIONS: [ReferentialAction; 5] = [
    ReferentialAction::NoAction,
    ReferentialAction::Restrict,
    ReferentialAction::Cascade,
    ReferentialAction::SetNull,
    ReferentialAction::SetDefault,
];

/// The lines of `a`'s and `b`'s pretty Debug forms that differ, as `-`/`+` lines.
fn debug_diff(a: &Table, b: &Table) -> String {
    let a = format!("{a:#?}");
    let b = format!("{b:#?}");
    let (al, bl): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = String::new();
    for i in 0..al.len().max(bl.len()) {
        let (x, y) = (al.get(i), bl.get(i));
        if x != y {
            if let Some(x) = x {
                out.push_str(&format!("- {x}\n"));
            }
            if let Some(y) = y {
                out.push_str(&format!("+ {y}\n"));
            }
        }
    }
    out
}

/// Assert that the live table compares equal to the blueprint in the dialect's
/// normalized form, printing both (and the differing lines) when it does not.
fn assert_same_table(dialect: Dialect, blueprint: &Table, live: &Table) {
    let want = blueprint.normalized_for(dialect);
    let got = live.normalized_for(dialect);
    assert!(
        want == got,
        "table `{}` on {dialect} differs after introspection\n\
         --- differing lines (- blueprint, + introspected)\n{}\n\
         --- blueprint\n{want:#?}\n--- introspected\n{got:#?}",
        blueprint.name,
        debug_diff(&want, &got),
    );
}

async fn live_table(db: &TestDb, name: &str) -> Table {
    db.introspect_table(name)
        .await
        .expect("introspect table")
        .unwrap_or_else(|| panic!("table `{name}` not found by introspection"))
}

/// The blueprints of the "every builder feature" test, in creation order.
fn every_feature_tables() -> Vec<Table> {
    let parents = Table::build("ddl_parents", |t| {
        t.id();
        t.uuid("code").unique();
        t.string("label", 40).default("none");
    });
    let uuid_parents = Table::build("ddl_uuid_parents", |t| {
        t.uuid_id();
        t.string("name", 50).nullable();
    });
    let named_keys = Table::build("ddl_named_keys", |t| {
        t.id_named("key_id");
        t.column("raw_small", ColumnType::SmallInteger)
            .nullable()
            .default(-7);
    });
    let uuid_named = Table::build("ddl_uuid_named", |t| {
        t.uuid_id_named("uid");
    });
    let manual_ids = Table::build("ddl_manual_ids", |t| {
        t.big_integer("num").auto_increment().primary();
        t.string("label", 10).nullable();
    });
    let manual_pk = Table::build("ddl_manual_pk", |t| {
        t.string("code", 10).primary();
        t.integer("rank").unique();
    });
    let everything = Table::build("ddl_everything", |t| {
        t.id();
        t.string("s", 40).unique();
        t.string("quoted", 40).default("it's a \\ back");
        t.string("empty_default", 10).default("");
        t.text("body").nullable();
        t.small_integer("si").default(3);
        t.integer("i").default(-12).index();
        t.big_integer("bi").default(9_000_000_000i64);
        t.boolean("flag_on").default(true);
        t.boolean("flag_off").default(false);
        t.boolean("flag_null").nullable();
        t.float("fl").default(1.5);
        t.double("db").default(-2.25);
        t.double("db_int").default(3);
        t.decimal("price", 10, 2).default(12.5);
        t.decimal("price_str", 12, 3).default("2.5");
        t.decimal("price_int", 8, 0).default(4);
        t.date("day").use_current();
        t.date("birthday").nullable();
        t.time("at_time").nullable();
        t.timestamp("stamp").use_current();
        t.timestamp("stamp_null").nullable();
        t.timestamp_tz("stamp_tz");
        t.uuid("u").default("00000000-0000-0000-0000-000000000001");
        t.json("doc").nullable();
        t.json("doc_required");
        t.binary("blob").nullable();
        t.enumeration("status", ["draft", "it's", "back\\slash"])
            .default("draft");
        t.enumeration("kind", ["a", "b"]).nullable();
        t.integer("computed")
            .default(DefaultValue::Expression("1 + 1".into()));
        t.string("explicit_null", 5)
            .nullable()
            .default(DefaultValue::Null);
        for (i, on_delete) in ACTIONS.iter().enumerate() {
            let on_update = ACTIONS[(i + 1) % ACTIONS.len()];
            t.foreign_id(&format!("parent_{i}"))
                .references("ddl_parents")
                .on_delete(*on_delete)
                .on_update(on_update)
                .nullable();
        }
        t.foreign_id("cascading_id")
            .references("ddl_parents")
            .cascade_on_delete()
            .named("ddl_everything_custom_fk");
        t.foreign_id("nulling_id")
            .references("ddl_parents")
            .null_on_delete()
            .nullable();
        t.foreign_uuid("parent_code")
            .references_column("ddl_parents", "code")
            .nullable();
        t.foreign_uuid("uuid_parent_id")
            .references("ddl_uuid_parents")
            .external()
            .nullable();
        t.timestamps();
        t.soft_deletes();
        t.index(["s", "i"]);
        t.index_named("ddl_everything_custom_index", ["bi", "si"]);
        t.unique_index(["si", "i"]);
        t.unique_index(["fl"]);
        t.unique_index_named("ddl_everything_named_unique", ["db"]);
        t.check("[i] < 1000000");
        t.check("[quoted] <> 'forbidden value'");
        t.check_named(
            "ddl_everything_price_check",
            "[price] >= 0 AND [price_int] >= 0",
        );
    });
    let memberships = Table::build("ddl_memberships", |t| {
        t.foreign_id("team_id")
            .references("ddl_parents")
            .cascade_on_delete();
        t.foreign_uuid("member_id").references("ddl_uuid_parents");
        t.string("role", 20).default("member");
        t.primary(["team_id", "member_id"]);
        t.timestamps();
    });
    // key-ordered storage (SQLite WITHOUT ROWID); introspection reads it back
    let clustered = Table::build("ddl_clustered", |t| {
        t.big_integer("owner");
        t.integer("seq");
        t.string("note", 20).nullable();
        t.primary(["owner", "seq"]);
        t.without_rowid();
    });
    vec![
        parents,
        uuid_parents,
        named_keys,
        uuid_named,
        manual_ids,
        manual_pk,
        everything,
        memberships,
        clustered,
    ]
}

/// Every builder method, column type, modifier and default kind survives
/// create + introspect, and the schema lists exactly the created tables.
pub async fn ddl_every_builder_feature_round_trips(db: &TestDb) {
    let dialect = db.dialect();
    let tables = every_feature_tables();
    for t in &tables {
        db.create_table(t)
            .await
            .unwrap_or_else(|e| panic!("create {}: {e}", t.name));
    }
    for t in &tables {
        let live = live_table(db, &t.name).await;
        assert_same_table(dialect, t, &live);
    }

    // the whole schema: same tables, sorted by name
    let schema = db.introspect().await.expect("introspect");
    let mut expected: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    expected.sort();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, expected);
    assert_eq!(db.table_names().await.expect("table names"), expected);
    for t in &schema.tables {
        let blueprint = tables.iter().find(|b| b.name == t.name).unwrap();
        assert_same_table(dialect, blueprint, t);
    }
    assert!(
        db.introspect_table("ddl_no_such_table")
            .await
            .expect("introspect missing")
            .is_none()
    );

    // a few facts spelled out, so a normalization bug cannot hide them
    let live = live_table(db, "ddl_everything").await;
    let col = |n: &str| live.column(n).unwrap().clone();
    assert!(col("id").auto_increment);
    assert_eq!(col("id").ty, ColumnType::BigInteger);
    assert_eq!(live.primary_key, ["id"]);
    assert!(col("s").unique);
    assert_eq!(
        col("quoted").default,
        Some(DefaultValue::String("it's a \\ back".into()))
    );
    assert_eq!(col("i").default, Some(DefaultValue::Integer(-12)));
    assert_eq!(col("flag_on").default, Some(DefaultValue::Bool(true)));
    assert_eq!(col("day").default, Some(DefaultValue::CurrentDate));
    assert_eq!(col("stamp").default, Some(DefaultValue::CurrentTimestamp));
    assert_eq!(col("explicit_null").default, None);
    assert_eq!(
        col("status").ty,
        ColumnType::Enumeration {
            variants: vec!["draft".into(), "it's".into(), "back\\slash".into()]
        }
    );
    assert_eq!(col("doc").ty, ColumnType::Json);
    assert_eq!(live.checks.len(), 3, "{:#?}", live.checks);
    assert!(
        live.checks
            .iter()
            .all(|c| !c.name.ends_with("_enum") && !c.expression.contains("json_valid"))
    );
    assert_eq!(live.foreign_keys.len(), 9);
    let custom = live
        .foreign_keys
        .iter()
        .find(|f| f.name == "ddl_everything_custom_fk")
        .expect("named foreign key");
    assert_eq!(custom.on_delete, ReferentialAction::Cascade);
    assert_eq!(custom.references_table, "ddl_parents");
    let composite = live_table(db, "ddl_memberships").await;
    assert_eq!(composite.primary_key, ["team_id", "member_id"]);
}

/// Alter operations, each read back through introspection.
pub async fn ddl_alter_operations_are_introspected(db: &TestDb) {
    let dialect = db.dialect();
    let owners = Table::build("ddl_alter_owners", |t| {
        t.id();
    });
    db.create_table(&owners).await.expect("create owners");
    let original = Table::build("ddl_alter_items", |t| {
        t.id();
        t.string("name", 50).index();
        t.integer("qty").default(0);
        t.string("old_name", 20).nullable();
    });
    db.create_table(&original).await.expect("create items");
    db.execute(
        "INSERT INTO [ddl_alter_items] ([name], [qty], [old_name]) VALUES (?, ?, ?), (?, ?, ?)",
        ("apple", 3, "x", "pear", 5, "y"),
    )
    .await
    .expect("insert rows");

    // rename table
    db.apply_ddl(&DdlStatement::RenameTable {
        from: "ddl_alter_items".into(),
        to: "ddl_alter_things".into(),
    })
    .await
    .expect("rename table");
    assert!(
        db.introspect_table("ddl_alter_items")
            .await
            .unwrap()
            .is_none()
    );
    let t = "ddl_alter_things".to_string();
    let live = live_table(db, &t).await;
    assert_eq!(live.columns.len(), 4);
    assert_eq!(
        live.indexes,
        vec![Index {
            name: "ddl_alter_items_name_index".into(),
            columns: vec!["name".into()],
            unique: false
        }]
    );

    // add columns: nullable, with a default, unique, enumeration
    let added = [
        Column {
            nullable: true,
            ..Column::new("note", ColumnType::Text)
        },
        Column {
            default: Some(DefaultValue::Integer(7)),
            ..Column::new("score", ColumnType::Integer)
        },
        Column {
            nullable: true,
            unique: true,
            ..Column::new("code", ColumnType::String { length: 20 })
        },
        Column {
            default: Some(DefaultValue::String("new".into())),
            ..Column::new(
                "state",
                ColumnType::Enumeration {
                    variants: vec!["new".into(), "done".into()],
                },
            )
        },
    ];
    for column in &added {
        db.apply_ddl(&DdlStatement::AddColumn {
            table: t.clone(),
            column: column.clone(),
        })
        .await
        .unwrap_or_else(|e| panic!("add column {}: {e}", column.name));
    }
    // drop a column, rename a column, drop and create indexes
    for statement in [
        DdlStatement::DropColumn {
            table: t.clone(),
            column: "old_name".into(),
        },
        DdlStatement::RenameColumn {
            table: t.clone(),
            from: "qty".into(),
            to: "quantity".into(),
        },
        DdlStatement::DropIndex {
            table: t.clone(),
            name: "ddl_alter_items_name_index".into(),
        },
        DdlStatement::CreateIndex {
            table: t.clone(),
            index: Index {
                name: "ddl_alter_things_quantity_index".into(),
                columns: vec!["quantity".into()],
                unique: false,
            },
        },
    ] {
        db.apply_ddl(&statement)
            .await
            .unwrap_or_else(|e| panic!("{statement:?}: {e}"));
    }
    let expected = Table::build(&t, |b| {
        b.id();
        b.string("name", 50);
        b.integer("quantity").default(0).index();
        b.text("note").nullable();
        b.integer("score").default(7);
        b.string("code", 20).nullable().unique();
        b.enumeration("state", ["new", "done"]).default("new");
    });
    let live = live_table(db, &t).await;
    assert_same_table(dialect, &expected, &live);

    // alter columns: widen a type, make nullable, change a default
    let altered = Table::build(&t, |b| {
        b.id();
        b.string("name", 50).nullable();
        b.big_integer("quantity").default(0).index();
        b.text("note").nullable();
        b.integer("score").default(9);
        b.string("code", 20).nullable().unique();
        b.enumeration("state", ["new", "done"]).default("new");
    });
    if dialect == Dialect::Sqlite {
        let err = db
            .apply_ddl(&DdlStatement::AlterColumn {
                table: t.clone(),
                from: live.column("score").unwrap().clone(),
                to: altered.column("score").unwrap().clone(),
            })
            .await
            .expect_err("SQLite cannot alter a column in place");
        assert!(err.to_string().contains("rebuild"), "{err}");
        db.apply_ddl(&DdlStatement::RebuildTable {
            from: live.clone(),
            to: altered.clone(),
        })
        .await
        .expect("rebuild table");
    } else {
        for name in ["name", "quantity", "score"] {
            db.apply_ddl(&DdlStatement::AlterColumn {
                table: t.clone(),
                from: live.column(name).unwrap().clone(),
                to: altered.column(name).unwrap().clone(),
            })
            .await
            .unwrap_or_else(|e| panic!("alter column {name}: {e}"));
        }
    }
    let live = live_table(db, &t).await;
    assert_same_table(dialect, &altered, &live);
    // the data survived every step (including SQLite's rebuild)
    let rows: Vec<(i64, Option<String>, i64, i64, String)> = db
        .fetch_all_as(
            "SELECT [id], [name], [quantity], [score], [state] FROM [ddl_alter_things] ORDER BY [id]",
            (),
        )
        .await
        .expect("read rows");
    assert_eq!(
        rows,
        vec![
            (1, Some("apple".into()), 3, 7, "new".into()),
            (2, Some("pear".into()), 5, 7, "new".into()),
        ]
    );
    // the new default and nullability are in force
    db.execute(
        "INSERT INTO [ddl_alter_things] ([quantity]) VALUES (?)",
        (1,),
    )
    .await
    .expect("insert with defaults");
    let (name, score): (Option<String>, i64) = db
        .fetch_one_as(
            "SELECT [name], [score] FROM [ddl_alter_things] WHERE [quantity] = ?",
            (1,),
        )
        .await
        .expect("read defaults");
    assert_eq!((name, score), (None, 9));

    // foreign keys and checks
    db.apply_ddl(&DdlStatement::AddColumn {
        table: t.clone(),
        column: Column {
            nullable: true,
            ..Column::new("owner_id", ColumnType::BigInteger)
        },
    })
    .await
    .expect("add owner column");
    let fk = ForeignKey {
        name: "ddl_alter_things_owner_id_foreign".into(),
        columns: vec!["owner_id".into()],
        references_table: "ddl_alter_owners".into(),
        references_columns: vec!["id".into()],
        on_delete: ReferentialAction::SetNull,
        on_update: ReferentialAction::Cascade,
        external: false,
    };
    let check = Check {
        name: "ddl_alter_things_quantity_check".into(),
        expression: "[quantity] >= 0 AND [name] <> 'nobody'".into(),
    };
    let add_fk = DdlStatement::AddForeignKey {
        table: t.clone(),
        foreign_key: fk.clone(),
    };
    let add_check = DdlStatement::AddCheck {
        table: t.clone(),
        check: check.clone(),
    };
    let mut with_constraints = altered.clone();
    with_constraints
        .columns
        .push(Column::new("owner_id", ColumnType::BigInteger));
    with_constraints.columns.last_mut().unwrap().nullable = true;
    with_constraints.foreign_keys.push(fk.clone());
    with_constraints.checks.push(check.clone());
    let before_constraints = live_table(db, &t).await;
    if dialect == Dialect::Sqlite {
        // SQLite cannot add constraints in place: refused, with the way there
        for ddl in [&add_fk, &add_check] {
            match db.apply_ddl(ddl).await {
                Err(Error::Unsupported(m)) => assert!(m.contains("rebuild"), "{m}"),
                other => panic!("SQLite added a constraint in place: {other:?}"),
            }
        }
        db.apply_ddl(&DdlStatement::RebuildTable {
            from: before_constraints.clone(),
            to: with_constraints.clone(),
        })
        .await
        .expect("rebuild with the constraints");
    } else {
        db.apply_ddl(&add_fk).await.expect("add foreign key");
        db.apply_ddl(&add_check).await.expect("add check");
    }
    let live = live_table(db, &t).await;
    assert_same_table(dialect, &with_constraints, &live);
    // the check is enforced: the violation names it (MariaDB and SQLite do; the
    // driver reports PostgreSQL's constraint name too)
    let err = db
        .execute(
            "INSERT INTO [ddl_alter_things] ([quantity]) VALUES (?)",
            (-1,),
        )
        .await
        .expect_err("the check rejects a negative quantity");
    match &err {
        Error::ConstraintViolation {
            kind: ConstraintKind::Check,
            constraint,
            ..
        } => assert_eq!(constraint.as_deref(), Some(check.name.as_str()), "{err:?}"),
        other => panic!("expected a check violation, got {other:?}"),
    }
    // and the foreign key: an owner that does not exist
    let err = db
        .execute(
            "INSERT INTO [ddl_alter_things] ([quantity], [owner_id]) VALUES (?, ?)",
            (1, 424242),
        )
        .await
        .expect_err("the foreign key rejects a missing owner");
    assert!(
        matches!(
            err,
            Error::ConstraintViolation {
                kind: ConstraintKind::ForeignKey,
                ..
            }
        ),
        "{err:?}"
    );

    if dialect == Dialect::Sqlite {
        let drops = [
            DdlStatement::DropForeignKey {
                table: t.clone(),
                name: fk.name.clone(),
            },
            DdlStatement::DropCheck {
                table: t.clone(),
                name: check.name.clone(),
            },
        ];
        for ddl in &drops {
            match db.apply_ddl(ddl).await {
                Err(Error::Unsupported(m)) => assert!(m.contains("rebuild"), "{m}"),
                other => panic!("SQLite dropped a constraint in place: {other:?}"),
            }
        }
        db.apply_ddl(&DdlStatement::RebuildTable {
            from: live,
            to: before_constraints,
        })
        .await
        .expect("rebuild without the constraints");
    } else {
        db.apply_ddl(&DdlStatement::DropForeignKey {
            table: t.clone(),
            name: fk.name.clone(),
        })
        .await
        .expect("drop foreign key");
        db.apply_ddl(&DdlStatement::DropCheck {
            table: t.clone(),
            name: check.name.clone(),
        })
        .await
        .expect("drop check");
    }
    let live = live_table(db, &t).await;
    assert!(live.foreign_keys.is_empty(), "{:#?}", live.foreign_keys);
    assert!(live.checks.is_empty(), "{:#?}", live.checks);
    if dialect == Dialect::MySql {
        // InnoDB keeps the index it created for the foreign key
        assert!(live.index(&fk.name).is_some(), "{:#?}", live.indexes);
    }
    // and no longer enforced
    db.execute(
        "INSERT INTO [ddl_alter_things] ([quantity], [owner_id]) VALUES (?, ?)",
        (-1, 424242),
    )
    .await
    .expect("no constraint left");
}

fn diff_v1() -> Schema {
    Schema::new()
        .create("ddl_diff_users", |t| {
            t.id();
            t.string("email", 100).unique();
            t.integer("obsolete").nullable();
        })
        .create("ddl_diff_legacy", |t| {
            t.id();
            t.text("note").nullable();
        })
}

fn diff_v2() -> Schema {
    Schema::new()
        .create("ddl_diff_users", |t| {
            t.id();
            t.string("email", 100).unique();
            t.string("name", 50).default("anon").index();
            t.integer("age").nullable();
            t.enumeration("tier", ["free", "paid"]).default("free");
            t.foreign_id("team_id")
                .references("ddl_diff_teams")
                .null_on_delete()
                .nullable();
            t.timestamps();
        })
        .create("ddl_diff_teams", |t| {
            t.id();
            t.string("title", 80).unique();
            t.boolean("active").default(true);
        })
        .create("ddl_diff_posts", |t| {
            t.id();
            t.foreign_id("author_id")
                .references("ddl_diff_users")
                .cascade_on_delete();
            t.string("title", 120);
            t.json("meta").nullable();
            t.unique_index(["author_id", "title"]);
            t.check("[title] <> ''");
        })
}

/// Diff a v2 schema against the live v1 schema, apply the safe changes, and the
/// diff is empty except for the destructive changes, which were not applied.
pub async fn ddl_diff_round_trip_reaches_a_fixed_point(db: &TestDb) {
    let dialect = db.dialect();
    for t in diff_v1().tables_in_dependency_order() {
        db.create_table(t).await.expect("create v1");
    }
    db.execute(
        "INSERT INTO [ddl_diff_users] ([email], [obsolete]) VALUES (?, ?)",
        ("a@example.com", 1),
    )
    .await
    .expect("insert v1 row");
    let v2 = diff_v2();
    let live = db.introspect().await.expect("introspect v1");
    let diff = diff_schemas(&v2, &live, dialect);
    assert!(!diff.changes.is_empty());
    let expected_destructive = vec![
        Change::DropColumn {
            table: "ddl_diff_users".into(),
            column: "obsolete".into(),
        },
        Change::DropTable("ddl_diff_legacy".into()),
    ];
    assert_eq!(diff.destructive, expected_destructive);
    for change in &diff.changes {
        db.apply_ddl(&change.to_ddl())
            .await
            .unwrap_or_else(|e| panic!("apply `{change}`: {e}"));
    }

    let live = db.introspect().await.expect("introspect v2");
    let again = diff_schemas(&v2, &live, dialect);
    assert!(
        again.changes.is_empty(),
        "changes left after applying the diff: {:#?}\nlive: {live:#?}",
        again.changes
    );
    assert_eq!(again.destructive, expected_destructive);
    // destructive changes were not applied
    assert!(live.table("ddl_diff_legacy").is_some());
    let users = live.table("ddl_diff_users").unwrap();
    assert!(users.column("obsolete").is_some());
    for table in &v2.tables {
        let mut got = live.table(&table.name).unwrap().clone();
        got.columns.retain(|c| c.name != "obsolete");
        assert_same_table(dialect, table, &got);
    }
    // the existing row was kept and got the new columns' defaults
    let (email, name, tier): (String, String, String) = db
        .fetch_one_as("SELECT [email], [name], [tier] FROM [ddl_diff_users]", ())
        .await
        .expect("read v1 row");
    assert_eq!(
        (email.as_str(), name.as_str(), tier.as_str()),
        ("a@example.com", "anon", "free")
    );
}

/// Tables created with raw SQL and types dal never writes are introspected
/// without failing, mapped to the closest types.
pub async fn ddl_foreign_tables_are_introspected(db: &TestDb) {
    let dialect = db.dialect();
    let script = match dialect {
        Dialect::Postgres => {
            "CREATE TYPE ddl_mood AS ENUM ('sad', 'happy');
             CREATE DOMAIN ddl_positive AS integer CHECK (VALUE > 0);
             CREATE TABLE ddl_other (x integer PRIMARY KEY);
             CREATE TABLE ddl_foreign (
                 id serial PRIMARY KEY,
                 code char(3) NOT NULL,
                 amount numeric,
                 tags text[],
                 span interval,
                 addr inet,
                 price money,
                 ratio float(10),
                 happened timestamp(3) DEFAULT now(),
                 happened_tz timestamptz DEFAULT LOCALTIMESTAMP,
                 u uuid DEFAULT gen_random_uuid(),
                 mood ddl_mood DEFAULT 'happy',
                 pos ddl_positive,
                 plain varchar,
                 tiny \"char\",
                 flags bit(3),
                 other_x integer REFERENCES ddl_other,
                 doubled integer GENERATED ALWAYS AS (other_x * 2) STORED,
                 status varchar(10) CHECK (status <> ''),
                 CONSTRAINT ddl_foreign_code_key UNIQUE (code)
             );
             CREATE INDEX ddl_foreign_lower ON ddl_foreign (lower(code));
             CREATE INDEX ddl_foreign_partial ON ddl_foreign (amount) WHERE amount > 0;
             CREATE INDEX ddl_foreign_plain ON ddl_foreign (status) INCLUDE (amount);
             CREATE VIEW ddl_foreign_view AS SELECT id FROM ddl_foreign;"
        }
        Dialect::MySql => {
            "CREATE TABLE ddl_other (x int PRIMARY KEY);
             CREATE TABLE ddl_foreign (
                 id int unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
                 m mediumint DEFAULT 5,
                 t tinyint(4),
                 y year,
                 c char(2) DEFAULT 'ab',
                 s set('a','b'),
                 bl blob,
                 vb varbinary(16),
                 ts timestamp NULL DEFAULT NULL,
                 dtm datetime,
                 txt mediumtext,
                 bit1 bit(1),
                 d decimal(5,1) DEFAULT 1.5,
                 u uuid,
                 other_x int,
                 doubled int AS (other_x * 2) VIRTUAL,
                 KEY ddl_foreign_prefix (txt(10)),
                 FULLTEXT KEY ddl_foreign_fulltext (txt),
                 KEY ddl_foreign_plain (m, t),
                 CONSTRAINT ddl_foreign_other FOREIGN KEY (other_x) REFERENCES ddl_other (x),
                 CONSTRAINT ddl_foreign_m CHECK (m > 0)
             ) ENGINE=InnoDB;
             CREATE VIEW ddl_foreign_view AS SELECT id FROM ddl_foreign;"
        }
        Dialect::Sqlite => {
            "CREATE TABLE ddl_other (x INTEGER PRIMARY KEY);
             CREATE TABLE ddl_foreign (
                 id INTEGER PRIMARY KEY,
                 untyped,
                 b INT DEFAULT 4,
                 c REAL,
                 d NUMERIC,
                 e VARCHAR,
                 f NVARCHAR(20) UNIQUE,
                 g DATETIME DEFAULT CURRENT_TIMESTAMP,
                 h TEXT CHECK (h <> '') DEFAULT 'x',
                 p INTEGER REFERENCES ddl_other ON DELETE CASCADE,
                 q INTEGER, r INTEGER,
                 FOREIGN KEY (q, r) REFERENCES ddl_pair (a, b)
             );
             CREATE TABLE ddl_pair (a INTEGER, b INTEGER, PRIMARY KEY (a, b));
             CREATE INDEX ddl_foreign_lower ON ddl_foreign (lower(e));
             CREATE INDEX ddl_foreign_partial ON ddl_foreign (b) WHERE b > 0;
             CREATE INDEX ddl_foreign_plain ON ddl_foreign (c, b);
             CREATE VIEW ddl_foreign_view AS SELECT id FROM ddl_foreign;"
        }
    };
    db.execute_script(script)
        .await
        .expect("create foreign tables");
    let names = db.table_names().await.expect("table names");
    assert!(names.iter().all(|n| n != "ddl_foreign_view"), "{names:?}");
    let schema = db.introspect().await.expect("introspect foreign tables");
    let t = schema.table("ddl_foreign").expect("ddl_foreign");
    let col = |n: &str| {
        t.column(n)
            .unwrap_or_else(|| panic!("column {n} in {t:#?}"))
            .clone()
    };
    let plain = t.index("ddl_foreign_plain").expect("plain index");
    assert!(!plain.unique);
    // expression, partial, prefix and full-text indexes are left out
    for skipped in [
        "ddl_foreign_lower",
        "ddl_foreign_partial",
        "ddl_foreign_prefix",
        "ddl_foreign_fulltext",
    ] {
        assert!(t.index(skipped).is_none(), "{skipped}: {:#?}", t.indexes);
    }
    match dialect {
        Dialect::Postgres => {
            assert_eq!(t.primary_key, ["id"]);
            let id = col("id");
            assert_eq!(id.ty, ColumnType::Integer);
            assert!(id.auto_increment);
            assert_eq!(id.default, None);
            assert_eq!(col("code").ty, ColumnType::String { length: 3 });
            assert_eq!(
                col("amount").ty,
                ColumnType::Decimal {
                    precision: 65,
                    scale: 30
                }
            );
            // an array of a scalar is an array column (`Vec<T>`)
            assert_eq!(col("tags").ty, ColumnType::array(ColumnType::Text));
            for text_like in ["span", "addr", "plain", "flags"] {
                assert_eq!(col(text_like).ty, ColumnType::Text, "{text_like}");
            }
            assert_eq!(
                col("price").ty,
                ColumnType::Decimal {
                    precision: 19,
                    scale: 2
                }
            );
            assert_eq!(col("ratio").ty, ColumnType::Float);
            assert_eq!(col("tiny").ty, ColumnType::String { length: 1 });
            assert_eq!(col("happened").ty, ColumnType::Timestamp);
            assert_eq!(
                col("happened").default,
                Some(DefaultValue::CurrentTimestamp)
            );
            assert_eq!(
                col("happened_tz").default,
                Some(DefaultValue::CurrentTimestamp)
            );
            assert_eq!(
                col("u").default,
                Some(DefaultValue::Expression("gen_random_uuid()".into()))
            );
            assert_eq!(
                col("mood").ty,
                ColumnType::Enumeration {
                    variants: vec!["sad".into(), "happy".into()]
                }
            );
            assert_eq!(
                col("mood").default,
                Some(DefaultValue::String("happy".into()))
            );
            assert_eq!(col("pos").ty, ColumnType::Integer);
            assert_eq!(col("doubled").default, None);
            assert!(!col("code").unique);
            let unique = t.index("ddl_foreign_code_key").expect("unique constraint");
            assert!(unique.unique);
            assert_eq!(plain.columns, ["status"]);
            assert_eq!(t.checks.len(), 1, "{:#?}", t.checks);
            assert_eq!(t.checks[0].name, "ddl_foreign_status_check");
            let fk = &t.foreign_keys[0];
            assert_eq!(fk.name, "ddl_foreign_other_x_fkey");
            assert_eq!(fk.references_columns, ["x"]);
        }
        Dialect::MySql => {
            let id = col("id");
            // `INT UNSIGNED`: a `u32`
            assert_eq!(id.ty, ColumnType::UnsignedInteger);
            assert!(id.auto_increment);
            assert_eq!(col("m").ty, ColumnType::Integer);
            assert_eq!(col("m").default, Some(DefaultValue::Integer(5)));
            assert_eq!(col("t").ty, ColumnType::SmallInteger);
            assert_eq!(col("y").ty, ColumnType::SmallInteger);
            assert_eq!(col("c").ty, ColumnType::String { length: 2 });
            assert_eq!(col("c").default, Some(DefaultValue::String("ab".into())));
            assert_eq!(col("s").ty, ColumnType::Text);
            assert_eq!(col("bl").ty, ColumnType::Binary);
            assert_eq!(col("vb").ty, ColumnType::Binary);
            assert_eq!(col("ts").ty, ColumnType::Timestamp);
            assert!(col("ts").nullable);
            assert_eq!(col("ts").default, None);
            assert_eq!(col("txt").ty, ColumnType::Text);
            assert_eq!(col("bit1").ty, ColumnType::Boolean);
            assert_eq!(col("d").default, Some(DefaultValue::Float(1.5)));
            assert_eq!(col("u").ty, ColumnType::Uuid);
            assert_eq!(col("doubled").default, None);
            assert_eq!(plain.columns, ["m", "t"]);
            // the index InnoDB made for the foreign key is not reported
            assert!(t.index("ddl_foreign_other").is_none(), "{:#?}", t.indexes);
            assert_eq!(t.foreign_keys.len(), 1);
            assert_eq!(t.checks.len(), 1);
            assert_eq!(t.checks[0].name, "ddl_foreign_m");
        }
        Dialect::Sqlite => {
            let id = col("id");
            assert_eq!(id.ty, ColumnType::Integer);
            assert!(!id.auto_increment, "no AUTOINCREMENT keyword");
            assert_eq!(col("untyped").ty, ColumnType::Text);
            assert_eq!(col("b").ty, ColumnType::Integer);
            assert_eq!(col("b").default, Some(DefaultValue::Integer(4)));
            assert_eq!(col("c").ty, ColumnType::Double);
            assert_eq!(
                col("d").ty,
                ColumnType::Decimal {
                    precision: 65,
                    scale: 30
                }
            );
            assert_eq!(col("e").ty, ColumnType::Text);
            assert_eq!(col("f").ty, ColumnType::String { length: 20 });
            // the UNIQUE constraint's automatic index, named the way dal names it
            assert!(col("f").unique, "{t:#?}");
            assert_eq!(col("g").ty, ColumnType::Timestamp);
            assert_eq!(col("g").default, Some(DefaultValue::CurrentTimestamp));
            assert_eq!(col("h").default, Some(DefaultValue::String("x".into())));
            assert_eq!(plain.columns, ["c", "b"]);
            assert_eq!(t.checks.len(), 1);
            assert_eq!(
                t.checks[0].name,
                dal::schema::model::names::check("ddl_foreign", "[h] <> ''")
            );
            let single = t
                .foreign_keys
                .iter()
                .find(|f| f.columns == ["p"])
                .expect("column foreign key");
            assert_eq!(single.name, "ddl_foreign_p_foreign");
            assert_eq!(single.references_columns, ["x"]);
            assert_eq!(single.on_delete, ReferentialAction::Cascade);
            let pair = t
                .foreign_keys
                .iter()
                .find(|f| f.columns == ["q", "r"])
                .expect("composite foreign key");
            assert_eq!(pair.name, "ddl_foreign_q_r_foreign");
            assert_eq!(pair.references_columns, ["a", "b"]);
            let pair_table = schema.table("ddl_pair").expect("ddl_pair");
            assert_eq!(pair_table.primary_key, ["a", "b"]);
        }
    }
}

macro_rules! ddl_tests {
    ($setup:path) => {
        backend_tests!($setup; ddl::ddl_every_builder_feature_round_trips, ddl::ddl_alter_operations_are_introspected, ddl::ddl_diff_round_trip_reaches_a_fixed_point, ddl::ddl_foreign_tables_are_introspected);
    };
}
