//! The join/peer handshake against frames the real JS library sent, and the ways a peer can
//! break it.

use std::fs;
use std::path::PathBuf;

use sync_protocol::message::{DecodeError, DecodeLimits, PeerId, PeerMetadata, WireMessage};
use sync_protocol::session::{Event, PeerSession, SessionConfig, SessionError, Skipped};

fn js_frame(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire/js");
    fs::read(path.join(name)).expect("fixture")
}

/// Configured like the JS server in the capture, so our answers can be compared byte for byte.
fn js_like_server() -> PeerSession {
    let mut config = SessionConfig::new(PeerId::new("server-peer"));
    config.metadata = PeerMetadata {
        storage_id: None,
        is_ephemeral: true,
    };
    PeerSession::accepting(config)
}

fn frames(session: &mut PeerSession) -> Vec<Vec<u8>> {
    session
        .take_outbound()
        .iter()
        .map(WireMessage::encode)
        .collect()
}

#[test]
fn answers_a_js_join_with_the_peer_message_js_would_send() {
    let mut server = js_like_server();
    let event = server
        .receive(&js_frame("00-join.cbor"))
        .expect("join accepted");
    assert_eq!(
        event,
        Event::Connected {
            peer_id: PeerId::new("tablet-peer"),
            metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: true
            }),
        }
    );
    assert_eq!(frames(&mut server), vec![js_frame("01-peer.cbor")]);
    assert_eq!(server.remote_peer(), Some(&PeerId::new("tablet-peer")));
}

#[test]
fn refuses_an_unknown_protocol_version_with_the_error_js_would_send() {
    let mut server = js_like_server();
    let error = server
        .receive(&js_frame("12-join.cbor"))
        .expect_err("refused");
    assert_eq!(
        error,
        SessionError::UnsupportedProtocol {
            offered: vec!["2".to_owned()]
        }
    );
    assert!(error.closes_connection());
    assert_eq!(frames(&mut server), vec![js_frame("13-error.cbor")]);
    assert!(server.is_closed());
    assert_eq!(
        server.receive(&js_frame("00-join.cbor")),
        Err(SessionError::Closed)
    );
}

#[test]
fn the_connecting_side_joins_and_accepts_the_js_servers_peer_message() {
    let mut tablet = PeerSession::connecting(SessionConfig::new(PeerId::new("tablet-peer")));
    let sent = tablet.take_outbound();
    let WireMessage::Join(join) = &sent[0] else {
        panic!("the first message is join, got {sent:?}");
    };
    assert_eq!(join.supported_protocol_versions, Some(vec!["1".to_owned()]));
    let event = tablet.receive(&js_frame("01-peer.cbor")).expect("peer");
    assert!(matches!(event, Event::Connected { peer_id, .. } if peer_id.as_str() == "server-peer"));
}

#[test]
fn the_connecting_side_stops_on_a_js_error_message() {
    let mut tablet = PeerSession::connecting(SessionConfig::new(PeerId::new("future-peer")));
    tablet.take_outbound();
    let error = tablet
        .receive(&js_frame("13-error.cbor"))
        .expect_err("error");
    assert_eq!(
        error,
        SessionError::PeerReportedError {
            message: "unsupported protocol version".to_owned()
        }
    );
    assert!(tablet.is_closed());
}

#[test]
fn a_document_message_before_join_ends_the_session_with_an_explanation() {
    let mut server = js_like_server();
    let error = server
        .receive(&js_frame("02-request.cbor"))
        .expect_err("refused");
    assert_eq!(error, SessionError::NotJoined { kind: "request" });
    let sent = server.take_outbound();
    assert!(
        matches!(&sent[..], [WireMessage::Error(e)] if e.message.contains("send `join` first"))
    );
}

#[test]
fn gossip_unknown_types_and_foreign_senders_are_skipped() {
    let mut server = js_like_server();
    server.receive(&js_frame("00-join.cbor")).expect("join");
    server.take_outbound();
    assert!(matches!(
        server.receive(&js_frame("15-remote-subscription-change.cbor")),
        Ok(Event::Skipped(Skipped::Ignored(_)))
    ));
    assert!(matches!(
        server.receive(&js_frame("16-leave.cbor")),
        Ok(Event::Skipped(Skipped::Ignored(_)))
    ));
    // A server frame replayed at the server names another sender.
    assert_eq!(
        server.receive(&js_frame("03-sync.cbor")),
        Ok(Event::Skipped(Skipped::ForeignSender(PeerId::new(
            "server-peer"
        ))))
    );
    let unknown = [
        0xb9, 0x00, 0x01, 0x64, b't', b'y', b'p', b'e', 0x65, b'h', b'e', b'l', b'l', b'o',
    ];
    assert_eq!(
        server.receive(&unknown),
        Ok(Event::Skipped(Skipped::UnknownType("hello".to_owned())))
    );
    assert!(!server.is_closed());
    assert!(server.take_outbound().is_empty());
}

#[test]
fn an_oversized_frame_is_refused_before_decoding() {
    let mut config = SessionConfig::new(PeerId::new("server-peer"));
    config.limits = DecodeLimits {
        max_message_bytes: 128,
        ..DecodeLimits::default()
    };
    let mut server = PeerSession::accepting(config);
    server
        .receive(&js_frame("00-join.cbor"))
        .expect("join fits");
    let big = js_frame("03-sync.cbor");
    let error = server.receive(&big).expect_err("too large");
    assert_eq!(
        error,
        SessionError::Decode(DecodeError::TooLarge {
            size: big.len(),
            limit: 128
        })
    );
    assert!(server.is_closed());
}

#[test]
fn a_second_join_under_another_name_is_refused() {
    let mut server = js_like_server();
    server.receive(&js_frame("00-join.cbor")).expect("join");
    let error = server
        .receive(&js_frame("12-join.cbor"))
        .expect_err("refused");
    assert!(matches!(error, SessionError::PeerChanged { .. }));
}
