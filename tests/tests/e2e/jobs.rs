//! The dispatcher's job API: booking, the projection, confirmation, rescheduling, reassignment,
//! cancellation and the board, each written into the job's Automerge document.

use fieldsync_server::documents::Documents;
use harness::TestApp;
use serde_json::{Value, json};
use sync_protocol::DocumentId;
use sync_protocol::index::TechnicianIndex;
use uuid::Uuid;

async fn index_jobs(app: &TestApp, technician_token: &str) -> Vec<String> {
    let me: Value = app
        .get("/api/v1/me")
        .bearer_auth(technician_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = me["index_document_url"]
        .as_str()
        .expect("technicians get their index document");
    let id = DocumentId::parse(url).unwrap().as_uuid();
    let documents = Documents::new(app.database.pool.clone(), Default::default());
    let doc = documents
        .get(id)
        .await
        .unwrap()
        .expect("index document stored")
        .snapshot()
        .await;
    let index = TechnicianIndex::read(&doc).unwrap();
    index
        .jobs
        .iter()
        .map(|j| j.job_id.as_uuid().to_string())
        .collect()
}

#[tokio::test]
async fn booking_a_job_creates_its_document_projection_and_index_entry() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let created = app.book(&crew, Some(crew.technician.staff.id)).await;
    let id = created["id"].as_str().unwrap();
    let url = created["document_url"].as_str().unwrap();
    assert!(url.starts_with("automerge:"));
    assert_eq!(DocumentId::parse(url).unwrap().as_uuid().to_string(), id);

    let (status, job) = app.job(&crew.dispatcher.token, id).await;
    assert_eq!(status, 200);
    assert_eq!(job["status"], "scheduled");
    assert_eq!(job["technician_id"], crew.technician.staff.id.to_string());
    assert_eq!(job["confirmed"], false);
    assert_eq!(job["complete"], false);
    assert!(
        !job["history"].as_array().unwrap().is_empty(),
        "the creation is in the history"
    );
    assert!(!job["timeline"].as_array().unwrap().is_empty());
    // The document id form works as well as the UUID.
    assert_eq!(app.job(&crew.dispatcher.token, url).await.0, 200);

    assert_eq!(
        index_jobs(&app, &crew.technician.token).await,
        vec![id.to_owned()]
    );
    assert!(
        index_jobs(&app, &crew.other_technician.token)
            .await
            .is_empty()
    );
    app.shutdown().await;
}

