//! A raw automerge-repo peer in Rust, speaking the wire protocol frame by frame: for tests that
//! need to see exactly what the server answers (acknowledgements, refusals, malformed input).

use std::time::Duration;

use automerge::Automerge;
use automerge::sync::{self, SyncDoc};
use ciborium::Value;
use futures_util::{SinkExt, StreamExt};
use sync_protocol::DocumentId;
use sync_protocol::message::{DecodeLimits, DocumentSync, Join, PeerId, PeerMetadata, WireMessage};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// One message from the server, decoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    Peer {
        sender_id: String,
    },
    Error {
        message: String,
    },
    Sync {
        document_id: String,
        data: Vec<u8>,
    },
    DocUnavailable {
        document_id: String,
    },
    /// The connection closed.
    Closed,
}

#[derive(Debug)]
pub struct RawPeer {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub peer_id: String,
}

impl RawPeer {
    /// Opens `/sync` with `?token=`; `Err` carries the HTTP status of a refused upgrade.
    pub async fn connect(base_url: &str, token: &str) -> Result<Self, u16> {
        let url = format!(
            "{}/sync?token={token}",
            base_url.replace("http://", "ws://")
        );
        match connect_async(url).await {
            Ok((socket, _)) => Ok(Self {
                socket,
                peer_id: format!("rust-peer-{}", uuid::Uuid::new_v4().simple()),
            }),
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("connecting: {e}"),
        }
    }

    /// Connects and completes the handshake.
    pub async fn joined(base_url: &str, token: &str) -> Self {
        let mut peer = Self::connect(base_url, token)
            .await
            .expect("upgrade accepted");
        peer.join(&["1"]).await;
        match peer.recv().await {
            Received::Peer { .. } => peer,
            other => panic!("expected a peer message, got {other:?}"),
        }
    }

    pub async fn join(&mut self, versions: &[&str]) {
        let join = WireMessage::Join(Join {
            sender_id: PeerId::new(self.peer_id.clone()),
            peer_metadata: Some(PeerMetadata::default()),
            supported_protocol_versions: Some(versions.iter().map(|v| (*v).to_owned()).collect()),
        });
        self.send_raw(join.encode()).await;
    }

    pub async fn request(&mut self, document_id: &str, data: Vec<u8>) {
        self.send_document("request", document_id, data).await;
    }

    pub async fn sync(&mut self, document_id: &str, data: Vec<u8>) {
        self.send_document("sync", document_id, data).await;
    }

    async fn send_document(&mut self, kind: &str, document_id: &str, data: Vec<u8>) {
        if let Ok(id) = DocumentId::parse(document_id) {
            let sync = DocumentSync {
                sender_id: PeerId::new(self.peer_id.clone()),
                target_id: PeerId::new("server"),
                document_id: id,
                data,
            };
            let message = if kind == "request" {
                WireMessage::Request(sync)
            } else {
                WireMessage::Sync(sync)
            };
            return self.send_raw(message.encode()).await;
        }
        // Not a document id: only raw CBOR can carry it.
        let message = map(vec![
            ("type", text(kind)),
            ("senderId", text(&self.peer_id)),
            ("targetId", text("server")),
            ("documentId", text(document_id)),
            ("data", Value::Bytes(data)),
        ]);
        self.send_value(message).await;
    }

    async fn send_value(&mut self, value: Value) {
        let mut bytes = Vec::new();
        ciborium::into_writer(&value, &mut bytes).expect("encoding CBOR");
        self.send_raw(bytes).await;
    }

    pub async fn send_raw(&mut self, bytes: Vec<u8>) {
        let _ = self.socket.send(Message::Binary(bytes.into())).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        let _ = self.socket.send(Message::Text(text.into())).await;
    }

    /// The next message (pings skipped); `Closed` after 10 s of silence too.
    pub async fn recv(&mut self) -> Received {
        self.recv_within(Duration::from_secs(10)).await
    }

    /// The next message (pings skipped); `Closed` after `limit` of silence too.
    pub async fn recv_within(&mut self, limit: Duration) -> Received {
        loop {
            let next = tokio::time::timeout(limit, self.socket.next()).await;
            let Ok(Some(Ok(frame))) = next else {
                return Received::Closed;
            };
            match frame {
                Message::Binary(bytes) => return decode(&bytes),
                Message::Close(_) => return Received::Closed,
                _ => continue,
            }
        }
    }

