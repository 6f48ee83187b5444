//! Office staff's browser sessions: signing in with an e-mail (or name) and password, the
//! session cookie's token (stored only as a SHA-256), its CSRF token, idle and absolute expiry,
//! signing out. A session resolves to the same [`Caller`] as a device token, so the console asks
//! the same authorization as the API.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

use super::{Caller, TokenHash, password, random_text};
use crate::directory::Role;
use crate::error::ApiError;

/// A session unused this long has ended.
pub const IDLE: Duration = Duration::from_secs(2 * 3600);
/// A session ends this long after signing in, however busy: a working day.
pub const ABSOLUTE: Duration = Duration::from_secs(12 * 3600);
/// Failed sign-ins counted per account and per address over this window.
const THROTTLE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failures after which an account is refused for the rest of the window.
const ACCOUNT_LIMIT: u32 = 10;
/// Failures after which an address is refused for the rest of the window.
const ADDRESS_LIMIT: u32 = 50;

/// A new session: the cookie's token (shown once) and who signed in.
#[derive(Debug)]
pub struct Session {
    pub token: String,
    pub caller: Caller,
}

/// A session's caller and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct SessionCaller {
    pub caller: Caller,
    pub csrf_token: String,
}

#[derive(sqlx::FromRow)]
struct Account {
    staff_id: Uuid,
    password_hash: String,
}

/// Signs `login` (an e-mail, or a name no one else with a password has) in with `password`.
/// Wrong input is slowed, then refused for a while, per account and per address; the answer is
/// the same whether the account exists or the password is wrong.
pub async fn sign_in(
    db: &sqlx::PgPool,
    throttle: &SignInThrottle,
    login: &str,
    password: &str,
    address: &str,
) -> Result<Session, ApiError> {
    let account_key = format!("account:{}", login.trim().to_lowercase());
    let address_key = format!("address:{address}");
    throttle.check(&account_key, ACCOUNT_LIMIT)?;
    throttle.check(&address_key, ADDRESS_LIMIT)?;
    let accounts: Vec<Account> = sqlx::query_as(
        r#"select s.id as staff_id, p.password_hash
           from staff s join staff_passwords p on p.staff_id = s.id
           where s.disabled_at is null and s.role <> 'technician'
             and (lower(s.email) = lower($1) or s.name = $1)
           limit 2"#,
    )
    .bind(login.trim())
    .fetch_all(db)
    .await?;
    let matched = match accounts.as_slice() {
        [account] => password::matches(account.password_hash.clone(), password)
            .await
            .then_some(account.staff_id),
        _ => {
            password::decoy_check(password).await;
            None
        }
    };
    let Some(staff_id) = matched else {
        let failures = throttle.fail(&account_key).max(throttle.fail(&address_key));
        tokio::time::sleep(Duration::from_millis(250) * failures.min(8)).await;
        return Err(ApiError::Unauthenticated);
    };
    throttle.forget(&account_key);
    let token = format!("fss_{}", random_text(32));
    let caller: Caller = sqlx::query_as(
        r#"with session as (
               insert into console_sessions (id, token_hash, staff_id, csrf_token)
               values ($1, $2, $3, $4) returning id, staff_id)
           select s.id as staff_id, s.organisation_id, s.name, s.role,
                  session.id as device_token_id, 'browser' as device_name, true as browser
           from session join staff s on s.id = session.staff_id"#,
    )
    .bind(Uuid::new_v4())
    .bind(TokenHash::of(&token).as_bytes())
    .bind(staff_id)
    .bind(random_text(24))
    .fetch_one(db)
    .await?;
    Ok(Session { token, caller })
}

/// The live session of cookie token `token`, noting its use; `None` if it ended, expired, or its
/// staff member was disabled.
pub async fn resume(db: &sqlx::PgPool, token: &str) -> Result<Option<SessionCaller>, ApiError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        caller: Caller,
        csrf_token: String,
    }
    let row: Option<Row> = sqlx::query_as(
        r#"update console_sessions cs set last_seen_at = now()
           from staff s
           where cs.token_hash = $1 and cs.ended_at is null
             and cs.last_seen_at > now() - make_interval(secs => $2)
             and cs.created_at > now() - make_interval(secs => $3)
             and s.id = cs.staff_id and s.disabled_at is null
           returning s.id as staff_id, s.organisation_id, s.name, s.role,
                     cs.id as device_token_id, 'browser' as device_name, true as browser,
                     cs.csrf_token"#,
    )
    .bind(TokenHash::of(token).as_bytes())
    .bind(IDLE.as_secs_f64())
    .bind(ABSOLUTE.as_secs_f64())
    .fetch_optional(db)
    .await?;
    Ok(row.map(|row| SessionCaller {
        caller: row.caller,
        csrf_token: row.csrf_token,
    }))
}

/// Ends the session of cookie token `token` (signing out).
pub async fn end(db: &sqlx::PgPool, token: &str) -> Result<(), ApiError> {
    sqlx::query("update console_sessions set ended_at = now() where token_hash = $1")
        .bind(TokenHash::of(token).as_bytes())
        .execute(db)
        .await?;
    Ok(())
}

/// Whether `role` signs in to the console (technicians use their tablets).
pub fn is_office(role: Role) -> bool {
    role != Role::Technician
}

/// Failed sign-ins per account and per address, in this instance's memory.
#[derive(Debug, Default)]
pub struct SignInThrottle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl SignInThrottle {
    fn check(&self, key: &str, limit: u32) -> Result<(), ApiError> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        match failures.get(key) {
            Some((count, since)) if *count >= limit && since.elapsed() < THROTTLE_WINDOW => Err(
                ApiError::TooManyRequests(THROTTLE_WINDOW.saturating_sub(since.elapsed())),
            ),
            _ => Ok(()),
        }
    }

    /// Counts a failure; the failures within the window so far.
    fn fail(&self, key: &str) -> u32 {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = failures
            .entry(key.to_owned())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= THROTTLE_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        entry.0
    }

    fn forget(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}
