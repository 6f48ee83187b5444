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
