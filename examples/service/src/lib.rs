//! An HTTP service on dal: users and their tasks, with history, health,
//! Prometheus metrics, JSON logs and graceful shutdown. See the README.
//!
//! The database is opened lazily ([`dal::Db::connect_lazy`]): the service
//! starts and answers (503 from `/healthz` and the data endpoints) while the
//! database is down, and creates its tables as soon as it answers.

pub mod api;
pub mod error;
pub mod model;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use dal::{DatabaseConfig, Db};
use metrics_exporter_prometheus::PrometheusHandle;

use crate::error::ApiError;

/// What the handlers share: the database, whether its schema is in place,
/// and the metrics recorder to render.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    schema_ready: Arc<AtomicBool>,
    pub metrics: Option<PrometheusHandle>,
}

impl AppState {
    pub fn new(db: Db, metrics: Option<PrometheusHandle>) -> Self {
        AppState {
            db,
            schema_ready: Arc::new(AtomicBool::new(false)),
            metrics,
        }
    }

    /// True once the tables exist (see [`prepare_schema`]).
    pub fn schema_ready(&self) -> bool {
        self.schema_ready.load(Ordering::Acquire)
    }

    /// The database, once its schema is in place; until then a 503.
    pub fn db(&self) -> Result<&Db, ApiError> {
        if self.schema_ready() {
            Ok(&self.db)
        } else {
            Err(ApiError::starting())
        }
    }
}

/// Create the tables, retrying with backoff (up to 2 s apart) until the
/// database answers; then mark the state ready.
pub async fn prepare_schema(state: AppState) {
    let mut delay = Duration::from_millis(100);
    loop {
        match model::ensure_schema(&state.db).await {
            Ok(()) => {
                state.schema_ready.store(true, Ordering::Release);
                tracing::info!("schema ready");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e.redacted(), retry_in_ms = delay.as_millis() as u64,
                    "database not ready");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// The service's settings, from the environment.
#[derive(Debug)]
pub struct Settings {
    pub database: DatabaseConfig,
    pub bind: SocketAddr,
}

/// Used when neither `DAL_DATABASE_URL` nor `DATABASE_URL` is set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://dal-service.db";

/// This service's defaults for dal's options; a `DAL_*` variable overrides each.
/// A web request should fail in seconds, not wait out dal's general defaults.
const DAL_DEFAULTS: &[(&str, &str)] = &[
    ("DAL_NAME", "service"),
    ("DAL_QUERY_TIMEOUT", "5s"),
    ("DAL_ACQUIRE_TIMEOUT", "2s"),
    ("DAL_CONNECT_TIMEOUT", "2s"),
];

impl Settings {
    /// `DAL_DATABASE_URL` (or `DATABASE_URL`, or [`DEFAULT_DATABASE_URL`]), the
    /// other `DAL_*` options dal reads, and `BIND` (default `127.0.0.1:3000`).
    pub fn from_env() -> Result<Settings, String> {
        Settings::from_vars(std::env::vars())
    }

    /// [`from_env`](Self::from_env) from given variables.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Result<Settings, String> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let var = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let mut dal_vars: Vec<(String, String)> = DAL_DEFAULTS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // later pairs win: the environment overrides the defaults
        dal_vars.extend(vars.iter().filter(|(k, _)| k.starts_with("DAL_")).cloned());
        if var("DAL_DATABASE_URL").is_none() {
            let url = var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
            dal_vars.push(("DAL_DATABASE_URL".to_string(), url));
        }
        let database = DatabaseConfig::from_vars("DAL_", dal_vars).map_err(|e| e.to_string())?;
        let bind = var("BIND").unwrap_or_else(|| "127.0.0.1:3000".to_string());
        let bind = bind.parse().map_err(|e| {
            format!("BIND: expected an address such as 127.0.0.1:3000, got {bind:?}: {e}")
        })?;
        Ok(Settings { database, bind })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn settings_read_both_url_variables_and_keep_the_defaults_overridable() {
        let s = Settings::from_vars(vars(&[("DATABASE_URL", "sqlite://a.db")])).unwrap();
        assert_eq!(s.database.sqlite_path().unwrap().to_str(), Some("a.db"));
        assert_eq!(s.database.name(), "service");
        assert_eq!(s.database.timeouts().query, Some(Duration::from_secs(5)));
        assert_eq!(s.bind, "127.0.0.1:3000".parse().unwrap());

        let s = Settings::from_vars(vars(&[
            ("DATABASE_URL", "sqlite://a.db"),
            ("DAL_DATABASE_URL", "sqlite://b.db"),
            ("DAL_QUERY_TIMEOUT", "250ms"),
            ("BIND", "0.0.0.0:8080"),
        ]))
        .unwrap();
        assert_eq!(s.database.sqlite_path().unwrap().to_str(), Some("b.db"));
        assert_eq!(
            s.database.timeouts().query,
            Some(Duration::from_millis(250))
        );
        assert_eq!(s.bind.port(), 8080);
    }

    #[test]
    fn settings_report_bad_values() {
        let e = Settings::from_vars(vars(&[("DAL_POOL_MAX", "ten")])).unwrap_err();
        assert!(e.contains("DAL_POOL_MAX"), "{e}");
        let e = Settings::from_vars(vars(&[("BIND", "nowhere")])).unwrap_err();
        assert!(e.starts_with("BIND"), "{e}");
    }
}
