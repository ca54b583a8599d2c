//! `dal::cli`: the migration command line of an application.
//!
//! An application keeps its migrations in a library ([`Migrator`]) and gives
//! them a small binary whose `main` hands over to this module:
//!
//! ```no_run
//! use dal::migrate::{Migration, Migrator, Module};
//!
//! fn migrator() -> Migrator {
//!     Migrator::new().module(Module::new("app").migration(Migration::new(
//!         "m20250101_000000_create_notes",
//!         dal::schema! { create notes { id(); string(title, 200); } },
//!     )))
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     dal::cli::run(migrator())
//! }
//! ```
//!
//! To let it write migrations from the entities too (`generate`), register
//! their blueprints with the builder:
//!
//! ```no_run
//! # fn migrator() -> dal::migrate::Migrator { dal::migrate::Migrator::new() }
//! # #[derive(dal::Entity, Debug, Clone)]
//! # #[dal(table = "users")]
//! # struct User { #[dal(id)] id: i64, email: String }
//! use dal::autogen::Blueprints;
//!
//! fn main() -> std::process::ExitCode {
//!     dal::cli::Cli::new(migrator())
//!         .entities(Blueprints::new().entity::<User>())
//!         .migrations_dir("src/migrations")
//!         .run()
//! }
//! ```
//!
//! # Commands
//!
//! | command | what it does |
//! |---|---|
//! | `up [--to MODULE/NAME]` | apply the pending migrations (up to and including one) |
//! | `down [N]` | roll back the last `N` applied migrations (default 1), newest first |
//! | `status` | every migration with its state, when it was applied and how long it took |
//! | `fresh --force` | drop every table, then apply every migration (refused without `--force`) |
//! | `new NAME` | write an empty migration file `m{YYYYMMDD}_{HHMMSS}_{NAME}.rs` |
//! | `generate NAME [--destructive]` | write a migration from the difference between the entities and the database |
//!
//! Each is also accepted after `migrate` (`migration migrate up`). The
//! database is `--database-url URL` or the `DAL_DATABASE_URL` variable; the
//! other `DAL_*` variables ([`DatabaseConfig::from_env`]) apply in both cases.
//! With shards ([`Shards`](crate::Shards)), give each as `--shard NAME=URL`
//! (repeated): `up`, `down`, `status` and `fresh` run on every shard in
//! turn, each under a `== shard NAME` heading, and the run exits with the
//! first failure's code after every shard had its turn.
//! New files go to `--dir DIR`, else the directory given to
//! [`Cli::migrations_dir`], else `src/migrations`.
//!
//! When several migrations run and standard output is a terminal, a progress
//! bar shows them; otherwise each prints one line as it finishes. Errors go to
//! standard error; a URL is only ever printed with its password masked.
//!
//! # Exit codes
//!
//! Scripts can rely on these ([`Exit`]):
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success (also: nothing to do) |
//! | 1 | a migration failed (or another database error during the run) |
//! | 2 | usage error: unknown command or option, bad argument, unknown `--to` target |
//! | 3 | drift: an applied migration changed since, or is no longer in the code |
//! | 4 | cannot connect, or a configuration error (no URL, bad URL, no entities to generate from, unwritable directory) |
//! | 5 | refused: `fresh` without `--force`, rolling back an irreversible migration, generating while migrations are pending |

use std::ffi::OsString;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::autogen::{self, Blueprints, GenerateOptions};
use crate::config::DatabaseConfig;
use crate::db::Db;
use crate::error::Error;
use crate::migrate::{Direction, Fresh, MigrationStatus, Migrator, Progress, State};

/// The exit codes of [`Cli::run`], documented in the [module](self) for scripts.
///
/// ```
/// use dal::cli::Exit;
/// assert_eq!(Exit::Drift.code(), 3);
/// let _: std::process::ExitCode = Exit::Refused.into();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Exit {
    /// 0: success, or nothing to do.
    Success,
    /// 1: a migration failed, or another database error during the run.
    Failed,
    /// 2: usage error (unknown command or option, bad argument).
    Usage,
    /// 3: an applied migration changed since, or is no longer in the code.
    Drift,
    /// 4: cannot connect, or a configuration error.
    Config,
    /// 5: refused (`fresh` without `--force`, an irreversible rollback,
    /// generating while migrations are pending).
    Refused,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Drift => 3,
            Exit::Config => 4,
            Exit::Refused => 5,
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e.code())
    }
}

