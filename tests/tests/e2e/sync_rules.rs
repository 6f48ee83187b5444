//! Sync rules seen frame by frame: property-level refusals, pushes of dispatcher changes,
//! object-level refusals that reveal nothing, and malformed input.

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, AutomergeError, ROOT, ReadDoc, ScalarValue};
use fieldsync_server::sync::MAX_MESSAGE_BYTES;
use harness::TestApp;
use harness::peer::{RawPeer, Received};
use harness::visit::record_arrival;
use serde_json::{Value, json};
use sync_protocol::DocumentId;
use sync_protocol::job::JobDocument;

async fn chunk_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from document_changes")
        .fetch_one(&app.database.pool)
        .await
        .unwrap()
}

fn set_time(doc: &mut Automerge, path: &[&str], key: &str, millis: i64) {
    doc.transact::<_, _, AutomergeError>(|tx| {
        let mut obj = ROOT;
        for segment in path {
            obj = tx.get(&obj, *segment)?.expect("path exists").1;
        }
        tx.put(&obj, key, ScalarValue::Timestamp(millis))?;
        Ok(())
    })
    .unwrap();
}

#[tokio::test]
async fn a_technicians_change_to_the_appointment_is_refused_and_a_reschedule_reaches_the_tablet() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let document_id = job["document_id"].as_str().unwrap();
    let job_id = job["id"].as_str().unwrap();
    let (mut peer, mut doc, mut state) =
        RawPeer::with_document(&app.base_url, &crew.technician.token, document_id).await;
    let booked = JobDocument::read(&doc).unwrap();
    let (_, before) = app.job(&crew.dispatcher.token, job_id).await;
    let changes_before = chunk_count(&app).await;

    // Moving the appointment is the dispatcher's business.
    set_time(
        &mut doc,
        &["appointment"],
        "window_start",
        booked.appointment.window_start.0 - 3_600_000,
    );
    let message = doc.generate_sync_message(&mut state).unwrap();
    peer.sync(document_id, message.encode()).await;
    match peer.recv().await {
        Received::Error { message } => {
            assert!(message.contains("/appointment/window_start"), "{message}");
            assert!(message.contains("nothing was saved"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(
        chunk_count(&app).await,
        changes_before,
        "nothing of it was persisted"
    );
    let (_, after) = app.job(&crew.dispatcher.token, job_id).await;
    assert_eq!(after["window_start"], before["window_start"]);

    // The dispatcher reschedules; the server pushes it to a connected tablet (a fresh one: the
    // refused change would conflict with the new window in this copy).
    let (mut peer, mut doc, mut state) =
        RawPeer::with_document(&app.base_url, &crew.technician.token, document_id).await;
    let response = app
        .post(&format!("/api/v1/jobs/{job_id}/reschedule"))
        .bearer_auth(&crew.dispatcher.token)
        .json(
            &json!({"window_start": "2026-11-24T06:00:00Z", "window_end": "2026-11-24T08:00:00Z"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut pushed = false;
    for _ in 0..10 {
        match peer.recv().await {
            Received::Sync { data, .. } => {
                doc.receive_sync_message(&mut state, sync::Message::decode(&data).unwrap())
                    .unwrap();
                let now = JobDocument::read(&doc).unwrap();
                if now.appointment.window_start.0 == chrono_millis("2026-11-24T06:00:00Z") {
                    pushed = true;
                    break;
                }
                if let Some(reply) = doc.generate_sync_message(&mut state) {
                    peer.sync(document_id, reply.encode()).await;
                }
            }
            Received::Closed => break,
            _ => {}
        }
    }
    assert!(pushed, "the reschedule reached the tablet");
}

fn chrono_millis(text: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap()
        .timestamp_millis()
}

#[tokio::test]
async fn technicians_allowed_work_is_accepted_and_projected() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let document_id = job["document_id"].as_str().unwrap();
    let (mut peer, mut doc, mut state) =
        RawPeer::with_document(&app.base_url, &crew.technician.token, document_id).await;
    doc.transact::<_, _, AutomergeError>(|tx| {
        let visit = tx.get(ROOT, "visit")?.expect("visit").1;
        let arrival = tx.put_object(&visit, "arrival", automerge::ObjType::Map)?;
        tx.put(
            &arrival,
            "at",
            ScalarValue::Timestamp(chrono_millis("2026-11-22T01:05:00Z")),
        )?;
        tx.put(&arrival, "by", crew.technician.staff.id.to_string())?;
        Ok(())
    })
    .unwrap();
    let ours = doc.get_heads();
    peer.sync_until_in_sync(document_id, &mut doc, &mut state)
        .await;
    let (_, projected) = app
        .job(&crew.dispatcher.token, job["id"].as_str().unwrap())
        .await;
    assert_eq!(projected["evidence"]["arrived"], true);
    assert_eq!(projected["status"], "in_progress");
    let flags = projected["review_flags"].to_string();
    assert!(
        flags.contains("arrived_without_confirmed_appointment"),
        "{flags}"
    );
    let stored: i64 = sqlx::query_scalar("select count(*) from document_changes where hash = $1")
        .bind(ours[0].0.to_vec())
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
}

/// Changes that arrive without one they depend on are not refused: the sender's test of the
/// server's Bloom filter wrongly said the server held the first one (about one change in a
/// hundred does), so it sent only the second. The server stores nothing, sends no `error` (a
/// tablet would take its work as refused and stop offering it), and asks for the missing change
/// by hash; the tablet sends it and both are stored.
#[tokio::test]
async fn a_change_sent_without_the_one_it_depends_on_is_asked_for_not_refused() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let document_id = job["document_id"].as_str().unwrap();
    let (mut peer, mut doc, mut state) =
        RawPeer::with_document(&app.base_url, &crew.technician.token, document_id).await;
    let stored_before = chunk_count(&app).await;
    record_arrival(&mut doc, "张伟");
    let first = doc.get_heads()[0];
    record_arrival(&mut doc, "李强");
    let second = doc.get_heads()[0];

    // The message as Automerge made it (its state now counts both as sent), less the first.
    let mut message = doc.generate_sync_message(&mut state).unwrap();
    let second_bytes = doc
        .get_change_by_hash(&second)
        .expect("our change")
        .raw_bytes()
        .to_vec();
    message.changes = vec![second_bytes].into();
    message.version = sync::MessageVersion::V1;
    peer.sync(document_id, message.encode()).await;

    let Received::Sync { data, .. } = peer.recv().await else {
        panic!("the server answers with a sync message, not an error");
    };
    let answer = sync::Message::decode(&data).unwrap();
    assert_eq!(
        answer.need,
        vec![first],
        "the missing change is asked for by hash"
    );
    assert!(!answer.heads.contains(&second), "nothing was stored yet");
    assert_eq!(chunk_count(&app).await, stored_before);

    doc.receive_sync_message(&mut state, answer).unwrap();
    peer.sync_until_in_sync(document_id, &mut doc, &mut state)
        .await;
    let stored: i64 =
        sqlx::query_scalar("select count(*) from document_changes where hash = any($1)")
            .bind(vec![first.0.to_vec(), second.0.to_vec()])
            .fetch_one(&app.database.pool)
            .await
            .unwrap();
    assert_eq!(stored, 2, "both changes are stored");
}

#[tokio::test]
async fn documents_a_caller_may_not_see_are_unavailable_exactly_like_missing_ones() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let rival = app.crew("另一家公司").await;
    let other_technicians = app.book(&crew, Some(crew.other_technician.staff.id)).await;
    let rival_job = app.book(&rival, Some(rival.technician.staff.id)).await;
    let other_me: Value = app
        .get("/api/v1/me")
        .bearer_auth(&crew.other_technician.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let other_index = DocumentId::parse(other_me["index_document_url"].as_str().unwrap())
        .unwrap()
        .to_string();
    let missing = DocumentId::random().to_string();
    let cases = [
        (
            &crew.technician.token,
            other_technicians["document_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        (
            &crew.technician.token,
            rival_job["document_id"].as_str().unwrap().to_owned(),
        ),
        (&crew.technician.token, other_index.clone()),
        (
            &crew.dispatcher.token,
            rival_job["document_id"].as_str().unwrap().to_owned(),
        ),
        (
            &crew.revisit.token,
            other_technicians["document_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        ),
        (&crew.technician.token, missing.clone()),
    ];
    let empty = Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .unwrap()
        .encode();
    for (token, document_id) in cases {
        let mut peer = RawPeer::joined(&app.base_url, token).await;
        peer.request(&document_id, empty.clone()).await;
        assert_eq!(
            peer.recv().await,
            Received::DocUnavailable {
                document_id: document_id.clone()
            },
            "{document_id} must be unavailable"
        );
        // A sync message for it is refused the same way, and writes nothing.
        peer.sync(&document_id, empty.clone()).await;
        assert_eq!(peer.recv().await, Received::DocUnavailable { document_id });
    }
    // Something that is not a document id at all is a malformed message: an error naming it.
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    peer.request("not-a-document-id", empty.clone()).await;
    let answer = peer.recv().await;
    assert!(
        matches!(&answer, Received::Error { message } if message.contains("not-a-document-id")),
        "{answer:?}"
    );
    let unauthenticated = RawPeer::connect(&app.base_url, "fst_wrong").await;
    assert_eq!(unauthenticated.err(), Some(401));
}

#[tokio::test]
async fn malformed_and_oversized_input_is_refused_and_the_server_stays_healthy() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let document_id = job["document_id"].as_str().unwrap().to_owned();
    let changes_before = chunk_count(&app).await;

    // Random bytes instead of CBOR: an error, then the connection closes.
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    peer.send_raw(vec![0xff, 0x00, 0x13, 0x37, 0x42]).await;
    let answer = peer.recv().await;
    assert!(
        matches!(&answer, Received::Error { message } if message.contains("not valid CBOR")),
        "{answer:?}"
    );
    assert_eq!(peer.recv().await, Received::Closed);

    // Text frames, and messages before the handshake.
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    peer.send_text("{\"type\":\"sync\"}").await;
    assert!(matches!(peer.recv().await, Received::Error { message } if message.contains("binary")));
    let mut peer = RawPeer::connect(&app.base_url, &crew.technician.token)
        .await
        .unwrap();
    peer.request(&document_id, vec![]).await;
    let answer = peer.recv().await;
    assert!(
        matches!(&answer, Received::Error { message } if message.contains("join")),
        "{answer:?}"
    );

    // An unsupported protocol version.
    let mut peer = RawPeer::connect(&app.base_url, &crew.technician.token)
        .await
        .unwrap();
    peer.join(&["2"]).await;
    assert!(
        matches!(peer.recv().await, Received::Error { message } if message.contains("unsupported protocol version"))
    );

    // Random bytes as sync data, and a sync message carrying garbage as a change: refused, the
    // connection stays open and usable.
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    peer.sync(&document_id, vec![0x42, 0x99, 0x01, 0x02, 0x03])
        .await;
    assert!(
        matches!(peer.recv_skipping_sync().await, Received::Error { message } if message.contains("not an Automerge sync message"))
    );
    let mut forged = Automerge::new()
        .generate_sync_message(&mut sync::State::new())
        .unwrap();
    forged.changes = vec![b"definitely not a change".to_vec()].into();
    peer.sync(&document_id, forged.encode()).await;
    let answer = peer.recv_skipping_sync().await;
    assert!(
        matches!(&answer, Received::Error { message } if message.contains("not an Automerge chunk")),
        "{answer:?}"
    );
    let mut doc = Automerge::new();
    let mut state = sync::State::new();
    peer.sync_until_in_sync(&document_id, &mut doc, &mut state)
        .await;
    assert!(
        JobDocument::read(&doc).is_ok(),
        "the same connection still syncs"
    );

    // A message over the limit closes the connection.
    let mut peer = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    peer.sync(&document_id, vec![0u8; MAX_MESSAGE_BYTES + 1])
        .await;
    let (code, reason) = peer
        .close_frame(std::time::Duration::from_secs(10))
        .await
        .expect("a close frame, not a dropped connection");
    assert_eq!(code, 1009, "{reason}");
    assert!(reason.contains("4194304-byte limit"), "{reason}");
    // A peer id of megabytes is not a peer id: refused, and nothing of it stored.
    let mut peer = RawPeer::connect(&app.base_url, &crew.technician.token)
        .await
        .unwrap();
    peer.peer_id = "p".repeat(4 * 1024 * 1024 - 1024);
    peer.join(&["1"]).await;
    assert!(
        matches!(peer.recv().await, Received::Error { message } if message.contains("over the 256-byte limit"))
    );
    let fleet = app
        .get("/api/v1/fleet")
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        fleet.len() < 64 * 1024,
        "the fleet view grew to {} bytes",
        fleet.len()
    );

    assert_eq!(
        chunk_count(&app).await,
        changes_before,
        "nothing was persisted"
    );
    assert_eq!(
        app.get("/readyz").send().await.unwrap().status(),
        200,
        "the server is healthy"
    );
    let doc_keys = doc.keys(ROOT).count();
    assert!(doc_keys > 3);
}

#[tokio::test]
async fn a_dispatcher_syncing_a_job_that_is_over_cannot_change_it() {
    // The office's changes to a complete job are refused at the API (409); over sync, with the
    // same dispatcher's token, the job is read only. An open job takes the same change.
    use harness::visit::{Evidence, complete_visit};
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let done = app.book(&crew, Some(crew.technician.staff.id)).await;
    complete_visit(&app, &crew, &done, &Evidence::small(4)).await;
    let open = app.book(&crew, Some(crew.technician.staff.id)).await;
    for (job, over) in [(&done, true), (&open, false)] {
        let document_id = job["document_id"].as_str().unwrap();
        let (mut peer, mut doc, mut state) =
            RawPeer::with_document(&app.base_url, &crew.dispatcher.token, document_id).await;
        let booked = JobDocument::read(&doc).unwrap();
        let chunks = chunk_count(&app).await;
        set_time(
            &mut doc,
            &["appointment"],
            "window_start",
            booked.appointment.window_start.0 - 3_600_000,
        );
        let message = doc.generate_sync_message(&mut state).unwrap();
        peer.sync(document_id, message.encode()).await;
        let answer = peer.recv().await;
        if over {
            assert!(matches!(answer, Received::Error { .. }), "{answer:?}");
            assert_eq!(chunk_count(&app).await, chunks, "nothing of it was stored");
            let (_, after) = app
                .job(&crew.dispatcher.token, job["id"].as_str().unwrap())
                .await;
            assert_eq!(after["status"], "complete", "{after}");
        } else {
            assert!(matches!(answer, Received::Sync { .. }), "{answer:?}");
            assert_eq!(chunk_count(&app).await, chunks + 1, "the change was stored");
        }
    }
}
