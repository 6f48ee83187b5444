//! The monthly analysis page: revisits done and on time, customers reached, problems not
//! solved (with their jobs), satisfaction given, suggestions collected, review flags by kind,
//! each technician's month; charts drawn here as SVG (revisits and average satisfaction per
//! week, overdue now); printable, and as CSV. Asks `revisits::analysis::monthly`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::Signed;
use super::clock::Clock;
use super::i18n::{self, Lang, Text};
use super::layout::{Here, frame};
use crate::error::ApiError;
use crate::revisits::analysis::{Month, Monthly, Week, monthly};
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct MonthQuery {
    month: Option<String>,
}

async fn read(
    app: &AppState,
    signed: &Signed,
    headers: &HeaderMap,
    query: &MonthQuery,
) -> Result<Monthly, ApiError> {
    let clock = Clock::of(app, &signed.0.caller, headers).await?;
    let month = match query.month.as_deref() {
        Some(text) => Month::parse(text, clock.offset)?,
        None => Month::of(chrono::Utc::now(), clock.offset),
    };
    monthly(&app.db, &signed.0.caller, month).await
}

/// A bar chart of `values` (one per week), `max` at full height, labelled below.
fn bars(
    title: &str,
    weeks: &[Week],
    value: impl Fn(&Week) -> Option<f64>,
    max: f64,
    unit: &str,
) -> Markup {
    let (width, height, left, bottom) = (520.0, 200.0, 36.0, 28.0);
    let slot = (width - left) / weeks.len().max(1) as f64;
    let plot = height - bottom - 12.0;
    let summary: Vec<String> = weeks
        .iter()
        .map(|w| {
            format!(
                "{}: {}",
                w.monday
                    .map(|m| m.format("%m-%d").to_string())
                    .unwrap_or_default(),
                value(w).map_or("—".to_owned(), |v| format!("{v:.1}{unit}"))
            )
        })
        .collect();
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (width) " " (height) } role="img" aria-label={ (title) ": " (summary.join("; ")) } {
                title { (title) }
                line x1=(left) y1=(height - bottom) x2=(width) y2=(height - bottom) stroke="#333" {}
                text x="2" y="16" font-size="12" fill="#333" { (format!("{max:.0}")) }
                text x="2" y=(height - bottom) font-size="12" fill="#333" { "0" }
                @for (i, week) in weeks.iter().enumerate() {
                    @let x = left + slot * i as f64 + slot * 0.15;
                    @if let Some(v) = value(week) {
                        @let h = if max > 0.0 { (v / max).min(1.0) * plot } else { 0.0 };
                        rect x=(format!("{x:.1}")) y=(format!("{:.1}", height - bottom - h)) width=(format!("{:.1}", slot * 0.7)) height=(format!("{h:.1}")) fill="#0b4f8a" {}
                        text x=(format!("{:.1}", x + slot * 0.35)) y=(format!("{:.1}", height - bottom - h - 4.0)) font-size="12" text-anchor="middle" fill="#111" { (format!("{v:.1}").trim_end_matches(".0")) }
                    }
                    text x=(format!("{:.1}", x + slot * 0.35)) y=(height - 8.0) font-size="12" text-anchor="middle" fill="#333" {
                        (week.monday.map(|m| m.format("%m-%d").to_string()).unwrap_or_default())
                    }
                }
            }
            figcaption { (title) }
        }
    }
}

