//! Unit tests of the renderer: diffs in, `schema!` source out, no database.
//!
//! Just over 1,000 lines: the golden renderings of every kind of change sit
//! together so that a change of the printer shows in one file.

use dal_schema::dsl::{float_literal, is_rust_ident, string_literal};
use dal_schema::entity::{ColumnRole, EntityColumn, EntityShape};
use dal_schema::{
    Change, Column, ColumnType, DefaultValue, Dialect, ReferentialAction, Schema, SchemaDiff,
    Table, diff_schemas,
};

use super::*;

fn ctx(d: Dialect) -> RenderContext {
    RenderContext::new(d)
}

/// The body of `dal::schema! { .. }` number `n` (0: up, 1: down), dedented.
fn script(source: &str, n: usize) -> String {
    let start = source
        .match_indices("dal::schema! {")
        .nth(n)
        .unwrap_or_else(|| panic!("no schema! #{n} in\n{source}"))
        .0;
    let rest = &source[start + "dal::schema! {".len()..];
    if rest.starts_with('}') {
        return String::new();
    }
    // the body ends at the first line that is only the closing brace
    let mut out = Vec::new();
    let lines: Vec<&str> = rest.lines().skip(1).collect();
    let indent = lines
        .iter()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .unwrap_or(0);
    for l in lines {
        if l.len() - l.trim_start().len() < indent && l.trim_start().starts_with('}') {
            break;
        }
        out.push(l.get(indent..).unwrap_or("").to_string());
    }
    out.join("\n")
}

fn create_all(tables: Vec<Table>, d: Dialect) -> Generated {
    let diff = diff_schemas(&Schema { tables }, &Schema::new(), d);
    Generated::from_diff(&diff, "m1", &ctx(d))
}

#[test]
fn every_column_type_and_modifier() {
    let t = Table::build("all_types", |t| {
        t.id();
        t.string("s", 10).unique();
        t.text("tx").nullable();
        t.small_integer("si").default(1);
        t.integer("i").index();
        t.big_integer("bi").default(-5);
        t.boolean("b").default(true);
        t.float("f").default(0.25);
        t.double("d").default(2);
        t.decimal("dec", 12, 3).default("1.5");
        t.date("dt").use_current();
        t.time("tm").nullable();
        t.timestamp("ts").use_current();
        t.timestamp_tz("tstz");
        t.uuid("u");
        t.json("j");
        t.binary("bin");
        t.enumeration("e", ["a", "b"]).default("a");
        t.foreign_id("parent_id")
            .references("all_types")
            .on_delete(ReferentialAction::SetNull)
            .on_update(ReferentialAction::Cascade)
            .nullable();
        t.timestamps();
        t.soft_deletes();
        t.unique_index(["i", "bi"]);
        t.index_named("by_b", ["b"]);
        t.unique_index_named("one_f_per_d", ["f", "d"]);
        t.check("[i] > 0");
        t.check_named("positive_si", "[si] >= 0");
    });
    let g = create_all(vec![t], Dialect::Postgres);
    assert_eq!(g.changes, 1);
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    assert_eq!(
        script(&g.source, 0),
        r#"create all_types {
    id();
    string(s, 10).unique();
    text(tx).nullable();
    small_integer(si).default(1);
    integer(i);
    big_integer(bi).default(-5);
    boolean(b).default(true);
    float(f).default(0.25);
    double(d).default(2.0);
    decimal(dec, 12, 3).default("1.5");
    date(dt).use_current();
    time(tm).nullable();
    timestamp(ts).use_current();
    timestamp_tz(tstz);
    uuid(u);
    json(j);
    binary(bin);
    enumeration(e, ["a", "b"]).default("a");
    foreign_id(parent_id).nullable().references(all_types).on_delete(set_null).on_update(cascade);
    timestamps();
    soft_deletes();
    index(i);
    unique_index(i, bi);
    index_named("by_b", b);
    unique_index_named("one_f_per_d", f, d);
    check("[i] > 0");
    check_named("positive_si", "[si] >= 0");
}"#
    );
    assert_eq!(script(&g.source, 1), "drop all_types;");
    assert!(!g.source.contains("raw"), "{}", g.source);
}

