//! Per-document sync: verified application, authorize-then-accept or refuse, request and
//! doc-unavailable, and persisted sync state, with real JS payloads where we have them.

use std::collections::BTreeMap;
use std::fs;
use std::path::PathBuf;

use automerge::sync::SyncDoc;
use automerge::transaction::Transactable;
use automerge::{Automerge, ReadDoc};
use sync_protocol::DocumentId;
use sync_protocol::message::{PeerId, WireMessage};
use sync_protocol::session::{
    Event, IncomingSync, PeerSession, SessionConfig, SessionError, SyncRefusal,
};

fn fixture(dir: &str, name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/wire");
    fs::read(path.join(dir).join(name)).expect("fixture")
}

fn incoming(event: Event) -> IncomingSync {
    match event {
        Event::Sync(incoming) => incoming,
        other => panic!("expected a sync event, got {other:?}"),
    }
}

/// A server session after the captured JS tablet's join.
fn joined_server() -> PeerSession {
    let mut server = PeerSession::accepting(SessionConfig::new(PeerId::new("server-peer")));
    server
        .receive(&fixture("js", "00-join.cbor"))
        .expect("join");
    server.take_outbound();
    server
}

/// A tablet session after the captured JS server's peer message.
fn joined_tablet() -> PeerSession {
    let mut tablet = PeerSession::connecting(SessionConfig::new(PeerId::new("tablet-peer")));
    tablet.take_outbound();
    tablet
        .receive(&fixture("js", "01-peer.cbor"))
        .expect("peer");
    tablet
}

fn job(customer: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "customer", customer).expect("put");
    tx.commit();
    doc
}

#[test]
fn a_js_servers_whole_document_applies_and_verifies() {
    let mut tablet = joined_tablet();
    let mut doc = Automerge::new();
    let sync = incoming(
        tablet
            .receive(&fixture("js", "03-sync.cbor"))
            .expect("sync"),
    );
    let new = tablet.apply_sync(&sync, &mut doc).expect("applies");
    assert!(!new.is_empty());
    assert_eq!(text(&doc, "customer"), "Acme");
}

#[test]
fn a_js_tablets_edit_applies_on_an_empty_server_document() {
    // Fixture 06 is the tablet's edit; JS sent the whole document (history included), so it
    // applies even where the job's creation is unknown.
    let mut server = joined_server();
    let sync = incoming(
        server
            .receive(&fixture("js", "06-sync.cbor"))
            .expect("sync"),
    );
    let candidate = server
        .receive_sync(&sync, &Automerge::new())
        .expect("applies");
    assert_eq!(candidate.new_changes().len(), 2);
    assert_eq!(text(candidate.document(), "customer"), "Acme");
}

#[test]
fn changes_whose_dependencies_were_not_sent_are_refused_as_not_applied() {
    let base = job("Acme");
    let mut edited = base.clone();
    let mut tx = edited.transaction();
    tx.put(automerge::ROOT, "customer", "Acme GmbH")
        .expect("put");
    tx.commit();
    // A hand-built sync message carrying only the edit, not the job's creation it depends on.
    let edit = edited
        .get_last_local_change()
        .expect("edit")
        .raw_bytes()
        .to_vec();
    let message = automerge::sync::Message {
        heads: edited.get_heads(),
        need: vec![],
        have: vec![],
        changes: vec![edit].into(),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    };
    let server = joined_server();
    let sync = IncomingSync {
        document_id: DocumentId::random(),
        is_request: false,
        data: message.encode(),
    };
    let refusal = server
        .receive_sync(&sync, &Automerge::new())
        .expect_err("refused");
    // The refusal names what is missing: the job's creation.
    let lacking = base.get_heads();
    assert_eq!(
        refusal,
        SyncRefusal::NotApplied {
            missing: 1,
            carried: 1,
            lacking: lacking.clone(),
        }
    );
    assert!(
        server.receive_sync(&sync, &base).is_ok(),
        "held: nothing lacks, the edit applies"
    );

    // The answer asks for exactly what was missing, by hash, and always goes out.
    let mut server = server;
    server.answer_refusal(sync.document_id, &refusal);
    assert!(server.sync_document(sync.document_id, &Automerge::new()));
    let sent = server.take_outbound();
    let data = match &sent[..] {
        [WireMessage::Sync(body) | WireMessage::Request(body)] => body.data.clone(),
        other => panic!("one sync message expected: {other:?}"),
    };
    let message = automerge::sync::Message::decode(&data).unwrap();
    assert_eq!(message.need, lacking);
}

