//! Object-level authorization of documents: every sync message and every REST id goes through
//! here. A document the caller may not see is indistinguishable from one that does not exist.

use sqlx::PgExecutor;
use sync_protocol::job::Role as WriterRole;
use uuid::Uuid;

use crate::auth::Caller;
use crate::directory::Role;

/// What the caller may do with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentAccess {
    /// See it; any change they send is refused.
    Read,
    /// See it and change the fields their role owns.
    Write(WriterRole),
}

#[derive(sqlx::FromRow)]
struct AccessRow {
    organisation_id: Uuid,
    kind: String,
    complete: Option<bool>,
    archived: Option<bool>,
    status: Option<String>,
    ever_assigned: bool,
    index_owner: Option<Uuid>,
}

/// The caller's access to document `id`, or `None` (then answer "not found" / doc-unavailable).
pub async fn document_access(
    db: impl PgExecutor<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<DocumentAccess>, sqlx::Error> {
    let mut answers = document_access_all(db, &[(caller, id)]).await?;
    Ok(answers.pop().flatten())
}

#[derive(sqlx::FromRow)]
struct NumberedAccessRow {
    /// The check's place in the list (from 1).
    at: i64,
    #[sqlx(flatten)]
    row: AccessRow,
}

/// [`document_access`] for several callers and documents in one statement: the answers in the
/// order of `checks`.
pub async fn document_access_all(
    db: impl PgExecutor<'_>,
    checks: &[(&Caller, Uuid)],
) -> Result<Vec<Option<DocumentAccess>>, sqlx::Error> {
    answered(db, checks, decide).await
}

/// The access of sync peers (the sync connections' checks that arrive together, in one
/// statement): as [`document_access_all`], except that a dispatcher only reads a job that is
/// over (complete, cancelled or archived). The office's changes to such a job are refused at
/// the API and the console (409); over sync they would be taken as the dispatcher's own
/// writes to status, appointment and assignment, and could reopen or un-archive it.
pub async fn sync_access_all(
    db: impl PgExecutor<'_>,
    checks: &[(&Caller, Uuid)],
) -> Result<Vec<Option<DocumentAccess>>, sqlx::Error> {
    answered(db, checks, |caller, row| {
        let over = row.complete.unwrap_or(false)
            || row.archived.unwrap_or(false)
            || row.status.as_deref() == Some("cancelled");
        match decide(caller, row) {
            Some(DocumentAccess::Write(WriterRole::Dispatcher)) if over => {
                Some(DocumentAccess::Read)
            }
            other => other,
        }
    })
    .await
}

async fn answered(
    db: impl PgExecutor<'_>,
    checks: &[(&Caller, Uuid)],
    decide: impl Fn(&Caller, &AccessRow) -> Option<DocumentAccess>,
) -> Result<Vec<Option<DocumentAccess>>, sqlx::Error> {
    let documents: Vec<Uuid> = checks.iter().map(|(_, id)| *id).collect();
    let staff: Vec<Uuid> = checks.iter().map(|(caller, _)| caller.staff_id).collect();
    let rows: Vec<NumberedAccessRow> = sqlx::query_as(
        r#"select t.at, d.organisation_id, d.kind, j.complete,
                  j.archived_at is not null as archived, j.status,
                  exists (select 1 from job_assignments a
                          where a.job_id = d.id and a.technician_id = t.staff) as ever_assigned,
                  ti.technician_id as index_owner
           from unnest($1::uuid[], $2::uuid[]) with ordinality as t(document, staff, at)
           join documents d on d.id = t.document
           left join jobs j on j.id = d.id
           left join technician_indexes ti on ti.document_id = d.id"#,
    )
    .bind(&documents)
    .bind(&staff)
    .fetch_all(db)
    .await?;
    let mut answers = vec![None; checks.len()];
    for numbered in rows {
        let index = usize::try_from(numbered.at - 1).ok();
        if let Some((answer, (caller, _))) =
            index.and_then(|i| answers.get_mut(i).zip(checks.get(i)))
        {
            *answer = decide(caller, &numbered.row);
        }
    }
    Ok(answers)
}

fn decide(caller: &Caller, row: &AccessRow) -> Option<DocumentAccess> {
    if row.organisation_id != caller.organisation_id {
        return None;
    }
    if row.kind == "technician_index" {
        // The server writes index documents; people only read them.
        return match caller.role {
            Role::Technician => {
                (row.index_owner == Some(caller.staff_id)).then_some(DocumentAccess::Read)
            }
            Role::Dispatcher | Role::Admin => Some(DocumentAccess::Read),
            Role::Revisit => None,
        };
    }
    let archived = row.archived.unwrap_or(false);
    match caller.role {
        Role::Technician if row.ever_assigned && !archived => {
            Some(DocumentAccess::Write(WriterRole::Technician))
        }
        Role::Technician => None,
        Role::Dispatcher => Some(DocumentAccess::Write(WriterRole::Dispatcher)),
        Role::Admin => Some(DocumentAccess::Read),
        Role::Revisit => row
            .complete
            .unwrap_or(false)
            .then_some(DocumentAccess::Read),
    }
}