/// Run the command line of `std::env::args` on `migrator`: the whole `main`
/// of an application's migration binary. See the [module documentation](self).
pub fn run(migrator: Migrator) -> ExitCode {
    Cli::new(migrator).run()
}

/// The command line, configured: migrations, entity blueprints (for
/// `generate`) and where new migration files go.
///
/// ```
/// use dal::cli::Cli;
/// use dal::migrate::Migrator;
///
/// // `status` of an empty registry on an in-memory database: nothing to show, exit 0
/// let code = Cli::new(Migrator::new())
///     .migrations_dir("src/migrations")
///     .run_from(["migration", "--database-url", "sqlite::memory:", "status"]);
/// assert_eq!(code, std::process::ExitCode::SUCCESS);
///
/// // a usage error
/// let code = Cli::new(Migrator::new()).run_from(["migration", "sideways"]);
/// assert_eq!(code, dal::cli::Exit::Usage.into());
/// ```
#[derive(Clone)]
pub struct Cli {
    migrator: Migrator,
    entities: Blueprints,
    migrations_dir: PathBuf,
}

impl fmt::Debug for Cli {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cli")
            .field("migrator", &self.migrator)
            .field("entities", &self.entities.tables().len())
            .field("migrations_dir", &self.migrations_dir)
            .finish()
    }
}

/// Where `new` and `generate` write files when nothing else is said.
pub const DEFAULT_MIGRATIONS_DIR: &str = "src/migrations";

impl Cli {
    /// A command line for `migrator`, without entities, writing new files to
    /// [`DEFAULT_MIGRATIONS_DIR`].
    pub fn new(migrator: Migrator) -> Cli {
        Cli {
            migrator,
            entities: Blueprints::new(),
            migrations_dir: PathBuf::from(DEFAULT_MIGRATIONS_DIR),
        }
    }

    /// The tables `generate` brings the database to: entity blueprints
    /// ([`Blueprints::entity`]) or plain tables (a `Vec<Table>` converts).
    pub fn entities(mut self, blueprints: impl Into<Blueprints>) -> Cli {
        self.entities = blueprints.into();
        self
    }

    /// Where `new` and `generate` write migration files (`--dir` overrides it).
    pub fn migrations_dir(mut self, dir: impl Into<PathBuf>) -> Cli {
        self.migrations_dir = dir.into();
        self
    }

    /// Parse `std::env::args` and run the command.
    pub fn run(self) -> ExitCode {
        self.run_from(std::env::args_os())
    }

