//! Making a revisit: claiming a task and recording its outcome, under the independence rule
//! (通常由非直接处理客户投诉的人员进行): whoever handled the job may not revisit it.

use chrono::Utc;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::queue::{QUEUE_READERS, Task, find};
use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;
use crate::outbox;

/// Who may ask to claim or record a revisit. A technician is let through only to be told the
/// reason they may not: the independence rule for their own jobs, the role for others.
const CALLERS: [Role; 4] = [
    Role::Revisit,
    Role::Dispatcher,
    Role::Admin,
    Role::Technician,
];

/// What the caller learned on the phone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOutcome {
    pub reached: bool,
    pub problem_solved: Option<bool>,
    pub satisfaction: Option<i32>,
    pub suggestions: Option<String>,
    pub notes: Option<String>,
}

/// Claims task `id` for the caller (again, if it is theirs already); the task as it is now.
pub async fn claim(db: &sqlx::PgPool, caller: &Caller, id: Uuid) -> Result<Task, ApiError> {
    let task = task_to_make(db, caller, id).await?;
    let claimed = sqlx::query(
        r#"update revisit_tasks set claimed_by = $2, claimed_at = now()
           where id = $1 and (claimed_by is null or claimed_by = $2)"#,
    )
    .bind(task.id)
    .bind(caller.staff_id)
    .execute(db)
    .await?;
    if claimed.rows_affected() == 0 {
        return Err(ApiError::Conflict(
            "someone else has claimed this revisit".into(),
        ));
    }
    find(db, caller, id).await
}

/// Records the outcome of task `id`, which the caller must have claimed; append-only, with a
/// `revisit.outcome_recorded` event in the same transaction. The new outcome's id.
pub async fn record_outcome(
    db: &sqlx::PgPool,
    caller: &Caller,
    id: Uuid,
    outcome: &NewOutcome,
) -> Result<Uuid, ApiError> {
    let task = task_to_make(db, caller, id).await?;
    if task.claimed_by != Some(caller.staff_id) {
        return Err(ApiError::Conflict(
            "claim this revisit before recording its outcome".into(),
        ));
    }
    check(outcome)?;
    let outcome_id = Uuid::new_v4();
    let mut tx = db.begin().await?;
    sqlx::query(
        r#"insert into revisit_outcomes (id, task_id, organisation_id, recorded_by, reached,
                                         problem_solved, satisfaction, suggestions, notes)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#,
    )
    .bind(outcome_id)
    .bind(id)
    .bind(caller.organisation_id)
    .bind(caller.staff_id)
    .bind(outcome.reached)
    .bind(outcome.problem_solved)
    .bind(outcome.satisfaction)
    .bind(&outcome.suggestions)
    .bind(&outcome.notes)
    .execute(&mut *tx)
    .await?;
    let payload = json!({"type": "revisit.outcome_recorded", "timestamp": Utc::now(), "data": {
        "revisit_id": id, "job_id": task.job_id, "outcome_id": outcome_id, "reached": outcome.reached,
        "problem_solved": outcome.problem_solved, "satisfaction": outcome.satisfaction,
        "recorded_by": caller.staff_id,
    }});
    let key = format!("revisit.outcome_recorded:{outcome_id}");
    outbox::insert(
        &mut tx,
        caller.organisation_id,
        "revisit.outcome_recorded",
        Some(task.job_id),
        &key,
        payload,
    )
    .await?;
    tx.commit().await?;
    Ok(outcome_id)
}

/// Task `id`, if the caller may make it: an office role, and not the job's own technician.
async fn task_to_make(db: &sqlx::PgPool, caller: &Caller, id: Uuid) -> Result<Task, ApiError> {
    caller.require(&CALLERS)?;
    if caller.role == Role::Technician {
        return Err(refuse_technician(db, caller, id).await);
    }
    let task = find(db, caller, id).await?;
    check_independent(db, caller, &task).await?;
    Ok(task)
}

fn check(outcome: &NewOutcome) -> Result<(), ApiError> {
    if let Some(score) = outcome.satisfaction
        && !(1..=5).contains(&score)
    {
        return Err(ApiError::BadRequest("satisfaction is 1 to 5".into()));
    }
    if !outcome.reached && (outcome.problem_solved.is_some() || outcome.satisfaction.is_some()) {
        return Err(ApiError::BadRequest(
            "the customer was not reached: leave problem_solved and satisfaction empty".into(),
        ));
    }
    for (field, text) in [
        ("suggestions", &outcome.suggestions),
        ("notes", &outcome.notes),
    ] {
        if text.as_ref().is_some_and(|t| t.chars().count() > 4000) {
            return Err(ApiError::BadRequest(format!(
                "{field} may be at most 4000 characters"
            )));
        }
    }
    Ok(())
}

/// Independence: whoever handled the job may not revisit it.
async fn check_independent(
    db: &sqlx::PgPool,
    caller: &Caller,
    task: &Task,
) -> Result<(), ApiError> {
    let handled: bool = sqlx::query_scalar(
        "select exists (select 1 from job_assignments where job_id = $1 and technician_id = $2)",
    )
    .bind(task.job_id)
    .bind(caller.staff_id)
    .fetch_one(db)
    .await?;
    if handled || task.technician_id == Some(caller.staff_id) {
        return Err(ApiError::Forbidden(
            "you handled this job, so you cannot make its revisit: the customer must be called back by someone who did not handle the job".into(),
        ));
    }
    Ok(())
}

/// A technician never makes a revisit: for a job they handled they are told why (the
/// independence rule); for anything else, whether the task exists or not, they get the same
/// role refusal, so the answer reveals no other task.
async fn refuse_technician(db: &sqlx::PgPool, caller: &Caller, id: Uuid) -> ApiError {
    if let Ok(task) = find(db, caller, id).await
        && let Err(refusal) = check_independent(db, caller, &task).await
    {
        return refusal;
    }
    match caller.require(&QUEUE_READERS) {
        Err(refusal) => refusal,
        Ok(()) => ApiError::NotFound,
    }
}
