//! One WebSocket connection: frames go through a `sync_protocol::session::PeerSession` (the
//! automerge-repo handshake, decoding, verification, sync states); each document message is
//! authorized on its own; changes committed elsewhere (here or on another instance) are pushed
//! as they happen. Heartbeats find dead peers; frames and messages are size-limited.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::StreamExt;
use sync_protocol::DocumentId;
use sync_protocol::message::DecodeError;
use sync_protocol::message::{DecodeLimits, ErrorMessage, PeerId, PeerMetadata, WireMessage};
use sync_protocol::session::{Event, IncomingSync, PeerSession, SessionConfig, SessionError};
use uuid::Uuid;

use super::document::{OpenDocument, Receipt, load_state, save_state};
use super::fleet;
use super::hub::{Notice, Watch};
use crate::auth::Caller;
use crate::jobs::DocumentAccess;
use crate::state::AppState;

/// Largest message accepted from a peer. Job documents are small; photos go through uploads.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// Frames up to this size are read whole, so a message over [`MAX_MESSAGE_BYTES`] is refused
/// with a reason after it was read (a frame cut off unread would make the close a reset).
pub const MAX_FRAME_BYTES: usize = 2 * MAX_MESSAGE_BYTES;
const HEARTBEAT: Duration = Duration::from_secs(15);
/// A peer silent (no frame, no pong) for this long is gone.
const DEAD_AFTER: Duration = Duration::from_secs(45);
/// A peer that does not take a frame within this long is too slow (or gone): closed.
const SEND_LIMIT: Duration = Duration::from_secs(30);
/// How often a busy connection updates its device's "last synced" time.
const SYNCED_NOTE_EVERY: Duration = Duration::from_secs(5);

/// Why the connection ends early, and whether the peer still has to be told.
enum Fatal {
    /// The session already queued an `error` message for the peer; the close code with it.
    Told(u16, String),
    Tell(String),
    /// Our storage failed: the peer's work was not taken and must be sent again. Never told
    /// as a refusal or as `doc-unavailable`: closed with 1011 so a tablet retries.
    Storage,
}

/// What the peer is told when storing (or reading what it needs to store) fails under it.
const STORAGE_FAILED: &str = "the office could not store your work; keep it and retry";

/// Whether a peer may use a document, or we could not tell.
enum Opened {
    Yes,
    No,
    StorageFailed,
    /// The stored document is damaged (why): held back, alone (see [`Connection::hold_back`]).
    Damaged(String),
}

/// Why a document could not be had from the store.
enum Unloaded {
    /// The database failed under us: the connection closes with 1011 and the peer retries.
    Storage,
    /// The stored document is damaged (why): only this document is held back.
    Damaged(String),
}

struct Connection {
    app: AppState,
    caller: Caller,
    session: PeerSession,
    /// The documents this peer has opened, with what it may do with each. The documents
    /// themselves stay in the shared cache, taken from it per message, so a connection that
    /// touched many jobs does not pin them all in memory.
    documents: HashMap<Uuid, DocumentAccess>,
    /// Written directly (no writer task, no queue: an idle connection keeps nothing it does not
    /// use); a write the peer does not take within [`SEND_LIMIT`] ends the connection.
    socket: WebSocket,
    /// A write failed or timed out: the connection is over.
    broken: bool,
    synced_noted: Option<Instant>,
    /// The device's "last synced" time is to be updated after the next flush.
    synced_due: bool,
    /// Notices of changes to the documents this peer opened.
    watch: Watch,
}

