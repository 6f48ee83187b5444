//! A job's page: the customer, the window and its confirmation, the visit as recorded (arrival,
//! permissions, work, payment due by transfer, signature, feedback cards, cleanup, departure),
//! the stored photos (thumbnails, the display copy a click away), review flags and what is
//! missing for completion, the timeline with the device's clock and the server's side by side,
//! the evidence bundle; and for dispatchers the forms that confirm, reschedule, reassign,
//! cancel and archive. Every form calls the same operation as the API; a refusal is shown on
//! the page, in the API's words, and changes nothing.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use sync_protocol::job::{EpochMillis, JobDocument, TimelineEvent};
use uuid::Uuid;

use super::Signed;
use super::clock::Clock;
use super::i18n::{self, Lang, Text};
use super::layout::{Here, frame, problem_page, refusal};
use crate::directory::{Role, Staff};
use crate::error::ApiError;
use crate::jobs::attachments::{self, Attachment};
use crate::jobs::view::{JobView, job_file};
use crate::jobs::{self, Cancel, Confirmation, Reassign, Reschedule};
use crate::state::AppState;

/// The page's address for job `id`.
pub fn link(id: Uuid) -> String {
    format!("/console/jobs/{id}")
}

fn at(millis: EpochMillis) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(millis.0)
}

struct Page<'a> {
    lang: Lang,
    clock: &'a Clock,
    signed: &'a Signed,
    names: &'a HashMap<Uuid, String>,
    technicians: &'a [Staff],
}