#[test]
fn unsigned_big_integers() {
    let mut accounts = Table::build("accounts", |t| {
        t.unsigned_big_integer("id").primary();
        t.unsigned_big_integer("balance").default(0);
    });
    accounts.columns[0].auto_increment = true;
    let payments = Table::build("payments", |t| {
        t.id();
        t.unsigned_big_integer("account_id").references("accounts");
        t.unsigned_big_integer("amount").nullable();
    });
    let g = create_all(vec![accounts, payments], Dialect::MySql);
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    assert_eq!(
        script(&g.source, 0),
        r#"create accounts {
    unsigned_big_integer(id).auto_increment().primary();
    unsigned_big_integer(balance).default(0);
}
create payments {
    id();
    unsigned_big_integer(account_id).references(accounts);
    unsigned_big_integer(amount).nullable();
}"#
    );
}

#[test]
fn keys_uuid_ids_composite_keys_and_without_rowid() {
    let tables = vec![
        Table::build("docs", |t| {
            t.uuid_id();
            t.string("title", 255);
        }),
        Table::build("tags", |t| {
            t.id_named("tag_id");
            t.foreign_uuid("doc_id").references("docs");
        }),
        Table::build("codes", |t| {
            t.string("code", 8).primary();
            t.integer("n").auto_increment();
        }),
        Table::build("doc_tags", |t| {
            t.foreign_uuid("doc_id")
                .references("docs")
                .on_delete(ReferentialAction::Cascade);
            t.foreign_id("tag_id")
                .references_column("tags", "tag_id")
                .named("doc_tags_tag");
            t.primary(["doc_id", "tag_id"]);
            t.without_rowid();
        }),
    ];
    let g = create_all(tables, Dialect::Sqlite);
    assert_eq!(
        script(&g.source, 0),
        r#"create docs {
    uuid_id();
    string(title, 255);
}
create tags {
    id(tag_id);
    foreign_uuid(doc_id).references(docs);
}
create codes {
    string(code, 8).primary();
    integer(n).auto_increment();
}
create doc_tags {
    foreign_uuid(doc_id).references(docs).on_delete(cascade);
    foreign_id(tag_id).references(tags, tag_id).named("doc_tags_tag");
    primary(doc_id, tag_id);
    without_rowid();
}"#
    );
    // down drops in reverse order: referencing tables first
    assert_eq!(
        script(&g.source, 1),
        "drop doc_tags;\ndrop codes;\ndrop tags;\ndrop docs;"
    );
}

#[test]
fn references_to_tables_not_created_here_are_external() {
    let desired = Schema::new()
        .create("users", |t| {
            t.id();
        })
        .create("posts", |t| {
            t.id();
            t.foreign_id("user_id").references("users");
            t.foreign_id("team_id").references("teams");
            t.foreign_id("parent_id").references("posts").nullable();
        });
    let live = Schema::new().create("teams", |t| {
        t.id();
    });
    let diff = diff_schemas(&desired, &live, Dialect::Postgres);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Postgres));
    let up = script(&g.source, 0);
    assert!(
        up.contains("foreign_id(user_id).references(users);"),
        "{up}"
    );
    assert!(
        up.contains("foreign_id(team_id).references(teams).external();"),
        "{up}"
    );
    assert!(
        up.contains("foreign_id(parent_id).nullable().references(posts);"),
        "{up}"
    );
    // the live table nobody declared is not dropped by default
    assert_eq!(g.skipped_destructive, ["drop table teams"]);
    assert!(g.source.contains("//   - drop table teams"));
}