pub async fn run(app: AppState, caller: Caller, socket: WebSocket) {
    let _open = app.metrics.sync_connection();
    let watch = app.sync_hub.watch();
    let mut closing = app.sync_hub.closing();
    let server_peer = format!(
        "fieldsync-server-{}",
        &app.documents.actor().to_hex_string()[..12]
    );
    let mut config = SessionConfig::new(PeerId::new(server_peer));
    config.metadata = PeerMetadata {
        storage_id: None,
        is_ephemeral: false,
    };
    config.limits = DecodeLimits {
        max_message_bytes: MAX_MESSAGE_BYTES,
        ..DecodeLimits::default()
    };
    let mut connection = Connection {
        app,
        caller,
        session: PeerSession::accepting(config),
        documents: HashMap::new(),
        socket,
        broken: false,
        synced_noted: None,
        synced_due: false,
        watch,
    };
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            frame = connection.socket.next() => {
                last_heard = Instant::now();
                let result = match frame {
                    Some(Ok(Message::Binary(bytes))) => {
                        // Over its rate, a device's messages are read more slowly (the socket's
                        // buffer then pushes back on the sender); nothing is refused.
                        while let Some(wait) = connection.app.rates.take(connection.caller.device_token_id) {
                            tokio::time::sleep(wait).await;
                        }
                        Box::pin(connection.handle(&bytes)).await
                    }
                    Some(Ok(Message::Text(_))) => Err(Fatal::Tell("send binary CBOR frames, not text".into())),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
                    Some(Err(e)) if over_size_limit(&e) => {
                        Box::pin(connection.close_with(1009, &format!(
                            "message too big: at most {} MiB per message; photos go through uploads",
                            MAX_MESSAGE_BYTES / (1024 * 1024)
                        ))).await;
                        // Best effort: the rest of the frame is unread, so the close may
                        // reach the peer as a reset.
                        break;
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "sync connection read failed");
                        break;
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                };
                connection.flush().await;
                if connection.broken {
                    break;
                }
                if connection.synced_due {
                    connection.synced_due = false;
                    let _ = Box::pin(fleet::synced(&connection.app.db, connection.caller.device_token_id)).await;
                }
                match result {
                    Ok(()) => {}
                    Err(Fatal::Told(code, reason)) => {
                        Box::pin(connection.close_with(code, &reason)).await;
                        break;
                    }
                    Err(Fatal::Tell(reason)) => {
                        Box::pin(connection.close(&reason)).await;
                        break;
                    }
                    Err(Fatal::Storage) => {
                        Box::pin(connection.close_with(1011, STORAGE_FAILED)).await;
                        break;
                    }
                }
                if connection.session.is_closed() {
                    Box::pin(connection.close("session ended")).await;
                    break;
                }
            }
            notice = connection.watch.recv() => {
                let only = match notice {
                    Notice::Changed(id) => Some(id),
                    // Fell behind the notices: resynchronise everything this peer has open.
                    Notice::Lagged => None,
                };
                Box::pin(connection.push(only)).await;
                connection.flush().await;
                if connection.broken {
                    break;
                }
            }
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > DEAD_AFTER {
                    tracing::info!(device = %connection.caller.device_token_id, "peer silent, closing");
                    break;
                }
                // A token revoked (or its staff member disabled) while connected stops here,
                // within one heartbeat. A failed check keeps the connection: the database
                // being away must not drop every tablet.
                if let Ok(false) = Box::pin(connection.caller.still_valid(&connection.app.db)).await {
                    tracing::info!(device = %connection.caller.device_token_id, "token revoked, closing");
                    Box::pin(connection.close("this device's token was revoked; ask dispatch for a new one")).await;
                    break;
                }
                if !connection.send(Message::Ping(Default::default())).await {
                    break;
                }
            }
            _ = closing.changed() => {
                Box::pin(connection.close_with(1001, "server shutting down")).await;
                break;
            }
        }
    }
    Box::pin(connection.finish()).await;
}

/// Whether the WebSocket refused a frame or message for being over [`MAX_MESSAGE_BYTES`].
fn over_size_limit(error: &axum::Error) -> bool {
    std::error::Error::source(error)
        .and_then(|e| e.downcast_ref::<tungstenite::Error>())
        .is_some_and(|e| matches!(e, tungstenite::Error::Capacity(_)))
}

impl Connection {
    /// Writes `message`; false (and the connection is broken) if the peer is gone or does not
    /// take it within [`SEND_LIMIT`].
    async fn send(&mut self, message: Message) -> bool {
        if self.broken {
            return false;
        }
        let sent = tokio::time::timeout(SEND_LIMIT, self.socket.send(message)).await;
        if !matches!(sent, Ok(Ok(()))) {
            self.broken = true;
        }
        !self.broken
    }

    /// Sends what the session queued.
    async fn flush(&mut self) {
        for message in self.session.take_outbound() {
            if !self.send(Message::Binary(message.encode().into())).await {
                return;
            }
        }
    }

    /// Tells the peer why (an `error` message), then closes.
    async fn close(&mut self, reason: &str) {
        self.send_error(reason).await;
        self.close_with(1008, reason).await;
    }

