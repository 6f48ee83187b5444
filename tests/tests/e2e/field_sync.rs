//! The `field` CLI against the real server: a day worked offline, a client killed during sync,
//! concurrent edits by a technician and a dispatcher, a reassignment with unsent work, a job
//! damaged in storage.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::Utc;
use fieldsync_server::auth::DeviceToken;
use harness::TestApp;
use harness::images::{gradient_jpeg, noise_png};
use harness::jobs::Crew;
use harness::process::ServerProcess;
use harness::tablet::Tablet;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sync_protocol::job::JobDocument;

/// `field login` then `field sync` as the crew's technician; returns the sync report.
async fn log_in_and_sync(tablet: &Tablet, base_url: &str, crew: &Crew) -> Value {
    let login = tablet
        .json(&[
            "login",
            "--server",
            base_url,
            "--token",
            &crew.technician.token,
        ])
        .await;
    assert_eq!(login["checked"], true, "the server accepted the token");
    tablet.json(&["sync"]).await
}

/// The job document as the server holds it, fetched over the sync protocol as the dispatcher.
async fn server_document(base_url: &str, crew: &Crew, job: &Value) -> JobDocument {
    let document_url = job["document_url"].as_str().unwrap();
    harness::peer::fetch_job_document(base_url, &crew.dispatcher.token, document_url).await
}

async fn attachments(app: &TestApp, crew: &Crew, job: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/jobs/{job}/attachments"))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
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

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test]
async fn a_day_worked_offline_arrives_complete_when_the_server_returns() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let mut jobs = Vec::new();
    for _ in 0..3 {
        jobs.push(app.book_confirmed(&crew).await);
    }
    let server = ServerProcess::start(&app.database.url, &app.objects.config, 0).await;
    let tablet = Tablet::new();
    // Morning, in the depot: the day's jobs reach the tablet.
    let morning = log_in_and_sync(&tablet, &server.base_url, &crew).await;
    assert_eq!(morning["documents"], 4, "the job list and three jobs");
    let listed = tablet.json(&["jobs"]).await;
    let listed: BTreeSet<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), 3);

    // No server for the rest of the day.
    let port = server.port;
    server.kill().await;
    let mut photos = Vec::new();
    for (n, job) in jobs.iter().enumerate() {
        let view = tablet.json(&["show", job]).await;
        assert_eq!(view["job"]["customer"]["name"], "王秀英");
        let seed = u8::try_from(n).unwrap();
        let card = gradient_jpeg(1200, 900, 10 + seed);
        let site = gradient_jpeg(900, 1200, 50 + seed);
        tablet.work_a_visit(job, &card, &site).await;
        photos.push((sha256(&card), sha256(&site)));
    }
    let offline = tablet.refused(&["sync"]).await;
    assert!(offline.contains("Cannot reach the server"), "{offline}");
    assert!(
        offline.contains("your work stays on this tablet"),
        "{offline}"
    );
    let waiting = tablet.json(&["status"]).await;
    assert_eq!(waiting["pending_changes"].as_array().unwrap().len(), 3);
    assert_eq!(
        waiting["pending_uploads"].as_array().unwrap().len(),
        9,
        "a card, a site photo and a signature per job"
    );

    // Evening: the server is back; one sync delivers everything.
    let evening_started = Utc::now().timestamp_millis();
    let server = ServerProcess::start(&app.database.url, &app.objects.config, port).await;
    let evening = tablet.json(&["sync"]).await;
    assert_eq!(evening["pending_changes"], 0, "{evening}");
    assert_eq!(evening["pending_uploads"], 0, "{evening}");
    assert_eq!(evening["uploaded"].as_array().unwrap().len(), 9);
    assert_eq!(evening["refused"], json!([]));
    let status = tablet.json(&["status"]).await;
    assert_eq!(status["pending_changes"], json!([]));
    assert_eq!(status["pending_uploads"], json!([]));

    let keys = bucket_keys(&app).await;
    for (job, (card, site)) in jobs.iter().zip(&photos) {
        let (code, view) = app.job(&crew.dispatcher.token, job).await;
        assert_eq!(code, 200);
        assert_eq!(view["status"], "complete", "{}", view["missing"]);
        assert_eq!(view["review_flags"], json!([]), "{}", view["review_flags"]);
        let stored: BTreeSet<String> = attachments(&app, &crew, job)
            .await
            .iter()
            .map(|a| {
                format!(
                    "{}:{}",
                    a["kind"].as_str().unwrap(),
                    a["sha256"].as_str().unwrap()
                )
            })
            .collect();
        assert!(
            stored.contains(&format!("feedback_card:{card}")),
            "{stored:?}"
        );
        assert!(stored.contains(&format!("cleanup:{site}")), "{stored:?}");
        for sha in [card, site] {
            assert!(
                keys.contains(&format!("sha256/{sha}")),
                "{sha} in the bucket"
            );
        }
        let document = server_document(&server.base_url, &crew, &view).await;
        assert_eq!(document.visit.work_notes, "更换了洗衣机进水阀，试机正常。");
        // Every event shows both clocks: the tablet's, and the server's receipt in the evening.
        let timeline = view["timeline"].as_array().unwrap();
        let arrival = timeline
            .iter()
            .find(|e| e["kind"] == "arrived")
            .unwrap_or_else(|| panic!("{timeline:?}"));
        for event in timeline {
            let received = chrono::DateTime::parse_from_rfc3339(
                event["received_at"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{event}")),
            )
            .unwrap()
            .timestamp_millis();
            assert!(event["change"].is_string(), "{event}");
            assert!(
                received >= event["device_time"].as_i64().unwrap(),
                "received after it was recorded: {event}"
            );
        }
        assert!(
            arrival["device_time"].as_i64().unwrap() < evening_started,
            "{arrival}"
        );
        // ...and the server's clock says when it really arrived: in the evening.
        let arrival_received =
            chrono::DateTime::parse_from_rfc3339(arrival["received_at"].as_str().unwrap())
                .unwrap()
                .timestamp_millis();
        assert!(arrival_received >= evening_started, "{arrival}");
    }
    // Operators see the tablet: connected, synced, and by its own report nothing left to send.
    let fleet: Vec<Value> = app
        .get("/api/v1/fleet")
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let device = fleet
        .iter()
        .find(|d| d["device_token_id"] == crew.technician.token_id.to_string())
        .unwrap();
    assert!(device["last_synced_at"].is_string(), "{device}");
    assert!(device["reported_at"].is_string(), "{device}");
    assert_eq!(device["pending_changes"], 0, "{device}");
    assert_eq!(device["pending_uploads"], 0, "{device}");

    // A second sync has nothing to do.
    let again = tablet.json(&["sync"]).await;
    assert_eq!(again["changes_sent"], 0);
    assert_eq!(again["uploaded"], json!([]));
}

