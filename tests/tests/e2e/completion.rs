//! A job completed on the tablet reaches the revisit team exactly once, and the revisit keeps the
//! service rules: made by someone who did not do the job, recorded, append-only.

use std::time::Duration;

use automerge::Automerge;
use automerge::sync;
use harness::TestApp;
use harness::peer::RawPeer;
use harness::sse::FeedReader;
use harness::visit::{Evidence, complete_visit};
use serde_json::{Value, json};

async fn completed_events(app: &TestApp, job_id: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from outbox where event_type = 'job.completed' and job_id = $1::uuid",
    )
    .bind(job_id)
    .fetch_one(&app.database.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_completed_visit_raises_one_event_feeds_the_live_screen_and_queues_a_revisit() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let job_id = job["id"].as_str().unwrap().to_owned();
    let mut feed = FeedReader::open(&app.base_url, &crew.revisit.token, None).await;

    complete_visit(&app, &crew, &job, &Evidence::small(1)).await;
    let (_, view) = app.job(&crew.dispatcher.token, &job_id).await;
    assert_eq!(view["status"], "complete", "{}", view["missing"]);
    assert_eq!(view["complete"], true);
    assert_eq!(completed_events(&app, &job_id).await, 1);
    // The office reads the visit as recorded, not only its timeline.
    let visit = &view["visit"];
    assert_eq!(visit["work_notes"], "更换了洗衣机进水阀，试机正常。");
    assert_eq!(visit["permissions"][0]["item"], "客厅地板");
    assert_eq!(visit["permissions"][0]["granted_by"], "王秀英");
    assert!(visit["arrival"]["at"].is_i64() && visit["departure"]["at"].is_i64());
    assert!(
        visit["cleanup"].is_object() && visit["signature"].is_object(),
        "{visit}"
    );

    let event = loop {
        let event = feed
            .next(Duration::from_secs(10))
            .await
            .expect("the live feed shows the completion");
        if event.event == "job.completed" {
            break event;
        }
    };
    assert_eq!(event.data["data"]["job_id"], job_id.as_str());
    assert_eq!(event.data["data"]["customer"]["name"], "王秀英");
    assert_eq!(
        event.data["data"]["job_number"], job["number"],
        "webhook payloads carry the job number"
    );
    assert!(job["number"].as_str().unwrap().starts_with("FS-"));

    // Syncing the same document again, from a fresh tablet, raises nothing more.
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    peer.sync_until_in_sync(
        job["document_id"].as_str().unwrap(),
        &mut Automerge::new(),
        &mut sync::State::new(),
    )
    .await;
    assert_eq!(completed_events(&app, &job_id).await, 1);

    // The live feed resumes after the last event it showed.
    let mut resumed = FeedReader::open(&app.base_url, &crew.revisit.token, Some("0")).await;
    let first = resumed
        .next(Duration::from_secs(5))
        .await
        .expect("history from the start");
    assert!(!first.id.is_empty());

    let tasks: Vec<Value> = app
        .get("/api/v1/revisits")
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        tasks.len(),
        2,
        "the completed job and, for a key customer, the scheduled revisit: {tasks:?}"
    );
    let task = tasks
        .iter()
        .find(|t| t["reason"] == "completed_job")
        .unwrap();
    assert_eq!(task["job_id"], job_id.as_str());
}