    /// Whether nothing at all (no message, no close) comes within `limit`, pings skipped.
    pub async fn silent_for(&mut self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return true,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
                Ok(_) => return false,
            }
        }
    }

    /// The close frame's code and reason, skipping messages before it; `None` if the
    /// connection ended without one (or none came within `limit`, pings or not).
    pub async fn close_frame(&mut self, limit: Duration) -> Option<(u16, String)> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next()).await;
            match next {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                }
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    /// The next message that is not a sync message (the server follows a refusal with its own
    /// state of the document, which tests reading refusals skip).
    pub async fn recv_skipping_sync(&mut self) -> Received {
        loop {
            match self.recv().await {
                Received::Sync { .. } => continue,
                other => return other,
            }
        }
    }

    /// A peer joined as `token` that holds document `document_id` as the server has it: the
    /// peer, its copy and its sync state.
    pub async fn with_document(
        base_url: &str,
        token: &str,
        document_id: &str,
    ) -> (Self, Automerge, sync::State) {
        let mut peer = Self::joined(base_url, token).await;
        let mut doc = Automerge::new();
        let mut state = sync::State::new();
        peer.sync_until_in_sync(document_id, &mut doc, &mut state)
            .await;
        (peer, doc, state)
    }

    /// Syncs `doc` with the server until the protocol says both hold the same: the server's
    /// last message announced exactly our heads and we have nothing left to send. Each answer
    /// may take up to [`IN_SYNC_LIMIT`]; silence is never taken for agreement. Returns what
    /// crossed the wire.
    pub async fn sync_until_in_sync(
        &mut self,
        document_id: &str,
        doc: &mut Automerge,
        state: &mut sync::State,
    ) -> Traffic {
        let mut first = true;
        let mut traffic = Traffic::default();
        loop {
            if state.their_heads.as_deref() == Some(&doc.get_heads()[..]) {
                return traffic;
            }
            if let Some(message) = doc.generate_sync_message(state) {
                let data = message.encode();
                traffic.sent_messages += 1;
                traffic.sent_bytes += data.len();
                if first {
                    self.request(document_id, data).await;
                } else {
                    self.sync(document_id, data).await;
                }
                first = false;
            }
            match self.recv_within(IN_SYNC_LIMIT).await {
                Received::Sync { data, .. } => {
                    traffic.received_messages += 1;
                    traffic.received_bytes += data.len();
                    let message = sync::Message::decode(&data).expect("server sync message");
                    doc.receive_sync_message(state, message)
                        .expect("applying the server's message");
                }
                Received::Closed => panic!(
                    "closed, or the server did not reach our heads within {IN_SYNC_LIMIT:?} (theirs {:?}, ours {:?})",
                    state.their_heads,
                    doc.get_heads()
                ),
                other => panic!("unexpected message while syncing: {other:?}"),
            }
        }
    }
}

/// A job document as the server holds it, fetched over the sync protocol with `token` (a
/// dispatcher's sees every job of the organisation).
pub async fn fetch_job_document(
    base_url: &str,
    token: &str,
    document_url: &str,
) -> sync_protocol::job::JobDocument {
    let mut peer = RawPeer::joined(base_url, token).await;
    let mut doc = Automerge::new();
    peer.sync_until_in_sync(
        document_url.trim_start_matches("automerge:"),
        &mut doc,
        &mut sync::State::new(),
    )
    .await;
    sync_protocol::job::JobDocument::read(&doc).expect("a readable job document")
}

/// How long the server may take to answer one sync message before a test fails: generous,
/// since it bounds a failure, not a success.
pub const IN_SYNC_LIMIT: Duration = Duration::from_secs(30);

/// Sync messages exchanged (their Automerge payloads) until both sides held the same.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub sent_messages: usize,
    pub sent_bytes: usize,
    pub received_messages: usize,
    pub received_bytes: usize,
}

fn text(s: &str) -> Value {
    Value::Text(s.to_owned())
}

fn map(entries: Vec<(&str, Value)>) -> Value {
    Value::Map(entries.into_iter().map(|(k, v)| (text(k), v)).collect())
}

fn decode(bytes: &[u8]) -> Received {
    match WireMessage::decode(bytes, &DecodeLimits::default())
        .expect("the server sends protocol messages")
    {
        WireMessage::Peer(peer) => Received::Peer {
            sender_id: peer.sender_id.as_str().to_owned(),
        },
        WireMessage::Error(error) => Received::Error {
            message: error.message,
        },
        WireMessage::Sync(sync) => Received::Sync {
            document_id: sync.document_id.to_string(),
            data: sync.data,
        },
        WireMessage::DocUnavailable(gone) => Received::DocUnavailable {
            document_id: gone.document_id.to_string(),
        },
        other => panic!("unexpected message type {}", other.kind()),
    }
}