#[tokio::test]
async fn a_client_killed_during_sync_and_upload_loses_nothing_and_stores_nothing_twice() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let jobs = [
        app.book_confirmed(&crew).await,
        app.book_confirmed(&crew).await,
    ];
    let tablet = Tablet::new();
    log_in_and_sync(&tablet, &app.base_url, &crew).await;
    let mut expected = BTreeSet::new();
    for (n, job) in jobs.iter().enumerate() {
        // Large enough that uploads take several tus PATCHes (1 MiB each): noise does not
        // compress.
        let seed = u32::try_from(n).unwrap();
        let card = noise_png(1000, 700, 100 + seed);
        let site = noise_png(700, 1000, 150 + seed);
        assert!(card.len() > 2_000_000, "{} bytes", card.len());
        expected.insert(sha256(&card));
        expected.insert(sha256(&site));
        tablet.work_a_visit(job, &card, &site).await;
    }

    // A new seed each run explores new kill points; a failure prints the one to replay with.
    let seed = std::env::var("FIELD_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random::<u64>());
    eprintln!("kill points from FIELD_KILL_SEED={seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut killed = 0;
    for _ in 0..8 {
        let mut sync = tablet.spawn(&["sync"]);
        let after = Duration::from_millis(rng.random_range(20..700));
        tokio::select! {
            _ = tokio::time::sleep(after) => {
                sync.start_kill().unwrap();
                killed += 1;
            }
            finished = sync.wait() => {
                finished.unwrap();
            }
        }
        sync.wait().await.unwrap();
    }
    assert!(killed > 0, "at least one run was cut short");

    let finished = tablet.json(&["sync"]).await;
    assert_eq!(finished["pending_changes"], 0, "{finished}");
    assert_eq!(finished["pending_uploads"], 0, "{finished}");

    let mut recorded = BTreeSet::new();
    for job in &jobs {
        let (_, view) = app.job(&crew.dispatcher.token, job).await;
        assert_eq!(view["status"], "complete", "{}", view["missing"]);
        let listed = attachments(&app, &crew, job).await;
        let shas: Vec<String> = listed
            .iter()
            .map(|a| a["sha256"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(shas.len(), 3, "card, site photo and signature: {shas:?}");
        recorded.extend(shas);
        let local = tablet.json(&["show", job]).await;
        let document = server_document(&app.base_url, &crew, &view).await;
        assert_eq!(
            local["job"]["visit"],
            serde_json::to_value(&document.visit).unwrap(),
            "the server holds the visit exactly as recorded"
        );
    }
    assert!(expected.is_subset(&recorded));
    // Both customers signed with the same name and strokes: one signature image, stored once.
    assert_eq!(recorded.len(), 5, "four photos and one signature image");
    let originals: BTreeSet<String> = bucket_keys(&app)
        .await
        .iter()
        .filter_map(|k| k.strip_prefix("sha256/").map(str::to_owned))
        .collect();
    assert_eq!(originals, recorded, "each file stored once, nothing else");
}

#[tokio::test]
async fn technician_and_dispatcher_edits_made_apart_both_survive_the_merge() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book_confirmed(&crew).await;
    let tablet = Tablet::new();
    log_in_and_sync(&tablet, &app.base_url, &crew).await;

    // Apart: the technician works, the office moves the window.
    tablet.json(&["arrive", &job]).await;
    tablet
        .json(&["work", &job, "--note", "水管接口渗水，已重新密封。"])
        .await;
    let start = Utc::now() + chrono::Duration::hours(2);
    app.reschedule(&crew, &job, start).await;

    let report = tablet.json(&["sync"]).await;
    assert_eq!(report["pending_changes"], 0, "{report}");
    assert!(
        report["changes_received"].as_u64().unwrap() >= 1,
        "{report}"
    );

    let local = tablet.json(&["show", &job]).await;
    let (_, view) = app.job(&crew.dispatcher.token, &job).await;
    let document = server_document(&app.base_url, &crew, &view).await;
    for visit in [
        &local["job"]["visit"],
        &serde_json::to_value(&document.visit).unwrap(),
    ] {
        assert_eq!(visit["work_notes"], "水管接口渗水，已重新密封。");
        assert!(visit["arrival"]["at"].is_i64());
    }
    assert_eq!(
        local["job"]["appointment"]["window_start"],
        start.timestamp_millis()
    );
    assert_eq!(
        document.appointment.window_start.0,
        start.timestamp_millis()
    );
    assert_eq!(view["status"], "in_progress", "{view}");
}

#[tokio::test]
async fn work_recorded_before_a_reassignment_still_arrives_and_is_flagged() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book_confirmed(&crew).await;
    let tablet = Tablet::new();
    log_in_and_sync(&tablet, &app.base_url, &crew).await;

    tablet.json(&["arrive", &job]).await;
    tablet
        .json(&["work", &job, "--note", "拆开面板，发现主板烧毁。"])
        .await;
    let reassigned = app
        .post(&format!("/api/v1/jobs/{job}/reassign"))
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({"technician_id": crew.other_technician.staff.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(reassigned.status(), 200);

    let report = tablet.json(&["sync"]).await;
    assert_eq!(
        report["pending_changes"], 0,
        "the unsent work was delivered: {report}"
    );
    let (_, view) = app.job(&crew.dispatcher.token, &job).await;
    let flags = view["review_flags"].to_string();
    assert!(flags.contains("work_by_unassigned_technician"), "{flags}");
    let document = server_document(&app.base_url, &crew, &view).await;
    assert_eq!(document.visit.work_notes, "拆开面板，发现主板烧毁。");

    // The job left the technician's list but stays readable on the tablet.
    let list = tablet.json(&["jobs"]).await;
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|j| j["job_id"] != job.as_str()),
        "{list}"
    );
    let shown = tablet.json(&["show", &job]).await;
    assert_eq!(
        shown["job"]["visit"]["work_notes"],
        "拆开面板，发现主板烧毁。"
    );
}

#[tokio::test]
async fn a_refused_token_is_not_stored_and_a_revoked_one_stops_sync_with_advice() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let tablet = Tablet::new();
    let refused = tablet
        .refused(&[
            "login",
            "--server",
            &app.base_url,
            "--token",
            "fst_not_a_token_anyone_issued",
        ])
        .await;
    assert!(refused.contains("refused this device's token"), "{refused}");
    assert!(!refused.contains("fst_not_a_token"), "{refused}");
    let status = tablet.json(&["status"]).await;
    assert_eq!(status["server_url"], Value::Null, "nothing stored");
    let job = app.book_confirmed(&crew).await;
    log_in_and_sync(&tablet, &app.base_url, &crew).await;

    // The office revokes the tablet's token while it holds unsent work.
    tablet.json(&["arrive", &job]).await;
    assert!(
        DeviceToken::revoke(&app.database.pool, crew.technician.token_id)
            .await
            .unwrap()
    );
    let stopped = tablet.refused(&["sync"]).await;
    assert!(
        stopped.contains("ask dispatch for a new device token"),
        "{stopped}"
    );
    assert!(!stopped.contains(&crew.technician.token), "{stopped}");
    let status = tablet.json(&["status"]).await;
    assert_eq!(
        status["pending_changes"][0]["document_id"]
            .as_str()
            .map(|id| !id.is_empty()),
        Some(true),
        "the arrival is still waiting on the tablet: {status}"
    );

    // A new token for the same technician delivers it.
    let spare = DeviceToken::issue(&app.database.pool, crew.technician.staff.id, "spare tablet")
        .await
        .unwrap();
    tablet
        .json(&["login", "--server", &app.base_url, "--token", &spare.token])
        .await;
    let delivered = tablet.json(&["sync"]).await;
    assert_eq!(delivered["pending_changes"], 0, "{delivered}");
    let (_, view) = app.job(&crew.dispatcher.token, &job).await;
    assert_eq!(view["status"], "in_progress");
}

