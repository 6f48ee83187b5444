//! `field ui`: the technician's touch screen, served by the tablet to itself over the same
//! library as the command line, so every service rule is checked by the same code. It works
//! with no network at all; while it is open the library's background sync (`watch`) runs, and
//! the screen shows what has not reached the office yet.
//!
//! This is the shape a packaged tablet app takes (a native shell showing this interface over
//! this library): nothing here assumes a desktop browser, every asset is in the binary, and
//! the pages ask nothing of any other server.
//!
//! Security: it listens on loopback unless told otherwise; a per-launch secret in the printed
//! URL becomes an `HttpOnly`, `SameSite=Strict` cookie, without which nothing is served (other
//! local apps cannot drive it); the `Host` must be the address it listens on (no DNS
//! rebinding); every state-changing request carries the launch's form token; pages carry a
//! Content-Security-Policy without inline script.

mod pages;
mod words;

use std::net::SocketAddr;
use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::error::ClientError;
use crate::status::SyncBacklog;
use crate::sync::{SyncError, SyncOptions, WatchOptions};
use crate::tablet::Tablet;
use crate::tablet::evidence::{CardNotes, PhotoKind};
use crate::tablet::visit::{CleanupInput, PaymentDueInput};
pub use words::Lang;

/// The cookie that carries the launch's secret.
const COOKIE: &str = "field_ui";
/// Photos straight from a tablet camera: generous, but bounded.
const MAX_PHOTO: usize = 40 * 1024 * 1024;
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// How to run the screen.
#[derive(Debug, Clone)]
pub struct UiOptions {
    pub home: PathBuf,
    pub bind: SocketAddr,
    /// The background sync's longest pause between two runs.
    pub every: Duration,
}

/// What the background sync last said, for the screen.
#[derive(Debug, Clone, Default)]
pub struct SyncState {
    /// `None` before the first run ends.
    pub online: Option<bool>,
    /// Device clock (ms) of the last run that reached the server.
    pub last_contact_at: Option<i64>,
    /// Why the last run failed, in the library's words.
    pub problem: Option<String>,
    /// The sync stopped for good (a refused token, no login): what to do.
    pub stopped: Option<String>,
    /// Stopped because the tablet is not logged in (the screen says so in its language, and
    /// the sync starts by itself after a login).
    pub not_logged_in: bool,
}

struct Ui {
    home: PathBuf,
    secret: String,
    form_token: String,
    /// `host:port` the screen answers to.
    hosts: Vec<String>,
    sync: Mutex<SyncState>,
    /// Bumped whenever what the screen shows may have changed (the sync brought something,
    /// or the technician recorded something): open pages refresh themselves.
    generation: AtomicU64,
}

type Shared = Arc<Ui>;

