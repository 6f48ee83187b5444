//! Evidence uploads over tus 1.0, with the real tus-js-client: resumable, verified against the
//! whole file's SHA-256, stored once per content.

use harness::TestApp;
use harness::node::NodeClient;
use harness::tus::{create_upload, start_patch, wait_for_upload};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// A photo of about `size` bytes (a noise PNG, incompressible).
fn photo(size: usize, seed: u32) -> Vec<u8> {
    let side = ((size / 3) as f64).sqrt() as u32;
    harness::images::noise_png(side, side, seed)
}

async fn upload(
    app: &TestApp,
    token: &str,
    bytes: &[u8],
    metadata: Value,
    cut_at: Option<usize>,
) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("photo.jpg");
    std::fs::write(&file, bytes).unwrap();
    let endpoint = app.url("/api/v1/uploads");
    let metadata = metadata.to_string();
    let cut = cut_at.map(|c| c.to_string()).unwrap_or_default();
    let mut args = vec![
        endpoint.as_str(),
        token,
        file.to_str().unwrap(),
        metadata.as_str(),
    ];
    if cut_at.is_some() {
        args.push(&cut);
    }
    let mut client = NodeClient::start("upload.mjs", &args);
    let result = client.next_json().await;
    client.finish().await;
    result
}

async fn stored_sha256(app: &TestApp, key: &str) -> Option<String> {
    let object = app
        .objects
        .blobs
        .client()
        .get_object()
        .bucket(app.objects.blobs.bucket())
        .key(key)
        .send()
        .await
        .ok()?;
    let bytes = object.body.collect().await.unwrap().into_bytes();
    Some(hex::encode(Sha256::digest(&bytes)))
}

async fn bucket_keys(app: &TestApp) -> Vec<String> {
    let listed = app
        .objects
        .blobs
        .client()
        .list_objects_v2()
        .bucket(app.objects.blobs.bucket())
        .send()
        .await
        .unwrap();
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn an_interrupted_upload_resumes_with_tus_js_client_and_is_stored_verified() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let bytes = photo(3 * 1024 * 1024 + 12345, 7);
    let sha = hex::encode(Sha256::digest(&bytes));
    let metadata = json!({"sha256": sha, "job_id": job["id"], "kind": "feedback_card", "content_type": "image/png", "filename": "card.png"});
    let cut_at = 1_000_000 + (uuid::Uuid::new_v4().as_u128() % 1_000_000) as usize;
    let result = upload(&app, &crew.technician.token, &bytes, metadata, Some(cut_at)).await;
    assert_eq!(result["done"], true, "{result}");
    assert_eq!(
        result["attempts"], 2,
        "it was cut once and resumed: {result}"
    );
    assert_eq!(
        stored_sha256(&app, &format!("sha256/{sha}")).await,
        Some(sha.clone())
    );
    let keys = bucket_keys(&app).await;
    assert!(
        !keys.iter().any(|k| k.starts_with("staging/")),
        "no staging left: {keys:?}"
    );
}

#[tokio::test]
async fn a_wrong_sha256_stores_nothing_and_says_why() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let bytes = photo(200_000, 3);
    let metadata = json!({"sha256": "0".repeat(64), "job_id": job["id"], "kind": "feedback_card", "content_type": "image/png"});
    let result = upload(&app, &crew.technician.token, &bytes, metadata, None).await;
    assert_eq!(result["status"], 460, "{result}");
    assert!(
        result["body"]
            .as_str()
            .unwrap()
            .contains("nothing was stored"),
        "{result}"
    );
    assert!(
        bucket_keys(&app).await.is_empty(),
        "nothing visible in the bucket"
    );
}