#[test]
fn alter_forms() {
    let live = Schema::new()
        .create("users", |t| {
            t.id();
            t.string("email", 100);
            t.integer("age");
            t.index_named("old_idx", ["age"]);
            t.check_named("age_ok", "[age] >= 0");
        })
        .create("teams", |t| {
            t.id();
        });
    let desired = Schema::new()
        .create("users", |t| {
            t.id();
            t.string("email", 100).unique();
            t.string("nick", 40).nullable().index();
            t.foreign_id("team_id").references("teams").nullable();
            t.boolean("active").default(true);
            t.index_named("by_email_nick", ["email", "nick"]);
            t.unique_index(["email", "active"]);
            t.check_named("email_set", "[email] <> ''");
        })
        .create("teams", |t| {
            t.id();
        });
    let diff = diff_schemas(&desired, &live, Dialect::Postgres);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Postgres).live(live.clone()));
    assert_eq!(
        script(&g.source, 0),
        r#"alter users {
    add string(nick, 40).nullable();
    add foreign_id(team_id).nullable().references(teams).external();
    add boolean(active).default(true);
    add_unique_index(email);
    add_index_named("by_email_nick", email, nick);
    add_unique_index(email, active);
    add_index(nick);
    add_check("email_set", "[email] <> ''");
}"#
    );
    assert_eq!(
        g.skipped_destructive,
        [
            "drop index old_idx on users",
            "drop check age_ok on users",
            "drop column users.age"
        ]
    );
    assert_eq!(
        script(&g.source, 1),
        r#"alter users {
    drop_check(email_set);
    drop_foreign("users_team_id_foreign");
    drop_index(users_nick_index);
    drop_index(users_email_active_unique);
    drop_index(by_email_nick);
    drop_index(users_email_unique);
    drop_column(active);
    drop_column(team_id);
    drop_column(nick);
}"#
    );

    // with the destructive changes, and down restoring what they removed
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::Postgres).live(live).include_destructive(true),
    );
    assert!(g.skipped_destructive.is_empty());
    let up = script(&g.source, 0);
    assert!(
        up.ends_with("    drop_index(old_idx);\n    drop_check(age_ok);\n    drop_column(age);\n}"),
        "{up}"
    );
    let down = script(&g.source, 1);
    assert!(
        down.starts_with(
            "alter users {\n    add integer(age);\n    add_check(\"age_ok\", \"[age] >= 0\");\n    add_index_named(\"old_idx\", age);\n"
        ),
        "{down}"
    );
    assert!(
        g.warnings
            .iter()
            .any(|w| w.contains("users.age is added NOT NULL")),
        "{:?}",
        g.warnings
    );
}

#[test]
fn a_new_not_null_column_without_default_is_flagged() {
    let live = Schema::new().create("t", |t| {
        t.id();
    });
    let desired = Schema::new().create("t", |t| {
        t.id();
        t.integer("n");
    });
    let diff = diff_schemas(&desired, &live, Dialect::MySql);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::MySql).live(live));
    assert_eq!(g.warnings.len(), 1);
    assert!(
        g.source
            .contains("//   - t.n is added NOT NULL without a default"),
        "{}",
        g.source
    );
}

#[test]
fn column_changes_are_raw_sql_for_the_dialect() {
    let live = Schema::new().create("t", |t| {
        t.id();
        t.string("name", 50);
        t.big_integer("n");
    });
    let desired = Schema::new().create("t", |t| {
        t.id();
        t.string("name", 100).nullable();
        t.integer("n");
    });
    let diff = diff_schemas(&desired, &live, Dialect::Postgres);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Postgres).live(live.clone()));
    assert_eq!(g.changes, 1);
    assert_eq!(
        g.skipped_destructive,
        ["alter column t.n (big_integer -> integer)"]
    );
    let up = script(&g.source, 0);
    assert_eq!(
        up,
        "// alter column t.name (string(50) -> string(100), nullable) (PostgreSQL SQL)\n\
         sql(r#\"ALTER TABLE \"t\" ALTER COLUMN \"name\" TYPE VARCHAR(100) USING \"name\"::VARCHAR(100), ALTER COLUMN \"name\" DROP NOT NULL\"#);"
    );
    let down = script(&g.source, 1);
    assert!(
        down.contains("ALTER COLUMN \"name\" TYPE VARCHAR(50) USING \"name\"::VARCHAR(50), ALTER COLUMN \"name\" SET NOT NULL"),
        "{down}"
    );
    assert!(g.source.contains("this migration is for PostgreSQL only"));

    // narrowing, when asked for, goes the same way
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::Postgres).live(live).include_destructive(true),
    );
    assert!(
        script(&g.source, 0).contains("TYPE INTEGER"),
        "{}",
        g.source
    );
    assert!(script(&g.source, 1).contains("TYPE BIGINT"), "{}", g.source);
}