fn random_text(bytes: usize) -> String {
    use rand::RngCore;
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serves the screen until `stop` completes; `ready` gets the URL to open (secret included) as
/// soon as the port is bound.
pub async fn serve(
    options: UiOptions,
    ready: impl FnOnce(&str),
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Opening once up front: a home that cannot be used is said before any URL is printed.
    Tablet::open(&options.home)?;
    if options.bind.ip().is_unspecified() {
        anyhow::bail!(
            "bind to one address (127.0.0.1, or the tablet's own address on a network), not {}: \
             the screen answers only to the address it is reached at",
            options.bind.ip()
        );
    }
    if !options.bind.ip().is_loopback() {
        eprintln!(
            "field: the screen is reachable from the network at {} over plain HTTP; its key \
             travels unencrypted",
            options.bind
        );
    }
    let listener = tokio::net::TcpListener::bind(options.bind).await?;
    let address = listener.local_addr()?;
    let mut hosts = vec![address.to_string()];
    if address.ip().is_loopback() {
        hosts.push(format!("localhost:{}", address.port()));
    }
    let ui = Arc::new(Ui {
        home: options.home.clone(),
        secret: random_text(24),
        form_token: random_text(24),
        hosts,
        sync: Mutex::new(SyncState::default()),
        generation: AtomicU64::new(1),
    });
    let url = format!("http://{address}/?key={}", ui.secret);
    ready(&url);

    let (stop_sync, sync_stopped) = tokio::sync::oneshot::channel::<()>();
    let syncing = background_sync(ui.clone(), options.every, sync_stopped);
    let app = router(ui);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await;
    // The sync may have ended already (a refused token): nothing to tell it then.
    let _ = stop_sync.send(());
    if syncing.join().is_err() {
        eprintln!("field: the background sync ended abnormally");
    }
    Ok(served?)
}

/// The library's `watch`, on a thread of its own (its store is not shared with the pages,
/// which open theirs per request; SQLite keeps them consistent).
fn background_sync(
    ui: Shared,
    every: Duration,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(e) => {
                set_stopped(&ui, format!("the background sync could not start: {e}"));
                return;
            }
        };
        let mut tablet = match Tablet::open(&ui.home) {
            Ok(tablet) => tablet,
            Err(e) => {
                set_stopped(&ui, e.to_string());
                return;
            }
        };
        let pacing = WatchOptions::every(every);
        let options = SyncOptions::default();
        // The screen's end, seen by every round below.
        let (ended, until_ended) = tokio::sync::watch::channel(false);
        runtime.spawn(async move {
            drop(stop.await);
            let _ = ended.send(true);
        });
        loop {
            let mut until = until_ended.clone();
            let watched = runtime.block_on(crate::sync::watch(
                tablet.store_mut(),
                &options,
                &pacing,
                async move {
                    let _ = until.wait_for(|ended| *ended).await;
                },
                |outcome| {
                    let mut state = ui.sync.lock().unwrap_or_else(|e| e.into_inner());
                    state.stopped = None;
                    state.not_logged_in = false;
                    match outcome {
                        Ok(_) => {
                            state.online = Some(true);
                            state.problem = None;
                            state.last_contact_at = Some(chrono::Utc::now().timestamp_millis());
                        }
                        Err(error) => {
                            state.online = Some(false);
                            state.problem = Some(error.to_string());
                        }
                    }
                    drop(state);
                    // Whatever came or went, the pages look again (they compare what they show).
                    ui.generation.fetch_add(1, Ordering::SeqCst);
                },
            ));
            match watched {
                // Not logged in yet: said, and looked at again, so a `field login` made while
                // the screen is open starts the sync without restarting the screen.
                Err(SyncError::Local(ClientError::NotLoggedIn)) => {
                    not_logged_in(&ui);
                    let mut until = until_ended.clone();
                    let ended = runtime.block_on(async {
                        tokio::select! {
                            _ = until.wait_for(|ended| *ended) => true,
                            () = tokio::time::sleep(LOGIN_LOOK.min(every)) => false,
                        }
                    });
                    if ended {
                        return;
                    }
                }
                Err(error) => {
                    set_stopped(&ui, stop_reason(&error));
                    return;
                }
                Ok(()) => return,
            }
        }
    })
}

/// How often a screen whose tablet is not logged in looks for a login.
const LOGIN_LOOK: Duration = Duration::from_secs(2);

fn stop_reason(error: &SyncError) -> String {
    match error {
        SyncError::Local(ClientError::NotLoggedIn) => {
            "this tablet is not logged in: run `field login --server … --token …`".to_owned()
        }
        other => other.to_string(),
    }
}

/// Stopped for want of a login: said once, with the flag the pages read, in one step.
fn not_logged_in(ui: &Ui) {
    let reason = stop_reason(&SyncError::Local(ClientError::NotLoggedIn));
    let mut state = ui.sync.lock().unwrap_or_else(|e| e.into_inner());
    if state.not_logged_in && state.stopped.as_deref() == Some(reason.as_str()) {
        return;
    }
    state.online = Some(false);
    state.stopped = Some(reason);
    state.not_logged_in = true;
    drop(state);
    ui.generation.fetch_add(1, Ordering::SeqCst);
}

fn set_stopped(ui: &Ui, reason: String) {
    let mut state = ui.sync.lock().unwrap_or_else(|e| e.into_inner());
    if state.stopped.as_deref() == Some(reason.as_str()) {
        // Said already: the pages need not look again.
        return;
    }
    state.online = Some(false);
    state.stopped = Some(reason);
    drop(state);
    ui.generation.fetch_add(1, Ordering::SeqCst);
}