    /// Parse `args` (the first is the program name) and run the command;
    /// output goes to standard output and standard error.
    pub fn run_from<I, T>(self, args: I) -> ExitCode
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let console = Console::std();
        self.execute(args, &console).into()
    }

    fn execute<I, T>(self, args: I, console: &Console) -> Exit
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args = match Args::try_parse_from(args) {
            Ok(a) => a,
            Err(e) => {
                let text = e.render().to_string();
                if e.use_stderr() {
                    console.err(text.trim_end());
                    return Exit::Usage;
                }
                // --help, --version
                console.out(text.trim_end());
                return Exit::Success;
            }
        };
        let command = match args.command {
            Command::Migrate(a) | Command::Action(a) => a,
        };
        // A command line runs from a synchronous `main`; inside a runtime
        // (tests, an async main) it gets a thread of its own.
        let run = move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    console.err(&format!("error: cannot start the async runtime: {e}"));
                    return Exit::Failed;
                }
            };
            if args.shards.is_empty() {
                rt.block_on(self.dispatch(command, args.database_url, args.dir, console))
            } else {
                rt.block_on(self.each_shard(command, args.shards, args.dir, console))
            }
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            std::thread::scope(|s| s.spawn(run).join().unwrap_or(Exit::Failed))
        } else {
            run()
        }
    }

    async fn dispatch(
        self,
        action: Action,
        url: Option<String>,
        dir: Option<PathBuf>,
        console: &Console,
    ) -> Exit {
        let dir = dir.unwrap_or_else(|| self.migrations_dir.clone());
        match action {
            Action::New { name } => new_file(&dir, &name, console),
            Action::Fresh { force: false } => {
                console.err(
                    "error: `fresh` drops every table of the database (all data is lost) and re-applies every migration;\n\
                     refused without --force (run `fresh --force` to do it)",
                );
                Exit::Refused
            }
            Action::Generate { .. } if self.entities.is_empty() => {
                console.err(
                    "error: no entity blueprints to generate from: build the command line with \
                     `dal::cli::Cli::new(migrator).entities(..)`",
                );
                Exit::Config
            }
            action => {
                let db = match connect(url.as_deref()).await {
                    Ok(db) => db,
                    Err(message) => {
                        console.err(&message);
                        return Exit::Config;
                    }
                };
                let exit = self.with_db(action, &db, &dir, console).await;
                db.close();
                exit
            }
        }
    }

    /// Run `action` on every shard in turn (the first failure's exit code,
    /// after every shard had its turn).
    async fn each_shard(
        self,
        action: Action,
        shards: Vec<(String, String)>,
        dir: Option<PathBuf>,
        console: &Console,
    ) -> Exit {
        if matches!(action, Action::New { .. } | Action::Generate { .. }) {
            console.err(
                "error: `new` and `generate` write migration files: run them without --shard \
                 (against one database), then apply the migrations with --shard",
            );
            return Exit::Usage;
        }
        let mut exit = Exit::Success;
        for (name, url) in shards {
            console.out(&format!("== shard {name}"));
            let e = self
                .clone()
                .dispatch(action.clone(), Some(url), dir.clone(), console)
                .await;
            if exit == Exit::Success {
                exit = e;
            }
        }
        exit
    }

    async fn with_db(self, action: Action, db: &Db, dir: &Path, console: &Console) -> Exit {
        match action {
            Action::Status => status(&self.migrator, db, console).await,
            Action::Up { to } => {
                let progress = ProgressReport::new(console);
                let migrator = progress.attach(self.migrator);
                let r = match &to {
                    Some(target) => migrator.up_to(db, target).await,
                    None => migrator.up(db).await,
                };
                progress.finish();
                match r {
                    Ok(report) if report.applied.is_empty() => {
                        console.out("Nothing to apply: every migration is applied.");
                        Exit::Success
                    }
                    Ok(report) => {
                        let total: Duration = report.applied.iter().map(|a| a.duration).sum();
                        console.out(&format!(
                            "Applied {} in {}.",
                            plural(report.applied.len(), "migration"),
                            millis(total)
                        ));
                        Exit::Success
                    }
                    Err(e) => run_error(&e, console),
                }
            }
            Action::Down { n } => {
                let progress = ProgressReport::new(console);
                let migrator = progress.attach(self.migrator);
                let r = migrator.rollback(db, n).await;
                progress.finish();
                match r {
                    Ok(report) if report.rolled_back.is_empty() => {
                        console.out("Nothing to roll back.");
                        Exit::Success
                    }
                    Ok(report) => {
                        let total: Duration = report.rolled_back.iter().map(|a| a.duration).sum();
                        console.out(&format!(
                            "Rolled back {} in {}.",
                            plural(report.rolled_back.len(), "migration"),
                            millis(total)
                        ));
                        Exit::Success
                    }
                    Err(e) => run_error(&e, console),
                }
            }
            Action::Fresh { .. } => {
                let progress = ProgressReport::new(console);
                let migrator = progress.attach(self.migrator);
                let r = migrator.fresh(db, Fresh::Confirmed).await;
                progress.finish();
                match r {
                    Ok(report) => {
                        console.out(&format!(
                            "Dropped every table and applied {}.",
                            plural(report.applied.len(), "migration")
                        ));
                        Exit::Success
                    }
                    Err(e) => run_error(&e, console),
                }
            }
            Action::Generate { name, destructive } => {
                generate(&self, db, dir, &name, destructive, console).await
            }
            Action::New { .. } => unreachable!("handled without a database"),
        }
    }
}

// ---------------------------------------------------------------- arguments

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success (or nothing to do)
  1  a migration failed
  2  usage error
  3  drift: an applied migration changed, or is no longer in the code
  4  cannot connect, or a configuration error
  5  refused (fresh without --force, irreversible rollback, pending migrations before generate)";

#[derive(Debug, Parser)]
#[command(
    about = "Apply, roll back and write the database migrations of this application",
    after_help = EXIT_CODES_HELP,
    disable_version_flag = true
)]
struct Args {
    /// Database URL (default: the DAL_DATABASE_URL variable; other DAL_* variables apply too)
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// A shard: its name and URL (repeat for each shard). `up`, `down`,
    /// `status` and `fresh` then run on every shard in turn, each under a
    /// `== shard NAME` heading
    #[arg(long = "shard", global = true, value_name = "NAME=URL", value_parser = shard_arg)]
    shards: Vec<(String, String)>,
    /// Directory where `new` and `generate` write migration files
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The same commands, spelled `migrate <COMMAND>`
    #[command(subcommand)]
    Migrate(Action),
    #[command(flatten)]
    Action(Action),
}

