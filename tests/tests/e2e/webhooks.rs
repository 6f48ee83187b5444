//! Webhooks end to end: the real server delivers outbox events to a receiver in this process on
//! 127.0.0.1, every delivery is verified with the official `standardwebhooks` library, and the
//! retry schedule is compressed to milliseconds. Events are written to the outbox with SQL, as
//! the completion code does, with its `NOTIFY`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fieldsync_server::AppState;
use fieldsync_server::auth::DeviceToken;
use fieldsync_server::directory::{NewStaff, Organisation, Role, Staff};
use fieldsync_server::notifications::WebhookSettings;
use harness::TestApp;
use harness::node::NodeClient;
use harness::postgres::{TestDatabase, fresh_database};
use harness::s3::TestObjectStore;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use uuid::Uuid;

#[tokio::test]
async fn a_receiver_that_fails_then_recovers_gets_each_event_once_on_the_schedule() {
    let schedule = millis(&[0, 60, 120, 180, 240]);
    let world = World::start(schedule.clone()).await;
    // The first two requests for each event fail.
    let receiver = Receiver::start(|_, nth| Reply::status(if nth <= 2 { 500 } else { 204 })).await;
    let endpoint = world
        .register(&receiver.url, &["job.completed", "job.needs_review"])
        .await;
    let mut events = Vec::new();
    for event_type in [
        "job.completed",
        "job.completed",
        "job.needs_review",
        "job.completed",
    ] {
        events.push(world.raise(event_type).await);
    }
    let unsubscribed = world.raise("job.reopened").await;

    let expected: HashSet<String> = events.iter().map(|e| webhook_id(e.event_id)).collect();
    wait_until("every event is delivered", async || {
        world.log(&endpoint.id, Some("delivered")).await.len() == events.len()
    })
    .await;

    let requests = receiver.requests();
    let by_id = group_by_webhook_id(&requests);
    assert_eq!(by_id.keys().cloned().collect::<HashSet<_>>(), expected);
    for event in &events {
        let seen = &by_id[&webhook_id(event.event_id)];
        let attempts: Vec<u32> = seen.iter().map(Received::attempt).collect();
        assert_eq!(attempts, [1, 2, 3], "two failures, then success");
        for received in seen {
            let body: Value = serde_json::from_str(&received.body).unwrap();
            assert_eq!(body, event.payload, "the payload is sent as stored");
        }
        // Each retry waits at least its step of the schedule, less the 10% jitter.
        for (step, pair) in seen.windows(2).enumerate() {
            let gap = pair[1].at - pair[0].at;
            let least = schedule[step + 1].mul_f64(0.9);
            assert!(
                gap >= least,
                "retry {} came after {gap:?} < {least:?}",
                step + 1
            );
        }
    }
    let fanned_out: bool =
        sqlx::query_scalar("select fanned_out_at is not null from outbox where event_id = $1")
            .bind(unsubscribed.event_id)
            .fetch_one(&world.database.pool)
            .await
            .unwrap();
    assert!(fanned_out, "the unsubscribed event was considered");
    assert!(!by_id.contains_key(&webhook_id(unsubscribed.event_id)));

    let log = world.log(&endpoint.id, None).await;
    assert_eq!(log.len(), events.len());
    for line in &log {
        assert_eq!(line["state"], "delivered");
        assert_eq!(line["attempts"], 3);
        assert_eq!(line["last_status_code"], 204);
        assert_eq!(line["last_error"], Value::Null);
        assert!(expected.contains(line["webhook_id"].as_str().unwrap()));
    }
    assert_all_verify(&endpoint.secret, &requests).await;
}