fn router(ui: Shared) -> Router {
    Router::new()
        .route("/", get(jobs_page))
        .route("/state", get(state))
        .route("/language", get(language))
        .route("/jobs/{job}", get(job_page))
        .route("/jobs/{job}/sign", post(sign))
        .route("/jobs/{job}/photo", post(photo))
        .route("/jobs/{job}/{action}", post(act))
        .route("/assets/ui.css", get(stylesheet))
        .route("/assets/ui.js", get(script))
        .layer(DefaultBodyLimit::max(MAX_PHOTO))
        .layer(axum::middleware::from_fn_with_state(ui.clone(), guard))
        .with_state(ui)
}

/// Nothing without the launch's secret (the printed URL's `key`, then its cookie), from
/// anywhere but the address it listens on; headers on every answer.
async fn guard(State(ui): State<Shared>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut response = if !ui.hosts.iter().any(|h| h == host) {
        (StatusCode::FORBIDDEN, "not this address").into_response()
    } else if let Some(key) = key_in_query(request.uri().query())
        && key == ui.secret
    {
        // The printed URL: keep the secret in a cookie, and out of the address bar.
        let mut response = Redirect::to(request.uri().path()).into_response();
        if let Ok(cookie) = HeaderValue::from_str(&format!(
            "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
            ui.secret
        )) {
            response.headers_mut().insert(header::SET_COOKIE, cookie);
        }
        response
    } else if cookie(request.headers(), COOKIE).as_deref() == Some(ui.secret.as_str()) {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            "open the address `field ui` printed (it carries this launch's key)",
        )
            .into_response()
    };
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

fn key_in_query(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "key")
        .map(|(_, value)| value.to_owned())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A state-changing request must carry the launch's form token (in the form, or the