impl Page<'_> {
    fn who(&self, id: &str) -> String {
        Uuid::parse_str(id)
            .ok()
            .and_then(|id| self.names.get(&id).cloned())
            .unwrap_or_else(|| id.to_owned())
    }

    /// An event's detail as people read it: the document keeps it in the form its writer
    /// chose (a window as two epoch milliseconds, a technician as an id, the channel's word).
    fn detail(&self, kind: &str, detail: &str) -> String {
        match kind {
            "appointment_confirmed" => match detail.rsplit_once(" by ") {
                Some((who, channel)) => format!("{who} · {}", i18n::channel(self.lang, channel)),
                None => detail.to_owned(),
            },
            "rescheduled" => {
                let window = detail
                    .split_once("..")
                    .and_then(|(start, end)| Some((start.parse().ok()?, end.parse().ok()?)));
                match window {
                    Some((start, end)) => format!(
                        "{} – {}",
                        self.when(EpochMillis(start)),
                        self.when(EpochMillis(end))
                    ),
                    None => detail.to_owned(),
                }
            }
            "reassigned" => self.who(detail),
            _ => detail.to_owned(),
        }
    }

    fn when(&self, millis: EpochMillis) -> String {
        at(millis).map_or_else(|| "—".to_owned(), |t| self.clock.show(t))
    }

    fn render(
        &self,
        view: &JobView,
        document: Option<&JobDocument>,
        files: &[Attachment],
        problem: Option<&ApiError>,
    ) -> Markup {
        let lang = self.lang;
        let job = &view.job;
        let number = job.number.as_deref().unwrap_or("—");
        let dispatcher = self.signed.0.caller.role == Role::Dispatcher;
        let may_export = matches!(self.signed.0.caller.role, Role::Dispatcher | Role::Admin);
        let customer = document.map(|d| &d.customer);
        html! {
            div.job-head {
                h1 {
                    span.number { (number) } " "
                    (customer.map_or("—", |c| c.name.as_str()))
                }
                span class={ "chip st-" (job.status) } { (i18n::status(lang, &job.status)) }
                @if may_export {
                    a.download href={ (link(job.id)) "/evidence" } download { (lang.t(Text::EvidenceBundle)) }
                }
            }
            (refusal(lang, problem))
            div.job-grid {
                section aria-labelledby="booking" {
                    h2 id="booking" { (lang.t(Text::Appointment)) }
                    dl.facts {
                        @if let Some(customer) = customer {
                            dt { (lang.t(Text::Customer)) } dd { (customer.name) }
                            dt { (lang.t(Text::Phone)) } dd { (customer.phone.as_deref().unwrap_or("—")) }
                            dt { (lang.t(Text::Address)) } dd { (customer.address) }
                        }
                        dt { (lang.t(Text::Kind)) } dd { (i18n::kind(lang, &job.kind)) }
                        dt { (lang.t(Text::Window)) }
                        dd { (self.clock.show(job.window_start)) " – " (self.clock.time(job.window_end)) " (UTC" (self.clock.label) ")" }
                        dt { (lang.t(Text::Technician)) }
                        dd { (job.technician_id.and_then(|t| self.names.get(&t)).map_or("—", String::as_str)) }
                        dt { (lang.t(Text::Confirmation)) }
                        dd {
                            @match document.and_then(|d| d.appointment.confirmation.as_ref()) {
                                Some(c) => {
                                    (c.confirmed_by) " · " (i18n::channel(lang, c.channel.as_str())) " · " (self.when(c.confirmed_at))
                                    " (" (lang.t(Text::RecordedBy)) " " (self.who(&c.recorded_by)) ")"
                                }
                                None => strong.warn { (lang.t(Text::NotConfirmed)) }
                            }
                        }
                        @if job.from_complaint {
                            dt { (lang.t(Text::Complaint)) }
                            dd { (document.and_then(|d| d.complaint_origin.reference.as_deref()).unwrap_or("✓")) }
                        }
                        @if let Some(status) = document.map(|d| &d.status).filter(|s| s.reason.is_some()) {
                            dt { (lang.t(Text::CancelReason)) }
                            dd { (status.reason.as_deref().unwrap_or_default()) }
                        }
                    }
                    (self.flags(view))
                }
                @if dispatcher && job.status != "archived" {
                    (self.actions(view))
                }
            }
            (self.visit(view, files))
            (self.timeline(&view.timeline))
        }
    }

    fn flags(&self, view: &JobView) -> Markup {
        let lang = self.lang;
        let flags: Vec<&serde_json::Value> = view
            .job
            .review_flags
            .as_array()
            .map(|f| f.iter().collect())
            .unwrap_or_default();
        let missing: Vec<&str> = view
            .job
            .missing
            .as_array()
            .map(|m| m.iter().filter_map(|w| w.as_str()).collect())
            .unwrap_or_default();
        html! {
            @if !flags.is_empty() {
                h3 { "⚑ " (lang.t(Text::Review)) }
                ul.flags {
                    @for flag in flags {
                        li { (i18n::flag(lang, flag["flag"].as_str().unwrap_or_default())) }
                    }
                }
            }
            @if !missing.is_empty() && view.job.status != "cancelled" {
                h3 { (lang.t(Text::Missing)) }
                ul.missing {
                    @for condition in missing {
                        li { (i18n::missing(lang, condition)) }
                    }
                }
            }
        }
    }

    fn actions(&self, view: &JobView) -> Markup {
        let lang = self.lang;
        let job = &view.job;
        let base = link(job.id);
        let csrf = &self.signed.0.csrf_token;
        let closed = matches!(job.status.as_str(), "complete" | "cancelled");
        html! {
            section.actions aria-labelledby="actions" {
                h2 id="actions" { (lang.t(Text::Actions)) }
                @if !job.confirmed && job.status != "cancelled" {
                    form.inline method="post" action={ (base) "/confirm" } {
                        input type="hidden" name="csrf" value=(csrf);
                        fieldset {
                            legend { (lang.t(Text::RecordConfirmation)) }
                            label for="confirmed_by" { (lang.t(Text::ConfirmedBy)) }
                            input id="confirmed_by" name="confirmed_by" required maxlength="200";
                            label for="channel" { (lang.t(Text::Channel)) }
                            select id="channel" name="channel" {
                                @for channel in ["phone", "sms", "in_person"] {
                                    option value=(channel) { (i18n::channel(lang, channel)) }
                                }
                            }
                            button type="submit" { (lang.t(Text::Save)) }
                        }
                    }
                }
                @if job.status != "cancelled" && job.status != "complete" {
                    form.inline method="post" action={ (base) "/reschedule" } {
                        input type="hidden" name="csrf" value=(csrf);
                        fieldset {
                            legend { (lang.t(Text::Reschedule)) }
                            label for="date" { (lang.t(Text::Date)) }
                            input id="date" type="date" name="date" required value=(self.clock.date(job.window_start));
                            label for="from" { (lang.t(Text::From)) }
                            input id="from" type="time" name="from" required value=(self.clock.time(job.window_start));
                            label for="to" { (lang.t(Text::To)) }
                            input id="to" type="time" name="to" required value=(self.clock.time(job.window_end));
                            button type="submit" { (lang.t(Text::Save)) }
                        }
                    }
                    form.inline method="post" action={ (base) "/reassign" } {
                        input type="hidden" name="csrf" value=(csrf);
                        fieldset {
                            legend { (lang.t(Text::Reassign)) }
                            label for="technician_id" { (lang.t(Text::Technician)) }
                            select id="technician_id" name="technician_id" {
                                @for t in self.technicians {
                                    option value=(t.id) selected[job.technician_id == Some(t.id)] { (t.name) }
                                }
                            }
                            button type="submit" { (lang.t(Text::Save)) }
                        }
                    }
                    form.inline method="post" action={ (base) "/cancel" } {
                        input type="hidden" name="csrf" value=(csrf);
                        fieldset {
                            legend { (lang.t(Text::CancelJob)) }
                            label for="reason" { (lang.t(Text::CancelReason)) }
                            input id="reason" name="reason" required maxlength="500";
                            button.danger type="submit" { (lang.t(Text::CancelJob)) }
                        }
                    }
                }
                @if closed {
                    form.inline method="post" action={ (base) "/archive" } {
                        input type="hidden" name="csrf" value=(csrf);
                        p { (lang.t(Text::ArchiveExplained)) }
                        button type="submit" { (lang.t(Text::Archive)) }
                    }
                }
            }
        }
    }

    fn visit(&self, view: &JobView, files: &[Attachment]) -> Markup {
        let lang = self.lang;
        let visit = &view.visit;
        let base = link(view.job.id);
        let file = |sha: &str| files.iter().find(|f| f.sha256 == sha);
        let picture = |sha: &str, alt: &str| -> Markup {
            match file(sha) {
                Some(f) if f.has_derivatives => html! {
                    a.photo href={ (base) "/files/" (sha) "/display" } {
                        img src={ (base) "/files/" (sha) "/thumbnail" } alt=(alt) width="160";
                    }
                },
                Some(_) => html! { span.pending { (alt) " · " (lang.t(Text::NoPreview)) } },
                None => html! { span.pending { (alt) " · " (lang.t(Text::NotUploaded)) } },
            }
        };
        html! {
            section.visit aria-labelledby="visit" {
                h2 id="visit" { (lang.t(Text::Visit)) }
                dl.facts {
                    dt { (lang.t(Text::Arrived)) }
                    dd { (visit.arrival.as_ref().map_or_else(|| "—".to_owned(), |s| self.when(s.at))) }
                    dt { (lang.t(Text::Permissions)) }
                    dd {
                        @if visit.permissions.is_empty() { "—" }
                        ul {
                            @for grant in &visit.permissions {
                                li { (grant.item) " · " (lang.t(Text::GrantedBy)) " " (grant.granted_by) " · " (self.when(grant.at)) }
                            }
                        }
                    }
                    dt { (lang.t(Text::WorkNotes)) }
                    dd.notes { @if visit.work_notes.is_empty() { "—" } @else { (visit.work_notes) } }
                    dt { (lang.t(Text::WorkItems)) }
                    dd {
                        @if visit.work_items.is_empty() { "—" }
                        ul {
                            @for item in &visit.work_items {
                                li { (item.description) " × " (item.quantity) }
                            }
                        }
                    }
                    dt { (lang.t(Text::PaymentDue)) }
                    dd {
                        @match &visit.payment_due {
                            Some(p) => {
                                (money(p.amount_minor, &p.currency)) " · " (lang.t(Text::ByTransfer))
                                " · " (lang.t(Text::TransferReference)) " " code { (p.transfer_reference) }
                            }
                            None => { "—" }
                        }
                    }
                    dt { (lang.t(Text::Signature)) }
                    dd {
                        @match &visit.signature {
                            Some(s) => {
                                (s.signer_name) " · " (self.when(s.signed_at))
                                div { (picture(s.image_sha256.as_str(), lang.t(Text::Signature))) }
                            }
                            None => { "—" }
                        }
                    }
                    dt { (lang.t(Text::FeedbackCards)) }
                    dd {
                        @if visit.feedback_cards.is_empty() { "—" }
                        @for card in &visit.feedback_cards {
                            div.card {
                                @if let Some(rating) = card.rating { (lang.t(Text::Satisfaction)) ": " (rating) " " }
                                @if let Some(comment) = &card.comment { q { (comment) } }
                                div.photos {
                                    @for sha in &card.photo_sha256s {
                                        (picture(sha.as_str(), lang.t(Text::FeedbackCards)))
                                    }
                                }
                            }
                        }
                    }
                    dt { (lang.t(Text::Cleanup)) }
                    dd {
                        @match &visit.cleanup {
                            Some(c) => {
                                (if c.site_cleaned { lang.t(Text::SiteCleaned) } else { lang.t(Text::SiteNotCleaned) })
                                " · " (i18n::debris(lang, c.debris.as_str()))
                                @if let Some(by) = &c.consented_by { " · " (lang.t(Text::AgreedBy)) " " (by) }
                                " · " (if c.departure_witnessed { lang.t(Text::Witnessed) } else { lang.t(Text::NotWitnessed) })
                                @if let Some(sha) = &c.photo_sha256 {
                                    div { (picture(sha.as_str(), lang.t(Text::Cleanup))) }
                                }
                            }
                            None => { "—" }
                        }
                    }
                    dt { (lang.t(Text::Departed)) }
                    dd { (visit.departure.as_ref().map_or_else(|| "—".to_owned(), |s| self.when(s.at))) }
                }
            }
        }
    }

    fn timeline(&self, events: &[crate::jobs::view::TimelineEntry]) -> Markup {
        let lang = self.lang;
        html! {
            section aria-labelledby="timeline" {
                h2 id="timeline" { (lang.t(Text::Timeline)) }
                table.timeline-table {
                    thead {
                        tr {
                            th scope="col" { (lang.t(Text::Event)) }
                            th scope="col" { (lang.t(Text::By)) }
                            th scope="col" { (lang.t(Text::DeviceClock)) }
                            th scope="col" { (lang.t(Text::ServerClock)) }
                        }
                    }
                    tbody {
                        @for entry in events {
                            (self.event(&entry.event, entry.received_at))
                        }
                    }
                }
            }
        }
    }

    fn event(&self, event: &TimelineEvent, received: Option<DateTime<Utc>>) -> Markup {
        html! {
            tr {
                td {
                    (i18n::event(self.lang, &event.kind))
                    @if let Some(detail) = &event.detail { " · " span.detail { (self.detail(&event.kind, detail)) } }
                }
                td { (self.who(&event.actor)) }
                td { time datetime=[at(event.device_time).map(|t| t.to_rfc3339())] { (self.when(event.device_time)) } }
                td { (received.map_or_else(|| "—".to_owned(), |t| self.clock.show(t))) }
            }
        }
    }
}

