//! Customers and their tier (客户分类), which drives the revisit policy.

use serde::{Deserialize, Serialize};
use sqlx::PgExecutor;
use uuid::Uuid;

use super::UnknownValue;

/// The customer's class, derived from objective data of the statistical period: one of the
/// three default tiers, or one to five stars where the organisation ranks that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tier {
    /// 大客户: also gets scheduled revisits.
    #[serde(rename = "key")]
    Key,
    /// 一般客户
    #[serde(rename = "regular")]
    Regular,
    /// 潜在客户
    #[serde(rename = "prospect")]
    Prospect,
    #[serde(rename = "stars_1")]
    OneStar,
    #[serde(rename = "stars_2")]
    TwoStars,
    #[serde(rename = "stars_3")]
    ThreeStars,
    #[serde(rename = "stars_4")]
    FourStars,
    #[serde(rename = "stars_5")]
    FiveStars,
}

impl Tier {
    const ALL: [Tier; 8] = [
        Tier::Key,
        Tier::Regular,
        Tier::Prospect,
        Tier::OneStar,
        Tier::TwoStars,
        Tier::ThreeStars,
        Tier::FourStars,
        Tier::FiveStars,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Tier::Key => "key",
            Tier::Regular => "regular",
            Tier::Prospect => "prospect",
            Tier::OneStar => "stars_1",
            Tier::TwoStars => "stars_2",
            Tier::ThreeStars => "stars_3",
            Tier::FourStars => "stars_4",
            Tier::FiveStars => "stars_5",
        }
    }

    /// The number of stars, for the star scheme's tiers.
    pub fn stars(&self) -> Option<u8> {
        match self {
            Tier::Key | Tier::Regular | Tier::Prospect => None,
            Tier::OneStar => Some(1),
            Tier::TwoStars => Some(2),
            Tier::ThreeStars => Some(3),
            Tier::FourStars => Some(4),
            Tier::FiveStars => Some(5),
        }
    }
}

impl TryFrom<String> for Tier {
    type Error = UnknownValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Tier::ALL
            .into_iter()
            .find(|tier| tier.as_str() == value)
            .ok_or(UnknownValue {
                kind: "tier",
                value,
            })
    }
}

/// How an organisation ranks its customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierScheme {
    /// key, regular, prospect (the default).
    #[default]
    ThreeTiers,
    /// One to five stars.
    Stars,
}

impl TierScheme {
    pub fn as_str(&self) -> &'static str {
        match self {
            TierScheme::ThreeTiers => "three_tiers",
            TierScheme::Stars => "stars",
        }
    }

    /// Where a customer with no data yet stands.
    pub fn lowest(&self) -> Tier {
        match self {
            TierScheme::ThreeTiers => Tier::Prospect,
            TierScheme::Stars => Tier::OneStar,
        }
    }

    /// The scheme a stored word names; anything else is the default.
    pub fn from_word(word: &str) -> Self {
        match word {
            "stars" => TierScheme::Stars,
            _ => TierScheme::ThreeTiers,
        }
    }

    /// The organisation's scheme (the default when it set no tier rules).
    pub async fn of(db: impl PgExecutor<'_>, organisation_id: Uuid) -> Result<Self, sqlx::Error> {
        let scheme: Option<String> =
            sqlx::query_scalar("select scheme from tier_rules where organisation_id = $1")
                .bind(organisation_id)
                .fetch_optional(db)
                .await?;
        Ok(scheme
            .as_deref()
            .map_or_else(TierScheme::default, TierScheme::from_word))
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
    /// The names of customers `ids` of the organisation, by id (for screens listing jobs).
    pub async fn names(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
        ids: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, String>, sqlx::Error> {
        let rows: Vec<(Uuid, String)> = sqlx::query_as(
            "select id, name from customers where organisation_id = $1 and id = any($2)",
        )
        .bind(organisation_id)
        .bind(ids)
        .fetch_all(db)
        .await?;
        Ok(rows.into_iter().collect())
    }

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

    /// A page of the organisation's customers in the order they were added, after customer
    /// `after` when given.
    pub async fn list(
        db: impl PgExecutor<'_>,
        organisation_id: Uuid,
        after: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<Self>, sqlx::Error> {
        sqlx::query_as(
            r#"select id, organisation_id, name, phone, address, tier from customers
               where organisation_id = $1
                 and ($2::uuid is null or (created_at, id) >
                      (select c.created_at, c.id from customers c
                       where c.id = $2 and c.organisation_id = $1))
               order by created_at, id limit $3"#,
        )
        .bind(organisation_id)
        .bind(after)
        .bind(limit)
        .fetch_all(db)
        .await
    }
}