#[tokio::test]
async fn the_jobs_technician_cannot_revisit_it_and_outcomes_are_append_only() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    complete_visit(&app, &crew, &job, &Evidence::small(2)).await;
    let tasks: Vec<Value> = app
        .get("/api/v1/revisits")
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let task_id = tasks
        .iter()
        .find(|t| t["reason"] == "completed_job")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let refused = app
        .post(&format!("/api/v1/revisits/{task_id}/claim"))
        .bearer_auth(&crew.technician.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("did not handle the job"),
        "{body}"
    );
    let refused = app
        .post(&format!("/api/v1/revisits/{task_id}/outcome"))
        .bearer_auth(&crew.technician.token)
        .json(&json!({"reached": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "nor record its outcome");
    // Other technicians make no revisits either, and do not see the queue with its phone
    // numbers and outcomes.
    let refused = app
        .post(&format!("/api/v1/revisits/{task_id}/claim"))
        .bearer_auth(&crew.other_technician.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revisit"),
        "{body}"
    );
    for path in [
        "/api/v1/revisits".to_owned(),
        format!("/api/v1/revisits/{task_id}"),
    ] {
        let listed = app
            .get(&path)
            .bearer_auth(&crew.other_technician.token)
            .send()
            .await
            .unwrap();
        assert_eq!(listed.status(), 403, "{path}");
    }

    let claimed = app
        .post(&format!("/api/v1/revisits/{task_id}/claim"))
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap();
    assert_eq!(claimed.status(), 200);
    let outcome = json!({"reached": true, "problem_solved": true, "satisfaction": 5, "suggestions": "希望以后提前一天短信提醒", "notes": "客户满意"});
    let recorded = app
        .post(&format!("/api/v1/revisits/{task_id}/outcome"))
        .bearer_auth(&crew.revisit.token)
        .json(&outcome)
        .send()
        .await
        .unwrap();
    assert_eq!(recorded.status(), 201);
    let invalid = app
        .post(&format!("/api/v1/revisits/{task_id}/outcome"))
        .bearer_auth(&crew.revisit.token)
        .json(&json!({"reached": false, "satisfaction": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(invalid.status(), 400);

    // Outcomes cannot be edited, only added to: the database itself refuses.
    let edited = sqlx::query("update revisit_outcomes set satisfaction = 1")
        .execute(&app.database.pool)
        .await;
    assert!(edited.unwrap_err().to_string().contains("append-only"));
    let added = app
        .post(&format!("/api/v1/revisits/{task_id}/outcome"))
        .bearer_auth(&crew.revisit.token)
        .json(&json!({"reached": true, "notes": "补充：客户要求下次同一位师傅"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let shown: Value = app
        .get(&format!("/api/v1/revisits/{task_id}"))
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let outcomes = shown["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2);
    assert_eq!(outcomes[0]["satisfaction"], 5);
    let csv = app
        .get("/api/v1/revisits/export")
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 3, "header and two outcomes: {csv}");
    assert!(csv.contains("希望以后提前一天短信提醒"));
    // The archive says what each outcome is about: the job, why it was called, the customer and
    // who did the job.
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let row: Vec<&str> = csv.lines().nth(1).unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("job_id"), job["id"].as_str().unwrap());
    assert_eq!(cell("job_number"), job["number"].as_str().unwrap());
    assert_eq!(cell("reason"), "completed_job");
    assert_eq!(cell("customer"), "王秀英");
    assert_eq!(cell("technician"), "张伟");
    assert_eq!(cell("recorded_by"), "刘芳");

    // A note a spreadsheet would run as a formula is archived as text.
    let added = app
        .post(&format!("/api/v1/revisits/{task_id}/outcome"))
        .bearer_auth(&crew.revisit.token)
        .json(&json!({"reached": false, "notes": "=HYPERLINK(\"http://example.com\")"}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 201);
    let csv = app
        .get("/api/v1/revisits/export")
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains(r#""'=HYPERLINK(""http://example.com"")""#),
        "{csv}"
    );
}

#[tokio::test]
async fn an_organisations_events_take_their_ids_in_commit_order() {
    // The live feed resumes after the last id seen: an event committing after a higher id was
    // streamed would be lost to it. The second writer waits for the first to commit.
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let pool = app.database.pool.clone();
    let organisation = crew.organisation;
    let mut first = pool.begin().await.unwrap();
    let first_id = fieldsync_server::outbox::insert(
        &mut first,
        organisation,
        "job.needs_review",
        None,
        "ordering-test-1",
        json!({"n": 1}),
    )
    .await
    .unwrap()
    .unwrap();
    let second = tokio::spawn(async move {
        let mut tx = pool.begin().await.unwrap();
        let id = fieldsync_server::outbox::insert(
            &mut tx,
            organisation,
            "job.needs_review",
            None,
            "ordering-test-2",
            json!({"n": 2}),
        )
        .await
        .unwrap()
        .unwrap();
        tx.commit().await.unwrap();
        id
    });
    // Decided by PostgreSQL, not by a pause: the second writer is seen waiting on a lock.
    let waiting = std::time::Instant::now() + Duration::from_secs(20);
    while sqlx::query_scalar::<_, i64>(
        "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    )
    .fetch_one(&app.database.pool)
    .await
    .unwrap()
        == 0
    {
        assert!(
            std::time::Instant::now() < waiting,
            "the second writer never waited for the first"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !second.is_finished(),
        "the second event waits for the first to commit"
    );
    first.commit().await.unwrap();
    let second_id = second.await.unwrap();
    assert!(second_id > first_id, "{second_id} after {first_id}");

    // Another organisation's events do not wait.
    let rival = app.crew("另一家公司").await;
    let mut held = app.database.pool.begin().await.unwrap();
    fieldsync_server::outbox::insert(
        &mut held,
        organisation,
        "job.needs_review",
        None,
        "ordering-test-3",
        json!({"n": 3}),
    )
    .await
    .unwrap();
    let mut other = app.database.pool.begin().await.unwrap();
    let inserted = tokio::time::timeout(
        Duration::from_secs(10),
        fieldsync_server::outbox::insert(
            &mut other,
            rival.organisation,
            "job.needs_review",
            None,
            "ordering-test-4",
            json!({"n": 4}),
        ),
    )
    .await
    .expect("not blocked by another organisation");
    assert!(inserted.unwrap().is_some());
    other.commit().await.unwrap();
    held.rollback().await.unwrap();
}

#[tokio::test]
async fn a_revisit_callers_feed_carries_completions_reopenings_and_revisits_only() {
    // Revisit callers read completed jobs only; the schedule and the review flags of visits
    // under way (with their customers) are the office's.
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let kinds = [
        "job.changed",
        "job.needs_review",
        "job.completed",
        "job.reopened",
        "revisit.outcome_recorded",
        "job.needs_review",
        "job.completed",
    ];
    let mut tx = app.database.pool.begin().await.unwrap();
    for (n, kind) in kinds.iter().enumerate() {
        fieldsync_server::outbox::insert(
            &mut tx,
            crew.organisation,
            kind,
            None,
            &format!("feed-test-{n}"),
            json!({"n": n}),
        )
        .await
        .unwrap()
        .unwrap();
    }
    tx.commit().await.unwrap();
    let base = app.base_url.clone();
    let seen = |token: String| {
        let base = base.clone();
        async move {
            let mut feed = FeedReader::open(&base, &token, Some("0")).await;
            let mut seen = Vec::new();
            // Up to the last event written (n = 6), which every role is shown.
            while let Some(event) = feed.next(Duration::from_secs(10)).await {
                let last = event.data["n"] == kinds.len() - 1;
                seen.push(event.event);
                if last {
                    return seen;
                }
            }
            panic!("the feed ended before the last event: {seen:?}");
        }
    };
    assert_eq!(
        seen(crew.dispatcher.token.clone()).await,
        kinds.map(str::to_owned).to_vec()
    );
    assert_eq!(
        seen(crew.revisit.token.clone()).await,
        vec![
            "job.completed",
            "job.reopened",
            "revisit.outcome_recorded",
            "job.completed"
        ]
    );
}
