//! Staff, device tokens and customers: `/api/v1/staff`, `/api/v1/tokens`, `/api/v1/customers`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::json::AppJson;
use super::json::{Path, Query};
use crate::auth::{Caller, DeviceToken};
use crate::directory::customers::{self, CustomerDetails};
use crate::directory::people;
use crate::directory::{Customer, Role, Staff};
use crate::error::ApiError;
use crate::state::AppState;

/// A member to add: an office member (not a technician) needs the e-mail they sign in with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    name: String,
    role: Role,
    #[serde(default)]
    email: Option<String>,
}

/// The member added; an office member's one-time link to set their password (open it on the
/// server's address), shown this once.
#[derive(Debug, Serialize)]
pub struct MemberAdded {
    #[serde(flatten)]
    staff: Staff,
    email: Option<String>,
    invitation_path: Option<String>,
}

/// `POST /api/v1/staff`: the same operation as the console's "add member" (`people::add`).
pub async fn create_staff(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(request): AppJson<NewMember>,
) -> Result<(StatusCode, AppJson<MemberAdded>), ApiError> {
    let (staff, token) = people::add(
        &state.db,
        &caller,
        &request.name,
        request.role,
        request.email.as_deref(),
    )
    .await?;
    let email = request
        .email
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    Ok((
        StatusCode::CREATED,
        AppJson(MemberAdded {
            staff,
            email,
            invitation_path: token.map(|t| format!("/console/invitation/{t}")),
        }),
    ))
}

pub async fn list_staff(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<AppJson<Vec<Staff>>, ApiError> {
    caller.require(&[Role::Admin, Role::Dispatcher])?;
    Ok(AppJson(
        Staff::list(&state.db, caller.organisation_id).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    device_name: String,
}

/// A token as issued: the only time its text is shown.
#[derive(Debug, Serialize)]
pub struct TokenIssued {
    id: Uuid,
    staff_id: Uuid,
    device_name: String,
    token: String,
}

pub async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(staff_id): Path<Uuid>,
    AppJson(request): AppJson<NewToken>,
) -> Result<(StatusCode, AppJson<TokenIssued>), ApiError> {
    let issued =
        people::issue_device_token(&state.db, &caller, staff_id, &request.device_name).await?;
    Ok((
        StatusCode::CREATED,
        AppJson(TokenIssued {
            id: issued.id,
            staff_id: issued.staff_id,
            device_name: request.device_name.trim().to_owned(),
            token: issued.token,
        }),
    ))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(token_id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    DeviceToken::revoke_in_organisation(&state.db, &caller, token_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new customer: who and where. No tier: tiers follow from the period's data, never from a
/// person (DOMAIN: 客户分类管理); a new customer starts at the lowest tier of the organisation's
/// scheme until the next recomputation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRequest {
    name: String,
    phone: Option<String>,
    address: String,
    /// Present only to be refused with the reason.
    tier: Option<serde_json::Value>,
}

pub async fn create_customer(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(request): AppJson<CustomerRequest>,
) -> Result<(StatusCode, AppJson<Customer>), ApiError> {
    caller.require(&customers::WRITERS)?;
    if request.tier.is_some() {
        return Err(ApiError::BadRequest(
            "leave `tier` out: a customer's tier follows from their completed jobs and payments \
             in the period (POST /api/v1/tiers/recompute), never from a person; a new customer \
             starts at the lowest tier"
                .into(),
        ));
    }
    let details = CustomerDetails {
        name: request.name,
        phone: request.phone,
        address: request.address,
    };
    let customer = customers::add(&state.db, &caller, details).await?;
    Ok((StatusCode::CREATED, AppJson(customer)))
}

/// `?limit=` (1 to 1000, default 1000) and `?after=` (the last customer of the previous page).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerPage {
    limit: Option<i64>,
    after: Option<Uuid>,
}

pub async fn list_customers(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<CustomerPage>,
) -> Result<Response, ApiError> {
    let limit = page.limit.unwrap_or(1000).clamp(1, 1000);
    let listed = customers::page(&state.db, &caller, page.after, limit).await?;
    Ok(super::json::page(
        listed,
        limit,
        |c| c.id,
        |last| format!("/api/v1/customers?limit={limit}&after={last}"),
    ))
}

pub async fn show_customer(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<Uuid>,
) -> Result<AppJson<Customer>, ApiError> {
    Ok(AppJson(customers::find(&state.db, &caller, id).await?))
}