#[test]
fn sqlite_rebuilds_are_raw_steps() {
    let live = Schema::new().create("t", |t| {
        t.id();
        t.integer("n");
    });
    let desired = Schema::new().create("t", |t| {
        t.id();
        t.integer("n").nullable();
    });
    let diff = diff_schemas(&desired, &live, Dialect::Sqlite);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Sqlite).live(live));
    assert_eq!(
        g.source.split_once("pub fn").unwrap().1,
        r#" migration() -> dal::migrate::Migration {
    let mut up = dal::schema::Script::new();
    // rebuild table t into its new shape
    up.extend(dal::autogen::rebuild(
        dal::schema! {
            create t {
                id();
                integer(n);
            }
        },
        dal::schema! {
            create t {
                id();
                integer(n).nullable();
            }
        },
    ));
    let mut down = dal::schema::Script::new();
    // rebuild table t into its previous shape
    down.extend(dal::autogen::rebuild(
        dal::schema! {
            create t {
                id();
                integer(n).nullable();
            }
        },
        dal::schema! {
            create t {
                id();
                integer(n);
            }
        },
    ));
    dal::migrate::Migration::new("m", up).down(down)
}
"#
    );
    assert!(!g.source.contains("for SQLite only"), "{}", g.source);
}

#[test]
fn rebuild_builds_a_typed_step() {
    let step = |items: &str| {
        let mut s = Script::new();
        s.create_table(Table::build("t", |t| {
            t.id();
            if items == "wide" {
                t.integer("n").nullable();
            } else {
                t.integer("n");
            }
        }));
        s
    };
    let r = rebuild(step("narrow"), step("wide"));
    assert!(
        matches!(r.steps(), [Step::Ddl(DdlStatement::RebuildTable { from, to })] if from.name == "t" && to.column("n").unwrap().nullable)
    );
    let bad = std::panic::catch_unwind(|| rebuild(Script::new(), step("wide")));
    assert!(bad.is_err());
}

#[test]
fn dropped_tables_come_back_in_down() {
    let live = Schema::new()
        .create("a", |t| {
            t.id();
        })
        .create("b", |t| {
            t.id();
            t.foreign_id("a_id")
                .references("a")
                .on_delete(ReferentialAction::Cascade);
            t.string("label", 20).unique();
        });
    let diff = diff_schemas(&Schema::new(), &live, Dialect::Postgres);
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::Postgres).live(live).include_destructive(true),
    );
    assert_eq!(script(&g.source, 0), "drop b;\ndrop a;");
    assert_eq!(
        script(&g.source, 1),
        "create a {\n    id();\n}\ncreate b {\n    id();\n    foreign_id(a_id).references(a).on_delete(cascade);\n    string(label, 20).unique();\n}"
    );
    assert!(
        g.warnings
            .iter()
            .any(|w| w.contains("re-creates table b empty"))
    );
}

#[test]
fn names_that_are_not_rust_identifiers_are_strings() {
    let t = Table::build("order", |t| {
        t.id();
        t.string("type", 20);
        t.integer("2fa");
        t.text("self").nullable();
        t.index(["type"]);
    });
    let g = create_all(vec![t], Dialect::Postgres);
    assert_eq!(
        script(&g.source, 0),
        "create order {\n    id();\n    string(\"type\", 20);\n    integer(\"2fa\");\n    text(\"self\").nullable();\n    index(\"type\");\n}"
    );
    let t = Table::build("type", |t| {
        t.id();
    });
    let g = create_all(vec![t], Dialect::Postgres);
    assert!(g.source.contains("create \"type\" {"));
    assert!(g.source.contains("drop \"type\";"));
}

