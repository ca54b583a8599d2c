//! `dal generate entities` on SQLite, PostgreSQL and MariaDB: a schema with
//! every supported column type (and a foreign key, unique and plain indexes,
//! defaults, an enumeration, JSON, a history table, a table without a
//! single-column key) is generated; the generated modules are compiled by
//! trybuild together with a program that saves a row per entity and reads it
//! back, which trybuild runs. The `dal` binary runs once per backend too.
//!
//! On MariaDB the schema also holds a Laravel-style table (`BIGINT UNSIGNED`
//! key, `INT UNSIGNED` column, `utf8mb4_unicode_ci`) made by raw SQL, which a
//! dal entity references with a `u64` belongs-to.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use dal::{ColumnType, Dialect, Entity, ReferentialAction, Table};
use dal_cli::generate::{GenerateOptions, generate_entities};
use support::TestDb;

/// A note with history: its table carries dal's audit columns.
#[derive(Entity, Debug, Clone)]
#[dal(table = "notes", history)]
struct NoteSeed {
    #[dal(id)]
    id: i64,
    body: String,
}

/// The Laravel table as dal sees it (MariaDB only).
#[derive(Entity, Debug, Clone)]
#[dal(table = "legacy_users", collation = "utf8mb4_unicode_ci")]
struct LegacyUser {
    #[dal(id)]
    id: u64,
    #[dal(length = 191, unique)]
    email: String,
    votes: u32,
}

/// A dal table referencing the Laravel one through its `BIGINT UNSIGNED` key.
#[derive(Entity, Debug, Clone)]
#[dal(table = "legacy_posts")]
struct LegacyPost {
    #[dal(id)]
    id: u64,
    #[dal(belongs_to = LegacyUser, on_delete = "cascade")]
    user_id: u64,
    #[dal(length = 100)]
    title: String,
}

fn authors(dialect: Dialect) -> Table {
    Table::build("authors", |t| {
        t.id();
        t.string("email", 120).unique();
        t.string("name", 80).default("anon");
        t.string("type", 20).nullable();
        t.string("displayName", 40).nullable();
        t.small_integer("rank").index();
        t.integer("pages").default(0);
        t.big_integer("views");
        t.unsigned_integer("visits").default(7);
        t.unsigned_big_integer("big_visits");
        t.boolean("active").default(true);
        t.float("ratio");
        t.double("score");
        t.decimal("balance", 12, 2);
        t.text("bio").nullable();
        t.date("born");
        t.time("wakes");
        t.timestamp("joined");
        t.timestamp_tz("seen").nullable();
        t.uuid("token");
        t.json("profile").nullable();
        t.binary("avatar").nullable();
        t.enumeration("status", ["draft", "published", "in-review"])
            .default("draft");
        if dialect == Dialect::Postgres {
            t.array("tags", ColumnType::Text);
            t.array("scores", ColumnType::Integer).nullable();
        }
    })
}

fn tables(dialect: Dialect) -> Vec<Table> {
    vec![
        authors(dialect),
        Table::build("books", |t| {
            t.id();
            t.foreign_id("author_id")
                .references("authors")
                .on_delete(ReferentialAction::Cascade);
            t.foreign_id("editor_id")
                .nullable()
                .references("authors")
                .on_delete(ReferentialAction::SetNull);
            t.string("title", 200);
            t.index(["title", "author_id"]);
        }),
        Table::build("profiles", |t| {
            t.id();
            t.foreign_id("author_id").unique().references("authors");
            t.string("motto", 50);
        }),
        Table::build("pairs", |t| {
            t.big_integer("a");
            t.big_integer("b");
            t.primary(["a", "b"]);
        }),
    ]
}

