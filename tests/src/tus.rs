//! tus uploads made by hand, for tests that cut them off, kill the server under them, or look at
//! what the server kept: creation, a `PATCH` started on a raw socket, and a tablet's resumption.

use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::TestApp;

/// `POST /api/v1/uploads` for a PNG cleanup photo of `length` bytes with SHA-256 `sha` on `job`,
/// as a tablet makes it by hand; returns the upload's absolute URL.
pub async fn create_upload(
    app: &TestApp,
    token: &str,
    job: &Value,
    sha: &str,
    length: usize,
) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let metadata = format!(
        "sha256 {},job_id {},kind {},content_type {}",
        b64(sha),
        b64(job["id"].as_str().expect("job id")),
        b64("cleanup"),
        b64("image/png")
    );
    let created = app
        .post("/api/v1/uploads")
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", length.to_string())
        .header("upload-metadata", metadata)
        .send()
        .await
        .expect("POST /api/v1/uploads");
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().expect("a Location");
    if location.starts_with("http") {
        location.to_owned()
    } else {
        app.url(location)
    }
}

/// The upload id at the end of an upload URL.
pub fn upload_id(url: &str) -> Uuid {
    url.rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("an upload URL ends with its id")
}

/// Opens a `PATCH` of `length` bytes at offset 0 to `path` on `port` and sends its headers;
/// the caller writes as much of the body as the test needs.
pub async fn start_patch(port: u16, path: &str, token: &str, length: usize) -> TcpStream {
    let mut socket = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connecting to the server");
    let head = format!(
        "PATCH {path} HTTP/1.1\r\nhost: fieldsync\r\nauthorization: Bearer {token}\r\n\
         tus-resumable: 1.0.0\r\nupload-offset: 0\r\n\
         content-type: application/offset+octet-stream\r\ncontent-length: {length}\r\n\r\n"
    );
    socket
        .write_all(head.as_bytes())
        .await
        .expect("sending the PATCH's headers");
    socket
}

/// Waits until the upload's row satisfies `condition` (SQL over `uploads`, e.g.
/// `lease_until is not null`: a request is receiving it), bounded by 20 s.
pub async fn wait_for_upload(pool: &PgPool, id: Uuid, condition: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let sql = format!("select {condition} from uploads where id = $1");
    while !sqlx::query_scalar::<_, bool>(sqlx::AssertSqlSafe(sql.clone()))
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("reading the upload")
    {
        assert!(
            Instant::now() < deadline,
            "the upload never got to `{condition}`"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Resumes an upload as tus clients do (HEAD, then PATCH the rest from the server's offset)
/// until the server has it all, retrying while the server answers otherwise; panics after
/// `limit`. Returns how long it took.
pub async fn resume_until_complete(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    bytes: &[u8],
    limit: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < limit,
            "the upload could not be finished within {limit:?}"
        );
        let head = http
            .head(url)
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .send()
            .await;
        if let Ok(head) = head
            && head.status() == 200
        {
            let offset: usize = head.headers()["upload-offset"]
                .to_str()
                .ok()
                .and_then(|o| o.parse().ok())
                .expect("Upload-Offset");
            if offset == bytes.len() {
                return started.elapsed();
            }
            let patched = http
                .patch(url)
                .bearer_auth(token)
                .header("tus-resumable", "1.0.0")
                .header("upload-offset", offset.to_string())
                .header("content-type", "application/offset+octet-stream")
                .body(bytes[offset..].to_vec())
                .send()
                .await;
            if patched.is_ok_and(|p| p.status() == 204) {
                return started.elapsed();
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