#[test]
fn literals_are_escaped() {
    assert_eq!(string_literal("plain"), "\"plain\"");
    assert_eq!(string_literal("it's"), "\"it's\"");
    assert_eq!(string_literal(r#"say "hi""#), r###"r#"say "hi""#"###);
    assert_eq!(string_literal(r##"a "# b"##), r####"r##"a "# b"##"####);
    assert_eq!(string_literal("back\\slash"), r##"r#"back\slash"#"##);
    assert_eq!(string_literal("tab\there"), "\"tab\\there\"");
    assert_eq!(float_literal(1.0), "1.0");
    assert_eq!(float_literal(0.1), "0.1");
    assert_eq!(float_literal(-2.5), "-2.5");
    assert_eq!(float_literal(1e-9), "1e-9");
    assert!(is_rust_ident("created_at"));
    assert!(!is_rust_ident("fn"));
    assert!(!is_rust_ident("_"));
    assert!(!is_rust_ident("a-b"));
    assert!(!is_rust_ident(""));
}

#[test]
fn what_the_grammar_cannot_say_falls_back_to_raw_sql() {
    let t = Table::build("events", |t| {
        t.id();
        t.timestamp_tz("at")
            .default(DefaultValue::Expression("CURRENT_TIMESTAMP".into()));
    });
    let g = create_all(vec![t], Dialect::MySql);
    let up = script(&g.source, 0);
    assert!(
        up.starts_with("// create table events (MySQL/MariaDB SQL)\nsql(\"CREATE TABLE `events`"),
        "{up}"
    );
    assert_eq!(script(&g.source, 1), "drop events;");

    // a composite foreign key
    let mut t = Table::build("lines", |t| {
        t.big_integer("order_id");
        t.integer("n");
    });
    t.foreign_keys.push(dal_schema::ForeignKey {
        name: "lines_order".into(),
        columns: vec!["order_id".into(), "n".into()],
        references_table: "orders".into(),
        references_columns: vec!["id".into(), "n".into()],
        on_delete: ReferentialAction::NoAction,
        on_update: ReferentialAction::NoAction,
        external: true,
    });
    let g = create_all(vec![t], Dialect::Postgres);
    assert!(script(&g.source, 0).contains("sql(r#\"CREATE TABLE \"lines\""));

    // a unique index with its own name on an existing table
    let diff = SchemaDiff {
        changes: vec![Change::CreateIndex {
            table: "t".into(),
            index: dal_schema::Index {
                name: "t_one".into(),
                columns: vec!["a".into()],
                unique: true,
            },
        }],
        destructive: vec![],
    };
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Postgres));
    assert!(
        script(&g.source, 0).contains(r##"sql(r#"CREATE UNIQUE INDEX "t_one" ON "t" ("a")"#);"##)
    );
    assert_eq!(script(&g.source, 1), "alter t {\n    drop_index(t_one);\n}");
}

#[test]
fn a_foreign_key_on_an_existing_column() {
    let live = Schema::new()
        .create("p", |t| {
            t.id();
        })
        .create("c", |t| {
            t.id();
            t.big_integer("p_id");
        });
    let desired = Schema::new()
        .create("p", |t| {
            t.id();
        })
        .create("c", |t| {
            t.id();
            t.foreign_id("p_id").references("p");
        });
    let diff = diff_schemas(&desired, &live, Dialect::Postgres);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Postgres).live(live));
    assert_eq!(
        script(&g.source, 0),
        "// add foreign key c_p_id_foreign on c (PostgreSQL SQL)\nsql(r#\"ALTER TABLE \"c\" ADD CONSTRAINT \"c_p_id_foreign\" FOREIGN KEY (\"p_id\") REFERENCES \"p\" (\"id\")\"#);"
    );
    assert_eq!(
        script(&g.source, 1),
        "alter c {\n    drop_foreign(\"c_p_id_foreign\");\n}"
    );
}

#[test]
fn empty_diff_renders_empty_scripts() {
    let g = Generated::from_diff(&SchemaDiff::default(), "m0", &ctx(Dialect::Sqlite));
    assert!(g.is_empty());
    assert_eq!(
        g.source,
        "// Migration m0: generated by dal::autogen from the difference between\n\
         // the application's blueprints and a SQLite database. Review it before applying it.\n\
         \n\
         /// The migration `m0`.\n\
         pub fn migration() -> dal::migrate::Migration {\n    \
             dal::migrate::Migration::new(\n        \
                 \"m0\",\n        \
                 dal::schema! {},\n    \
             )\n    \
             .down(dal::schema! {})\n\
         }\n"
    );
}

#[test]
fn whole_file_layout() {
    let desired = Schema::new().create("notes", |t| {
        t.id();
        t.string("title", 200);
    });
    let diff = diff_schemas(&desired, &Schema::new(), Dialect::Postgres);
    let g = Generated::from_diff(&diff, "m20250101_000000_notes", &ctx(Dialect::Postgres));
    assert_eq!(
        g.source,
        r#"// Migration m20250101_000000_notes: generated by dal::autogen from the difference between
// the application's blueprints and a PostgreSQL database. Review it before applying it.
//
// Changes:
//   - create table notes

/// The migration `m20250101_000000_notes`.
pub fn migration() -> dal::migrate::Migration {
    dal::migrate::Migration::new(
        "m20250101_000000_notes",
        dal::schema! {
            create notes {
                id();
                string(title, 200);
            }
        },
    )
    .down(dal::schema! {
        drop notes;
    })
}
"#
    );
}

fn user_shape() -> EntityShape {
    let col = |name: &str, role| EntityColumn {
        name: name.into(),
        role,
        mapped: true,
    };
    EntityShape {
        table: "users".into(),
        columns: vec![
            col("id", ColumnRole::Id),
            col("email", ColumnRole::Data),
            col("dal_change_stamp", ColumnRole::ChangeStamp),
            col("dal_changed_by", ColumnRole::ChangedBy),
            col("dal_change_note", ColumnRole::ChangeNote),
        ],
        history: true,
        other_unique_keys: false,
    }
}

#[test]
fn history_triggers_follow_the_tables() {
    let users = Table::build("users", |t| {
        t.id();
        t.string("email", 100);
        t.big_integer("dal_change_stamp").nullable();
        t.string("dal_changed_by", 255).nullable();
        t.text("dal_change_note").nullable();
    });
    let history = Table::build("users_history", |t| {
        t.big_integer("history_version");
        t.big_integer("id");
        t.string("email", 100).nullable();
        t.primary(["id", "history_version"]);
        t.without_rowid();
    });
    let desired = Schema {
        tables: vec![users.clone(), history],
    };
    let diff = diff_schemas(&desired, &Schema::new(), Dialect::Sqlite);
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::Sqlite).history(vec![user_shape()]),
    );
    let up = script(&g.source, 0);
    assert_eq!(
        up, "create users {\n    id();\n    string(email, 100);\n    history();\n}",
        "the history table and the audit columns come with `history()`"
    );
    assert!(
        !g.source.contains("TRIGGER") && !g.source.contains("only"),
        "{}",
        g.source
    );
    let down = script(&g.source, 1);
    assert_eq!(down, "alter users {\n    drop_history();\n}\ndrop users;");

    // an untouched entity gets no history steps
    let live = desired.clone();
    let diff = diff_schemas(&desired, &live, Dialect::Sqlite);
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::Sqlite).live(live).history(vec![user_shape()]),
    );
    assert!(g.is_empty());
    assert!(!g.source.contains("history"));

    // an existing table that starts keeping a history
    let plain = Table::build("users", |t| {
        t.id();
        t.string("email", 100);
    });
    let live = Schema {
        tables: vec![plain],
    };
    let diff = diff_schemas(&desired, &live, Dialect::MySql);
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::MySql).live(live).history(vec![user_shape()]),
    );
    assert_eq!(script(&g.source, 0), "alter users {\n    add_history();\n}");
    assert_eq!(
        script(&g.source, 1),
        "alter users {\n    drop_history();\n}"
    );

    // a changed entity: the history table gains the column and the triggers
    // are written again by `refresh_history()`
    let live = Schema {
        tables: vec![
            users.clone(),
            Table::build("users_history", |t| {
                t.big_integer("history_version");
                t.big_integer("id");
                t.string("email", 100).nullable();
                t.primary(["id", "history_version"]);
            }),
        ],
    };
    let mut wider = users.clone();
    wider.columns.push(Column {
        nullable: true,
        ..Column::new("nick", ColumnType::String { length: 40 })
    });
    let mut wider_history = live.tables[1].clone();
    wider_history.columns.push(Column {
        nullable: true,
        ..Column::new("nick", ColumnType::String { length: 40 })
    });
    let mut shape = user_shape();
    shape.columns.insert(
        2,
        EntityColumn {
            name: "nick".into(),
            role: ColumnRole::Data,
            mapped: true,
        },
    );
    let desired = Schema {
        tables: vec![wider, wider_history],
    };
    let diff = diff_schemas(&desired, &live, Dialect::Postgres);
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::Postgres)
            .live(live.clone())
            .history(vec![shape.clone()]),
    );
    assert_eq!(
        script(&g.source, 0),
        "alter users {\n    add string(nick, 40).nullable();\n    refresh_history();\n}"
    );
    assert_eq!(
        script(&g.source, 1),
        "alter users {\n    drop_column(nick);\n    refresh_history();\n}"
    );

    // a soft-delete column with another name than `deleted_at`: the triggers
    // stay raw SQL of the database diffed against
    shape.columns.push(EntityColumn {
        name: "removed_on".into(),
        role: ColumnRole::DeletedAt,
        mapped: true,
    });
    let mut removed = desired.clone();
    for t in &mut removed.tables {
        t.columns.push(Column {
            nullable: true,
            ..Column::new("removed_on", ColumnType::TimestampTz)
        });
    }
    let diff = diff_schemas(&removed, &live, Dialect::Postgres);
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::Postgres).live(live).history(vec![shape]),
    );
    let up = script(&g.source, 0);
    assert!(
        up.starts_with(
            "// history triggers of users (PostgreSQL SQL)\nsql(r#\"DROP TRIGGER IF EXISTS"
        ),
        "{up}"
    );
    assert!(up.contains("CREATE OR REPLACE FUNCTION"), "{up}");
    assert!(up.contains("NEW.\"removed_on\""), "{up}");
    let down = script(&g.source, 1);
    let restored = &down[down.find("as they were").expect(&down)..];
    assert!(!restored.contains("removed_on"), "{down}");
}