#[tokio::test]
async fn confirmation_reschedule_and_cancel_reach_the_document() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let id = app.book(&crew, Some(crew.technician.staff.id)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let post = |path: String, body: Value| {
        app.post(&path)
            .bearer_auth(&crew.dispatcher.token)
            .json(&body)
            .send()
    };

    // A confirmation time in the future, or from before 2000, is refused and changes nothing.
    let in_an_hour = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    for (at, says) in [
        ("9999-12-31T23:59:59Z", "in the future"),
        (in_an_hour.as_str(), "in the future"),
        ("1999-12-31T23:59:59Z", "before the year 2000"),
    ] {
        let response = post(
            format!("/api/v1/jobs/{id}/confirmation"),
            json!({"confirmed_by": "王秀英", "channel": "phone", "confirmed_at": at}),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 400, "{at}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    assert_eq!(
        app.job(&crew.dispatcher.token, &id).await.1["confirmed"],
        false
    );
    let response = post(
        format!("/api/v1/jobs/{id}/confirmation"),
        json!({"confirmed_by": "王秀英", "channel": "phone", "confirmed_at": "2026-11-22T08:00:00Z"}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["confirmed"], true);
    assert_eq!(job["status"], "confirmed");

    let response = post(
        format!("/api/v1/jobs/{id}/reschedule"),
        json!({"window_start": "2026-11-23T06:00:00Z", "window_end": "2026-11-23T08:00:00Z"}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["window_start"], "2026-11-23T06:00:00Z");
    assert_eq!(
        job["confirmed"], false,
        "a new window needs a new confirmation"
    );

    let response = post(
        format!("/api/v1/jobs/{id}/cancel"),
        json!({"reason": "客户改期"}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let job: Value = response.json().await.unwrap();
    assert_eq!(job["status"], "cancelled");
    assert!(job["cancelled_at"].is_string());
    app.shutdown().await;
}

#[tokio::test]
async fn reassignment_moves_the_job_between_index_documents() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let id = app.book(&crew, Some(crew.technician.staff.id)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .post(&format!("/api/v1/jobs/{id}/reassign"))
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({"technician_id": crew.other_technician.staff.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let job: Value = response.json().await.unwrap();
    assert_eq!(
        job["technician_id"],
        crew.other_technician.staff.id.to_string()
    );
    assert!(index_jobs(&app, &crew.technician.token).await.is_empty());
    assert_eq!(
        index_jobs(&app, &crew.other_technician.token).await,
        vec![id.clone()]
    );
    // The previous technician can still read the job: their offline work must still merge.
    assert_eq!(app.job(&crew.technician.token, &id).await.0, 200);
    app.shutdown().await;
}

#[tokio::test]
async fn the_board_groups_the_days_jobs_by_technician() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    app.book(&crew, Some(crew.technician.staff.id)).await;
    app.book(&crew, Some(crew.technician.staff.id)).await;
    app.book(&crew, Some(crew.other_technician.staff.id)).await;
    app.book(&crew, None).await;
    let today = chrono::Utc::now().date_naive();
    let board: Value = app
        .get(&format!("/api/v1/board?date={today}"))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let columns = board["technicians"].as_array().unwrap();
    let counts: Vec<(Value, usize)> = columns
        .iter()
        .map(|c| {
            (
                c["technician_name"].clone(),
                c["jobs"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        vec![(json!("张伟"), 2), (json!("陈强"), 1), (Value::Null, 1)]
    );
    let response = app
        .get("/api/v1/board?date=22-11-2026")
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);

    // The day is the dispatcher's: the jobs (01:00 to 03:00 UTC) fall on today in Shanghai and
    // on yesterday in New York.
    let jobs_on = |date: chrono::NaiveDate, offset: &'static str| {
        let request = app
            .get(&format!("/api/v1/board?date={date}&utc_offset={offset}"))
            .bearer_auth(&crew.dispatcher.token);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200, "{offset}");
            let board: Value = response.json().await.unwrap();
            board["technicians"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["jobs"].as_array().unwrap().len())
                .sum::<usize>()
        }
    };
    let yesterday = today.pred_opt().unwrap();
    assert_eq!(jobs_on(today, "%2B08:00").await, 4);
    assert_eq!(jobs_on(today, "+08:00").await, 4, "an unencoded +");
    assert_eq!(jobs_on(today, "-05:00").await, 0);
    assert_eq!(jobs_on(yesterday, "-05:00").await, 4);
    for bad in ["8", "%2B15:00", "%2B8:00", "UTC"] {
        let response = app
            .get(&format!("/api/v1/board?date={today}&utc_offset={bad}"))
            .bearer_auth(&crew.dispatcher.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{bad}");
    }
    app.shutdown().await;
}

#[tokio::test]
async fn bad_booking_requests_get_clear_errors_and_write_nothing() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let cases = [
        (
            json!({"customer_id": crew.customer, "kind": "painting", "window_start": "2026-11-22T01:00:00Z", "window_end": "2026-11-22T03:00:00Z"}),
            "kind must be",
        ),
        (
            json!({"customer_id": crew.customer, "kind": "repair", "window_start": "2026-11-22T03:00:00Z", "window_end": "2026-11-22T01:00:00Z"}),
            "window_end must be after",
        ),
        (
            json!({"customer_id": Uuid::new_v4(), "kind": "repair", "window_start": "2026-11-22T01:00:00Z", "window_end": "2026-11-22T03:00:00Z"}),
            "no customer",
        ),
        (
            json!({"customer_id": crew.customer, "kind": "repair", "window_start": "2026-11-22T01:00:00Z", "window_end": "2026-11-22T03:00:00Z", "technician_id": crew.revisit.staff.id}),
            "not a technician",
        ),
        (
            json!({"customer_id": crew.customer, "kind": "repair"}),
            "request body",
        ),
        (
            json!({"customer_id": crew.customer, "kind": "repair", "window_start": "2026-11-22T01:00:00Z", "window_end": "2026-11-22T03:00:00Z", "surprise": 1}),
            "unknown field",
        ),
        (
            json!({"customer_id": crew.customer, "kind": "repair", "window_start": "2026-11-22T01:00:00Z", "window_end": "2026-11-22T03:00:00Z", "complaint_reference": "TS-1"}),
            "set from_complaint to true",
        ),
        (
            json!({"customer_id": crew.customer, "kind": "repair", "window_start": "2026-11-22T01:00:00Z", "window_end": "2026-11-22T03:00:00Z", "from_complaint": true, "complaint_reference": "T".repeat(201)}),
            "at most 200 characters",
        ),
        (
            json!({"customer_id": crew.customer, "kind": "repair", "window_start": "2026-11-22T01:00:00Z", "window_end": "2026-11-22T03:00:00Z", "from_complaint": true, "complaint_reference": "TS-1\u{1b}[31m"}),
            "without control characters",
        ),
    ];
    for (body, expected) in cases {
        let response = app
            .post("/api/v1/jobs")
            .bearer_auth(&crew.dispatcher.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(expected),
            "{message} should say {expected}"
        );
    }
    let response = app
        .post("/api/v1/jobs")
        .bearer_auth(&crew.dispatcher.token)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let jobs: i64 = sqlx::query_scalar("select count(*) from jobs")
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
    let documents: i64 = sqlx::query_scalar("select count(*) from documents where kind = 'job'")
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
    assert_eq!((jobs, documents), (0, 0), "nothing half-written");
    app.shutdown().await;
}

#[tokio::test]
async fn other_organisations_and_unassigned_technicians_see_nothing() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let rival = app.crew("另一家公司").await;
    let id = app.book(&crew, Some(crew.technician.staff.id)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let missing = Uuid::new_v4().to_string();

    // A job of another organisation answers exactly like one that does not exist.
    for token in [
        &rival.dispatcher.token,
        &crew.other_technician.token,
        &rival.technician.token,
    ] {
        let (status, body) = app.job(token, &id).await;
        let (missing_status, missing_body) = app.job(token, &missing).await;
        assert_eq!(status, 404);
        assert_eq!((status, &body), (missing_status, &missing_body));
    }
    for action in ["confirmation", "reschedule", "reassign", "cancel"] {
        let body = match action {
            "confirmation" => {
                json!({"confirmed_by": "x", "channel": "sms", "confirmed_at": "2026-11-22T08:00:00Z"})
            }
            "reschedule" => {
                json!({"window_start": "2026-11-23T06:00:00Z", "window_end": "2026-11-23T08:00:00Z"})
            }
            "reassign" => json!({"technician_id": rival.technician.staff.id}),
            _ => json!({"reason": "x"}),
        };
        let response = app
            .post(&format!("/api/v1/jobs/{id}/{action}"))
            .bearer_auth(&rival.dispatcher.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            matches!(response.status().as_u16(), 400 | 404),
            "{action}: {}",
            response.status()
        );
        if response.status() == 400 {
            // Only the reassignment target is checked first, and it is named, not the job.
            let text = response.text().await.unwrap();
            assert!(!text.contains(&id));
        }
        let response = app
            .post(&format!("/api/v1/jobs/{id}/{action}"))
            .bearer_auth(&crew.technician.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            matches!(response.status().as_u16(), 400 | 403),
            "a technician cannot dispatch: {action}"
        );
    }
    let (_, job) = app.job(&crew.dispatcher.token, &id).await;
    assert_eq!(job["status"], "scheduled", "nothing changed");
    assert_eq!(job["technician_id"], crew.technician.staff.id.to_string());
    app.shutdown().await;
}

#[tokio::test]
async fn a_complete_job_is_archived_out_of_the_technicians_reach_and_an_open_one_is_not() {
    use harness::peer::{RawPeer, Received};
    use harness::visit::{Evidence, complete_visit};

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let done = app.book(&crew, Some(crew.technician.staff.id)).await;
    let open = app.book(&crew, Some(crew.technician.staff.id)).await;
    let evidence = Evidence::small(7);
    complete_visit(&app, &crew, &done, &evidence).await;
    let archive = |token: &str, job: &Value| {
        app.post(&format!(
            "/api/v1/jobs/{}/archive",
            job["id"].as_str().unwrap()
        ))
        .bearer_auth(token)
        .send()
    };

    // An open job may still be receiving a technician's offline work: refused, unchanged.
    let refused = archive(&crew.dispatcher.token, &open).await.unwrap();
    assert_eq!(refused.status(), 409);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancel it first"),
        "{body}"
    );
    // Not the technician's call, and not another organisation's.
    assert_eq!(
        archive(&crew.technician.token, &done)
            .await
            .unwrap()
            .status(),
        403
    );
    let rival = app.crew("另一家公司").await;
    assert_eq!(
        archive(&rival.dispatcher.token, &done)
            .await
            .unwrap()
            .status(),
        404
    );

    let archived = archive(&crew.dispatcher.token, &done).await.unwrap();
    assert_eq!(archived.status(), 200);
    let view: Value = archived.json().await.unwrap();
    assert_eq!(view["status"], "archived", "{view}");
    assert!(view["archived_at"].is_string(), "{view}");
    // Again: nothing changes.
    let again: Value = archive(&crew.dispatcher.token, &done)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["archived_at"], view["archived_at"]);

    // It left the technician's list and their tablet no longer gets it; the open job stays.
    let done_id = done["id"].as_str().unwrap().to_owned();
    assert_eq!(
        index_jobs(&app, &crew.technician.token).await,
        vec![open["id"].as_str().unwrap().to_owned()]
    );
    let document_id = done["document_id"].as_str().unwrap().to_owned();
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    let empty = automerge::sync::SyncDoc::generate_sync_message(
        &automerge::Automerge::new(),
        &mut automerge::sync::State::new(),
    )
    .unwrap()
    .encode();
    peer.request(&document_id, empty).await;
    assert_eq!(peer.recv().await, Received::DocUnavailable { document_id });
    assert_eq!(app.job(&crew.technician.token, &done_id).await.0, 404);
    // The office still reads it, and its revisit goes on.
    assert_eq!(app.job(&crew.dispatcher.token, &done_id).await.0, 200);
    let tasks: Vec<Value> = app
        .get("/api/v1/revisits")
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        tasks.iter().any(|t| t["job_id"] == done_id.as_str()),
        "{tasks:?}"
    );
}

#[tokio::test]
async fn a_job_that_is_over_refuses_the_offices_changes_and_keeps_its_record() {
    use harness::visit::{Evidence, complete_visit};

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let done = app.book(&crew, Some(crew.technician.staff.id)).await;
    complete_visit(&app, &crew, &done, &Evidence::small(5)).await;
    let dropped = app.book(&crew, Some(crew.technician.staff.id)).await;
    let id = |job: &Value| job["id"].as_str().unwrap().to_owned();
    let (done_id, dropped_id) = (id(&done), id(&dropped));
    let change = |job: String, action: &'static str| {
        let body = match action {
            "confirmation" => {
                json!({"confirmed_by": "王秀英", "channel": "phone", "confirmed_at": chrono::Utc::now()})
            }
            "reschedule" => {
                json!({"window_start": "2026-12-03T06:00:00Z", "window_end": "2026-12-03T08:00:00Z"})
            }
            "reassign" => json!({"technician_id": crew.other_technician.staff.id}),
            _ => json!({"reason": "客户改期"}),
        };
        let request = app
            .post(&format!("/api/v1/jobs/{job}/{action}"))
            .bearer_auth(&crew.dispatcher.token)
            .json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (
                status,
                body["error"]["message"].as_str().unwrap_or("").to_owned(),
            )
        }
    };
    assert_eq!(change(dropped_id.clone(), "cancel").await.0, 200);
    let (_, before_done) = app.job(&crew.dispatcher.token, &done_id).await;
    let (_, before_dropped) = app.job(&crew.dispatcher.token, &dropped_id).await;
    assert_eq!(before_done["status"], "complete", "{before_done}");

    // A complete job: its signed visit and its revisit stand; nothing moves it.
    for action in ["confirmation", "reschedule", "reassign", "cancel"] {
        let (status, message) = change(done_id.clone(), action).await;
        assert_eq!(status, 409, "{action}: {message}");
        assert!(
            message.contains("complete") && message.contains("book a new job"),
            "{action}: {message}"
        );
    }
    // Even asked without a reason, a complete job says it is complete.
    let empty = app
        .post(&format!("/api/v1/jobs/{done_id}/cancel"))
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({"reason": " "}))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 409);
    // A cancelled one is not revived, nor cancelled twice (its reason and time stay).
    for action in ["confirmation", "reschedule", "reassign", "cancel"] {
        let (status, message) = change(dropped_id.clone(), action).await;
        assert_eq!(status, 409, "{action}: {message}");
        assert!(message.contains("cancelled"), "{action}: {message}");
    }
    assert_eq!(
        app.job(&crew.dispatcher.token, &done_id).await.1,
        before_done
    );
    assert_eq!(
        app.job(&crew.dispatcher.token, &dropped_id).await.1,
        before_dropped
    );
    assert_eq!(
        app.job(&crew.technician.token, &done_id).await.1["technician_id"],
        crew.technician.staff.id.to_string()
    );

    // Archived: gone from the tablet for good; a late cancel must not bring it back.
    let archived = app
        .post(&format!("/api/v1/jobs/{dropped_id}/archive"))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap();
    assert_eq!(archived.status(), 200);
    let (_, before_archived) = app.job(&crew.dispatcher.token, &dropped_id).await;
    for action in ["confirmation", "reschedule", "reassign", "cancel"] {
        let (status, message) = change(dropped_id.clone(), action).await;
        assert_eq!(status, 409, "{action}: {message}");
        assert!(message.contains("archived"), "{action}: {message}");
    }
    assert_eq!(
        app.job(&crew.dispatcher.token, &dropped_id).await.1,
        before_archived
    );
    assert_eq!(app.job(&crew.technician.token, &dropped_id).await.0, 404);
    assert_eq!(
        index_jobs(&app, &crew.technician.token).await,
        vec![done_id.clone()],
        "the archived job stays off the technician's list; the complete one (not archived) stays"
    );
    app.shutdown().await;
}

