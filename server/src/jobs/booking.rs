//! Booking a job: the dispatcher's `POST /api/v1/jobs`.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sync_protocol::DocumentId;
use sync_protocol::job::{
    ComplaintOrigin, CustomerSnapshot, CustomerTier, JobDocument, JobKind, NewJob,
};
use uuid::Uuid;

use super::{Edit, index, millis, projection};
use crate::auth::Caller;
use crate::directory::{Customer, Role};
use crate::documents::{Author, DocumentKind};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest appointment window a dispatcher can book.
const LONGEST_WINDOW: Duration = Duration::days(14);

/// What a dispatcher sends to book a job.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookJob {
    pub customer_id: Uuid,
    /// installation, repair, maintenance or inspection.
    pub kind: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub technician_id: Option<Uuid>,
    #[serde(default)]
    pub from_complaint: bool,
    pub complaint_reference: Option<String>,
}

/// The longest complaint reference a booking takes (a ticket number, not a letter).
const MAX_COMPLAINT_REFERENCE: usize = 200;

/// The complaint's reference, trimmed: only for a job from a complaint, short, plain text.
fn check_complaint_reference(request: &BookJob) -> Result<Option<String>, ApiError> {
    let Some(reference) = request.complaint_reference.as_deref().map(str::trim) else {
        return Ok(None);
    };
    if reference.is_empty() {
        return Ok(None);
    }
    if !request.from_complaint {
        return Err(ApiError::BadRequest(
            "complaint_reference is for a job from a complaint: set from_complaint to true".into(),
        ));
    }
    if reference.chars().count() > MAX_COMPLAINT_REFERENCE {
        return Err(ApiError::BadRequest(format!(
            "complaint_reference must be at most {MAX_COMPLAINT_REFERENCE} characters"
        )));
    }
    if !crate::directory::customers::one_line(reference) {
        return Err(ApiError::BadRequest(
            "complaint_reference must be one line of text, without control characters".into(),
        ));
    }
    Ok(Some(reference.to_owned()))
}

/// The booked job: its id and the URL tablets open.
#[derive(Debug, Clone, Serialize)]
pub struct JobCreated {
    pub id: Uuid,
    /// The job's number for people: `FS-2026-00042`.
    pub number: String,
    pub document_id: String,
    pub document_url: String,
}

pub async fn book_job(
    state: &AppState,
    caller: &Caller,
    request: BookJob,
) -> Result<JobCreated, ApiError> {
    caller.require(&[Role::Dispatcher])?;
    let kind = JobKind::parse(&request.kind).ok_or_else(|| {
        ApiError::BadRequest(
            "kind must be one of installation, repair, maintenance, inspection".into(),
        )
    })?;
    check_window(request.window_start, request.window_end)?;
    let reference = check_complaint_reference(&request)?;
    let customer = Customer::find(&state.db, caller.organisation_id, request.customer_id)
        .await?
        .ok_or_else(|| {
            ApiError::BadRequest("no customer with this id in your organisation".into())
        })?;
    if let Some(technician) = request.technician_id {
        check_technician(state, caller, technician).await?;
    }
    // Before the transaction starts: the server records the change at the transaction's time,
    // which must not come before the booking's own clock.
    let created_at = millis(Utc::now());
    let author = Author {
        staff_id: Some(caller.staff_id),
        device_token_id: caller.device_token(),
    };
    if let Some(technician) = request.technician_id {
        index::ensure_index(state, caller.organisation_id, technician).await?;
    }
    let mut edit = Edit::begin(state, author).await?;
    let number = next_number(&mut edit.tx, caller.organisation_id).await?;
    let new_job = NewJob {
        kind,
        number: Some(number.clone()),
        customer: CustomerSnapshot {
            id: Some(customer.id.to_string()),
            name: customer.name.clone(),
            phone: customer.phone.clone(),
            address: customer.address.clone(),
            tier: CustomerTier::parse(customer.tier.as_str()),
        },
        complaint_origin: ComplaintOrigin {
            from_complaint: request.from_complaint,
            reference,
        },
        window_start: millis(request.window_start),
        window_end: millis(request.window_end),
        technician_id: request.technician_id.map(|t| t.to_string()),
        created_by: caller.staff_id.to_string(),
        created_at,
    };
    let mut doc = JobDocument::create(&new_job).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let id = DocumentId::random();
    let document = doc.document();
    state
        .documents
        .create(
            &mut edit.tx,
            id.as_uuid(),
            caller.organisation_id,
            DocumentKind::Job,
            document,
            &author,
        )
        .await?;
    projection::project(&mut edit.tx, id.as_uuid(), document).await?;
    sqlx::query("update jobs set number = $2 where id = $1")
        .bind(id.as_uuid())
        .bind(&number)
        .execute(&mut *edit.tx)
        .await?;
    if let Some(technician) = request.technician_id {
        let entry = index::entry(id.as_uuid(), document)?;
        index::put(&mut edit, technician, &entry).await?;
    }
    edit.commit().await?;
    Ok(JobCreated {
        id: id.as_uuid(),
        number,
        document_id: id.to_string(),
        document_url: id.to_url(),
    })
}

