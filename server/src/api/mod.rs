//! The JSON API door: routes, request tracing, and serving on a listener we are handed. Each
//! handler reads the request, calls one operation of a domain module (`jobs`, `directory`,
//! `revisits`, `tiers`, `notifications`, ...) with the caller, and writes its answer; the
//! operations, their SQL and their authorization live in those modules, so every door asks
//! the same code.

pub(crate) mod attachments;
mod directory;
pub(crate) mod events;
mod fleet;
mod health;
mod jobs;
mod json;
mod me;
mod openapi;
mod revisits;
mod tiers;
mod webhooks;

pub use json::{AppJson, Path, Query, page};

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::MatchedPath;
use axum::http::Request;
use axum::routing::{delete, get, post};
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// The largest JSON request body accepted.
pub const JSON_BODY_LIMIT: usize = 64 * 1024;

/// Every route of the server.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(crate::metrics::render))
        .route("/sync", get(crate::sync::upgrade))
        .route("/api/v1/me", get(me::me))
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            "/api/v1/staff",
            get(directory::list_staff).post(directory::create_staff),
        )
        .route("/api/v1/staff/{id}/tokens", post(directory::issue_token))
        .route("/api/v1/tokens/{id}", delete(directory::revoke_token))
        .route(
            "/api/v1/customers",
            get(directory::list_customers).post(directory::create_customer),
        )
        .route("/api/v1/customers/{id}", get(directory::show_customer))
        .route("/api/v1/customers/{id}/tiers", get(tiers::history))
        .route(
            "/api/v1/tier-rules",
            get(tiers::rules).put(tiers::set_rules),
        )
        .route("/api/v1/tiers/recompute", post(tiers::recompute))
        .route("/api/v1/jobs", post(jobs::create))
        .route("/api/v1/jobs/{id}", get(jobs::show))
        .route("/api/v1/jobs/{id}/confirmation", post(jobs::confirm))
        .route("/api/v1/jobs/{id}/reschedule", post(jobs::reschedule))
        .route("/api/v1/jobs/{id}/reassign", post(jobs::reassign))
        .route("/api/v1/jobs/{id}/cancel", post(jobs::cancel))
        .route("/api/v1/jobs/{id}/archive", post(jobs::archive))
        .route("/api/v1/jobs/{id}/attachments", get(attachments::list))
        .route(
            "/api/v1/jobs/{id}/attachments/{sha256}/{variant}",
            get(attachments::download),
        )
        .route("/api/v1/jobs/{id}/evidence", get(attachments::export))
        .route("/api/v1/board", get(jobs::board))
        .route("/api/v1/events", get(events::feed))
        .route("/api/v1/fleet", get(fleet::list))
        .route("/api/v1/fleet/report", post(fleet::report))
        // JSON bodies of this API are small; uploads stream under their own limits.
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .merge(crate::uploads::routes())
        .merge(webhooks::routes())
        .merge(revisits::routes())
        .merge(crate::console::routes())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::metrics::track,
        ))
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
    let background = [
        tokio::spawn(crate::instances::keep_alive(state.clone())),
        tokio::spawn(crate::documents::listener::listen(state.clone())),
        tokio::spawn(crate::documents::listener::sweep(state.clone())),
        tokio::spawn(crate::uploads::sweep(state.clone())),
        tokio::spawn(crate::notifications::deliver(state.clone())),
        tokio::spawn(crate::tiers::close_periods(state.clone())),
    ];
    let hub = state.sync_hub.clone();
    let served = axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        // WebSocket connections are not waited for by axum: tell them to close.
        hub.close_all();
    })
    .await;
    for task in background {
        task.abort();
    }
    served
}
