//! `kill -9` of the server at each stage of an upload, and the tablet resuming: while a `PATCH`
//! streams, after a part went to the object store, and (as the bucket and database are left by
//! a crash) once assembled, once promoted, and with everything but the row written.

use std::time::Duration;

use harness::TestApp;
use harness::images::noise_png;
use harness::process::ServerProcess;
use harness::tus::{create_upload, resume_until_complete, start_patch, upload_id, wait_for_upload};
use tokio::io::AsyncWriteExt;

use crate::support::sha256;

/// A tablet resumes well within this after the server's return; the lease a crash leaves
/// behind lasts ten minutes, so reaching the bound means the fix is gone.
const RESUME_LIMIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_server_killed_mid_upload_holds_it_for_seconds_at_each_stage() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let token = &crew.technician.token;
    // Streaming: part of the body has arrived, nothing stored yet. Between parts: a first 8 MiB
    // part is in the object store, the rest still arriving.
    for (stage, bytes, sent, reached) in [
        (
            "streaming",
            noise_png(550, 550, 43),
            400_000,
            "lease_until is not null",
        ),
        (
            "between parts",
            noise_png(1900, 1700, 44),
            9_000_000,
            "multipart_id is not null",
        ),
    ] {
        let server = ServerProcess::start(&app.database.url, &app.objects.config, 0).await;
        let sha = sha256(&bytes);
        let location = create_upload(&app, token, &job, &sha, bytes.len()).await;
        let path = reqwest::Url::parse(&location).unwrap().path().to_owned();
        let id = upload_id(&location);
        let mut socket = start_patch(server.port, &path, token, bytes.len()).await;
        socket.write_all(&bytes[..sent]).await.unwrap();
        socket.flush().await.unwrap();
        wait_for_upload(&app.database.pool, id, reached).await;
        server.kill().await;
        drop(socket);

        let server = ServerProcess::start(&app.database.url, &app.objects.config, 0).await;
        let url = format!("{}{path}", server.base_url);
        let took = resume_until_complete(&app.http, &url, token, &bytes, RESUME_LIMIT).await;
        eprintln!("killed while {stage}: resumed and finished {took:?} after the restart");
        let (state, attached): (String, i64) = sqlx::query_as(
            "select state, (select count(*) from attachments where sha256 = $2) from uploads where id = $1",
        )
        .bind(id)
        .bind(&sha)
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
        assert_eq!(
            (state.as_str(), attached),
            ("complete", 1),
            "killed while {stage}"
        );
        server.kill().await;
    }
}

/// The state a crash leaves at each step of finishing, made directly in the bucket and the
/// database: a `HEAD` finishes the upload from there instead of failing it.
#[tokio::test]
async fn finishing_resumes_after_a_crash_at_any_step() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let client = app.objects.blobs.client();
    let bucket = app.objects.blobs.bucket();
    for (seed, step) in [(51, "assembled"), (52, "promoted"), (53, "before the row")] {
        let bytes = noise_png(320, 320, seed);
        let sha = sha256(&bytes);
        let location = create_upload(&app, &crew.technician.token, &job, &sha, bytes.len()).await;
        let id = upload_id(&location);
        let mut objects = vec![match step {
            "assembled" => format!("staging/{id}"),
            _ => format!("sha256/{sha}"),
        }];
        if step == "before the row" {
            objects.push(format!("derived/{sha}/display.jpg"));
        }
        for key in objects {
            client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(bytes.clone().into())
                .send()
                .await
                .unwrap();
        }
        // Every byte received, the multipart upload already completed (its id is no longer
        // valid), and the lease held by an instance that is gone.
        sqlx::query(
            "update uploads set received = length, multipart_id = 'completed-before-the-crash',
                    lease_until = now() + interval '10 minutes', lease_id = gen_random_uuid(),
                    lease_instance = gen_random_uuid()
             where id = $1",
        )
        .bind(id)
        .execute(&app.database.pool)
        .await
        .unwrap();
        let head = app
            .http
            .head(&location)
            .bearer_auth(&crew.technician.token)
            .header("tus-resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200, "finishing after a crash once {step}");
        assert_eq!(
            head.headers()["upload-offset"],
            bytes.len().to_string().as_str()
        );
        let (state, attached): (String, i64) = sqlx::query_as(
            "select state, (select count(*) from attachments where sha256 = $2) from uploads where id = $1",
        )
        .bind(id)
        .bind(&sha)
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
        assert_eq!((state.as_str(), attached), ("complete", 1), "once {step}");
        let staging = client
            .head_object()
            .bucket(bucket)
            .key(format!("staging/{id}"))
            .send()
            .await;
        assert!(staging.is_err(), "the staging object is gone once {step}");
    }
}