#[tokio::test]
async fn a_photo_the_office_cannot_read_is_refused_once_and_its_retake_completes_the_job() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book_confirmed(&crew).await;
    let tablet = Tablet::new();
    log_in_and_sync(&tablet, &app.base_url, &crew).await;

    // The card photo was cut short on the tablet: a JPEG header, half the data.
    let whole = gradient_jpeg(1200, 900, 7);
    let cut = whole[..whole.len() / 2].to_vec();
    tablet
        .work_a_visit(&job, &cut, &gradient_jpeg(900, 1200, 8))
        .await;
    let first = tablet.json(&["sync"]).await;
    let refused = first["refused_uploads"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{first}");
    assert_eq!(refused[0]["kind"], "feedback_card");
    assert_eq!(refused[0]["sha256"], sha256(&cut));
    assert!(
        refused[0]["retake"].as_str().unwrap().starts_with("photo "),
        "{first}"
    );
    assert!(
        refused[0]["reason"].as_str().unwrap().contains("422"),
        "{first}"
    );
    assert_eq!(first["uploaded"].as_array().unwrap().len(), 2, "{first}");
    assert_eq!(first["pending_uploads"], 0, "{first}");
    let status = tablet.json(&["status"]).await;
    assert_eq!(status["refused_uploads"].as_array().unwrap().len(), 1);
    let text = tablet.run(&["status"]).await;
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("Refused by the office: feedback_card"),
        "{text}"
    );
    let (_, view) = app.job(&crew.dispatcher.token, &job).await;
    assert_ne!(view["status"], "complete", "{view}");
    assert!(
        !bucket_keys(&app)
            .await
            .contains(&format!("sha256/{}", sha256(&cut)))
    );

    // The next sync does not send the refused file again.
    let second = tablet.json(&["sync"]).await;
    assert_eq!(second["uploaded"], json!([]), "{second}");
    assert_eq!(second["refused_uploads"], json!([]), "{second}");
    assert_eq!(second["upload_failures"], json!([]), "{second}");

    // The technician photographs the card again; that completes the job.
    let retake = tablet.write_file("card-again.jpg", &whole);
    tablet
        .json(&[
            "photo",
            &job,
            "--kind",
            "feedback_card",
            retake.to_str().unwrap(),
            "--rating",
            "5",
        ])
        .await;
    let third = tablet.json(&["sync"]).await;
    assert_eq!(third["uploaded"].as_array().unwrap().len(), 1, "{third}");
    let (_, view) = app.job(&crew.dispatcher.token, &job).await;
    assert_eq!(view["status"], "complete", "{}", view["missing"]);
}