/// The organisation's next job number of this year (`FS-2026-00042`, the year on the
/// office's clock: its setting, else China Standard Time), taken under the counter's row lock
/// in the booking's transaction: never shared, and given back if the booking rolls back.
async fn next_number(
    tx: &mut sqlx::PgConnection,
    organisation: Uuid,
) -> Result<String, sqlx::Error> {
    use chrono::Datelike;
    let offset = crate::directory::Organisation::utc_offset(&mut *tx, organisation)
        .await?
        .and_then(|text| super::view::parse_offset(&text))
        .or_else(|| chrono::FixedOffset::east_opt(8 * 3600));
    let now = Utc::now();
    let year = offset.map_or(now.year(), |o| now.with_timezone(&o).year());
    let n: i32 = sqlx::query_scalar(
        r#"insert into job_number_counters (organisation_id, year, last) values ($1, $2, 1)
           on conflict (organisation_id, year) do update set last = job_number_counters.last + 1
           returning last"#,
    )
    .bind(organisation)
    .bind(year)
    .fetch_one(&mut *tx)
    .await?;
    Ok(format!("FS-{year}-{n:05}"))
}

/// Appointments fall between these years: anything else is a typing or clock error (year 99999
/// or year -1 would also not survive every calendar and JavaScript date on the way).
const FIRST_YEAR: i32 = 2000;
const LAST_YEAR: i32 = 2100;

pub(super) fn check_window(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<(), ApiError> {
    use chrono::Datelike;
    for (name, at) in [("window_start", start), ("window_end", end)] {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&at.year()) {
            return Err(ApiError::BadRequest(format!(
                "{name} must fall between the years {FIRST_YEAR} and {LAST_YEAR}"
            )));
        }
    }
    if end <= start {
        return Err(ApiError::BadRequest(
            "window_end must be after window_start".into(),
        ));
    }
    if end - start > LONGEST_WINDOW {
        return Err(ApiError::BadRequest(
            "an appointment window may be at most 14 days long".into(),
        ));
    }
    Ok(())
}

/// The technician must be an active technician of the caller's organisation.
pub(super) async fn check_technician(
    state: &AppState,
    caller: &Caller,
    technician: Uuid,
) -> Result<(), ApiError> {
    let found: Option<String> = sqlx::query_scalar(
        "select role from staff where id = $1 and organisation_id = $2 and disabled_at is null",
    )
    .bind(technician)
    .bind(caller.organisation_id)
    .fetch_optional(&state.db)
    .await?;
    match found.as_deref() {
        Some("technician") => Ok(()),
        Some(_) => Err(ApiError::BadRequest(
            "that staff member is not a technician".into(),
        )),
        None => Err(ApiError::BadRequest(
            "no technician with this id in your organisation".into(),
        )),
    }
}
