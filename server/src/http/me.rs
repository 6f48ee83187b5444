//! `GET /api/v1/me`: who the token belongs to. Tablets and scripts use it to check a token.

use axum::Json;

use crate::auth::Caller;

pub async fn me(caller: Caller) -> Json<Caller> {
    Json(caller)
}
