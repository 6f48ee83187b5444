//! Applying one received sync message: the new changes and the server's heads commit in one
//! local transaction, and only then does the session adopt the message, so the next message we
//! send (which acknowledges those changes) follows a durable write.

use automerge::sync::Message;
use automerge::{Automerge, ChangeHash};
use sync_protocol::DocumentId;
use sync_protocol::session::{IncomingSync, PeerSession, SyncRefusal};

use super::SyncError;
use crate::ClientError;
use crate::store::Store;
use crate::store::documents::DocumentKind;
use crate::sync_seam::write_server_heads;

/// What one applied message changed locally.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Applied {
    /// Changes new to this tablet.
    pub new_changes: usize,
}

/// Applies `incoming` to the stored document (creating it as `kind` if it carries changes).
pub(crate) fn apply(
    store: &mut Store,
    session: &mut PeerSession,
    incoming: &IncomingSync,
    kind: DocumentKind,
) -> Result<Applied, SyncError> {
    let id = incoming.document_id;
    let server_heads = Message::decode(&incoming.data)
        .map(|message| message.heads)
        .map_err(|e| SyncError::Protocol(format!("unreadable sync message: {e}")))?;
    if store.document_kind(id)?.is_none() {
        // Nothing stored yet: store only if the message brings something.
        let candidate = session
            .receive_sync(incoming, &Automerge::new())
            .map_err(|e| refused_by_us(id, &e))?;
        if candidate.is_empty() {
            session
                .accept(candidate)
                .map_err(|e| refused_by_us(id, &e))?;
            return Ok(Applied::default());
        }
    }
    let mut refused = None;
    let upserted = store.upsert_document(id, kind, |doc, conn| {
        let candidate = session
            .receive_sync(incoming, doc.document())
            .map_err(|e| {
                let error = ClientError::Corrupt(format!("sync message for {id}: {e}"));
                refused = Some(e);
                error
            })?;
        doc.apply_changes(candidate.new_changes().iter().cloned())?;
        let known: Vec<ChangeHash> = server_heads
            .iter()
            .copied()
            .filter(|hash| doc.get_change_by_hash(hash).is_some())
            .collect();
        // Heads we do not hold yet would make "pending" unreadable; those we hold are enough
        // to know which of our changes the server has.
        if !known.is_empty() {
            write_server_heads(conn, id, &known)?;
        }
        Ok(candidate)
    });
    let candidate = match (upserted, refused) {
        // Changes whose dependencies did not come: nothing stored, the server is asked to
        // send again everything we lack.
        (Err(_), Some(refusal @ SyncRefusal::NotApplied { .. })) => {
            session.answer_refusal(id, &refusal);
            return Ok(Applied::default());
        }
        (other, _) => other?,
    };
    let new_changes = candidate.new_changes().len();
    session
        .accept(candidate)
        .map_err(|e| refused_by_us(id, &e))?;
    Ok(Applied { new_changes })
}

fn refused_by_us(id: DocumentId, error: &impl std::fmt::Display) -> SyncError {
    SyncError::Protocol(format!(
        "the server sent a sync message for {id} we cannot use: {error}"
    ))
}
