//! `schema!` against the real servers: a script using every table item, column
//! type, modifier and default kind is applied and each created table is
//! introspected back to its blueprint; then every alter form, `rename`, `drop`
//! and `drop_if_exists` are applied and their effect read back. SQLite always;
//! PostgreSQL and MariaDB when their servers answer (see `support`).
//!
//! SQLite cannot add or drop foreign keys and checks in place: there those alter
//! steps fail with an error that says to rebuild the table, and the test then
//! reaches the same state with `DdlStatement::RebuildTable`.

#[macro_use]
mod support;

use dal::schema::ddl::DdlStatement;
use dal::schema::{Check, ForeignKey, Index, Script, ScriptError, Step};
use dal::{ColumnType, DefaultValue, Dialect, ReferentialAction, Table};

use support::TestDb;

/// Every table item, column type, modifier and default kind of the grammar.
fn create_script() -> Script {
    dal::schema! {
        // a table managed elsewhere, for `.external()`
        sql("CREATE TABLE [sd_billing] ([id] BIGINT NOT NULL PRIMARY KEY)");
        create sd_teams {
            id();
            uuid(code).unique();
            string(label, 40).default("none");
        }
        create sd_people {
            uuid_id();
            string(name, 50).nullable();
        }
        create sd_named_keys {
            id(key_id);
            small_integer(raw_small).nullable().default(-7);
        }
        create sd_uuid_named { uuid_id(uid); }
        create sd_manual_ids {
            big_integer(num).auto_increment().primary();
            string(label, 10).nullable();
        }
        create sd_manual_pk {
            string(code, 10).primary();
            integer(rank).unique();
        }
        create sd_everything {
            id();
            string(s, 40).unique();
            string(plain);
            string(quoted, 40).default("it's a \\ back");
            string(empty_default, 10).default("");
            text(body).nullable();
            small_integer(si).default(3);
            integer(i).default(-12).index();
            big_integer(bi).default(9000000000);
            boolean(flag_on).default(true);
            boolean(flag_off).default(false);
            boolean(flag_null).nullable();
            float(fl).default(1.5);
            double(db).default(-2.25);
            double(db_int).default(3);
            decimal(price, 10, 2).default(12.5);
            decimal(price_str, 12, 3).default("2.5");
            decimal(price_int, 8, 0).default(4);
            date(day).use_current();
            date(birthday).nullable();
            time(at_time).nullable();
            timestamp(stamp).use_current();
            timestamp(stamp_null).nullable();
            timestamp_tz(stamp_tz);
            uuid(u).default("00000000-0000-0000-0000-000000000001");
            json(doc).nullable();
            json(doc_required);
            binary(blob).nullable();
            enumeration(status, ["draft", "it's", "back\\slash"]).default("draft");
            enumeration(kind, ["a", "b"]).nullable();
            string(explicit_null, 5).nullable().default(null);
            foreign_id(parent_0).nullable().references(sd_teams).on_delete(no_action).on_update(restrict);
            foreign_id(parent_1).nullable().references(sd_teams).on_delete(restrict).on_update(cascade);
            foreign_id(parent_2).nullable().references(sd_teams).on_delete(cascade).on_update(set_null);
            foreign_id(parent_3).nullable().references(sd_teams).on_delete(set_null).on_update(set_default);
            foreign_id(parent_4).nullable().references(sd_teams).on_delete(set_default).on_update(no_action);
            foreign_id(cascading_id).references(sd_teams).on_delete(cascade).named("sd_everything_custom_fk");
            foreign_uuid(team_code).nullable().references(sd_teams, code);
            foreign_uuid(person_id).nullable().references(sd_people);
            foreign_id(billing_id).nullable().references(sd_billing).external();
            foreign_id(parent_id).nullable().references(sd_everything);
            timestamps();
            soft_deletes();
            index(s, i);
            index_named("sd_everything_custom_index", bi, si);
            unique_index(si, i);
            unique_index(fl);
            unique_index_named("sd_everything_named_unique", db);
            check("[i] < 1000000");
            check("[quoted] <> 'forbidden value'");
            check_named("sd_everything_price_check", "[price] >= 0 AND [price_int] >= 0");
        }
        create sd_memberships {
            foreign_id(team_id).references(sd_teams).on_delete(cascade);
            foreign_uuid(person_id).references(sd_people);
            string(role, 20).default("member");
            primary(team_id, person_id);
            timestamps();
        }
        create sd_clustered {
            big_integer(owner);
            integer(seq);
            string(note, 20).nullable();
            primary(owner, seq);
            without_rowid();
        }
    }
}

