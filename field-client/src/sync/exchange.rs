//! One sync session over one WebSocket: the job list first, then every job it lists and every
//! job stored here, until the server has shown it holds exactly what we hold for every document
//! it did not refuse or withhold (or a time bound hits).
//!
//! The server answers a refused message with an `error` naming the fields, followed by its own
//! view of that document. The `error` goes to the report, never into the session (which would
//! take it as the end of the connection), and the document it concerns stops sending for the
//! rest of the session: its refused change stays here, pending, instead of being offered again
//! and again.

use std::collections::{HashMap, HashSet};

use automerge::Automerge;
use sync_protocol::DocumentId;
use sync_protocol::index::TechnicianIndex;
use sync_protocol::message::{DecodeError, DecodeLimits, PeerId, WireMessage};
use sync_protocol::session::{Event, PeerSession, SessionConfig};
use tokio::time::Instant;

use super::api::ServerApi;
use super::incoming::apply;
use super::link::Link;
use super::report::{Refusal, SyncReport};
use super::{SyncError, SyncOptions};
use crate::store::Store;
use crate::store::documents::DocumentKind;

/// How long the server may take to answer our `join`.
const HANDSHAKE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Runs one session; sync states are saved however the session ends, so a retry resumes
/// cheaply (a run cancelled outright, as `watch` does on a signal, saves none: the next run
/// then exchanges a little more, nothing is lost).
pub(crate) async fn run(
    store: &mut Store,
    api: &ServerApi,
    index: Option<DocumentId>,
    options: &SyncOptions,
    report: &mut SyncReport,
) -> Result<(), SyncError> {
    let mut link = Link::connect(api).await?;
    let mut exchange = Exchange::new(store, api.base(), index);
    let outcome = exchange.drive(&mut link, options, report).await;
    let saved = exchange.save_states();
    report.documents = report.documents.max(exchange.kinds.len());
    link.close().await;
    outcome.and(saved)
}

/// The session and what it has learned so far.
struct Exchange<'s> {
    store: &'s mut Store,
    server_url: String,
    session: PeerSession,
    index: Option<DocumentId>,
    /// Every document taking part, with what it is.
    kinds: HashMap<DocumentId, DocumentKind>,
    /// Documents whose changes the server refused in this session.
    refused: HashSet<DocumentId>,
    /// Documents the server answered with doc-unavailable.
    withheld: HashSet<DocumentId>,
    /// A refusal whose document is the next one the server syncs.
    unattributed: Option<usize>,
}

impl<'s> Exchange<'s> {
    fn new(store: &'s mut Store, server_url: &str, index: Option<DocumentId>) -> Self {
        let actor = store.actor().to_hex_string();
        let peer = PeerId::new(format!("field-{}", &actor[..actor.len().min(16)]));
        Self {
            store,
            server_url: server_url.to_owned(),
            session: PeerSession::connecting(SessionConfig::new(peer)),
            index,
            kinds: HashMap::new(),
            refused: HashSet::new(),
            withheld: HashSet::new(),
            unattributed: None,
        }
    }

    async fn drive(
        &mut self,
        link: &mut Link,
        options: &SyncOptions,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        self.flush(link).await?;
        let handshake_ends = Instant::now() + HANDSHAKE_LIMIT;
        while self.session.remote_peer().is_none() {
            let wait = handshake_ends.saturating_duration_since(Instant::now());
            match link.next(wait).await? {
                Some(frame) => self.handle(&frame, report)?,
                None => return Err(SyncError::Lost("the server did not answer".to_owned())),
            }
        }
        if let Some(index) = self.index {
            self.start(index, DocumentKind::TechnicianIndex)?;
        }
        for (id, kind) in self.store.documents_to_sync()? {
            self.start(id, kind)?;
        }
        let ends = Instant::now() + options.exchange_limit;
        let mut heard = Instant::now();
        loop {
            self.flush(link).await?;
            if Instant::now() >= ends {
                report
                    .notes
                    .push("The server kept sending; the rest comes at the next sync.".to_owned());
                return Ok(());
            }
            match link.next(options.quiet).await? {
                Some(frame) => {
                    self.handle(&frame, report)?;
                    heard = Instant::now();
                }
                // Quiet is not enough: a busy server may still be answering. The exchange is
                // over when the server has shown it holds exactly what we hold, for every
                // document it did not refuse or withhold.
                None if self.settled()? => return Ok(()),
                None if heard.elapsed() >= options.settle_limit => {
                    report.notes.push(
                        "The server did not confirm every job in time; run `field sync` again."
                            .to_owned(),
                    );
                    return Ok(());
                }
                None => {}
            }
        }
    }

