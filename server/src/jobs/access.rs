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
    ever_assigned: bool,
    index_owner: Option<Uuid>,
}

/// The caller's access to document `id`, or `None` (then answer "not found" / doc-unavailable).
pub async fn document_access(
    db: impl PgExecutor<'_>,
    caller: &Caller,
    id: Uuid,
) -> Result<Option<DocumentAccess>, sqlx::Error> {
    let row: Option<AccessRow> = sqlx::query_as(
        r#"select d.organisation_id, d.kind, j.complete, j.archived_at is not null as archived,
                  exists (select 1 from job_assignments a
                          where a.job_id = d.id and a.technician_id = $2) as ever_assigned,
                  ti.technician_id as index_owner
           from documents d
           left join jobs j on j.id = d.id
           left join technician_indexes ti on ti.document_id = d.id
           where d.id = $1"#,
    )
    .bind(id)
    .bind(caller.staff_id)
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|row| decide(caller, &row)))
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
