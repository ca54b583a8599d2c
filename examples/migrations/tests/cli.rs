//! End to end: the real `dal-example-migrations` binary against a temporary
//! SQLite file, a fresh PostgreSQL schema and a fresh MariaDB database: status, up, down, fresh, new,
//! generate, and the exit codes scripts rely on.

mod support;

use assert_cmd::Command;
use support::{TestDb, block_on, every_backend};

/// The binary, with no database configured from the environment.
fn bin() -> Command {
    let mut cmd = Command::cargo_bin("dal-example-migrations").expect("the binary is built");
    cmd.env_remove("DAL_DATABASE_URL");
    cmd
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(db: Option<&TestDb>, args: &[&str]) -> Out {
    let mut cmd = bin();
    if let Some(db) = db {
        cmd.env("DAL_DATABASE_URL", &db.url);
    }
    let out = cmd.args(args).output().expect("run the binary");
    Out {
        code: out.status.code().expect("exited"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const MIGRATIONS: [&str; 4] = [
    "auth/m20250101_000000_create_users",
    "auth/m20250101_000100_create_sessions",
    "billing/m20250102_000000_create_invoices",
    "billing/m20250103_000000_add_invoice_paid_at",
];

/// The state column of each status line, in order.
fn states(status: &str) -> Vec<String> {
    status
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().nth(2).unwrap_or("").to_string())
        .collect()
}

#[test]
fn status_up_down_status() {
    for db in every_backend() {
        let e = db.engine;
        let r = run(Some(&db), &["status"]);
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        assert!(
            r.stdout.starts_with(
                "MODULE   NAME                                  STATE    APPLIED AT  DURATION\n"
            ),
            "{e}: {}",
            r.stdout
        );
        assert_eq!(states(&r.stdout), ["pending"; 4], "{e}");
        assert!(
            r.stdout.ends_with("0 applied, 4 pending.\n"),
            "{e}: {}",
            r.stdout
        );

        // up to one target, then the rest; output is plain lines (not a terminal)
        let r = run(
            Some(&db),
            &[
                "migrate",
                "up",
                "--to",
                "auth/m20250101_000000_create_users",
            ],
        );
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        assert!(
            r.stdout
                .starts_with(&format!("applied     {} (", MIGRATIONS[0])),
            "{e}: {}",
            r.stdout
        );
        let r = run(Some(&db), &["up"]);
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{e}: {}", r.stdout);
        for (line, name) in lines.iter().zip(&MIGRATIONS[1..]) {
            assert!(
                line.starts_with(&format!("applied     {name} (")),
                "{e}: {line}"
            );
        }
        assert!(
            lines[3].starts_with("Applied 3 migrations in "),
            "{e}: {}",
            lines[3]
        );
        assert!(
            !r.stdout.contains('\u{1b}'),
            "{e}: no terminal codes when piped"
        );

        let r = run(Some(&db), &["status"]);
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        assert_eq!(states(&r.stdout), ["applied"; 4], "{e}");
        assert!(
            r.stdout.contains(" UTC  "),
            "{e}: applied at shown: {}",
            r.stdout
        );
        assert!(
            r.stdout.ends_with("4 applied, 0 pending.\n"),
            "{e}: {}",
            r.stdout
        );

        let r = run(Some(&db), &["up"]);
        assert_eq!(
            r.stdout, "Nothing to apply: every migration is applied.\n",
            "{e}"
        );

        // down: one by default, then two more, newest first
        let r = run(Some(&db), &["down"]);
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        assert!(
            r.stdout
                .starts_with(&format!("rolled back {} (", MIGRATIONS[3])),
            "{e}: {}",
            r.stdout
        );
        let r = run(Some(&db), &["migrate", "down", "2"]);
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        let lines: Vec<&str> = r.stdout.lines().collect();
        assert!(
            lines[0].starts_with(&format!("rolled back {}", MIGRATIONS[2])),
            "{e}: {}",
            r.stdout
        );
        assert!(
            lines[1].starts_with(&format!("rolled back {}", MIGRATIONS[1])),
            "{e}: {}",
            r.stdout
        );
        let r = run(Some(&db), &["status"]);
        assert_eq!(
            states(&r.stdout),
            ["applied", "pending", "pending", "pending"],
            "{e}"
        );
        let tables = block_on(async {
            let d = db.connect().await;
            let t = d.table_names().await.unwrap();
            d.close();
            t
        });
        assert_eq!(tables, ["dal_migrations", "users"], "{e}");
    }
}

#[test]
fn fresh_is_refused_then_forced() {
    for db in every_backend() {
        let e = db.engine;
        assert_eq!(run(Some(&db), &["up"]).code, 0, "{e}");
        block_on(async {
            let d = db.connect().await;
            d.execute(
                "INSERT INTO [users] ([email]) VALUES (?)",
                ("a@example.com",),
            )
            .await
            .unwrap();
            d.execute_script("CREATE TABLE scratch (x INTEGER)")
                .await
                .unwrap();
            d.close();
        });

        let r = run(Some(&db), &["fresh"]);
        assert_eq!(r.code, 5, "{e}: {}", r.stderr);
        assert!(
            r.stderr.contains("refused without --force"),
            "{e}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty());

        let r = run(Some(&db), &["migrate", "fresh", "--force"]);
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        assert!(
            r.stdout
                .ends_with("Dropped every table and applied 4 migrations.\n"),
            "{e}: {}",
            r.stdout
        );
        let (tables, users) = block_on(async {
            let d = db.connect().await;
            let t = d.table_names().await.unwrap();
            let n: i64 = d
                .fetch_scalar("SELECT COUNT(*) FROM [users]", ())
                .await
                .unwrap();
            d.close();
            (t, n)
        });
        assert_eq!(
            tables,
            ["dal_migrations", "invoices", "sessions", "users"],
            "{e}"
        );
        assert_eq!(users, 0, "{e}: the data is gone");
    }
}

#[test]
fn exit_codes() {
    // 2: usage
    let r = run(None, &["sideways"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(None, &["new", "Not A Name"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let r = run(None, &["--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("Exit codes:"), "{}", r.stdout);

    // 4: no URL, a bad URL, a server that does not answer (password never shown)
    let r = run(None, &["status"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(r.stderr.contains("DAL_DATABASE_URL"), "{}", r.stderr);
    let r = run(None, &["up", "--database-url", "oracle://x/y"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let r = run(
        None,
        &[
            "status",
            "--database-url",
            "postgres://app:s3cret@127.0.0.1:1/shop",
        ],
    );
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert!(
        r.stderr.contains("postgres://app:***@127.0.0.1:1/shop"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("s3cret") && !r.stdout.contains("s3cret"));

    for db in every_backend() {
        let e = db.engine;
        // --database-url wins over the environment
        let mut cmd = bin();
        let out = cmd
            .env("DAL_DATABASE_URL", "postgres://nobody:pw@127.0.0.1:1/none")
            .args(["status", "--database-url", &db.url])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{e}");

        assert_eq!(run(Some(&db), &["up"]).code, 0, "{e}");

        // 3: drift (an applied migration's checksum no longer matches)
        block_on(async {
            let d = db.connect().await;
            d.execute(
                "UPDATE [dal_migrations] SET [checksum] = ? WHERE [name] = ?",
                ("0000", "m20250101_000100_create_sessions"),
            )
            .await
            .unwrap();
            d.close();
        });
        let r = run(Some(&db), &["status"]);
        assert_eq!(r.code, 3, "{e}: {}", r.stdout);
        let line = r
            .stdout
            .lines()
            .find(|l| l.contains("create_sessions"))
            .unwrap();
        assert!(line.contains(" DRIFTED "), "{e}: {}", r.stdout);
        let r = run(Some(&db), &["up"]);
        assert_eq!(r.code, 3, "{e}: {}", r.stderr);
        assert!(
            r.stderr.contains("changed after it was applied"),
            "{e}: {}",
            r.stderr
        );
        let r = run(
            Some(&db),
            &["generate", "anything", "--dir", db.dir.to_str().unwrap()],
        );
        assert_eq!(r.code, 3, "{e}: {}", r.stderr);

        // put it right: forget it, drop its table, apply it again
        block_on(async {
            let d = db.connect().await;
            d.execute(
                "DELETE FROM [dal_migrations] WHERE [name] = ?",
                ("m20250101_000100_create_sessions",),
            )
            .await
            .unwrap();
            d.execute_script("DROP TABLE sessions").await.unwrap();
            d.close();
        });
        assert_eq!(run(Some(&db), &["status"]).code, 0, "{e}");
        assert_eq!(run(Some(&db), &["up"]).code, 0, "{e}");

        // 3 again: an applied migration no longer in the code ...
        block_on(async {
            let d = db.connect().await;
            d.execute(
                "INSERT INTO [dal_migrations] ([module], [name], [order_index], [applied_at], [checksum], [duration_ms], [applied_seq]) \
                 SELECT 'legacy', 'm20240101_000000_gone', 0, MAX([applied_at]), 'x', 1, MAX([applied_seq]) + 1 FROM [dal_migrations]",
                (),
            )
            .await
            .unwrap();
            d.close();
        });
        let r = run(Some(&db), &["status"]);
        assert_eq!(r.code, 3, "{e}: {}", r.stdout);
        assert!(
            r.stdout.contains("legacy   m20240101_000000_gone"),
            "{e}: {}",
            r.stdout
        );
        assert!(r.stdout.contains("MISSING"), "{e}: {}", r.stdout);

        // ... 5: and rolling it back is refused, nothing rolled back
        let r = run(Some(&db), &["down"]);
        assert_eq!(r.code, 5, "{e}: {}", r.stderr);
        assert!(
            r.stderr.contains("no longer registered"),
            "{e}: {}",
            r.stderr
        );

        // 1: a migration that fails (its table is in the way)
        block_on(async {
            let d = db.connect().await;
            d.execute(
                "DELETE FROM [dal_migrations] WHERE [module] = 'legacy' OR [name] = ?",
                ("m20250103_000000_add_invoice_paid_at",),
            )
            .await
            .unwrap();
            d.close();
        });
        let r = run(Some(&db), &["up"]);
        assert_eq!(r.code, 1, "{e}: {} {}", r.stdout, r.stderr);
        assert!(
            r.stderr
                .contains("m20250103_000000_add_invoice_paid_at failed"),
            "{e}: {}",
            r.stderr
        );
    }
}

#[test]
fn new_and_generate_write_migration_files() {
    for db in every_backend() {
        let e = db.engine;
        let dir = db.dir.join("migrations");
        let dir_arg = dir.to_str().unwrap();

        let r = run(None, &["new", "create_teams", "--dir", dir_arg]);
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        let files = |suffix: &str| -> Vec<std::path::PathBuf> {
            let mut v: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|f| f.unwrap().path())
                .filter(|p| p.to_str().unwrap().ends_with(suffix))
                .collect();
            v.sort();
            v
        };
        let new = files("_create_teams.rs");
        assert_eq!(new.len(), 1, "{e}");
        let text = std::fs::read_to_string(&new[0]).unwrap();
        assert!(
            text.contains("pub fn migration() -> dal::migrate::Migration {"),
            "{text}"
        );
        assert!(
            r.stdout.contains("Register it: `pub mod m"),
            "{e}: {}",
            r.stdout
        );

        // generate refuses while migrations are pending
        let r = run(
            Some(&db),
            &["generate", "add_display_name", "--dir", dir_arg],
        );
        assert_eq!(r.code, 5, "{e}: {}", r.stderr);
        assert!(
            r.stderr.contains("4 migrations are pending"),
            "{e}: {}",
            r.stderr
        );

        assert_eq!(run(Some(&db), &["up"]).code, 0, "{e}");
        let r = run(
            Some(&db),
            &["migrate", "generate", "add_display_name", "--dir", dir_arg],
        );
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        assert!(r.stdout.contains("(1 change)."), "{e}: {}", r.stdout);
        assert!(!r.stdout.contains("Left out"), "{e}: {}", r.stdout);
        let generated = files("_add_display_name.rs");
        assert_eq!(generated.len(), 1, "{e}");
        let text = std::fs::read_to_string(&generated[0]).unwrap();
        assert!(
            text.contains("alter users {\n                add string(display_name, 80).nullable();\n            }"),
            "{e}: {text}"
        );
        assert!(text.contains(".down(dal::schema! {\n        alter users {\n            drop_column(display_name);"), "{e}: {text}");

        // a table the entities do not know: listed, left out unless --destructive
        block_on(async {
            let d = db.connect().await;
            d.execute_script("CREATE TABLE legacy_audit (id INTEGER PRIMARY KEY)")
                .await
                .unwrap();
            d.close();
        });
        let r = run(Some(&db), &["generate", "again", "--dir", dir_arg]);
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        assert!(
            r.stdout.contains("Left out because they can lose data (run with --destructive to include them):\n  - drop table legacy_audit\n"),
            "{e}: {}",
            r.stdout
        );
        let r = run(
            Some(&db),
            &["generate", "cleanup", "--destructive", "--dir", dir_arg],
        );
        assert_eq!(r.code, 0, "{e}: {}", r.stderr);
        assert!(r.stdout.contains("(2 changes)."), "{e}: {}", r.stdout);
        let text = std::fs::read_to_string(&files("_cleanup.rs")[0]).unwrap();
        assert!(text.contains("drop legacy_audit;"), "{e}: {text}");
    }
}
