//! The application's `migration` binary: `up`, `down`, `status`, `fresh`,
//! `new` and `generate` (see `dal::cli`). The database is `--database-url`
//! or `DAL_DATABASE_URL`.
//!
//! Without `generate`, the whole `main` is
//! `dal::cli::run(dal_example_migrations::migrator())`; the builder adds the
//! entities `generate` compares with the database and the directory it
//! writes to.

use std::process::ExitCode;

fn main() -> ExitCode {
    dal::cli::Cli::new(dal_example_migrations::migrator())
        .entities(dal_example_migrations::blueprints())
        .migrations_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/migrations"))
        .run()
}
