//! `GET /metrics` in the Prometheus text format (0.0.4), for operators: HTTP requests by route
//! and status with their durations, sync connections and group commits, the document cache,
//! upload slots, and the queues in PostgreSQL (outbox, webhook deliveries, uploads, revisits)
//! read at each scrape.
//! Counters are per instance; the queue figures are the database's, the same on every instance.
//! Labels carry route patterns, never ids, so the number of series stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

/// Upper bounds of the request duration buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What this instance has counted since it started.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// SHA-256 of the token a scrape must bear, if the operator set one.
    token_sha256: Option<[u8; 32]>,
    /// (method, route, status) → requests.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// route → durations.
    durations: Mutex<BTreeMap<String, Histogram>>,
    sync_connections: AtomicI64,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or under each bound of [`BUCKETS`] (not cumulative here).
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// Held while a sync connection is open; counts it.
#[derive(Debug)]
pub struct OpenConnection(Metrics);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0
            .inner
            .sync_connections
            .fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Metrics that `GET /metrics` shows only to a caller bearing `token`.
    pub fn guarded(token: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                token_sha256: Some(sha256(token.as_bytes())),
                ..Inner::default()
            }),
        }
    }

    /// Whether a scrape with these headers may see the metrics. Tokens are compared as
    /// SHA-256 digests, so the comparison's time tells nothing about the token.
    fn admits(&self, headers: &HeaderMap) -> bool {
        let Some(wanted) = self.inner.token_sha256 else {
            return true;
        };
        headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|given| sha256(given.trim().as_bytes()) == wanted)
    }

    /// Counts a sync connection until the returned guard is dropped.
    pub fn sync_connection(&self) -> OpenConnection {
        self.inner.sync_connections.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.clone())
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut requests = self
            .inner
            .requests
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        drop(requests);
        let mut durations = self
            .inner
            .durations
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let histogram = durations.entry(route.to_owned()).or_default();
        if let Some(slot) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.counts[slot] += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }
}

/// Middleware: counts every request by its route pattern.
pub async fn track(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    app.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[derive(sqlx::FromRow)]
struct Queues {
    outbox_unfanned: i64,
    deliveries_pending: i64,
    deliveries_dead: i64,
    uploads_receiving: i64,
    revisits_open: i64,
    revisits_overdue: i64,
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// `GET /metrics`.
pub async fn render(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if !app.metrics.admits(&headers) {
        return Err(ApiError::Unauthenticated);
    }
    let queues: Queues = sqlx::query_as(
        r#"select
             (select count(*) from outbox where fanned_out_at is null) as outbox_unfanned,
             (select count(*) from webhook_deliveries where state = 'pending') as deliveries_pending,
             (select count(*) from webhook_deliveries where state = 'dead') as deliveries_dead,
             (select count(*) from uploads where state = 'receiving') as uploads_receiving,
             (select count(*) from revisit_tasks t
              where not exists (select 1 from revisit_outcomes o
                                where o.task_id = t.id and o.reached)) as revisits_open,
             (select count(*) from revisit_tasks t
              where t.due_at < now()
                and not exists (select 1 from revisit_outcomes o
                                where o.task_id = t.id and o.reached)) as revisits_overdue"#,
    )
    .fetch_one(&app.db)
    .await?;
    let mut out = String::new();
    let inner = &app.metrics.inner;

    family(
        &mut out,
        "fieldsync_http_requests_total",
        "counter",
        "HTTP requests answered, by method, route pattern and status.",
    );
    for ((method, route, status), count) in inner
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        let _ = writeln!(
            out,
            "fieldsync_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {count}",
            escape(method),
            escape(route)
        );
    }
    family(
        &mut out,
        "fieldsync_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request (to its response head), by route pattern.",
    );
    for (route, histogram) in inner
        .durations
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
    {
        let route = escape(route);
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(histogram.counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "fieldsync_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "fieldsync_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
             fieldsync_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
             fieldsync_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
            histogram.count, histogram.sum, histogram.count
        );
    }

    let cache = app.documents.cache().stats();
    let commits = app.sync_commits.stats();
    let access = app.sync_access.stats();
    let gauges: [(&str, &str, &str, f64); 18] = [
        (
            "fieldsync_sync_commit_waiting",
            "gauge",
            "Sync messages waiting for a group commit to take them.",
            commits.waiting as f64,
        ),
        (
            "fieldsync_sync_commits_in_flight",
            "gauge",
            "Group commits under way (at most two per instance).",
            commits.committing as f64,
        ),
        (
            "fieldsync_sync_commits_total",
            "counter",
            "Transactions that made synced changes durable (a group commit is one).",
            commits.commits as f64,
        ),
        (
            "fieldsync_sync_committed_messages_total",
            "counter",
            "Sync messages with changes made durable; over the commits, the mean group size.",
            commits.committed as f64,
        ),
        (
            "fieldsync_sync_access_checks_total",
            "counter",
            "Sync messages whose document access was checked (every message is).",
            access.checks as f64,
        ),
        (
            "fieldsync_sync_access_statements_total",
            "counter",
            "Statements that answered those checks (checks arriving together share one).",
            access.statements as f64,
        ),
        (
            "fieldsync_sync_connections",
            "gauge",
            "Sync (WebSocket) connections open on this instance.",
            inner.sync_connections.load(Ordering::Relaxed) as f64,
        ),
        (
            "fieldsync_documents_cached",
            "gauge",
            "Documents held in this instance's cache.",
            cache.resident as f64,
        ),
        (
            "fieldsync_documents_cache_capacity",
            "gauge",
            "Documents the cache keeps before evicting idle ones.",
            cache.capacity as f64,
        ),
        (
            "fieldsync_documents_loaded_total",
            "counter",
            "Documents loaded from PostgreSQL into the cache.",
            cache.loads as f64,
        ),
        (
            "fieldsync_documents_evicted_total",
            "counter",
            "Documents evicted from the cache.",
            cache.evictions as f64,
        ),
        (
            "fieldsync_documents_damaged_total",
            "counter",
            "Reads of a stored document that found it damaged (per process; the log names the \
             document and chunk: restore it from a backup).",
            crate::documents::StoreError::damaged_reads() as f64,
        ),
        (
            "fieldsync_upload_slots_free",
            "gauge",
            "Upload PATCHes this instance could start streaming now.",
            app.upload_slots.available_permits() as f64,
        ),
        (
            "fieldsync_outbox_unfanned",
            "gauge",
            "Events not yet fanned out to webhook endpoints.",
            queues.outbox_unfanned as f64,
        ),
        (
            "fieldsync_webhook_deliveries_pending",
            "gauge",
            "Webhook deliveries waiting for their next attempt.",
            queues.deliveries_pending as f64,
        ),
        (
            "fieldsync_webhook_deliveries_dead",
            "gauge",
            "Webhook deliveries that used every attempt (replayable).",
            queues.deliveries_dead as f64,
        ),
        (
            "fieldsync_uploads_receiving",
            "gauge",
            "Uploads started and not yet finished, terminated or expired.",
            queues.uploads_receiving as f64,
        ),
        (
            "fieldsync_revisits_open",
            "gauge",
            "Revisit tasks whose customer has not been reached yet (no outcome, or only unanswered calls).",
            queues.revisits_open as f64,
        ),
    ];
    for (name, kind, help, value) in gauges {
        family(&mut out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    }
    family(
        &mut out,
        "fieldsync_revisits_overdue",
        "gauge",
        "Revisit tasks past their due time whose customer has not been reached yet.",
    );
    let _ = writeln!(
        out,
        "fieldsync_revisits_overdue {}",
        queues.revisits_overdue
    );
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
