//! The frame of every console page: language, title, navigation by role, sign-out.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use super::Signed;
use super::i18n::{Lang, Text};
use crate::auth::session::SessionCaller;
use crate::directory::Role;
use crate::error::ApiError;

/// Which page is shown, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Here {
    SignIn,
    Board,
    Job,
    Customers,
    Revisits,
    Analysis,
    Admin,
}

/// A refusal of the operation a form asked for, in the operation's words, where it was asked.
pub fn refusal(lang: Lang, problem: Option<&ApiError>) -> Markup {
    html! {
        @if let Some(problem) = problem {
            p.problem role="alert" { (lang.t(Text::Refused)) (super::i18n::refusal(lang, &problem.to_string())) }
        }
    }
}

/// A page that says only `message` (not found, not for your role), with `status`.
pub fn problem_page(signed: &Signed, lang: Lang, status: StatusCode, message: &str) -> Response {
    let main = html! { p.problem role="alert" { (message) } };
    (
        status,
        Html(frame(lang, Here::Job, lang.t(Text::Title), Some(&signed.0), main).into_string()),
    )
        .into_response()
}

/// A whole page around `main`.
pub fn frame(
    lang: Lang,
    here: Here,
    title: &str,
    signed: Option<&SessionCaller>,
    main: Markup,
) -> Markup {
    let back = match here {
        Here::SignIn => "/console/sign-in",
        Here::Board | Here::Job => "/console/board",
        Here::Customers => "/console/customers",
        Here::Revisits => "/console/revisits",
        Here::Analysis => "/console/analysis",
        Here::Admin => "/console/admin",
    };
    let other = if lang == Lang::Zh { "en" } else { "zh" };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · " (lang.t(Text::Title)) }
                link rel="stylesheet" href="/console/assets/console.css";
                @if signed.is_some() && here != Here::SignIn {
                    script src="/console/assets/console.js" defer {}
                }
            }
            body {
                header.top {
                    span.brand { (lang.t(Text::Title)) }
                    @if let Some(signed) = signed {
                        nav aria-label=(lang.t(Text::Title)) {
                            @if matches!(signed.caller.role, Role::Dispatcher | Role::Admin) {
                                a href="/console/board" aria-current=[(here == Here::Board).then_some("page")] {
                                    (lang.t(Text::Board))
                                }
                            }
                            a href="/console/customers" aria-current=[(here == Here::Customers).then_some("page")] {
                                (lang.t(Text::Customers))
                            }
                            a href="/console/revisits" aria-current=[(here == Here::Revisits).then_some("page")] {
                                (lang.t(Text::Revisits))
                            }
                            a href="/console/analysis" aria-current=[(here == Here::Analysis).then_some("page")] {
                                (lang.t(Text::Analysis))
                            }
                            @if signed.caller.role == Role::Admin {
                                a href="/console/admin" aria-current=[(here == Here::Admin).then_some("page")] {
                                    (lang.t(Text::Admin))
                                }
                            }
                        }
                    }
                    div.account {
                        a.lang href={ "/console/language?to=" (other) "&back=" (back) } { (lang.t(Text::Language)) }
                        @if let Some(signed) = signed {
                            span.who { (signed.caller.name) }
                            form method="post" action="/console/sign-out" {
                                input type="hidden" name="csrf" value=(signed.csrf_token);
                                button type="submit" { (lang.t(Text::SignOut)) }
                            }
                        }
                    }
                }
                main id="main" data-live[signed.is_some() && here != Here::SignIn] { (main) }
            }
        }
    }
}
