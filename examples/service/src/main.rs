//! `cargo run -p dal-example-service`: the users-and-tasks service on dal.
//!
//! Environment: `DAL_DATABASE_URL` or `DATABASE_URL` (default
//! `sqlite://dal-service.db`), any other `DAL_*` option, `BIND` (default
//! `127.0.0.1:3000`), `RUST_LOG` (default `info`).

use std::time::Duration;

use dal::Db;
use dal_example_service::{AppState, Settings, api, prepare_schema};
use metrics_exporter_prometheus::PrometheusBuilder;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // JSON lines on stdout, one object per event with its fields at the top level
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "service failed");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let settings = Settings::from_env()?;

    // The recorder goes in before the Db exists: dal registers its metrics then.
    let metrics = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("metrics recorder: {e}"))?;
    let upkeep = metrics.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep(); // drains histogram samples
        }
    });

    // No connection is opened here: a database that is down does not stop the start.
    let db = Db::connect_lazy(settings.database).map_err(|e| e.to_string())?;
    let state = AppState::new(db.clone(), Some(metrics));
    let schema = tokio::spawn(prepare_schema(state.clone()));

    let listener = tokio::net::TcpListener::bind(settings.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        addr = %addr,
        database = %db.config().redacted_url(),
        "listening"
    );

    axum::serve(listener, api::router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server: {e}"))?;

    // in-flight requests have finished; release the connections
    schema.abort();
    db.close();
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C, or SIGTERM (what `docker stop` and Kubernetes send).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
