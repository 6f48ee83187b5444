//! Booking a job from the console: find the customer (by name, phone or address), then the
//! kind, the day and window (the office's clock), the technician and, for a complaint, its
//! reference. The form calls `jobs::book_job`, the operation behind `POST /api/v1/jobs`; the
//! job reaches the technician's tablet by sync like any other.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::Signed;
use super::clock::Clock;
use super::i18n::{self, Lang, Text};
use super::layout::{Here, frame, refusal};
use crate::directory::{Role, Staff, customers};
use crate::error::ApiError;
use crate::jobs::{self, BookJob};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct NewJobQuery {
    /// Words to find the customer by.
    q: Option<String>,
    /// The customer chosen.
    customer: Option<Uuid>,
    /// A day to offer (the board's).
    date: Option<String>,
}

/// What the form posts.
#[derive(Debug, Deserialize)]
pub struct BookForm {
    csrf: String,
    customer_id: Option<Uuid>,
    kind: String,
    date: String,
    from: String,
    to: String,
    #[serde(default)]
    technician_id: String,
    #[serde(default)]
    complaint_reference: String,
}

/// The booking form; after a refusal (`problem`), filled in with what was sent (`sent`), so
/// the dispatcher corrects the one field rather than books from the defaults.
async fn form_page(
    app: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    query: &NewJobQuery,
    problem: Option<&ApiError>,
    sent: Option<&BookForm>,
) -> Result<Response, ApiError> {
    let caller = &signed.0.caller;
    caller.require(&[Role::Dispatcher])?;
    let lang = Lang::of(headers);
    let clock = Clock::of(app, caller, headers).await?;
    let words = query.q.as_deref().unwrap_or_default().trim();
    let mut found = customers::search(&app.db, caller, words, 20).await?;
    // The customer already chosen (from their page, or before a refusal) stays on offer.
    if let Some(chosen) = query.customer
        && !found.iter().any(|c| c.id == chosen)
    {
        found.insert(0, customers::find(&app.db, caller, chosen).await?);
    }
    let technicians = Staff::technicians(&app.db, caller.organisation_id).await?;
    let date = query
        .date
        .clone()
        .unwrap_or_else(|| clock.today().to_string());
    let chosen_kind = sent.map_or("installation", |f| f.kind.as_str());
    let (from, to) = sent.map_or(("09:00", "11:00"), |f| (f.from.as_str(), f.to.as_str()));
    let technician = sent.map_or("", |f| f.technician_id.trim());
    let reference = sent.map_or("", |f| f.complaint_reference.as_str());
    let main = html! {
        h1 { (lang.t(Text::BookJob)) }
        (refusal(lang, problem))
        form.search method="get" action="/console/jobs/new" role="search" {
            label for="q" { (lang.t(Text::FindCustomer)) }
            input id="q" type="search" name="q" value=(words) maxlength="200";
            input type="hidden" name="date" value=(date);
            button type="submit" { (lang.t(Text::Search)) }
            " " a href="/console/customers/new" { (lang.t(Text::NewCustomer)) }
        }
        @if found.is_empty() {
            p.empty { (lang.t(Text::NoCustomers)) }
        } @else {
            form.book method="post" action="/console/jobs" {
                input type="hidden" name="csrf" value=(signed.0.csrf_token);
                fieldset {
                    legend { (lang.t(Text::Customer)) }
                    @for (i, customer) in found.iter().enumerate() {
                        label.choice {
                            input type="radio" name="customer_id" value=(customer.id) required
                                checked[query.customer == Some(customer.id) || (query.customer.is_none() && i == 0 && found.len() == 1)];
                            " " strong { (customer.name) } " · " (customer.phone.as_deref().unwrap_or("—")) " · " (customer.address)
                            " · " (i18n::tier(lang, customer.tier.as_str()))
                        }
                    }
                }
                label for="kind" { (lang.t(Text::Kind)) }
                select id="kind" name="kind" {
                    @for kind in ["installation", "repair", "maintenance", "inspection"] {
                        option value=(kind) selected[kind == chosen_kind] { (i18n::kind(lang, kind)) }
                    }
                }
                label for="date" { (lang.t(Text::Date)) }
                input id="date" type="date" name="date" required value=(date);
                label for="from" { (lang.t(Text::From)) " (UTC" (clock.label) ")" }
                input id="from" type="time" name="from" required value=(from);
                label for="to" { (lang.t(Text::To)) }
                input id="to" type="time" name="to" required value=(to);
                label for="technician_id" { (lang.t(Text::Technician)) }
                select id="technician_id" name="technician_id" {
                    option value="" { (lang.t(Text::Unassigned)) }
                    @for t in &technicians {
                        option value=(t.id) selected[t.id.to_string() == technician] { (t.name) }
                    }
                }
                label for="complaint_reference" { (lang.t(Text::ComplaintReference)) }
                input id="complaint_reference" name="complaint_reference" maxlength="200" value=(reference);
                button type="submit" { (lang.t(Text::BookJob)) }
            }
        }
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = lang.t(Text::BookJob);
    Ok((
        status,
        Html(frame(lang, Here::Board, title, Some(&signed.0), main).into_string()),
    )
        .into_response())
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<NewJobQuery>,
) -> Response {
    let shown = form_page(&app, &signed, &headers, &query, None, None).await;
    super::job::answer(shown, &signed, &headers)
}

pub async fn book(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<BookForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let caller = &signed.0.caller;
    let booked = async {
        let clock = Clock::of(&app, caller, &headers).await?;
        let customer_id = form
            .customer_id
            .ok_or_else(|| ApiError::BadRequest("choose the customer".into()))?;
        let technician_id = match form.technician_id.trim() {
            "" => None,
            text => Some(
                Uuid::parse_str(text)
                    .map_err(|_| ApiError::BadRequest("choose a technician".into()))?,
            ),
        };
        let reference = form.complaint_reference.trim();
        let request = BookJob {
            customer_id,
            kind: form.kind.clone(),
            window_start: clock.read(&form.date, &form.from)?,
            window_end: clock.read(&form.date, &form.to)?,
            technician_id,
            from_complaint: !reference.is_empty(),
            complaint_reference: (!reference.is_empty()).then(|| reference.to_owned()),
        };
        jobs::book_job(&app, caller, request).await
    };
    match booked.await {
        Ok(created) => Redirect::to(&super::job::link(created.id)).into_response(),
        Err(refused @ ApiError::BadRequest(_)) => {
            let query = NewJobQuery {
                customer: form.customer_id,
                date: Some(form.date.clone()),
                ..NewJobQuery::default()
            };
            super::job::answer(
                form_page(&app, &signed, &headers, &query, Some(&refused), Some(&form)).await,
                &signed,
                &headers,
            )
        }
        Err(e) => super::job::answer(Err(e), &signed, &headers),
    }
}