/// A running `field --json sync --watch`, its output collected line by line as it comes.
struct Watcher {
    child: tokio::process::Child,
    stdout: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Watcher {
    fn start(tablet: &Tablet, every: &str) -> Self {
        let mut child = tablet
            .command(&["--json", "sync", "--watch", "--every", every])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("starting field sync --watch");
        let stdout = Self::collect(child.stdout.take().unwrap());
        let stderr = Self::collect(child.stderr.take().unwrap());
        Self {
            child,
            stdout,
            stderr,
        }
    }

    fn collect(
        pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    ) -> std::sync::Arc<std::sync::Mutex<Vec<String>>> {
        use tokio::io::AsyncBufReadExt;
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = lines.clone();
        tokio::spawn(async move {
            let mut reader = tokio::io::BufReader::new(pipe).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        lines
    }

    /// The sync reports printed so far, one JSON object per line.
    fn reports(&self) -> Vec<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .map(|line| serde_json::from_str(line).expect("one JSON report per line"))
            .collect()
    }

    /// Waits until the reports so far satisfy `done`, for at most `limit`.
    async fn until(&self, limit: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let reports = self.reports();
            if done(&reports) {
                return reports;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not reported within {limit:?}: {reports:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM; the watch must stop cleanly. Returns what it wrote to stderr.
    async fn stop(mut self) -> String {
        let pid = self.child.id().expect("the watcher is running").to_string();
        let sent = tokio::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .unwrap();
        assert!(sent.success());
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the watch stops on SIGTERM")
            .unwrap();
        let stderr = self.stderr.lock().unwrap().join("\n");
        assert!(status.success(), "{status:?}: {stderr}");
        stderr
    }
}

/// Polls the job's server view until `done` holds, for at most `limit`.
async fn job_view_until(
    app: &TestApp,
    crew: &Crew,
    job: &str,
    limit: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let (code, view) = app.job(&crew.dispatcher.token, job).await;
        assert_eq!(code, 200);
        if done(&view) {
            return view;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not reached within {limit:?}: {view}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_watching_tablet_syncs_by_itself_when_the_network_returns_and_when_work_is_recorded() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book_confirmed(&crew).await;
    let server = ServerProcess::start(&app.database.url, &app.objects.config, 0).await;
    let tablet = Tablet::new();
    log_in_and_sync(&tablet, &server.base_url, &crew).await;

    // Offline: the technician arrives; the watch cannot reach the server and keeps trying.
    let port = server.port;
    server.kill().await;
    tablet.json(&["arrive", &job]).await;
    let watcher = Watcher::start(&tablet, "60");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let server = ServerProcess::start(&app.database.url, &app.objects.config, port).await;
    // The network is back: the arrival goes out without anyone running `field sync`.
    job_view_until(&app, &crew, &job, Duration::from_secs(30), |view| {
        view["status"] == "in_progress"
    })
    .await;

    // Online: each thing recorded goes out at once, long before the 60-second round.
    let recorded = tokio::time::Instant::now();
    let card = gradient_jpeg(1200, 900, 77);
    let site = gradient_jpeg(900, 1200, 78);
    tablet.finish_a_visit(&job, &card, &site).await;
    job_view_until(&app, &crew, &job, Duration::from_secs(40), |view| {
        view["status"] == "complete"
    })
    .await;
    let reports = watcher
        .until(Duration::from_secs(40), |reports| {
            let uploaded: usize = reports
                .iter()
                .map(|r| r["uploaded"].as_array().unwrap().len())
                .sum();
            uploaded == 3 && reports.last().is_some_and(|r| r["pending_uploads"] == 0)
        })
        .await;
    assert!(recorded.elapsed() < Duration::from_secs(55), "{reports:?}");
    assert!(
        reports.iter().all(|r| r["refused"] == json!([])),
        "{reports:?}"
    );
    let stderr = watcher.stop().await;
    assert!(stderr.contains("Cannot reach the server"), "{stderr}");
    let status = tablet.json(&["status"]).await;
    assert_eq!(status["pending_changes"], json!([]));
    assert_eq!(status["pending_uploads"], json!([]));

    // The office books another job; a watching tablet has it within its round.
    let watcher = Watcher::start(&tablet, "2");
    app.book_confirmed(&crew).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let listed = tablet.json(&["jobs"]).await;
        if listed.as_array().unwrap().len() == 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the new job did not arrive: {listed}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    watcher.stop().await;

    // A revoked token needs a person: the watch ends, saying so once.
    let mut watcher = Watcher::start(&tablet, "1");
    assert!(
        DeviceToken::revoke(&app.database.pool, crew.technician.token_id)
            .await
            .unwrap()
    );
    let status = tokio::time::timeout(Duration::from_secs(20), watcher.child.wait())
        .await
        .expect("the watch ends by itself")
        .unwrap();
    assert_eq!(status.code(), Some(1));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stderr = watcher.stderr.lock().unwrap().join("\n");
    assert_eq!(
        stderr
            .matches("ask dispatch for a new device token")
            .count(),
        1,
        "{stderr}"
    );
    drop(server);
}

#[tokio::test]
async fn a_job_damaged_in_storage_is_held_back_and_the_tablets_other_work_still_arrives() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let kept = app.book_confirmed(&crew).await;
    let damaged = app.book_confirmed(&crew).await;
    let server = ServerProcess::start(&app.database.url, &app.objects.config, 0).await;
    let tablet = Tablet::new();
    log_in_and_sync(&tablet, &server.base_url, &crew).await;
    tablet.json(&["arrive", &kept]).await;
    tablet.json(&["arrive", &damaged]).await;

    // Meanwhile a dispatcher reschedules the job (until a change of it is kept as a chunk, not
    // compacted into the snapshot), and that chunk is then damaged on disk; the server is
    // restarted, so it has to read the job from storage.
    let damaged_id: uuid::Uuid = damaged.parse().unwrap();
    for day in 1.. {
        app.reschedule(&crew, &damaged, Utc::now() + chrono::Duration::days(day))
            .await;
        let last: Option<i64> =
            sqlx::query_scalar("select max(seq) from document_chunks where document_id = $1")
                .bind(damaged_id)
                .fetch_one(&app.database.pool)
                .await
                .unwrap();
        if let Some(last) = last {
            app.damage_chunk(damaged_id, last).await;
            break;
        }
        assert!(day < 5, "a reschedule is kept as a chunk");
    }
    let port = server.port;
    server.kill().await;
    let server = ServerProcess::start(&app.database.url, &app.objects.config, port).await;

    // The sync ends without it, and says the work stays on the tablet (not "refused", not
    // "no longer shared with you").
    let said = tablet.refused(&["sync"]).await;
    assert!(
        said.contains("1 changes and 0 files have not reached the office yet")
            && said.contains("they stay on this tablet"),
        "{said}"
    );
    assert!(
        !said.contains("refused") && !said.contains("shared"),
        "{said}"
    );
    let status = tablet.json(&["status"]).await;
    let pending: Vec<&str> = status["pending_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["document_id"].as_str().unwrap())
        .collect();
    let damaged_document = sync_protocol::DocumentId::from_uuid(damaged_id).to_string();
    assert_eq!(pending, vec![damaged_document.as_str()], "{status}");
    let (_, view) = app.job(&crew.dispatcher.token, &kept).await;
    assert_eq!(
        view["evidence"]["arrived"], true,
        "the other job's work arrived"
    );
    let (_, view) = app.job(&crew.dispatcher.token, &damaged).await;
    assert_eq!(view["evidence"]["arrived"], false);
    assert!(
        harness::app::metric_at(&server.base_url, "fieldsync_documents_damaged_total").await >= 1.0
    );
}
