//! Bearer tokens: who may call, and the clear refusal everyone else gets.

use fieldsync_server::auth::{DeviceToken, TokenHash};
use fieldsync_server::directory::Role;
use harness::TestApp;
use serde_json::Value;

#[tokio::test]
async fn a_device_token_identifies_its_staff_member() {
    let app = TestApp::spawn().await;
    let org = app.organisation("安居家电服务有限公司").await;
    let dispatcher = app.staff(org.id, "李娜", Role::Dispatcher).await;

    let response = app
        .get("/api/v1/me")
        .bearer_auth(&dispatcher.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["staff_id"], dispatcher.staff.id.to_string());
    assert_eq!(me["organisation_id"], org.id.to_string());
    assert_eq!(me["name"], "李娜");
    assert_eq!(me["role"], "dispatcher");

    // Browsers cannot set headers on a WebSocket upgrade, so `?token=` works too.
    let response = app
        .get(&format!("/api/v1/me?token={}", dispatcher.token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.shutdown().await;
}

#[tokio::test]
async fn missing_wrong_and_revoked_tokens_are_refused_clearly() {
    let app = TestApp::spawn().await;
    let org = app.organisation("安居家电服务有限公司").await;
    let technician = app.staff(org.id, "张伟", Role::Technician).await;

    for request in [
        app.get("/api/v1/me"),
        app.get("/api/v1/me").bearer_auth("fst_not-a-real-token"),
        app.get("/api/v1/me")
            .header("authorization", "Basic dXNlcjpwYXNz"),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Bearer")
        );
    }

    assert!(
        DeviceToken::revoke(&app.database.pool, technician.token_id)
            .await
            .unwrap()
    );
    let response = app
        .get("/api/v1/me")
        .bearer_auth(&technician.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "a revoked token no longer works");
    app.shutdown().await;
}

#[tokio::test]
async fn revoking_one_device_leaves_the_others_working() {
    let app = TestApp::spawn().await;
    let org = app.organisation("安居家电服务有限公司").await;
    let technician = app.staff(org.id, "陈强", Role::Technician).await;
    let second = DeviceToken::issue(&app.database.pool, technician.staff.id, "spare tablet")
        .await
        .unwrap();

    DeviceToken::revoke(&app.database.pool, technician.token_id)
        .await
        .unwrap();
    let response = app
        .get("/api/v1/me")
        .bearer_auth(&second.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let me: Value = response.json().await.unwrap();
    assert_eq!(me["device_name"], "spare tablet");
    app.shutdown().await;
}

#[tokio::test]
async fn tokens_are_stored_only_as_hashes() {
    let app = TestApp::spawn().await;
    let org = app.organisation("安居家电服务有限公司").await;
    let admin = app.staff(org.id, "赵敏", Role::Admin).await;
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from device_tokens where id = $1")
        .bind(admin.token_id)
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
    assert_eq!(stored, TokenHash::of(&admin.token).as_bytes());
    assert_ne!(stored, admin.token.as_bytes());
    app.shutdown().await;
}

#[tokio::test]
async fn a_token_revoked_while_its_tablet_is_connected_ends_the_sync_connection() {
    use harness::peer::{RawPeer, Received};

    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    assert!(
        DeviceToken::revoke(&app.database.pool, crew.technician.token_id)
            .await
            .unwrap()
    );
    // Within a heartbeat (15 s) the server says why and closes; until then `recv` may come
    // back empty-handed after its own 10 s of silence.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        match peer.recv().await {
            Received::Error { message } => {
                assert!(message.contains("revoked"), "{message}");
                break;
            }
            other => assert!(
                std::time::Instant::now() < deadline,
                "still connected: {other:?}"
            ),
        }
    }
    assert_eq!(peer.recv().await, Received::Closed);
    // And it cannot come back.
    assert_eq!(
        RawPeer::connect(&app.base_url, &crew.technician.token)
            .await
            .err(),
        Some(401)
    );
}

#[tokio::test]
async fn a_device_over_its_request_rate_is_told_to_slow_down_and_others_are_not() {
    use fieldsync_server::auth::{RateLimiter, RateSettings};

    let app = TestApp::spawn_with(|state| {
        state.rates = RateLimiter::new(RateSettings {
            per_second: 2.0,
            burst: 3.0,
        });
    })
    .await;
    let org = app.organisation("安居家电服务有限公司").await;
    let busy = app.staff(org.id, "李娜", Role::Dispatcher).await;
    let calm = app.staff(org.id, "赵敏", Role::Admin).await;
    let me = |token: &str| app.get("/api/v1/me").bearer_auth(token).send();

    let mut statuses = Vec::new();
    let mut refused = None;
    for _ in 0..6 {
        let response = me(&busy.token).await.unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 && refused.is_none() {
            let retry_after: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            let body: Value = response.json().await.unwrap();
            refused = Some((retry_after, body));
        }
    }
    assert_eq!(
        &statuses[..3],
        &[200, 200, 200],
        "the burst passes: {statuses:?}"
    );
    assert!(statuses.contains(&429), "{statuses:?}");
    let (retry_after, body) = refused.unwrap();
    assert!((1..=2).contains(&retry_after), "{retry_after}");
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    assert_eq!(
        me(&calm.token).await.unwrap().status(),
        200,
        "another device"
    );

    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    assert_eq!(
        me(&busy.token).await.unwrap().status(),
        200,
        "after the wait"
    );
}