#[test]
fn garbage_payloads_are_refused_with_typed_reasons() {
    let mut server = joined_server();
    for (file, expected) in [
        ("sync-data-not-automerge.cbor", "Malformed"),
        ("sync-fake-change-chunk.cbor", "MalformedChanges"),
        ("sync-non-chunk-bytes.cbor", "MalformedChanges"),
    ] {
        let sync = incoming(
            server
                .receive(&fixture("broken", file))
                .expect("frame is valid"),
        );
        let doc = job("Acme");
        let refusal = server.receive_sync(&sync, &doc).expect_err(file);
        let name = match refusal {
            SyncRefusal::Malformed(_) => "Malformed",
            SyncRefusal::MalformedChanges { .. } => "MalformedChanges",
            other => panic!("{file}: {other}"),
        };
        assert_eq!(name, expected, "{file}");
        // Automerge alone would have accepted the garbage without complaint.
        let data = sync.data.clone();
        if let Ok(message) = automerge::sync::Message::decode(&data) {
            let mut plain = doc.clone();
            let outcome = plain.receive_sync_message(&mut automerge::sync::State::new(), message);
            assert!(outcome.is_ok(), "{file}: automerge itself reports success");
        }
    }
}

#[test]
fn refusing_leaves_document_and_state_as_if_the_message_never_came() {
    let id = DocumentId::random();
    let (server, _tablet) = connected();
    let server_doc = job("Acme");
    let mut tablet_doc = server_doc.clone();
    let mut tx = tablet_doc.transaction();
    tx.put(automerge::ROOT, "customer", "Mallory Ltd")
        .expect("put");
    tx.commit();

    let sync = IncomingSync {
        document_id: id,
        is_request: false,
        data: message_with_changes(&tablet_doc, &server_doc),
    };
    let before_state = server.encoded_sync_state(id);
    let candidate = server.receive_sync(&sync, &server_doc).expect("applies");
    // The caller's ownership check sees the edit in the candidate...
    let (after, _) = candidate
        .document()
        .get(automerge::ROOT, "customer")
        .expect("get")
        .expect("set");
    assert_eq!(after.as_str(), Some("Mallory Ltd"));
    assert_eq!(candidate.new_changes().len(), 1);
    // ...and refuses by dropping the candidate.
    drop(candidate);
    assert_eq!(server.encoded_sync_state(id), before_state);
    assert_eq!(text(&server_doc, "customer"), "Acme");
}

#[test]
fn accepting_hands_over_the_changes_and_a_stale_candidate_is_refused() {
    let id = DocumentId::random();
    let (mut server, _tablet) = connected();
    let tablet_doc = job("Acme");
    let sync = IncomingSync {
        document_id: id,
        is_request: false,
        data: message_with_changes(&tablet_doc, &Automerge::new()),
    };

    let first = server
        .receive_sync(&sync, &Automerge::new())
        .expect("applies");
    let second = server
        .receive_sync(&sync, &Automerge::new())
        .expect("applies");
    let accepted = server.accept(first).expect("accepted");
    assert_eq!(accepted.new_changes.len(), 1);
    assert_eq!(accepted.document.get_heads(), tablet_doc.get_heads());
    assert_eq!(
        server.accept(second).map(|a| a.document_id),
        Err(SessionError::StaleCandidate { document_id: id })
    );
}

#[test]
fn a_document_we_lack_is_requested_and_a_refused_one_is_unavailable() {
    let id = DocumentId::random();
    let (mut server, mut tablet) = connected();
    assert!(tablet.sync_document(id, &Automerge::new()));
    let sent = tablet.take_outbound();
    assert!(matches!(&sent[..], [WireMessage::Request(r)] if r.document_id == id));

    let sync = incoming(server.receive(&sent[0].encode()).expect("request"));
    assert!(sync.is_request);
    // The caller decides the peer may not see it (or it does not exist): same answer.
    server.unavailable(id);
    let answer = encode_all(&mut server).remove(0);
    assert_eq!(
        tablet.receive(&answer),
        Ok(Event::Unavailable { document_id: id })
    );
    assert_eq!(tablet.encoded_sync_state(id), None);
}