/// `sd_everything` and `sd_memberships` written with the fluent builder.
fn by_hand() -> Vec<Table> {
    use ReferentialAction as A;
    let everything = Table::build("sd_everything", |t| {
        t.id();
        t.string("s", 40).unique();
        t.string("plain", 255);
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
        t.string("explicit_null", 5)
            .nullable()
            .default(DefaultValue::Null);
        let actions = [
            A::NoAction,
            A::Restrict,
            A::Cascade,
            A::SetNull,
            A::SetDefault,
        ];
        for (i, on_delete) in actions.iter().enumerate() {
            t.foreign_id(&format!("parent_{i}"))
                .nullable()
                .references("sd_teams")
                .on_delete(*on_delete)
                .on_update(actions[(i + 1) % actions.len()]);
        }
        t.foreign_id("cascading_id")
            .references("sd_teams")
            .on_delete(A::Cascade)
            .named("sd_everything_custom_fk");
        t.foreign_uuid("team_code")
            .nullable()
            .references_column("sd_teams", "code");
        t.foreign_uuid("person_id")
            .nullable()
            .references("sd_people");
        t.foreign_id("billing_id")
            .nullable()
            .references("sd_billing")
            .external();
        t.foreign_id("parent_id")
            .nullable()
            .references("sd_everything");
        t.timestamps();
        t.soft_deletes();
        t.index(["s", "i"]);
        t.index_named("sd_everything_custom_index", ["bi", "si"]);
        t.unique_index(["si", "i"]);
        t.unique_index(["fl"]);
        t.unique_index_named("sd_everything_named_unique", ["db"]);
        t.check("[i] < 1000000");
        t.check("[quoted] <> 'forbidden value'");
        t.check_named(
            "sd_everything_price_check",
            "[price] >= 0 AND [price_int] >= 0",
        );
    });
    let memberships = Table::build("sd_memberships", |t| {
        t.foreign_id("team_id")
            .references("sd_teams")
            .on_delete(A::Cascade);
        t.foreign_uuid("person_id").references("sd_people");
        t.string("role", 20).default("member");
        t.primary(["team_id", "person_id"]);
        t.timestamps();
    });
    vec![everything, memberships]
}

/// A table, alters that every dialect can do in place, renames and drops.
fn alter_script() -> Script {
    dal::schema! {
        create sd_owners { id(); }
        create sd_items {
            id();
            string(name, 50).index();
            integer(qty).default(0);
            string(old_name, 20).nullable();
        }
        sql("INSERT INTO [sd_items] ([name], [qty], [old_name]) VALUES ('apple', 3, 'x'), ('pear', 5, 'y')");
        rename sd_items to sd_things;
        alter sd_things {
            add text(note).nullable();
            add integer(score).default(7);
            add string(code, 20).nullable().unique();
            add enumeration(state, ["new", "done"]).default("new");
            add big_integer(rank).default(1).index();
            drop_column(old_name);
            rename_column(qty, quantity);
            drop_index(sd_items_name_index);
            add_index(quantity);
            add_unique_index(name, quantity);
            add_index_named("sd_things_by_score", score, rank);
            drop_index("sd_things_by_score");
        }
        create sd_scratch { id(); }
        drop sd_scratch;
        drop_if_exists sd_scratch;
        drop_if_exists sd_never_created;
    }
}

/// What `alter_script` leaves.
fn altered_things() -> Table {
    Table::build("sd_things", |t| {
        t.id();
        t.string("name", 50);
        t.integer("quantity").default(0).index();
        t.text("note").nullable();
        t.integer("score").default(7);
        t.string("code", 20).nullable().unique();
        t.enumeration("state", ["new", "done"]).default("new");
        t.big_integer("rank").default(1).index();
        t.unique_index(["name", "quantity"]);
    })
}

/// Alters that add foreign keys and checks (the tables are from `alter_script`,
/// another `schema!`, so the references are marked external).
fn constraint_script() -> Script {
    dal::schema! {
        alter sd_things {
            add foreign_id(owner_id).nullable().references(sd_owners).on_delete(set_null).on_update(cascade).external();
            add foreign_id(second_owner_id).nullable().references(sd_owners).named("sd_things_second_owner_fk").external();
            add_check("sd_things_quantity_check", "[quantity] >= 0 AND [name] <> 'nobody'");
        }
    }
}

/// The alters that drop them again, in both `drop_foreign` forms.
fn constraint_drop_script() -> Script {
    dal::schema! {
        alter sd_things {
            drop_foreign(owner_id);
            drop_foreign("sd_things_second_owner_fk");
            drop_check(sd_things_quantity_check);
        }
    }
}

