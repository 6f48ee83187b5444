//! `GET /api/v1/me`: who the token belongs to, and for a technician the URL of the index
//! document listing their jobs (what a tablet opens first).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use sync_protocol::DocumentId;

use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;
use crate::jobs::index_document_for;
use crate::state::AppState;

#[derive(Debug, Serialize)]
pub struct Me {
    #[serde(flatten)]
    caller: Caller,
    #[serde(skip_serializing_if = "Option::is_none")]
    index_document_url: Option<String>,
}

pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let index_document_url = if caller.role == Role::Technician {
        let id = index_document_for(&state, &caller).await?;
        Some(DocumentId::from_uuid(id).to_url())
    } else {
        None
    };
    Ok(Json(Me {
        caller,
        index_document_url,
    }))
}
