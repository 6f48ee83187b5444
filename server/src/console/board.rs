//! The dispatch board: the day by technician on a time axis (06:00 to midnight in half hours,
//! the dispatcher's time), each job a block over its window coloured by status, review flags
//! marked, unassigned jobs beside; the previous and next day. Asks `jobs::view::board`, the
//! same operation as `GET /api/v1/board`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, FixedOffset, NaiveDate, Timelike, Utc};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::Signed;
use super::clock::Clock;
use super::i18n::{self, Lang, Text};
use super::layout::{Here, frame};
use crate::directory::{Customer, Role, Staff};
use crate::error::ApiError;
use crate::jobs::view::{Board, JobRow, board};
use crate::state::AppState;

/// The board's hours: a slot is half an hour, from 06:00 (slot 0) to midnight (slot 36).
const FIRST_HOUR: u32 = 6;
const SLOTS: u32 = 36;

#[derive(Debug, Deserialize)]
pub struct BoardQuery {
    date: Option<String>,
    utc_offset: Option<String>,
}

async fn page_handler(
    app: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    query: BoardQuery,
) -> Result<Response, ApiError> {
    let caller = &signed.0.caller;
    let lang = Lang::of(headers);
    let clock = match query.utc_offset.as_deref() {
        Some(text) => Clock::parse(text).ok_or_else(|| {
            ApiError::BadRequest("utc_offset is an offset from UTC such as +08:00".into())
        })?,
        None => Clock::of(app, caller, headers).await?,
    };
    let offset = clock.offset;
    let offset_text = clock.label.as_str();
    let date = match query.date.as_deref() {
        Some(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_err(|_| ApiError::BadRequest("date must be YYYY-MM-DD".into()))?,
        None => Utc::now().with_timezone(&offset).date_naive(),
    };
    let day = board(app, caller, date, offset).await?;
    let technicians = Staff::technicians(&app.db, caller.organisation_id).await?;
    let customer_ids: Vec<Uuid> = day
        .technicians
        .iter()
        .flat_map(|c| c.jobs.iter().filter_map(|j| j.customer_id))
        .collect();
    let customers = Customer::names(&app.db, caller.organisation_id, &customer_ids).await?;
    let view = View {
        lang,
        books: caller.role == Role::Dispatcher,
        offset,
        date,
        customers: &customers,
    };
    let main = view.render(&day, &technicians, offset_text);
    let title = lang.t(Text::Board);
    Ok(Html(frame(lang, Here::Board, title, Some(&signed.0), main).into_string()).into_response())
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<BoardQuery>,
) -> Response {
    super::job::answer(
        page_handler(&app, &signed, &headers, query).await,
        &signed,
        &headers,
    )
}

struct View<'a> {
    lang: Lang,
    /// The member may book jobs (dispatchers).
    books: bool,
    offset: FixedOffset,
    date: NaiveDate,
    customers: &'a HashMap<Uuid, String>,
}

