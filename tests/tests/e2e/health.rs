//! `/healthz` and `/readyz`, including what an operator sees while a dependency is down.

use std::time::Duration;

use fieldsync_server::blob::BlobStore;
use harness::TestApp;
use harness::peer::RawPeer;
use harness::postgres::{own_cluster, start_cluster, stop_cluster};
use serde_json::Value;

use crate::support::{free_port, wait_for_status};

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let app = TestApp::spawn().await;
    let response = app.get("/healthz").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    app.shutdown().await;
}

#[tokio::test]
async fn readyz_is_ready_when_postgres_and_the_bucket_answer() {
    let app = TestApp::spawn().await;
    let response = app.get("/readyz").send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["postgres"], "ok");
    assert_eq!(body["object_storage"], "ok");
    app.shutdown().await;
}

#[tokio::test]
async fn readyz_says_postgres_is_down_and_recovers_when_it_returns() {
    let (cluster, database) = own_cluster("readyz").await;
    let app = TestApp::spawn_on(database).await;
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), 200);
    let crew = app.crew("安居家电服务有限公司").await;

    let cluster = stop_cluster(cluster).await;
    let response = app.get("/readyz").send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    let reason = body["postgres"].as_str().unwrap();
    assert!(
        reason.contains("PostgreSQL"),
        "reason names PostgreSQL: {reason}"
    );
    assert_eq!(body["object_storage"], "ok", "only the database is down");
    // The API says what is wrong: not "busy", not an internal error.
    let response = app
        .get("/api/v1/me")
        .bearer_auth(&crew.technician.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("database is unavailable"), "{message}");

    let cluster = start_cluster(cluster).await;
    wait_for_status(&app.http, &app.url("/readyz"), 200, Duration::from_secs(20)).await;
    app.shutdown().await;
    drop(cluster);
}

#[tokio::test]
async fn readyz_says_the_object_store_is_down() {
    let app = TestApp::spawn().await;
    // A second instance whose store is a port nobody listens on: the same whatever store the
    // suite runs against.
    let mut config = app.objects.config.clone();
    config.endpoint = Some(format!("http://127.0.0.1:{}", free_port()));
    let blobs = BlobStore::connect(&config).await.unwrap();
    let instance = app.instance_with_store(blobs).await;
    let response = app
        .http
        .get(format!("{}/readyz", instance.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["postgres"], "ok");
    let reason = body["object_storage"].as_str().unwrap();
    assert!(
        reason.contains("bucket") && reason.contains("no connection to the object store"),
        "reason names the bucket and the cause: {reason}"
    );
    // The public probe says what is wrong, not how the SDK failed.
    for internal in [
        "DispatchFailure",
        "dispatch failure",
        "ConnectorError",
        "source:",
    ] {
        assert!(
            !reason.contains(internal),
            "internal detail sent out: {reason}"
        );
    }
    app.shutdown().await;
}

/// The samples of a Prometheus text exposition, checked line by line: `# HELP`/`# TYPE` before
/// each family's samples, every sample `name{labels} value` with a number.
fn samples(text: &str) -> Vec<(String, f64)> {
    let mut typed = std::collections::HashSet::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap();
            let kind = parts.next().unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            typed.insert(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect(line);
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "no # TYPE before {line}");
        if series.contains('{') {
            assert!(series.ends_with('}'), "{line}");
        }
        out.push((series.to_owned(), value.parse().expect(line)));
    }
    out
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_connections_and_queues() {
    use fieldsync_server::directory::Role;

    let app = TestApp::spawn().await;
    let org = app.organisation("安居家电服务有限公司").await;
    let dispatcher = app.staff(org.id, "李娜", Role::Dispatcher).await;
    for _ in 0..3 {
        let me = app
            .get("/api/v1/me")
            .bearer_auth(&dispatcher.token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
    }
    let missing = app
        .get(&format!("/api/v1/jobs/{}", uuid::Uuid::new_v4()))
        .bearer_auth(&dispatcher.token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let peer = RawPeer::joined(&app.base_url, &dispatcher.token).await;

    let response = app.get("/metrics").send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"),
    );
    let text = response.text().await.unwrap();
    let samples = samples(&text);
    let value = |series: &str| {
        samples
            .iter()
            .find(|(s, _)| s == series)
            .map(|(_, v)| *v)
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    };
    assert_eq!(
        value(r#"fieldsync_http_requests_total{method="GET",route="/api/v1/me",status="200"}"#),
        3.0
    );
    // Route patterns, never ids.
    assert_eq!(
        value(
            r#"fieldsync_http_requests_total{method="GET",route="/api/v1/jobs/{id}",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        value(r#"fieldsync_http_request_duration_seconds_count{route="/api/v1/me"}"#),
        3.0
    );
    assert_eq!(
        value(r#"fieldsync_http_request_duration_seconds_bucket{route="/api/v1/me",le="+Inf"}"#),
        3.0
    );
    assert_eq!(value("fieldsync_sync_connections"), 1.0);
    assert_eq!(value("fieldsync_uploads_receiving"), 0.0);
    assert_eq!(value("fieldsync_webhook_deliveries_dead"), 0.0);
    assert!(value("fieldsync_upload_slots_free") > 0.0);
    drop(peer);
}

#[tokio::test]
async fn with_a_metrics_token_only_a_scraper_bearing_it_sees_the_metrics() {
    use harness::process::ServerProcess;

    let app = TestApp::spawn().await;
    let server = ServerProcess::start_with(
        &app.database.url,
        &app.objects.config,
        0,
        &[("FIELDSYNC_METRICS_TOKEN", "scrape-secret")],
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/metrics", server.base_url);
    let without = client.get(&url).send().await.unwrap();
    assert_eq!(without.status(), 401);
    let wrong = client
        .get(&url)
        .bearer_auth("scrape-secrets")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client
        .get(&url)
        .bearer_auth("scrape-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(
        right
            .text()
            .await
            .unwrap()
            .contains("fieldsync_sync_connections")
    );
    server.kill().await;
}
