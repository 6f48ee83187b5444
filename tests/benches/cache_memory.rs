//! Resident memory of `fieldsync-server` while 10,000 jobs are each touched once.
//!
//!     cargo build --release -p fieldsync-server
//!     cargo bench -p fieldsync-tests --bench cache_memory
//!
//! Books the jobs through the server's own booking code on a throwaway PostgreSQL cluster, starts
//! the release binary against it (default cache: 1000 documents), reads every job once over HTTP,
//! and prints the server's resident set size (VmRSS) along the way.

// A benchmark aborts on any failure; there is nobody to hand an error to.
#![allow(clippy::unwrap_used)]

use std::time::Instant;

use fieldsync_server::AppState;
use fieldsync_server::auth::Caller;
use fieldsync_server::directory::{Role, Tier};
use fieldsync_server::jobs::{BookJob, book_job};
use harness::TestApp;
use harness::process::ServerProcess;

const JOBS: usize = 10_000;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let app = TestApp::spawn().await;
    let organisation = app.organisation("安居家电服务有限公司").await.id;
    let dispatcher = app.staff(organisation, "李娜", Role::Dispatcher).await;
    let customer = app
        .customer(
            organisation,
            "王秀英",
            "上海市浦东新区张杨路1588号12楼1203室",
            Tier::Key,
        )
        .await
        .id;
    let state = AppState::new(app.database.pool.clone(), app.objects.blobs.clone());
    let caller = Caller::authenticate(&state, &dispatcher.token)
        .await
        .unwrap();
    let started = Instant::now();
    let mut ids = Vec::with_capacity(JOBS);
    for n in 0..JOBS {
        let start = chrono::Utc::now() + chrono::Duration::minutes(n as i64);
        let request = BookJob {
            customer_id: customer,
            kind: "repair".into(),
            window_start: start,
            window_end: start + chrono::Duration::hours(2),
            technician_id: None,
            from_complaint: false,
            complaint_reference: None,
        };
        ids.push(book_job(&state, &caller, request).await.unwrap().id);
    }
    println!("booked {JOBS} jobs in {:.1?}", started.elapsed());

    // One dispatcher reads 10,000 jobs as fast as it can: no request-rate limit here.
    let server = ServerProcess::start_with(
        &app.database.url,
        &app.objects.config,
        0,
        &[
            ("FIELDSYNC_RATE_PER_SECOND", "1000000"),
            ("FIELDSYNC_RATE_BURST", "1000000"),
        ],
    )
    .await;
    let pid = server.pid().unwrap();
    println!("server RSS at start: {} KiB", rss_kib(pid));
    let client = reqwest::Client::new();
    let started = Instant::now();
    for (n, id) in ids.iter().enumerate() {
        let response = client
            .get(format!("{}/api/v1/jobs/{id}", server.base_url))
            .bearer_auth(&dispatcher.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        if (n + 1) % 2_000 == 0 {
            println!("after {:>6} jobs read: RSS {} KiB", n + 1, rss_kib(pid));
        }
    }
    println!(
        "read {JOBS} jobs in {:.1?} ({:.0} per second)",
        started.elapsed(),
        JOBS as f64 / started.elapsed().as_secs_f64()
    );
    server.kill().await;
}