#[derive(Debug, Clone, Subcommand)]
enum Action {
    /// Apply the pending migrations, in order
    Up {
        /// Stop after this migration: MODULE/NAME, or a NAME only one module has
        #[arg(long, value_name = "MIGRATION")]
        to: Option<String>,
    },
    /// Roll back the last N applied migrations, newest first
    Down {
        /// How many
        #[arg(default_value_t = 1)]
        n: usize,
    },
    /// Show every migration, its state, when it was applied and how long it took
    Status,
    /// Drop every table of the database, then apply every migration
    Fresh {
        /// Confirm: every table and all its data is dropped
        #[arg(long)]
        force: bool,
    },
    /// Write an empty migration file
    New {
        /// What it does, in lower_snake_case (e.g. create_users)
        #[arg(value_parser = migration_name)]
        name: String,
    },
    /// Write a migration from the difference between the entities and the database
    Generate {
        /// What it does, in lower_snake_case (e.g. add_user_nick)
        #[arg(value_parser = migration_name)]
        name: String,
        /// Include changes that can lose data (dropped tables and columns, narrowing types)
        #[arg(long)]
        destructive: bool,
    },
}

/// `NAME=URL` of `--shard`.
fn shard_arg(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, url)) if !name.is_empty() && !url.is_empty() => {
            Ok((name.to_string(), url.to_string()))
        }
        _ => Err("expected NAME=URL (a shard's name and its database URL)".to_string()),
    }
}

/// A name that can end a Rust module name: `[a-z][a-z0-9_]*`, at most 100 bytes.
fn migration_name(s: &str) -> Result<String, String> {
    let ok = s.len() <= 100
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a lower_snake_case name (letters a-z, digits and `_`, starting with a letter, at most 100 characters)"
        ))
    }
}

// ---------------------------------------------------------------- output

/// Where the command line writes: standard output and error, or buffers in tests.
#[derive(Clone)]
struct Console {
    out: Arc<Mutex<dyn Write + Send>>,
    err: Arc<Mutex<dyn Write + Send>>,
    terminal: bool,
}

impl Console {
    fn std() -> Console {
        Console {
            out: Arc::new(Mutex::new(std::io::stdout())),
            err: Arc::new(Mutex::new(std::io::stderr())),
            terminal: std::io::stdout().is_terminal(),
        }
    }

    fn out(&self, line: &str) {
        if let Ok(mut w) = self.out.lock() {
            let _ = writeln!(w, "{line}");
            let _ = w.flush();
        }
    }

    fn err(&self, line: &str) {
        if let Ok(mut w) = self.err.lock() {
            let _ = writeln!(w, "{line}");
            let _ = w.flush();
        }
    }
}

/// Progress of a run: a bar on a terminal when several migrations run, one
/// line per finished migration otherwise.
struct ProgressReport {
    console: Console,
    bar: Arc<Mutex<Option<indicatif::ProgressBar>>>,
}

impl ProgressReport {
    fn new(console: &Console) -> ProgressReport {
        ProgressReport {
            console: console.clone(),
            bar: Arc::new(Mutex::new(None)),
        }
    }

    fn attach(&self, migrator: Migrator) -> Migrator {
        let console = self.console.clone();
        let bar = self.bar.clone();
        migrator.on_progress(move |p| {
            let Ok(mut bar) = bar.lock() else { return };
            match *p {
                Progress::Starting {
                    module,
                    name,
                    index,
                    total,
                    direction,
                } => {
                    if console.terminal && total > 1 && bar.is_none() {
                        let b = indicatif::ProgressBar::new(total as u64);
                        if let Ok(style) = indicatif::ProgressStyle::with_template(
                            "{bar:30} {pos}/{len} {elapsed} {msg}",
                        ) {
                            b.set_style(style);
                        }
                        b.set_position(index as u64);
                        *bar = Some(b);
                    }
                    if let Some(b) = bar.as_ref() {
                        b.set_message(format!("{} {module}/{name}", verb(direction, false)));
                    }
                }
                Progress::Finished {
                    module,
                    name,
                    duration,
                    direction,
                } => {
                    let line = format!(
                        "{:<11} {module}/{name} ({})",
                        verb(direction, true),
                        millis(duration)
                    );
                    match bar.as_ref() {
                        Some(b) => {
                            b.inc(1);
                            b.println(line);
                        }
                        None => console.out(&line),
                    }
                }
            }
        })
    }

