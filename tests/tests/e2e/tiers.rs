//! Customer tiers follow the period's data and the organisation's thresholds; past periods stay.

use chrono::Datelike;
use harness::TestApp;
use harness::visit::{Evidence, complete_visit};
use serde_json::{Value, json};

#[tokio::test]
async fn tiers_are_recomputed_per_period_from_completed_jobs_and_kept() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let evidence = Evidence::small(5);
    complete_visit(&app, &crew, &job, &evidence).await;
    let year = chrono::Utc::now().year().to_string();
    let recompute = |period: String| {
        app.post("/api/v1/tiers/recompute")
            .bearer_auth(&admin.token)
            .json(&json!({"period": period}))
            .send()
    };

    let rows: Vec<Value> = recompute(year.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0]["tier"], "regular",
        "one completed job, below the key thresholds"
    );
    assert_eq!(rows[0]["completed_jobs"], 1);

    let rules = json!({"key_min_spend_minor": 500000, "key_min_jobs": 1, "regular_min_jobs": 1});
    let response = app
        .http
        .put(app.url("/api/v1/tier-rules"))
        .bearer_auth(&admin.token)
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let rows: Vec<Value> = recompute(year.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(rows[0]["tier"], "key");
    let last_year = (chrono::Utc::now().year() - 1).to_string();
    let rows: Vec<Value> = recompute(last_year.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows[0]["tier"], "prospect", "no jobs last year");

    let history: Vec<Value> = app
        .get(&format!("/api/v1/customers/{}/tiers", crew.customer))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let periods: Vec<(&str, &str)> = history
        .iter()
        .map(|h| (h["period"].as_str().unwrap(), h["tier"].as_str().unwrap()))
        .collect();
    assert_eq!(
        periods,
        vec![(last_year.as_str(), "prospect"), (year.as_str(), "key")]
    );
    let customer: Value = app
        .get(&format!("/api/v1/customers/{}", crew.customer))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        customer["tier"], "key",
        "the current tier follows the latest period"
    );

    for bad in ["26", "year", "1999"] {
        assert_eq!(recompute(bad.into()).await.unwrap().status(), 400);
    }
    let response = app
        .post("/api/v1/tiers/recompute")
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({"period": year}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        403,
        "a person does not set tiers; only the recomputation does"
    );
}

/// The reasons of the revisit tasks made for `job`.
async fn revisit_reasons(app: &TestApp, token: &str, job: &Value) -> Vec<String> {
    let tasks: Vec<Value> = app
        .get("/api/v1/revisits?status=all")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut reasons: Vec<String> = tasks
        .iter()
        .filter(|t| t["job_id"] == job["id"])
        .map(|t| t["reason"].as_str().unwrap().to_owned())
        .collect();
    reasons.sort();
    reasons
}

