//! A new organisation with its first admin, for the operator (`fieldsync-server admin
//! create-organisation`): the only way in outside dev mode, since everything else needs an admin.

use uuid::Uuid;

use super::{NewStaff, Organisation, Role, Staff};
use crate::auth::invitation;
use crate::error::ApiError;

/// What was made: the organisation, its admin, and the admin's one-time invitation token.
#[derive(Debug)]
pub struct Bootstrapped {
    pub organisation_id: Uuid,
    pub admin_id: Uuid,
    pub invitation: String,
}

/// Creates organisation `name` with admin `admin` (who signs in with `email`), in one
/// transaction.
pub async fn create_organisation(
    db: &sqlx::PgPool,
    name: &str,
    admin: &str,
    email: &str,
) -> Result<Bootstrapped, ApiError> {
    for (field, value) in [("name", name), ("admin", admin)] {
        if value.trim().is_empty() || value.chars().count() > 200 {
            return Err(ApiError::BadRequest(format!(
                "{field} must have 1 to 200 characters"
            )));
        }
    }
    if !email.contains('@') || email.chars().count() > 320 {
        return Err(ApiError::BadRequest(
            "email must be an e-mail address".into(),
        ));
    }
    let mut tx = db.begin().await?;
    let organisation = Organisation::create(&mut *tx, name.trim()).await?;
    let new = NewStaff {
        name: admin.trim().to_owned(),
        role: Role::Admin,
    };
    let member = Staff::create(&mut *tx, organisation.id, &new).await?;
    let taken = sqlx::query("update staff set email = $2 where id = $1")
        .bind(member.id)
        .bind(email.trim())
        .execute(&mut *tx)
        .await;
    if let Err(sqlx::Error::Database(e)) = &taken
        && e.is_unique_violation()
    {
        return Err(ApiError::Conflict(format!(
            "the e-mail {email} belongs to another staff member already"
        )));
    }
    taken?;
    let invitation = invitation::invite(&mut *tx, member.id).await?;
    tx.commit().await?;
    Ok(Bootstrapped {
        organisation_id: organisation.id,
        admin_id: member.id,
        invitation,
    })
}
