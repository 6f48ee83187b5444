//! The revisit desk: the open queue by due time, overdue first and marked, with the customer to
//! call; claiming a task; a task's page with its outcomes and the form to record one. Asks
//! `revisits::queue` and `revisits::desk`, the same operations as `/api/v1/revisits`, so the
//! independence rule refuses here exactly as there, with the same message, shown in place.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::Signed;
use super::clock::Clock;
use super::i18n::{self, Lang, Text};
use super::layout::{Here, frame, refusal};
use crate::error::ApiError;
use crate::revisits::archive;
use crate::revisits::desk::{self, NewOutcome};
use crate::revisits::queue::{self, Narrow, Task};
use crate::state::AppState;

/// The desk's filters, by the word in `?filter=`.
const FILTERS: [(&str, Text); 5] = [
    ("", Text::AllOpen),
    ("today", Text::DueToday),
    ("overdue", Text::Overdue),
    ("key", Text::KeyCustomers),
    ("complaints", Text::Complaints),
];

/// Tasks on one page of the desk; the page ends with a link to the next.
const DESK_PAGE: usize = 200;

#[derive(Debug, Default, Deserialize)]
pub struct DeskQuery {
    #[serde(default)]
    filter: String,
    /// The last task of the previous page.
    after: Option<Uuid>,
}

/// What filter word `filter` keeps, on `clock`'s day; an unknown word keeps everything.
fn narrow(filter: &str, clock: &Clock) -> Narrow {
    match filter {
        "today" => {
            let midnight = |day: chrono::NaiveDate| {
                day.and_time(chrono::NaiveTime::MIN)
                    .and_local_timezone(clock.offset)
                    .single()
                    .map(|at| at.with_timezone(&chrono::Utc))
            };
            let today = clock.today();
            match (midnight(today), today.succ_opt().and_then(midnight)) {
                (Some(from), Some(to)) => Narrow::DueBetween(from, to),
                _ => Narrow::Everything,
            }
        }
        word => Narrow::named(word).unwrap_or(Narrow::Everything),
    }
}

/// The desk's address for `filter` (and the page after task `after`).
fn desk_link(filter: &str, after: Option<Uuid>) -> String {
    let mut link = String::from("/console/revisits");
    let mut join = '?';
    if !filter.is_empty() {
        link.push_str(&format!("{join}filter={filter}"));
        join = '&';
    }
    if let Some(after) = after {
        link.push_str(&format!("{join}after={after}"));
    }
    link
}

fn due(lang: Lang, clock: &Clock, task: &Task) -> Markup {
    html! {
        time datetime=(task.due_at.to_rfc3339()) { (clock.show(task.due_at)) }
        @if task.overdue {
            " " strong.badge { (lang.t(Text::Overdue)) }
        }
    }
}

