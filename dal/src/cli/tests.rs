//! The command line against SQLite files, output captured.

use std::sync::{Arc, Mutex};

use chrono::TimeZone;
use dal_schema::Table;
use dal_schema::ddl::DdlStatement;
use dal_schema::script::Script;

use super::*;
use crate::migrate::{Migration, Module};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buf {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

struct Run {
    exit: Exit,
    out: String,
    err: String,
}

fn run(cli: Cli, args: &[&str]) -> Run {
    let (out, err) = (Buf::default(), Buf::default());
    let console = Console {
        out: Arc::new(Mutex::new(out.clone())),
        err: Arc::new(Mutex::new(err.clone())),
        terminal: false,
    };
    let mut all = vec!["migration"];
    all.extend_from_slice(args);
    let exit = cli.execute(all, &console);
    Run {
        exit,
        out: out.text(),
        err: err.text(),
    }
}

/// A temporary directory holding a SQLite file (removed on drop).
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!(
            "dal_cli_{}_{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    fn url(&self) -> String {
        format!("sqlite://{}", self.0.join("app.db").display())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn create(name: &str) -> Script {
    let mut s = Script::new();
    s.create_table(Table::build(name, |t| {
        t.id();
        t.string("label", 50);
    }));
    s
}

fn drop(name: &str) -> Script {
    Script::from(vec![DdlStatement::DropTable {
        name: name.into(),
        if_exists: false,
    }])
}

fn migrator() -> Migrator {
    Migrator::new()
        .module(
            Module::new("auth")
                .migration(Migration::new("m1_users", create("users")).down(drop("users")))
                .migration(Migration::new("m2_roles", create("roles")).down(drop("roles"))),
        )
        .module(
            Module::new("billing")
                // irreversible: no down
                .migration(Migration::new("m1_invoices", create("invoices"))),
        )
}

#[test]
fn usage_errors_exit_2() {
    let r = run(Cli::new(migrator()), &["sideways"]);
    assert_eq!(r.exit, Exit::Usage);
    assert!(r.err.contains("unrecognized subcommand"), "{}", r.err);
    let r = run(Cli::new(migrator()), &["new", "Bad-Name"]);
    assert_eq!(r.exit, Exit::Usage);
    assert!(
        r.err.contains("is not a lower_snake_case name"),
        "{}",
        r.err
    );
    let r = run(Cli::new(migrator()), &["down", "many"]);
    assert_eq!(r.exit, Exit::Usage);
    let r = run(Cli::new(migrator()), &["--help"]);
    assert_eq!(r.exit, Exit::Success);
    assert!(r.out.contains("Exit codes:"), "{}", r.out);
    assert!(r.out.contains("generate"), "{}", r.out);
}

#[test]
fn fresh_is_refused_without_force_before_connecting() {
    let r = run(
        Cli::new(migrator()),
        &[
            "--database-url",
            "postgres://u:pw@127.0.0.1:1/none",
            "fresh",
        ],
    );
    assert_eq!(r.exit, Exit::Refused);
    assert!(r.err.contains("refused without --force"), "{}", r.err);
}

#[test]
fn cannot_connect_exits_4_without_the_password() {
    let r = run(
        Cli::new(migrator()),
        &[
            "status",
            "--database-url",
            "postgres://app:s3cret@127.0.0.1:1/shop",
        ],
    );
    assert_eq!(r.exit, Exit::Config);
    assert!(
        r.err
            .contains("cannot connect to postgres://app:***@127.0.0.1:1/shop"),
        "{}",
        r.err
    );
    assert!(!r.err.contains("s3cret") && !r.out.contains("s3cret"));
    let r = run(
        Cli::new(migrator()),
        &["status", "--database-url", "nosuch://x"],
    );
    assert_eq!(r.exit, Exit::Config);
    assert!(
        r.err.starts_with("error: invalid database configuration"),
        "{}",
        r.err
    );
}

#[test]
fn up_status_down_and_refusals() {
    let s = Scratch::new();
    let url = s.url();
    let cli = || Cli::new(migrator());

    let r = run(cli(), &["status", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    assert!(r.out.starts_with("MODULE   NAME         STATE    APPLIED AT  DURATION\nauth     m1_users     pending  -           -\n"), "{}", r.out);
    assert!(r.out.ends_with("0 applied, 3 pending.\n"), "{}", r.out);

    let r = run(
        cli(),
        &["migrate", "up", "--to", "nowhere", "--database-url", &url],
    );
    assert_eq!(r.exit, Exit::Usage, "{}", r.err);

    let r = run(
        cli(),
        &[
            "migrate",
            "up",
            "--to",
            "auth/m1_users",
            "--database-url",
            &url,
        ],
    );
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    assert!(
        r.out.starts_with("applied     auth/m1_users ("),
        "{}",
        r.out
    );
    assert!(r.out.contains("Applied 1 migration in"), "{}", r.out);

    let r = run(cli(), &["up", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    let lines: Vec<&str> = r.out.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.out);
    assert!(lines[0].starts_with("applied     auth/m2_roles"));
    assert!(lines[1].starts_with("applied     billing/m1_invoices"));
    assert!(lines[2].starts_with("Applied 2 migrations in"));

    let r = run(cli(), &["up", "--database-url", &url]);
    assert_eq!(r.out, "Nothing to apply: every migration is applied.\n");

    let r = run(cli(), &["status", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Success);
    assert!(
        r.out.contains("billing  m1_invoices  applied  20"),
        "{}",
        r.out
    );
    assert!(r.out.ends_with("3 applied, 0 pending.\n"), "{}", r.out);

    // the newest is irreversible: refused, nothing rolled back
    let r = run(cli(), &["down", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Refused, "{}", r.err);
    assert!(r.err.contains("irreversible"), "{}", r.err);

    // a registry without billing: its migration is missing -> drift
    let auth_only = Migrator::new().module(
        Module::new("auth")
            .migration(Migration::new("m1_users", create("users")).down(drop("users")))
            .migration(Migration::new("m2_roles", create("roles")).down(drop("roles"))),
    );
    let r = run(Cli::new(auth_only), &["status", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Drift, "{}", r.out);
    assert!(r.out.contains("billing  m1_invoices  MISSING"), "{}", r.out);

    // a changed migration: drift, nothing applied
    let changed = Migrator::new().module(
        Module::new("auth")
            .migration(Migration::new("m1_users", create("people")).down(drop("people"))),
    );
    let r = run(Cli::new(changed.clone()), &["up", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Drift, "{}", r.err);
    assert!(r.err.contains("changed after it was applied"), "{}", r.err);
    let r = run(Cli::new(changed), &["status", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Drift);
    assert!(r.out.contains("DRIFTED"), "{}", r.out);

    // fresh: everything dropped and applied again
    let r = run(cli(), &["fresh", "--force", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    assert!(
        r.out
            .ends_with("Dropped every table and applied 3 migrations.\n"),
        "{}",
        r.out
    );
}

#[test]
fn down_rolls_back_newest_first() {
    let s = Scratch::new();
    let url = s.url();
    let reversible = || {
        Migrator::new().module(
            Module::new("auth")
                .migration(Migration::new("m1_users", create("users")).down(drop("users")))
                .migration(Migration::new("m2_roles", create("roles")).down(drop("roles"))),
        )
    };
    assert_eq!(
        run(Cli::new(reversible()), &["up", "--database-url", &url]).exit,
        Exit::Success
    );
    let r = run(
        Cli::new(reversible()),
        &["down", "2", "--database-url", &url],
    );
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    let lines: Vec<&str> = r.out.lines().collect();
    assert!(
        lines[0].starts_with("rolled back auth/m2_roles ("),
        "{}",
        r.out
    );
    assert!(
        lines[1].starts_with("rolled back auth/m1_users ("),
        "{}",
        r.out
    );
    assert!(
        lines[2].starts_with("Rolled back 2 migrations in"),
        "{}",
        r.out
    );
    let r = run(Cli::new(reversible()), &["down", "--database-url", &url]);
    assert_eq!(r.out, "Nothing to roll back.\n");
}

#[test]
fn new_writes_a_skeleton() {
    let s = Scratch::new();
    let dir = s.0.join("migrations");
    let r = run(
        Cli::new(migrator()).migrations_dir(&dir),
        &["new", "create_teams"],
    );
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let file = files[0].file_name().unwrap().to_str().unwrap().to_string();
    assert!(
        file.starts_with('m') && file.ends_with("_create_teams.rs"),
        "{file}"
    );
    assert_eq!(file.len(), "m20250101_120000_create_teams.rs".len());
    let stem = file.trim_end_matches(".rs");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(text, skeleton(stem));
    assert!(text.contains(&format!(
        "dal::migrate::Migration::new(\n        \"{stem}\","
    )));
    assert!(r.out.contains(&format!("`pub mod {stem};`")), "{}", r.out);

    // --dir wins over the builder's directory
    let other = s.0.join("other");
    let r = run(
        Cli::new(migrator()).migrations_dir(&dir),
        &["migrate", "new", "x", "--dir", other.to_str().unwrap()],
    );
    assert_eq!(r.exit, Exit::Success);
    assert_eq!(std::fs::read_dir(&other).unwrap().count(), 1);

    // a directory that cannot be created
    let blocked = s.0.join("file");
    std::fs::write(&blocked, "").unwrap();
    let r = run(Cli::new(migrator()).migrations_dir(&blocked), &["new", "y"]);
    assert_eq!(r.exit, Exit::Config);
    assert!(r.err.starts_with("error: cannot create"), "{}", r.err);
}

#[test]
fn generate_writes_the_difference() {
    let s = Scratch::new();
    let url = s.url();
    let dir = s.0.join("migrations");
    let entities = vec![
        Table::build("users", |t| {
            t.id();
            t.string("label", 50);
            t.string("nick", 40).nullable();
        }),
        Table::build("teams", |t| {
            t.id();
        }),
    ];
    let cli = || {
        Cli::new(migrator())
            .entities(entities.clone())
            .migrations_dir(&dir)
    };

    // no entities: a configuration error
    let r = run(
        Cli::new(migrator()),
        &["generate", "x", "--database-url", &url],
    );
    assert_eq!(r.exit, Exit::Config);

    // pending migrations first
    let r = run(cli(), &["generate", "sync", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Refused, "{}", r.err);
    assert!(
        r.err.contains(
            "3 migrations are pending (auth/m1_users, auth/m2_roles, billing/m1_invoices)"
        ),
        "{}",
        r.err
    );

    assert_eq!(
        run(cli(), &["up", "--database-url", &url]).exit,
        Exit::Success
    );
    let r = run(cli(), &["generate", "sync", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    assert!(r.out.contains("(2 changes)."), "{}", r.out);
    assert!(
        r.out.contains("Left out because they can lose data (run with --destructive to include them):\n  - drop table roles\n  - drop table invoices\n"),
        "{}",
        r.out
    );
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("add string(nick, 40).nullable();"), "{text}");
    assert!(text.contains("create teams {"), "{text}");
    assert!(!text.contains("dal_migrations"), "{text}");

    // with --destructive the drops are in, nothing left out
    let r = run(
        cli(),
        &[
            "generate",
            "sync_all",
            "--destructive",
            "--database-url",
            &url,
        ],
    );
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    assert!(r.out.contains("(4 changes)."), "{}", r.out);
    assert!(!r.out.contains("Left out"), "{}", r.out);
}

#[test]
fn generate_with_nothing_to_do_writes_nothing() {
    let s = Scratch::new();
    let url = s.url();
    let dir = s.0.join("migrations");
    let entities = vec![
        Table::build("users", |t| {
            t.id();
            t.string("label", 50);
        }),
        Table::build("roles", |t| {
            t.id();
            t.string("label", 50);
        }),
        Table::build("invoices", |t| {
            t.id();
            t.string("label", 50);
        }),
    ];
    let cli = || {
        Cli::new(migrator())
            .entities(entities.clone())
            .migrations_dir(&dir)
    };
    assert_eq!(
        run(cli(), &["up", "--database-url", &url]).exit,
        Exit::Success
    );
    let r = run(cli(), &["generate", "noop", "--database-url", &url]);
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    assert_eq!(
        r.out,
        "The database matches the entities: nothing to generate, no file written.\n"
    );
    assert!(!dir.exists());
}

#[test]
fn status_table_is_aligned() {
    let at = chrono::Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap();
    let row = |module: &str, name: &str, state, applied: bool| MigrationStatus {
        module: module.into(),
        name: name.into(),
        order: 0,
        state,
        applied_at: applied.then_some(at),
        checksum: None,
        duration: applied.then_some(Duration::from_millis(12)),
    };
    let table = status_table(&[
        row("auth", "m20250101_000000_users", State::Applied, true),
        row("billing", "m1", State::Pending, false),
        row("billing", "m0_old", State::Missing, true),
    ]);
    assert_eq!(
        table,
        "MODULE   NAME                    STATE    APPLIED AT               DURATION\n\
         auth     m20250101_000000_users  applied  2025-03-04 05:06:07 UTC  12 ms\n\
         billing  m1                      pending  -                        -\n\
         billing  m0_old                  MISSING  2025-03-04 05:06:07 UTC  12 ms"
    );
}

#[test]
fn names_and_durations() {
    assert!(migration_name("create_users_2").is_ok());
    assert!(migration_name("2fa").is_err());
    assert!(migration_name("").is_err());
    assert!(migration_name("CamelCase").is_err());
    assert!(migration_name(&"a".repeat(101)).is_err());
    assert_eq!(millis(Duration::from_millis(1234)), "1234 ms");
    assert_eq!(millis(Duration::from_secs(12)), "12.0 s");
    assert_eq!(plural(1, "change"), "1 change");
    assert_eq!(plural(0, "change"), "0 changes");
    let s = stem("x");
    assert!(
        s.starts_with("m20") && s.ends_with("_x") && s.len() == "m20250101_120000_x".len(),
        "{s}"
    );
}

#[test]
fn shards_run_each_command_on_every_shard() {
    let (a, b) = (Scratch::new(), Scratch::new());
    let (ua, ub) = (format!("a={}", a.url()), format!("b={}", b.url()));
    let cli = || Cli::new(migrator());

    // b is ahead of a: status shows each shard's own state
    let r = run(
        cli(),
        &["up", "--to", "auth/m1_users", "--database-url", &b.url()],
    );
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    let r = run(cli(), &["status", "--shard", &ua, "--shard", &ub]);
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    let (first, second) = r
        .out
        .split_once("== shard b\n")
        .expect("a heading per shard");
    assert!(first.starts_with("== shard a\n"), "{}", r.out);
    assert!(first.ends_with("0 applied, 3 pending.\n"), "{}", r.out);
    assert!(second.ends_with("1 applied, 2 pending.\n"), "{}", r.out);

    let r = run(cli(), &["migrate", "up", "--shard", &ua, "--shard", &ub]);
    assert_eq!(r.exit, Exit::Success, "{}", r.err);
    assert!(r.out.contains("Applied 3 migrations"), "{}", r.out);
    assert!(r.out.contains("Applied 2 migrations"), "{}", r.out);
    let r = run(cli(), &["status", "--shard", &ua, "--shard", &ub]);
    assert_eq!(
        r.out.matches("3 applied, 0 pending.").count(),
        2,
        "{}",
        r.out
    );

    // a shard that cannot be reached fails the run; the others still had their turn
    let r = run(
        cli(),
        &[
            "status",
            "--shard",
            "x=postgres://u:secret@127.0.0.1:1/none",
            "--shard",
            &ua,
        ],
    );
    assert_eq!(r.exit, Exit::Config, "{}", r.err);
    assert!(r.out.contains("== shard a"), "{}", r.out);
    assert!(!r.err.contains("secret"), "{}", r.err);
    // files are written against one database
    let r = run(cli(), &["new", "x_y", "--shard", &ua]);
    assert_eq!(r.exit, Exit::Usage, "{}", r.err);
    let r = run(cli(), &["status", "--shard", "no-url"]);
    assert_eq!(r.exit, Exit::Usage, "{}", r.err);
}
