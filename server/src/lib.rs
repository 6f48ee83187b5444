//! The Fieldsync sync server as a library: the binary `fieldsync-server` and the end-to-end test
//! harness both start it through [`api::serve`] on a listener they own.

pub mod api;
pub mod auth;
pub mod blob;
pub mod config;
pub mod console;
pub mod db;
pub mod dev;
pub mod directory;
pub mod documents;
pub mod embedded;
pub mod error;
pub mod images;
pub mod instances;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod outbox;
pub mod revisits;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod tiers;
pub mod uploads;

pub use state::AppState;

/// Completes on Ctrl-C (SIGINT) or SIGTERM: what a terminal and a service manager send.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => tracing::info!("interrupted, shutting down"),
        () = terminate => tracing::info!("terminated, shutting down"),
    }
}