/// `x-field-token` header for the pad's and camera's requests).
fn token_ok(ui: &Ui, headers: &HeaderMap, in_form: Option<&str>) -> bool {
    let sent = in_form.map(str::to_owned).or_else(|| {
        headers
            .get("x-field-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    sent.as_deref() == Some(ui.form_token.as_str())
}

/// The answer to a request without the launch's form token.
fn expired() -> Response {
    (StatusCode::FORBIDDEN, "the page expired; reload it").into_response()
}

/// Runs `work` on a tablet opened for this request, off the async threads (SQLite blocks).
async fn with_tablet<T: Send + 'static>(
    ui: &Shared,
    work: impl FnOnce(&mut Tablet) -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    let home = ui.home.clone();
    let failed = ui.home.clone();
    tokio::task::spawn_blocking(move || {
        let mut tablet = Tablet::open(&home)?;
        work(&mut tablet)
    })
    .await
    .unwrap_or_else(|e| {
        Err(ClientError::file(
            "use the tablet's store",
            failed,
            std::io::Error::other(e.to_string()),
        ))
    })
}

fn sync_state(ui: &Ui) -> SyncState {
    ui.sync.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

async fn jobs_page(State(ui): State<Shared>, headers: HeaderMap) -> Response {
    let lang = Lang::of(&headers);
    let read = with_tablet(&ui, move |tablet| {
        // No list at all (not logged in, never synced) is said, not shown as "no jobs".
        let (jobs, no_list) = match tablet.jobs() {
            Ok(jobs) => (jobs, None),
            Err(why) => (Vec::new(), Some(words::refusal(lang, &why))),
        };
        let rescheduled = pages::rescheduled(tablet, &jobs)?;
        let others = pages::other_jobs(tablet, &jobs)?;
        Ok((
            jobs,
            no_list,
            rescheduled,
            others,
            SyncBacklog::read(tablet.store())?,
        ))
    })
    .await;
    match read {
        Ok((jobs, no_list, rescheduled, others, backlog)) => Html(
            pages::jobs(
                lang,
                &pages::Frame::new(&ui, &backlog),
                &jobs,
                &rescheduled,
                &others,
                no_list.as_deref(),
            )
            .into_string(),
        )
        .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn job_page(
    State(ui): State<Shared>,
    headers: HeaderMap,
    Path(job): Path<String>,
) -> Response {
    show_job(&ui, &headers, job, None).await
}

/// The job's screen, with `problem` (a refusal, and the step it belongs to) if any.
async fn show_job(
    ui: &Shared,
    headers: &HeaderMap,
    job: String,
    problem: Option<(String, String)>,
) -> Response {
    let lang = Lang::of(headers);
    let read = with_tablet(ui, move |tablet| {
        let view = tablet.show(&job)?;
        let mine = tablet
            .job_list()
            .map(|list| list.jobs.iter().any(|j| j.job_id == view.job_id))
            .unwrap_or(false);
        Ok((view, mine, SyncBacklog::read(tablet.store())?))
    })
    .await;
    match read {
        Ok((view, mine, backlog)) => {
            let status = if problem.is_some() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::OK
            };
            let frame = pages::Frame::new(ui, &backlog);
            let page = pages::job(lang, &frame, &view, mine, problem.as_ref());
            (status, Html(page.into_string())).into_response()
        }
        Err(e @ (ClientError::UnknownJob(_) | ClientError::AmbiguousJob { .. })) => {
            (StatusCode::NOT_FOUND, e.to_string()).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

async fn state(State(ui): State<Shared>) -> Response {
    let backlog = with_tablet(&ui, |tablet| SyncBacklog::read(tablet.store())).await;
    let sync = sync_state(&ui);
    let (changes, uploads, refused) = match &backlog {
        Ok(b) => (
            b.pending_changes.iter().map(|d| d.changes).sum::<usize>(),
            b.pending_uploads.len(),
            b.refused_uploads.len(),
        ),
        Err(_) => (0, 0, 0),
    };
    Json(json!({
        "generation": ui.generation.load(Ordering::SeqCst),
        "online": sync.online,
        "last_contact_at": sync.last_contact_at,
        "problem": sync.problem,
        "stopped": sync.stopped,
        "pending_changes": changes,
        "pending_uploads": uploads,
        "refused_uploads": refused,
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
struct LanguageQuery {
    to: String,
    #[serde(default)]
    back: String,
}

async fn language(Query(query): Query<LanguageQuery>) -> Response {
    let lang = if query.to == "en" { "en" } else { "zh" };
    // Only a path of this screen.
    let back = if query.back.starts_with('/')
        && !query.back.starts_with("//")
        && !query.back.contains('\\')
    {
        query.back
    } else {
        "/".to_owned()
    };
    let mut response = Redirect::to(&back).into_response();
    if let Ok(cookie) = HeaderValue::from_str(&format!(
        "lang={lang}; Path=/; SameSite=Strict; Max-Age=31536000"
    )) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// A step's form.
#[derive(Debug, Deserialize)]
struct StepForm {
    csrf: String,
    item: Option<String>,
    granted_by: Option<String>,
    note: Option<String>,
    description: Option<String>,
    quantity: Option<String>,
    amount: Option<String>,
    reference: Option<String>,
    method: Option<String>,
    debris: Option<String>,
    consent_by: Option<String>,
    witnessed: Option<String>,
}

async fn act(
    State(ui): State<Shared>,
    headers: HeaderMap,
    Path((job, action)): Path<(String, String)>,
    Form(form): Form<StepForm>,
) -> Response {
    if !token_ok(&ui, &headers, Some(&form.csrf)) {
        return expired();
    }
    const STEPS: [&str; 7] = [
        "arrive", "permit", "note", "item", "pay", "cleanup", "depart",
    ];
    if !STEPS.contains(&action.as_str()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let target = job.clone();
    let step = action.clone();
    let done = with_tablet(&ui, move |tablet| {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        match step.as_str() {
            "arrive" => tablet.arrive(&target).map(drop),
            "permit" => tablet
                .permit(&target, &text(&form.item), &text(&form.granted_by))
                .map(drop),
            "note" => tablet.add_work_note(&target, &text(&form.note)).map(drop),
            "item" => {
                // Not a whole number of at least one: the library's refusal says so.
                let quantity = text(&form.quantity).trim().parse::<u64>().unwrap_or(0);
                tablet
                    .add_work_item(&target, &text(&form.description), quantity)
                    .map(drop)
            }
            "pay" => {
                let input = PaymentDueInput {
                    amount: &text(&form.amount),
                    currency: "CNY",
                    method: form.method.as_deref().unwrap_or("bank_transfer"),
                    transfer_reference: &text(&form.reference),
                };
                tablet.record_payment_due(&target, &input).map(drop)
            }
            "cleanup" => {
                let debris = match form.debris.as_deref() {
                    Some("left_at_customer_request") => {
                        sync_protocol::job::DebrisDecision::LeftAtCustomerRequest
                    }
                    Some("none") => sync_protocol::job::DebrisDecision::None,
                    _ => sync_protocol::job::DebrisDecision::TakenAway,
                };
                let consent = text(&form.consent_by);
                let input = CleanupInput {
                    debris,
                    consented_by: Some(consent.as_str()).filter(|c| !c.trim().is_empty()),
                    departure_witnessed: form.witnessed.is_some(),
                    photo: None,
                };
                tablet.confirm_cleanup(&target, &input).map(drop)
            }
            _ => tablet.depart(&target).map(drop),
        }
    })
    .await;
    match done {
        Ok(()) => {
            ui.generation.fetch_add(1, Ordering::SeqCst);
            Redirect::to(&format!("/jobs/{job}#{action}")).into_response()
        }
        Err(refused) => {
            let said = words::refusal(Lang::of(&headers), &refused);
            show_job(&ui, &headers, job, Some((action, said))).await
        }
    }
}

#[derive(Debug, Deserialize)]
struct SignRequest {
    signer: String,
    strokes: serde_json::Value,
}

/// The pad's strokes, handed to the library as the command line hands them (a strokes file).
async fn sign(
    State(ui): State<Shared>,
    headers: HeaderMap,
    Path(job): Path<String>,
    Json(request): Json<SignRequest>,
) -> Response {
    if !token_ok(&ui, &headers, None) {
        return expired();
    }
    let home = ui.home.clone();
    let done = with_tablet(&ui, move |tablet| {
        let file = scratch(
            &home,
            "strokes.json",
            request.strokes.to_string().as_bytes(),
        )?;
        let signed = tablet.sign(&job, &request.signer, &file);
        drop(std::fs::remove_file(&file));
        signed.map(drop)
    })
    .await;
    answer(&ui, &headers, done)
}

#[derive(Debug, Deserialize)]
struct PhotoQuery {
    kind: String,
    rating: Option<String>,
    comment: Option<String>,
}

/// A photo from the camera (the request's body), handed to the library like a file given to
/// `field photo`.
async fn photo(
    State(ui): State<Shared>,
    headers: HeaderMap,
    Path(job): Path<String>,
    Query(query): Query<PhotoQuery>,
    body: Bytes,
) -> Response {
    if !token_ok(&ui, &headers, None) {
        return expired();
    }
    let home = ui.home.clone();
    let done = with_tablet(&ui, move |tablet| {
        let kind = match query.kind.as_str() {
            "cleanup" => PhotoKind::Cleanup,
            _ => PhotoKind::FeedbackCard,
        };
        let rating = match query.rating.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(text.parse::<i64>().unwrap_or(0)),
        };
        let comment = query
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let file = scratch(&home, "photo", &body)?;
        let notes = CardNotes { rating, comment };
        let attached = tablet.attach_photos(&job, kind, &[file.as_path()], &notes);
        drop(std::fs::remove_file(&file));
        attached.map(drop)
    })
    .await;
    answer(&ui, &headers, done)
}

fn answer(ui: &Ui, headers: &HeaderMap, done: Result<(), ClientError>) -> Response {
    match done {
        Ok(()) => {
            ui.generation.fetch_add(1, Ordering::SeqCst);
            Json(json!({"ok": true})).into_response()
        }
        Err(refused) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": words::refusal(Lang::of(headers), &refused)})),
        )
            .into_response(),
    }
}

/// A file under the home directory for the library to read, named so two requests never share.
fn scratch(home: &FsPath, name: &str, bytes: &[u8]) -> Result<PathBuf, ClientError> {
    let dir = home.join("incoming");
    std::fs::create_dir_all(&dir).map_err(|e| ClientError::file("make", &dir, e))?;
    let path = dir.join(format!("{}-{name}", random_text(8)));
    std::fs::write(&path, bytes).map_err(|e| ClientError::file("write", &path, e))?;
    Ok(path)
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        include_str!("ui.css"),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        include_str!("ui.js"),
    )
        .into_response()
}
