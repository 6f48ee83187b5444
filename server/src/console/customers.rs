//! Customers: the list with search and tiers, a customer's page (their jobs and their tier in
//! each period, with the figures it follows from), and adding a customer. Asks the same
//! operations as `/api/v1/customers`; tiers are shown, never set (they follow from the data).

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use uuid::Uuid;

use super::Signed;
use super::clock::Clock;
use super::i18n::{self, Lang, Text};
use super::layout::{Here, frame, refusal};
use crate::directory::Role;
use crate::directory::customers::{self, CustomerDetails};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
}

pub async fn list(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    let shown = async {
        let caller = &signed.0.caller;
        let lang = Lang::of(&headers);
        let words = query.q.as_deref().unwrap_or_default().trim().to_owned();
        let found = customers::search(&app.db, caller, &words, 200).await?;
        let adds = customers::WRITERS.contains(&caller.role);
        let main = html! {
            div.board-head {
                h1 { (lang.t(Text::Customers)) }
                @if adds { a.button href="/console/customers/new" { "+ " (lang.t(Text::NewCustomer)) } }
            }
            form.search method="get" action="/console/customers" role="search" {
                label for="q" { (lang.t(Text::FindCustomer)) }
                input id="q" type="search" name="q" value=(words) maxlength="200";
                button type="submit" { (lang.t(Text::Search)) }
            }
            @if found.is_empty() {
                p.empty { (lang.t(Text::NoCustomers)) }
            } @else {
                table.list {
                    thead { tr {
                        th scope="col" { (lang.t(Text::Name)) }
                        th scope="col" { (lang.t(Text::Phone)) }
                        th scope="col" { (lang.t(Text::Address)) }
                        th scope="col" { (lang.t(Text::Tier)) }
                    } }
                    tbody {
                        @for c in &found {
                            tr {
                                td { a href={ "/console/customers/" (c.id) } { (c.name) } }
                                td { (c.phone.as_deref().unwrap_or("—")) }
                                td { (c.address) }
                                td { (i18n::tier(lang, c.tier.as_str())) }
                            }
                        }
                    }
                }
            }
        };
        let title = lang.t(Text::Customers);
        Ok(
            Html(frame(lang, Here::Customers, title, Some(&signed.0), main).into_string())
                .into_response(),
        )
    };
    super::job::answer(shown.await, &signed, &headers)
}

pub async fn show(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
) -> Response {
    let shown = async {
        let caller = &signed.0.caller;
        let lang = Lang::of(&headers);
        let clock = Clock::of(&app, caller, &headers).await?;
        let customer = customers::find(&app.db, caller, id).await?;
        let jobs = crate::jobs::view::of_customer(&app.db, caller, id, 200).await?;
        let periods = crate::tiers::history(&app.db, caller, id).await?;
        let books = caller.role == Role::Dispatcher;
        let main = html! {
            div.board-head {
                h1 { (customer.name) }
                span.chip { (i18n::tier(lang, customer.tier.as_str())) }
                @if books { a.button href={ "/console/jobs/new?customer=" (customer.id) } { "+ " (lang.t(Text::BookJob)) } }
            }
            dl.facts {
                dt { (lang.t(Text::Phone)) } dd { (customer.phone.as_deref().unwrap_or("—")) }
                dt { (lang.t(Text::Address)) } dd { (customer.address) }
            }
            section aria-labelledby="jobs" {
                h2 id="jobs" { (lang.t(Text::Jobs)) }
                @if jobs.is_empty() { p.empty { "—" } }
                @else {
                    table.list {
                        thead { tr {
                            th scope="col" { (lang.t(Text::Job)) }
                            th scope="col" { (lang.t(Text::Window)) }
                            th scope="col" { (lang.t(Text::Kind)) }
                            th scope="col" { (lang.t(Text::Status)) }
                        } }
                        tbody {
                            @for job in &jobs {
                                tr {
                                    td { a href=(super::job::link(job.id)) { (job.number.as_deref().unwrap_or("—")) } }
                                    td { (clock.show(job.window_start)) }
                                    td { (i18n::kind(lang, &job.kind)) }
                                    td { span class={ "chip st-" (job.status) } { (i18n::status(lang, &job.status)) } }
                                }
                            }
                        }
                    }
                }
            }
            section aria-labelledby="tiers" {
                h2 id="tiers" { (lang.t(Text::TierHistory)) }
                @if periods.is_empty() { p.empty { "—" } }
                @else {
                    table.list {
                        thead { tr {
                            th scope="col" { (lang.t(Text::Period)) }
                            th scope="col" { (lang.t(Text::Tier)) }
                            th scope="col" { (lang.t(Text::CompletedJobs)) }
                            th scope="col" { (lang.t(Text::Spend)) }
                        } }
                        tbody {
                            @for p in &periods {
                                tr {
                                    td { (p.period) }
                                    td { (i18n::tier(lang, &p.tier)) }
                                    td { (p.completed_jobs) }
                                    td { (format!("¥{}.{:02}", p.spend_minor / 100, p.spend_minor % 100)) }
                                }
                            }
                        }
                    }
                }
            }
        };
        Ok(
            Html(frame(lang, Here::Customers, &customer.name, Some(&signed.0), main).into_string())
                .into_response(),
        )
    };
    super::job::answer(shown.await, &signed, &headers)
}

fn new_page(signed: &Signed, headers: &HeaderMap, problem: Option<&ApiError>) -> Response {
    let lang = Lang::of(headers);
    let main = html! {
        h1 { (lang.t(Text::NewCustomer)) }
        (refusal(lang, problem))
        form.book method="post" action="/console/customers" {
            input type="hidden" name="csrf" value=(signed.0.csrf_token);
            label for="name" { (lang.t(Text::Name)) }
            input id="name" name="name" required maxlength="200";
            label for="phone" { (lang.t(Text::Phone)) }
            input id="phone" name="phone" type="tel" maxlength="50";
            label for="address" { (lang.t(Text::Address)) }
            input id="address" name="address" required maxlength="500";
            p { (lang.t(Text::TierFollows)) }
            button type="submit" { (lang.t(Text::Add)) }
        }
    };
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let title = lang.t(Text::NewCustomer);
    (
        status,
        Html(frame(lang, Here::Customers, title, Some(&signed.0), main).into_string()),
    )
        .into_response()
}

pub async fn new(signed: Signed, headers: HeaderMap) -> Response {
    if !customers::WRITERS.contains(&signed.0.caller.role) {
        return super::revisits::not_for_you(&signed, &headers);
    }
    new_page(&signed, &headers, None)
}

#[derive(Debug, Deserialize)]
pub struct CustomerForm {
    csrf: String,
    name: String,
    #[serde(default)]
    phone: String,
    address: String,
}

pub async fn add(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<CustomerForm>,
) -> Response {
    if let Err(e) = super::check_form(&signed, &form.csrf) {
        return e.into_response();
    }
    let details = CustomerDetails {
        name: form.name,
        phone: Some(form.phone).filter(|p| !p.trim().is_empty()),
        address: form.address,
    };
    match customers::add(&app.db, &signed.0.caller, details).await {
        Ok(customer) => {
            Redirect::to(&format!("/console/customers/{}", customer.id)).into_response()
        }
        Err(refused @ ApiError::BadRequest(_)) => new_page(&signed, &headers, Some(&refused)),
        Err(e) => super::job::answer(Err(e), &signed, &headers),
    }
}