    fn finish(&self) {
        if let Ok(mut bar) = self.bar.lock()
            && let Some(b) = bar.take()
        {
            b.finish_and_clear();
        }
    }
}

fn verb(direction: Direction, done: bool) -> &'static str {
    match (direction, done) {
        (Direction::Up, false) => "applying",
        (Direction::Up, true) => "applied",
        (Direction::Down, false) => "rolling back",
        (Direction::Down, true) => "rolled back",
    }
}

fn millis(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

// ---------------------------------------------------------------- commands

/// Connect with `--database-url` (plus the other `DAL_*` variables) or the
/// environment; the error message never holds a password.
async fn connect(url: Option<&str>) -> Result<Db, String> {
    let config = match url {
        Some(url) => {
            let mut vars: Vec<(String, String)> = std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .filter(|(k, _)| k.starts_with("DAL_") && k != "DAL_DATABASE_URL")
                .collect();
            vars.push(("DAL_DATABASE_URL".to_string(), url.to_string()));
            DatabaseConfig::from_vars("DAL_", vars)
        }
        None => DatabaseConfig::from_env(),
    };
    let config = match config {
        Ok(c) => c,
        Err(e) => {
            let hint = if url.is_none() && std::env::var_os("DAL_DATABASE_URL").is_none() {
                "\nhint: pass --database-url URL or set DAL_DATABASE_URL"
            } else {
                ""
            };
            return Err(format!("error: {e}{hint}"));
        }
    };
    let shown = config.redacted_url();
    Db::connect(config)
        .await
        .map_err(|e| format!("error: cannot connect to {shown}: {e}"))
}

/// What a failed run exits with, after printing why.
fn run_error(e: &Error, console: &Console) -> Exit {
    let exit = match e {
        Error::MigrationDrift { .. } => Exit::Drift,
        Error::InvalidInput { field, .. } if field == "rollback" => Exit::Refused,
        Error::InvalidInput { field, .. } if field == "target" => Exit::Usage,
        Error::Config(_) => Exit::Config,
        _ => Exit::Failed,
    };
    console.err(&format!("error: {e}"));
    match e {
        Error::MigrationDrift { .. } => console.err(
            "nothing was applied: restore the migration as it was applied, or roll it back with the old code first",
        ),
        Error::Migration { applied, .. } if !applied.is_empty() => {
            console.err("these statements of the failed migration did take effect and must be undone or completed by hand:");
            for s in applied {
                console.err(&format!("  {s};"));
            }
        }
        _ => {}
    }
    exit
}

async fn status(migrator: &Migrator, db: &Db, console: &Console) -> Exit {
    let rows = match migrator.status(db).await {
        Ok(rows) => rows,
        Err(e) => return run_error(&e, console),
    };
    if rows.is_empty() {
        console.out("No migrations are registered, and none is applied.");
        return Exit::Success;
    }
    console.out(&status_table(&rows));
    let count = |s: State| rows.iter().filter(|r| r.state == s).count();
    let (applied, pending, drifted, missing) = (
        count(State::Applied),
        count(State::Pending),
        count(State::Drifted),
        count(State::Missing),
    );
    let mut summary = vec![format!("{applied} applied"), format!("{pending} pending")];
    if drifted > 0 {
        summary.push(format!("{drifted} drifted"));
    }
    if missing > 0 {
        summary.push(format!("{missing} missing"));
    }
    console.out(&format!("\n{}.", summary.join(", ")));
    if drifted + missing > 0 {
        if drifted > 0 {
            console.err("drift: a drifted migration changed after it was applied (its SQL checksum differs)");
        }
        if missing > 0 {
            console
                .err("drift: a missing migration is applied but no longer registered in the code");
        }
        return Exit::Drift;
    }
    Exit::Success
}

/// The status rows as an aligned table.
fn status_table(rows: &[MigrationStatus]) -> String {
    let header = ["MODULE", "NAME", "STATE", "APPLIED AT", "DURATION"];
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                r.module.clone(),
                r.name.clone(),
                match r.state {
                    State::Applied | State::Pending => r.state.as_str().to_string(),
                    State::Drifted | State::Missing => r.state.as_str().to_uppercase(),
                },
                r.applied_at
                    .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                    .unwrap_or_else(|| "-".into()),
                r.duration.map(millis).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let mut width = header.map(str::len);
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |row: &[String; 5]| {
        let mut s = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 == row.len() {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = width[i]));
            }
        }
        s.trim_end().to_string()
    };
    let mut out = vec![line(&header.map(String::from))];
    out.extend(cells.iter().map(line));
    out.join("\n")
}