#[tokio::test]
async fn the_same_file_from_two_tablets_is_stored_once() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let first = app.book(&crew, Some(crew.technician.staff.id)).await;
    let second = app.book(&crew, Some(crew.other_technician.staff.id)).await;
    let bytes = photo(500_000, 9);
    let sha = hex::encode(Sha256::digest(&bytes));
    for (token, job) in [
        (&crew.technician.token, &first),
        (&crew.other_technician.token, &second),
    ] {
        let metadata = json!({"sha256": sha, "job_id": job["id"], "kind": "cleanup", "content_type": "image/png"});
        let result = upload(&app, token, &bytes, metadata, None).await;
        assert_eq!(result["done"], true, "{result}");
    }
    let originals: Vec<String> = bucket_keys(&app)
        .await
        .into_iter()
        .filter(|k| k.starts_with("sha256/"))
        .collect();
    assert_eq!(originals, vec![format!("sha256/{sha}")]);
    let links: i64 = sqlx::query_scalar("select count(*) from attachments where sha256 = $1")
        .bind(&sha)
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
    assert_eq!(links, 2, "both jobs reference the stored file");

    // Another organisation knowing the hash gets nothing for free: it must send the bytes
    // (offset 0 at creation), and the file is still stored once.
    use base64::Engine;
    let rival = app.crew("另一家公司").await;
    let theirs = app.book(&rival, Some(rival.technician.staff.id)).await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let created = app
        .post("/api/v1/uploads")
        .bearer_auth(&rival.technician.token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", bytes.len().to_string())
        .header(
            "upload-metadata",
            format!(
                "sha256 {},job_id {},kind {},content_type {}",
                b64(&sha),
                b64(theirs["id"].as_str().unwrap()),
                b64("cleanup"),
                b64("image/png")
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(created.headers()["upload-offset"], "0");
    let metadata = json!({"sha256": sha, "job_id": theirs["id"], "kind": "cleanup", "content_type": "image/png"});
    let result = upload(&app, &rival.technician.token, &bytes, metadata, None).await;
    assert_eq!(result["done"], true, "{result}");
    let originals = bucket_keys(&app)
        .await
        .into_iter()
        .filter(|k| k.starts_with("sha256/"))
        .count();
    assert_eq!(originals, 1);
}

#[tokio::test]
async fn uploads_refuse_what_they_must_with_clear_statuses() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let theirs = app.book(&crew, Some(crew.other_technician.staff.id)).await;
    let metadata = |job: &Value, content_type: &str| {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        format!(
            "sha256 {},job_id {},kind {},content_type {}",
            b64(&"a".repeat(64)),
            b64(job["id"].as_str().unwrap()),
            b64("feedback_card"),
            b64(content_type)
        )
    };
    let create = |token: &str, length: &str, meta: String, version: &str| {
        app.post("/api/v1/uploads")
            .bearer_auth(token)
            .header("tus-resumable", version)
            .header("upload-length", length)
            .header("upload-metadata", meta)
            .send()
    };
    let check = |response: reqwest::Response, status: u16| async move {
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(response.headers()["tus-resumable"], "1.0.0");
        let body: Value = response.json().await.unwrap();
        body["error"]["message"].as_str().unwrap().to_owned()
    };
    let message = check(
        create(
            &crew.technician.token,
            "100",
            metadata(&job, "image/heic"),
            "1.0.0",
        )
        .await
        .unwrap(),
        415,
    )
    .await;
    assert!(message.contains("JPEG"), "{message}");
    check(
        create(
            &crew.technician.token,
            "100",
            metadata(&job, "image/jpeg"),
            "0.2.2",
        )
        .await
        .unwrap(),
        412,
    )
    .await;
    let message = check(
        create(
            &crew.technician.token,
            &(60 * 1024 * 1024).to_string(),
            metadata(&job, "image/jpeg"),
            "1.0.0",
        )
        .await
        .unwrap(),
        413,
    )
    .await;
    assert!(message.contains("limit"), "{message}");
    check(
        create(
            &crew.technician.token,
            "100",
            metadata(&theirs, "image/jpeg"),
            "1.0.0",
        )
        .await
        .unwrap(),
        404,
    )
    .await;
    check(
        create(
            &crew.dispatcher.token,
            "100",
            metadata(&job, "image/jpeg"),
            "1.0.0",
        )
        .await
        .unwrap(),
        403,
    )
    .await;
    check(
        create(&crew.technician.token, "100", "kind Zm9v".into(), "1.0.0")
            .await
            .unwrap(),
        400,
    )
    .await;

    // Offsets must match; a wrong per-request checksum keeps nothing.
    let response = create(
        &crew.technician.token,
        "10",
        metadata(&job, "image/png"),
        "1.0.0",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let patch = |offset: &str, body: &'static [u8], checksum: Option<&str>| {
        let mut request = app
            .http
            .patch(app.url(&location))
            .bearer_auth(&crew.technician.token)
            .header("tus-resumable", "1.0.0")
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset)
            .body(body);
        if let Some(checksum) = checksum {
            request = request.header("upload-checksum", checksum);
        }
        request.send()
    };
    check(patch("3", b"abc", None).await.unwrap(), 409).await;
    check(
        patch("0", b"abcde", Some("sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA="))
            .await
            .unwrap(),
        460,
    )
    .await;
    let head = app
        .http
        .head(app.url(&location))
        .bearer_auth(&crew.technician.token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["upload-offset"], "0");
    let response = patch("0", b"abcde", None).await.unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(response.headers()["upload-offset"], "5");
    check(patch("5", b"toolongbody", None).await.unwrap(), 413).await;
    // Another technician cannot even see the upload.
    let other = app
        .http
        .head(app.url(&location))
        .bearer_auth(&crew.other_technician.token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    // Termination frees it; afterwards it is gone.
    let deleted = app
        .http
        .delete(app.url(&location))
        .bearer_auth(&crew.technician.token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    check(patch("5", b"abcde", None).await.unwrap(), 410).await;
    assert!(bucket_keys(&app).await.is_empty());
}

/// A tablet that hangs up after sending a `PATCH` but before the answer resumes at once from the
/// bytes that arrived: the server records them and gives the upload back rather than holding it
/// for a tablet that is gone. (Found by killing `field sync` at random points: hyper dropped
/// the request's handler while it held the upload, and the tablet waited out the lease.)
#[tokio::test]
async fn a_tablet_gone_before_its_patch_is_answered_loses_nothing_and_resumes_at_once() {
    use tokio::io::AsyncWriteExt;

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let bytes = photo(1_500_000, 21);
    let sha = hex::encode(Sha256::digest(&bytes));
    let location = create_upload(&app, &crew.technician.token, &job, &sha, bytes.len()).await;
    let path = reqwest::Url::parse(&location).unwrap().path().to_owned();

    let sent = 600_000;
    let port = reqwest::Url::parse(&app.base_url).unwrap().port().unwrap();
    // A whole PATCH of the first `sent` bytes, and the tablet is gone before the answer.
    let mut socket = start_patch(port, &path, &crew.technician.token, sent).await;
    socket.write_all(&bytes[..sent]).await.unwrap();
    socket.flush().await.unwrap();
    drop(socket);

    let offset = || async {
        let response = app
            .http
            .head(&location)
            .bearer_auth(&crew.technician.token)
            .header("tus-resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse::<usize>()
            .unwrap()
    };
    // The server needs a moment to read what is in flight; give it a few seconds, far less
    // than any lease.
    let mut kept = offset().await;
    for _ in 0..50 {
        if kept == sent {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        kept = offset().await;
    }
    assert_eq!(kept, sent, "every byte that arrived is kept");

    let resumed = app
        .http
        .patch(&location)
        .bearer_auth(&crew.technician.token)
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", sent.to_string())
        .header("content-type", "application/offset+octet-stream")
        .body(bytes[sent..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(
        resumed.status(),
        204,
        "the cut-off request no longer holds the upload: {}",
        resumed.text().await.unwrap_or_default()
    );
    assert_eq!(
        stored_sha256(&app, &format!("sha256/{sha}")).await,
        Some(sha)
    );
}

#[tokio::test]
async fn each_patch_keeps_only_its_own_bytes_until_a_part_goes_out() {
    use fieldsync_server::uploads::PART_BYTES;

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    // Over one part: the third PATCH sends the first part to object storage.
    let bytes = photo(PART_BYTES + 2_000_000, 33);
    let sha = hex::encode(Sha256::digest(&bytes));
    let location = create_upload(&app, &crew.technician.token, &job, &sha, bytes.len()).await;
    let id: uuid::Uuid = location.rsplit('/').next().unwrap().parse().unwrap();
    let kept = || async {
        sqlx::query_as::<_, (i64, i64)>(
            "select count(*), coalesce(sum(length(bytes)), 0)::bigint
             from upload_pending_chunks where upload_id = $1",
        )
        .bind(id)
        .fetch_one(&app.database.pool)
        .await
        .unwrap()
    };

    let chunk = 3 * 1024 * 1024;
    let mut offset = 0;
    let mut since_part = 0;
    while offset < bytes.len() {
        let end = (offset + chunk).min(bytes.len());
        let response = app
            .http
            .patch(&location)
            .bearer_auth(&crew.technician.token)
            .header("tus-resumable", "1.0.0")
            .header("upload-offset", offset.to_string())
            .header("content-type", "application/offset+octet-stream")
            .body(bytes[offset..end].to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204, "{}", response.text().await.unwrap());
        since_part += 1;
        if end / PART_BYTES > offset / PART_BYTES {
            since_part = usize::from(end % PART_BYTES > 0);
        }
        offset = end;
        if offset < bytes.len() {
            // What is kept is exactly what has not gone out in a part, one row per PATCH.
            assert_eq!(
                kept().await,
                (since_part as i64, (offset % PART_BYTES) as i64),
                "after {offset} bytes"
            );
        }
    }
    assert_eq!(kept().await, (0, 0), "nothing kept once stored");
    assert_eq!(
        stored_sha256(&app, &format!("sha256/{sha}"))
            .await
            .as_deref(),
        Some(sha.as_str())
    );
}

#[tokio::test]
async fn a_patch_still_arriving_when_its_upload_is_terminated_keeps_nothing() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let bytes = photo(900_000, 41);
    let sha = hex::encode(Sha256::digest(&bytes));
    let location = create_upload(&app, &crew.technician.token, &job, &sha, bytes.len()).await;
    let url = reqwest::Url::parse(&location).unwrap();
    let id: uuid::Uuid = location.rsplit('/').next().unwrap().parse().unwrap();

    // A PATCH of 500,000 bytes, half of them sent: the server is receiving it.
    let port = reqwest::Url::parse(&app.base_url).unwrap().port().unwrap();
    let mut socket = start_patch(port, url.path(), &crew.technician.token, 500_000).await;
    socket.write_all(&bytes[..250_000]).await.unwrap();
    socket.flush().await.unwrap();
    // The server is receiving it once the request holds the upload's lease.
    wait_for_upload(&app.database.pool, id, "lease_until is not null").await;

    // Meanwhile the tablet gives the upload up.
    let terminated = app
        .http
        .delete(&location)
        .bearer_auth(&crew.technician.token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(terminated.status(), 204);

    // The rest of the body arrives: the PATCH is refused and keeps nothing.
    socket.write_all(&bytes[250_000..500_000]).await.unwrap();
    socket.flush().await.unwrap();
    let mut answer = vec![0; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(20), socket.read(&mut answer))
        .await
        .expect("the PATCH is answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(answer.starts_with("HTTP/1.1 409"), "{answer}");
    let (rows, received): (i64, i64) = sqlx::query_as(
        "select (select count(*) from upload_pending_chunks where upload_id = $1), received
         from uploads where id = $1",
    )
    .bind(id)
    .fetch_one(&app.database.pool)
    .await
    .unwrap();
    assert_eq!(
        (rows, received),
        (0, 0),
        "nothing kept of the terminated upload"
    );
    let head = app
        .http
        .head(&location)
        .bearer_auth(&crew.technician.token)
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 410);
}

#[tokio::test]
async fn a_patch_announcing_more_than_is_left_is_refused_before_anything_is_stored() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let bytes = photo(200_000, 7);
    let sha = hex::encode(Sha256::digest(&bytes));
    let location = create_upload(&app, &crew.technician.token, &job, &sha, 100_000).await;
    let id: uuid::Uuid = location.rsplit('/').next().unwrap().parse().unwrap();
    let response = app
        .http
        .patch(&location)
        .bearer_auth(&crew.technician.token)
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", "0")
        .header("content-type", "application/offset+octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("only 100000 are left"), "{message}");
    let (received, multipart): (i64, Option<String>) =
        sqlx::query_as("select received, multipart_id from uploads where id = $1")
            .bind(id)
            .fetch_one(&app.database.pool)
            .await
            .unwrap();
    assert_eq!((received, multipart), (0, None), "nothing was stored");
}