#[tokio::test]
async fn a_410_disables_the_endpoint_and_stops_deliveries() {
    let world = World::start(millis(&[0, 20, 40])).await;
    let receiver = Receiver::start(|_, _| Reply::status(410)).await;
    let endpoint = world.register(&receiver.url, &["job.completed"]).await;
    let first = world.raise("job.completed").await;
    wait_until("the endpoint is disabled", async || {
        world.endpoint(&endpoint.id).await["enabled"] == false
    })
    .await;
    let listed = world.endpoint(&endpoint.id).await;
    assert!(
        listed["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410 Gone"),
        "{listed}"
    );
    let log = world.log(&endpoint.id, None).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["state"], "dead");
    assert_eq!(log[0]["last_status_code"], 410);
    assert_eq!(log[0]["event_id"], first.event_id.to_string());

    // Later events are not queued for a disabled endpoint.
    let second = world.raise("job.completed").await;
    wait_until("the second event is fanned out", async || {
        sqlx::query_scalar::<_, bool>(
            "select fanned_out_at is not null from outbox where event_id = $1",
        )
        .bind(second.event_id)
        .fetch_one(&world.database.pool)
        .await
        .unwrap()
    })
    .await;
    assert_eq!(world.log(&endpoint.id, None).await.len(), 1);
    assert_eq!(receiver.requests().len(), 1, "one request, then none");

    // A replay would sit unsent behind the disabled endpoint: refused with what to do.
    let (status, body) = world
        .replay(&endpoint.id, json!({ "event_id": first.event_id }))
        .await;
    assert_eq!(status, 409, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("410 Gone") && message.contains("enable"),
        "{message}"
    );
    // An admin disabling it again does not hide why the receiver turned it off.
    let again: Value = world
        .http
        .post(world.url(&format!("/api/v1/webhooks/{}/disable", endpoint.id)))
        .bearer_auth(&world.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["disabled_reason"], listed["disabled_reason"]);
    assert_eq!(again["disabled_at"], listed["disabled_at"]);
}

#[tokio::test]
async fn retry_after_is_honoured_in_seconds_and_as_an_http_date() {
    let world = World::start(millis(&[0, 10, 20, 30])).await;
    let by_date: Arc<Mutex<Option<String>>> = Arc::default();
    let wanted_date = by_date.clone();
    let receiver = Receiver::start(move |received, nth| {
        if nth > 1 {
            return Reply::status(200);
        }
        let date = wanted_date.lock().unwrap().clone();
        let retry_after = match date {
            Some(id) if id == received.webhook_id() => (chrono::Utc::now()
                + Duration::from_secs(2))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string(),
            _ => "1".to_owned(),
        };
        Reply::status(503).with_header("retry-after", &retry_after)
    })
    .await;
    let endpoint = world.register(&receiver.url, &["job.completed"]).await;
    let in_seconds = world.raise("job.completed").await;
    wait_until("the first event is delivered", async || {
        world.log(&endpoint.id, Some("delivered")).await.len() == 1
    })
    .await;
    let as_date = Uuid::new_v4();
    *by_date.lock().unwrap() = Some(webhook_id(as_date));
    world.raise_with_id("job.completed", as_date).await;
    wait_until("the second event is delivered", async || {
        world.log(&endpoint.id, Some("delivered")).await.len() == 2
    })
    .await;

    let requests = receiver.requests();
    let by_id = group_by_webhook_id(&requests);
    for id in [in_seconds.event_id, as_date] {
        let seen = &by_id[&webhook_id(id)];
        assert_eq!(seen.len(), 2);
        let gap = seen[1].at - seen[0].at;
        // The schedule says 10 ms; the receiver asked for a second (the date has second
        // precision, so it asks for between one and two).
        assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    }
    assert_all_verify(&endpoint.secret, &requests).await;
}

