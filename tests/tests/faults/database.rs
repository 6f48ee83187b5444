//! PostgreSQL stopped and started under a running server, with a sync connection open and a
//! tablet syncing: nothing is reported done that is not stored, no job looks withdrawn, and the
//! same server (not restarted) takes the work once the database is back.

use std::time::Duration;

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};
use harness::TestApp;
use harness::peer::RawPeer;
use harness::postgres::{own_cluster, start_cluster, stop_cluster};
use harness::process::ServerProcess;
use harness::tablet::Tablet;

use crate::support::{log_in_and_sync, server_notes};

#[tokio::test]
async fn a_database_outage_under_running_sync_is_never_reported_done_and_heals_without_a_restart() {
    let (cluster, database) = own_cluster("db-outage").await;
    let url = database.url.clone();
    let app = TestApp::spawn_on(database).await;
    let crew = app.crew("安居家电服务有限公司").await;
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(app.book_confirmed(&crew).await);
    }
    let server = ServerProcess::start(&url, &app.objects.config, 0).await;
    let tablet = Tablet::new();
    log_in_and_sync(&tablet, &server.base_url, &crew.technician.token).await;
    for (n, job) in jobs.iter().enumerate() {
        tablet
            .json(&["work", job, "--note", &format!("第{n}单 检查了漏水")])
            .await;
    }
    let (_, first) = app.job(&crew.dispatcher.token, &jobs[0]).await;
    let first_id = first["document_url"]
        .as_str()
        .unwrap()
        .trim_start_matches("automerge:")
        .to_owned();
    let mut peer = RawPeer::joined(&server.base_url, &crew.technician.token).await;

    let cluster = stop_cluster(cluster).await;
    // The open connection asks for the technician's own job: a close that says to keep the
    // work and retry, never `doc-unavailable`.
    let message = Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .unwrap();
    peer.request(&first_id, message.encode()).await;
    let (code, reason) = peer
        .close_frame(Duration::from_secs(60))
        .await
        .expect("a close frame naming the storage failure");
    assert_eq!(code, 1011, "{reason}");
    assert!(reason.contains("could not store your work"), "{reason}");
    // The tablet's sync is not done, says why, and keeps every change.
    let output = tablet.run(&["sync"]).await;
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("database is unavailable") || said.contains("could not store your work"),
        "{said}"
    );
    assert!(!said.contains("no longer shared"), "{said}");
    let status = tablet.json(&["status"]).await;
    assert_eq!(
        status["pending_changes"].as_array().unwrap().len(),
        3,
        "{status}"
    );

    // The database returns; the same server process takes the work.
    let cluster = start_cluster(cluster).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let output = tablet.run(&["sync"]).await;
        if output.status.success() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not recover: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for (n, job) in jobs.iter().enumerate() {
        let notes = server_notes(&server.base_url, &app, &crew, job).await;
        assert_eq!(notes, [format!("第{n}单 检查了漏水")]);
    }
    server.kill().await;
    app.shutdown().await;
    drop(cluster);
}
