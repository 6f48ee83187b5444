//! Administration (admins): the organisation's clock; the staff (add with a one-time link to
//! set a password, change a role, disable, a new link); technicians' tablet tokens (issue, shown
//! once with a QR code of the `field login` parameters; revoke); the fleet (each tablet's last
//! sync and pending work); webhook endpoints (enable, disable, recent deliveries); recomputing
//! tiers. Every form calls the same operation as the API.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Datelike;
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;
use uuid::Uuid;

use super::Signed;
use super::clock::Clock;
use super::i18n::{self, Lang, Text};
use super::layout::{Here, frame, refusal};
use crate::directory::people::{self, Device, Member};
use crate::directory::{Organisation, Role};
use crate::error::ApiError;
use crate::notifications::Endpoint;
use crate::notifications::deliveries;
use crate::state::AppState;
use crate::sync::fleet;

/// The address this server is reached at, as the admin's browser reached it: what a tablet
/// and an invited colleague will use too.
fn public_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| p.eq_ignore_ascii_case("https"))
        .map_or("http", |_| "https");
    format!("{scheme}://{host}")
}

fn when(clock: &Clock, at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    at.map_or_else(|| "—".to_owned(), |t| clock.show(t))
}

async fn admin_page(
    app: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    notice: Option<Markup>,
    problem: Option<&ApiError>,
) -> Result<Response, ApiError> {
    let caller = &signed.0.caller;
    let lang = Lang::of(headers);
    let members = people::members(&app.db, caller).await?;
    let devices = people::devices(&app.db, caller).await?;
    let activity = fleet::list(&app.db, caller.organisation_id).await?;
    let endpoints = Endpoint::list(&app.db, caller.organisation_id).await?;
    let clock = Clock::of(app, caller, headers).await?;
    let chosen = Organisation::utc_offset(&app.db, caller.organisation_id).await?;
    let csrf = &signed.0.csrf_token;
    let name_of = |id: Uuid| {
        members
            .iter()
            .find(|m| m.id == id)
            .map_or("—", |m| m.name.as_str())
    };
    let mut recent = Vec::new();
    for endpoint in &endpoints {
        recent.push(deliveries::log(&app.db, endpoint.id, None, 5).await?);
    }
    let year = chrono::Utc::now().with_timezone(&clock.offset).year();
    let policy = crate::revisits::policy::get(&app.db, caller).await?;
    let rules = crate::tiers::rules::get(&app.db, caller).await?;
    let main = html! {
        h1 { (lang.t(Text::Admin)) }
        (refusal(lang, problem))
        @if let Some(notice) = notice { (notice) }
        section aria-labelledby="staff" {
            h2 id="staff" { (lang.t(Text::Staff)) }
            table.list {
                thead { tr {
                    th scope="col" { (lang.t(Text::Name)) }
                    th scope="col" { (lang.t(Text::Role)) }
                    th scope="col" { (lang.t(Text::Email)) }
                    th scope="col" { (lang.t(Text::Status)) }
                    th scope="col" { (lang.t(Text::Manage)) }
                } }
                tbody {
                    @for m in &members { (member_row(lang, csrf, m, caller.staff_id)) }
                }
            }
            form.admin method="post" action="/console/admin/staff" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (lang.t(Text::AddMember)) }
                    label for="new-name" { (lang.t(Text::Name)) }
                    input id="new-name" name="name" required maxlength="200";
                    label for="new-role" { (lang.t(Text::Role)) }
                    // No role is chosen for the admin: an admin is made on purpose, not by
                    // leaving the first option as it is.
                    select id="new-role" name="role" required {
                        option value="" selected { (lang.t(Text::ChooseRole)) }
                        @for role in Role::ALL { option value=(role.as_str()) { (i18n::role(lang, role.as_str())) } }
                    }
                    label for="new-email" { (lang.t(Text::EmailForOffice)) }
                    input id="new-email" type="email" name="email" maxlength="320";
                    button type="submit" { (lang.t(Text::Add)) }
                }
            }
        }
        section aria-labelledby="tablets" {
            h2 id="tablets" { (lang.t(Text::Tablets)) }
            form.admin method="post" action="/console/admin/tokens" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (lang.t(Text::IssueToken)) }
                    label for="token-staff" { (lang.t(Text::Technician)) }
                    select id="token-staff" name="staff_id" {
                        @for m in members.iter().filter(|m| m.role == Role::Technician && m.disabled_at.is_none()) {
                            option value=(m.id) { (m.name) }
                        }
                    }
                    label for="device-name" { (lang.t(Text::DeviceName)) }
                    input id="device-name" name="device_name" required maxlength="200";
                    button type="submit" { (lang.t(Text::IssueToken)) }
                }
            }
            table.list {
                thead { tr {
                    th scope="col" { (lang.t(Text::Name)) }
                    th scope="col" { (lang.t(Text::DeviceName)) }
                    th scope="col" { (lang.t(Text::LastSync)) }
                    th scope="col" { (lang.t(Text::PendingWork)) }
                    th scope="col" { (lang.t(Text::Status)) }
                } }
                tbody {
                    @for d in &devices { (device_row(lang, csrf, &clock, d, name_of(d.staff_id), activity.iter().find(|a| a.device_token_id == d.id))) }
                }
            }
        }
        section aria-labelledby="clock" {
            h2 id="clock" { (lang.t(Text::Clock)) }
            form.admin method="post" action="/console/admin/clock" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (lang.t(Text::ClockExplained)) }
                    label for="utc_offset" { "UTC±hh:mm" }
                    input id="utc_offset" name="utc_offset" maxlength="6" pattern="[+-][0-9]{2}:[0-9]{2}"
                        placeholder=(clock.label) value=(chosen.as_deref().unwrap_or_default());
                    button type="submit" { (lang.t(Text::Save)) }
                }
            }
        }
        section aria-labelledby="webhooks" {
            h2 id="webhooks" { (lang.t(Text::Webhooks)) }
            form.admin method="post" action="/console/admin/webhooks" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (lang.t(Text::RegisterEndpoint)) }
                    label for="webhook-url" { "URL (https://…)" }
                    input id="webhook-url" type="url" name="url" required maxlength="2000";
                    @for kind in crate::notifications::EVENT_TYPES {
                        label { input type="checkbox" name="events" value=(kind) checked; " " (i18n::webhook_event(lang, kind)) " (" code { (kind) } ")" }
                    }
                    button type="submit" { (lang.t(Text::Add)) }
                }
            }
            @if endpoints.is_empty() { p.empty { "—" } }
            @for (endpoint, log) in endpoints.iter().zip(&recent) {
                div.endpoint {
                    h3 { code { (endpoint.url) } " · " (endpoint.events.join(", ")) }
                    p {
                        @if endpoint.enabled {
                            (lang.t(Text::Enabled))
                        } @else {
                            strong.warn { (lang.t(Text::Disabled)) } " · " (endpoint.disabled_reason.as_deref().unwrap_or_default())
                        }
                    }
                    form.inline method="post" action={ "/console/admin/webhooks/" (endpoint.id) (if endpoint.enabled { "/disable" } else { "/enable" }) } {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" { (if endpoint.enabled { lang.t(Text::Disable) } else { lang.t(Text::Enable) }) }
                    }
                    @if endpoint.enabled {
                        form.inline method="post" action={ "/console/admin/webhooks/" (endpoint.id) "/replay" } {
                            input type="hidden" name="csrf" value=(csrf);
                            label for={ "since-" (endpoint.id) } { (lang.t(Text::ReplaySince)) }
                            input id={ "since-" (endpoint.id) } type="date" name="since" required value=(clock.today());
                            button type="submit" { (lang.t(Text::Replay)) }
                        }
                    }
                    @if !log.is_empty() {
                        table.list {
                            thead { tr {
                                th scope="col" { (lang.t(Text::Event)) }
                                th scope="col" { (lang.t(Text::Status)) }
                                th scope="col" { (lang.t(Text::Attempts)) }
                                th scope="col" { (lang.t(Text::LastAttempt)) }
                            } }
                            tbody {
                                @for d in log {
                                    tr {
                                        td { (i18n::webhook_event(lang, &d.event_type)) }
                                        td { (i18n::delivery_state(lang, &d.state)) @if let Some(code) = d.last_status_code { " (HTTP " (code) ")" } }
                                        td { (d.attempts) }
                                        td { (when(&clock, d.last_attempt_at)) @if let Some(e) = &d.last_error { " · " (e) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="policy" {
            h2 id="policy" { (lang.t(Text::RevisitPolicy)) }
            form.admin method="post" action="/console/admin/policy" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (lang.t(Text::RevisitPolicy)) }
                    label for="complaint_due_hours" { (lang.t(Text::ComplaintDueHours)) }
                    input id="complaint_due_hours" type="number" min="1" name="complaint_due_hours" value=(policy.complaint_due_hours) required;
                    label for="regular_due_hours" { (lang.t(Text::RegularDueHours)) }
                    input id="regular_due_hours" type="number" min="1" name="regular_due_hours" value=(policy.regular_due_hours) required;
                    label for="key_customer_extra_days" { (lang.t(Text::KeyCustomerDays)) }
                    input id="key_customer_extra_days" type="number" min="1" name="key_customer_extra_days" value=(policy.key_customer_extra_days) required;
                    label for="scheduled_min_stars" { (lang.t(Text::ScheduledMinStars)) }
                    input id="scheduled_min_stars" type="number" min="1" max="5" name="scheduled_min_stars" value=(policy.scheduled_min_stars) required;
                    button type="submit" { (lang.t(Text::Save)) }
                }
            }
        }
        section aria-labelledby="tiers" {
            h2 id="tiers" { (lang.t(Text::Tiers)) }
            form.admin method="post" action="/console/admin/tier-rules" {
                input type="hidden" name="csrf" value=(csrf);
                fieldset {
                    legend { (lang.t(Text::TierRules)) }
                    label for="scheme" { (lang.t(Text::Scheme)) }
                    select id="scheme" name="scheme" {
                        option value="three_tiers" selected[rules.scheme.as_str() == "three_tiers"] { (lang.t(Text::ThreeTiers)) }
                        option value="stars" selected[rules.scheme.as_str() == "stars"] { "★–★★★★★" }
                    }
                    label for="key_min_spend" { (lang.t(Text::KeyMinSpend)) }
                    input id="key_min_spend" inputmode="decimal" name="key_min_spend" value=(format!("{}.{:02}", rules.key_min_spend_minor / 100, rules.key_min_spend_minor % 100)) required;
                    label for="key_min_jobs" { (lang.t(Text::KeyMinJobs)) }
                    input id="key_min_jobs" type="number" min="0" name="key_min_jobs" value=(rules.key_min_jobs) required;
                    label for="regular_min_jobs" { (lang.t(Text::RegularMinJobs)) }
                    input id="regular_min_jobs" type="number" min="0" name="regular_min_jobs" value=(rules.regular_min_jobs) required;
                    button type="submit" { (lang.t(Text::Save)) }
                }
            }
            form.admin method="post" action="/console/admin/tiers" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="period" value=(year);
                p { (lang.t(Text::TiersExplained)) }
                button type="submit" { (lang.t(Text::Recompute)) " " (year) }
            }
        }
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = lang.t(Text::Admin);
    Ok((
        status,
        Html(frame(lang, Here::Admin, title, Some(&signed.0), main).into_string()),
    )
        .into_response())
}

fn member_row(lang: Lang, csrf: &str, m: &Member, me: Uuid) -> Markup {
    let base = format!("/console/admin/staff/{}", m.id);
    let active = m.disabled_at.is_none();
    html! {
        tr {
            td { (m.name) }
            td { (i18n::role(lang, m.role.as_str())) }
            td { (m.email.as_deref().unwrap_or("—")) }
            td {
                @if !active { strong.warn { (lang.t(Text::Disabled)) } }
                @else if m.role != Role::Technician && !m.has_password { (lang.t(Text::NoPasswordYet)) }
                @else { (lang.t(Text::Enabled)) }
            }
            td.row-actions {
                @if active && m.id != me {
                    @if m.role != Role::Technician {
                        form.inline method="post" action={ (base) "/role" } {
                            input type="hidden" name="csrf" value=(csrf);
                            label.visually-hidden for={ "role-" (m.id) } { (lang.t(Text::Role)) " " (m.name) }
                            select id={ "role-" (m.id) } name="role" {
                                @for role in [Role::Admin, Role::Dispatcher, Role::Revisit] {
                                    option value=(role.as_str()) selected[role == m.role] { (i18n::role(lang, role.as_str())) }
                                }
                            }
                            button type="submit" { (lang.t(Text::Save)) }
                        }
                        form.inline method="post" action={ (base) "/link" } {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" aria-label={ (lang.t(Text::NewLink)) " " (m.name) } { (lang.t(Text::NewLink)) }
                        }
                    }
                    form.inline method="post" action={ (base) "/disable" }
                        data-confirm={ (lang.t(Text::Disable)) " " (m.name) (lang.t(Text::DisableQuestion)) } {
                        input type="hidden" name="csrf" value=(csrf);
                        button.danger type="submit" aria-label={ (lang.t(Text::Disable)) " " (m.name) } { (lang.t(Text::Disable)) }
                    }
                }
                @if !active {
                    form.inline method="post" action={ (base) "/enable" } {
                        input type="hidden" name="csrf" value=(csrf);
                        button type="submit" aria-label={ (lang.t(Text::EnableAgain)) " " (m.name) } { (lang.t(Text::EnableAgain)) }
                    }
                }
            }
        }
    }
}

fn device_row(
    lang: Lang,
    csrf: &str,
    clock: &Clock,
    d: &Device,
    owner: &str,
    activity: Option<&fleet::DeviceActivity>,
) -> Markup {
    html! {
        tr {
            td { (owner) }
            td { (d.device_name) }
            td { (when(clock, activity.and_then(|a| a.last_synced_at))) }
            td {
                @match activity.and_then(|a| a.reported_at.map(|at| (a.pending_changes.unwrap_or(0), a.pending_uploads.unwrap_or(0), at))) {
                    Some((changes, uploads, at)) => { (changes) " / " (uploads) " (" (clock.show(at)) ")" }
                    None => { "—" }
                }
            }
            td {
                @if d.revoked_at.is_some() {
                    (lang.t(Text::Revoked))
                } @else {
                    form.inline method="post" action={ "/console/admin/tokens/" (d.id) "/revoke" }
                        data-confirm={ (lang.t(Text::Revoke)) " " (d.device_name) (lang.t(Text::RevokeQuestion)) } {
                        input type="hidden" name="csrf" value=(csrf);
                        button.danger type="submit" aria-label={ (lang.t(Text::Revoke)) " " (d.device_name) } { (lang.t(Text::Revoke)) }
                    }
                }
            }
        }
    }
}

/// A QR code of `text`, as inline SVG (drawn here; no script, no image request).
fn qr(text: &str) -> Markup {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => {
            let svg = code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(220, 220)
                .build();
            // Only the <svg> element: the XML declaration does not belong inside HTML.
            let start = svg.find("<svg").unwrap_or(0);
            html! { div.qr role="img" aria-label="QR" { (PreEscaped(&svg[start..])) } }
        }
        Err(_) => html! {},
    }
}

pub async fn page(State(app): State<AppState>, signed: Signed, headers: HeaderMap) -> Response {
    let shown = admin_page(&app, &signed, &headers, None, None).await;
    super::job::answer(shown, &signed, &headers)
}

#[derive(Debug, Deserialize)]
pub struct AdminForm {
    csrf: String,
    since: Option<String>,
    // Numbers arrive as text: a blank or a word gets the page's refusal, not a bare 422.
    complaint_due_hours: Option<String>,
    regular_due_hours: Option<String>,
    key_customer_extra_days: Option<String>,
    scheduled_min_stars: Option<String>,
    scheme: Option<String>,
    key_min_spend: Option<String>,
    key_min_jobs: Option<String>,
    regular_min_jobs: Option<String>,
    name: Option<String>,
    role: Option<String>,
    email: Option<String>,
    staff_id: Option<Uuid>,
    device_name: Option<String>,
    utc_offset: Option<String>,
    period: Option<String>,
}

fn role_of(text: Option<&str>) -> Result<Role, ApiError> {
    Role::ALL
        .into_iter()
        .find(|r| Some(r.as_str()) == text)
        .ok_or_else(|| ApiError::BadRequest("choose a role".into()))
}

/// Answers a form: the admin page with `notice` (what was done, shown once), or the refusal.
async fn after(
    app: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    done: Result<Option<Markup>, ApiError>,
) -> Response {
    match done {
        Ok(None) => Redirect::to("/console/admin").into_response(),
        Ok(Some(notice)) => super::job::answer(
            admin_page(app, signed, headers, Some(notice), None).await,
            signed,
            headers,
        ),
        Err(refused @ (ApiError::BadRequest(_) | ApiError::Conflict(_))) => super::job::answer(
            admin_page(app, signed, headers, None, Some(&refused)).await,
            signed,
            headers,
        ),
        Err(e) => super::job::answer(Err(e), signed, headers),
    }
}

pub async fn add_member(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let lang = Lang::of(&headers);
    let done = async {
        let role = role_of(form.role.as_deref())?;
        let name = form.name.as_deref().unwrap_or_default();
        let (member, link) =
            people::add(&app.db, &signed.0.caller, name, role, form.email.as_deref()).await?;
        Ok(Some(match link {
            Some(token) => invitation_notice(lang, &member.name, &public_url(&headers), &token),
            None => {
                html! { p.notice role="status" { (member.name) " · " (lang.t(Text::Recorded)) } }
            }
        }))
    };
    after(&app, &signed, &headers, done.await).await
}

fn invitation_notice(lang: Lang, name: &str, base: &str, token: &str) -> Markup {
    let link = format!("{base}/console/invitation/{token}");
    html! {
        div.notice role="status" {
            p { (lang.t(Text::InvitationFor)) " " strong { (name) } ":" }
            p { code.secret { (link) } }
            p { (lang.t(Text::ShownOnce)) }
        }
    }
}

pub async fn member_action(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let lang = Lang::of(&headers);
    let caller = &signed.0.caller;
    let done = async {
        match action.as_str() {
            "role" => {
                people::set_role(&app.db, caller, id, role_of(form.role.as_deref())?).await?;
                Ok(None)
            }
            "disable" => {
                people::disable(&app.db, caller, id).await?;
                Ok(None)
            }
            "enable" => {
                people::enable(&app.db, caller, id).await?;
                Ok(None)
            }
            "link" => {
                let token = people::invite_again(&app.db, caller, id).await?;
                let name = people::members(&app.db, caller)
                    .await?
                    .into_iter()
                    .find(|m| m.id == id)
                    .map(|m| m.name)
                    .unwrap_or_default();
                Ok(Some(invitation_notice(
                    lang,
                    &name,
                    &public_url(&headers),
                    &token,
                )))
            }
            _ => Err(ApiError::NotFound),
        }
    };
    after(&app, &signed, &headers, done.await).await
}

pub async fn issue_token(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let lang = Lang::of(&headers);
    let done = async {
        let staff = form
            .staff_id
            .ok_or_else(|| ApiError::BadRequest("choose a technician".into()))?;
        let device = form.device_name.as_deref().unwrap_or_default();
        let issued = people::issue_device_token(&app.db, &signed.0.caller, staff, device).await?;
        let server = public_url(&headers);
        let command = format!("field login --server {server} --token {}", issued.token);
        // What a tablet app scans: the same two parameters as the command.
        let scanned = format!(
            "fieldsync:login?server={}&token={}",
            percent(&server),
            issued.token
        );
        Ok(Some(html! {
            div.notice role="status" {
                p { (lang.t(Text::TokenIssued)) " " strong { (device) } }
                (qr(&scanned))
                p { code.secret { (command) } }
                p { (lang.t(Text::ShownOnce)) }
            }
        }))
    };
    after(&app, &signed, &headers, done.await).await
}

/// `text` with everything but unreserved URL characters percent-encoded.
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

pub async fn revoke_token(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let done =
        crate::auth::DeviceToken::revoke_in_organisation(&app.db, &signed.0.caller, id).await;
    after(&app, &signed, &headers, done.map(|()| None)).await
}

pub async fn set_clock(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let text = form.utc_offset.as_deref().unwrap_or_default().trim();
    let done = Organisation::set_utc_offset(&app.db, &signed.0.caller, text).await;
    after(&app, &signed, &headers, done.map(|()| None)).await
}

pub async fn switch_webhook(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let done = match action.as_str() {
        "enable" => Endpoint::switch(&app.db, &signed.0.caller, id, true).await,
        "disable" => Endpoint::switch(&app.db, &signed.0.caller, id, false).await,
        _ => Err(ApiError::NotFound),
    };
    after(&app, &signed, &headers, done.map(|_| None)).await
}

pub async fn recompute_tiers(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let lang = Lang::of(&headers);
    let period = form.period.clone().unwrap_or_default();
    let done = crate::tiers::recompute(&app.db, &signed.0.caller, &period)
        .await
        .map(|rows| {
            Some(html! {
                p.notice role="status" { (lang.t(Text::Recompute)) " " (period) ": " (rows.len()) }
            })
        });
    after(&app, &signed, &headers, done).await
}

/// The webhook registration form: its events come as repeated `events` fields.
pub async fn register_webhook(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    axum::extract::RawForm(body): axum::extract::RawForm,
) -> Response {
    let fields: Vec<(String, String)> = form_urlencoded_pairs(&body);
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    if let Err(e) = super::check_form(&signed, &value("csrf")) {
        return e.into_response();
    }
    let lang = Lang::of(&headers);
    let request = crate::notifications::endpoints::NewEndpoint {
        url: value("url"),
        events: fields
            .iter()
            .filter(|(k, _)| k == "events")
            .map(|(_, v)| v.clone())
            .collect(),
        description: None,
    };
    let done = Endpoint::register(
        &app.db,
        &signed.0.caller,
        app.webhooks.allow_private_targets,
        request,
    )
    .await
    .map(|(endpoint, secret)| {
        Some(html! {
            div.notice role="status" {
                p { (lang.t(Text::EndpointRegistered)) " " code { (endpoint.url) } }
                p { (lang.t(Text::SigningSecret)) " " code.secret { (secret.expose()) } }
                p { (lang.t(Text::ShownOnce)) }
            }
        })
    });
    after(&app, &signed, &headers, done).await
}

/// `a=1&b=2` as pairs, percent- and plus-decoded.
fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

pub async fn replay_webhook(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let lang = Lang::of(&headers);
    let done = async {
        let clock = Clock::of(&app, &signed.0.caller, &headers).await?;
        let since = clock.read(form.since.as_deref().unwrap_or_default(), "00:00")?;
        let queued = Endpoint::replay(
            &app.db,
            &signed.0.caller,
            id,
            deliveries::Replay::Since(since),
        )
        .await?;
        Ok(Some(
            html! { p.notice role="status" { (lang.t(Text::Replay)) ": " (queued) } },
        ))
    };
    after(&app, &signed, &headers, done.await).await
}

pub async fn set_policy(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let done = async {
        let policy = crate::revisits::policy::Policy {
            complaint_due_hours: whole(&form.complaint_due_hours)?,
            regular_due_hours: whole(&form.regular_due_hours)?,
            key_customer_extra_days: whole(&form.key_customer_extra_days)?,
            scheduled_min_stars: whole(&form.scheduled_min_stars)?,
        };
        crate::revisits::policy::set(&app.db, &signed.0.caller, &policy).await?;
        Ok(None)
    };
    after(&app, &signed, &headers, done.await).await
}

pub async fn set_tier_rules(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<AdminForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let done = async {
        let caller = &signed.0.caller;
        // The star thresholds are kept as they are; the form sets the scheme and the rest.
        let mut rules = crate::tiers::rules::get(&app.db, caller).await?;
        rules.scheme =
            crate::directory::TierScheme::from_word(form.scheme.as_deref().unwrap_or_default());
        rules.key_min_spend_minor = yuan(&form.key_min_spend)?;
        rules.key_min_jobs = whole(&form.key_min_jobs)?;
        rules.regular_min_jobs = whole(&form.regular_min_jobs)?;
        crate::tiers::rules::set(&app.db, caller, &rules).await?;
        Ok(None)
    };
    after(&app, &signed, &headers, done.await).await
}

/// A whole number typed in a form.
fn whole(text: &Option<String>) -> Result<i32, ApiError> {
    text.as_deref()
        .map(str::trim)
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| ApiError::BadRequest("fill in every number (whole numbers)".into()))
}

/// An amount in yuan with at most two decimals (`10000`, `123.45`), in fen.
fn yuan(text: &Option<String>) -> Result<i64, ApiError> {
    let refused = || ApiError::BadRequest("the amount is in yuan, like 10000 or 123.45".into());
    let text = text.as_deref().map(str::trim).unwrap_or_default();
    let (whole, cents) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || cents.len() > 2
        || !cents.chars().all(|c| c.is_ascii_digit())
    {
        return Err(refused());
    }
    let whole: i64 = whole.parse().map_err(|_| refused())?;
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| refused())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(cents))
        .ok_or_else(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_yuan_to_fen_exactly() {
        let read = |t: &str| yuan(&Some(t.to_owned())).ok();
        assert_eq!(read("10000"), Some(1_000_000));
        assert_eq!(read("123.45"), Some(12_345));
        assert_eq!(read("123.4"), Some(12_340));
        assert_eq!(read(" 7 "), Some(700));
        assert_eq!(read("1.234"), None);
        assert_eq!(read("-5"), None);
        assert_eq!(read("abc"), None);
        assert_eq!(read(""), None);
    }
}
