//! Staff, device tokens, customers and the fleet view, including their object-level checks.

use harness::TestApp;
use harness::peer::RawPeer;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn admins_add_staff_and_issue_and_revoke_device_tokens() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
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

    // The console's operation, with its rules: an office member needs the e-mail they sign in
    // with, and gets a one-time link to set a password; fields it does not know are refused.
    let add = |body: Value| {
        app.post("/api/v1/staff")
            .bearer_auth(&admin.token)
            .json(&body)
            .send()
    };
    let staff_before: Value = app.get_json("/api/v1/staff", &admin.token).await;
    for (body, says) in [
        (
            json!({"name": "周芳", "role": "dispatcher"}),
            "needs an e-mail",
        ),
        (
            json!({"name": "周芳", "role": "dispatcher", "email": "zhoufang@example.cn", "is_superuser": true}),
            "unknown field",
        ),
    ] {
        let response = add(body.clone()).await.unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["error"]["message"].as_str().unwrap().contains(says),
            "{error}"
        );
    }
    let staff_after: Value = app.get_json("/api/v1/staff", &admin.token).await;
    assert_eq!(staff_after, staff_before, "nothing added");
    let response =
        add(json!({"name": "  周芳  ", "role": "dispatcher", "email": "zhoufang@example.cn"}))
            .await
            .unwrap();
    assert_eq!(response.status(), 201);
    let added: Value = response.json().await.unwrap();
    assert_eq!(added["name"], "周芳");
    assert_eq!(added["email"], "zhoufang@example.cn");
    let invitation = added["invitation_path"].as_str().unwrap();
    assert!(invitation.starts_with("/console/invitation/"), "{added}");
    let page = app.get(invitation).send().await.unwrap();
    assert_eq!(
        page.status(),
        200,
        "the link opens the page to set a password"
    );
}

#[tokio::test]
async fn ids_of_another_organisation_answer_like_missing_ones_on_every_directory_route() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let rival = app.crew("另一家公司").await;
    let admin = app.admin(&crew).await;
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
        .get_json("/api/v1/customers", &crew.dispatcher.token)
        .await;
    assert_eq!(customers.len(), 1, "only our own customers are listed");
}

#[tokio::test]
async fn the_fleet_view_shows_each_devices_last_connection_sync_and_reported_work() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    let mut doc = automerge::Automerge::new();
    peer.sync_until_in_sync(
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
    // The sync is noted after the tablet has its answer (an acknowledgement does not wait for
    // the note), so the view may show it a moment later: read until it does, within a limit.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (fleet, tablet) = loop {
        let fleet: Vec<Value> = app.get_json("/api/v1/fleet", &crew.dispatcher.token).await;
        let tablet = fleet
            .iter()
            .find(|d| d["device_token_id"] == crew.technician.token_id.to_string())
            .expect("the tablet is listed")
            .clone();
        if tablet["last_synced_at"].is_string() || std::time::Instant::now() > deadline {
            break (fleet, tablet);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
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

/// Follows `Link: <...>; rel="next"` from `first` to the end; every item's id, in order.
async fn all_pages(app: &TestApp, token: &str, first: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut next = Some(first.to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        pages += 1;
        assert!(pages < 50, "pagination does not end");
        let response = app.get(&path).bearer_auth(token).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        next = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned())
            .map(|link| {
                assert!(link.ends_with("; rel=\"next\""), "{link}");
                link.trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned()
            });
        let page: Vec<Value> = response.json().await.unwrap();
        ids.extend(
            page.iter()
                .map(|item| item["id"].as_str().unwrap().to_owned()),
        );
    }
    ids
}

#[tokio::test]
async fn long_lists_come_in_pages_that_end_and_repeat_nothing() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let mut customers = vec![crew.customer.to_string()];
    for n in 0..4 {
        let added = app
            .customer(
                crew.organisation,
                &format!("客户{n}"),
                "上海市徐汇区漕溪北路88号",
                fieldsync_server::directory::Tier::Regular,
            )
            .await;
        customers.push(added.id.to_string());
    }
    let listed = all_pages(&app, &crew.dispatcher.token, "/api/v1/customers?limit=2").await;
    assert_eq!(listed, customers, "every customer once, in the order added");
    let bad = app
        .get(&format!("/api/v1/customers?after={}", uuid::Uuid::new_v4()))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);

    // The revisit queue, by due time.
    let mut tasks = Vec::new();
    for n in 0..3 {
        let job = app.book(&crew, Some(crew.technician.staff.id)).await;
        for (reason, hours) in [("completed_job", 72 + n), ("complaint", 24 + n)] {
            let id = uuid::Uuid::new_v4();
            sqlx::query(
                "insert into revisit_tasks (id, organisation_id, job_id, customer_id, reason, due_at)
                 values ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))",
            )
            .bind(id)
            .bind(crew.organisation)
            .bind(uuid::Uuid::parse_str(job["id"].as_str().unwrap()).unwrap())
            .bind(crew.customer)
            .bind(reason)
            .bind(hours)
            .execute(&app.database.pool)
            .await
            .unwrap();
            tasks.push((hours, id.to_string()));
        }
    }
    tasks.sort();
    let by_due: Vec<String> = tasks.into_iter().map(|(_, id)| id).collect();
    let listed = all_pages(&app, &crew.revisit.token, "/api/v1/revisits?limit=4").await;
    assert_eq!(listed, by_due, "every task once, by due time");
}