async fn queue_page(
    app: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    query: &DeskQuery,
    problem: Option<&ApiError>,
) -> Result<Response, ApiError> {
    let lang = Lang::of(headers);
    let me = signed.0.caller.staff_id;
    // One of the desk's filter words (an unknown one is no filter), as its links repeat it.
    let filter = FILTERS
        .iter()
        .map(|(word, _)| *word)
        .find(|word| *word == query.filter)
        .unwrap_or("");
    let clock = Clock::of(app, &signed.0.caller, headers).await?;
    // By due time, so overdue tasks come first; one more than a page, to know whether a next
    // page is there.
    let mut tasks = queue::list_narrowed(
        &app.db,
        &signed.0.caller,
        "open",
        narrow(filter, &clock),
        DESK_PAGE as i64 + 1,
        query.after,
    )
    .await?;
    let more = tasks.len() > DESK_PAGE;
    tasks.truncate(DESK_PAGE);
    let next = tasks
        .last()
        .filter(|_| more)
        .map(|last| desk_link(filter, Some(last.id)));
    let main = html! {
        div.board-head {
            h1 { (lang.t(Text::Revisits)) }
            a.download href="/console/revisits/export.csv" download { (lang.t(Text::ExportCsv)) }
        }
        nav.filters aria-label=(lang.t(Text::Filter)) {
            @for (word, text) in FILTERS {
                a href=(desk_link(word, None))
                    aria-current=[(word == filter && query.after.is_none()).then_some("page")] { (lang.t(text)) }
            }
        }
        (refusal(lang, problem))
        @if tasks.is_empty() {
            p.empty { (lang.t(Text::NoRevisits)) }
        } @else {
            table.queue {
                thead {
                    tr {
                        th scope="col" { (lang.t(Text::Due)) }
                        th scope="col" { (lang.t(Text::Job)) }
                        th scope="col" { (lang.t(Text::Customer)) }
                        th scope="col" { (lang.t(Text::Phone)) }
                        th scope="col" { (lang.t(Text::Reason)) }
                        th scope="col" { (lang.t(Text::Claimed)) }
                    }
                }
                tbody {
                    @for task in &tasks {
                        tr class=[task.overdue.then_some("overdue")] {
                            td { (due(lang, &clock, task)) }
                            td { a href=(super::job::link(task.job_id)) { (task.job_number.as_deref().unwrap_or("—")) } }
                            td {
                                a.task href={ "/console/revisits/" (task.id) } {
                                    (task.customer_name.as_deref().unwrap_or("—"))
                                }
                            }
                            td { (task.customer_phone.as_deref().unwrap_or("—")) }
                            td {
                                (i18n::reason(lang, &task.reason))
                                // An open task's outcomes are calls that did not reach the
                                // customer: call again.
                                @if task.outcomes > 0 {
                                    br;
                                    span.attempts { (task.outcomes) (lang.t(Text::CallsUnanswered)) }
                                }
                            }
                            td {
                                @if task.claimed_by == Some(me) {
                                    a href={ "/console/revisits/" (task.id) } { (lang.t(Text::RecordOutcome)) }
                                } @else if task.claimed_by.is_some() {
                                    "✓"
                                } @else {
                                    form method="post" action={ "/console/revisits/" (task.id) "/claim" } {
                                        input type="hidden" name="csrf" value=(signed.0.csrf_token);
                                        button type="submit" aria-label={ (lang.t(Text::Claim)) " " (task.customer_name.as_deref().unwrap_or("")) } {
                                            (lang.t(Text::Claim))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if next.is_some() || query.after.is_some() {
            nav.pages aria-label=(lang.t(Text::Pages)) {
                @if query.after.is_some() {
                    a href=(desk_link(filter, None)) { (lang.t(Text::FirstPage)) }
                }
                @if let Some(next) = &next {
                    a rel="next" href=(next) { (lang.t(Text::LaterTasks)) }
                }
            }
        }
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = lang.t(Text::Revisits);
    Ok((
        status,
        Html(frame(lang, Here::Revisits, title, Some(&signed.0), main).into_string()),
    )
        .into_response())
}

fn answer(result: Result<Response, ApiError>, signed: &Signed, headers: &HeaderMap) -> Response {
    match result {
        Ok(page) => page,
        Err(ApiError::Forbidden(_)) => not_for_you(signed, headers),
        Err(e) => e.into_response(),
    }
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<DeskQuery>,
) -> Response {
    answer(
        queue_page(&app, &signed, &headers, &query, None).await,
        &signed,
        &headers,
    )
}

/// The archive of outcomes as CSV (the same as `GET /api/v1/revisits/export`), to download.
pub async fn export(State(app): State<AppState>, signed: Signed, headers: HeaderMap) -> Response {
    match archive::outcomes(&app.db, &signed.0.caller, None, None).await {
        Ok(rows) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"revisit-outcomes.csv\"",
                ),
            ],
            super::for_spreadsheets(archive::to_csv(&rows)),
        )
            .into_response(),
        Err(e) => answer(Err(e), &signed, &headers),
    }
}

#[derive(Debug, Deserialize)]
pub struct Csrf {
    csrf: String,
}

pub async fn claim(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<Csrf>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    match desk::claim(&app.db, &signed.0.caller, id).await {
        Ok(_) => Redirect::to(&format!("/console/revisits/{id}")).into_response(),
        // Refusals (the independence rule, someone else's claim) in place, on the queue.
        Err(refused @ (ApiError::Forbidden(_) | ApiError::Conflict(_))) => answer(
            queue_page(
                &app,
                &signed,
                &headers,
                &DeskQuery::default(),
                Some(&refused),
            )
            .await,
            &signed,
            &headers,
        ),
        Err(e) => e.into_response(),
    }
}

async fn task_page(
    app: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    id: Uuid,
    problem: Option<&ApiError>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let lang = Lang::of(headers);
    let clock = Clock::of(app, &signed.0.caller, headers).await?;
    let (task, outcomes) = queue::show(&app.db, &signed.0.caller, id).await?;
    // What was done, for the call: the job as the API shows it to this caller (revisit callers
    // read complete jobs only: one reopened since shows no summary).
    let (job, document) =
        match crate::jobs::view::job_file(app, &signed.0.caller, task.job_id).await {
            Ok((job, document)) => (Some(job), document),
            Err(ApiError::NotFound) => (None, None),
            Err(e) => return Err(e),
        };
    // The complaint's own reference, for the call ("about your complaint TS-…").
    let complaint = document
        .as_ref()
        .and_then(|d| d.complaint_origin.reference.clone());
    let names = crate::directory::Staff::names(&app.db, signed.0.caller.organisation_id).await?;
    let mine = task.claimed_by == Some(signed.0.caller.staff_id);
    let yes_no = |value: Option<bool>| match value {
        Some(true) => lang.t(Text::Yes),
        Some(false) => lang.t(Text::No),
        None => lang.t(Text::Unknown),
    };
    let main = html! {
        h1 { (lang.t(Text::Revisits)) ": " (task.customer_name.as_deref().unwrap_or("—")) }
        (refusal(lang, problem))
        dl.facts {
            dt { (lang.t(Text::Phone)) } dd { (task.customer_phone.as_deref().unwrap_or("—")) }
            dt { (lang.t(Text::Reason)) } dd { (i18n::reason(lang, &task.reason)) }
            dt { (lang.t(Text::Due)) } dd { (due(lang, &clock, &task)) }
            dt { (lang.t(Text::Job)) }
            dd {
                a href=(super::job::link(task.job_id)) { (task.job_number.as_deref().unwrap_or("—")) }
                @if let Some(job) = &job { " · " (i18n::kind(lang, &job.job.kind)) }
                @if let Some(done) = task.completed_at { " · " (lang.t(Text::CompletedAt)) " " (clock.show(done)) }
                @if task.from_complaint {
                    " · " (lang.t(Text::Complaints))
                    @if let Some(reference) = &complaint { " " (reference) }
                }
            }
            @if let Some(job) = &job {
                dt { (lang.t(Text::Technician)) }
                dd { (job.job.technician_id.and_then(|t| names.get(&t)).map_or("—", String::as_str)) }
                dt { (lang.t(Text::WorkNotes)) }
                dd.notes { @if job.visit.work_notes.is_empty() { "—" } @else { (job.visit.work_notes) } }
                @if !job.visit.work_items.is_empty() {
                    dt { (lang.t(Text::WorkItems)) }
                    dd {
                        @for (i, item) in job.visit.work_items.iter().enumerate() {
                            @if i > 0 { "; " }
                            (item.description) " × " (item.quantity)
                        }
                    }
                }
            }
        }
        h2 { (lang.t(Text::Outcomes)) }
        @if outcomes.is_empty() {
            p.empty { "—" }
        }
        ul.outcomes {
            @for outcome in &outcomes {
                li {
                    strong { (outcome.recorded_by_name) } " · "
                    time datetime=(outcome.recorded_at.to_rfc3339()) { (clock.show(outcome.recorded_at)) }
                    " · " (lang.t(Text::Reached)) ": " (yes_no(Some(outcome.reached)))
                    " · " (lang.t(Text::ProblemSolved)) ": " (yes_no(outcome.problem_solved))
                    @if let Some(score) = outcome.satisfaction { " · " (lang.t(Text::Satisfaction)) ": " (score) }
                    @if let Some(text) = &outcome.suggestions { p { (text) } }
                    @if let Some(text) = &outcome.notes { p { (text) } }
                }
            }
        }
        @if mine {
            h2 { (lang.t(Text::RecordOutcome)) }
            form.outcome method="post" action={ "/console/revisits/" (task.id) "/outcome" } {
                input type="hidden" name="csrf" value=(signed.0.csrf_token);
                fieldset {
                    legend { (lang.t(Text::Reached)) }
                    label { input type="radio" name="reached" value="true" required; " " (lang.t(Text::Yes)) }
                    label { input type="radio" name="reached" value="false"; " " (lang.t(Text::No)) }
                }
                label for="problem_solved" { (lang.t(Text::ProblemSolved)) }
                select id="problem_solved" name="problem_solved" {
                    option value="" { (lang.t(Text::Unknown)) }
                    option value="true" { (lang.t(Text::Yes)) }
                    option value="false" { (lang.t(Text::No)) }
                }
                label for="satisfaction" { (lang.t(Text::Satisfaction)) }
                select id="satisfaction" name="satisfaction" {
                    option value="" { (lang.t(Text::Unknown)) }
                    @for score in 1..=5 { option value=(score) { (score) } }
                }
                label for="suggestions" { (lang.t(Text::Suggestions)) }
                textarea id="suggestions" name="suggestions" maxlength="4000" rows="3" {}
                label for="notes" { (lang.t(Text::Notes)) }
                textarea id="notes" name="notes" maxlength="4000" rows="3" {}
                button type="submit" { (lang.t(Text::Save)) }
            }
        } @else if task.claimed_by.is_none() {
            form method="post" action={ "/console/revisits/" (task.id) "/claim" } {
                input type="hidden" name="csrf" value=(signed.0.csrf_token);
                button type="submit" { (lang.t(Text::Claim)) }
            }
        }
    };
    let title = lang.t(Text::Revisits);
    Ok((
        status,
        Html(frame(lang, Here::Revisits, title, Some(&signed.0), main).into_string()),
    )
        .into_response())
}

pub async fn task(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Response {
    let shown = task_page(&app, &signed, &headers, id, None, StatusCode::OK).await;
    answer(shown, &signed, &headers)
}

/// The outcome form as a browser posts it: empty selections are "not said".
#[derive(Debug, Deserialize)]
pub struct OutcomeForm {
    csrf: String,
    reached: bool,
    #[serde(default)]
    problem_solved: String,
    #[serde(default)]
    satisfaction: String,
    #[serde(default)]
    suggestions: String,
    #[serde(default)]
    notes: String,
}

impl OutcomeForm {
    fn outcome(&self) -> Result<NewOutcome, ApiError> {
        let text = |t: &str| (!t.trim().is_empty()).then(|| t.trim().to_owned());
        Ok(NewOutcome {
            reached: self.reached,
            problem_solved: match self.problem_solved.as_str() {
                "" => None,
                "true" => Some(true),
                "false" => Some(false),
                _ => return Err(ApiError::BadRequest("problem_solved is yes or no".into())),
            },
            satisfaction: match self.satisfaction.as_str() {
                "" => None,
                score => Some(
                    score
                        .parse()
                        .map_err(|_| ApiError::BadRequest("satisfaction is 1 to 5".into()))?,
                ),
            },
            suggestions: text(&self.suggestions),
            notes: text(&self.notes),
        })
    }
}

pub async fn outcome(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Form(form): Form<OutcomeForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let recorded = match form.outcome() {
        Ok(outcome) => desk::record_outcome(&app.db, &signed.0.caller, id, &outcome).await,
        Err(e) => Err(e),
    };
    match recorded {
        Ok(_) => Redirect::to(&format!("/console/revisits/{id}")).into_response(),
        Err(
            refused @ (ApiError::BadRequest(_) | ApiError::Conflict(_) | ApiError::Forbidden(_)),
        ) => answer(
            task_page(
                &app,
                &signed,
                &headers,
                id,
                Some(&refused),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await,
            &signed,
            &headers,
        ),
        Err(e) => e.into_response(),
    }
}

/// What a page the member's role may not see answers: 403 and a sentence, inside the frame.
pub fn not_for_you(signed: &Signed, headers: &HeaderMap) -> Response {
    let lang = Lang::of(headers);
    let main = html! { p.problem role="alert" { (lang.t(Text::NotForYou)) } };
    (
        StatusCode::FORBIDDEN,
        Html(
            frame(
                lang,
                Here::Revisits,
                lang.t(Text::Title),
                Some(&signed.0),
                main,
            )
            .into_string(),
        ),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_today_is_the_day_on_the_consoles_clock() {
        let clock = Clock::china();
        let Narrow::DueBetween(from, to) = narrow("today", &clock) else {
            panic!("today narrows to a day");
        };
        assert_eq!(to - from, chrono::Duration::days(1));
        let now = chrono::Utc::now();
        assert!(from <= now && now < to);
        let local = from.with_timezone(&clock.offset);
        assert_eq!(local.date_naive(), clock.today());
        assert_eq!(local.time(), chrono::NaiveTime::MIN);
        assert_eq!(narrow("somewhere", &clock), Narrow::Everything);
    }

    #[test]
    fn a_desk_link_keeps_the_filter_and_the_page() {
        let id = Uuid::nil();
        assert_eq!(desk_link("", None), "/console/revisits");
        assert_eq!(desk_link("key", None), "/console/revisits?filter=key");
        assert_eq!(
            desk_link("key", Some(id)),
            format!("/console/revisits?filter=key&after={id}")
        );
        assert_eq!(
            desk_link("", Some(id)),
            format!("/console/revisits?after={id}")
        );
    }
}
