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

    pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Self>, sqlx::Error> {
        sqlx::query_as("select id, name from organisations where id = $1")
            .bind(id)
            .fetch_optional(db)
            .await
    }
}
