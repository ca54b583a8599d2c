//! `dal`: generate entities from a live database, check a connection.
//!
//! ```text
//! dal generate entities [--database-url URL] [--out DIR] [--tables a,b] [--force]
//! dal check [--database-url URL]
//! ```
//!
//! The URL comes from `--database-url` or `DAL_DATABASE_URL`. Exit codes: 0 ok,
//! 1 failed (the database is unreachable, a file could not be written), 2 usage.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dal_cli::DATABASE_URL_ENV;
use dal_cli::generate::{GenerateOptions, generate_entities};

#[derive(Parser)]
#[command(
    name = "dal",
    version,
    about = "dal's command line: generate entities, check a database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate code from a live database.
    Generate {
        #[command(subcommand)]
        what: GenerateWhat,
    },
    /// Report connectivity, server version, pool and circuit-breaker state.
    Check {
        /// Database URL (default: $DAL_DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
    },
}

#[derive(Subcommand)]
enum GenerateWhat {
    /// One `#[derive(Entity)]` module per table, and a `mod.rs`.
    Entities {
        /// Database URL (default: $DAL_DATABASE_URL).
        #[arg(long)]
        database_url: Option<String>,
        /// Output directory.
        #[arg(long, default_value = "src/entities")]
        out: PathBuf,
        /// Only these tables (comma-separated); by default every table but
        /// dal's own (`dal_*`) and history tables (`*_history`).
        #[arg(long, value_delimiter = ',')]
        tables: Vec<String>,
        /// Overwrite existing files.
        #[arg(long)]
        force: bool,
    },
}

/// The URL from the flag or the environment; `None` (after saying so) when neither.
fn database_url(flag: Option<String>) -> Option<String> {
    let url = flag.or_else(|| std::env::var(DATABASE_URL_ENV).ok());
    if url.is_none() {
        eprintln!("error: no database URL: pass --database-url or set {DATABASE_URL_ENV}");
    }
    url
}

fn config(url: &str) -> Option<dal::DatabaseConfig> {
    match dal::DatabaseConfig::from_url(url) {
        Ok(c) => Some(c),
        Err(e) => {
            // configuration errors never echo the password
            eprintln!("error: {e}");
            None
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Check { database_url: flag } => {
            let Some(config) = database_url(flag).as_deref().and_then(config) else {
                return ExitCode::from(2);
            };
            match dal_cli::check::check(config).await {
                Ok(report) => {
                    println!("{report}");
                    if report.reachable() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Generate {
            what:
                GenerateWhat::Entities {
                    database_url: flag,
                    out,
                    tables,
                    force,
                },
        } => {
            let Some(config) = database_url(flag).as_deref().and_then(config) else {
                return ExitCode::from(2);
            };
            let db = match dal::Db::connect(config).await {
                Ok(db) => db,
                Err(e) => {
                    eprintln!("error: cannot connect: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let options = GenerateOptions { out, tables, force };
            let result = generate_entities(&db, &options).await;
            db.close();
            match result {
                Ok(generated) => {
                    for (table, name) in &generated.entities {
                        println!("entity  {name:<24} <- {table}");
                    }
                    for (table, why) in &generated.skipped {
                        println!("skipped {table}: {why}");
                    }
                    println!(
                        "wrote {} files to {}",
                        generated.files.len(),
                        options.out.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
