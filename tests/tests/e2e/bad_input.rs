//! Bad input over HTTP: each a clear 4xx with a message saying what to fix, nothing stored.

use harness::TestApp;
use serde_json::{Value, json};

/// The status and the error message of a JSON `POST`.
async fn post(app: &TestApp, path: &str, token: &str, body: &Value) -> (u16, String) {
    let response = app
        .post(path)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (
        status,
        body["error"]["message"].as_str().unwrap_or("").to_owned(),
    )
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
        .fetch_one(&app.database.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_nul_character_in_any_text_is_a_400_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
    let (customers, staff, tokens) = (
        count(&app, "customers").await,
        count(&app, "staff").await,
        count(&app, "device_tokens").await,
    );
    let nul = "王秀英\u{0}";
    let cases = [
        (
            "/api/v1/customers",
            json!({"name": nul, "address": "上海市徐汇区漕溪北路88号"}),
        ),
        (
            "/api/v1/customers",
            json!({"name": "王秀英", "address": nul}),
        ),
        (
            "/api/v1/customers",
            json!({"name": "王秀英", "address": "上海市", "phone": "138\u{0}"}),
        ),
        ("/api/v1/staff", json!({"name": nul, "role": "technician"})),
        (
            &format!("/api/v1/staff/{}/tokens", crew.technician.staff.id),
            json!({"device_name": nul}),
        ),
    ];
    for (path, body) in &cases {
        let (status, message) = post(&app, path, &admin.token, body).await;
        assert_eq!(status, 400, "{path} {body}: {message}");
        assert!(message.contains("NUL"), "{message}");
    }
    assert_eq!(count(&app, "customers").await, customers);
    assert_eq!(count(&app, "staff").await, staff);
    assert_eq!(count(&app, "device_tokens").await, tokens);
    // An escaped backslash before `u0000` is ordinary text.
    let (status, message) = post(
        &app,
        "/api/v1/customers",
        &admin.token,
        &json!({"name": "C:\\u0000", "address": "上海市"}),
    )
    .await;
    assert_eq!(status, 201, "{message}");
    // In a job number in the path it names nothing: 404, as for any unknown number.
    for path in ["/api/v1/jobs/FS-%00", "/api/v1/jobs/FS-2026-%001"] {
        let response = app
            .get(path)
            .bearer_auth(&crew.dispatcher.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn a_json_body_over_the_limit_is_a_413() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let before = count(&app, "customers").await;
    let (status, message) = post(
        &app,
        "/api/v1/customers",
        &crew.dispatcher.token,
        &json!({"name": "王秀英", "address": "上".repeat(30_000)}),
    )
    .await;
    assert_eq!(status, 413, "{message}");
    assert!(message.contains("64 KiB"), "{message}");
    assert_eq!(count(&app, "customers").await, before);
}

#[tokio::test]
async fn appointment_windows_outside_sane_years_are_refused() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let jobs = count(&app, "jobs").await;
    for (start, end) in [
        ("+99999-01-01T01:00:00Z", "+99999-01-01T03:00:00Z"),
        ("-0001-01-01T01:00:00Z", "-0001-01-01T03:00:00Z"),
        ("1899-12-31T01:00:00Z", "1899-12-31T03:00:00Z"),
    ] {
        let (status, message) = post(
            &app,
            "/api/v1/jobs",
            &crew.dispatcher.token,
            &json!({
                "customer_id": crew.customer,
                "kind": "installation",
                "window_start": start,
                "window_end": end,
            }),
        )
        .await;
        assert_eq!(status, 400, "{start}: {message}");
    }
    assert_eq!(count(&app, "jobs").await, jobs);
    let job = app.book(&crew, None).await;
    let (status, message) = post(
        &app,
        &format!("/api/v1/jobs/{}/reschedule", job["id"].as_str().unwrap()),
        &crew.dispatcher.token,
        &json!({"window_start": "2101-01-01T01:00:00Z", "window_end": "2101-01-01T03:00:00Z"}),
    )
    .await;
    assert_eq!(status, 400, "{message}");
    assert!(
        message.contains("between the years 2000 and 2100"),
        "{message}"
    );
}

#[tokio::test]
async fn names_and_addresses_are_one_line_of_plain_text() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
    let (customers, staff) = (count(&app, "customers").await, count(&app, "staff").await);
    let cases = [
        (
            "/api/v1/customers",
            json!({"name": "\u{202e}王秀英", "address": "上海市徐汇区漕溪北路88号"}),
        ),
        (
            "/api/v1/customers",
            json!({"name": "王秀英", "address": "上海市\r\n徐汇区"}),
        ),
        (
            "/api/v1/customers",
            json!({"name": "王秀英", "address": "上海市", "phone": "138\u{1b}[31m"}),
        ),
        (
            "/api/v1/staff",
            json!({"name": "孙磊\u{7}", "role": "technician"}),
        ),
        (
            "/api/v1/customers",
            json!({"name": "王秀英", "address": "上海市\u{2028}徐汇区"}),
        ),
        (
            "/api/v1/customers",
            json!({"name": "\u{200f}王秀英", "address": "上海市"}),
        ),
    ];
    for (path, body) in &cases {
        let (status, message) = post(&app, path, &admin.token, body).await;
        assert_eq!(status, 400, "{path} {body}: {message}");
        assert!(message.contains("one line of plain text"), "{message}");
    }
    assert_eq!(count(&app, "customers").await, customers);
    assert_eq!(count(&app, "staff").await, staff);
    // Chinese, spaces and punctuation are plain text.
    let (status, message) = post(
        &app,
        "/api/v1/customers",
        &admin.token,
        &json!({"name": "欧阳 娜娜（二号楼）", "address": "上海市徐汇区漕溪北路88号 3-201"}),
    )
    .await;
    assert_eq!(status, 201, "{message}");
}
