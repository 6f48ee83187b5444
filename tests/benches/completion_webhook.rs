//! Completion-to-webhook latency: how long after the transaction that completes a job the
//! revisit team's webhook receiver has the `job.completed` delivery.
//!
//!     cargo bench -p fieldsync-tests --bench completion_webhook
//!
//! 200 jobs are completed by tablets (evidence over tus, visit over the sync protocol), 8 at a
//! time, against the server in process on a throwaway PostgreSQL cluster; a receiver on
//! 127.0.0.1 records the arrival of each delivery. Latency = arrival − the completing
//! transaction's time (`outbox.created_at`), both from this machine's clock.

// A benchmark aborts on any failure; there is nobody to hand an error to.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use chrono::{DateTime, Utc};
use fieldsync_server::directory::Role;
use harness::TestApp;
use harness::visit::{Evidence, complete_visit};
use serde_json::{Value, json};

const JOBS: usize = 200;
const CONCURRENT: usize = 8;

type Arrivals = Arc<Mutex<HashMap<String, DateTime<Utc>>>>;

async fn receive(State(arrivals): State<Arrivals>, body: Bytes) -> &'static str {
    let now = Utc::now();
    let event: Value = serde_json::from_slice(&body).unwrap();
    if event["type"] == "job.completed" {
        let job = event["data"]["job_id"].as_str().unwrap().to_owned();
        arrivals.lock().unwrap().entry(job).or_insert(now);
    }
    "ok"
}

#[tokio::main]
async fn main() {
    let app = Arc::new(
        TestApp::spawn_with(|state| {
            state.webhooks.allow_private_targets = true;
            // 200 completions by one technician as fast as they go: no request-rate limit.
            state.rates =
                fieldsync_server::auth::RateLimiter::new(fieldsync_server::auth::RateSettings {
                    per_second: 1e6,
                    burst: 1e6,
                });
        })
        .await,
    );
    let crew = Arc::new(app.crew("安居家电服务有限公司").await);
    let admin = app.staff(crew.organisation, "赵敏", Role::Admin).await;
    let arrivals: Arrivals = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = format!("http://{}/hooks", listener.local_addr().unwrap());
    let router = Router::new()
        .route("/hooks", post(receive))
        .with_state(arrivals.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let registered = app
        .post("/api/v1/webhooks")
        .bearer_auth(&admin.token)
        .json(&json!({"url": receiver, "events": ["job.completed"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        registered.status(),
        201,
        "{}",
        registered.text().await.unwrap()
    );

    let started = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(CONCURRENT));
    let mut tasks = Vec::new();
    for n in 0..JOBS {
        let (app, crew, semaphore) = (app.clone(), crew.clone(), semaphore.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = semaphore.acquire().await.unwrap();
            let job = app.book(&crew, Some(crew.technician.staff.id)).await;
            let evidence = Evidence {
                card: harness::images::noise_png(100, 80, n as u32),
                signature: harness::images::noise_png(60, 24, 100_000 + n as u32),
            };
            complete_visit(&app, &crew, &job, &evidence).await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    println!("completed {JOBS} visits in {:.1?}", started.elapsed());

    let deadline = Instant::now() + Duration::from_secs(60);
    while arrivals.lock().unwrap().len() < JOBS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let completed: Vec<(uuid::Uuid, DateTime<Utc>)> =
        sqlx::query_as("select job_id, created_at from outbox where event_type = 'job.completed'")
            .fetch_all(&app.database.pool)
            .await
            .unwrap();
    let arrivals = arrivals.lock().unwrap();
    let mut latencies: Vec<f64> = completed
        .iter()
        .filter_map(|(job, at)| {
            let arrived = arrivals.get(&job.to_string())?;
            Some((*arrived - *at).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "job.completed deliveries: {} of {} completions (exactly one each: {})",
        latencies.len(),
        completed.len(),
        completed.len() == JOBS
    );
    println!(
        "completion-to-webhook latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(0.50),
        percentile(0.99),
        latencies.last().copied().unwrap_or_default()
    );
}
