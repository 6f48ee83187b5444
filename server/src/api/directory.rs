//! Staff, device tokens and customers: `/api/v1/staff`, `/api/v1/tokens`, `/api/v1/customers`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::json::AppJson;
use super::json::{Path, Query};
use crate::auth::{Caller, DeviceToken};
use crate::directory::{Customer, NewCustomer, NewStaff, Role, Staff, TierScheme};
use crate::error::ApiError;
use crate::state::AppState;

const MAX_NAME: usize = 200;

fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::BadRequest(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(ApiError::BadRequest(format!(
            "{field} may be at most {max} characters"
        )));
    }
    Ok(())
}

pub async fn create_staff(
    State(state): State<AppState>,
    caller: Caller,
    AppJson(request): AppJson<NewStaff>,
) -> Result<(StatusCode, AppJson<Staff>), ApiError> {
    caller.require(&[Role::Admin])?;
    check_text("name", &request.name, MAX_NAME)?;
    let staff = Staff::create(&state.db, caller.organisation_id, &request).await?;
    Ok((StatusCode::CREATED, AppJson(staff)))
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
    caller.require(&[Role::Admin])?;
    check_text("device_name", &request.device_name, MAX_NAME)?;
    let member = Staff::list(&state.db, caller.organisation_id)
        .await?
        .into_iter()
        .find(|s| s.id == staff_id)
        .ok_or(ApiError::NotFound)?;
    let issued = DeviceToken::issue(&state.db, member.id, &request.device_name).await?;
    Ok((
        StatusCode::CREATED,
        AppJson(TokenIssued {
            id: issued.id,
            staff_id: member.id,
            device_name: request.device_name,
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
    caller.require(&[Role::Admin, Role::Dispatcher])?;
    if request.tier.is_some() {
        return Err(ApiError::BadRequest(
            "leave `tier` out: a customer's tier follows from their completed jobs and payments \
             in the period (POST /api/v1/tiers/recompute), never from a person; a new customer \
             starts at the lowest tier"
                .into(),
        ));
    }
    check_text("name", &request.name, MAX_NAME)?;
    check_text("address", &request.address, 500)?;
    if let Some(phone) = &request.phone {
        check_text("phone", phone, 50)?;
    }
    let scheme = TierScheme::of(&state.db, caller.organisation_id).await?;
    let new = NewCustomer {
        name: request.name,
        phone: request.phone,
        address: request.address,
        tier: scheme.lowest(),
    };
    let customer = Customer::create(&state.db, caller.organisation_id, &new).await?;
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
    caller.require(&[Role::Admin, Role::Dispatcher, Role::Revisit])?;
    let limit = page.limit.unwrap_or(1000).clamp(1, 1000);
    if let Some(after) = page.after
        && Customer::find(&state.db, caller.organisation_id, after)
            .await?
            .is_none()
    {
        return Err(ApiError::BadRequest(
            "`after` must be the id of a customer of the previous page".into(),
        ));
    }
    let customers = Customer::list(&state.db, caller.organisation_id, page.after, limit).await?;
    Ok(super::json::page(
        customers,
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
    caller.require(&[Role::Admin, Role::Dispatcher, Role::Revisit])?;
    Customer::find(&state.db, caller.organisation_id, id)
        .await?
        .map(AppJson)
        .ok_or(ApiError::NotFound)
}
