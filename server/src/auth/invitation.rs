//! One-time links to set a console password: how a new office member (or an organisation's first
//! admin, made by `fieldsync-server admin create-organisation`) gets in. Single use, expiring,
//! stored only as a SHA-256.

use std::time::Duration;

use sqlx::PgExecutor;
use uuid::Uuid;

use super::{TokenHash, password, random_text};
use crate::error::ApiError;

/// How long an invitation stays usable.
pub const LIFETIME: Duration = Duration::from_secs(72 * 3600);

/// A new invitation for `staff`; the token, shown once (it goes into the link).
pub async fn invite(db: impl PgExecutor<'_>, staff: Uuid) -> Result<String, sqlx::Error> {
    let token = format!("fsi_{}", random_text(32));
    sqlx::query(
        r#"insert into staff_invitations (token_hash, staff_id, expires_at)
           values ($1, $2, now() + make_interval(secs => $3))"#,
    )
    .bind(TokenHash::of(&token).as_bytes())
    .bind(staff)
    .bind(LIFETIME.as_secs_f64())
    .execute(db)
    .await?;
    Ok(token)
}

/// Whether `token` is an invitation still usable (unused, unexpired, its member active).
pub async fn is_usable(db: &sqlx::PgPool, token: &str) -> Result<bool, ApiError> {
    Ok(sqlx::query_scalar(
        r#"select exists (select 1 from staff_invitations i join staff s on s.id = i.staff_id
                          where i.token_hash = $1 and i.used_at is null and i.expires_at > now()
                            and s.disabled_at is null)"#,
    )
    .bind(TokenHash::of(token).as_bytes())
    .fetch_one(db)
    .await?)
}

/// Sets the invited member's password and uses the invitation up, in one transaction; the
/// member. A used, expired or unknown invitation is `Gone`.
pub async fn accept(db: &sqlx::PgPool, token: &str, new_password: &str) -> Result<Uuid, ApiError> {
    let mut tx = db.begin().await?;
    let staff: Option<Uuid> = sqlx::query_scalar(
        r#"update staff_invitations i set used_at = now()
           from staff s
           where i.token_hash = $1 and i.used_at is null and i.expires_at > now()
             and s.id = i.staff_id and s.disabled_at is null
           returning i.staff_id"#,
    )
    .bind(TokenHash::of(token).as_bytes())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(staff) = staff else {
        return Err(ApiError::Gone(
            "this link was used already or has expired; ask an admin for a new one".into(),
        ));
    };
    password::set(&mut *tx, staff, new_password).await?;
    tx.commit().await?;
    Ok(staff)
}
