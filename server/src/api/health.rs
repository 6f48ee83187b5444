//! `/healthz` (the process answers) and `/readyz` (its PostgreSQL and bucket answer too).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::state::AppState;

const DATABASE_PROBE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Serialize)]
pub struct Health {
    status: &'static str,
}

pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// One dependency's state: `ok`, or the reason it is not.
#[derive(Debug, Serialize)]
pub struct Readiness {
    status: &'static str,
    postgres: String,
    object_storage: String,
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let (postgres, object_storage) = tokio::join!(probe_database(&state), state.blobs.probe());
    let ready = postgres.is_ok() && object_storage.is_ok();
    let describe = |result: Result<(), String>| result.err().unwrap_or_else(|| "ok".to_owned());
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        postgres: describe(postgres),
        object_storage: describe(object_storage),
    };
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

async fn probe_database(state: &AppState) -> Result<(), String> {
    let query = sqlx::query("select 1").execute(&state.db);
    match tokio::time::timeout(DATABASE_PROBE_TIMEOUT, query).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("PostgreSQL is not reachable: {e}")),
        Err(_) => Err(format!(
            "PostgreSQL did not answer within {}s",
            DATABASE_PROBE_TIMEOUT.as_secs()
        )),
    }
}
