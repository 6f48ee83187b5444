//! Staff members and their roles.

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::UnknownValue;

/// What a staff member does, and so what they may see and change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Dispatcher,
    Technician,
    Revisit,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Admin,
        Role::Dispatcher,
        Role::Technician,
        Role::Revisit,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Dispatcher => "dispatcher",
            Role::Technician => "technician",
            Role::Revisit => "revisit",
        }
    }
}

impl TryFrom<String> for Role {
    type Error = UnknownValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == value)
            .ok_or(UnknownValue {
                kind: "role",
                value,
            })
    }
}

/// A staff member of one organisation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Staff {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// What it takes to add a staff member.
#[derive(Debug, Clone, Deserialize)]
pub struct NewStaff {
    pub name: String,
    pub role: Role,
}

impl Staff {
    pub async fn create(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
        new: &NewStaff,
    ) -> Result<Self, sqlx::Error> {
        sqlx::query_as(
            r#"insert into staff (id, organisation_id, name, role) values ($1, $2, $3, $4)
               returning id, organisation_id, name, role"#,
        )
        .bind(Uuid::new_v4())
        .bind(organisation_id)
        .bind(&new.name)
        .bind(new.role.as_str())
        .fetch_one(db)
        .await
    }

    /// Everyone who ever worked for the organisation (disabled too), by id: for screens that
    /// name who did what.
    pub async fn names(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
    ) -> Result<std::collections::HashMap<Uuid, String>, sqlx::Error> {
        let rows: Vec<(Uuid, String)> =
            sqlx::query_as("select id, name from staff where organisation_id = $1")
                .bind(organisation_id)
                .fetch_all(db)
                .await?;
        Ok(rows.into_iter().collect())
    }

    /// The organisation's active technicians, in the order they were added.
    pub async fn technicians(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
    ) -> Result<Vec<Self>, sqlx::Error> {
        Ok(Self::list(db, organisation_id)
            .await?
            .into_iter()
            .filter(|s| s.role == Role::Technician)
            .collect())
    }

    /// The organisation's active staff, in the order they were added.
    pub async fn list(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
    ) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(
            r#"select id, organisation_id, name, role from staff
               where organisation_id = $1 and disabled_at is null
               order by created_at, id"#,
        )
        .bind(organisation_id)
        .fetch_all(db)
        .await
    }
}
