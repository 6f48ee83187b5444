//! The document cache stays within its bound however many documents pass through it.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use fieldsync_server::documents::{Author, CacheLimits, DocumentKind, Documents};
use harness::TestApp;
use uuid::Uuid;

const DOCUMENTS: usize = 10_000;
const CAPACITY: usize = 200;

#[tokio::test]
async fn ten_thousand_documents_touched_once_stay_within_the_cache_bound() {
    let app = TestApp::spawn().await;
    let organisation = app.organisation("安居家电服务有限公司").await.id;
    let documents = Documents::new(
        app.database.pool.clone(),
        CacheLimits {
            capacity: CAPACITY,
            idle: Duration::from_secs(3600),
        },
    );
    let mut ids = Vec::with_capacity(DOCUMENTS);
    for batch in 0..DOCUMENTS / 500 {
        let mut tx = app.database.pool.begin().await.unwrap();
        for n in 0..500 {
            let mut doc = AutoCommit::new();
            doc.put(ROOT, "n", (batch * 500 + n) as i64).unwrap();
            let id = Uuid::new_v4();
            documents
                .create(
                    &mut tx,
                    id,
                    organisation,
                    DocumentKind::Job,
                    doc.document(),
                    &Author::default(),
                )
                .await
                .unwrap();
            ids.push(id);
        }
        tx.commit().await.unwrap();
    }
    let mut peak = 0;
    for id in &ids {
        let document = documents.get(*id).await.unwrap().expect("stored");
        drop(document);
        peak = peak.max(documents.cache().stats().resident);
    }
    let stats = documents.cache().stats();
    assert!(peak <= CAPACITY, "peak {peak} exceeds the bound {CAPACITY}");
    assert_eq!(stats.loads, DOCUMENTS as u64, "each document loaded once");
    assert!(stats.evictions as usize >= DOCUMENTS - CAPACITY);
    // A document held by someone (a sync connection) is never evicted from under them.
    let held = documents.get(ids[0]).await.unwrap().unwrap();
    for id in &ids[1..1000] {
        documents.get(*id).await.unwrap();
    }
    assert!(documents.cache().ids().contains(&ids[0]));
    drop(held);
    app.shutdown().await;
}

#[tokio::test]
async fn compaction_keeps_chunks_bounded_and_the_document_whole() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let id = job["id"].as_str().unwrap();
    for day in 0..80 {
        app.reschedule(&crew, id, chrono::Utc::now() + chrono::Duration::days(day))
            .await;
    }
    let job_id: Uuid = id.parse().unwrap();
    let (snapshot_seq, last_seq): (i64, i64) =
        sqlx::query_as("select snapshot_seq, last_seq from documents where id = $1")
            .bind(job_id)
            .fetch_one(&app.database.pool)
            .await
            .unwrap();
    let chunks: i64 =
        sqlx::query_scalar("select count(*) from document_chunks where document_id = $1")
            .bind(job_id)
            .fetch_one(&app.database.pool)
            .await
            .unwrap();
    assert_eq!(last_seq, 80);
    assert!(snapshot_seq > 0, "compacted at least once");
    assert_eq!(
        chunks,
        last_seq - snapshot_seq,
        "exactly the chunks after the snapshot remain"
    );
    assert!(chunks < 64);
    // A fresh load (snapshot + remaining chunks) equals the history: 1 creation + 80 reschedules.
    let fresh = Documents::new(app.database.pool.clone(), CacheLimits::default());
    let doc = fresh.get(job_id).await.unwrap().unwrap().snapshot().await;
    assert_eq!(doc.get_changes(&[]).len(), 81);
    let (_, view) = app.job(&crew.dispatcher.token, id).await;
    let window = sync_protocol::job::JobDocument::read(&doc)
        .unwrap()
        .appointment
        .window_start;
    assert_eq!(
        chrono::DateTime::from_timestamp_millis(window.0)
            .unwrap()
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        view["window_start"].as_str().unwrap()
    );
}

#[tokio::test]
async fn a_connection_that_opened_many_jobs_does_not_hold_them_in_memory_and_still_gets_their_changes()
 {
    use automerge::Automerge;
    use automerge::sync;
    use harness::peer::{RawPeer, Received};

    const OPENED: usize = 12;
    const SMALL: usize = 4;
    let app = TestApp::spawn_with(|state| {
        state.documents = Documents::new(
            state.db.clone(),
            CacheLimits {
                capacity: SMALL,
                idle: Duration::from_secs(3600),
            },
        );
    })
    .await;
    let crew = app.crew("安居家电服务有限公司").await;
    let mut jobs = Vec::new();
    for _ in 0..OPENED {
        jobs.push(app.book(&crew, Some(crew.technician.staff.id)).await);
    }
    let mut peer = RawPeer::joined(&app.base_url, &crew.dispatcher.token).await;
    let mut copies = Vec::new();
    for job in &jobs {
        let mut doc = Automerge::new();
        let mut state = sync::State::new();
        let document_id = job["document_id"].as_str().unwrap();
        peer.sync_until_in_sync(document_id, &mut doc, &mut state)
            .await;
        assert!(!doc.get_heads().is_empty(), "{document_id} arrived");
        copies.push((doc, state));
    }
    let resident = app.metric("fieldsync_documents_cached").await;
    assert!(
        resident <= SMALL as f64,
        "{resident} documents resident with {OPENED} opened on one connection"
    );

    // A job opened long ago, since evicted, still reaches the connection when it changes.
    let first = jobs[0]["id"].as_str().unwrap();
    app.reschedule(&crew, first, chrono::Utc::now() + chrono::Duration::days(2))
        .await;
    let wanted = jobs[0]["document_id"].as_str().unwrap().to_owned();
    loop {
        match peer.recv().await {
            Received::Sync { document_id, .. } if document_id == wanted => break,
            Received::Sync { .. } => continue,
            other => panic!("expected the change to {wanted}, got {other:?}"),
        }
    }
}
