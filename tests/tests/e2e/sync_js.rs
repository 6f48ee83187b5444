//! A JS tablet app built on @automerge/automerge-repo 2.5 and its WebSocket adapter syncs with
//! the server unchanged, and sees only what its technician may see.

use std::time::{Duration, Instant};

use fieldsync_server::documents::Documents;
use harness::TestApp;
use harness::node::NodeClient;
use serde_json::Value;
use sync_protocol::DocumentId;
use sync_protocol::job::JobDocument;

#[tokio::test]
async fn an_automerge_repo_tablet_finds_its_jobs_edits_one_and_cannot_open_anothers() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let mine = app.book(&crew, Some(crew.technician.staff.id)).await;
    let theirs = app.book(&crew, Some(crew.other_technician.staff.id)).await;
    let me: Value = app
        .get("/api/v1/me")
        .bearer_auth(&crew.technician.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let index_url = me["index_document_url"].as_str().unwrap();
    let ws_url = app.base_url.replace("http://", "ws://") + "/sync";

    let mut tablet = NodeClient::start(
        "tablet.mjs",
        &[
            &ws_url,
            &crew.technician.token,
            index_url,
            theirs["document_url"].as_str().unwrap(),
        ],
    );
    let seen = tablet.next_json().await;
    assert_eq!(seen["error"], Value::Null, "the tablet failed: {seen}");
    assert_eq!(seen["index_jobs"], serde_json::json!([mine["document_id"]]));
    assert_eq!(seen["customer"], "王秀英");
    assert_eq!(seen["edited"], true);
    assert_eq!(
        seen["forbidden"], "unavailable",
        "another technician's job stays unavailable"
    );

    // A Rust peer (the server's store, read afresh from PostgreSQL) sees the tablet's edit.
    let job_id = DocumentId::parse(mine["document_url"].as_str().unwrap())
        .unwrap()
        .as_uuid();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let store = Documents::new(app.database.pool.clone(), Default::default());
        let doc = store.get(job_id).await.unwrap().unwrap().snapshot().await;
        let job = JobDocument::read(&doc).unwrap();
        if let Some(permission) = job.visit.permissions.first() {
            assert_eq!(permission.item, "客厅地板");
            assert_eq!(permission.granted_by, "王秀英");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tablet's edit did not reach PostgreSQL"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tablet.finish().await;

    let (_, job) = app
        .job(&crew.dispatcher.token, mine["id"].as_str().unwrap())
        .await;
    let history = job["history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|c| c["staff_id"] == crew.technician.staff.id.to_string()),
        "the history names the technician behind the tablet's change"
    );
    app.shutdown().await;
}
