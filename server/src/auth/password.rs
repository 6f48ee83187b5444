//! Office staff's console passwords, kept only as argon2id hashes (hashing runs off the async
//! runtime: it is made to be slow).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::error::ApiError;

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 10;
/// Longest: hashing cost grows with the input, and no one types more.
pub const MAX_LENGTH: usize = 200;

/// Sets (or replaces) `staff`'s password.
pub async fn set(db: impl PgExecutor<'_>, staff: Uuid, password: &str) -> Result<(), ApiError> {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(ApiError::BadRequest(format!(
            "a password has {MIN_LENGTH} to {MAX_LENGTH} characters"
        )));
    }
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || {
        let salt = fresh_salt()?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing a password stopped: {e}")))?
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing a password: {e}")))?;
    sqlx::query(
        r#"insert into staff_passwords (staff_id, password_hash) values ($1, $2)
           on conflict (staff_id) do update set password_hash = excluded.password_hash,
                                                updated_at = now()"#,
    )
    .bind(staff)
    .bind(hash)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether `password` matches the stored `hash`.
pub async fn matches(hash: String, password: &str) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A hash to check wrong names against, so an unknown account costs as long as a known one.
pub async fn decoy_check(password: &str) {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = match DECOY.get() {
        Some(hash) => hash.clone(),
        // Made once, off the async runtime like every other hash.
        None => {
            let made = tokio::task::spawn_blocking(|| {
                let salt = fresh_salt().ok()?;
                Argon2::default()
                    .hash_password(b"no account has this password", &salt)
                    .map(|h| h.to_string())
                    .ok()
            })
            .await
            .ok()
            .flatten()
            .unwrap_or_default();
            DECOY.get_or_init(|| made).clone()
        }
    };
    let _ = matches(hash, password).await;
}

/// 16 random bytes, as argon2's salt.
fn fresh_salt() -> Result<SaltString, argon2::password_hash::Error> {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    SaltString::encode_b64(&bytes)
}
