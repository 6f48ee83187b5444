//! The dispatcher's operations on a booked job. Each becomes a change in the job document (as
//! the server's actor) and, where the technician's list shows it, in their index document.

use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;
use sync_protocol::job::{ConfirmationChannel, DispatcherActions, JobDocument};
use uuid::Uuid;

use super::booking::{check_technician, check_window};
use super::{DocumentAccess, Edit, document_access, index, millis};
use crate::auth::Caller;
use crate::directory::Role;
use crate::documents::Author;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// Who confirmed: the customer, or who answered for them.
    pub confirmed_by: String,
    /// phone, sms or in_person.
    pub channel: String,
    pub confirmed_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reschedule {
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reassign {
    pub technician_id: Uuid,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cancel {
    pub reason: String,
}

pub async fn confirm(
    state: &AppState,
    caller: &Caller,
    job: Uuid,
    request: Confirmation,
) -> Result<(), ApiError> {
    let channel = ConfirmationChannel::parse(&request.channel).ok_or_else(|| {
        ApiError::BadRequest("channel must be one of phone, sms, in_person".into())
    })?;
    check_confirmed_at(request.confirmed_at, Utc::now())?;
    let mut edit = begin(state, caller, job).await?;
    let after = edit
        .change_job_if(
            job,
            Some(&|status| open_for(status, Office::Confirm)),
            |doc| {
                DispatcherActions::new(doc, caller.staff_id.to_string()).confirm_appointment(
                    &request.confirmed_by,
                    channel,
                    millis(request.confirmed_at),
                )
            },
        )
        .await?
        .clone();
    refresh_index(&mut edit, job, &after).await?;
    edit.commit().await
}

pub async fn reschedule(
    state: &AppState,
    caller: &Caller,
    job: Uuid,
    request: Reschedule,
) -> Result<(), ApiError> {
    check_window(request.window_start, request.window_end)?;
    let mut edit = begin(state, caller, job).await?;
    let after = edit
        .change_job_if(
            job,
            Some(&|status| open_for(status, Office::Reschedule)),
            |doc| {
                DispatcherActions::new(doc, caller.staff_id.to_string()).reschedule(
                    millis(request.window_start),
                    millis(request.window_end),
                    millis(Utc::now()),
                )
            },
        )
        .await?
        .clone();
    refresh_index(&mut edit, job, &after).await?;
    edit.commit().await
}

/// Moves the job to another technician. The previous technician keeps read and write access to
/// it (their offline work still merges, and is flagged for review), but it leaves their list.
pub async fn reassign(
    state: &AppState,
    caller: &Caller,
    job: Uuid,
    request: Reassign,
) -> Result<(), ApiError> {
    let technician = request.technician_id;
    check_technician(state, caller, technician).await?;
    authorize(state, caller, job).await?;
    // Asked first without a lock, so a job that is over writes nothing (not even the new
    // technician's list); asked again below under the job's locks, which decides.
    open_for(&status_now(&state.db, job).await?, Office::Reassign)?;
    let new_index = index::ensure_index(state, caller.organisation_id, technician).await?;
    let mut edit = begin(state, caller, job).await?;
    let mut previous = None;
    let after = edit
        .change_job_if(
            job,
            Some(&|status| open_for(status, Office::Reassign)),
            |doc| {
                // Read under the job's lock, so a concurrent reassignment cannot slip in between.
                previous = JobDocument::read(&*doc)
                    .ok()
                    .and_then(|j| j.assignment.technician_id)
                    .and_then(|t| Uuid::parse_str(&t).ok());
                DispatcherActions::new(doc, caller.staff_id.to_string())
                    .reassign(&technician.to_string(), millis(Utc::now()))
            },
        )
        .await?
        .clone();
    let entry = index::entry(job, &after)?;
    let mut steps = vec![(new_index, technician, true)];
    if let Some(previous) = previous.filter(|p| *p != technician)
        && let Some(old_index) = index::find(&mut edit.tx, previous).await?
    {
        steps.push((old_index, previous, false));
    }
    // Index documents are locked in ascending id order, whoever calls.
    steps.sort_by_key(|(index_id, _, _)| *index_id);
    for (_, owner, add) in steps {
        if add {
            index::put(&mut edit, owner, &entry).await?;
        } else {
            index::remove(&mut edit, owner, job).await?;
        }
    }
    edit.commit().await
}

pub async fn cancel(
    state: &AppState,
    caller: &Caller,
    job: Uuid,
    request: Cancel,
) -> Result<(), ApiError> {
    let mut edit = begin(state, caller, job).await?;
    // A job that is over says so before asking for a reason it would not take.
    open_for(&status_now(&mut *edit.tx, job).await?, Office::Cancel)?;
    if request.reason.trim().is_empty() {
        return Err(ApiError::BadRequest(
            "give a reason for cancelling (the technician sees it)".into(),
        ));
    }
    let after = edit
        .change_job_if(
            job,
            Some(&|status| open_for(status, Office::Cancel)),
            |doc| {
                DispatcherActions::new(doc, caller.staff_id.to_string())
                    .cancel(&request.reason, millis(Utc::now()))
            },
        )
        .await?
        .clone();
    refresh_index(&mut edit, job, &after).await?;
    edit.commit().await
}

/// Archives a complete or cancelled job (rule 8: 记录整理归档): it leaves its technician's list
/// and no tablet gets it any more; dispatchers still read it, revisits go on. An open job is
/// refused: its technician may still be sending work recorded offline, which archiving would
/// shut out. Archiving an archived job changes nothing.
pub async fn archive(state: &AppState, caller: &Caller, job: Uuid) -> Result<(), ApiError> {
    let mut edit = begin(state, caller, job).await?;
    if status_now(&mut *edit.tx, job).await? == "archived" {
        return Ok(());
    }
    let archivable = |status: &str| match status {
        "complete" | "cancelled" => Ok(()),
        // Archived by someone else since the look above.
        "archived" => Err(ApiError::Conflict("this job was archived meanwhile".into())),
        other => Err(ApiError::Conflict(format!(
            "only a complete or cancelled job can be archived; this one is {}: its \
             technician may still be sending work, cancel it first if it will not be done",
            other.replace('_', " ")
        ))),
    };
    let after = edit
        .change_job_if(job, Some(&archivable), |doc| {
            DispatcherActions::new(doc, caller.staff_id.to_string()).archive(millis(Utc::now()))
        })
        .await?
        .clone();
    let technician = JobDocument::read(&after)
        .ok()
        .and_then(|j| j.assignment.technician_id)
        .and_then(|t| Uuid::parse_str(&t).ok());
    if let Some(technician) = technician {
        index::remove(&mut edit, technician, job).await?;
    }
    edit.commit().await
}

/// How far ahead of the server's clock a confirmation's time may be (clocks differ a little).
const CONFIRMED_AHEAD: chrono::Duration = chrono::Duration::minutes(5);

/// A confirmation happened in the past (or just now, by a clock a little ahead): a time in the
/// future would make every arrival look unconfirmed and the office's clock look wrong.
fn check_confirmed_at(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), ApiError> {
    if at > now + CONFIRMED_AHEAD {
        return Err(ApiError::BadRequest(
            "confirmed_at is in the future: give the time the customer confirmed".into(),
        ));
    }
    if at.year() < 2000 {
        return Err(ApiError::BadRequest(
            "confirmed_at is before the year 2000: give the time the customer confirmed".into(),
        ));
    }
    Ok(())
}

/// An office change to a job that is still under way.
#[derive(Debug, Clone, Copy)]
enum Office {
    Confirm,
    Reschedule,
    Reassign,
    Cancel,
}

impl Office {
    fn done(self) -> &'static str {
        match self {
            Office::Confirm => "confirmed",
            Office::Reschedule => "rescheduled",
            Office::Reassign => "reassigned",
            Office::Cancel => "cancelled",
        }
    }
}

/// The job's status now, without a lock (a first look; the locked one decides).
async fn status_now(db: impl sqlx::PgExecutor<'_>, job: Uuid) -> Result<String, ApiError> {
    Ok(sqlx::query_scalar("select status from jobs where id = $1")
        .bind(job)
        .fetch_one(db)
        .await?)
}

/// Refuses (409, nothing written) an office change to a job that is over. A complete job's
/// visit is done and signed and its completion sent (its revisit queued, where the policy asks
/// for one): moving or cancelling it would unmake that record (and give its technician the job
/// back). A cancelled job is not to be revived by a reschedule; an archived one left every
/// tablet for good. Called with the status read under the job's locks
/// ([`Edit::change_job_if`]).
fn open_for(status: &str, change: Office) -> Result<(), ApiError> {
    let why = match (status, change) {
        ("complete", _) => format!(
            "this job is complete (its visit is signed and its revisit under way), so it cannot \
             be {}; book a new job for further work",
            change.done()
        ),
        ("cancelled", Office::Cancel) => "this job is cancelled already".to_owned(),
        ("cancelled", _) => format!(
            "this job is cancelled, so it cannot be {}; book a new job instead",
            change.done()
        ),
        ("archived", _) => format!(
            "this job is archived, so it cannot be {}; book a new job for further work",
            change.done()
        ),
        _ => return Ok(()),
    };
    Err(ApiError::Conflict(why))
}

/// Dispatchers of the job's organisation only; anyone else learns nothing.
async fn authorize(state: &AppState, caller: &Caller, job: Uuid) -> Result<(), ApiError> {
    caller.require(&[Role::Dispatcher])?;
    match document_access(&state.db, caller, job).await? {
        Some(DocumentAccess::Write(_)) => Ok(()),
        _ => Err(ApiError::NotFound),
    }
}

async fn begin<'s>(state: &'s AppState, caller: &Caller, job: Uuid) -> Result<Edit<'s>, ApiError> {
    authorize(state, caller, job).await?;
    Edit::begin(
        state,
        Author {
            staff_id: Some(caller.staff_id),
            device_token_id: caller.device_token(),
        },
    )
    .await
}

/// Refreshes the entry in the assigned technician's list.
async fn refresh_index(
    edit: &mut Edit<'_>,
    job: Uuid,
    after: &automerge::Automerge,
) -> Result<(), ApiError> {
    let entry = index::entry(job, after)?;
    let technician = JobDocument::read(after)
        .ok()
        .and_then(|j| j.assignment.technician_id)
        .and_then(|t| Uuid::parse_str(&t).ok());
    if let Some(technician) = technician {
        index::put(edit, technician, &entry).await?;
    }
    Ok(())
}