impl View<'_> {
    fn render(&self, day: &Board, technicians: &[Staff], offset: &str) -> Markup {
        let lang = self.lang;
        let jobs_of = |id: Option<Uuid>| {
            day.technicians
                .iter()
                .find(|c| c.technician_id == id)
                .map(|c| c.jobs.as_slice())
                .unwrap_or_default()
        };
        let unassigned = jobs_of(None);
        let day_link = |date: NaiveDate| {
            format!(
                "/console/board?date={date}&utc_offset={}",
                offset.replace('+', "%2B")
            )
        };
        let hours: Vec<u32> = (FIRST_HOUR..FIRST_HOUR + SLOTS / 2).step_by(2).collect();
        html! {
            div.board-head {
                h1 { (lang.t(Text::Board)) " " time datetime=(day.date) { (day.date) } }
                nav.days aria-label=(lang.t(Text::Board)) {
                    a href=(day_link(day.date.pred_opt().unwrap_or(day.date))) { "← " (lang.t(Text::PreviousDay)) }
                    a href=(format!("/console/board?utc_offset={}", offset.replace('+', "%2B"))) { (lang.t(Text::Today)) }
                    a href=(day_link(day.date.succ_opt().unwrap_or(day.date))) { (lang.t(Text::NextDay)) " →" }
                }
                @if self.books {
                    a.button href={ "/console/jobs/new?date=" (day.date) } { "+ " (lang.t(Text::BookJob)) }
                }
                p.legend {
                    @for status in ["scheduled", "confirmed", "in_progress", "awaiting_evidence", "complete", "cancelled"] {
                        span class={ "chip st-" (status) } { (i18n::status(lang, status)) }
                    }
                    span.chip.flagged { "⚑ " (lang.t(Text::Review)) }
                }
            }
            div.board-body {
                section.timeline tabindex="0" aria-label=(lang.t(Text::Technician)) {
                    div.row.axis aria-hidden="true" {
                        div.who {}
                        div.slots {
                            @for hour in &hours {
                                span class={ "hour cs" (1 + (hour - FIRST_HOUR) * 2) } { (format!("{hour:02}:00")) }
                            }
                        }
                    }
                    @for technician in technicians {
                        div.row {
                            h2.who { (technician.name) }
                            div.slots {
                                @for job in jobs_of(Some(technician.id)) {
                                    (self.block(job))
                                }
                            }
                        }
                    }
                }
                section.unassigned aria-labelledby="unassigned-title" {
                    h2 id="unassigned-title" { (lang.t(Text::Unassigned)) }
                    @if unassigned.is_empty() {
                        p.empty { "—" }
                    }
                    ul {
                        @for job in unassigned {
                            li { (self.card(job)) }
                        }
                    }
                }
            }
            @if day.technicians.is_empty() {
                p.empty { (lang.t(Text::NoJobs)) }
            }
        }
    }

    /// A job's block on its technician's row, over its window (clipped to the board's hours).
    fn block(&self, job: &JobRow) -> Markup {
        let start = self.slot(job.window_start, false).min(SLOTS - 1);
        let end = self.slot(job.window_end, true).max(start + 1).min(SLOTS);
        html! {
            div class={ "job st-" (job.status) " cs" (start + 1) " ce" (end + 1) } {
                (self.card(job))
            }
        }
    }

    fn card(&self, job: &JobRow) -> Markup {
        let lang = self.lang;
        let customer = job
            .customer_id
            .and_then(|id| self.customers.get(&id))
            .map(String::as_str)
            .unwrap_or("—");
        let flags: Vec<&str> = job
            .review_flags
            .as_array()
            .map(|flags| flags.iter().filter_map(|f| f["flag"].as_str()).collect())
            .unwrap_or_default();
        html! {
            a.open href=(super::job::link(job.id)) {
                span.number { (job.number.as_deref().unwrap_or("—")) }
                " "
                span.when { (self.clock(job.window_start)) "–" (self.clock(job.window_end)) }
            }
            " "
            strong.customer { (customer) }
            " "
            span.status { (i18n::status(lang, &job.status)) }
            @if !flags.is_empty() {
                " "
                span.flag title=(flags.join(", ")) { "⚑ " (lang.t(Text::Review)) }
            }
        }
    }

    fn local(&self, at: DateTime<Utc>) -> DateTime<FixedOffset> {
        at.with_timezone(&self.offset)
    }

    fn clock(&self, at: DateTime<Utc>) -> String {
        self.local(at).format("%H:%M").to_string()
    }

    /// The half-hour slot boundary at or before `at` (at or after it with `up`, for a window's
    /// end), counted from 06:00 (0 before it).
    fn slot(&self, at: DateTime<Utc>, up: bool) -> u32 {
        let local = self.local(at);
        if local.date_naive() < self.date {
            return 0;
        }
        if local.date_naive() > self.date {
            return SLOTS;
        }
        let minutes = (local.hour() * 60 + local.minute()).saturating_sub(FIRST_HOUR * 60);
        let slot = if up {
            minutes.div_ceil(30)
        } else {
            minutes / 30
        };
        slot.min(SLOTS)
    }
}
