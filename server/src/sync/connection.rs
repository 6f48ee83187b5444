//! One WebSocket connection: the automerge-repo handshake, then sync and request messages, each
//! authorized on its own; changes committed elsewhere (here or on another instance) are pushed
//! as they happen. Heartbeats find dead peers; frames and messages are size-limited.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use sync_protocol::DocumentId;
use tokio::sync::{broadcast, mpsc};
use uuid::Uuid;

use super::document::{DocumentSync, Receipt, load_state, save_state};
use super::fleet;
use super::wire::{self, Inbound, Outbound, PROTOCOL_VERSION};
use crate::auth::Caller;
use crate::jobs::document_access;
use crate::state::AppState;

/// Largest message accepted from a peer. Job documents are small; photos go through uploads.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
const HEARTBEAT: Duration = Duration::from_secs(15);
/// A peer silent (no frame, no pong) for this long is gone.
const DEAD_AFTER: Duration = Duration::from_secs(45);
/// Outbound frames queued per connection before the connection is considered too slow.
const OUTBOUND_QUEUE: usize = 64;

/// Why the connection ends early; sent to the peer as an `error` message before closing.
struct Fatal(String);

struct Connection {
    app: AppState,
    caller: Caller,
    server_peer: String,
    peer: Option<String>,
    documents: HashMap<Uuid, (String, DocumentSync)>,
    out: mpsc::Sender<Message>,
    /// When the fleet view last heard of a successful sync (written at most every few seconds).
    synced_noted: Option<Instant>,
}

/// How often a busy connection updates its device's "last synced" time.
const SYNCED_NOTE_EVERY: Duration = Duration::from_secs(5);

pub async fn run(app: AppState, caller: Caller, socket: WebSocket) {
    let (mut sink, mut stream) = socket.split();
    let (out, mut outbound) = mpsc::channel::<Message>(OUTBOUND_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(message) = outbound.recv().await {
            let closing = matches!(message, Message::Close(_));
            if sink.send(message).await.is_err() || closing {
                break;
            }
        }
    });
    let mut changes = app.sync_hub.subscribe();
    let mut closing = app.sync_hub.closing();
    let mut connection = Connection {
        server_peer: format!(
            "fieldsync-server-{}",
            &app.documents.actor().to_hex_string()[..12]
        ),
        app,
        caller,
        peer: None,
        documents: HashMap::new(),
        out,
        synced_noted: None,
    };
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            frame = stream.next() => {
                last_heard = Instant::now();
                let result = match frame {
                    Some(Ok(Message::Binary(bytes))) => connection.handle(&bytes).await,
                    Some(Ok(Message::Text(_))) => Err(Fatal("send binary CBOR frames, not text".into())),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(true),
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => Ok(false),
                };
                match result {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(Fatal(reason)) => {
                        connection.fail(&reason).await;
                        break;
                    }
                }
            }
            changed = changes.recv() => match changed {
                Ok(id) => connection.push(Some(id)).await,
                // Fell behind the notices: resynchronise everything this peer has open.
                Err(broadcast::error::RecvError::Lagged(_)) => connection.push(None).await,
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = heartbeat.tick() => {
                if last_heard.elapsed() > DEAD_AFTER {
                    tracing::info!(device = %connection.caller.device_token_id, "peer silent, closing");
                    break;
                }
                let _ = connection.out.try_send(Message::Ping(Default::default()));
            }
            _ = closing.changed() => {
                let _ = connection.out.send(Message::Close(Some(CloseFrame {
                    code: 1001,
                    reason: "server shutting down".into(),
                }))).await;
                break;
            }
        }
    }
    connection.finish().await;
    drop(connection);
    let _ = writer.await;
}

impl Connection {
    async fn send(&self, bytes: Vec<u8>) -> Result<(), Fatal> {
        self.out
            .send(Message::Binary(bytes.into()))
            .await
            .map_err(|_| Fatal("connection closed".into()))
    }

    async fn fail(&self, reason: &str) {
        let target = self.peer.as_deref().unwrap_or("unknown");
        let _ = self
            .send(wire::encode(Outbound::Error {
                sender_id: &self.server_peer,
                target_id: target,
                message: reason,
            }))
            .await;
        let _ = self
            .out
            .send(Message::Close(Some(CloseFrame {
                code: 1008,
                reason: reason.chars().take(100).collect::<String>().into(),
            })))
            .await;
    }

    /// Handles one frame; `Ok(false)` ends the connection politely.
    async fn handle(&mut self, frame: &[u8]) -> Result<bool, Fatal> {
        if frame.len() > MAX_MESSAGE_BYTES {
            return Err(Fatal(format!(
                "message larger than {MAX_MESSAGE_BYTES} bytes"
            )));
        }
        let message = wire::decode(frame).map_err(|e| Fatal(format!("malformed message: {e}")))?;
        match message {
            Inbound::Join {
                sender_id,
                supported_protocol_versions,
            } => self.join(sender_id, &supported_protocol_versions).await?,
            Inbound::Request {
                sender_id,
                document_id,
                data,
            }
            | Inbound::Sync {
                sender_id,
                document_id,
                data,
            } => {
                self.check_sender(&sender_id)?;
                self.sync(&document_id, &data).await?;
            }
            Inbound::Leave => return Ok(false),
            Inbound::DocUnavailable { .. } | Inbound::Ephemeral | Inbound::Other(_) => {
                self.check_joined()?;
            }
        }
        Ok(true)
    }