    async fn close_with(&mut self, code: u16, reason: &str) {
        self.send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.chars().take(100).collect::<String>().into(),
        })))
        .await;
    }

    async fn send_error(&mut self, reason: &str) {
        let target = self
            .session
            .remote_peer()
            .cloned()
            .unwrap_or_else(|| PeerId::new("unknown"));
        let error = WireMessage::Error(ErrorMessage {
            sender_id: self.session_peer(),
            message: reason.to_owned(),
            target_id: target,
        });
        self.send(Message::Binary(error.encode().into())).await;
    }

    fn session_peer(&self) -> PeerId {
        PeerId::new(format!(
            "fieldsync-server-{}",
            &self.app.documents.actor().to_hex_string()[..12]
        ))
    }

    async fn handle(&mut self, frame: &[u8]) -> Result<(), Fatal> {
        match self.session.receive(frame) {
            Ok(Event::Connected { peer_id, .. }) => {
                let _ = fleet::connected(
                    &self.app.db,
                    self.caller.device_token_id,
                    peer_id.as_str(),
                    "automerge-repo/1",
                )
                .await;
                Ok(())
            }
            Ok(Event::Sync(incoming)) => self.sync(incoming).await,
            Ok(Event::Unavailable { .. } | Event::Ephemeral(_) | Event::Skipped(_)) => Ok(()),
            // The session queued an `error` for the peer; the flush sends it before we close.
            Err(e) if e.closes_connection() => {
                tracing::info!(device = %self.caller.device_token_id, error = %e, "closing a sync connection");
                // 1009 "message too big" for a message over the limit; 1008 "policy" otherwise.
                let code = if matches!(e, SessionError::Decode(DecodeError::TooLarge { .. })) {
                    1009
                } else {
                    1008
                };
                Err(Fatal::Told(code, e.to_string()))
            }
            Err(e) => {
                tracing::warn!(error = %e, "sync session");
                Ok(())
            }
        }
    }

    async fn sync(&mut self, incoming: IncomingSync) -> Result<(), Fatal> {
        let id = incoming.document_id.as_uuid();
        match self.open(id).await {
            Opened::Yes => {}
            Opened::No => {
                self.session.unavailable(incoming.document_id);
                return Ok(());
            }
            Opened::StorageFailed => return Err(Fatal::Storage),
            Opened::Damaged(reason) => {
                self.hold_back(id, &reason);
                return Ok(());
            }
        }
        let caller = self.caller.clone();
        let open = match loaded(&self.app, &self.documents, id).await {
            Ok(Some(open)) => open,
            Ok(None) => return Err(Fatal::Tell("lost document".into())),
            Err(Unloaded::Storage) => return Err(Fatal::Storage),
            Err(Unloaded::Damaged(reason)) => {
                self.hold_back(id, &reason);
                return Ok(());
            }
        };
        match open
            .receive(&self.app, &caller, &mut self.session, &incoming)
            .await
        {
            Ok(Receipt::Accepted { .. }) => {
                if self
                    .synced_noted
                    .is_none_or(|at| at.elapsed() > SYNCED_NOTE_EVERY)
                {
                    // Noted once the answer is sent: the acknowledgement does not wait on it.
                    self.synced_noted = Some(Instant::now());
                    self.synced_due = true;
                }
            }
            Ok(Receipt::AskedAgain(reason)) => {
                tracing::debug!(document = %id, device = %caller.device_token_id, %reason, "asked the peer again for changes");
            }
            Ok(Receipt::Refused(reason)) => {
                tracing::info!(document = %id, device = %caller.device_token_id, %reason, "sync message refused");
                self.flush().await;
                self.send_error(&reason).await;
                // Show the peer what we do have, so it knows its changes were not taken.
                open_push(
                    &self.app,
                    &self.documents,
                    &mut self.session,
                    id,
                    incoming.document_id,
                )
                .await;
            }
            Err(e) if e.is_damaged_document() => self.hold_back(id, &format!("{e:?}")),
            Err(e) => {
                tracing::error!(document = %id, error = %e, "sync failed");
                return Err(Fatal::Storage);
            }
        }
        Ok(())
    }

    /// A document damaged in storage is not answered at all, and the connection goes on: the
    /// peer's other documents sync as usual, and its own copy keeps every change (nothing is
    /// taken, so nothing is acknowledged). Not `doc-unavailable` (the peer would read "not
    /// shared with you") and not an `error` (it names no document): the peer's next message
    /// tries again, and gets through once an operator has restored the document from a backup
    /// (the log names it, with the damaged chunk; `/metrics` counts it).
    fn hold_back(&self, id: Uuid, reason: &str) {
        tracing::error!(
            document = %id,
            device = %self.caller.device_token_id,
            %reason,
            "a synced document is damaged in storage and is held back until restored from a backup; \
             the device keeps its changes"
        );
    }

    /// Whether the caller may see document `id` (checked on every message: access changes). A
    /// storage failure is told apart: it must never look like "not shared with you".
    async fn open(&mut self, id: Uuid) -> Opened {
        let checks = &self.app.sync_access;
        let access = match checks.check(&self.app.db, &self.caller, id).await {
            Ok(Some(access)) => access,
            Ok(None) => return Opened::No,
            Err(e) => {
                tracing::warn!(document = %id, error = %e, "checking document access failed");
                return Opened::StorageFailed;
            }
        };
        if let Some(known) = self.documents.get_mut(&id) {
            *known = access;
            return Opened::Yes;
        }
        match self.app.documents.get(id).await {
            Ok(Some(_)) => {}
            Ok(None) => return Opened::No,
            Err(e) if e.is_damaged() => return Opened::Damaged(e.to_string()),
            Err(e) => {
                tracing::warn!(document = %id, error = %e, "loading a document failed");
                return Opened::StorageFailed;
            }
        }
        let wire_id = DocumentId::from_uuid(id);
        if let Some(state) = load_state(&self.app, self.caller.device_token_id, id).await
            && self.session.restore_sync_state(wire_id, &state).is_err()
        {
            tracing::debug!(document = %id, "discarding an unreadable saved sync state");
        }
        self.documents.insert(id, access);
        self.watch.add(id);
        Opened::Yes
    }

    /// Queues what the peer lacks of `only` (or of every open document).
    async fn push(&mut self, only: Option<Uuid>) {
        if self.session.remote_peer().is_none() {
            return;
        }
        let ids: Vec<Uuid> = match only {
            Some(id) if self.documents.contains_key(&id) => vec![id],
            Some(_) => return,
            None => self.documents.keys().copied().collect(),
        };
        for id in ids {
            open_push(
                &self.app,
                &self.documents,
                &mut self.session,
                id,
                DocumentId::from_uuid(id),
            )
            .await;
        }
    }

    async fn finish(&mut self) {
        let ids: Vec<Uuid> = self.documents.keys().copied().collect();
        for id in ids {
            if let Some(state) = self.session.forget_document(DocumentId::from_uuid(id)) {
                save_state(&self.app, self.caller.device_token_id, id, &state).await;
            }
        }
        let _ = fleet::disconnected(&self.app.db, self.caller.device_token_id).await;
    }
}