#[tokio::test]
async fn after_the_last_attempt_a_delivery_is_dead_and_replay_sends_it_with_the_same_webhook_id() {
    let world = World::start(millis(&[0, 10, 20, 30])).await;
    let recovered = Arc::new(Mutex::new(false));
    let answer = recovered.clone();
    let receiver =
        Receiver::start(move |_, _| Reply::status(if *answer.lock().unwrap() { 200 } else { 500 }))
            .await;
    let endpoint = world.register(&receiver.url, &["job.completed"]).await;
    let event = world.raise("job.completed").await;
    wait_until("the delivery is dead", async || {
        world.log(&endpoint.id, Some("dead")).await.len() == 1
    })
    .await;
    let dead = &world.log(&endpoint.id, None).await[0];
    assert_eq!(dead["attempts"], 4, "every step of the schedule was tried");
    assert_eq!(dead["last_status_code"], 500);
    assert!(dead["last_error"].as_str().unwrap().contains("500"));
    assert_eq!(receiver.requests().len(), 4);

    *recovered.lock().unwrap() = true;
    let (status, body) = world
        .replay(&endpoint.id, json!({ "event_id": event.event_id }))
        .await;
    assert_eq!((status, &body["queued"]), (202, &json!(1)), "{body}");
    wait_until("the replay is delivered", async || {
        world.log(&endpoint.id, Some("delivered")).await.len() == 1
    })
    .await;
    // And everything since the start of the test once more.
    let (status, body) = world
        .replay(&endpoint.id, json!({ "since": "2020-01-01T00:00:00Z" }))
        .await;
    assert_eq!((status, &body["queued"]), (202, &json!(1)), "{body}");
    wait_until("the second replay is delivered", async || {
        receiver.requests().len() == 6
    })
    .await;

    let requests = receiver.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.webhook_id() == webhook_id(event.event_id)),
        "retries and replays carry the same webhook-id"
    );
    let attempts: Vec<u32> = requests.iter().map(Received::attempt).collect();
    assert_eq!(
        attempts,
        [1, 2, 3, 4, 1, 1],
        "a replay starts the schedule over"
    );
    assert_all_verify(&endpoint.secret, &requests).await;

    let (status, _) = world
        .replay(
            &endpoint.id,
            json!({ "event_id": event.event_id, "since": "2020-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(status, 400, "one of event_id and since");
    let (status, _) = world
        .replay(&endpoint.id, json!({ "event_id": Uuid::new_v4() }))
        .await;
    assert_eq!(status, 422, "an unknown event");
}

#[tokio::test]
async fn two_instances_never_send_the_same_attempt_twice() {
    let mut world = World::start(millis(&[0, 30, 60, 90])).await;
    world.add_instance().await;
    let receiver = Receiver::start(|_, nth| Reply::status(if nth <= 2 { 503 } else { 200 })).await;
    let endpoint = world.register(&receiver.url, &["job.completed"]).await;
    let mut events = Vec::new();
    for _ in 0..30 {
        events.push(world.raise("job.completed").await);
    }
    wait_until("every event is delivered", async || {
        world.log(&endpoint.id, Some("delivered")).await.len() == events.len()
    })
    .await;

    let requests = receiver.requests();
    let mut per_attempt: HashMap<(String, u32), usize> = HashMap::new();
    for received in &requests {
        *per_attempt
            .entry((received.webhook_id().to_owned(), received.attempt()))
            .or_default() += 1;
    }
    let doubled: Vec<_> = per_attempt.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "attempts sent twice: {doubled:?}");
    assert_eq!(
        requests.len(),
        events.len() * 3,
        "two failures and a success each"
    );
    assert_all_verify(&endpoint.secret, &requests).await;
}

#[tokio::test]
async fn delivery_refuses_private_targets_even_if_registered_while_allowed() {
    let mut world = World::start(millis(&[0, 10])).await;
    let receiver = Receiver::start(|_, _| Reply::status(200)).await;
    let port = receiver
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches("/hook");
    let literal = world.register(&receiver.url, &["job.completed"]).await;
    let by_name = world
        .register(&format!("http://localhost:{port}/hook"), &["job.completed"])
        .await;
    // The operator withdraws the permission: the same database, a stricter server.
    let settings = WebhookSettings {
        allow_private_targets: false,
        ..world.settings.clone()
    };
    world.replace_instances(settings).await;
    world.raise("job.completed").await;
    for endpoint in [&literal, &by_name] {
        wait_until("the delivery is refused to the end", async || {
            world.log(&endpoint.id, Some("dead")).await.len() == 1
        })
        .await;
        let log = world.log(&endpoint.id, None).await;
        let error = log[0]["last_error"].as_str().unwrap();
        assert!(error.contains("internal address"), "{error}");
        assert_eq!(log[0]["last_status_code"], Value::Null);
    }
    assert!(receiver.requests().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn registration_refuses_internal_targets_and_bad_requests_and_hides_other_organisations() {
    // The default settings: private targets are not allowed. Nothing here is ever sent.
    let app = TestApp::spawn().await;
    let organisation = app.organisation("安居家电服务有限公司").await.id;
    let admin = app.staff(organisation, "周敏", Role::Admin).await;
    let dispatcher = app.staff(organisation, "李娜", Role::Dispatcher).await;
    let register = |token: String, body: Value| {
        let request = app.post("/api/v1/webhooks").bearer_auth(token).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    for url in [
        "http://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
        "http://[::1]:8080/hook",
        "http://localhost:8080/hook",
    ] {
        let (status, body) = register(
            admin.token.clone(),
            json!({ "url": url, "events": ["job.completed"] }),
        )
        .await;
        assert_eq!(status, 400, "{url}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("private"), "{url}: {message}");
    }
    for (body, why) in [
        (
            json!({ "url": "ftp://hooks.example.com/", "events": ["job.completed"] }),
            "scheme",
        ),
        (
            json!({ "url": "https://hooks.example.com/", "events": [] }),
            "no events",
        ),
        (
            json!({ "url": "https://hooks.example.com/", "events": ["job.eaten"] }),
            "unknown event",
        ),
        (
            json!({ "url": format!("https://hooks.example.com/{}", "a".repeat(2100)), "events": ["job.completed"] }),
            "long url",
        ),
        (
            // 1,020 characters as sent, 6,000 bytes once percent-encoded for storage.
            json!({ "url": format!("https://hooks.example.com/{}", "é".repeat(1000)), "events": ["job.completed"] }),
            "long url once normalised",
        ),
        (
            json!({ "url": "https://user:pw@hooks.example.com/", "events": ["job.completed"] }),
            "credentials",
        ),
        (
            json!({ "url": "https://hooks.example.com/", "events": ["job.completed"], "colour": 1 }),
            "unknown field",
        ),
    ] {
        let (status, answer) = register(admin.token.clone(), body).await;
        assert_eq!(status, 400, "{why}: {answer}");
        if why.starts_with("long url") {
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(message.contains("at most 2048"), "{why}: {message}");
        }
    }
    let public = json!({ "url": "https://93.184.215.14/hooks", "events": ["job.completed", "revisit.outcome_recorded", "job.completed"], "description": "CRM" });
    let (status, _) = register(dispatcher.token.clone(), public.clone()).await;
    assert_eq!(status, 403, "admins only");

    let (status, created) = register(admin.token.clone(), public).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(
        created["events"],
        json!(["job.completed", "revisit.outcome_recorded"])
    );
    assert_eq!(created["enabled"], true);
    let id = created["id"].as_str().unwrap().to_owned();
    let listed: Value = app
        .get("/api/v1/webhooks")
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["secret"], Value::Null, "the secret is shown once");

    let other = app.organisation("另一家公司").await.id;
    let stranger = app.staff(other, "王强", Role::Admin).await;
    for (method, path) in [
        ("POST", format!("/api/v1/webhooks/{id}/disable")),
        ("POST", format!("/api/v1/webhooks/{id}/enable")),
        ("GET", format!("/api/v1/webhooks/{id}/deliveries")),
        ("DELETE", format!("/api/v1/webhooks/{id}")),
    ] {
        let response = app
            .http
            .request(method.parse().unwrap(), app.url(&path))
            .bearer_auth(&stranger.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    // A malformed id is a clear error in the API's format, not axum's plain text.
    let malformed = app
        .get("/api/v1/webhooks/not-an-id/deliveries?state=dead")
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    let malformed = app
        .get(&format!("/api/v1/webhooks/{id}/deliveries?limit=many"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("query string"),
        "{body}"
    );
    let replay = app
        .post(&format!("/api/v1/webhooks/{id}/replay"))
        .bearer_auth(&stranger.token)
        .json(&json!({ "since": "2020-01-01T00:00:00Z" }))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 404);

    let disabled: Value = app
        .post(&format!("/api/v1/webhooks/{id}/disable"))
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disabled["enabled"], false);
    assert!(
        disabled["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("周敏")
    );
    assert_eq!(
        app.delete_(&format!("/api/v1/webhooks/{id}"), &admin.token)
            .await,
        204
    );
    assert_eq!(
        app.delete_(&format!("/api/v1/webhooks/{id}"), &admin.token)
            .await,
        404
    );
    app.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// The world of a delivery test: one database, one bucket, one or more server instances with the
// given webhook settings, an admin.

struct World {
    database: TestDatabase,
    objects: TestObjectStore,
    settings: WebhookSettings,
    instances: Vec<Instance>,
    http: reqwest::Client,
    organisation: Uuid,
    admin_token: String,
}

/// An event written to the outbox.
struct Event {
    event_id: Uuid,
    payload: Value,
}

/// An endpoint as registered.
struct Registered {
    id: String,
    secret: String,
}

impl World {
    async fn start(schedule: Vec<Duration>) -> Self {
        harness::init_logging();
        let database = fresh_database().await;
        let objects = TestObjectStore::start().await;
        let settings = WebhookSettings {
            allow_private_targets: true,
            schedule,
            poll_interval: Duration::from_millis(500),
            ..WebhookSettings::default()
        };
        let organisation = Organisation::create(&database.pool, "安居家电服务有限公司")
            .await
            .unwrap()
            .id;
        let new = NewStaff {
            name: "周敏".to_owned(),
            role: Role::Admin,
        };
        let admin = Staff::create(&database.pool, organisation, &new)
            .await
            .unwrap();
        let token = DeviceToken::issue(&database.pool, admin.id, "office")
            .await
            .unwrap()
            .token;
        let mut world = Self {
            database,
            objects,
            settings,
            instances: Vec::new(),
            http: reqwest::Client::new(),
            organisation,
            admin_token: token,
        };
        world.add_instance().await;
        world
    }

    /// Another server instance on the same database, as behind a load balancer.
    async fn add_instance(&mut self) {
        let pool = harness::postgres::connect(&self.database.url, 5).await;
        let mut state = AppState::new(pool, self.objects.blobs.clone());
        state.webhooks = self.settings.clone();
        self.instances.push(Instance::start(state).await);
    }

    /// Stops every instance and starts one with `settings`.
    async fn replace_instances(&mut self, settings: WebhookSettings) {
        for instance in self.instances.drain(..) {
            instance.stop().await;
        }
        self.settings = settings;
        self.add_instance().await;
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.instances[0].base_url)
    }

    async fn register(&self, url: &str, events: &[&str]) -> Registered {
        let response = self
            .http
            .post(self.url("/api/v1/webhooks"))
            .bearer_auth(&self.admin_token)
            .json(&json!({ "url": url, "events": events }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        Registered {
            id: body["id"].as_str().unwrap().to_owned(),
            secret: body["secret"].as_str().unwrap().to_owned(),
        }
    }

    async fn endpoint(&self, id: &str) -> Value {
        let listed: Vec<Value> = self
            .http
            .get(self.url("/api/v1/webhooks"))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        listed.into_iter().find(|e| e["id"] == id).unwrap()
    }

    /// The endpoint's delivery log, optionally in one state.
    async fn log(&self, id: &str, state: Option<&str>) -> Vec<Value> {
        let query = state.map(|s| format!("?state={s}")).unwrap_or_default();
        let response = self
            .http
            .get(self.url(&format!("/api/v1/webhooks/{id}/deliveries{query}")))
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    async fn replay(&self, id: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&format!("/api/v1/webhooks/{id}/replay")))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn raise(&self, event_type: &str) -> Event {
        self.raise_with_id(event_type, Uuid::new_v4()).await
    }

    /// Writes an event to the outbox and notifies, in one transaction, as its cause would.
    async fn raise_with_id(&self, event_type: &str, event_id: Uuid) -> Event {
        let payload = json!({
            "type": event_type,
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "data": { "job_id": Uuid::new_v4(), "note": "回访：客户满意" },
        });
        insert_event(
            &self.database.pool,
            self.organisation,
            event_type,
            event_id,
            &payload,
        )
        .await;
        Event { event_id, payload }
    }
}

async fn insert_event(pool: &PgPool, organisation: Uuid, kind: &str, id: Uuid, payload: &Value) {
    let mut tx = pool.begin().await.unwrap();
    let outbox_id: i64 = sqlx::query_scalar(
        r#"insert into outbox (event_id, organisation_id, event_type, dedupe_key, payload)
           values ($1, $2, $3, $4, $5) returning id"#,
    )
    .bind(id)
    .bind(organisation)
    .bind(kind)
    .bind(format!("test:{id}"))
    .bind(payload)
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    sqlx::query("select pg_notify('fieldsync_outbox', $1)")
        .bind(outbox_id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// A server instance of our own (the harness's `TestApp` uses default webhook settings).
struct Instance {
    base_url: String,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Instance {
    async fn start(state: AppState) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(fieldsync_server::api::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Self {
            base_url,
            stop,
            server,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for instance in &self.instances {
            instance.server.abort();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The receiver: a minimal HTTP/1.1 server on 127.0.0.1 that records every request and answers
// as the test says (one request per connection).

#[derive(Debug, Clone)]
struct Received {
    headers: BTreeMap<String, String>,
    body: String,
    at: Instant,
}

impl Received {
    fn webhook_id(&self) -> &str {
        &self.headers["webhook-id"]
    }

    fn attempt(&self) -> u32 {
        self.headers["fieldsync-delivery-attempt"].parse().unwrap()
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
        }
    }

    fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Decides the answer to a request, given how many requests with its webhook-id came so far
/// (this one included).
type Answer = dyn Fn(&Received, usize) -> Reply + Send + Sync;

struct Receiver {
    url: String,
    requests: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(answer: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let requests: Arc<Mutex<Vec<Received>>> = Arc::default();
        let answer: Arc<Answer> = Arc::new(answer);
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_one(stream, recorded.clone(), answer.clone()));
            }
        });
        Self {
            url,
            requests,
            task,
        }
    }

    fn requests(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_one(
    mut stream: tokio::net::TcpStream,
    requests: Arc<Mutex<Vec<Received>>>,
    answer: Arc<Answer>,
) {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let headers: BTreeMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let received = Received {
        headers,
        body: String::from_utf8(body).unwrap(),
        at: Instant::now(),
    };
    let reply = {
        let mut all = requests.lock().unwrap();
        all.push(received.clone());
        let nth = all
            .iter()
            .filter(|r| r.webhook_id() == received.webhook_id())
            .count();
        answer(&received, nth)
    };
    let mut response = format!(
        "HTTP/1.1 {} Test\r\ncontent-length: 0\r\nconnection: close\r\n",
        reply.status
    );
    for (name, value) in &reply.headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    response.push_str("\r\n");
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

// ---------------------------------------------------------------------------------------------

fn millis(steps: &[u64]) -> Vec<Duration> {
    steps.iter().copied().map(Duration::from_millis).collect()
}

fn webhook_id(event: Uuid) -> String {
    format!("msg_{}", event.simple())
}

/// Requests by webhook-id, in the order they arrived.
fn group_by_webhook_id(requests: &[Received]) -> HashMap<String, Vec<Received>> {
    let mut groups: HashMap<String, Vec<Received>> = HashMap::new();
    for received in requests {
        groups
            .entry(received.webhook_id().to_owned())
            .or_default()
            .push(received.clone());
    }
    groups
}

/// Every request verifies with the official `standardwebhooks` library and `secret`.
async fn assert_all_verify(secret: &str, requests: &[Received]) {
    assert!(!requests.is_empty());
    let deliveries: Vec<Value> = requests
        .iter()
        .map(|r| json!({ "headers": r.headers, "body": r.body }))
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        serde_json::to_vec(&json!({ "secret": secret, "deliveries": deliveries })).unwrap(),
    )
    .unwrap();
    let mut node = NodeClient::start("verify-webhook.mjs", &[file.path().to_str().unwrap()]);
    let answer = node.next_json().await;
    node.finish().await;
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), requests.len());
    for (result, received) in results.iter().zip(requests) {
        assert_eq!(result["verified"], true, "{result} for {received:?}");
        let body: Value = serde_json::from_str(&received.body).unwrap();
        assert_eq!(result["type"], body["type"]);
    }
}

/// Polls `condition` until it holds, or panics after 30 s.
async fn wait_until(what: &str, condition: impl AsyncFn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_visit_completed_offline_reaches_the_webhook_once_after_the_tablet_syncs() {
    use harness::tablet::Tablet;

    let app = TestApp::spawn_with(|state| state.webhooks.allow_private_targets = true).await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.staff(crew.organisation, "周敏", Role::Admin).await;
    let receiver = Receiver::start(|_, _| Reply::status(204)).await;
    let registered: Value = app
        .post("/api/v1/webhooks")
        .bearer_auth(&admin.token)
        .json(&json!({ "url": receiver.url, "events": ["job.completed"] }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let secret = registered["secret"].as_str().unwrap().to_owned();

    let job = app.book_confirmed(&crew).await;

    // Morning sync; then the whole visit is recorded with no contact with the server.
    let tablet = Tablet::new();
    tablet
        .json(&[
            "login",
            "--server",
            &app.base_url,
            "--token",
            &crew.technician.token,
        ])
        .await;
    tablet.json(&["sync"]).await;
    let card = harness::images::gradient_jpeg(1200, 900, 91);
    let site = harness::images::gradient_jpeg(900, 1200, 92);
    tablet.work_a_visit(&job, &card, &site).await;
    assert!(
        receiver.requests().is_empty(),
        "nothing sent before the sync"
    );

    let report = tablet.json(&["sync"]).await;
    let synced = Instant::now();
    assert_eq!(report["pending_uploads"], 0, "{report}");
    wait_until("the job.completed delivery", async || {
        !receiver.requests().is_empty()
    })
    .await;
    // Reported, not asserted (latency is measured by the completion_webhook benchmark).
    let arrived = receiver.requests()[0].at;
    match arrived.checked_duration_since(synced) {
        Some(after) => println!("job.completed arrived {after:?} after `field sync` returned"),
        None => println!(
            "job.completed arrived {:?} before `field sync` returned",
            synced - arrived
        ),
    }

    // The same documents synced again: no second event.
    let again = tablet.json(&["sync"]).await;
    assert_eq!(again["changes_sent"], 0, "{again}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "one delivery: {requests:?}");
    let body: Value = serde_json::from_str(&requests[0].body).unwrap();
    assert_eq!(body["type"], "job.completed");
    assert_eq!(body["data"]["job_id"], job.as_str(), "{body}");
    assert_all_verify(&secret, &requests).await;
}
