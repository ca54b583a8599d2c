//! The `dal` command line, as a library: the `dal` binary is a thin clap
//! front end over these functions, which tests (and other tools) call
//! directly.
//!
//! - [`generate::generate_entities`]: introspect a live database and write one
//!   `#[derive(Entity)]` module per table (`dal generate entities`).
//! - [`check::check`]: connectivity, server version, pool and circuit-breaker
//!   state (`dal check`).

pub mod check;
pub mod generate;
pub mod names;

/// The environment variable holding the database URL when `--database-url`
/// is not given.
pub const DATABASE_URL_ENV: &str = "DAL_DATABASE_URL";