#[tokio::test]
async fn every_route_with_an_id_answers_strangers_exactly_as_for_an_id_that_does_not_exist() {
    use harness::visit::{Evidence, complete_visit};
    use sha2::{Digest, Sha256};

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let evidence = Evidence::small(11);
    complete_visit(&app, &crew, &job, &evidence).await;
    let job_id = job["id"].as_str().unwrap().to_owned();
    let card = hex::encode(Sha256::digest(&evidence.card));
    let tasks: Vec<Value> = app
        .get("/api/v1/revisits")
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task = tasks[0]["id"].as_str().unwrap().to_owned();
    let upload = app
        .post("/api/v1/uploads")
        .bearer_auth(&crew.technician.token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", "1000")
        .header(
            "upload-metadata",
            format!(
                "sha256 {},job_id {},kind b3RoZXI=,content_type aW1hZ2UvcG5n",
                base64_of(&"ab".repeat(32)),
                base64_of(&job_id)
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 201);
    let upload = upload.headers()["location"]
        .to_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();

    let rival = app.crew("另一家公司").await;
    let rival_admin = app
        .staff(
            rival.organisation,
            "王强",
            fieldsync_server::directory::Role::Admin,
        )
        .await;
    let missing = Uuid::new_v4().to_string();
    let customer = crew.customer.to_string();
    let token_id = crew.technician.token_id.to_string();
    let staff_id = crew.technician.staff.id.to_string();
    // (method, path with the real id, path with an id that does not exist, body)
    let routes: Vec<(&str, String, String, Value)> = vec![
        (
            "GET",
            format!("/api/v1/jobs/{job_id}"),
            format!("/api/v1/jobs/{missing}"),
            Value::Null,
        ),
        (
            "GET",
            format!("/api/v1/jobs/{job_id}/attachments"),
            format!("/api/v1/jobs/{missing}/attachments"),
            Value::Null,
        ),
        (
            "GET",
            format!("/api/v1/jobs/{job_id}/attachments/{card}/display"),
            format!("/api/v1/jobs/{missing}/attachments/{card}/display"),
            Value::Null,
        ),
        (
            "GET",
            format!("/api/v1/jobs/{job_id}/attachments/{card}/original"),
            format!("/api/v1/jobs/{missing}/attachments/{card}/original"),
            Value::Null,
        ),
        (
            "GET",
            format!("/api/v1/jobs/{job_id}/evidence"),
            format!("/api/v1/jobs/{missing}/evidence"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/jobs/{job_id}/archive"),
            format!("/api/v1/jobs/{missing}/archive"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/jobs/{job_id}/cancel"),
            format!("/api/v1/jobs/{missing}/cancel"),
            json!({"reason": "x"}),
        ),
        (
            "GET",
            format!("/api/v1/revisits/{task}"),
            format!("/api/v1/revisits/{missing}"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/revisits/{task}/claim"),
            format!("/api/v1/revisits/{missing}/claim"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/revisits/{task}/outcome"),
            format!("/api/v1/revisits/{missing}/outcome"),
            json!({"reached": true}),
        ),
        (
            "GET",
            format!("/api/v1/customers/{customer}"),
            format!("/api/v1/customers/{missing}"),
            Value::Null,
        ),
        (
            "GET",
            format!("/api/v1/customers/{customer}/tiers"),
            format!("/api/v1/customers/{missing}/tiers"),
            Value::Null,
        ),
        (
            "POST",
            format!("/api/v1/staff/{staff_id}/tokens"),
            format!("/api/v1/staff/{missing}/tokens"),
            json!({"device_name": "x"}),
        ),
        (
            "DELETE",
            format!("/api/v1/tokens/{token_id}"),
            format!("/api/v1/tokens/{missing}"),
            Value::Null,
        ),
        (
            "HEAD",
            format!("/api/v1/uploads/{upload}"),
            format!("/api/v1/uploads/{missing}"),
            Value::Null,
        ),
        (
            "DELETE",
            format!("/api/v1/uploads/{upload}"),
            format!("/api/v1/uploads/{missing}"),
            Value::Null,
        ),
    ];
    let strangers = [
        ("rival dispatcher", &rival.dispatcher.token),
        ("rival admin", &rival_admin.token),
        ("rival revisit caller", &rival.revisit.token),
        ("rival technician", &rival.technician.token),
        ("unassigned technician", &crew.other_technician.token),
    ];
    let call = |method: &str, path: &str, token: &str, body: &Value| {
        let mut request = app
            .http
            .request(method.parse().unwrap(), app.url(path))
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0");
        if !body.is_null() {
            request = request.json(body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    for (who, token) in strangers {
        for (method, real, absent, body) in &routes {
            let seen = call(method, real, token, body).await;
            let nothing = call(method, absent, token, body).await;
            assert!(
                matches!(seen.0, 403 | 404),
                "{who}: {method} {real} answered {seen:?}"
            );
            assert_eq!(
                seen, nothing,
                "{who}: {method} {real} must answer as for an id that does not exist"
            );
        }
    }
    // Nothing the strangers tried changed anything.
    let (_, view) = app.job(&crew.dispatcher.token, &job_id).await;
    assert_eq!(view["status"], "complete", "{view}");
    let (status, _) = call(
        "HEAD",
        &format!("/api/v1/uploads/{upload}"),
        &crew.technician.token,
        &Value::Null,
    )
    .await;
    assert_eq!(status, 200, "the upload is still there for its tablet");
    assert_eq!(
        app.get("/api/v1/me")
            .bearer_auth(&crew.technician.token)
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "the technician's token still works"
    );
}

fn base64_of(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The sync connections ask their per-message access checks together, in one statement; each
/// answer is the one its check asked alone gets, and the one the rules give, for every role and
/// kind of document: a job assigned or not, cancelled and archived, completed, a technician's
/// index, another organisation's job, and an id that is nothing.
#[tokio::test]
async fn access_checks_asked_together_answer_as_each_alone() {
    use fieldsync_server::auth::Caller;
    use fieldsync_server::jobs::{DocumentAccess, document_access, document_access_all};
    use harness::visit::{Evidence, complete_visit};
    use sync_protocol::job::Role as WriterRole;

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let others = app.crew("华东家电维修中心").await;
    let admin = app.admin(&crew).await;
    let id = |job: &Value| job["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    let assigned = app.book(&crew, Some(crew.technician.staff.id)).await;
    let unassigned = app.book(&crew, None).await;
    let archived = app.book(&crew, Some(crew.technician.staff.id)).await;
    for (action, body) in [
        ("cancel", json!({"reason": "客户取消"})),
        ("archive", json!({})),
    ] {
        let response = app
            .post(&format!("/api/v1/jobs/{}/{action}", id(&archived)))
            .bearer_auth(&crew.dispatcher.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{action}");
    }
    let completed = app.book(&crew, Some(crew.technician.staff.id)).await;
    complete_visit(&app, &crew, &completed, &Evidence::small(3)).await;
    let elsewhere = app.book(&others, Some(others.technician.staff.id)).await;
    let index: Uuid =
        sqlx::query_scalar("select document_id from technician_indexes where technician_id = $1")
            .bind(crew.technician.staff.id)
            .fetch_one(&app.database.pool)
            .await
            .unwrap();
    let documents = [
        id(&assigned),
        id(&unassigned),
        id(&archived),
        id(&completed),
        id(&elsewhere),
        index,
        Uuid::new_v4(),
    ];
    let callers: Vec<Caller> = [
        &crew.technician,
        &crew.other_technician,
        &crew.dispatcher,
        &crew.revisit,
        &admin,
        &others.dispatcher,
    ]
    .into_iter()
    .map(|signed| Caller {
        staff_id: signed.staff.id,
        organisation_id: signed.staff.organisation_id,
        name: signed.staff.name.clone(),
        role: signed.staff.role,
        device_token_id: signed.token_id,
        device_name: "test tablet".into(),
        browser: false,
    })
    .collect();
    let checks: Vec<(&Caller, Uuid)> = callers
        .iter()
        .flat_map(|caller| documents.iter().map(move |document| (caller, *document)))
        .collect();
    let together = document_access_all(&app.database.pool, &checks)
        .await
        .unwrap();
    let mut alone = Vec::new();
    for (caller, document) in &checks {
        alone.push(
            document_access(&app.database.pool, caller, *document)
                .await
                .unwrap(),
        );
    }
    assert_eq!(together, alone);
    // And the answers are the rules (not all "no"): the technician's own job and index, the
    // dispatcher's organisation, the revisit caller's completed job, nothing across
    // organisations or after archiving.
    let answer = |caller: usize, document: usize| together[caller * documents.len() + document];
    let technician = Some(DocumentAccess::Write(WriterRole::Technician));
    let dispatcher = Some(DocumentAccess::Write(WriterRole::Dispatcher));
    let read = Some(DocumentAccess::Read);
    assert_eq!(answer(0, 0), technician);
    assert_eq!(answer(0, 1), None);
    assert_eq!(answer(0, 2), None, "archived");
    assert_eq!(answer(0, 5), read, "the technician's own index");
    assert_eq!(answer(1, 0), None);
    assert_eq!(answer(1, 5), None, "another technician's index");
    assert_eq!(answer(2, 1), dispatcher);
    assert_eq!(answer(2, 4), None, "another organisation");
    assert_eq!(answer(3, 3), read, "a completed job");
    assert_eq!(answer(3, 0), None, "an open job");
    assert_eq!(answer(4, 0), read, "admins read");
    assert_eq!(answer(5, 4), dispatcher);
    assert!((0..callers.len()).all(|caller| answer(caller, 6).is_none()));
    // Nothing asked, nothing answered (and no statement that fails).
    assert_eq!(
        document_access_all(&app.database.pool, &[]).await.unwrap(),
        []
    );
}