/// `12345` fen in CNY as `¥123.45`; other currencies with their code.
fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let (major, cents) = (minor.abs() / 100, minor.abs() % 100);
    match currency {
        "CNY" => format!("{sign}¥{major}.{cents:02}"),
        other => format!("{sign}{major}.{cents:02} {other}"),
    }
}

async fn show(
    app: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    id: Uuid,
    problem: Option<&ApiError>,
) -> Result<Response, ApiError> {
    let caller = &signed.0.caller;
    let lang = Lang::of(headers);
    let clock = Clock::of(app, caller, headers).await?;
    let (view, document) = job_file(app, caller, id).await?;
    let files = attachments::list(&app.db, caller, id).await?;
    let names = Staff::names(&app.db, caller.organisation_id).await?;
    let technicians = Staff::technicians(&app.db, caller.organisation_id).await?;
    let page = Page {
        lang,
        clock: &clock,
        signed,
        names: &names,
        technicians: &technicians,
    };
    let main = page.render(&view, document.as_ref(), &files, problem);
    let title = view
        .job
        .number
        .clone()
        .unwrap_or_else(|| lang.t(Text::Job).to_owned());
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Html(frame(lang, Here::Job, &title, Some(&signed.0), main).into_string()),
    )
        .into_response())
}

/// A page's answer for an error: refusals of the member's role and unknown jobs as pages (the
/// same for a job of another organisation as for one that does not exist), others as the API.
pub fn answer(
    result: Result<Response, ApiError>,
    signed: &Signed,
    headers: &HeaderMap,
) -> Response {
    match result {
        Ok(page) => page,
        Err(ApiError::Forbidden(_)) => super::revisits::not_for_you(signed, headers),
        Err(ApiError::NotFound) => {
            let lang = Lang::of(headers);
            problem_page(signed, lang, StatusCode::NOT_FOUND, lang.t(Text::NotFound))
        }
        // A page asked with a wrong date, month or the like: a page that says so, not the
        // API's JSON.
        Err(ApiError::BadRequest(message)) => {
            let lang = Lang::of(headers);
            let said = format!(
                "{}{}",
                lang.t(Text::Refused),
                super::i18n::refusal(lang, &message)
            );
            problem_page(signed, lang, StatusCode::BAD_REQUEST, &said)
        }
        Err(e) => e.into_response(),
    }
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let shown = async {
        let id = jobs::resolve(&app.db, &signed.0.caller, &id).await?;
        show(&app, &signed, &headers, id, None).await
    };
    answer(shown.await, &signed, &headers)
}