#[test]
fn entities_that_stop_keeping_a_history() {
    let users = Table::build("users", |t| {
        t.id();
        t.string("email", 100);
    });
    let mut live = Schema {
        tables: vec![users.clone()],
    };
    for c in dal_schema::entity::audit_column_defs() {
        live.tables[0].columns.push(c);
    }
    live.tables
        .push(dal_schema::entity::history_table(&live.tables[0], "id"));
    let desired = Schema {
        tables: vec![users],
    };
    let diff = diff_schemas(&desired, &live, Dialect::Sqlite);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Sqlite).live(live.clone()));
    assert!(g.is_empty(), "dropping a history is destructive");
    let g = Generated::from_diff(
        &diff,
        "m",
        &ctx(Dialect::Sqlite).live(live).include_destructive(true),
    );
    assert_eq!(
        script(&g.source, 0),
        "alter users {\n    drop_history();\n}"
    );
    assert_eq!(script(&g.source, 1), "alter users {\n    add_history();\n}");
}

#[test]
fn diff_ignores_the_runner_tables() {
    let live = Schema::new()
        .create("dal_migrations", |t| {
            t.string("module", 100);
        })
        .create("audit", |t| {
            t.id();
        });
    let options = GenerateOptions::default().ignore_table("audit");
    let d = diff(&Blueprints::new(), &live, Dialect::Sqlite, &options);
    assert!(d.is_empty(), "{d:?}");
    let d = diff(
        &Blueprints::new(),
        &live,
        Dialect::Sqlite,
        &GenerateOptions::default(),
    );
    assert_eq!(d.destructive, vec![Change::DropTable("audit".into())]);
    let options = GenerateOptions {
        ignore_tables: vec![],
        ..GenerateOptions::default()
    }
    .runner_table("custom");
    assert_eq!(options.ignore_tables, ["custom"]);
}

