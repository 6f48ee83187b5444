//! The events a projection change raises, written to the outbox in the same transaction:
//! `job.completed` once per completion, `job.reopened` when completed evidence is invalidated,
//! `job.needs_review` when new review flags appear, and `job.changed` (for screens, not
//! webhooks) when anything a board or job page shows changed: status, window, technician,
//! confirmation, evidence or flags, or the job was just booked. A completion also schedules
//! the revisits.

use chrono::Utc;
use serde_json::{Value, json};
use sqlx::PgConnection;
use sync_protocol::DocumentId;
use sync_protocol::job::{JobDocument, JobEvaluation};
use uuid::Uuid;

use crate::outbox;
use crate::revisits::schedule_revisits;

/// The projection row as it was before this change (locked by the caller).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Before {
    pub organisation_id: Uuid,
    pub complete: bool,
    pub review_flags: Value,
    pub completions: i32,
    pub status: String,
    pub technician_id: Option<Uuid>,
    pub window_start: chrono::DateTime<Utc>,
    pub window_end: chrono::DateTime<Utc>,
    pub confirmed: bool,
    pub evidence: Value,
}

/// What screens show of a job, as the projection just wrote it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Shown {
    pub organisation_id: Uuid,
    pub status: String,
    pub technician_id: Option<Uuid>,
    pub window_start: chrono::DateTime<Utc>,
    pub window_end: chrono::DateTime<Utc>,
    pub confirmed: bool,
    pub evidence: Value,
    pub review_flags: Value,
}

/// `job.changed` when what screens show of the job differs from `before` (or it is new). Each
/// such change is its own event; webhooks are not offered it (they have the events above).
pub async fn announce_change(
    tx: &mut PgConnection,
    job_id: Uuid,
    before: Option<&Before>,
    now: &Shown,
) -> Result<(), sqlx::Error> {
    let mut changed = Vec::new();
    match before {
        None => changed.push("booked"),
        Some(b) => {
            for (what, differs) in [
                ("status", b.status != now.status),
                ("technician", b.technician_id != now.technician_id),
                (
                    "window",
                    b.window_start != now.window_start || b.window_end != now.window_end,
                ),
                ("confirmation", b.confirmed != now.confirmed),
                ("evidence", b.evidence != now.evidence),
                ("review_flags", b.review_flags != now.review_flags),
            ] {
                if differs {
                    changed.push(what);
                }
            }
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    let payload = json!({
        "type": "job.changed",
        "timestamp": Utc::now(),
        "data": {
            "job_id": job_id,
            "changed": changed,
            "status": now.status,
            "technician_id": now.technician_id,
            "window_start": now.window_start,
            "window_end": now.window_end,
            "confirmed": now.confirmed,
            "review_flags": now.review_flags,
        },
    });
    let key = format!("job.changed:{job_id}:{}", Uuid::new_v4());
    outbox::insert(
        &mut *tx,
        now.organisation_id,
        "job.changed",
        Some(job_id),
        &key,
        payload,
    )
    .await?;
    Ok(())
}

pub async fn raise(
    tx: &mut PgConnection,
    job_id: Uuid,
    before: Option<&Before>,
    evaluation: &JobEvaluation,
    job: &JobDocument,
) -> Result<(), sqlx::Error> {
    let Some(before) = before else {
        // A job just booked has nothing to announce yet.
        return Ok(());
    };
    let organisation = before.organisation_id;
    if evaluation.complete && !before.complete {
        let generation = before.completions + 1;
        sqlx::query("update jobs set completions = $2, completed_at = now() where id = $1")
            .bind(job_id)
            .bind(generation)
            .execute(&mut *tx)
            .await?;
        let payload = envelope(
            "job.completed",
            job_id,
            job,
            evaluation,
            json!({"completion": generation}),
        );
        let key = format!("job.completed:{job_id}:{generation}");
        outbox::insert(
            &mut *tx,
            organisation,
            "job.completed",
            Some(job_id),
            &key,
            payload,
        )
        .await?;
        schedule_revisits(&mut *tx, job_id, job.complaint_origin.from_complaint).await?;
    } else if !evaluation.complete && before.complete {
        let payload = envelope(
            "job.reopened",
            job_id,
            job,
            evaluation,
            json!({"missing": evaluation.missing}),
        );
        let key = format!("job.reopened:{job_id}:{}", before.completions);
        outbox::insert(
            &mut *tx,
            organisation,
            "job.reopened",
            Some(job_id),
            &key,
            payload,
        )
        .await?;
    }
    let previous: Vec<Value> = before.review_flags.as_array().cloned().unwrap_or_default();
    let new_flags: Vec<Value> = serde_json::to_value(&evaluation.review_flags)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter(|flag| !previous.contains(flag))
        .collect();
    if !new_flags.is_empty() {
        let key = format!(
            "job.needs_review:{job_id}:{}",
            serde_json::to_string(&new_flags).unwrap_or_default()
        );
        let payload = envelope(
            "job.needs_review",
            job_id,
            job,
            evaluation,
            json!({"new_flags": new_flags}),
        );
        outbox::insert(
            &mut *tx,
            organisation,
            "job.needs_review",
            Some(job_id),
            &key,
            payload,
        )
        .await?;
    }
    Ok(())
}

/// `{"type", "timestamp", "data"}`: what webhook receivers and the live feed get.
fn envelope(
    kind: &str,
    job_id: Uuid,
    job: &JobDocument,
    evaluation: &JobEvaluation,
    extra: Value,
) -> Value {
    let mut data = json!({
        "job_id": job_id,
        "job_number": job.number,
        "document_url": DocumentId::from_uuid(job_id).to_url(),
        "kind": job.kind.as_str(),
        "status": evaluation.status,
        "from_complaint": job.complaint_origin.from_complaint,
        "complaint_reference": job.complaint_origin.reference,
        "technician_id": job.assignment.technician_id,
        "customer": {
            "id": job.customer.id,
            "name": job.customer.name,
            "phone": job.customer.phone,
            "address": job.customer.address,
            "tier": job.customer.tier.map(|t| t.as_str()),
        },
        "summary_sha256": job.summary_sha256(),
        "review_flags": evaluation.review_flags,
    });
    if let (Some(data), Some(extra)) = (data.as_object_mut(), extra.as_object()) {
        data.extend(extra.clone());
    }
    json!({"type": kind, "timestamp": Utc::now(), "data": data})
}