async fn create_schema(db: &dal::Db) {
    let dialect = db.dialect();
    for t in tables(dialect) {
        db.create_table(&t).await.expect("create table");
    }
    NoteSeed::ensure_schema(db).await.expect("notes");
    if dialect == Dialect::MySql {
        // made by another framework: Laravel's `id()` and `unsignedInteger()`
        db.execute_script(
            "CREATE TABLE legacy_users (\
               id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, \
               email VARCHAR(191) NOT NULL, \
               votes INT UNSIGNED NOT NULL, \
               UNIQUE KEY legacy_users_email_unique (email)\
             ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
        )
        .await
        .expect("legacy_users");
        // the blueprint matches the Laravel table: nothing to change
        let report = LegacyUser::ensure_schema(db).await.expect("legacy users");
        assert!(report.is_unchanged(), "{report:?}");
        assert!(report.destructive.is_empty(), "{report:?}");
        // a foreign key to BIGINT UNSIGNED (errno 150 with a signed BIGINT)
        LegacyPost::ensure_schema(db).await.expect("legacy_posts");
        let mut u = LegacyUser {
            id: 0,
            email: "taylor@example.com".into(),
            votes: u32::MAX,
        };
        u.save(db).await.expect("save legacy user");
        let mut p = LegacyPost {
            id: 0,
            user_id: u.id,
            title: "hello".into(),
        };
        p.save(db).await.expect("save legacy post");
        let owner = p.user(db).await.expect("user").expect("a user");
        assert_eq!(owner.votes, u32::MAX);
        let live = db.introspect_table("legacy_users").await.unwrap().unwrap();
        assert_eq!(live.collation.as_deref(), Some("utf8mb4_unicode_ci"));
        assert_eq!(
            live.column("votes").unwrap().ty,
            ColumnType::UnsignedInteger
        );
    }
}

/// What every backend's output must say.
fn check_output(dialect: Dialect, dir: &Path) {
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).expect(f);
    let authors = read("authors.rs");
    for expected in [
        "#[dal(table = \"authors\", has_many(books = Book::AUTHOR), has_many(books_by_editor = Book::EDITOR), has_one(profile_by_author = Profile::AUTHOR))]",
        "pub struct Author {",
        "#[dal(id)]\n    pub id: i64,",
        "#[dal(length = 120, unique)]\n    pub email: String,",
        "#[dal(length = 80, default = \"anon\")]\n    pub name: String,",
        "#[dal(rename = \"type\", length = 20)]\n    pub type_: Option<String>,",
        "#[dal(rename = \"displayName\", length = 40)]\n    pub display_name: Option<String>,",
        "#[dal(index)]\n    pub rank: i16,",
        "#[dal(default = 7)]\n    pub visits: u32,",
        "pub big_visits: u64,",
        "#[dal(default = true)]\n    pub active: bool,",
        "pub ratio: f32,",
        "pub score: f64,",
        "#[dal(precision = 12, scale = 2)]\n    pub balance: rust_decimal::Decimal,",
        "pub bio: Option<String>,",
        "pub born: chrono::NaiveDate,",
        "pub token: uuid::Uuid,",
        "pub profile: Option<serde_json::Value>,",
        "pub avatar: Option<Vec<u8>>,",
        "#[dal(default = \"draft\")]\n    pub status: AuthorStatus,",
        "#[dal(rename = \"in-review\")]\n    InReview,",
    ] {
        assert!(
            authors.contains(expected),
            "{dialect}: {expected}\n{authors}"
        );
    }
    if dialect == Dialect::Postgres {
        assert!(authors.contains("pub tags: Vec<String>,"), "{authors}");
        assert!(
            authors.contains("pub scores: Option<Vec<i32>>,"),
            "{authors}"
        );
    }
    let books = read("books.rs");
    for expected in [
        "#[dal(belongs_to = Author, on_delete = \"cascade\")]\n    pub author_id: i64,",
        "#[dal(belongs_to = Author, on_delete = \"set_null\")]\n    pub editor_id: Option<i64>,",
        "/// - index `books_title_author_id_index` (title, author_id)",
    ] {
        assert!(books.contains(expected), "{dialect}: {expected}\n{books}");
    }
    let notes = read("notes.rs");
    assert!(
        notes.contains("#[dal(table = \"notes\", history)]"),
        "{notes}"
    );
    assert!(!notes.contains("dal_change_stamp"), "{notes}");
    let pairs = read("pairs.rs");
    assert!(pairs.contains("// No entity for `pairs`"), "{pairs}");
    assert!(!dir.join("notes_history.rs").exists());
    let module = read("mod.rs");
    assert!(
        module.contains("pub use authors::{Author, AuthorStatus};"),
        "{module}"
    );
    if dialect == Dialect::MySql {
        let users = read("legacy_users.rs");
        for expected in [
            "collation = \"utf8mb4_unicode_ci\"",
            "has_many(legacy_posts = LegacyPost::USER)",
            "#[dal(id)]\n    pub id: u64,",
            "pub votes: u32,",
        ] {
            assert!(users.contains(expected), "{expected}\n{users}");
        }
        let posts = read("legacy_posts.rs");
        assert!(
            posts.contains(
                "#[dal(belongs_to = LegacyUser, on_delete = \"cascade\")]\n    pub user_id: u64,"
            ),
            "{posts}"
        );
    }
}