fn with_constraints(mut t: Table) -> Table {
    for name in ["owner_id", "second_owner_id"] {
        t.columns
            .push(dal::Column::new(name, ColumnType::BigInteger));
        t.columns.last_mut().unwrap().nullable = true;
    }
    t.foreign_keys.push(ForeignKey {
        name: "sd_things_owner_id_foreign".into(),
        columns: vec!["owner_id".into()],
        references_table: "sd_owners".into(),
        references_columns: vec!["id".into()],
        on_delete: ReferentialAction::SetNull,
        on_update: ReferentialAction::Cascade,
        external: true,
    });
    t.foreign_keys.push(ForeignKey {
        name: "sd_things_second_owner_fk".into(),
        columns: vec!["second_owner_id".into()],
        references_table: "sd_owners".into(),
        references_columns: vec!["id".into()],
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        external: true,
    });
    t.checks.push(Check {
        name: "sd_things_quantity_check".into(),
        expression: "[quantity] >= 0 AND [name] <> 'nobody'".into(),
    });
    t
}

// ---------------------------------------------------------------------------

/// The lines of `a`'s and `b`'s pretty Debug forms that differ.
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

/// The live table compares equal to the blueprint in the dialect's normalized form.
fn assert_same_table(dialect: Dialect, blueprint: &Table, live: &Table) {
    let want = blueprint.normalized_for(dialect);
    let got = live.normalized_for(dialect);
    assert!(
        want == got,
        "table `{}` on {dialect} differs after introspection\n\
         --- differing lines (- blueprint, + introspected)\n{}",
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

/// Run every statement of the script, in order.
async fn run(db: &TestDb, script: &Script) {
    let statements = script.to_sql(db.dialect()).expect("SQL for every step");
    for sql in &statements {
        db.execute_script(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// Apply the script step by step; the steps that fail, with their errors.
async fn apply_steps(db: &TestDb, script: &Script) -> Vec<(usize, String)> {
    let mut failed = Vec::new();
    for (i, step) in script.steps().iter().enumerate() {
        let result = match step {
            Step::Ddl(ddl) => db.apply_ddl(ddl).await,
            Step::Sql(sql) => {
                let translated = dal::schema::translate(sql, db.dialect()).expect("portable SQL");
                db.execute_script(&translated.sql).await
            }
            Step::History(h) => panic!("this script has no history step: {h:?}"),
        };
        if let Err(e) = result {
            failed.push((i, e.to_string()));
        }
    }
    failed
}

fn created_tables(script: &Script) -> Vec<Table> {
    script
        .steps()
        .iter()
        .filter_map(|s| match s {
            Step::Ddl(DdlStatement::CreateTable { table, .. }) => Some(table.clone()),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------

/// The expansion builds exactly what the fluent builder builds.
#[test]
fn expansion_matches_the_fluent_builder() {
    let script = create_script();
    assert!(
        matches!(&script.steps()[0], Step::Sql(s) if s.starts_with("CREATE TABLE [sd_billing]"))
    );
    let created = created_tables(&script);
    assert_eq!(created.len(), 9);
    for table in by_hand() {
        let ours = created.iter().find(|t| t.name == table.name).unwrap();
        assert!(
            *ours == table,
            "`{}` differs from the builder's\n{}",
            table.name,
            debug_diff(&table, ours)
        );
    }
    for table in &created {
        dal::schema::validate_table(table).expect("valid blueprint");
    }
    // the alter forms become the expected typed steps
    let alter = alter_script();
    let kinds: Vec<String> = alter
        .steps()
        .iter()
        .map(|s| match s {
            Step::Ddl(d) => format!("{d:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap()
                .to_string(),
            Step::Sql(_) => "Sql".into(),
            Step::History(_) => "History".into(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "CreateTable",
            "CreateTable",
            "Sql",
            "RenameTable",
            "AddColumn",
            "AddColumn",
            "AddColumn",
            "AddColumn",
            "AddColumn",
            "CreateIndex",
            "DropColumn",
            "RenameColumn",
            "DropIndex",
            "CreateIndex",
            "CreateIndex",
            "CreateIndex",
            "DropIndex",
            "CreateTable",
            "DropTable",
            "DropTable",
            "DropTable",
        ]
    );
    let drops = constraint_drop_script();
    let names: Vec<&str> = drops
        .steps()
        .iter()
        .map(|s| match s {
            Step::Ddl(DdlStatement::DropForeignKey { name, .. }) => name.as_str(),
            Step::Ddl(DdlStatement::DropCheck { name, .. }) => name.as_str(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "sd_things_owner_id_foreign",
            "sd_things_second_owner_fk",
            "sd_things_quantity_check"
        ]
    );
}

async fn schema_script_round_trips(db: &TestDb) {
    let dialect = db.dialect();

    // 1. every table item and modifier: created, then introspected back
    let script = create_script();
    run(db, &script).await;
    for table in created_tables(&script) {
        let live = live_table(db, &table.name).await;
        assert_same_table(dialect, &table, &live);
    }

    // 2. alters every dialect does in place, renames, drops
    run(db, &alter_script()).await;
    assert!(!db.table_exists("sd_items").await.unwrap());
    assert!(!db.table_exists("sd_scratch").await.unwrap());
    let live = live_table(db, "sd_things").await;
    assert_same_table(dialect, &altered_things(), &live);
    let rows: Vec<(String, i64, i64, String, i64)> = db
        .fetch_all_as(
            "SELECT [name], [quantity], [score], [state], [rank] FROM [sd_things] ORDER BY [id]",
            (),
        )
        .await
        .expect("rows survived the alters");
    assert_eq!(
        rows,
        vec![
            ("apple".into(), 3, 7, "new".into(), 1),
            ("pear".into(), 5, 7, "new".into(), 1),
        ]
    );

    // 3. foreign keys and checks on an existing table
    let add = constraint_script();
    let drop = constraint_drop_script();
    let expected = with_constraints(altered_things());
    if dialect == Dialect::Sqlite {
        for script in [&add, &drop] {
            match script.to_sql(Dialect::Sqlite) {
                Err(ScriptError::Ddl { error, .. }) => {
                    assert!(error.to_string().contains("rebuild"), "{error}")
                }
                other => panic!("SQLite wrote constraint alters in place: {other:?}"),
            }
        }
        // the columns are added; the foreign keys and the check are refused, each clearly
        let failed = apply_steps(db, &add).await;
        let failed_steps: Vec<usize> = failed.iter().map(|(i, _)| *i).collect();
        assert_eq!(failed_steps, [1, 3, 4], "{failed:#?}");
        for (_, e) in &failed {
            assert!(e.contains("sqlite cannot") && e.contains("rebuild"), "{e}");
        }
        // the documented way there: rebuild the table
        let before = live_table(db, "sd_things").await;
        db.apply_ddl(&DdlStatement::RebuildTable {
            from: before,
            to: expected.clone(),
        })
        .await
        .expect("rebuild with the constraints");
    } else {
        assert_eq!(apply_steps(db, &add).await, []);
    }
    let live = live_table(db, "sd_things").await;
    assert_same_table(dialect, &expected, &live);
    // the check is enforced, and the violation names it
    let err = db
        .execute(
            "UPDATE [sd_things] SET [quantity] = ? WHERE [name] = ?",
            (-1, "apple"),
        )
        .await
        .expect_err("the check rejects a negative quantity");
    match &err {
        dal::Error::ConstraintViolation {
            kind: dal::ConstraintKind::Check,
            constraint,
            ..
        } => assert_eq!(
            constraint.as_deref(),
            Some("sd_things_quantity_check"),
            "{err:?}"
        ),
        other => panic!("expected a check violation, got {other:?}"),
    }

    let mut dropped = with_constraints(altered_things());
    dropped.foreign_keys.clear();
    dropped.checks.clear();
    if dialect == Dialect::Sqlite {
        let failed = apply_steps(db, &drop).await;
        assert_eq!(failed.len(), 3, "{failed:#?}");
        db.apply_ddl(&DdlStatement::RebuildTable {
            from: live,
            to: dropped.clone(),
        })
        .await
        .expect("rebuild without the constraints");
    } else {
        run(db, &drop).await;
    }
    if dialect == Dialect::MySql {
        // InnoDB keeps the index it created for each foreign key
        for (name, column) in [
            ("sd_things_owner_id_foreign", "owner_id"),
            ("sd_things_second_owner_fk", "second_owner_id"),
        ] {
            dropped.indexes.push(Index {
                name: name.into(),
                columns: vec![column.into()],
                unique: false,
            });
        }
    }
    let live = live_table(db, "sd_things").await;
    assert_same_table(dialect, &dropped, &live);
}

macro_rules! backend {
    ($name:ident, $setup:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn schema_script_round_trips() {
                let Some(db) = $setup().await else { return };
                super::schema_script_round_trips(&db).await;
            }
        }
    };
}

backend!(sqlite, crate::support::sqlite);
backend!(postgres, crate::support::postgres);
backend!(mysql, crate::support::mysql);
