//! The office console: signing in, the dispatch board and the revisit desk, in real headless
//! Chromium (with axe-core and screenshots), and its security over plain HTTP: headers on every
//! page, forms refused without their token, pages a role may not see, slowed and refused
//! password guessing, markup from the database shown as text.

use std::path::PathBuf;

use harness::TestApp;
use harness::images::gradient_jpeg;
use harness::jobs::Crew;
use harness::node::NodeClient;
use harness::tablet::Tablet;
use harness::visit::{Evidence, complete_visit};
use serde_json::{Value, json};

const PASSWORD: &str = "李娜的办公台密码2026";
const SCRIPT_NAME: &str = "<script>alert(1)</script>";

/// Where the browser tests write their screenshots (the README shows a copy kept in `docs/`).
fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The dispatcher with a console password, and a job today for a customer named like markup.
/// Gives the crew's revisit caller (刘芳) the console password.
async fn revisit_caller_can_sign_in(app: &TestApp, crew: &Crew) {
    fieldsync_server::auth::password::set(&app.database.pool, crew.revisit.staff.id, PASSWORD)
        .await
        .unwrap();
}

async fn day_with_a_job(app: &TestApp) -> Crew {
    let crew = app.crew("安居家电服务有限公司").await;
    fieldsync_server::auth::password::set(&app.database.pool, crew.dispatcher.staff.id, PASSWORD)
        .await
        .unwrap();
    let customer: Value = app
        .post("/api/v1/customers")
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({"name": SCRIPT_NAME, "address": "上海市徐汇区漕溪北路88号"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let booked = app
        .post("/api/v1/jobs")
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({
            "customer_id": customer["id"],
            "kind": "repair",
            "window_start": now - chrono::Duration::minutes(30),
            "window_end": now + chrono::Duration::minutes(90),
            "technician_id": crew.technician.staff.id,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), 201);
    // And a job done this morning: its revisit waits on the desk.
    let done = app.book(&crew, Some(crew.technician.staff.id)).await;
    complete_visit(app, &crew, &done, &Evidence::small(7)).await;
    crew
}

#[tokio::test]
async fn a_dispatcher_signs_in_and_sees_the_day_in_chromium() {
    let app = TestApp::spawn().await;
    let crew = day_with_a_job(&app).await;
    let shots = screenshot_dir();
    let mut browser = NodeClient::start(
        "console.mjs",
        &[
            &app.base_url,
            &crew.dispatcher.staff.name,
            PASSWORD,
            shots.to_str().unwrap(),
        ],
    );
    let seen = browser.next_json().await;
    browser.finish().await;

    for size in ["laptop", "tablet"] {
        let refused = seen["pages"][format!("refused-{size}")]["text"]
            .as_str()
            .unwrap();
        assert!(refused.contains("密码不正确"), "{refused}");
        let board = seen["pages"][format!("board-{size}")]["text"]
            .as_str()
            .unwrap();
        assert!(board.contains(&crew.technician.staff.name), "{board}");
        assert!(
            board.contains(&crew.other_technician.staff.name),
            "a free technician has a row"
        );
        assert!(
            board.contains(SCRIPT_NAME),
            "the name is shown as text: {board}"
        );
        assert!(
            board.contains("已确认") || board.contains("已预约"),
            "{board}"
        );
        assert_eq!(
            seen[format!("after-sign-out-{size}")]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next(),
            Some("sign-in"),
            "signing out ends the session"
        );
    }
    assert_eq!(seen["dialogs"], json!([]), "no script ran");
    assert_eq!(
        seen["requests_elsewhere"],
        json!([]),
        "every asset is the server's"
    );
    for (page, found) in seen["pages"].as_object().unwrap() {
        let Some(violations) = found["violations"].as_array() else {
            continue;
        };
        let serious: Vec<&Value> = violations
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(serious.is_empty(), "axe on {page}: {serious:?}");
    }
    for size in ["laptop", "tablet"] {
        let desk = seen["pages"][format!("revisits-{size}")]["text"]
            .as_str()
            .unwrap();
        assert!(desk.contains("王秀英") && desk.contains("认领"), "{desk}");
        let task = seen["pages"][format!("revisit-task-{size}")]["text"]
            .as_str()
            .unwrap();
        assert!(
            task.contains("13800000000") && task.contains("完工回访"),
            "the phone to call and why: {task}"
        );
        assert!(
            task.contains("更换了洗衣机进水阀") && task.contains("张伟"),
            "what was done, and by whom: {task}"
        );
    }
    for name in [
        "sign-in-laptop",
        "board-laptop",
        "board-tablet",
        "revisits-laptop",
        "revisit-task-tablet",
    ] {
        assert!(shots.join(format!("{name}.png")).exists(), "{name}.png");
    }
}

/// A browser without a cookie jar: the cookies it was given, sent back by hand.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: app.base_url.clone(),
            cookies: Vec::new(),
        }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for set in response.headers().get_all("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != name);
            self.cookies.push((name.to_owned(), value.to_owned()));
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    /// The page at `path`, as text.
    async fn page(&mut self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response
    }

    /// The value of hidden field `csrf` in a page.
    async fn form_token(response: reqwest::Response) -> String {
        let html = response.text().await.unwrap();
        let at = html.find(r#"name="csrf" value=""#).expect("a form token") + 19;
        html[at..].split('"').next().unwrap().to_owned()
    }

    async fn sign_in(&mut self, login: &str, password: &str) -> reqwest::Response {
        let page = self.get("/console/sign-in").await;
        let token = Self::form_token(page).await;
        self.post(
            "/console/sign-in",
            &[("csrf", &token), ("login", login), ("password", password)],
        )
        .await
    }
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn console_pages_are_guarded_like_the_api() {
    let app = TestApp::spawn().await;
    let crew = day_with_a_job(&app).await;
    let mut dispatcher = Browser::new(&app);

    // Security headers on every page, signed in or not.
    let sign_in = dispatcher.get("/console/sign-in").await;
    for header in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
    ] {
        assert!(sign_in.headers().contains_key(header), "{header}");
    }
    let csp = sign_in.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    // Signed out, a page sends you to sign in.
    let board = dispatcher.get("/console/board").await;
    assert_eq!(board.status(), 303);
    assert_eq!(board.headers()["location"], "/console/sign-in");

    // A sign-in posted without the form's token (from another site) is refused.
    let mut stranger = Browser::new(&app);
    let forged = stranger
        .post(
            "/console/sign-in",
            &[("csrf", "guess"), ("login", "李娜"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(forged.status(), 403);

    let signed = dispatcher.sign_in("李娜", PASSWORD).await;
    assert_eq!(signed.status(), 303, "{:?}", signed.text().await);
    let cookie = dispatcher
        .cookies
        .iter()
        .find(|(n, _)| n == "fs_session")
        .expect("a session cookie")
        .clone();
    assert!(cookie.1.len() > 30);
    let board = dispatcher.get("/console/board").await;
    assert_eq!(board.status(), 200);
    assert!(board.headers().contains_key("content-security-policy"));
    let html = board.text().await.unwrap();
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped"
    );
    assert!(!html.contains(SCRIPT_NAME), "never raw");
    let session_hashes: i64 = sqlx::query_scalar(
        "select count(*) from console_sessions where token_hash = sha256($1::bytea)",
    )
    .bind(cookie.1.as_bytes())
    .fetch_one(&app.database.pool)
    .await
    .unwrap();
    assert_eq!(session_hashes, 1, "the session is stored as a hash only");

    // Another organisation's job answers exactly like one that does not exist: its page, its
    // files, its evidence, its forms (with a valid form token) and its job number.
    let other = app.crew("别家家电维修").await;
    // Its third job: this organisation has only two, so the number names nothing here.
    app.book(&other, None).await;
    app.book(&other, None).await;
    let foreign = app.book(&other, Some(other.technician.staff.id)).await;
    let foreign_id = foreign["id"].as_str().unwrap();
    let foreign_number = foreign["number"].as_str().unwrap();
    let missing = uuid::Uuid::new_v4().to_string();
    let token = Browser::form_token(dispatcher.get("/console/board").await).await;
    let mut answers = Vec::new();
    for id in [foreign_id, missing.as_str()] {
        let page = dispatcher.get(&format!("/console/jobs/{id}")).await;
        answers.push((page.status().as_u16(), page.text().await.unwrap()));
        for path in [
            format!("/console/jobs/{id}/evidence"),
            format!("/console/jobs/{id}/files/{}/display", "0".repeat(64)),
        ] {
            assert_eq!(dispatcher.get(&path).await.status(), 404, "{path}");
        }
        let cancelled = dispatcher
            .post(
                &format!("/console/jobs/{id}/cancel"),
                &[("csrf", &token), ("reason", "试探")],
            )
            .await;
        assert_eq!(cancelled.status(), 404, "a form for {id}");
    }
    assert_eq!(
        answers[0], answers[1],
        "a stranger's job is not found, like a missing one"
    );
    assert_eq!(answers[0].0, 404);
    assert_eq!(
        dispatcher
            .get(&format!("/console/jobs/{foreign_number}"))
            .await
            .status(),
        404,
        "numbers are per organisation"
    );
    let (_, untouched) = app.job(&other.dispatcher.token, foreign_id).await;
    assert_ne!(untouched["status"], "cancelled");
    // A dispatcher's form without its token is refused before anything happens.
    let own = app.book(&crew, Some(crew.technician.staff.id)).await;
    let unforged = dispatcher
        .post(
            &format!("/console/jobs/{}/cancel", own["id"].as_str().unwrap()),
            &[("csrf", "forged"), ("reason", "试探")],
        )
        .await;
    assert_eq!(unforged.status(), 403);
    let (_, own_view) = app
        .job(&crew.dispatcher.token, own["id"].as_str().unwrap())
        .await;
    assert_ne!(own_view["status"], "cancelled");

    // Signing out needs the session's form token; then the session is over server-side.
    let refused = dispatcher
        .post("/console/sign-out", &[("csrf", "wrong")])
        .await;
    assert_eq!(refused.status(), 403);
    let page = dispatcher.get("/console/board").await;
    let token = Browser::form_token(page).await;
    let out = dispatcher
        .post("/console/sign-out", &[("csrf", &token)])
        .await;
    assert_eq!(out.status(), 303);
    let mut replay = Browser::new(&app);
    replay.cookies.push(cookie);
    assert_eq!(replay.get("/console/board").await.status(), 303, "ended");

    // A revisit caller may not see the board, as the API would refuse it; a technician has
    // no console password at all.
    revisit_caller_can_sign_in(&app, &crew).await;
    let mut caller = Browser::new(&app);
    assert_eq!(caller.sign_in("刘芳", PASSWORD).await.status(), 303);
    assert_eq!(caller.get("/console/board").await.status(), 403);
    assert_eq!(caller.get("/console/revisits").await.status(), 200);
    let mut technician = Browser::new(&app);
    assert_eq!(technician.sign_in("张伟", PASSWORD).await.status(), 401);

    // Guessing is slowed, then refused for the account even with the right password.
    let mut guesser = Browser::new(&app);
    let started = std::time::Instant::now();
    let mut statuses = Vec::new();
    for n in 0..11 {
        statuses.push(
            guesser
                .sign_in("刘芳", &format!("guess number {n}"))
                .await
                .status()
                .as_u16(),
        );
    }
    eprintln!("11 wrong passwords took {:?}", started.elapsed());
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(statuses[10], 429);
    assert_eq!(guesser.sign_in("刘芳", PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn an_operator_creates_an_organisation_whose_admin_sets_a_password_through_a_one_time_link() {
    let app = TestApp::spawn().await;
    let create = |email: &str| {
        tokio::process::Command::new(harness::binaries::path("fieldsync-server"))
            .args([
                "admin",
                "create-organisation",
                "--name",
                "华东家电服务有限公司",
            ])
            .args([
                "--admin",
                "周杰",
                "--email",
                email,
                "--public-url",
                &app.base_url,
            ])
            .env("DATABASE_URL", &app.database.url)
            .output()
    };
    let made = create("zhou.jie@huadong.example").await.unwrap();
    let said = String::from_utf8_lossy(&made.stderr);
    assert!(made.status.success(), "{said}");
    let link = String::from_utf8(made.stdout).unwrap();
    let path = link
        .lines()
        .next()
        .unwrap()
        .strip_prefix(&app.base_url)
        .expect("a link to this server")
        .to_owned();
    assert!(path.starts_with("/console/invitation/fsi_"), "{path}");

    let mut admin = Browser::new(&app);
    let page = admin.get(&path).await;
    assert_eq!(page.status(), 200);
    let token = Browser::form_token(page).await;
    let short = admin
        .post(&path, &[("csrf", &token), ("password", "short")])
        .await;
    assert_eq!(short.status(), 400, "the rule is explained, nothing set");
    let token = Browser::form_token(admin.get(&path).await).await;
    let set = admin
        .post(&path, &[("csrf", &token), ("password", PASSWORD)])
        .await;
    assert_eq!(set.status(), 200);
    assert_eq!(admin.get(&path).await.status(), 410, "single use");
    let signed = admin.sign_in("zhou.jie@huadong.example", PASSWORD).await;
    assert_eq!(signed.status(), 303);
    let home = admin.get("/console").await;
    assert_eq!(home.headers()["location"], "/console/board");
    assert_eq!(admin.get("/console/board").await.status(), 200);

    // The e-mail is one person's.
    let again = create("Zhou.Jie@huadong.example").await.unwrap();
    assert_eq!(again.status.code(), Some(1));
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("belongs to another staff member"), "{said}");
}

#[tokio::test]
async fn a_revisit_caller_claims_a_task_and_records_its_outcome_in_the_console() {
    let app = TestApp::spawn().await;
    let crew = day_with_a_job(&app).await;
    revisit_caller_can_sign_in(&app, &crew).await;
    let mut caller = Browser::new(&app);
    assert_eq!(caller.sign_in("刘芳", PASSWORD).await.status(), 303);
    assert_eq!(
        caller.get("/console").await.headers()["location"],
        "/console/revisits"
    );
    let desk = caller.page("/console/revisits").await;
    assert!(desk.contains("王秀英"), "{desk}");
    // The first task's link (the export link is not one).
    let task: String = desk
        .match_indices("/console/revisits/")
        .map(|(at, found)| {
            desk[at + found.len()..]
                .chars()
                .take(36)
                .collect::<String>()
        })
        .find(|id| uuid::Uuid::parse_str(id).is_ok())
        .unwrap();
    let token = {
        let at = desk.find(r#"name="csrf" value=""#).unwrap() + 19;
        desk[at..].split('"').next().unwrap().to_owned()
    };

    let forged = caller
        .post(
            &format!("/console/revisits/{task}/claim"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status(), 403, "a claim without the form's token");
    let claimed = caller
        .post(
            &format!("/console/revisits/{task}/claim"),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(claimed.status(), 303);
    let outcome = format!("/console/revisits/{task}/outcome");
    let wrong = caller
        .post(
            &outcome,
            &[("csrf", &token), ("reached", "true"), ("satisfaction", "6")],
        )
        .await;
    assert_eq!(wrong.status(), 422);
    assert!(wrong.text().await.unwrap().contains("满意度为 1 到 5"));
    // Nobody answers: the call is recorded and the task stays on the desk, to be called again.
    let unanswered = caller
        .post(
            &outcome,
            &[
                ("csrf", &token),
                ("reached", "false"),
                ("notes", "无人接听，明天再打"),
            ],
        )
        .await;
    assert_eq!(unanswered.status(), 303);
    let desk = caller.page("/console/revisits").await;
    assert!(
        desk.contains(&task),
        "a call that reached nobody leaves the task open"
    );
    assert!(desk.contains("1次未联系到客户"), "{desk}");
    let queue = |status: &'static str| {
        let request = app
            .get(&format!("/api/v1/revisits?status={status}"))
            .bearer_auth(&crew.revisit.token);
        async move {
            let tasks: Vec<Value> = request.send().await.unwrap().json().await.unwrap();
            tasks
                .iter()
                .map(|t| t["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(queue("open").await.contains(&task));
    assert_eq!(queue("mine").await, vec![task.clone()]);
    assert!(queue("done").await.is_empty());
    let recorded = caller
        .post(
            &outcome,
            &[
                ("csrf", &token),
                ("reached", "true"),
                ("problem_solved", "true"),
                ("satisfaction", "5"),
                ("suggestions", "希望下次提前一天短信提醒"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(recorded.status(), 303);
    let page = caller
        .get(&format!("/console/revisits/{task}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("希望下次提前一天短信提醒"), "{page}");
    // The same outcome the API reads, once.
    let shown: Value = app
        .get(&format!("/api/v1/revisits/{task}"))
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["outcomes"].as_array().unwrap().len(), 2);
    assert_eq!(shown["outcomes"][0]["reached"], false);
    assert_eq!(shown["outcomes"][1]["satisfaction"], 5);
    let desk = caller.page("/console/revisits").await;
    assert!(
        !desk.contains(&task),
        "a task whose customer was reached leaves the open queue"
    );
    assert!(!queue("open").await.contains(&task));
    assert!(queue("mine").await.is_empty());
    assert_eq!(queue("done").await, vec![task.clone()]);
}

#[tokio::test]
async fn an_open_board_shows_a_job_completing_without_a_reload() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    fieldsync_server::auth::password::set(&app.database.pool, crew.dispatcher.staff.id, PASSWORD)
        .await
        .unwrap();
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let shot = screenshot_dir().join("board-live-laptop.png");
    let mut browser = NodeClient::start(
        "console-live.mjs",
        &[
            &app.base_url,
            "李娜",
            PASSWORD,
            "王秀英 已完成",
            shot.to_str().unwrap(),
            // The job is booked 01:00-03:00 UTC on today's UTC date: that day's board in China
            // Standard Time, whatever the hour of the run.
            &format!(
                "/console/board?date={}&utc_offset=%2B08:00",
                chrono::Utc::now().date_naive()
            ),
        ],
    );
    let ready = browser.next_json().await;
    assert_eq!(ready["ready"], true);
    assert!(
        ready["before"].as_str().unwrap().contains("王秀英 已预约"),
        "{ready}"
    );

    // The technician works the job and syncs; the board is not touched.
    complete_visit(&app, &crew, &job, &Evidence::small(9)).await;
    browser.send_line("go").await;
    let after = browser.next_json().await;
    browser.finish().await;
    assert_eq!(after["shown"], true, "{after}");
    assert_eq!(after["navigations"], 0, "updated in place, not reloaded");
    // The keyboard's place is kept: the job link focused before the refresh has the focus in
    // the new board.
    assert!(after["focused_href"].is_string(), "{after}");
    assert!(after["focus_after"]["refreshed"].is_string(), "{after}");
    assert_eq!(
        after["focus_after"]["href"], after["focused_href"],
        "{after}"
    );
}

#[tokio::test]
async fn a_dispatcher_books_a_job_that_a_tablet_completes_while_the_board_is_open() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    fieldsync_server::auth::password::set(&app.database.pool, crew.dispatcher.staff.id, PASSWORD)
        .await
        .unwrap();
    let created = app
        .post("/api/v1/customers")
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({"name": "王秀英", "phone": "13800000000", "address": "上海市徐汇区漕溪北路88号"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    // A window around now on the office's clock (China Standard Time), within today.
    let china = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let now = chrono::Utc::now().with_timezone(&china);
    let day_start = now.date_naive().and_hms_opt(0, 0, 0).unwrap();
    let day_end = now.date_naive().and_hms_opt(23, 59, 0).unwrap();
    let from = (now.naive_local() - chrono::Duration::minutes(30)).max(day_start);
    let to = (now.naive_local() + chrono::Duration::minutes(90)).min(day_end);
    let shots = screenshot_dir();
    let mut browser = NodeClient::start(
        "console-dispatch.mjs",
        &[
            &app.base_url,
            "李娜",
            PASSWORD,
            "王秀英",
            &crew.technician.staff.name,
            &now.format("%Y-%m-%d").to_string(),
            &from.format("%H:%M").to_string(),
            &to.format("%H:%M").to_string(),
            shots.to_str().unwrap(),
        ],
    );
    let seen = browser.next_json().await;
    let booked = &seen["booked"];
    let number = booked["number"]
        .as_str()
        .unwrap_or_else(|| panic!("the booking went through: {seen}"))
        .to_owned();
    let year = now.format("%Y").to_string();
    assert_eq!(number, format!("FS-{year}-00001"), "{booked}");
    // The refused first try came back as it was sent, the refusal above it; nothing booked.
    let kept = &booked["kept"];
    assert!(
        kept["problem"]
            .as_str()
            .unwrap()
            .contains("未执行：结束时间须晚于开始时间"),
        "{kept}"
    );
    assert_eq!(kept["kind"], "repair", "{kept}");
    assert_eq!(kept["from"], to.format("%H:%M").to_string(), "{kept}");
    assert_eq!(kept["to"], from.format("%H:%M").to_string(), "{kept}");
    assert_eq!(kept["technician"], crew.technician.staff.name, "{kept}");
    assert_eq!(kept["reference"], "TS-77", "{kept}");
    assert_eq!(kept["customer"], 1, "{kept}");
    assert!(
        booked["confirmed"]
            .as_str()
            .unwrap()
            .contains("王秀英 · 电话"),
        "the confirmation is shown: {}",
        booked["confirmed"]
    );
    assert!(booked["board"].as_str().unwrap().contains(&number));
    // The API sees the same job, by its number, confirmed and assigned.
    let (status, job) = app.job(&crew.dispatcher.token, &number).await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(job["confirmed"], true);
    assert_eq!(job["technician_id"], crew.technician.staff.id.to_string());

    // The technician's tablet: the job arrives by sync, is worked by its number, synced back.
    let tablet = Tablet::new();
    let login = tablet
        .json(&[
            "login",
            "--server",
            &app.base_url,
            "--token",
            &crew.technician.token,
        ])
        .await;
    assert_eq!(login["checked"], true);
    tablet.json(&["sync"]).await;
    let listed = tablet.json(&["jobs"]).await;
    assert_eq!(listed[0]["number"], number.as_str(), "{listed}");
    tablet
        .work_a_visit(
            &number,
            &gradient_jpeg(1200, 900, 21),
            &gradient_jpeg(900, 1200, 22),
        )
        .await;
    let synced = tablet.json(&["sync"]).await;
    assert_eq!(synced["pending_uploads"], 0, "{synced}");
    browser.send_line("go").await;
    let done = browser.next_json().await;
    browser.finish().await;
    let done = &done["done"];
    assert_eq!(
        done["shown"], true,
        "the open board shows it complete: {done}"
    );
    assert_eq!(done["navigations"], 0, "by itself, without a reload");
    for size in ["laptop", "tablet"] {
        let page = &done["pages"][size];
        let text = page["text"].as_str().unwrap();
        for expected in [
            number.as_str(),
            "已完成",
            "更换了洗衣机进水阀，试机正常。",
            "客厅地板",
            "FS-0042",
            "垃圾已带走",
        ] {
            assert!(
                text.contains(expected),
                "{expected} on the job page: {text}"
            );
        }
        let images = page["images"].as_array().unwrap();
        assert!(images.len() >= 3, "signature, card, cleanup: {images:?}");
        assert!(
            images.iter().all(|i| i["loaded"] == true),
            "every picture loads: {images:?}"
        );
        let serious: Vec<&Value> = page["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(
            serious.is_empty(),
            "axe on the job page ({size}): {serious:?}"
        );
    }
    assert!(
        done["display"]["url"]
            .as_str()
            .unwrap()
            .ends_with("/display"),
        "{}",
        done["display"]
    );
    assert_eq!(done["dialogs"], json!([]));
}

#[tokio::test]
async fn an_admin_invites_a_dispatcher_and_issues_then_revokes_a_tablet_token() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
    fieldsync_server::auth::password::set(&app.database.pool, admin.staff.id, PASSWORD)
        .await
        .unwrap();
    let shots = screenshot_dir();
    let mut browser = NodeClient::start(
        "console-admin.mjs",
        &[
            &app.base_url,
            &admin.staff.name,
            PASSWORD,
            &crew.technician.staff.name,
            shots.to_str().unwrap(),
        ],
    );
    let seen = browser.next_json().await;
    let issued = &seen["issued"];
    assert_eq!(
        issued["role_at_first"], "",
        "no role until one is chosen: {issued}"
    );
    // Webhook events in words, their type beside them for whoever wires the receiver.
    let text = issued["text"].as_str().unwrap();
    assert!(text.contains("工单完成 (job.completed)"), "{text}");
    let link = issued["link"].as_str().unwrap_or_else(|| panic!("{seen}"));
    assert!(
        link.starts_with(&format!("{}/console/invitation/", app.base_url)),
        "{link}"
    );
    let serious: Vec<&Value> = issued["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(
        serious.is_empty(),
        "axe on the administration page: {serious:?}"
    );
    // The command as shown: `field login --server URL --token TOKEN`.
    let command = issued["command"].as_str().unwrap();
    let words: Vec<&str> = command.split_whitespace().collect();
    assert_eq!(
        words[..4],
        ["field", "login", "--server", app.base_url.as_str()]
    );
    let tablet = Tablet::new();
    let login = tablet.json(&words[1..]).await;
    assert_eq!(login["checked"], true, "the issued token works: {login}");
    tablet.json(&["sync"]).await;

    browser.send_line("go").await;
    let done = browser.next_json().await;
    browser.finish().await;
    let done = &done["done"];
    assert!(
        done["colleague_board"].as_str().unwrap().contains("周芳"),
        "the invited dispatcher is signed in: {done}"
    );
    assert!(
        done["link_again"]
            .as_str()
            .unwrap()
            .contains("已使用或已过期"),
        "the link works once: {done}"
    );
    assert!(done["admin"].as_str().unwrap().contains("已吊销"), "{done}");
    // What cannot be taken back is asked first; a "no" changes nothing; a disabled member can
    // be enabled again.
    let members = &done["members"];
    let asked: Vec<&str> = members["asked"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q.as_str().unwrap())
        .collect();
    assert_eq!(asked.len(), 3, "{members}");
    assert!(asked[0].starts_with("吊销 张伟的平板？"), "{members}");
    assert!(asked[1].starts_with("停用 周芳？"), "{members}");
    assert_eq!(members["still_active"], true, "{members}");
    assert_eq!(members["disabled"], true, "{members}");
    assert_eq!(members["enabled_again"], true, "{members}");
    let zhou: Option<Value> = sqlx::query_scalar(
        "select to_jsonb(disabled_at) from staff where email = 'zhoufang@example.cn'",
    )
    .fetch_one(&app.database.pool)
    .await
    .unwrap();
    assert_eq!(zhou, None, "enabled again: {members}");
    assert!(
        done["webhook_refused"].as_str().unwrap().contains("未执行"),
        "{done}"
    );
    assert_eq!(done["complaint_hours"], "12");
    let policy: Value = app
        .get("/api/v1/revisit-policy")
        .bearer_auth(&admin.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        policy["complaint_due_hours"], 12,
        "the API reads what the page set"
    );
    let refused = tablet.refused(&["sync"]).await;
    assert!(
        refused.contains("token") || refused.contains("令牌"),
        "a revoked tablet is refused: {refused}"
    );
}

#[tokio::test]
async fn a_revisit_caller_records_an_outcome_exports_it_and_reads_the_month_in_chromium() {
    let app = TestApp::spawn().await;
    let crew = day_with_a_job(&app).await;
    revisit_caller_can_sign_in(&app, &crew).await;
    let shots = screenshot_dir();
    let mut browser = NodeClient::start(
        "console-revisit.mjs",
        &[&app.base_url, "刘芳", PASSWORD, shots.to_str().unwrap()],
    );
    let seen = browser.next_json().await;
    browser.finish().await;
    // The only task comes from a completed job, not a complaint: the filter shows none.
    assert!(
        seen["complaints"]
            .as_str()
            .unwrap()
            .contains("没有待回访的工单"),
        "{seen}"
    );
    let desk = seen["pages"]["revisit-desk"]["text"].as_str().unwrap();
    assert!(desk.contains("王秀英") && desk.contains("FS-"), "{desk}");
    let outcome = seen["pages"]["revisit-outcome"]["text"].as_str().unwrap();
    assert!(outcome.contains("希望周末也能上门"), "{outcome}");
    let language = &seen["language"];
    assert_eq!(language["path"], language["task_path"], "{language}");
    assert_eq!(language["lang"], "en", "{language}");
    let csv = seen["csv"].as_str().unwrap();
    // With a byte-order mark, so a spreadsheet reads the names as UTF-8.
    assert!(csv.starts_with("\u{feff}outcome_id,"), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(
        csv.contains("希望周末也能上门") && csv.contains("刘芳"),
        "{csv}"
    );
    let analysis = seen["pages"]["analysis"]["text"].as_str().unwrap();
    for expected in ["已回访\n1", "问题未解决", "希望周末也能上门", "张伟"] {
        assert!(analysis.contains(expected), "{expected}: {analysis}");
    }
    let charts = seen["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 2, "{charts:?}");
    assert!(charts[1].as_str().unwrap().contains("4.0"), "{charts:?}");
    for (name, page) in seen["pages"].as_object().unwrap() {
        let serious: Vec<&Value> = page["violations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
            .collect();
        assert!(serious.is_empty(), "axe on {name}: {serious:?}");
    }
}

#[tokio::test]
async fn a_booking_by_another_dispatcher_appears_on_an_open_board() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    fieldsync_server::auth::password::set(&app.database.pool, crew.dispatcher.staff.id, PASSWORD)
        .await
        .unwrap();
    let colleague = app
        .staff(
            crew.organisation,
            "孙磊",
            fieldsync_server::directory::Role::Dispatcher,
        )
        .await;
    let customer: Value = app
        .post("/api/v1/customers")
        .bearer_auth(&colleague.token)
        .json(&json!({"name": "钱多多", "address": "上海市静安区南京西路1266号"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shot = screenshot_dir().join("board-booked-live-laptop.png");
    let mut browser = NodeClient::start(
        "console-live.mjs",
        &[
            &app.base_url,
            "李娜",
            PASSWORD,
            "钱多多",
            shot.to_str().unwrap(),
        ],
    );
    let ready = browser.next_json().await;
    assert!(
        !ready["before"].as_str().unwrap().contains("钱多多"),
        "{ready}"
    );
    // Another dispatcher books a job for today, through the API.
    let now = chrono::Utc::now();
    let booked = app
        .post("/api/v1/jobs")
        .bearer_auth(&colleague.token)
        .json(&json!({
            "customer_id": customer["id"],
            "kind": "installation",
            "window_start": now,
            "window_end": now + chrono::Duration::minutes(60),
            "technician_id": crew.technician.staff.id,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), 201);
    browser.send_line("go").await;
    let after = browser.next_json().await;
    browser.finish().await;
    assert_eq!(after["shown"], true, "{after}");
    assert_eq!(after["navigations"], 0, "updated in place, not reloaded");
}

#[tokio::test]
async fn the_office_clock_set_by_an_admin_is_the_one_pages_show() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let admin = app.admin(&crew).await;
    for id in [admin.staff.id, crew.dispatcher.staff.id] {
        fieldsync_server::auth::password::set(&app.database.pool, id, PASSWORD)
            .await
            .unwrap();
    }
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let mut office = Browser::new(&app);
    assert_eq!(
        office.sign_in(&admin.staff.name, PASSWORD).await.status(),
        303
    );
    let token = Browser::form_token(office.get("/console/admin").await).await;
    let wrong = office
        .post(
            "/console/admin/clock",
            &[("csrf", &token), ("utc_offset", "+25:00")],
        )
        .await;
    assert_eq!(wrong.status(), 422, "an offset that is not one is refused");
    let set = office
        .post(
            "/console/admin/clock",
            &[("csrf", &token), ("utc_offset", "+05:30")],
        )
        .await;
    assert_eq!(set.status(), 303);

    let mut dispatcher = Browser::new(&app);
    assert_eq!(dispatcher.sign_in("李娜", PASSWORD).await.status(), 303);
    let page = dispatcher
        .get(&format!(
            "/console/jobs/{}",
            job["number"].as_str().unwrap()
        ))
        .await
        .text()
        .await
        .unwrap();
    let start: chrono::DateTime<chrono::Utc> = app
        .job(&crew.dispatcher.token, job["id"].as_str().unwrap())
        .await
        .1["window_start"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let shown = start
        .with_timezone(&chrono::FixedOffset::east_opt(5 * 3600 + 1800).unwrap())
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert!(
        page.contains("(UTC+05:30)") && page.contains(&shown),
        "the window on the office's clock, {shown}: {page}"
    );
}

/// The desk's filters narrow the whole open queue, not one page of it: a key customer's task
/// due after a page of other tasks is found by the "key customers" filter, and the desk pages
/// through a long queue by due time. The API's `GET /api/v1/revisits` narrows the same way.
#[tokio::test]
async fn the_revisit_desk_filters_the_whole_queue_and_pages_through_a_long_one() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    revisit_caller_can_sign_in(&app, &crew).await;
    // 68 jobs of a regular customer with three tasks each, due one hour apart from now: 204
    // tasks, more than a page; then the crew's key customer's one task, due after all of them.
    let regular = app
        .customer(
            crew.organisation,
            "钱志强",
            "杭州市西湖区文三路90号",
            fieldsync_server::directory::Tier::Regular,
        )
        .await;
    let book = async |customer: uuid::Uuid| -> String {
        let booked = app
            .post("/api/v1/jobs")
            .bearer_auth(&crew.dispatcher.token)
            .json(&json!({
                "customer_id": customer,
                "kind": "repair",
                "window_start": chrono::Utc::now(),
                "window_end": chrono::Utc::now() + chrono::Duration::hours(2),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(booked.status(), 201);
        let booked: Value = booked.json().await.unwrap();
        booked["id"].as_str().unwrap().to_owned()
    };
    let mut due_hours = 0;
    let add_task = async |job: &str, customer: uuid::Uuid, reason: &str, hours: i64| {
        sqlx::query(
            "insert into revisit_tasks (id, organisation_id, job_id, customer_id, reason, due_at)
             values ($1, $2, $3, $4, $5, now() + make_interval(hours => $6))",
        )
        .bind(uuid::Uuid::new_v4())
        .bind(crew.organisation)
        .bind(job.parse::<uuid::Uuid>().unwrap())
        .bind(customer)
        .bind(reason)
        .bind(hours as i32)
        .execute(&app.database.pool)
        .await
        .unwrap();
    };
    for _ in 0..68 {
        let job = book(regular.id).await;
        for reason in ["completed_job", "complaint", "key_customer_scheduled"] {
            due_hours += 1;
            add_task(&job, regular.id, reason, due_hours).await;
        }
    }
    let key_job = book(crew.customer).await;
    add_task(&key_job, crew.customer, "completed_job", due_hours + 1).await;

    let mut caller = Browser::new(&app);
    assert_eq!(caller.sign_in("刘芳", PASSWORD).await.status(), 303);
    let tasks = |page: &str| page.matches(r#"class="task""#).count();
    let next = |page: &str| {
        let at = page.find(r#"rel="next" href=""#)? + 17;
        Some(page[at..].split('"').next()?.replace("&amp;", "&"))
    };

    let first = caller.page("/console/revisits").await;
    assert_eq!(tasks(&first), 200, "a page of the desk");
    assert!(!first.contains("王秀英"), "due last, not on the first page");
    let later = next(&first).expect("a link to the later tasks");
    let second = caller.get(&later).await.text().await.unwrap();
    assert_eq!(tasks(&second), 5, "the rest of the 205");
    assert!(second.contains("王秀英"));
    assert!(next(&second).is_none(), "the last page");
    assert!(
        second.contains(r#"href="/console/revisits""#),
        "back to the first page"
    );

    let key_only = caller
        .get("/console/revisits?filter=key")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(tasks(&key_only), 1, "{key_only}");
    assert!(key_only.contains("王秀英"));
    assert!(next(&key_only).is_none());

    // Nothing is overdue or from a complaint here.
    for filter in ["overdue", "complaints"] {
        let page = caller
            .get(&format!("/console/revisits?filter={filter}"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(tasks(&page), 0, "{filter}");
    }
    // The same in Chromium, as a revisit caller clicks through it.
    let shots = screenshot_dir();
    let mut browser = NodeClient::start(
        "console-desk-pages.mjs",
        &[&app.base_url, "刘芳", PASSWORD, shots.to_str().unwrap()],
    );
    let seen = browser.next_json().await;
    browser.finish().await;
    assert_eq!(seen["first"], 200, "{seen}");
    let later: Vec<&str> = seen["later"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    assert_eq!(
        later,
        ["钱志强"; 4]
            .into_iter()
            .chain(["王秀英"])
            .collect::<Vec<_>>()
    );
    assert!(
        seen["later"]["pages"]
            .as_str()
            .unwrap()
            .contains("回到第一页"),
        "{seen}"
    );
    assert_eq!(seen["key"], json!(["王秀英"]), "{seen}");
    let serious: Vec<&Value> = seen["later"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")))
        .collect();
    assert!(serious.is_empty(), "axe on the later page: {serious:?}");

    // The API narrows the same way, in pages whose link keeps the narrowing.
    let api = async |query: &str| {
        let response = app
            .get(&format!("/api/v1/revisits?{query}"))
            .bearer_auth(&crew.revisit.token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let link = response
            .headers()
            .get("link")
            .map(|l| l.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        (status, body, link)
    };
    let (status, body, link) = api("filter=key").await;
    assert_eq!(status, 200);
    assert_eq!(body.as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body[0]["customer_name"], "王秀英");
    assert!(link.is_none());
    let (_, body, link) = api("filter=complaints").await;
    assert_eq!(body, json!([]));
    assert!(link.is_none());
    // Tasks due in hours 10 to 19 from now: ten of them.
    let from = chrono::Utc::now() + chrono::Duration::minutes(9 * 60 + 30);
    let before = from + chrono::Duration::hours(10);
    let stamp =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let range = format!("due_from={}&due_before={}", stamp(from), stamp(before));
    let (status, body, link) = api(&format!("{range}&limit=6")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body.as_array().unwrap().len(), 6);
    let next = link.expect("a next page");
    assert!(
        next.contains("due_from=") && next.contains("due_before="),
        "{next}"
    );
    let next = next.trim_start_matches('<').split('>').next().unwrap();
    let (status, rest, link) = api(next.trim_start_matches("/api/v1/revisits?")).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest.as_array().unwrap().len(), 4, "{rest}");
    assert!(link.is_none(), "the last page");
    for wrong in [
        "filter=everything".to_owned(),
        format!("due_from={}", stamp(from)),
        format!("due_from={}&due_before={}", stamp(before), stamp(from)),
        format!("filter=key&{range}"),
        "due_from=tomorrow&due_before=later".to_owned(),
    ] {
        let (status, body, _) = api(&wrong).await;
        assert_eq!(status, 400, "{wrong}: {body}");
        assert_eq!(body["error"]["code"], "bad_request", "{wrong}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|e| e.contains("filter") || e.contains("due")),
            "{wrong}: {body}"
        );
    }

    // A page after something that is not a task of the queue is refused, naming the parameter.
    let wrong = caller
        .get(&format!("/console/revisits?after={}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(wrong.status(), 400);
    assert!(wrong.text().await.unwrap().contains("after"));

    // Then a job from a complaint, its revisit due an hour ago: the one task the "overdue" and
    // "complaints" filters keep, on the desk and in the API, at the top of the whole queue.
    let booked = app
        .post("/api/v1/jobs")
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({
            "customer_id": regular.id,
            "kind": "repair",
            "window_start": chrono::Utc::now(),
            "window_end": chrono::Utc::now() + chrono::Duration::hours(2),
            "from_complaint": true,
            "complaint_reference": "TS-2026-0007",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(booked.status(), 201);
    let complaint: Value = booked.json().await.unwrap();
    add_task(
        complaint["id"].as_str().unwrap(),
        regular.id,
        "complaint",
        -1,
    )
    .await;
    for filter in ["overdue", "complaints"] {
        let page = caller
            .get(&format!("/console/revisits?filter={filter}"))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(tasks(&page), 1, "{filter}");
        assert!(
            page.contains(complaint["number"].as_str().unwrap()),
            "{filter}"
        );
        let (status, body, _) = api(&format!("filter={filter}")).await;
        assert_eq!(status, 200);
        assert_eq!(body.as_array().unwrap().len(), 1, "{filter}: {body}");
        assert_eq!(body[0]["job_id"], complaint["id"], "{filter}");
    }
    let first = caller.page("/console/revisits").await;
    let first_task = first.find(r#"class="task""#).unwrap();
    let number_at = first.find(complaint["number"].as_str().unwrap()).unwrap();
    assert!(number_at < first_task, "the overdue task comes first");
}

#[tokio::test]
async fn the_job_pages_timeline_says_who_and_when_in_words() {
    let app = TestApp::spawn().await;
    let crew = day_with_a_job(&app).await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let id = job["id"].as_str().unwrap().to_owned();
    let post = |path: String, body: Value| {
        app.post(&path)
            .bearer_auth(&crew.dispatcher.token)
            .json(&body)
            .send()
    };
    let window_start = "2026-12-03T06:00:00Z";
    for (path, body) in [
        (
            format!("/api/v1/jobs/{id}/confirmation"),
            json!({"confirmed_by": "李建华", "channel": "phone", "confirmed_at": chrono::Utc::now()}),
        ),
        (
            format!("/api/v1/jobs/{id}/reschedule"),
            json!({"window_start": window_start, "window_end": "2026-12-03T08:00:00Z"}),
        ),
        (
            format!("/api/v1/jobs/{id}/reassign"),
            json!({"technician_id": crew.other_technician.staff.id}),
        ),
    ] {
        assert_eq!(
            post(path.clone(), body).await.unwrap().status(),
            200,
            "{path}"
        );
    }
    let mut dispatcher = Browser::new(&app);
    assert_eq!(dispatcher.sign_in("李娜", PASSWORD).await.status(), 303);
    let page = dispatcher.page(&format!("/console/jobs/{id}")).await;
    let millis = chrono::DateTime::parse_from_rfc3339(window_start)
        .unwrap()
        .timestamp_millis()
        .to_string();
    // In words: who confirmed and how, the new window on the office's clock, the technician's
    // name; not the document's epoch milliseconds, ids or English.
    assert!(page.contains("李建华 · 电话"), "{page}");
    assert!(
        page.contains("2026-12-03 14:00 – 2026-12-03 16:00"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            r#"<span class="detail">{}</span>"#,
            crew.other_technician.staff.name
        )),
        "{page}"
    );
    assert!(!page.contains(&millis), "{page}");
    assert!(!page.contains(" by phone"), "{page}");
    assert!(
        !page.contains(&format!(
            r#"<span class="detail">{}"#,
            crew.other_technician.staff.id
        )),
        "{page}"
    );
}

#[tokio::test]
async fn a_complaint_revisit_names_the_complaint_for_the_call() {
    let app = TestApp::spawn().await;
    let crew = day_with_a_job(&app).await;
    revisit_caller_can_sign_in(&app, &crew).await;
    let job: Value = app
        .post("/api/v1/jobs")
        .bearer_auth(&crew.dispatcher.token)
        .json(&json!({
            "customer_id": crew.customer,
            "kind": "repair",
            "window_start": chrono::Utc::now(),
            "window_end": chrono::Utc::now() + chrono::Duration::hours(2),
            "technician_id": crew.technician.staff.id,
            "from_complaint": true,
            "complaint_reference": "TS-2026-0118",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    complete_visit(&app, &crew, &job, &Evidence::small(3)).await;
    let tasks: Vec<Value> = app
        .get_json("/api/v1/revisits?filter=complaints", &crew.revisit.token)
        .await;
    let task = tasks
        .iter()
        .find(|t| t["reason"] == "complaint")
        .unwrap_or_else(|| panic!("{tasks:?}"));
    let mut caller = Browser::new(&app);
    assert_eq!(caller.sign_in("刘芳", PASSWORD).await.status(), 303);
    let page = caller
        .page(&format!(
            "/console/revisits/{}",
            task["id"].as_str().unwrap()
        ))
        .await;
    // The caller can say which complaint they are calling about.
    assert!(page.contains("投诉处理 TS-2026-0118"), "{page}");
}

#[tokio::test]
async fn a_page_asked_with_a_wrong_date_month_or_id_says_so_as_a_page() {
    let app = TestApp::spawn().await;
    let _crew = day_with_a_job(&app).await;
    let mut dispatcher = Browser::new(&app);
    assert_eq!(dispatcher.sign_in("李娜", PASSWORD).await.status(), 303);
    for (path, says) in [
        ("/console/board?date=2026-13-01", "日期格式为"),
        ("/console/analysis?month=2026-13", "月份格式为"),
        // Refused before any page's code runs: not an id, a query that does not parse.
        ("/console/customers/abc", "这个地址或表单有误"),
        ("/console/revisits?after=xyz", "这个地址或表单有误"),
    ] {
        let page = dispatcher.get(path).await;
        assert_eq!(page.status(), 400, "{path}");
        assert!(
            page.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let html = page.text().await.unwrap();
        assert!(html.contains(says), "{path}: {html}");
        assert!(
            html.contains(r#"<header class="top">"#),
            "the console around it: {html}"
        );
    }
}
