//! `/console/invitation/{token}`: a one-time link's page, where a new office member sets their
//! password, then signs in. Asks `auth::invitation`, like every other door would.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::i18n::{Lang, Text};
use super::layout::{Here, frame};
use super::sign_in::FORM_COOKIE;
use super::{cookie, set_cookie};
use crate::auth::{invitation, random_text};
use crate::error::ApiError;
use crate::state::AppState;

fn form(headers: &HeaderMap, token: &str, status: StatusCode, problem: Option<Text>) -> Response {
    let lang = Lang::of(headers);
    let form_token = random_text(24);
    let body = html! {
        section.sign-in {
            h1 { (lang.t(Text::SetPassword)) }
            @if let Some(problem) = problem {
                p.problem role="alert" { (lang.t(problem)) }
            }
            form method="post" action={ "/console/invitation/" (token) } {
                input type="hidden" name="csrf" value=(form_token);
                label for="password" { (lang.t(Text::NewPassword)) }
                input id="password" name="password" type="password" autocomplete="new-password"
                    minlength="10" maxlength="200" required aria-describedby="rule";
                p id="rule" { (lang.t(Text::PasswordRule)) }
                button type="submit" { (lang.t(Text::SetPassword)) }
            }
        }
    };
    let page = frame(lang, Here::SignIn, lang.t(Text::SetPassword), None, body);
    (
        status,
        [(
            header::SET_COOKIE,
            set_cookie(headers, FORM_COOKIE, &form_token, Some(3600)),
        )],
        Html(page.into_string()),
    )
        .into_response()
}

fn gone(headers: &HeaderMap) -> Response {
    let lang = Lang::of(headers);
    let body = html! { p.problem role="alert" { (lang.t(Text::LinkUsed)) } };
    let page = frame(lang, Here::SignIn, lang.t(Text::SetPassword), None, body);
    (StatusCode::GONE, Html(page.into_string())).into_response()
}

pub async fn page(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    match invitation::is_usable(&app.db, &token).await {
        Ok(true) => form(&headers, &token, StatusCode::OK, None),
        Ok(false) => gone(&headers),
        Err(e) => e.into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct SetPasswordForm {
    csrf: String,
    password: String,
}

pub async fn submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(submitted): Form<SetPasswordForm>,
) -> Response {
    if submitted.csrf.is_empty()
        || cookie(&headers, FORM_COOKIE).as_deref() != Some(submitted.csrf.as_str())
    {
        return form(
            &headers,
            &token,
            StatusCode::FORBIDDEN,
            Some(Text::FormExpired),
        );
    }
    match invitation::accept(&app.db, &token, &submitted.password).await {
        Ok(_) => super::sign_in::page_with(&headers, StatusCode::OK, Some(Text::PasswordSet)).await,
        Err(ApiError::BadRequest(_)) => form(
            &headers,
            &token,
            StatusCode::BAD_REQUEST,
            Some(Text::PasswordRule),
        ),
        Err(ApiError::Gone(_)) => gone(&headers),
        Err(e) => e.into_response(),
    }
}
