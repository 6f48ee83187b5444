//! Staff, device tokens, customers and the fleet view, including their object-level checks.

use harness::TestApp;
use harness::peer::RawPeer;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn admins_add_staff_and_issue_and_revoke_device_tokens() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app
        .staff(
            crew.organisation,
            "赵敏",
            fieldsync_server::directory::Role::Admin,
        )
        .await;
    let response = app
        .post("/api/v1/staff")
        .bearer_auth(&admin.token)
        .json(&json!({"name": "孙磊", "role": "technician"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let staff: Value = response.json().await.unwrap();
    let response = app
        .post(&format!(
            "/api/v1/staff/{}/tokens",
            staff["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin.token)
        .json(&json!({"device_name": "孙磊的平板"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let issued: Value = response.json().await.unwrap();
    let token = issued["token"].as_str().unwrap();
    let me: Value = app
        .get("/api/v1/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "孙磊");
    assert!(
        me["index_document_url"]
            .as_str()
            .unwrap()
            .starts_with("automerge:")
    );

    let response = app
        .delete_(
            &format!("/api/v1/tokens/{}", issued["id"].as_str().unwrap()),
            &admin.token,
        )
        .await;
    assert_eq!(response, 204);
    assert_eq!(
        app.get("/api/v1/me")
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Only admins manage staff; a dispatcher is told which role it takes.
    let response = app
        .post("/api/v1/staff")
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({"name": "x", "role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("admin"));
    let response = app
        .post("/api/v1/staff")
        .bearer_auth(&admin.token)
        .json(&json!({"name": "", "role": "technician"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = app
        .post("/api/v1/staff")
        .bearer_auth(&admin.token)
        .json(&json!({"name": "x", "role": "boss"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn ids_of_another_organisation_answer_like_missing_ones_on_every_directory_route() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let rival = app.crew("另一家公司").await;
    let admin = app
        .staff(
            crew.organisation,
            "赵敏",
            fieldsync_server::directory::Role::Admin,
        )
        .await;
    let missing = Uuid::new_v4();
    // Customer of the rival vs a random id.
    for id in [rival.customer, missing] {
        let response = app
            .get(&format!("/api/v1/customers/{id}"))
            .bearer_auth(&crew.dispatcher.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
    // Issuing a token for, and revoking a token of, another organisation's staff.
    for staff in [rival.technician.staff.id, missing] {
        let response = app
            .post(&format!("/api/v1/staff/{staff}/tokens"))
            .bearer_auth(&admin.token)
            .json(&json!({"device_name": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
    }
    for token in [rival.technician.token_id, missing] {
        assert_eq!(
            app.delete_(&format!("/api/v1/tokens/{token}"), &admin.token)
                .await,
            404
        );
    }
    let me: Value = app
        .get("/api/v1/me")
        .bearer_auth(&rival.technician.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["name"], "张伟", "the rival's token still works");
    let customers: Vec<Value> = app
        .get("/api/v1/customers")
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(customers.len(), 1, "only our own customers are listed");
}

#[tokio::test]
async fn the_fleet_view_shows_each_devices_last_connection_sync_and_reported_work() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    let mut doc = automerge::Automerge::new();
    peer.sync_until_quiet(
        job["document_id"].as_str().unwrap(),
        &mut doc,
        &mut automerge::sync::State::new(),
    )
    .await;
    let response = app
        .post("/api/v1/fleet/report")
        .bearer_auth(&crew.technician.token)
        .json(&json!({"pending_changes": 3, "pending_uploads": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let fleet: Vec<Value> = app
        .get("/api/v1/fleet")
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tablet = fleet
        .iter()
        .find(|d| d["device_token_id"] == crew.technician.token_id.to_string())
        .expect("the tablet is listed");
    assert_eq!(tablet["protocol"], "automerge-repo/1");
    assert_eq!(tablet["peer_id"], peer.peer_id);
    assert!(tablet["last_connected_at"].is_string());
    assert_eq!(tablet["pending_changes"], 3);
    assert_eq!(tablet["pending_uploads"], 2);
    assert_eq!(
        fleet.len(),
        4,
        "every device of the organisation, none of another"
    );
    assert!(
        tablet["last_synced_at"].is_string(),
        "a sync that only downloads counts"
    );
    assert_eq!(
        app.get("/api/v1/fleet")
            .bearer_auth(&crew.technician.token)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}
