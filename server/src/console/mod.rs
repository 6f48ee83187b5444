//! The office console: server-rendered pages for dispatchers, revisit callers and admins, a
//! second door onto the same domain operations as the JSON API. Staff sign in with a password
//! (a browser session, not a device token) and every page asks the same authorization as the
//! API, so a page never shows what the API would refuse. Every asset is in the binary; no
//! script runs inline (the Content-Security-Policy forbids it).

mod admin;
mod analysis;
mod board;
mod booking;
mod clock;
mod customers;
mod i18n;
mod invitation;
mod job;
mod layout;
mod live;
mod revisits;
mod sign_in;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::auth::session::{self, SessionCaller};
use crate::directory::Role;
use crate::state::AppState;

pub use i18n::Lang;

/// The session cookie.
const SESSION_COOKIE: &str = "fs_session";
/// Every page's security headers: scripts, styles and images only from the console itself,
/// never in a frame, no referrer sent out.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The console's routes, under `/console`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(home))
        .route("/console/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/console/sign-out", axum::routing::post(sign_in::sign_out))
        .route("/console/language", get(sign_in::language))
        .route(
            "/console/invitation/{token}",
            get(invitation::page).post(invitation::submit),
        )
        .route("/console/board", get(board::page))
        .route("/console/jobs", axum::routing::post(booking::book))
        .route("/console/jobs/new", get(booking::page))
        .route("/console/jobs/{id}", get(job::page))
        .route("/console/jobs/{id}/evidence", get(job::evidence))
        .route(
            "/console/jobs/{id}/files/{sha256}/{variant}",
            get(job::file),
        )
        .route("/console/jobs/{id}/{action}", axum::routing::post(job::act))
        .route("/console/revisits", get(revisits::page))
        .route("/console/revisits/export.csv", get(revisits::export))
        .route("/console/revisits/{id}", get(revisits::task))
        .route(
            "/console/revisits/{id}/claim",
            axum::routing::post(revisits::claim),
        )
        .route(
            "/console/revisits/{id}/outcome",
            axum::routing::post(revisits::outcome),
        )
        .route(
            "/console/customers",
            get(customers::list).post(customers::add),
        )
        .route("/console/customers/new", get(customers::new))
        .route("/console/customers/{id}", get(customers::show))
        .route("/console/analysis", get(analysis::page))
        .route("/console/analysis.csv", get(analysis::csv))
        .route("/console/admin", get(admin::page))
        .route(
            "/console/admin/staff",
            axum::routing::post(admin::add_member),
        )
        .route(
            "/console/admin/staff/{id}/{action}",
            axum::routing::post(admin::member_action),
        )
        .route(
            "/console/admin/tokens",
            axum::routing::post(admin::issue_token),
        )
        .route(
            "/console/admin/tokens/{id}/revoke",
            axum::routing::post(admin::revoke_token),
        )
        .route(
            "/console/admin/clock",
            axum::routing::post(admin::set_clock),
        )
        .route(
            "/console/admin/webhooks",
            axum::routing::post(admin::register_webhook),
        )
        .route(
            "/console/admin/webhooks/{id}/replay",
            axum::routing::post(admin::replay_webhook),
        )
        .route(
            "/console/admin/policy",
            axum::routing::post(admin::set_policy),
        )
        .route(
            "/console/admin/tier-rules",
            axum::routing::post(admin::set_tier_rules),
        )
        .route(
            "/console/admin/webhooks/{id}/{action}",
            axum::routing::post(admin::switch_webhook),
        )
        .route(
            "/console/admin/tiers",
            axum::routing::post(admin::recompute_tiers),
        )
        .route("/console/assets/console.css", get(stylesheet))
        .route("/console/assets/console.js", get(live::script))
        .route("/console/events", get(live::events))
        .layer(axum::middleware::from_fn(plain_refusals))
        .layer(axum::middleware::from_fn(security_headers))
}

/// `/console`: the page of the signed-in member's work.
async fn home(signed: Signed) -> Redirect {
    match signed.0.caller.role {
        Role::Revisit => Redirect::to("/console/revisits"),
        _ => Redirect::to("/console/board"),
    }
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("console.css"),
    )
        .into_response()
}

/// A request the router or an extractor refused before any page's code ran (an id that is not
/// one, a form field of the wrong kind, a query that does not parse) answers a console page
/// saying so, in the browser's language, rather than the framework's plain text.
async fn plain_refusals(request: Request, next: Next) -> Response {
    let lang = i18n::Lang::of(request.headers());
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    let status = response.status();
    if !plain || !matches!(status.as_u16(), 400 | 415 | 422) {
        return response;
    }
    let main = maud::html! {
        p.problem role="alert" { (lang.t(i18n::Text::BadRequestPage)) }
        p { a href="/console" { (lang.t(i18n::Text::BackToConsole)) } }
    };
    let page = layout::frame(
        lang,
        layout::Here::Board,
        lang.t(i18n::Text::Title),
        None,
        main,
    );
    (status, axum::response::Html(page.into_string())).into_response()
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
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

/// A signed-in office member; a request without a live session is sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct Signed(pub SessionCaller);

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(Redirect::to("/console/sign-in").into_response());
        };
        match session::resume(&state.db, &token).await {
            Ok(Some(signed)) => match state.rates.take(signed.caller.device_token_id) {
                None => Ok(Self(signed)),
                Some(wait) => Err(crate::error::ApiError::TooManyRequests(wait).into_response()),
            },
            Ok(None) => Err(Redirect::to("/console/sign-in").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// A CSV download for a spreadsheet: UTF-8 with a byte-order mark, without which the
/// spreadsheet most offices open it with reads the Chinese names as another encoding. (The
/// API's export, for programs, has none.)
pub(crate) fn for_spreadsheets(csv: String) -> String {
    let mut text = String::with_capacity(csv.len() + 3);
    text.push('\u{feff}');
    text.push_str(&csv);
    text
}

/// A state-changing form must carry the session's CSRF token (a page of another site cannot
/// read it); anything else is refused before the operation is called.
pub(crate) fn check_form(signed: &Signed, csrf: &str) -> Result<(), crate::error::ApiError> {
    if csrf == signed.0.csrf_token {
        Ok(())
    } else {
        Err(crate::error::ApiError::Forbidden(
            "the form expired; reload the page and try again".into(),
        ))
    }
}

/// The value of cookie `name`, if the request carries it.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Path=/console`, and `Secure` when the
/// console is reached over https (directly or through a proxy that says so).
fn set_cookie(headers: &HeaderMap, name: &str, value: &str, max_age: Option<u64>) -> String {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|proto| proto.eq_ignore_ascii_case("https"));
    let mut cookie = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}