pub async fn page(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<MonthQuery>,
) -> Response {
    let shown = async {
        let lang = Lang::of(&headers);
        let m = read(&app, &signed, &headers, &query).await?;
        let label = m.month.label();
        let rated: usize = m.satisfaction.iter().sum();
        let most_weekly = m.weeks.iter().map(|w| w.revisits).max().unwrap_or(0).max(1) as f64;
        let main = html! {
            div.board-head {
                h1 { (lang.t(Text::Analysis)) " " (label) }
                nav.days aria-label=(lang.t(Text::Analysis)) {
                    a href={ "/console/analysis?month=" (m.month.previous().label()) } { "← " (lang.t(Text::PreviousMonth)) }
                    a href={ "/console/analysis?month=" (m.month.next().label()) } { (lang.t(Text::NextMonth)) " →" }
                }
                a.download href={ "/console/analysis.csv?month=" (label) } download { (lang.t(Text::ExportAnalysisCsv)) }
            }
            dl.figures {
                div { dt { (lang.t(Text::RevisitsDone)) } dd { (m.revisits_done) } }
                div { dt { (lang.t(Text::OnTime)) } dd { (m.on_time) " / " (m.revisits_done) } }
                div { dt { (lang.t(Text::CustomersReached)) } dd { (m.customers_reached) } }
                div { dt { (lang.t(Text::NotSolved)) } dd { (m.not_solved.len()) } }
                div { dt { (lang.t(Text::OverdueNow)) } dd.warn { (m.overdue_now) } }
            }
            div.charts {
                (bars(lang.t(Text::RevisitsPerWeek), &m.weeks, |w| Some(w.revisits as f64), most_weekly, ""))
                (bars(lang.t(Text::SatisfactionPerWeek), &m.weeks, Week::average, 5.0, ""))
            }
            section aria-labelledby="satisfaction" {
                h2 id="satisfaction" { (lang.t(Text::Satisfaction)) }
                table.list {
                    thead { tr { @for score in 1..=5 { th scope="col" { (score) } } th scope="col" { (lang.t(Text::Total)) } } }
                    tbody { tr { @for n in m.satisfaction { td { (n) } } td { (rated) } } }
                }
            }
            section aria-labelledby="unsolved" {
                h2 id="unsolved" { (lang.t(Text::NotSolved)) }
                @if m.not_solved.is_empty() { p.empty { "—" } }
                ul {
                    @for o in &m.not_solved {
                        li {
                            a href=(super::job::link(o.job_id)) { (o.job_number.as_deref().unwrap_or("—")) }
                            " · " (o.customer.as_deref().unwrap_or("—")) " · " (o.technician.as_deref().unwrap_or("—"))
                        }
                    }
                }
            }
            section aria-labelledby="suggestions" {
                h2 id="suggestions" { (lang.t(Text::Suggestions)) }
                @if m.suggestions.is_empty() { p.empty { "—" } }
                ul {
                    @for o in &m.suggestions {
                        li { q { (o.suggestions.as_deref().unwrap_or_default()) } " — " (o.customer.as_deref().unwrap_or("—")) }
                    }
                }
            }
            section aria-labelledby="flags" {
                h2 id="flags" { (lang.t(Text::FlagsByKind)) }
                @if m.flags.is_empty() { p.empty { "—" } }
                table.list {
                    tbody {
                        @for (kind, n) in &m.flags {
                            tr { th scope="row" { (i18n::flag(lang, kind)) } td { (n) } }
                        }
                    }
                }
            }
            section aria-labelledby="technicians" {
                h2 id="technicians" { (lang.t(Text::ByTechnician)) }
                table.list {
                    thead { tr {
                        th scope="col" { (lang.t(Text::Technician)) }
                        th scope="col" { (lang.t(Text::Jobs)) }
                        th scope="col" { (lang.t(Text::CompletedJobs)) }
                        th scope="col" { (lang.t(Text::Review)) }
                        th scope="col" { (lang.t(Text::Satisfaction)) }
                    } }
                    tbody {
                        @for (name, t) in &m.technicians {
                            tr {
                                th scope="row" { (name) }
                                td { (t.jobs) }
                                td { (t.complete) }
                                td { (t.flags) }
                                td { @if t.rated > 0 { (format!("{:.1}", t.satisfaction_sum as f64 / t.rated as f64)) } @else { "—" } }
                            }
                        }
                    }
                }
            }
        };
        let title = lang.t(Text::Analysis);
        Ok(
            Html(frame(lang, Here::Analysis, title, Some(&signed.0), main).into_string())
                .into_response(),
        )
    };
    super::job::answer(shown.await, &signed, &headers)
}

/// The month's figures as CSV: one `section,item,value` line each.
pub async fn csv(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Query(query): Query<MonthQuery>,
) -> Response {
    let m = match read(&app, &signed, &headers, &query).await {
        Ok(m) => m,
        Err(e) => return super::job::answer(Err(e), &signed, &headers),
    };
    let mut rows: Vec<[String; 3]> = vec![
        ["month".into(), "month".into(), m.month.label()],
        [
            "revisits".into(),
            "done".into(),
            m.revisits_done.to_string(),
        ],
        ["revisits".into(), "on_time".into(), m.on_time.to_string()],
        [
            "revisits".into(),
            "customers_reached".into(),
            m.customers_reached.to_string(),
        ],
        [
            "revisits".into(),
            "not_solved".into(),
            m.not_solved.len().to_string(),
        ],
        [
            "revisits".into(),
            "overdue_now".into(),
            m.overdue_now.to_string(),
        ],
    ];
    for (i, n) in m.satisfaction.iter().enumerate() {
        rows.push(["satisfaction".into(), (i + 1).to_string(), n.to_string()]);
    }
    for o in &m.not_solved {
        rows.push([
            "not_solved".into(),
            o.job_number.clone().unwrap_or_default(),
            o.customer.clone().unwrap_or_default(),
        ]);
    }
    for o in &m.suggestions {
        rows.push([
            "suggestion".into(),
            o.customer.clone().unwrap_or_default(),
            o.suggestions.clone().unwrap_or_default(),
        ]);
    }
    for (kind, n) in &m.flags {
        rows.push(["review_flag".into(), kind.clone(), n.to_string()]);
    }
    for (name, t) in &m.technicians {
        rows.push(["technician_jobs".into(), name.clone(), t.jobs.to_string()]);
        rows.push([
            "technician_complete".into(),
            name.clone(),
            t.complete.to_string(),
        ]);
        rows.push(["technician_flags".into(), name.clone(), t.flags.to_string()]);
    }
    for w in &m.weeks {
        let monday = w.monday.map(|d| d.to_string()).unwrap_or_default();
        rows.push([
            "week_revisits".into(),
            monday.clone(),
            w.revisits.to_string(),
        ]);
        rows.push([
            "week_satisfaction".into(),
            monday,
            w.average().map(|a| format!("{a:.2}")).unwrap_or_default(),
        ]);
    }
    let mut text = String::from("section,item,value\n");
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| crate::revisits::archive::csv_cell(c))
            .collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"analysis-{}.csv\"", m.month.label()),
            ),
        ],
        super::for_spreadsheets(text),
    )
        .into_response()
}
