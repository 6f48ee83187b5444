//! A corpus of broken input: every broken sync frame of `sync-protocol`'s fixtures and a set of
//! bad HTTP bodies. Each gets a clear refusal (a protocol `error` or close, a 4xx with a JSON
//! message), nothing is stored, and the server stays healthy and usable.

use std::path::PathBuf;

use harness::TestApp;
use harness::peer::{RawPeer, Received};
use serde_json::{Value, json};

async fn counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["document_changes", "customers", "staff", "jobs", "uploads"] {
        counts.push(
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
                .fetch_one(&app.database.pool)
                .await
                .unwrap(),
        );
    }
    counts
}

#[tokio::test]
async fn every_broken_sync_frame_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let before = counts(&app).await;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sync-protocol/tests/fixtures/wire/broken");
    let mut frames: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cbor"))
        .collect();
    frames.sort();
    assert!(frames.len() >= 15, "{}", frames.len());
    for frame in &frames {
        let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
        peer.send_raw(std::fs::read(frame).unwrap()).await;
        let answer = peer.recv_skipping_sync().await;
        assert!(
            matches!(
                answer,
                Received::Error { .. } | Received::DocUnavailable { .. } | Received::Closed
            ),
            "{}: {answer:?}",
            frame.display()
        );
    }
    assert_eq!(counts(&app).await, before, "nothing was stored");
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), 200);
    let document = harness::peer::fetch_job_document(
        &app.base_url,
        &crew.technician.token,
        job["document_url"].as_str().unwrap(),
    )
    .await;
    assert_eq!(document.customer.name, "王秀英", "sync still works");
}

#[tokio::test]
async fn every_bad_http_body_is_a_clear_4xx_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let job_id = job["id"].as_str().unwrap();
    let before = counts(&app).await;
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("not JSON", b"{name: 1".to_vec()),
        ("an array", b"[1, 2, 3]".to_vec()),
        (
            "invalid UTF-8",
            b"{\"name\": \"\xff\xfe\", \"address\": \"x\"}".to_vec(),
        ),
        ("NUL", br#"{"name": "a\u0000", "address": "x"}"#.to_vec()),
        ("nested 10,000 deep", deep.into_bytes()),
        ("wrong types", br#"{"name": 5, "address": ["x"]}"#.to_vec()),
        (
            "unknown field",
            br#"{"name": "a", "address": "x", "admin": true}"#.to_vec(),
        ),
        ("huge number", br#"{"window_start": 1e999999}"#.to_vec()),
        (
            "over 64 KiB",
            json!({"name": "a".repeat(70_000)}).to_string().into_bytes(),
        ),
    ];
    let paths = [
        "/api/v1/customers".to_owned(),
        "/api/v1/staff".to_owned(),
        "/api/v1/jobs".to_owned(),
        format!("/api/v1/jobs/{job_id}/reschedule"),
        format!("/api/v1/jobs/{job_id}/confirmation"),
        format!("/api/v1/jobs/{job_id}/cancel"),
        "/api/v1/webhooks".to_owned(),
    ];
    for path in &paths {
        for (what, body) in &bodies {
            let response = app
                .post(path)
                .bearer_auth(&admin.token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let answer: Value = response.json().await.unwrap_or(Value::Null);
            assert!(
                (400..500).contains(&status),
                "POST {path} with {what}: {status} {answer}"
            );
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "POST {path} with {what}: no message in {answer}"
            );
        }
    }
    assert_eq!(counts(&app).await, before, "nothing was stored");
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), 200);
}