/// The program trybuild compiles and runs against `url`: a row per entity,
/// saved and read back, relations followed.
fn program(dialect: Dialect, dir: &Path, url: &str) -> String {
    let seen = match dialect {
        Dialect::MySql => {
            "Some(chrono::NaiveDate::from_ymd_opt(2024, 5, 6).unwrap().and_hms_micro_opt(7, 8, 9, 10).unwrap())"
        }
        _ => "Some(chrono::DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap())",
    };
    let arrays = if dialect == Dialect::Postgres {
        "tags: vec![\"a\".into(), \"b\".into()], scores: Some(vec![1, 2]),"
    } else {
        ""
    };
    let legacy = if dialect == Dialect::MySql {
        r#"
    let mut u = LegacyUser { id: 0, email: "otwell@example.com".into(), votes: 3 };
    u.save(&db).await?;
    let mut p = LegacyPost { id: 0, user_id: u.id, title: "generated".into() };
    p.save(&db).await?;
    assert_eq!(u.legacy_posts().count(&db).await?, 1);
"#
    } else {
        ""
    };
    format!(
        r#"// Generated by dal-cli/tests/generate.rs: the entities generated from a
// {dialect} database, saved and read back.
#[path = {mod_rs:?}]
mod entities;
use dal::Entity;
use entities::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> dal::Result<()> {{
    let db = dal::Db::connect_url({url:?}).await?;
    let balance: rust_decimal::Decimal = "1234.50".parse().unwrap();
    let token = uuid::Uuid::new_v4();
    let joined = chrono::NaiveDate::from_ymd_opt(2024, 1, 2).unwrap().and_hms_micro_opt(3, 4, 5, 6).unwrap();
    let mut a = Author {{
        id: 0,
        email: "ada@example.com".into(),
        name: "Ada".into(),
        type_: Some("poet".into()),
        display_name: None,
        rank: -3,
        pages: 120,
        views: i64::MIN,
        visits: u32::MAX,
        big_visits: i64::MAX as u64,
        active: false,
        ratio: 0.5,
        score: 0.25,
        balance,
        bio: Some("x".repeat(70_000)),
        born: chrono::NaiveDate::from_ymd_opt(1815, 12, 10).unwrap(),
        wakes: chrono::NaiveTime::from_hms_micro_opt(6, 30, 0, 250).unwrap(),
        joined,
        seen: {seen},
        token,
        profile: Some(serde_json::json!({{"langs": ["en", "fr"], "n": 1}})),
        avatar: Some(vec![0, 1, 2, 255]),
        status: AuthorStatus::InReview,
        {arrays}
    }};
    a.save(&db).await?;
    assert!(a.id > 0);
    let mut back = Author::get(&db, a.id).await?.expect("the author");
    // the same number; SQLite keeps no trailing zeros (1234.5)
    assert_eq!(back.balance, balance);
    back.balance = balance;
    assert_eq!(format!("{{back:?}}"), format!("{{a:?}}"));

    let mut b = Book {{ id: 0, author_id: a.id, editor_id: None, title: "Notes".into() }};
    b.save(&db).await?;
    let owner = b.author(&db).await?.expect("the book's author");
    assert_eq!(owner.email, "ada@example.com");
    assert_eq!(a.books().count(&db).await?, 1);
    let mut p = Profile {{ id: 0, author_id: a.id, motto: "compute".into() }};
    p.save(&db).await?;
    let found = Book::find().filter(Book::TITLE.eq("Notes")).all(&db).await?;
    assert_eq!(found.len(), 1);
    let mut n = Note {{ id: 0, body: "v1".into() }};
    n.save(&db).await?;
    n.body = "v2".into();
    n.save(&db).await?;
    assert_eq!(Note::history(&db, n.id).await?.len(), 2);
    {legacy}
    let _ = AuthorStatus::Draft;
    let _ = AuthorStatus::Published;
    db.close();
    Ok(())
}}
"#,
        mod_rs = dir.join("mod.rs"),
    )
}

