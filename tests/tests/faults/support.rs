//! What the fault tests share.

use harness::TestApp;
use harness::jobs::Crew;
use harness::tablet::Tablet;
use serde_json::Value;
use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `field login` against `base_url` as the crew's technician, then a first `field sync`.
pub async fn log_in_and_sync(tablet: &Tablet, base_url: &str, token: &str) -> Value {
    let login = tablet
        .json(&["login", "--server", base_url, "--token", token])
        .await;
    assert_eq!(login["checked"], true, "the server accepted the token");
    tablet.json(&["sync"]).await
}

/// The work notes of `job` as the server holds them, one line each.
pub async fn server_notes(base_url: &str, app: &TestApp, crew: &Crew, job: &str) -> Vec<String> {
    let (_, view) = app.job(&crew.dispatcher.token, job).await;
    let document = harness::peer::fetch_job_document(
        base_url,
        &crew.dispatcher.token,
        view["document_url"].as_str().unwrap(),
    )
    .await;
    document
        .visit
        .work_notes
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}