#[tokio::test]
async fn an_organisation_ranking_by_stars_gets_scheduled_revisits_from_the_stars_it_chose() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
    let evidence = Evidence::small(5);
    let put = |path: &'static str, body: Value| {
        app.http
            .put(app.url(path))
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    let year = chrono::Utc::now().year().to_string();

    // Three tiers (the default): the key customer's job gets a scheduled revisit too.
    let first = app.book(&crew, Some(crew.technician.staff.id)).await;
    complete_visit(&app, &crew, &first, &evidence).await;
    assert_eq!(
        revisit_reasons(&app, &crew.dispatcher.token, &first).await,
        ["completed_job", "key_customer_scheduled"]
    );

    // Bad star thresholds are refused whole; the rules stay as they were.
    for bad in [
        json!({"scheme": "stars", "star_min_jobs": [1, 3, 2, 4]}),
        json!({"scheme": "stars", "star_min_jobs": [0, 1, 2, 3]}),
        json!({"scheme": "stars", "star_min_spend_minor": [1, 2, 3]}),
        json!({"scheme": "five_tiers"}),
    ] {
        let response = put("/api/v1/tier-rules", bad.clone()).await.unwrap();
        assert!(response.status().is_client_error(), "{bad}");
    }
    let rules: Value = app
        .get("/api/v1/tier-rules")
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rules["scheme"], "three_tiers", "{rules}");

    let response = put(
        "/api/v1/tier-rules",
        json!({"scheme": "stars", "star_min_jobs": [1, 2, 3, 4]}),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let rules: Value = response.json().await.unwrap();
    assert_eq!(
        rules["star_min_spend_minor"],
        json!([100000, 300000, 600000, 1000000])
    );

    // A person does not choose a tier, even for a new customer: it starts with one star.
    let customer = |body: Value| {
        app.post("/api/v1/customers")
            .bearer_auth(&crew.dispatcher.token)
            .json(&body)
            .send()
    };
    let refused =
        customer(json!({"name": "孙丽", "address": "杭州市西湖区文三路90号", "tier": "stars_5"}))
            .await
            .unwrap();
    assert_eq!(refused.status(), 400);
    let message = refused.text().await.unwrap();
    assert!(message.contains("never from a person"), "{message}");
    let created = customer(
        json!({"name": "孙丽", "phone": "13800138000", "address": "杭州市西湖区文三路90号"}),
    )
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    let newcomer: Value = created.json().await.unwrap();
    assert_eq!(newcomer["tier"], "stars_1", "{newcomer}");

    // One completed job this year reaches the two-star job threshold; no job, one star.
    let rows: Vec<Value> = app
        .post("/api/v1/tiers/recompute")
        .bearer_auth(&admin.token)
        .json(&json!({"period": year}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tier_of = |id: &Value| {
        rows.iter()
            .find(|r| &r["customer_id"] == id)
            .map(|r| r["tier"].as_str().unwrap().to_owned())
    };
    assert_eq!(tier_of(&json!(crew.customer)).as_deref(), Some("stars_2"));
    assert_eq!(tier_of(&newcomer["id"]).as_deref(), Some("stars_1"));

    // The policy asks three stars for a scheduled revisit: a two-star customer gets none...
    let policy = put(
        "/api/v1/revisit-policy",
        json!({"complaint_due_hours": 24, "regular_due_hours": 72,
               "key_customer_extra_days": 30, "scheduled_min_stars": 3}),
    )
    .await
    .unwrap();
    assert_eq!(policy.status(), 200);
    let second = app.book(&crew, Some(crew.technician.staff.id)).await;
    complete_visit(&app, &crew, &second, &evidence).await;
    assert_eq!(
        revisit_reasons(&app, &crew.dispatcher.token, &second).await,
        ["completed_job"]
    );

    // ...two stars are enough once the policy says so.
    let policy = put(
        "/api/v1/revisit-policy",
        json!({"complaint_due_hours": 24, "regular_due_hours": 72,
               "key_customer_extra_days": 30, "scheduled_min_stars": 2}),
    )
    .await
    .unwrap();
    assert_eq!(policy.status(), 200);
    let third = app.book(&crew, Some(crew.technician.staff.id)).await;
    complete_visit(&app, &crew, &third, &evidence).await;
    assert_eq!(
        revisit_reasons(&app, &crew.dispatcher.token, &third).await,
        ["completed_job", "key_customer_scheduled"]
    );
    for stars in [0, 6] {
        let refused = put(
            "/api/v1/revisit-policy",
            json!({"complaint_due_hours": 24, "regular_due_hours": 72,
                   "key_customer_extra_days": 30, "scheduled_min_stars": stars}),
        )
        .await
        .unwrap();
        assert_eq!(refused.status(), 400, "{stars} stars");
    }

    // Revisit callers see the customer's stars on the task.
    let tasks: Vec<Value> = app
        .get("/api/v1/revisits")
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!tasks.is_empty());
    assert!(
        tasks.iter().all(|t| t["customer_tier"] == "stars_2"),
        "{tasks:?}"
    );
}

#[tokio::test]
async fn a_period_that_closes_is_computed_at_the_start_of_the_next_without_anyone_asking() {
    use chrono::TimeZone;

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
    // Another organisation that never computed tiers is left alone.
    let bystander = app.crew("另一家公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let evidence = Evidence::small(15);
    complete_visit(&app, &crew, &job, &evidence).await;
    let year = chrono::Utc::now().year();
    let computed = app
        .post("/api/v1/tiers/recompute")
        .bearer_auth(&admin.token)
        .json(&json!({"period": year.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(computed.status(), 200);

    // Early next year the server finds the period closed and computes it once more, final.
    let new_year = chrono::Utc
        .with_ymd_and_hms(year + 1, 1, 2, 3, 0, 0)
        .unwrap();
    let pool = &app.database.pool;
    let done = fieldsync_server::tiers::close_periods_once(pool, new_year)
        .await
        .unwrap();
    assert_eq!(done, vec![crew.organisation]);
    assert!(!done.contains(&bystander.organisation));
    let history: Vec<Value> = app
        .get(&format!("/api/v1/customers/{}/tiers", crew.customer))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let closed = history
        .iter()
        .find(|h| h["period"].as_str() == Some(year.to_string().as_str()))
        .unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(closed["computed_at"].as_str().unwrap()).unwrap(),
        new_year
    );
    assert_eq!(closed["tier"], "regular", "one completed job: {closed}");
    assert_eq!(closed["completed_jobs"], 1);

    // Once is enough: the next look finds nothing to do.
    let again =
        fieldsync_server::tiers::close_periods_once(pool, new_year + chrono::Duration::hours(1))
            .await
            .unwrap();
    assert!(again.is_empty(), "{again:?}");
}
