//! The object store cut off while a tablet uploads (a proxy between the server and the store,
//! switched off): the sync is not reported done, every retry resumes the same upload, and once
//! the store is back the same server stores each file once.

use std::time::Duration;

use harness::TestApp;
use harness::flaky::FlakyProxy;
use harness::images::noise_png;
use harness::process::ServerProcess;
use harness::tablet::Tablet;
use serde_json::Value;

use crate::support::{log_in_and_sync, sha256};

#[tokio::test]
async fn an_object_store_outage_during_uploads_keeps_one_resumed_upload_per_file() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book_confirmed(&crew).await;
    let store = reqwest::Url::parse(app.objects.config.endpoint.as_deref().unwrap()).unwrap();
    let target = tokio::net::lookup_host((store.host_str().unwrap(), store.port().unwrap()))
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = FlakyProxy::start(target).await;
    let mut through_proxy = app.objects.config.clone();
    through_proxy.endpoint = Some(proxy.url());
    let server = ServerProcess::start(&app.database.url, &through_proxy, 0).await;

    let tablet = Tablet::new();
    log_in_and_sync(&tablet, &server.base_url, &crew.technician.token).await;
    // A card photo of several 8 MiB parts and a small one, so the outage meets both a
    // multipart upload and a single object.
    let big = noise_png(2400, 1800, 61);
    let small = noise_png(500, 400, 62);
    let mut files = Vec::new();
    for (name, bytes) in [("big.png", &big), ("small.png", &small)] {
        files.push(tablet.write_file(name, bytes).to_str().unwrap().to_owned());
    }
    let mut args = vec!["photo", &job, "--kind", "feedback_card"];
    args.extend(files.iter().map(String::as_str));
    tablet.json(&args).await;

    // The store goes away once the first bytes of a file have arrived, and comes back only
    // after the sync ended.
    let sync = tablet.command(&["--json", "sync"]).output();
    let outage = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while sqlx::query_scalar::<_, i64>("select count(*) from uploads where received > 0")
            .fetch_one(&app.database.pool)
            .await
            .unwrap()
            == 0
            && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        proxy.set_down(true);
    };
    let (output, ()) = tokio::join!(sync, outage);
    let output = output.unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "work is pending: {said}");
    assert!(said.contains("have not reached the office yet"), "{said}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(report["pending_uploads"].as_u64().unwrap() >= 1, "{report}");

    proxy.set_down(false);
    let evening = tablet.json(&["sync"]).await;
    assert_eq!(evening["pending_uploads"], 0, "{evening}");
    for bytes in [&big, &small] {
        let (uploads, complete): (i64, i64) = sqlx::query_as(
            "select count(*), count(*) filter (where state = 'complete') from uploads where sha256 = $1",
        )
        .bind(sha256(bytes))
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
        assert_eq!((uploads, complete), (1, 1), "one upload, resumed, per file");
        let stored = app
            .objects
            .blobs
            .client()
            .head_object()
            .bucket(app.objects.blobs.bucket())
            .key(format!("sha256/{}", sha256(bytes)))
            .send()
            .await
            .unwrap();
        assert_eq!(
            stored.content_length(),
            Some(i64::try_from(bytes.len()).unwrap())
        );
    }
    server.kill().await;
}
