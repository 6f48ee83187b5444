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