#[test]
fn blueprints_convert_from_tables() {
    let tables = vec![Table::build("a", |t| {
        t.id();
    })];
    let from_ref: Blueprints = (&tables).into();
    let from_slice: Blueprints = tables.as_slice().into();
    let collected: Blueprints = tables.clone().into_iter().collect();
    assert_eq!(from_ref, from_slice);
    assert_eq!(from_ref, collected);
    assert_eq!(from_ref.schema().tables, tables);
    assert!(Blueprints::new().is_empty());
    assert!(from_ref.history_entities().is_empty());
}

#[test]
fn references_across_a_rebuild_are_external() {
    // a rebuild splits the script into several `schema!` invocations
    let live = Schema::new().create("books", |t| {
        t.id();
        t.integer("n");
    });
    let desired = Schema::new()
        .create("authors", |t| {
            t.id();
        })
        .create("books", |t| {
            t.id();
            t.integer("n").nullable();
        })
        .create("reviews", |t| {
            t.id();
            t.foreign_id("author_id").references("authors");
        });
    let diff = diff_schemas(&desired, &live, Dialect::Sqlite);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Sqlite).live(live));
    let invocations: Vec<&str> = g.source.split("dal::schema! {").collect();
    let reviews = invocations
        .iter()
        .find(|s| s.contains("create reviews"))
        .expect(&g.source);
    assert!(!reviews.contains("create authors"), "{}", g.source);
    assert!(
        reviews.contains("foreign_id(author_id).references(authors).external();"),
        "{}",
        g.source
    );
}