#[test]
fn sync_state_survives_a_reconnect_so_nothing_is_resent() {
    let id = DocumentId::random();
    let mut docs = BTreeMap::new();
    docs.insert("server", job("Acme"));
    docs.insert("tablet", Automerge::new());
    let (mut server, mut tablet) = connected();
    tablet.sync_document(id, &docs["tablet"]);
    settle(id, &mut tablet, &mut server, &mut docs);
    assert_eq!(docs["tablet"].get_heads(), docs["server"].get_heads());

    let saved = server.forget_document(id).expect("state");
    let (mut server, _tablet) = connected();
    server.restore_sync_state(id, &saved).expect("decodes");
    assert!(server.sync_document(id, &docs["server"]));
    let WireMessage::Sync(first) = server.take_outbound().remove(0) else {
        panic!("a sync message");
    };
    let message = automerge::sync::Message::decode(&first.data).expect("sync message");
    assert!(message.changes.is_empty(), "shared heads were remembered");
    assert!(matches!(
        server.restore_sync_state(id, b"junk"),
        Err(SessionError::InvalidSyncState { .. })
    ));
}

#[test]
fn each_side_knows_when_the_other_holds_exactly_its_document() {
    let id = DocumentId::random();
    let (mut server, mut tablet) = connected();
    let mut tablet_doc = job("Acme");
    let mut server_doc = job("Globex");
    assert!(!tablet.peer_in_sync(id, &tablet_doc), "nothing heard yet");

    tablet.sync_document(id, &tablet_doc);
    server.sync_document(id, &server_doc);
    let mut rounds = 0;
    while !(tablet.peer_in_sync(id, &tablet_doc) && server.peer_in_sync(id, &server_doc)) {
        rounds += 1;
        assert!(rounds < 10, "no convergence after {rounds} rounds");
        exchange(&mut tablet, &mut server, &mut server_doc, id);
        exchange(&mut server, &mut tablet, &mut tablet_doc, id);
    }
    assert_eq!(tablet_doc.get_heads().len(), 2, "both edits on both sides");
    assert_eq!(tablet_doc.get_heads(), server_doc.get_heads());

    // A local edit the peer has not seen: no longer in sync, until it is sent and answered.
    let mut tx = tablet_doc.transaction();
    tx.put(automerge::ROOT, "note", "replaced the valve")
        .expect("put");
    tx.commit();
    assert!(!tablet.peer_in_sync(id, &tablet_doc));
    tablet.sync_document(id, &tablet_doc);
    exchange(&mut tablet, &mut server, &mut server_doc, id);
    exchange(&mut server, &mut tablet, &mut tablet_doc, id);
    assert!(tablet.peer_in_sync(id, &tablet_doc));
}

#[test]
fn a_message_without_changes_is_taken_in_place_and_one_with_changes_is_left_alone() {
    let id = DocumentId::random();
    let (mut server, mut tablet) = connected();
    let mut server_doc = job("Acme");
    let heads = server_doc.get_heads();

    // The tablet has nothing yet: its first message carries no changes.
    assert!(tablet.sync_document(id, &Automerge::new()));
    let ask = incoming(server.receive(&encode_all(&mut tablet)[0]).expect("frame"));
    assert_eq!(
        server.receive_without_changes(&ask, &mut server_doc),
        Ok(true)
    );
    assert_eq!(server_doc.get_heads(), heads, "the document is as it was");
    // What we learnt of the peer counts: the answer carries the booking.
    assert!(server.sync_document(id, &server_doc));
    let WireMessage::Sync(answer) = server.take_outbound().remove(0) else {
        panic!("a sync message");
    };
    let answer = automerge::sync::Message::decode(&answer.data).expect("sync message");
    assert_eq!(answer.changes.len(), 1);

    // A message with changes is not taken here, and taking nothing spoils no candidate.
    let mut tablet_doc = server_doc.clone();
    let mut tx = tablet_doc.transaction();
    tx.put(automerge::ROOT, "note", "replaced the valve")
        .expect("put");
    tx.commit();
    let edit = IncomingSync {
        document_id: id,
        is_request: false,
        data: message_with_changes(&tablet_doc, &server_doc),
    };
    let candidate = server.receive_sync(&edit, &server_doc).expect("applies");
    let state = server.encoded_sync_state(id);
    assert_eq!(
        server.receive_without_changes(&edit, &mut server_doc),
        Ok(false)
    );
    assert_eq!(server_doc.get_heads(), heads);
    assert_eq!(server.encoded_sync_state(id), state);
    let accepted = server.accept(candidate).expect("still current");
    assert_eq!(accepted.new_changes.len(), 1);
}

