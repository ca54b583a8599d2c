//! Autogenerate acceptance: a migration generated from entity blueprints
//! against a real database compiles, applies (up, down, up again) and leaves
//! nothing more to generate.
//!
//! For each backend (SQLite, and PostgreSQL and MariaDB when they answer) the database gets
//! the example's migrations plus an old `books` table the entities have moved
//! on from. `dal::autogen::generate` then writes a migration that creates the
//! new entity tables (one with a history table and triggers), adds a column,
//! widens a column, makes one NOT NULL, adds a unique column, an index and a
//! foreign key (a typed table rebuild on SQLite, raw SQL on PostgreSQL). The
//! test writes a trybuild pass case holding the generated file and a `main`
//! that applies it with a `Migrator`; trybuild compiles and runs it; the test
//! then checks that a second `generate` finds nothing and that history works.

mod support;

use chrono::NaiveDate;
use dal::autogen::{self, Blueprints, GenerateOptions};
use dal::{Db, Entity, Table};
use support::{TestDb, block_on, every_backend};

/// An entity with a history (table, history table, triggers) and many column types.
#[derive(Entity, Debug, Clone)]
#[dal(table = "authors", history, soft_delete, timestamps)]
struct Author {
    #[dal(id)]
    id: i64,
    #[dal(length = 100, unique)]
    name: String,
    born: Option<NaiveDate>,
    #[dal(default = 0.5)]
    rating: f64,
    #[dal(default = true)]
    active: bool,
    reference: uuid::Uuid,
    #[dal(json)]
    tags: serde_json::Value,
    bio: Option<String>,
    photo: Option<Vec<u8>>,
    #[dal(default = 0)]
    visits: i32,
}

/// An entity whose table exists in an older shape.
#[derive(Entity, Debug, Clone)]
#[dal(table = "books")]
struct Book {
    #[dal(id)]
    id: i64,
    #[dal(references = "authors.id", on_delete = "cascade")]
    author_id: i64,
    #[dal(length = 200, index)]
    title: String,
    pages: i32,
    #[dal(length = 20, unique)]
    isbn: Option<String>,
}

fn blueprints() -> Blueprints {
    dal_example_migrations::blueprints()
        .entity::<Author>()
        .entity::<Book>()
}

/// The `books` table as an earlier version of the application made it.
fn old_books() -> Table {
    Table::build("books", |t| {
        t.id();
        t.big_integer("author_id");
        t.string("title", 100);
        t.integer("pages").nullable();
    })
}

async fn prepare(db: &TestDb) -> String {
    let d = db.connect().await;
    dal_example_migrations::migrator()
        .up(&d)
        .await
        .expect("example migrations");
    d.create_table(&old_books()).await.unwrap();
    let g = autogen::generate(
        &d,
        blueprints(),
        "m20250201_000000_catch_up",
        GenerateOptions::default(),
    )
    .await
    .expect("generate");
    d.close();
    assert!(g.changes >= 4, "{}: {}", db.engine, g.source);
    assert!(
        g.skipped_destructive.is_empty(),
        "{}: {:?}",
        db.engine,
        g.skipped_destructive
    );
    // history is schema!'s construct (the same file on every database), no
    // raw per-dialect trigger SQL
    for expected in [
        "create authors {",
        "history();",
        "add string(display_name, 80).nullable();",
    ] {
        assert!(
            g.source.contains(expected),
            "{}: `{expected}` in\n{}",
            db.engine,
            g.source
        );
    }
    assert!(!g.source.contains("CREATE TRIGGER"), "{}", g.source);
    if db.engine == "sqlite" {
        assert!(g.source.contains("dal::autogen::rebuild("), "{}", g.source);
    }
    g.source
}

/// A trybuild pass case: the generated file, and a `main` applying it to the
/// database whose URL is in the file `url_file` (read at run time, so that
/// the case only recompiles when the generated code changes).
fn pass_case(generated: &str, url_file: &std::path::Path) -> String {
    format!(
        r#"{generated}
fn main() {{
    let url = std::fs::read_to_string({url_file:?}).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {{
        let db = dal::Db::connect_url(&url).await.unwrap();
        let migrator = dal_example_migrations::migrator()
            .module(dal::migrate::Module::new("generated").migration(migration()));
        let up = migrator.up(&db).await.unwrap();
        assert_eq!(up.applied.len(), 1);
        let down = migrator.rollback(&db, 1).await.unwrap();
        assert_eq!(down.rolled_back.len(), 1);
        assert!(!db.table_exists("authors").await.unwrap());
        migrator.up(&db).await.unwrap();
        db.close();
    }});
}}
"#
    )
}

async fn check_after(db: &TestDb) {
    let e = db.engine;
    let d: Db = db.connect().await;
    let options = GenerateOptions::default();
    let again = autogen::generate(&d, blueprints(), "m_again", options)
        .await
        .unwrap();
    assert_eq!(
        again.changes, 0,
        "{e}: still to do after applying:\n{}",
        again.source
    );
    assert!(
        again.skipped_destructive.is_empty(),
        "{e}: {:?}",
        again.skipped_destructive
    );

    // the generated triggers record history
    let mut a = Author {
        id: 0,
        name: "Ursula".into(),
        born: NaiveDate::from_ymd_opt(1929, 10, 21),
        rating: 4.5,
        active: true,
        reference: uuid::Uuid::new_v4(),
        tags: serde_json::json!(["sf"]),
        bio: None,
        photo: None,
        visits: 0,
    };
    a.save(&d).await.unwrap();
    a.visits = 3;
    a.save(&d).await.unwrap();
    assert_eq!(Author::history(&d, a.id).await.unwrap().len(), 2, "{e}");
    let mut b = Book {
        id: 0,
        author_id: a.id,
        title: "The Dispossessed".into(),
        pages: 387,
        isbn: Some("978-0060512750".into()),
    };
    b.save(&d).await.unwrap();
    // the new foreign key cascades
    a.delete_permanently(&d).await.unwrap();
    assert!(Book::get(&d, b.id).await.unwrap().is_none(), "{e}");
    d.close();
}

#[test]
fn generated_migration_compiles_applies_and_leaves_nothing_to_do() {
    let dbs = every_backend();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("autogen-acceptance");
    std::fs::create_dir_all(&dir).unwrap();
    let cases = trybuild::TestCases::new();
    for db in &dbs {
        let generated = block_on(prepare(db));
        let case = dir.join(format!("generated_{}.rs", db.engine));
        let url_file = dir.join(format!("generated_{}.url", db.engine));
        std::fs::write(&url_file, &db.url).unwrap();
        std::fs::write(&case, pass_case(&generated, &url_file)).unwrap();
        cases.pass(&case);
    }
    // compiles and runs every case; panics when one fails
    drop(cases);
    for db in &dbs {
        block_on(check_after(db));
    }
}