#[test]
fn likely_renames_are_pointed_out() {
    let live = Schema::new()
        .create("people", |t| {
            t.id();
            t.string("name", 100);
        })
        .create("users", |t| {
            t.id();
            t.string("nick", 40).nullable();
            t.integer("age");
        });
    let desired = Schema::new()
        .create("persons", |t| {
            t.id();
            t.string("name", 100);
        })
        .create("users", |t| {
            t.id();
            t.string("nickname", 40).nullable();
            t.text("about").nullable();
        });
    let diff = diff_schemas(&desired, &live, Dialect::Postgres);
    let g = Generated::from_diff(&diff, "m", &ctx(Dialect::Postgres).live(live));
    assert_eq!(g.warnings.len(), 2, "{:?}", g.warnings);
    assert!(
        g.warnings[1].contains("write `rename people to persons;` instead"),
        "{:?}",
        g.warnings
    );
    assert!(
        g.warnings[0].contains("write `alter users { rename_column(nick, nickname); }` instead"),
        "{:?}",
        g.warnings
    );
    assert!(
        g.source
            .contains("//   - users.nick is dropped and users.nickname added"),
        "{}",
        g.source
    );
}

#[test]
fn array_columns() {
    let posts = Table::build("posts", |t| {
        t.id();
        t.array("tags", ColumnType::Text);
        t.array("scores", ColumnType::BigInteger).nullable();
        t.array("names", ColumnType::String { length: 40 });
        t.array(
            "prices",
            ColumnType::Decimal {
                precision: 10,
                scale: 2,
            },
        );
    });
    let g = create_all(vec![posts.clone()], Dialect::Postgres);
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
    assert_eq!(
        script(&g.source, 0),
        r#"create posts {
    id();
    array(tags, text);
    array(scores, big_integer).nullable();
    array(names, string, 40);
    array(prices, decimal, 10, 2);
}"#
    );
    // generated twice (the live table now as introspected): no change
    for d in [Dialect::Postgres, Dialect::MySql, Dialect::Sqlite] {
        let live = if d == Dialect::Postgres {
            posts.clone()
        } else {
            Table::build("posts", |t| {
                t.id();
                t.json("tags");
                t.json("scores").nullable();
                t.json("names");
                t.json("prices");
            })
        };
        let diff = diff_schemas(
            &Schema {
                tables: vec![posts.clone()],
            },
            &Schema { tables: vec![live] },
            d,
        );
        assert!(diff.is_empty(), "{d}: {diff:?}");
    }
}
