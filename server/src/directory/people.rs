//! The admin's operations on the organisation's people, for every door (JSON API, console):
//! the staff list, adding a member (an office member gets a one-time link to set a password),
//! changing a role, disabling (which ends their sessions and stops their tablets' tokens at
//! once), and each technician's device tokens: issued, listed, revoked.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::customers::check_text;
use super::{NewStaff, Role, Staff};
use crate::auth::invitation;
use crate::auth::{Caller, DeviceToken, IssuedToken};
use crate::error::ApiError;

const MAX_NAME: usize = 200;
const MAX_EMAIL: usize = 320;

/// A member as the admin's list shows them.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Member {
    pub id: Uuid,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub email: Option<String>,
    pub has_password: bool,
    pub disabled_at: Option<DateTime<Utc>>,
}

/// One device token of a member (never its text, which is shown only when issued).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Device {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub device_name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Everyone of the organisation, active first, then in the order they were added.
pub async fn members(db: &sqlx::PgPool, caller: &Caller) -> Result<Vec<Member>, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok(sqlx::query_as(
        r#"select s.id, s.name, s.role, s.email, s.disabled_at,
                  exists (select 1 from staff_passwords p where p.staff_id = s.id) as has_password
           from staff s where s.organisation_id = $1
           order by s.disabled_at is not null, s.created_at, s.id"#,
    )
    .bind(caller.organisation_id)
    .fetch_all(db)
    .await?)
}

/// Adds a member. An office member (not a technician) needs an e-mail to sign in with and gets
/// a one-time link's token to set their password; a technician gets device tokens instead.
pub async fn add(
    db: &sqlx::PgPool,
    caller: &Caller,
    name: &str,
    role: Role,
    email: Option<&str>,
) -> Result<(Staff, Option<String>), ApiError> {
    caller.require(&[Role::Admin])?;
    check_text("name", name, MAX_NAME)?;
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(email) = email
        && (!email.contains('@') || email.chars().count() > MAX_EMAIL)
    {
        return Err(ApiError::BadRequest(
            "email must be an e-mail address".into(),
        ));
    }
    let office = role != Role::Technician;
    if office && email.is_none() {
        return Err(ApiError::BadRequest(
            "an office member needs an e-mail to sign in with".into(),
        ));
    }
    let mut tx = db.begin().await?;
    let new = NewStaff {
        name: name.trim().to_owned(),
        role,
    };
    let member = Staff::create(&mut *tx, caller.organisation_id, &new).await?;
    if let Some(email) = email {
        let taken = sqlx::query("update staff set email = $2 where id = $1")
            .bind(member.id)
            .bind(email)
            .execute(&mut *tx)
            .await;
        if let Err(sqlx::Error::Database(e)) = &taken
            && e.is_unique_violation()
        {
            return Err(ApiError::Conflict(
                "this e-mail cannot be used for a new member; choose another".into(),
            ));
        }
        taken?;
    }
    let link = if office {
        Some(invitation::invite(&mut *tx, member.id).await?)
    } else {
        None
    };
    tx.commit().await?;
    Ok((member, link))
}

/// Member `id` of the caller's organisation, for an admin.
async fn member(db: &sqlx::PgPool, caller: &Caller, id: Uuid) -> Result<Member, ApiError> {
    members(db, caller)
        .await?
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(ApiError::NotFound)
}

/// A new one-time link for office member `id` (a forgotten password, an expired link).
pub async fn invite_again(
    db: &sqlx::PgPool,
    caller: &Caller,
    id: Uuid,
) -> Result<String, ApiError> {
    let found = member(db, caller, id).await?;
    if found.role == Role::Technician || found.disabled_at.is_some() {
        return Err(ApiError::Conflict(
            "only an active office member signs in with a password".into(),
        ));
    }
    Ok(invitation::invite(db, id).await?)
}

/// Gives member `id` another role. An admin does not change their own (the organisation could
/// be left without one).
pub async fn set_role(
    db: &sqlx::PgPool,
    caller: &Caller,
    id: Uuid,
    role: Role,
) -> Result<(), ApiError> {
    let found = member(db, caller, id).await?;
    if id == caller.staff_id {
        return Err(ApiError::Conflict(
            "you cannot change your own role; ask another admin".into(),
        ));
    }
    if found.disabled_at.is_some() {
        return Err(ApiError::Conflict("this member is disabled".into()));
    }
    if (role == Role::Technician) != (found.role == Role::Technician) {
        return Err(ApiError::Conflict(
            "a technician works on tablets and office staff in the console: add the person \
             again with the other role"
                .into(),
        ));
    }
    sqlx::query("update staff set role = $2 where id = $1")
        .bind(id)
        .bind(role.as_str())
        .execute(db)
        .await?;
    Ok(())
}

/// Disables member `id`: their console sessions and device tokens stop working at once (both
/// check that the member is active), their history stays. An admin does not disable themself.
pub async fn disable(db: &sqlx::PgPool, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    member(db, caller, id).await?;
    if id == caller.staff_id {
        return Err(ApiError::Conflict(
            "you cannot disable yourself; ask another admin".into(),
        ));
    }
    let mut tx = db.begin().await?;
    sqlx::query("update staff set disabled_at = coalesce(disabled_at, now()) where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "update console_sessions set ended_at = now() where staff_id = $1 and ended_at is null",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Lets a disabled member sign in and sync again (their device tokens that were not revoked
/// work again; their console sessions stay ended). Enabling an active member changes nothing.
pub async fn enable(db: &sqlx::PgPool, caller: &Caller, id: Uuid) -> Result<(), ApiError> {
    member(db, caller, id).await?;
    sqlx::query("update staff set disabled_at = null where id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The device tokens of the organisation's members, newest first.
pub async fn devices(db: &sqlx::PgPool, caller: &Caller) -> Result<Vec<Device>, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok(sqlx::query_as(
        r#"select t.id, t.staff_id, t.device_name, t.created_at, t.last_used_at, t.revoked_at
           from device_tokens t join staff s on s.id = t.staff_id
           where s.organisation_id = $1
           order by t.revoked_at is not null, t.created_at desc"#,
    )
    .bind(caller.organisation_id)
    .fetch_all(db)
    .await?)
}

/// Issues a device token for member `id`, named after the device; its text is in the answer
/// and nowhere else.
pub async fn issue_device_token(
    db: &sqlx::PgPool,
    caller: &Caller,
    id: Uuid,
    device_name: &str,
) -> Result<IssuedToken, ApiError> {
    check_text("device_name", device_name, MAX_NAME)?;
    let found = member(db, caller, id).await?;
    if found.disabled_at.is_some() {
        return Err(ApiError::Conflict("this member is disabled".into()));
    }
    Ok(DeviceToken::issue(db, found.id, device_name.trim()).await?)
}
