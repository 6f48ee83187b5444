//! Device tokens: random, shown once, kept as a SHA-256 hash, revocable one by one.

use std::fmt;

use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgExecutor;
use uuid::Uuid;

/// Tokens start with this so secret scanners and people recognise them.
const TOKEN_PREFIX: &str = "fst_";

/// The SHA-256 of a token: what the database keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &hex::encode(self.0)[..8])
    }
}

/// A token just issued: the only moment its text exists outside the caller's device.
#[derive(Clone)]
pub struct IssuedToken {
    pub id: Uuid,
    pub staff_id: Uuid,
    pub token: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("id", &self.id)
            .field("staff_id", &self.staff_id)
            .field("token", &"[redacted]")
            .finish()
    }
}

/// Operations on the `device_tokens` table.
#[derive(Debug)]
pub struct DeviceToken;

impl DeviceToken {
    /// Issues a new token for one device of `staff_id`.
    pub async fn issue(
        db: impl PgExecutor<'_>,
        staff_id: Uuid,
        device_name: &str,
    ) -> Result<IssuedToken, sqlx::Error> {
        let token = format!("{TOKEN_PREFIX}{}", random_text(32));
        let id = Uuid::new_v4();
        sqlx::query(
            r#"insert into device_tokens (id, staff_id, device_name, token_hash)
               values ($1, $2, $3, $4)"#,
        )
        .bind(id)
        .bind(staff_id)
        .bind(device_name)
        .bind(TokenHash::of(&token).as_bytes())
        .execute(db)
        .await?;
        Ok(IssuedToken {
            id,
            staff_id,
            token,
        })
    }

    /// Revokes one device's token; the staff member's other devices keep working.
    pub async fn revoke(db: impl PgExecutor<'_>, token_id: Uuid) -> Result<bool, sqlx::Error> {
        let result = sqlx::query(
            "update device_tokens set revoked_at = now() where id = $1 and revoked_at is null",
        )
        .bind(token_id)
        .execute(db)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Revokes device token `token_id` for an admin of its staff member's organisation; a token
    /// of another organisation answers like one that does not exist.
    pub async fn revoke_in_organisation(
        db: &sqlx::PgPool,
        caller: &super::Caller,
        token_id: Uuid,
    ) -> Result<(), crate::error::ApiError> {
        caller.require(&[crate::directory::Role::Admin])?;
        let in_organisation: bool = sqlx::query_scalar(
            r#"select exists (select 1 from device_tokens t join staff s on s.id = t.staff_id
                              where t.id = $1 and s.organisation_id = $2)"#,
        )
        .bind(token_id)
        .bind(caller.organisation_id)
        .fetch_one(db)
        .await?;
        if !in_organisation {
            return Err(crate::error::ApiError::NotFound);
        }
        Self::revoke(db, token_id).await?;
        Ok(())
    }
}

/// Random base58 text carrying `bytes` bytes of entropy.
pub fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    bs58::encode(buffer).into_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_hashed() {
        let a = random_text(32);
        let b = random_text(32);
        assert_ne!(a, b);
        assert!(
            a.len() >= 43,
            "32 bytes of base58 is at least 43 characters"
        );
        assert_eq!(TokenHash::of("x"), TokenHash::of("x"));
        assert_ne!(TokenHash::of("x"), TokenHash::of("y"));
        assert!(!format!("{:?}", TokenHash::of("secret")).contains("secret"));
    }
}
