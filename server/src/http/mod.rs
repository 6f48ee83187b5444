//! The HTTP surface: routes, request tracing, and serving on a listener we are handed.

mod health;
mod me;

use std::future::Future;

use axum::Router;
use axum::extract::MatchedPath;
use axum::http::Request;
use axum::routing::get;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/v1/me", get(me::me))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                // The route pattern, not the raw path: ids do not explode the span names.
                let route = request
                    .extensions()
                    .get::<MatchedPath>()
                    .map(MatchedPath::as_str)
                    .unwrap_or("unmatched");
                tracing::info_span!("request", method = %request.method(), route)
            }),
        )
        .with_state(state)
}

/// Serves until `shutdown` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