async fn backend(name: &str, t: &TestDb, root: &Path) -> PathBuf {
    create_schema(t).await;
    let dir = root.join(name);
    let options = GenerateOptions {
        out: dir.clone(),
        tables: vec![],
        force: false,
    };
    let generated = generate_entities(t, &options).await.expect("generate");
    assert!(
        generated.skipped.iter().any(|(t, _)| t == "pairs"),
        "{:?}",
        generated.skipped
    );
    check_output(t.dialect(), &dir);
    // without --force nothing is overwritten
    assert!(generate_entities(t, &options).await.is_err());

    // the binary writes the same files, and checks the connection
    let bin_dir = root.join(format!("{name}_bin"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dal"))
        .args(["generate", "entities", "--out"])
        .arg(&bin_dir)
        .env("DAL_DATABASE_URL", &t.url)
        .output()
        .expect("run dal");
    assert!(out.status.success(), "{out:?}");
    for f in &generated.files {
        let from_bin = std::fs::read_to_string(bin_dir.join(&f.name)).expect(&f.name);
        assert_eq!(from_bin, f.contents, "{}", f.name);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dal"))
        .args(["check", "--database-url", &t.url])
        .output()
        .expect("run dal check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("connection   ok"), "{stdout}");
    assert!(stdout.contains("breaker      closed"), "{stdout}");
    assert!(!stdout.contains("server       \n"), "{stdout}");
    dir
}

#[test]
fn generated_entities_compile_and_round_trip() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let root = std::env::temp_dir().join(support::unique_name());
    let cases = root.join("cases");
    std::fs::create_dir_all(&cases).unwrap();
    let mut dbs = Vec::new();
    rt.block_on(async {
        for (name, db) in [
            ("sqlite", support::sqlite().await),
            ("postgres", support::postgres().await),
            ("mariadb", support::mysql().await),
        ] {
            let Some(db) = db else { continue };
            let dir = backend(name, &db, &root).await;
            let case = cases.join(format!("generated_{name}.rs"));
            std::fs::write(&case, program(db.dialect(), &dir, &db.url)).unwrap();
            dbs.push(db);
        }
    });
    // one trybuild batch for every backend: compiles and runs each program
    let t = trybuild::TestCases::new();
    t.pass(cases.join("*.rs"));
    drop(t);
    drop(dbs);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn unreachable_database_fails_the_check() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dal"))
        .args([
            "check",
            "--database-url",
            "postgres://app:s3cret@127.0.0.1:1/nowhere",
        ])
        .output()
        .expect("run dal check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout.contains("connection   FAILED"), "{stdout}");
    assert!(!stdout.contains("s3cret"), "{stdout}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dal"))
        .arg("check")
        .env_remove("DAL_DATABASE_URL")
        .output()
        .expect("run dal check");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
