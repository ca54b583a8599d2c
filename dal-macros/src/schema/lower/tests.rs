//! Unit tests of the lowering: `schema!` input in, the model or the errors out.

use super::*;
use dal_schema::ReferentialAction;

fn lower_str(s: &str) -> syn::Result<ScriptModel> {
    let input: SchemaInput = syn::parse_str(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    lower(&input)
}

fn ok(s: &str) -> ScriptModel {
    lower_str(s).unwrap_or_else(|e| {
        panic!(
            "{s}: {}",
            e.into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn errors(s: &str) -> Vec<String> {
    match lower_str(s) {
        Ok(_) => panic!("`{s}` should not lower"),
        Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
    }
}

fn error(s: &str) -> String {
    let e = errors(s);
    assert_eq!(e.len(), 1, "{e:#?}");
    e.into_iter().next().unwrap()
}

fn table(s: &str) -> Table {
    match ok(s).steps.remove(0) {
        StepModel::CreateTable { table, items, .. } => build_table(&table, &items),
        _ => panic!("not a create"),
    }
}

#[test]
fn builds_what_the_fluent_builder_builds() {
    let from_macro = table(
        r#"create posts {
            id();
            foreign_id(user_id).references(posts).on_delete(cascade).on_update(set_default).named("fk").external();
            string(title); string(slug, 80).unique();
            text(body).nullable();
            decimal(price, 10, 2).default(0);
            enumeration(status, ["draft", "published"]).default("draft");
            boolean(featured).default(false);
            double(score).default(-1.5);
            date(day).use_current();
            timestamps(); soft_deletes();
            index(title); unique_index_named("u", slug, title);
            check("[price] >= 0"); check_named("c", "[score] < 10");
        }"#,
    );
    let by_hand = Table::build("posts", |t| {
        t.id();
        t.foreign_id("user_id")
            .references("posts")
            .on_delete(ReferentialAction::Cascade)
            .on_update(ReferentialAction::SetDefault)
            .named("fk")
            .external();
        t.string("title", 255);
        t.string("slug", 80).unique();
        t.text("body").nullable();
        t.decimal("price", 10, 2).default(0);
        t.enumeration("status", ["draft", "published"])
            .default("draft");
        t.boolean("featured").default(false);
        t.double("score").default(-1.5);
        t.date("day").use_current();
        t.timestamps();
        t.soft_deletes();
        t.index(["title"]);
        t.unique_index_named("u", ["slug", "title"]);
        t.check("[price] >= 0");
        t.check_named("c", "[score] < 10");
    });
    assert_eq!(from_macro, by_hand);
}

#[test]
fn every_column_kind_and_modifier() {
    let t = table(
        r#"create every {
            id(key); uuid(u).default("123e4567-e89b-12d3-a456-426614174000");
            uuid(u2).unique(); small_integer(si).default(-3).index(); integer(i).default(7); big_integer(bi).unique();
            float(f).default(1.5); time(tm).nullable(); timestamp(ts).use_current();
            timestamp_tz(tz).nullable().default(null); json(j); binary(b).nullable();
            foreign_uuid(other).nullable().references(every, u2).on_delete(set_null);
        }"#,
    );
    assert_eq!(t.primary_key, ["key"]);
    assert!(t.column("key").unwrap().auto_increment);
    assert_eq!(
        t.column("si").unwrap().default,
        Some(DefaultValue::Integer(-3))
    );
    assert_eq!(t.column("tz").unwrap().default, Some(DefaultValue::Null));
    assert_eq!(t.indexes[0].name, "every_si_index");
    assert_eq!(t.foreign_keys[0].references_columns, ["u2"]);
    let t = table("create k { uuid_id(); }");
    assert_eq!(t.column("id").unwrap().ty, ColumnType::Uuid);
}

#[test]
fn manual_keys_and_without_rowid() {
    let t = table("create pairs { big_integer(a); integer(b); primary(a, b); without_rowid(); }");
    assert_eq!(t.primary_key, ["a", "b"]);
    assert!(t.without_rowid);
    let t = table("create codes { string(code, 10).primary(); }");
    assert_eq!(t.primary_key, ["code"]);
}

#[test]
fn duplicate_table_and_column() {
    assert_eq!(
        error("create a { id(); } create a { id(); }"),
        "table `a` is already created above in this `schema!`; drop or rename it first, or pick another name"
    );
    ok("create a { id(); } drop a; create a { id(); }");
    assert_eq!(
        error("create a { id(); string(id); }"),
        "column `id` is declared twice in `a`"
    );
    assert!(
        error("create a { id(); timestamp(created_at); timestamps(); }")
            .contains("`timestamps()` adds column `created_at`")
    );
}

#[test]
fn unknown_types_and_modifiers_suggest() {
    assert_eq!(
        error("create a { strng(x); }"),
        "unknown column type `strng`: did you mean `string`?"
    );
    assert_eq!(
        error("create a { bool(x); }"),
        "unknown column type `bool`: did you mean `boolean`?"
    );
    assert!(error("create a { zzzzzz(x); }").contains("column types are: id, uuid_id, string"));
    assert_eq!(
        error("create a { string(x).nullabel(); }"),
        "unknown modifier `.nullabel()`: did you mean `.nullable()`?"
    );
    assert!(
        error("create a { string(x).frobnicate(); }")
            .contains("modifiers are: .nullable() .default()")
    );
}

#[test]
fn defaults_must_fit_the_column() {
    assert_eq!(
        error("create a { boolean(b).default(\"yes\"); }"),
        "a string default does not fit boolean column `b`: write `true` or `false` without quotes"
    );
    assert!(
        error("create a { integer(n).default(1.5); }")
            .starts_with("a float default does not fit integer column `n`")
    );
    assert_eq!(
        error("create a { enumeration(role, [\"admin\", \"user\"]).default(\"usr\"); }"),
        "`usr` is not one of the variants: admin, user; did you mean `user`?"
    );
    assert!(error("create a { small_integer(n).default(40000); }").contains("out of range"));
    assert!(error("create a { string(s, 2).default(\"long\"); }").contains("holds at most 2"));
    // left to the runtime validator, spanned on the literal
    assert!(error("create a { date(d).default(\"yesterday\"); }").contains("expected a date"));
    assert!(error("create a { integer(n).default(null); }").contains("not nullable"));
    assert!(error("create a { integer(n).default(foo); }").contains("takes a literal"));
}

#[test]
fn lengths_and_precision() {
    assert_eq!(
        error("create a { string(s, 0); }"),
        "string length must be between 1 and 16383, got 0"
    );
    assert!(error("create a { string(s, 20000); }").ends_with("(use text() for longer values)"));
    assert!(
        error("create a { decimal(d, 70, 2); }")
            .contains("precision must be between 1 and 65, got 70")
    );
    assert!(
        error("create a { decimal(d, 5, 6); }").contains("scale must be at most the precision (5)")
    );
    assert!(
        error("create a { decimal(d, 10); }")
            .contains("`decimal` takes a column name, a precision and a scale")
    );
    assert!(error("create a { string(s, -1); }").contains("cannot be negative"));
}

#[test]
fn index_and_key_columns_must_exist() {
    assert_eq!(
        error("create a { id(); string(title); index(titel); }"),
        "unknown column `titel` in the index of `a`: did you mean `title`?"
    );
    assert!(
        error("create a { id(); unique_index(title); }")
            .contains("unknown column `title` in the index of `a`")
    );
    assert!(
        error("create a { integer(x); primary(y); }")
            .contains("unknown column `y` in the primary key of `a`")
    );
    assert!(error("create a { id(); integer(x); index(x, x); }").contains("appears twice"));
    // checks may name columns or not; named ones are checked by the validator
    ok("create a { integer(x); check(\"1 = 1\"); }");
    assert_eq!(
        error("create a { integer(xy); check(\"[x] > 0\"); }"),
        "unknown column `x` in the check of `a`: did you mean `xy`?"
    );
}

#[test]
fn foreign_keys_need_a_declared_target() {
    assert!(
        error("create posts { id(); foreign_id(user_id).references(users); }")
            .starts_with("table `users` is not created in this `schema!`")
    );
    ok("create posts { id(); foreign_id(user_id).references(users).external(); }");
    ok("create users { id(); } create posts { id(); foreign_id(user_id).references(users); }");
    ok("create tree { id(); foreign_id(parent_id).nullable().references(tree); }");
    assert!(
        error(
            "create users { id(); } create posts { id(); foreign_id(u).references(users, uid); }"
        )
        .contains("table `users` has no column `uid`")
    );
    assert!(error("create users { uuid_id(key); } create posts { id(); foreign_uuid(u).references(users); }")
        .contains("its primary key is `key`"));
    assert!(
        error(
            "create users { uuid_id(); } create posts { id(); foreign_id(u).references(users); }"
        )
        .contains("declare it with `foreign_uuid(u)`")
    );
    assert!(error("create users { id(); string(email); } create posts { id(); string(e).references(users, email); }")
        .contains("neither the primary key nor unique"));
    assert!(error("create users { id(); } drop users; create posts { id(); foreign_id(u).references(users); }")
        .starts_with("table `users` was dropped above"));
    assert!(
        error("create users { id(); } create posts { id(); foreign_id(u).references(user); }")
            .contains("did you mean `users`?")
    );
    assert!(
        error("create posts { id(); foreign_id(u).references(users); } create users { id(); }")
            .starts_with(
                "table `users` is created further down in this `schema!`: create it first"
            )
    );
}

#[test]
fn referential_actions() {
    assert_eq!(
        error("create a { id(); foreign_id(p).references(a).on_delete(cascde); }"),
        "unknown referential action `cascde`: did you mean `cascade`?"
    );
    assert!(
        error("create a { id(); foreign_id(p).references(a).on_delete(\"cascade\"); }")
            .contains("without quotes: `.on_delete(cascade)`")
    );
    assert!(
        error("create a { id(); foreign_id(p).on_delete(cascade); }")
            .contains("applies to a foreign key")
    );
    // the validator: SET NULL on a non-null column
    assert!(
        error("create a { id(); foreign_id(p).references(a).on_delete(set_null); }")
            .contains("not nullable")
    );
}

#[test]
fn identifiers() {
    assert!(
        error("create \"user accounts\" { id(); }")
            .starts_with("invalid table name `user accounts`")
    );
    let long = "x".repeat(64);
    assert!(
        error(&format!("create a {{ integer({long}); }}"))
            .contains("is 64 bytes long; the limit is 63")
    );
    assert!(
        error("create a { id(); index_named(\"bad name\", id); }")
            .starts_with("invalid index name")
    );
    assert!(error("create a { integer(café); }").starts_with("invalid column name `café`"));
}

#[test]
fn argument_counts() {
    assert!(error("create a { text(t, 5); }").contains("`text` takes only a column name"));
    assert!(error("create a { string(); }").contains("`string` needs a column name first"));
    assert!(
        error("create a { integer(n).nullable(true); }")
            .contains("`.nullable()` takes no arguments")
    );
    assert!(error("create a { integer(n).default(); }").contains("`.default()` takes one literal"));
    assert!(
        error("create a { id(); foreign_id(n).references(); }")
            .contains("`.references()` takes a table")
    );
    assert!(
        error("create a { id(); enumeration(e); }")
            .contains("a column name and a list of variants")
    );
    assert!(error("create a { id(); enumeration(e, []); }").contains("at least one variant"));
}

#[test]
fn primary_key_is_declared_once() {
    assert!(
        error("create a { id(); integer(b); primary(b); }").contains("already declared by `id()`")
    );
    ok("create a { id().primary(); }");
}

#[test]
fn alter_checks_columns_of_tables_created_above() {
    ok(
        "create u { id(); string(a); } alter u { add string(b).nullable(); rename_column(a, c); drop_column(b); add_index(c); drop_index(u_c_index); }",
    );
    assert_eq!(
        error("create u { id(); string(nick); } alter u { add string(nick); }"),
        "column `nick` already exists in `u`"
    );
    assert!(
        error("create u { id(); } alter u { drop_column(nick); }")
            .contains("unknown column `nick`")
    );
    assert!(
        error("create u { id(); string(a); } alter u { rename_column(b, c); }")
            .contains("unknown column `b`")
    );
    assert!(
        error("create u { id(); string(a); string(b); } alter u { rename_column(a, b); }")
            .contains("already exists")
    );
    assert!(
        error("create u { id(); string(a).index(); } alter u { drop_column(a); }")
            .contains("drop_index(u_a_index)")
    );
    assert!(
        error("create u { id(); } alter u { drop_index(nope); }")
            .contains("`u` has no index `nope`")
    );
    assert!(
        error("create u { id(); } alter u { drop_check(nope); }")
            .contains("`u` has no check `nope`")
    );
    assert!(
        error("create u { id(); integer(p); } alter u { drop_foreign(p); }")
            .contains("no foreign key on column `p`")
    );
    assert!(error("create u { id(); } alter u { add_index(a); }").contains("unknown column `a`"));
    assert!(
        error("create u { id(); } alter u { add_check(\"c\", \"[x] > 0\"); }")
            .contains("unknown column `x`")
    );
    // tables not created here: only names are checked
    ok(
        "alter legacy { drop_column(x); rename_column(a, b); drop_index(i); drop_check(c); drop_foreign(user_id); add_index(q); }",
    );
    assert!(
        error("alter legacy { drop_column(\"bad name\"); }").starts_with("invalid column name")
    );
}

#[test]
fn alter_forms_that_cannot_work() {
    assert!(error("alter u { add id(); }").contains("`alter` cannot add"));
    assert!(error("alter u { add integer(n).primary(); }").contains("cannot be added by `alter`"));
    assert!(error("alter u { add foreign_id(p).references(teams); }").contains("`.external()`"));
    ok("alter u { add foreign_id(p).nullable().references(teams).external(); }");
    assert!(
        error("create u { id(); } drop u; alter u { drop_column(a); }")
            .contains("was dropped above")
    );
}

#[test]
fn drop_foreign_resolves_the_constraint_name() {
    let m = ok(
        "create t { id(); } create u { id(); foreign_id(t_id).references(t).named(\"custom\"); } alter u { drop_foreign(t_id); } alter legacy { drop_foreign(team_id); }",
    );
    let names: Vec<String> = m
        .steps
        .iter()
        .filter_map(|s| match s {
            StepModel::DropForeign { name, .. } => Some(name.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["custom", "legacy_team_id_foreign"]);
}

#[test]
fn drops_and_renames_follow_the_order() {
    ok("create a { id(); } rename a to b; alter b { add integer(n).default(0); } drop b;");
    assert!(
        error("create a { id(); } rename a to b; alter a { drop_column(id); }")
            .contains("was renamed to `b`")
    );
    assert!(
        error("create a { id(); } create b { id(); } rename a to b;").contains("already exists")
    );
    assert!(error("create a { id(); } drop a; drop a;").contains("nothing to drop"));
    ok("create a { id(); } drop a; drop_if_exists a;");
    assert!(
        error("create a { id(); } create b { id(); foreign_id(a_id).references(a); } drop a;")
            .contains("references it")
    );
    ok(
        "create a { id(); } create b { id(); foreign_id(a_id).references(a); } rename a to c; drop b; drop c;",
    );
}

#[test]
fn raw_sql_is_portable_and_has_no_parameters() {
    ok("sql(\"UPDATE [t] SET [x] = 1\");");
    assert!(error("sql(\"UPDATE [t] SET [x] = ?\");").contains("takes no parameters"));
}

#[test]
fn validator_errors_are_mapped() {
    assert!(error("create a { text(t).unique(); }").contains("cannot be unique portably"));
    assert!(
        errors("create a { string(s).auto_increment(); }")[0]
            .contains("auto-increment needs an integer column")
    );
    assert!(error("create a { integer(a); without_rowid(); }").contains("without-rowid"));
    assert!(error("create a { }").contains("has no columns"));
}
#[test]
fn arrays() {
    let t = table(
        r#"create posts {
            id();
            array(tags, text);
            array(scores, big_integer).nullable();
            array(names, string, 40);
            array(prices, decimal, 10, 2);
        }"#,
    );
    let ty = |n: &str| t.column(n).unwrap().ty.clone();
    assert_eq!(ty("tags"), ColumnType::array(ColumnType::Text));
    assert_eq!(ty("scores"), ColumnType::array(ColumnType::BigInteger));
    assert!(t.column("scores").unwrap().nullable);
    assert_eq!(
        ty("names"),
        ColumnType::array(ColumnType::String { length: 40 })
    );
    assert_eq!(
        ty("prices"),
        ColumnType::array(ColumnType::Decimal {
            precision: 10,
            scale: 2
        })
    );
    assert!(
        error("create a { id(); array(x, json); }").starts_with(
            "`json` cannot be an array element: an array holds small_integer, integer,"
        )
    );
    assert!(
        error("create a { id(); array(x, array); }")
            .starts_with("`array` cannot be an array element")
    );
    assert!(
        error("create a { id(); array(x, unsigned_big_integer); }")
            .contains("cannot be an array element")
    );
    assert_eq!(
        error("create a { id(); array(x, strng); }"),
        "unknown array element type `strng`: did you mean `string`?"
    );
    assert!(
        error("create a { id(); array(x); }")
            .starts_with("`array` takes a column name and an element type")
    );
    assert!(
        error("create a { id(); array(x, 5); }").starts_with("expected the element type as a name")
    );
    assert!(
        error("create a { id(); array(x, decimal, 70, 2); }")
            .contains("decimal precision must be between 1 and 65")
    );
    assert!(error("create a { id(); array(x, text).index(); }").contains("cannot be indexed"));
}