/// Document `id` as this connection syncs it, taken from the cache (loaded again if it was
/// evicted while idle); `None` if the peer has not opened it or it is gone, `Err` if it could
/// not be loaded.
async fn loaded(
    app: &AppState,
    documents: &HashMap<Uuid, DocumentAccess>,
    id: Uuid,
) -> Result<Option<OpenDocument>, Unloaded> {
    let Some(access) = documents.get(&id).copied() else {
        return Ok(None);
    };
    match app.documents.get(id).await {
        Ok(Some(document)) => Ok(Some(OpenDocument { document, access })),
        Ok(None) => Ok(None),
        Err(e) if e.is_damaged() => Err(Unloaded::Damaged(e.to_string())),
        Err(e) => {
            tracing::warn!(document = %id, error = %e, "loading a document failed");
            Err(Unloaded::Storage)
        }
    }
}

async fn open_push(
    app: &AppState,
    documents: &HashMap<Uuid, DocumentAccess>,
    session: &mut PeerSession,
    id: Uuid,
    wire_id: DocumentId,
) {
    // A push that cannot load the document waits for the next change or message.
    match loaded(app, documents, id).await {
        Ok(Some(open)) => open.push(session, wire_id).await,
        Ok(None) | Err(Unloaded::Storage) => {}
        Err(Unloaded::Damaged(reason)) => {
            tracing::error!(document = %id, %reason, "a document to push is damaged in storage");
        }
    }
}
