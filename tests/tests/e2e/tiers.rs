//! Customer tiers follow the period's data and the organisation's thresholds; past periods stay.

use chrono::Datelike;
use harness::TestApp;
use harness::visit::{Evidence, complete_visit};
use serde_json::{Value, json};

#[tokio::test]
async fn tiers_are_recomputed_per_period_from_completed_jobs_and_kept() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app
        .staff(
            crew.organisation,
            "赵敏",
            fieldsync_server::directory::Role::Admin,
        )
        .await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let evidence = Evidence {
        card: harness::images::noise_png(100, 80, 5),
        signature: harness::images::noise_png(60, 24, 6),
    };
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
