//! `/healthz` and `/readyz`, including what an operator sees while a dependency is down.

use std::time::Duration;

use harness::TestApp;
use harness::postgres::{TestDatabase, connect, private_cluster, test_root};
use serde_json::Value;

use crate::support::wait_for_status;

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
    let root = test_root().join(format!("readyz-{}", uuid::Uuid::new_v4().simple()));
    let mut cluster = tokio::task::spawn_blocking(move || private_cluster(&root))
        .await
        .unwrap();
    let url = cluster.url("postgres");
    let pool = connect(&url, 3).await;
    fieldsync_server::db::migrate(&pool).await.unwrap();
    let database = TestDatabase {
        name: "postgres".into(),
        url,
        pool,
    };
    let app = TestApp::spawn_on(database).await;
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), 200);

    cluster = tokio::task::spawn_blocking(move || {
        cluster.stop().expect("stopping PostgreSQL");
        cluster
    })
    .await
    .unwrap();
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

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start().expect("restarting PostgreSQL");
        cluster
    })
    .await
    .unwrap();
    wait_for_status(&app.http, &app.url("/readyz"), 200, Duration::from_secs(20)).await;
    app.shutdown().await;
    drop(cluster);
}

#[tokio::test]
async fn readyz_says_the_object_store_is_down() {
    let mut app = TestApp::spawn().await;
    let endpoint = app.objects.server.take().expect("in-process endpoint");
    endpoint.shutdown().await;
    let response = app.get("/readyz").send().await.unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["postgres"], "ok");
    let reason = body["object_storage"].as_str().unwrap();
    assert!(
        reason.contains("bucket"),
        "reason names the bucket: {reason}"
    );
    app.shutdown().await;
}
