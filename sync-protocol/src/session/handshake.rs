//! Turning incoming frames into [`Event`]s: the join/peer handshake, then routing per-document
//! messages. Fatal problems queue an `error` message for the peer and end the session.

use super::error::SessionError;
use super::{Event, IncomingSync, PeerSession, Skipped};
use crate::message::{DecodeError, ErrorMessage, Join, PROTOCOL_V1, Peer, PeerId, WireMessage};

impl PeerSession {
    /// Handles one frame from the peer. Size limits apply before any decoding. On `Err` with
    /// [`SessionError::closes_connection`], send [`Self::take_outbound`] and close.
    pub fn receive(&mut self, frame: &[u8]) -> Result<Event, SessionError> {
        if self.closed {
            return Err(SessionError::Closed);
        }
        match WireMessage::decode(frame, &self.config.limits) {
            Ok(message) => self.receive_message(message),
            Err(DecodeError::UnknownType { kind }) => {
                Ok(Event::Skipped(Skipped::UnknownType(kind)))
            }
            Err(error) => Err(self.fail(error.into())),
        }
    }

    /// Handles an already decoded message (for transports that decode themselves).
    pub fn receive_message(&mut self, message: WireMessage) -> Result<Event, SessionError> {
        if self.closed {
            return Err(SessionError::Closed);
        }
        match message {
            WireMessage::Join(join) if self.accepting => self.on_join(join),
            WireMessage::Peer(peer) if !self.accepting && self.remote.is_none() => {
                self.on_peer(peer)
            }
            WireMessage::Error(error) => {
                // The peer closes after an error; answering would be pointless.
                self.closed = true;
                Err(SessionError::PeerReportedError {
                    message: error.message,
                })
            }
            WireMessage::Join(_) | WireMessage::Peer(_) => {
                Err(self.fail(SessionError::UnexpectedMessage {
                    kind: message.kind(),
                }))
            }
            other => self.on_document_message(other),
        }
    }

    fn on_join(&mut self, join: Join) -> Result<Event, SessionError> {
        if let Some(was) = &self.remote
            && *was != join.sender_id
        {
            let error = SessionError::PeerChanged {
                was: was.clone(),
                now: join.sender_id,
            };
            return Err(self.fail(error));
        }
        // automerge-repo's server adapter reads a missing version list as "1".
        let supported = join
            .supported_protocol_versions
            .as_ref()
            .is_none_or(|versions| versions.iter().any(|v| v == PROTOCOL_V1));
        if !supported {
            self.remote = Some(join.sender_id);
            let offered = join.supported_protocol_versions.unwrap_or_default();
            return Err(self.fail(SessionError::UnsupportedProtocol { offered }));
        }
        self.outbound.push(WireMessage::Peer(Peer {
            sender_id: self.config.local_id.clone(),
            peer_metadata: Some(self.config.metadata.clone()),
            selected_protocol_version: PROTOCOL_V1.to_owned(),
            target_id: join.sender_id.clone(),
        }));
        self.remote = Some(join.sender_id.clone());
        Ok(Event::Connected {
            peer_id: join.sender_id,
            metadata: join.peer_metadata,
        })
    }

    fn on_peer(&mut self, peer: Peer) -> Result<Event, SessionError> {
        if peer.selected_protocol_version != PROTOCOL_V1 {
            let offered = vec![peer.selected_protocol_version];
            self.remote = Some(peer.sender_id);
            return Err(self.fail(SessionError::UnsupportedProtocol { offered }));
        }
        self.remote = Some(peer.sender_id.clone());
        Ok(Event::Connected {
            peer_id: peer.sender_id,
            metadata: peer.peer_metadata,
        })
    }

    fn on_document_message(&mut self, message: WireMessage) -> Result<Event, SessionError> {
        let Some(remote) = &self.remote else {
            return Err(self.fail(SessionError::NotJoined {
                kind: message.kind(),
            }));
        };
        if let Some(sender) = message.sender_id()
            && sender != remote
        {
            return Ok(Event::Skipped(Skipped::ForeignSender(sender.clone())));
        }
        Ok(match message {
            WireMessage::Request(body) => Event::Sync(IncomingSync {
                document_id: body.document_id,
                is_request: true,
                data: body.data,
            }),
            WireMessage::Sync(body) => Event::Sync(IncomingSync {
                document_id: body.document_id,
                is_request: false,
                data: body.data,
            }),
            WireMessage::DocUnavailable(body) => {
                self.documents.remove(&body.document_id);
                Event::Unavailable {
                    document_id: body.document_id,
                }
            }
            WireMessage::Ephemeral(body) => Event::Ephemeral(body),
            WireMessage::Ignored(ignored) => Event::Skipped(Skipped::Ignored(ignored)),
            // Routed by `receive_message` before this point.
            WireMessage::Join(_) | WireMessage::Peer(_) | WireMessage::Error(_) => {
                return Err(self.fail(SessionError::UnexpectedMessage {
                    kind: message.kind(),
                }));
            }
        })
    }

    pub(super) fn queue_join(&mut self) {
        self.outbound.push(WireMessage::Join(Join {
            sender_id: self.config.local_id.clone(),
            peer_metadata: Some(self.config.metadata.clone()),
            supported_protocol_versions: Some(vec![PROTOCOL_V1.to_owned()]),
        }));
    }

    /// Ends the session, queueing an `error` that tells the peer why (our errors describe only
    /// the peer's own input, so they are safe to send).
    fn fail(&mut self, error: SessionError) -> SessionError {
        self.closed = true;
        let message = match &error {
            // automerge-repo's own wording, which its clients may match on.
            SessionError::UnsupportedProtocol { .. } => "unsupported protocol version".to_owned(),
            other => other.to_string(),
        };
        self.outbound.push(WireMessage::Error(ErrorMessage {
            sender_id: self.config.local_id.clone(),
            message,
            target_id: self
                .remote
                .clone()
                .unwrap_or_else(|| PeerId::new("unknown")),
        }));
        error
    }
}
