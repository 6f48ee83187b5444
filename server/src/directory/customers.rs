//! The office's operations on customers, for every door (JSON API, console): who may list,
//! find, search and add them. Tiers are never set by a person (DOMAIN: 客户分类管理): a new
//! customer starts at the lowest tier of the organisation's scheme.

use uuid::Uuid;

use super::{Customer, NewCustomer, Role, TierScheme};
use crate::auth::Caller;
use crate::error::ApiError;

/// Who reads the customer list (with phone numbers).
pub const READERS: [Role; 3] = [Role::Admin, Role::Dispatcher, Role::Revisit];
/// Who adds customers.
pub const WRITERS: [Role; 2] = [Role::Admin, Role::Dispatcher];

const MAX_NAME: usize = 200;
const MAX_ADDRESS: usize = 500;
const MAX_PHONE: usize = 50;

/// A field of a form or request: not blank, not longer than `max` characters.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.trim().is_empty() {
        return Err(ApiError::BadRequest(format!("{field} must not be empty")));
    }
    if value.chars().count() > max {
        return Err(ApiError::BadRequest(format!(
            "{field} may be at most {max} characters"
        )));
    }
    if !one_line(value) {
        return Err(ApiError::BadRequest(format!(
            "{field} must be one line of plain text, without control characters"
        )));
    }
    Ok(())
}

/// One line of plain text: no line breaks (control characters, or the line and paragraph
/// separators), terminal escapes or direction marks and overrides, which would make a name or
/// an address show as something else on a screen, in a CSV or a log.
pub fn one_line(value: &str) -> bool {
    !value.chars().any(|c| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}'
                    | '\u{2029}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{061c}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
            )
    })
}

/// A customer to add: who and where.
#[derive(Debug, Clone)]
pub struct CustomerDetails {
    pub name: String,
    pub phone: Option<String>,
    pub address: String,
}

pub async fn add(
    db: &sqlx::PgPool,
    caller: &Caller,
    details: CustomerDetails,
) -> Result<Customer, ApiError> {
    caller.require(&WRITERS)?;
    check_text("name", &details.name, MAX_NAME)?;
    check_text("address", &details.address, MAX_ADDRESS)?;
    if let Some(phone) = &details.phone {
        check_text("phone", phone, MAX_PHONE)?;
    }
    let scheme = TierScheme::of(db, caller.organisation_id).await?;
    let new = NewCustomer {
        name: details.name.trim().to_owned(),
        phone: details.phone.map(|p| p.trim().to_owned()),
        address: details.address.trim().to_owned(),
        tier: scheme.lowest(),
    };
    Ok(Customer::create(db, caller.organisation_id, &new).await?)
}

/// Customer `id` of the caller's organisation.
pub async fn find(db: &sqlx::PgPool, caller: &Caller, id: Uuid) -> Result<Customer, ApiError> {
    caller.require(&READERS)?;
    Customer::find(db, caller.organisation_id, id)
        .await?
        .ok_or(ApiError::NotFound)
}

/// A page of the organisation's customers in the order they were added.
pub async fn page(
    db: &sqlx::PgPool,
    caller: &Caller,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Customer>, ApiError> {
    caller.require(&READERS)?;
    if let Some(after) = after
        && Customer::find(db, caller.organisation_id, after)
            .await?
            .is_none()
    {
        return Err(ApiError::BadRequest(
            "`after` must be the id of a customer of the previous page".into(),
        ));
    }
    Ok(Customer::list(db, caller.organisation_id, after, limit).await?)
}

/// Up to `limit` customers whose name, phone or address contains `words` (all customers, by
/// name, when `words` is blank).
pub async fn search(
    db: &sqlx::PgPool,
    caller: &Caller,
    words: &str,
    limit: i64,
) -> Result<Vec<Customer>, ApiError> {
    caller.require(&READERS)?;
    let words = words.trim();
    // LIKE's own characters are matched as themselves.
    let pattern = format!(
        "%{}%",
        words
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Ok(sqlx::query_as(
        r#"select id, organisation_id, name, phone, address, tier from customers
           where organisation_id = $1
             and ($2 = '' or name ilike $3 or coalesce(phone, '') ilike $3 or address ilike $3)
           order by name, id limit $4"#,
    )
    .bind(caller.organisation_id)
    .bind(words)
    .bind(pattern)
    .bind(limit)
    .fetch_all(db)
    .await?)
}