    async fn join(&mut self, sender_id: String, versions: &[String]) -> Result<(), Fatal> {
        if self.peer.is_some() {
            return Err(Fatal("already joined".into()));
        }
        if !versions.iter().any(|v| v == PROTOCOL_VERSION) {
            self.peer = Some(sender_id);
            return Err(Fatal("unsupported protocol version".into()));
        }
        if sender_id.is_empty() || sender_id.len() > 200 {
            return Err(Fatal("a peer id must be 1 to 200 characters".into()));
        }
        let _ = fleet::connected(
            &self.app.db,
            self.caller.device_token_id,
            &sender_id,
            "automerge-repo/1",
        )
        .await;
        self.send(wire::encode(Outbound::Peer {
            sender_id: &self.server_peer,
            target_id: &sender_id,
        }))
        .await?;
        self.peer = Some(sender_id);
        Ok(())
    }

    fn check_joined(&self) -> Result<&str, Fatal> {
        self.peer
            .as_deref()
            .ok_or_else(|| Fatal("send a join message first".into()))
    }

    /// The peer id is bound to this authenticated connection: no speaking for another peer.
    fn check_sender(&self, sender_id: &str) -> Result<(), Fatal> {
        if self.check_joined()? != sender_id {
            return Err(Fatal(
                "senderId differs from the peer id this connection joined with".into(),
            ));
        }
        Ok(())
    }

    async fn sync(&mut self, wire_id: &str, data: &[u8]) -> Result<(), Fatal> {
        let Some(id) = self.authorize(wire_id).await else {
            return self.unavailable(wire_id).await;
        };
        let caller = self.caller.clone();
        let receipt = {
            let (_, entry) = self
                .documents
                .get_mut(&id)
                .ok_or_else(|| Fatal("lost document".into()))?;
            entry.receive(&self.app, &caller, data).await
        };
        match receipt {
            Ok(Receipt::Accepted { .. }) => {
                if self
                    .synced_noted
                    .is_none_or(|at| at.elapsed() > SYNCED_NOTE_EVERY)
                {
                    self.synced_noted = Some(Instant::now());
                    let _ = fleet::synced(&self.app.db, caller.device_token_id).await;
                }
            }
            Ok(Receipt::Refused(reason)) => {
                tracing::info!(document = %id, device = %caller.device_token_id, %reason, "sync message refused");
                let peer = self.check_joined()?.to_owned();
                self.send(wire::encode(Outbound::Error {
                    sender_id: &self.server_peer,
                    target_id: &peer,
                    message: &reason,
                }))
                .await?;
            }
            Err(e) => {
                tracing::error!(document = %id, error = %e, "sync failed");
                return Err(Fatal(
                    "the server could not store your changes; reconnect and retry".into(),
                ));
            }
        }
        self.push(Some(id)).await;
        Ok(())
    }

    /// The document's id if the caller may see it (checked on every message: access changes).
    async fn authorize(&mut self, wire_id: &str) -> Option<Uuid> {
        let id = DocumentId::parse(wire_id).ok()?.as_uuid();
        let access = document_access(&self.app.db, &self.caller, id)
            .await
            .ok()??;
        if let Some((_, entry)) = self.documents.get_mut(&id) {
            entry.access = access;
            return Some(id);
        }
        let document = self.app.documents.get(id).await.ok()??;
        let state = load_state(&self.app, self.caller.device_token_id, id).await;
        self.documents.insert(
            id,
            (
                wire_id.to_owned(),
                DocumentSync {
                    document,
                    access,
                    state,
                },
            ),
        );
        Some(id)
    }

    async fn unavailable(&self, wire_id: &str) -> Result<(), Fatal> {
        let peer = self.check_joined()?.to_owned();
        self.send(wire::encode(Outbound::DocUnavailable {
            sender_id: &self.server_peer,
            target_id: &peer,
            document_id: wire_id,
        }))
        .await
    }

    /// Sends what the peer lacks of `only` (or of every open document).
    async fn push(&mut self, only: Option<Uuid>) {
        let Some(peer) = self.peer.clone() else {
            return;
        };
        let ids: Vec<Uuid> = match only {
            Some(id) if self.documents.contains_key(&id) => vec![id],
            Some(_) => return,
            None => self.documents.keys().copied().collect(),
        };
        for id in ids {
            let Some((wire_id, entry)) = self.documents.get_mut(&id) else {
                continue;
            };
            if let Some(data) = entry.generate().await {
                let frame = wire::encode(Outbound::Sync {
                    sender_id: &self.server_peer,
                    target_id: &peer,
                    document_id: wire_id,
                    data,
                });
                if self.out.send(Message::Binary(frame.into())).await.is_err() {
                    return;
                }
            }
        }
    }

    async fn finish(&self) {
        for (id, (_, entry)) in &self.documents {
            save_state(&self.app, self.caller.device_token_id, *id, &entry.state).await;
        }
        let _ = fleet::disconnected(&self.app.db, self.caller.device_token_id).await;
    }
}
