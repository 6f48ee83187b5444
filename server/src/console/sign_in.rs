//! Signing in and out. The sign-in form is protected against cross-site posts by a
//! double-submitted token (a cookie and a hidden field that must match); signed-in forms carry
//! the session's own token.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::i18n::{Lang, Text};
use super::layout::{Here, frame};
use super::{SESSION_COOKIE, Signed, cookie, set_cookie};
use crate::auth::random_text;
use crate::auth::session;
use crate::error::ApiError;
use crate::state::AppState;

/// The cookie holding the sign-in form's token.
pub(super) const FORM_COOKIE: &str = "fs_form";

pub async fn page_with(headers: &HeaderMap, status: StatusCode, problem: Option<Text>) -> Response {
    let lang = Lang::of(headers);
    let form_token = random_text(24);
    let body = html! {
        section.sign-in {
            h1 { (lang.t(Text::SignIn)) }
            @if let Some(problem) = problem {
                p.problem role="alert" { (lang.t(problem)) }
            }
            form method="post" action="/console/sign-in" {
                input type="hidden" name="csrf" value=(form_token);
                label for="login" { (lang.t(Text::Login)) }
                input id="login" name="login" type="text" autocomplete="username" required autofocus;
                label for="password" { (lang.t(Text::Password)) }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                button type="submit" { (lang.t(Text::SignIn)) }
            }
        }
    };
    let markup = frame(lang, Here::SignIn, lang.t(Text::SignIn), None, body);
    (
        status,
        [(
            header::SET_COOKIE,
            set_cookie(headers, FORM_COOKIE, &form_token, Some(3600)),
        )],
        Html(markup.into_string()),
    )
        .into_response()
}

pub async fn page(headers: HeaderMap) -> Response {
    page_with(&headers, StatusCode::OK, None).await
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    csrf: String,
    login: String,
    password: String,
}

pub async fn submit(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if cookie(&headers, FORM_COOKIE).as_deref() != Some(form.csrf.as_str()) || form.csrf.is_empty()
    {
        return page_with(&headers, StatusCode::FORBIDDEN, Some(Text::FormExpired)).await;
    }
    let signed = session::sign_in(
        &app.db,
        &app.sign_in,
        &form.login,
        &form.password,
        &peer.ip().to_string(),
    )
    .await;
    match signed {
        Ok(signed) => (
            [(
                header::SET_COOKIE,
                set_cookie(
                    &headers,
                    SESSION_COOKIE,
                    &signed.token,
                    Some(session::ABSOLUTE.as_secs()),
                ),
            )],
            Redirect::to("/console"),
        )
            .into_response(),
        Err(ApiError::Unauthenticated) => {
            page_with(
                &headers,
                StatusCode::UNAUTHORIZED,
                Some(Text::WrongPassword),
            )
            .await
        }
        Err(ApiError::TooManyRequests(_)) => {
            page_with(
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                Some(Text::TooManyAttempts),
            )
            .await
        }
        Err(other) => other.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    csrf: String,
}

pub async fn sign_out(
    State(app): State<AppState>,
    signed: Signed,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    if form.csrf != signed.0.csrf_token {
        return ApiError::Forbidden("the form expired; reload the page and try again".into())
            .into_response();
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = session::end(&app.db, &token).await
    {
        return e.into_response();
    }
    (
        [(
            header::SET_COOKIE,
            set_cookie(&headers, SESSION_COOKIE, "", Some(0)),
        )],
        Redirect::to("/console/sign-in"),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct LanguageQuery {
    to: String,
    back: Option<String>,
}

/// The language switch: a cookie, then back to the page (console pages only).
pub async fn language(headers: HeaderMap, Query(query): Query<LanguageQuery>) -> Response {
    let lang = if query.to == "en" { "en" } else { "zh" };
    let back = query
        .back
        .filter(|b| b.starts_with("/console/") && !b.contains("//"))
        .unwrap_or_else(|| "/console".to_owned());
    (
        [(
            header::SET_COOKIE,
            set_cookie(&headers, "lang", lang, Some(365 * 24 * 3600)),
        )],
        Redirect::to(&back),
    )
        .into_response()
}
