//! Customers and their tier (客户分类), which drives the revisit policy.

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::UnknownValue;

/// The customer's class, derived from objective data of the statistical period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// 大客户: also gets scheduled revisits.
    Key,
    /// 一般客户
    Regular,
    /// 潜在客户
    Prospect,
}

impl Tier {
    pub fn as_str(&self) -> &'static str {
        match self {
            Tier::Key => "key",
            Tier::Regular => "regular",
            Tier::Prospect => "prospect",
        }
    }
}

impl TryFrom<String> for Tier {
    type Error = UnknownValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        [Tier::Key, Tier::Regular, Tier::Prospect]
            .into_iter()
            .find(|tier| tier.as_str() == value)
            .ok_or(UnknownValue {
                kind: "tier",
                value,
            })
    }
}

/// A customer of one organisation.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Customer {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub phone: Option<String>,
    pub address: String,
    #[sqlx(try_from = "String")]
    pub tier: Tier,
}

/// What it takes to add a customer.
#[derive(Debug, Clone, Deserialize)]
pub struct NewCustomer {
    pub name: String,
    pub phone: Option<String>,
    pub address: String,
    pub tier: Tier,
}

impl Customer {
    pub async fn create(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
        new: &NewCustomer,
    ) -> Result<Self, sqlx::Error> {
        sqlx::query_as(
            r#"insert into customers (id, organisation_id, name, phone, address, tier)
               values ($1, $2, $3, $4, $5, $6)
               returning id, organisation_id, name, phone, address, tier"#,
        )
        .bind(Uuid::new_v4())
        .bind(organisation_id)
        .bind(&new.name)
        .bind(&new.phone)
        .bind(&new.address)
        .bind(new.tier.as_str())
        .fetch_one(db)
        .await
    }

    /// The customer, if it exists in `organisation_id`.
    pub async fn find(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
        id: Uuid,
    ) -> Result<Option<Self>, sqlx::Error> {
        sqlx::query_as(
            r#"select id, organisation_id, name, phone, address, tier from customers
               where organisation_id = $1 and id = $2"#,
        )
        .bind(organisation_id)
        .bind(id)
        .fetch_optional(db)
        .await
    }

    pub async fn list(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
    ) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(
            r#"select id, organisation_id, name, phone, address, tier from customers
               where organisation_id = $1 order by created_at, id limit 1000"#,
        )
        .bind(organisation_id)
        .fetch_all(db)
        .await
    }
}