pub async fn file(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path((id, sha256, variant)): Path<(String, String, String)>,
) -> Response {
    let sent = async {
        let id = jobs::resolve(&app.db, &signed.0.caller, &id).await?;
        crate::api::attachments::send_file(&app, &signed.0.caller, id, &sha256, &variant, &headers)
            .await
    };
    answer(sent.await, &signed, &headers)
}

pub async fn evidence(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let sent = async {
        let id = jobs::resolve(&app.db, &signed.0.caller, &id).await?;
        crate::api::attachments::evidence_bundle(&app, &signed.0.caller, id).await
    };
    answer(sent.await, &signed, &headers)
}

/// A dispatcher's form on the job page.
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: String,
    confirmed_by: Option<String>,
    channel: Option<String>,
    date: Option<String>,
    from: Option<String>,
    to: Option<String>,
    technician_id: Option<Uuid>,
    reason: Option<String>,
}

impl ActionForm {
    fn text(value: &Option<String>, name: &str) -> Result<String, ApiError> {
        value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::BadRequest(format!("{name} is needed")))
    }
}

pub async fn act(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    Form(form): Form<ActionForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let caller = &signed.0.caller;
    let id = match jobs::resolve(&app.db, caller, &id).await {
        Ok(id) => id,
        Err(e) => return answer(Err(e), &signed, &headers),
    };
    let done = async {
        match action.as_str() {
            "confirm" => {
                let request = Confirmation {
                    confirmed_by: ActionForm::text(&form.confirmed_by, "who confirmed")?,
                    channel: ActionForm::text(&form.channel, "the channel")?,
                    confirmed_at: Utc::now(),
                };
                jobs::confirm(&app, caller, id, request).await
            }
            "reschedule" => {
                let clock = Clock::of(&app, caller, &headers).await?;
                let date = ActionForm::text(&form.date, "the date")?;
                let request = Reschedule {
                    window_start: clock.read(&date, &ActionForm::text(&form.from, "the start")?)?,
                    window_end: clock.read(&date, &ActionForm::text(&form.to, "the end")?)?,
                };
                jobs::reschedule(&app, caller, id, request).await
            }
            "reassign" => {
                let technician_id = form
                    .technician_id
                    .ok_or_else(|| ApiError::BadRequest("choose a technician".into()))?;
                jobs::reassign(&app, caller, id, Reassign { technician_id }).await
            }
            "cancel" => {
                let reason = form.reason.clone().unwrap_or_default();
                jobs::cancel(&app, caller, id, Cancel { reason }).await
            }
            "archive" => jobs::archive(&app, caller, id).await,
            _ => Err(ApiError::NotFound),
        }
    };
    match done.await {
        Ok(()) => Redirect::to(&link(id)).into_response(),
        Err(refused @ (ApiError::BadRequest(_) | ApiError::Conflict(_))) => answer(
            show(&app, &signed, &headers, id, Some(&refused)).await,
            &signed,
            &headers,
        ),
        Err(e) => answer(Err(e), &signed, &headers),
    }
}