    /// Every document taking part is in sync with the server, refused or withheld.
    fn settled(&mut self) -> Result<bool, SyncError> {
        let ids: Vec<DocumentId> = self.kinds.keys().copied().collect();
        for id in ids {
            if self.refused.contains(&id) || self.withheld.contains(&id) {
                continue;
            }
            let in_sync = match self.store.load_document(id)? {
                Some(mut doc) => self.session.peer_in_sync(id, doc.document()),
                None => false,
            };
            if !in_sync {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Sends everything the session queued.
    async fn flush(&mut self, link: &mut Link) -> Result<(), SyncError> {
        let frames: Vec<Vec<u8>> = self
            .session
            .take_outbound()
            .iter()
            .map(WireMessage::encode)
            .collect();
        if frames.is_empty() {
            return Ok(());
        }
        link.send(frames).await
    }

    fn handle(&mut self, frame: &[u8], report: &mut SyncReport) -> Result<(), SyncError> {
        let message = match WireMessage::decode(frame, &DecodeLimits::default()) {
            Ok(message) => message,
            Err(DecodeError::UnknownType { .. }) => return Ok(()),
            Err(error) => return Err(SyncError::Protocol(error.to_string())),
        };
        if let WireMessage::Error(error) = message {
            report.refused.push(Refusal {
                document_id: None,
                message: error.message,
            });
            self.unattributed = Some(report.refused.len() - 1);
            return Ok(());
        }
        let event = self
            .session
            .receive_message(message)
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        match event {
            Event::Sync(incoming) => {
                let id = incoming.document_id;
                let kind = *self.kinds.entry(id).or_insert(DocumentKind::Job);
                let applied = apply(self.store, &mut self.session, &incoming, kind)?;
                report.changes_received += applied.new_changes;
                if let Some(refusal) = self.unattributed.take() {
                    report.refused[refusal].document_id = Some(id);
                    self.refused.insert(id);
                }
                if Some(id) == self.index {
                    self.follow_index(id)?;
                }
                if !self.refused.contains(&id) {
                    self.respond(id)?;
                }
            }
            Event::Unavailable { document_id } => {
                self.withheld.insert(document_id);
                if Some(document_id) == self.index {
                    report
                        .notes
                        .push("The server did not send your job list; ask dispatch.".to_owned());
                } else if !report.unavailable.contains(&document_id) {
                    report.unavailable.push(document_id);
                }
            }
            Event::Connected { .. } | Event::Ephemeral(_) | Event::Skipped(_) => {}
        }
        Ok(())
    }

    /// The job list arrived or changed: make it this tablet's, and sync every job it lists.
    fn follow_index(&mut self, index: DocumentId) -> Result<(), SyncError> {
        let Some(doc) = self.store.load_document(index)? else {
            return Ok(());
        };
        if self.store.index_document_id()? != Some(index) {
            self.store.adopt_index_document(index)?;
        }
        let Ok(list) = TechnicianIndex::read(&doc) else {
            return Ok(());
        };
        for job in list.jobs {
            self.start(job.job_id, DocumentKind::Job)?;
        }
        Ok(())
    }

    /// Begins syncing a document, resuming from the sync state saved last time.
    fn start(&mut self, id: DocumentId, kind: DocumentKind) -> Result<(), SyncError> {
        if self.kinds.contains_key(&id) {
            return Ok(());
        }
        self.kinds.insert(id, kind);
        if let Some(state) = self.store.sync_state(&self.server_url, id)? {
            // An unreadable saved state only costs a fuller first exchange.
            let _ = self.session.restore_sync_state(id, &state);
        }
        self.respond(id)
    }

    /// Queues what the server lacks of `id`, if anything.
    fn respond(&mut self, id: DocumentId) -> Result<(), SyncError> {
        match self.store.load_document(id)? {
            Some(mut doc) => self.session.sync_document(id, doc.document()),
            None => self.session.sync_document(id, &Automerge::new()),
        };
        Ok(())
    }

    fn save_states(&mut self) -> Result<(), SyncError> {
        for id in self.kinds.keys() {
            if self.store.document_kind(*id)?.is_none() {
                continue;
            }
            if let Some(state) = self.session.encoded_sync_state(*id) {
                self.store.save_sync_state(&self.server_url, *id, &state)?;
            }
        }
        Ok(())
    }
}
