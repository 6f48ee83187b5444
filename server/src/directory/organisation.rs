//! Organisations: the tenants. Nothing crosses from one to another.

use serde::Serialize;
use sqlx::PgExecutor;
use uuid::Uuid;

/// A service company using Fieldsync.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
}

impl Organisation {
    pub async fn create(db: impl PgExecutor<'_>, name: &str) -> Result<Self, sqlx::Error> {
        sqlx::query_as("insert into organisations (id, name) values ($1, $2) returning id, name")
            .bind(Uuid::new_v4())
            .bind(name)
            .fetch_one(db)
            .await
    }

    /// The organisation's clock for its screens (`+08:00`), if it set one.
    pub async fn utc_offset(
        db: impl PgExecutor<'_>,
        id: Uuid,
    ) -> Result<Option<String>, sqlx::Error> {
        Ok(sqlx::query_scalar::<_, Option<String>>(
            "select utc_offset from organisations where id = $1",
        )
        .bind(id)
        .fetch_optional(db)
        .await?
        .flatten())
    }

    /// Sets the organisation's clock (`+08:00`), or clears it with blank `text` (the browser's
    /// clock is then used); admins only.
    pub async fn set_utc_offset(
        db: &sqlx::PgPool,
        caller: &crate::auth::Caller,
        text: &str,
    ) -> Result<(), crate::error::ApiError> {
        caller.require(&[super::Role::Admin])?;
        let text = text.trim();
        let value = if text.is_empty() {
            None
        } else {
            let offset = crate::jobs::view::parse_offset(text).ok_or_else(|| {
                crate::error::ApiError::BadRequest(
                    "the clock is an offset from UTC such as +08:00".into(),
                )
            })?;
            Some(offset.to_string())
        };
        sqlx::query("update organisations set utc_offset = $2 where id = $1")
            .bind(caller.organisation_id)
            .bind(value)
            .execute(db)
            .await?;
        Ok(())
    }

    pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Self>, sqlx::Error> {
        sqlx::query_as("select id, name from organisations where id = $1")
            .bind(id)
            .fetch_optional(db)
            .await
    }
}