/// `m{YYYYMMDD}_{HHMMSS}_{name}`: sorts by creation time and is a Rust module name.
fn stem(name: &str) -> String {
    format!("m{}_{name}", chrono::Utc::now().format("%Y%m%d_%H%M%S"))
}

/// Write `source` to a new file `dir/{stem}.rs`.
fn write_new(dir: &Path, stem: &str, source: &str) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("error: cannot create the directory {}: {e}", dir.display()))?;
    let path = dir.join(format!("{stem}.rs"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("error: cannot create {}: {e}", path.display()))?;
    file.write_all(source.as_bytes())
        .map_err(|e| format!("error: cannot write {}: {e}", path.display()))?;
    Ok(path)
}

fn register_hint(stem: &str, console: &Console) {
    console.out(&format!(
        "Register it: `pub mod {stem};` next to the other migrations, and \
         `.migration({stem}::migration())` at the end of its module."
    ));
}

/// The source of an empty migration.
fn skeleton(stem: &str) -> String {
    format!(
        r#"// Migration {stem}.

/// The migration `{stem}`.
pub fn migration() -> dal::migrate::Migration {{
    dal::migrate::Migration::new(
        "{stem}",
        dal::schema! {{
            // create my_table {{ id(); string(name, 100); timestamps(); }}
        }},
    )
    .down(dal::schema! {{
        // drop my_table;
    }})
}}
"#
    )
}

fn new_file(dir: &Path, name: &str, console: &Console) -> Exit {
    let stem = stem(name);
    match write_new(dir, &stem, &skeleton(&stem)) {
        Ok(path) => {
            console.out(&format!("Wrote {}", path.display()));
            register_hint(&stem, console);
            Exit::Success
        }
        Err(message) => {
            console.err(&message);
            Exit::Config
        }
    }
}

async fn generate(
    cli: &Cli,
    db: &Db,
    dir: &Path,
    name: &str,
    destructive: bool,
    console: &Console,
) -> Exit {
    // the diff would repeat what pending migrations do, and drift means the
    // database is not what the code says
    let rows = match cli.migrator.status(db).await {
        Ok(rows) => rows,
        Err(e) => return run_error(&e, console),
    };
    let pending: Vec<String> = rows
        .iter()
        .filter(|r| r.state == State::Pending)
        .map(|r| format!("{}/{}", r.module, r.name))
        .collect();
    if rows
        .iter()
        .any(|r| matches!(r.state, State::Drifted | State::Missing))
    {
        console.err("error: drift: an applied migration changed or is no longer registered (see `status`); fix it before generating");
        return Exit::Drift;
    }
    if !pending.is_empty() {
        let (n, verb) = if pending.len() == 1 {
            ("1 migration".to_string(), "is")
        } else {
            (format!("{} migrations", pending.len()), "are")
        };
        console.err(&format!(
            "error: {n} {verb} pending ({}): apply them first (`up`), or the new migration would repeat them",
            pending.join(", ")
        ));
        return Exit::Refused;
    }
    let stem = stem(name);
    let options = GenerateOptions::default()
        .runner_table(cli.migrator.tracking_table())
        .include_destructive(destructive);
    let g = match autogen::generate(db, &cli.entities, &stem, options).await {
        Ok(g) => g,
        Err(e) => {
            console.err(&format!("error: {e}"));
            return match e {
                Error::Schema(_) => Exit::Config,
                _ => Exit::Failed,
            };
        }
    };
    if g.is_empty() {
        console.out("The database matches the entities: nothing to generate, no file written.");
    } else {
        match write_new(dir, &stem, &g.source) {
            Ok(path) => {
                console.out(&format!(
                    "Wrote {} ({}).",
                    path.display(),
                    plural(g.changes, "change")
                ));
            }
            Err(message) => {
                console.err(&message);
                return Exit::Config;
            }
        }
        for w in &g.warnings {
            console.out(&format!("review: {w}"));
        }
    }
    if !g.skipped_destructive.is_empty() {
        console
            .out("Left out because they can lose data (run with --destructive to include them):");
        for s in &g.skipped_destructive {
            console.out(&format!("  - {s}"));
        }
    }
    if !g.is_empty() {
        register_hint(&stem, console);
    }
    Exit::Success
}

#[cfg(test)]
mod tests;
