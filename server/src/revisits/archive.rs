//! The archive of revisit outcomes (回访信息必须记录整理归档), as CSV for a period: each outcome
//! with its job, reason, customer and phone, completion time and technician.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::Caller;
use crate::directory::Role;
use crate::error::ApiError;

/// One archived outcome with what it is about.
#[derive(Debug, sqlx::FromRow)]
pub struct ArchivedOutcome {
    pub id: Uuid,
    pub task_id: Uuid,
    pub job_id: Uuid,
    pub job_number: Option<String>,
    pub reason: String,
    pub customer_name: Option<String>,
    pub customer_phone: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub technician: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by_name: String,
    pub reached: bool,
    pub problem_solved: Option<bool>,
    pub satisfaction: Option<i32>,
    pub suggestions: Option<String>,
    pub notes: Option<String>,
}

/// The outcomes recorded in `[from, to)` (either end open), oldest first.
pub async fn outcomes(
    db: &sqlx::PgPool,
    caller: &Caller,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Vec<ArchivedOutcome>, ApiError> {
    caller.require(&[Role::Revisit, Role::Dispatcher, Role::Admin])?;
    Ok(sqlx::query_as(
        r#"select o.id, o.task_id, t.job_id, j.number as job_number, t.reason, c.name as customer_name,
                  c.phone as customer_phone, j.completed_at, tech.name as technician,
                  o.recorded_at, s.name as recorded_by_name, o.reached, o.problem_solved,
                  o.satisfaction, o.suggestions, o.notes
           from revisit_outcomes o
           join staff s on s.id = o.recorded_by
           join revisit_tasks t on t.id = o.task_id
           join jobs j on j.id = t.job_id
           left join customers c on c.id = t.customer_id
           left join staff tech on tech.id = j.technician_id
           where o.organisation_id = $1
             and ($2::timestamptz is null or o.recorded_at >= $2)
             and ($3::timestamptz is null or o.recorded_at < $3)
           order by o.recorded_at, o.id limit 100000"#,
    )
    .bind(caller.organisation_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?)
}

/// The outcomes as CSV, a header line first.
pub fn to_csv(rows: &[ArchivedOutcome]) -> String {
    let mut csv = String::from(
        "outcome_id,task_id,job_id,job_number,reason,customer,customer_phone,job_completed_at,technician,\
         recorded_at,recorded_by,reached,problem_solved,satisfaction,suggestions,notes\n",
    );
    for o in rows {
        let cells = [
            o.id.to_string(),
            o.task_id.to_string(),
            o.job_id.to_string(),
            o.job_number.clone().unwrap_or_default(),
            o.reason.clone(),
            o.customer_name.clone().unwrap_or_default(),
            o.customer_phone.clone().unwrap_or_default(),
            o.completed_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            o.technician.clone().unwrap_or_default(),
            o.recorded_at.to_rfc3339(),
            o.recorded_by_name.clone(),
            o.reached.to_string(),
            o.problem_solved.map(|b| b.to_string()).unwrap_or_default(),
            o.satisfaction.map(|s| s.to_string()).unwrap_or_default(),
            o.suggestions.clone().unwrap_or_default(),
            o.notes.clone().unwrap_or_default(),
        ];
        csv.push_str(
            &cells
                .iter()
                .map(|c| csv_cell(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        csv.push('\n');
    }
    csv
}

/// A CSV cell: quoted when it holds a separator, and a text a spreadsheet would take for a
/// formula (`=`, `+`, `-`, `@`) starts with an apostrophe, so a note cannot run as one.
pub fn csv_cell(text: &str) -> String {
    let guarded;
    let text = if text.starts_with(['=', '+', '-', '@']) {
        guarded = format!("'{text}");
        guarded.as_str()
    } else {
        text
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