#[test]
fn changes_carried_out_of_order_are_handed_over_in_an_order_they_apply_in() {
    let id = DocumentId::random();
    let (server, _tablet) = connected();
    let server_doc = job("Acme");
    let mut tablet_doc = server_doc.clone();
    for note in ["arrived", "replaced the valve", "left"] {
        let mut tx = tablet_doc.transaction();
        tx.put(automerge::ROOT, "note", note).expect("put");
        tx.commit();
    }
    let in_order = tablet_doc.get_changes(&server_doc.get_heads());
    let mut message =
        automerge::sync::Message::decode(&message_with_changes(&tablet_doc, &server_doc))
            .expect("sync message");
    message.changes = in_order
        .iter()
        .rev()
        .map(|change| change.raw_bytes().to_vec())
        .collect::<Vec<_>>()
        .into();
    let sync = IncomingSync {
        document_id: id,
        is_request: false,
        data: message.encode(),
    };
    let candidate = server.receive_sync(&sync, &server_doc).expect("applies");
    let handed: Vec<_> = candidate.new_changes().iter().map(|c| c.hash()).collect();
    let expected: Vec<_> = in_order.iter().map(|c| c.hash()).collect();
    assert_eq!(handed, expected, "each change after what it depends on");
    assert_eq!(candidate.document().get_heads(), tablet_doc.get_heads());
}

/// Delivers everything `from` queued to `to`, which takes a message without changes in place
/// (as the server does) and applies any other, and answers.
fn exchange(from: &mut PeerSession, to: &mut PeerSession, to_doc: &mut Automerge, id: DocumentId) {
    for frame in encode_all(from) {
        if let Event::Sync(incoming) = to.receive(&frame).expect("frame") {
            if to
                .receive_without_changes(&incoming, to_doc)
                .expect("receives")
            {
                continue;
            }
            let candidate = to.receive_sync(&incoming, to_doc).expect("applies");
            *to_doc = to.accept(candidate).expect("accepted").document;
        }
    }
    to.sync_document(id, to_doc);
}

/// A server and a tablet session that have exchanged `join` and `peer`.
fn connected() -> (PeerSession, PeerSession) {
    let mut server = PeerSession::accepting(SessionConfig::new(PeerId::new("server")));
    let mut tablet = PeerSession::connecting(SessionConfig::new(PeerId::new("tablet")));
    handshake(&mut tablet, &mut server);
    (server, tablet)
}

fn handshake(tablet: &mut PeerSession, server: &mut PeerSession) {
    for frame in encode_all(tablet) {
        server.receive(&frame).expect("join");
    }
    for frame in encode_all(server) {
        tablet.receive(&frame).expect("peer");
    }
}

fn encode_all(session: &mut PeerSession) -> Vec<Vec<u8>> {
    session
        .take_outbound()
        .iter()
        .map(WireMessage::encode)
        .collect()
}

/// Delivers in order, accepting everything, until both sides are quiet.
fn settle(
    id: DocumentId,
    tablet: &mut PeerSession,
    server: &mut PeerSession,
    docs: &mut BTreeMap<&str, Automerge>,
) {
    loop {
        let to_server = encode_all(tablet);
        let to_tablet = encode_all(server);
        if to_server.is_empty() && to_tablet.is_empty() {
            return;
        }
        for (frames, session, name) in [
            (to_server, &mut *server, "server"),
            (to_tablet, &mut *tablet, "tablet"),
        ] {
            for frame in frames {
                if let Event::Sync(sync) = session.receive(&frame).expect("frame") {
                    let doc = docs.get_mut(name).expect("doc");
                    session.apply_sync(&sync, doc).expect("applies");
                    session.sync_document(id, doc);
                }
            }
        }
    }
}

/// A sync message from `from` that carries the changes `to` lacks, as the second message of an
/// exchange would.
fn message_with_changes(from: &Automerge, to: &Automerge) -> Vec<u8> {
    let mut to_state = automerge::sync::State::new();
    let mut from_state = automerge::sync::State::new();
    let opening = to.generate_sync_message(&mut to_state).expect("opening");
    let mut from = from.clone();
    from.receive_sync_message(&mut from_state, opening)
        .expect("receives");
    let mut answer = from.generate_sync_message(&mut from_state).expect("answer");
    // A Bloom filter false positive (about 1 in 100) can make `from` believe `to` has some of
    // its changes already: carry every change `to` lacks, so the test does not depend on luck.
    let lacking: Vec<Vec<u8>> = from
        .get_changes(&to.get_heads())
        .iter()
        .map(|change| change.raw_bytes().to_vec())
        .collect();
    answer.changes = lacking.into();
    answer.encode()
}

/// A text field of the root map (JS automerge stores strings as text objects).
fn text(doc: &Automerge, key: &str) -> String {
    match doc.get(automerge::ROOT, key).expect("get") {
        Some((automerge::Value::Object(_), id)) => doc.text(&id).expect("text"),
        Some((value, _)) => value.as_str().map(str::to_owned).expect("string"),
        None => panic!("no `{key}`"),
    }
}
