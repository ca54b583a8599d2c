//! `dal check`: can the application reach its database, and in what state
//! are the pool and the circuit breaker.

use std::fmt;

use dal::{DatabaseConfig, Db, Dialect, Health};

/// What `dal check` found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The URL with its password masked.
    pub url: String,
    /// The database's dialect.
    pub dialect: Dialect,
    /// The health check: one checkout and a round trip, with the pool and
    /// breaker state after it.
    pub health: Health,
    /// The server's version (`None` when it could not be read).
    pub server_version: Option<String>,
}

impl CheckReport {
    /// True when the database answered.
    pub fn reachable(&self) -> bool {
        self.health.healthy
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = &self.health;
        writeln!(f, "database     {} ({:?})", self.url, self.dialect)?;
        match &h.error {
            None => writeln!(f, "connection   ok in {:?}", h.latency)?,
            Some(e) => writeln!(f, "connection   FAILED after {:?}: {e}", h.latency)?,
        }
        if let Some(v) = &self.server_version {
            writeln!(f, "server       {v}")?;
        }
        writeln!(
            f,
            "pool         {} open of {} max, {} in use, {} idle",
            h.pool.size, h.pool.max, h.pool.in_use, h.pool.idle
        )?;
        write!(f, "breaker      {}", h.breaker)
    }
}

/// The statement that reads the server's version.
fn version_sql(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "SELECT version()",
        Dialect::MySql => "SELECT VERSION()",
        Dialect::Sqlite => "SELECT 'SQLite ' || sqlite_version()",
    }
}

/// Check the database at `config`: connect (lazily, so an unreachable server
/// is a report, not an error), run the health check, read the version.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let config = dal::DatabaseConfig::from_url("sqlite::memory:")?;
/// let report = dal_cli::check::check(config).await?;
/// assert!(report.reachable());
/// assert!(report.server_version.unwrap().starts_with("SQLite 3."));
/// # Ok::<_, dal::Error>(()) }).unwrap();
/// ```
pub async fn check(config: DatabaseConfig) -> dal::Result<CheckReport> {
    let url = config.redacted_url();
    let dialect = config.dialect();
    let db = Db::connect_lazy(config)?;
    let health = db.health().await;
    let server_version = if health.healthy {
        db.fetch_scalar::<String, _>(version_sql(dialect), ())
            .await
            .ok()
    } else {
        None
    };
    // the pool and breaker as the version query left them
    let health = Health {
        pool: db.stats().pool,
        breaker: db.stats().breaker,
        ..health
    };
    db.close();
    Ok(CheckReport {
        url,
        dialect,
        health,
        server_version,
    })
}
