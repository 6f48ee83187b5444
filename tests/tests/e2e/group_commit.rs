//! Group commit: sync messages that wait while commits are in flight are made durable together
//! in one transaction, each acknowledged only after it; and a message whose write fails fails
//! alone, the others of its group stored and acknowledged.
//!
//! The tests make the queue build deterministically: a transaction of the test's own holds the
//! row locks of two jobs, so the two group commits an instance runs at once both wait on them,
//! while the next messages queue (the instance's `/metrics` shows them waiting).

use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash, ReadDoc};
use harness::TestApp;
use harness::jobs::Crew;
use harness::peer::{IN_SYNC_LIMIT, RawPeer, Received};
use harness::visit::record_arrival;
use uuid::Uuid;

/// One technician's tablet syncing one job over its own connection.
struct Tablet {
    job: Uuid,
    document_id: String,
    peer: RawPeer,
    doc: Automerge,
    state: sync::State,
}

impl Tablet {
    async fn open(app: &TestApp, crew: &Crew) -> Self {
        let job = app.book(crew, Some(crew.technician.staff.id)).await;
        let document_id = job["document_id"].as_str().unwrap().to_owned();
        let (peer, doc, state) =
            RawPeer::with_document(&app.base_url, &crew.technician.token, &document_id).await;
        Self {
            job: job["id"].as_str().unwrap().parse().unwrap(),
            document_id,
            peer,
            doc,
            state,
        }
    }

    /// Records an arrival and sends it; the change's hash.
    async fn record_arrival(&mut self, by: &str) -> ChangeHash {
        record_arrival(&mut self.doc, by);
        let ours = self.doc.get_heads()[0];
        // Against the heads both hold, without the server's Bloom filter: a false positive in
        // it (about one edit in a hundred on a small document) would make Automerge leave the
        // change out and wait for the server to ask, and this tablet does not read while the
        // test waits for the change to queue.
        self.state.their_have = Some(vec![sync::Have {
            last_sync: self.state.shared_heads.clone(),
            bloom: Default::default(),
        }]);
        let message = self.doc.generate_sync_message(&mut self.state).unwrap();
        assert!(
            message.changes.len() == 1,
            "the arrival travels in its message"
        );
        self.peer.sync(&self.document_id, message.encode()).await;
        ours
    }

    /// Waits for the server's message whose heads include `change`: the acknowledgement.
    async fn acknowledged(&mut self, change: ChangeHash) {
        loop {
            match self.peer.recv_within(IN_SYNC_LIMIT).await {
                Received::Sync { data, .. } => {
                    let message = sync::Message::decode(&data).unwrap();
                    let done = message.heads.contains(&change);
                    self.doc
                        .receive_sync_message(&mut self.state, message)
                        .unwrap();
                    if done {
                        return;
                    }
                }
                other => panic!("expected the acknowledgement of {change}, got {other:?}"),
            }
        }
    }
}

/// A server, a crew, two tablets to block commits with and tablets to queue behind them, each
/// on a job of its own.
struct Scene {
    app: TestApp,
    crew: Crew,
    blocked: Vec<Tablet>,
    queued: Vec<Tablet>,
}

/// The arrivals a scene's tablets sent: from the blocked ones, then from the queued ones.
struct Sent {
    first: Vec<ChangeHash>,
    then: Vec<ChangeHash>,
}

impl Scene {
    async fn new(queued: usize) -> Self {
        let app = TestApp::spawn().await;
        let crew = app.crew("安居家电服务有限公司").await;
        let mut blocked = Vec::new();
        for _ in 0..2 {
            blocked.push(Tablet::open(&app, &crew).await);
        }
        let mut waiting = Vec::new();
        for _ in 0..queued {
            waiting.push(Tablet::open(&app, &crew).await);
        }
        Self {
            app,
            crew,
            blocked,
            queued: waiting,
        }
    }

    /// Holds the row locks of the blocked tablets' documents while both group commits of the
    /// instance take an arrival on them, then sends an arrival from each queued tablet and
    /// waits until all of them wait for a group commit. Dropping the returned transaction lets
    /// everything go.
    async fn queue_behind_locks(&mut self) -> (sqlx::Transaction<'static, sqlx::Postgres>, Sent) {
        let app = &self.app;
        let by = self.crew.technician.staff.id.to_string();
        let mut locks = app.database.pool.begin().await.unwrap();
        let ids: Vec<Uuid> = self.blocked.iter().map(|t| t.job).collect();
        sqlx::query("select 1 from documents where id = any($1) for update")
            .bind(&ids)
            .execute(&mut *locks)
            .await
            .unwrap();
        let mut first = Vec::new();
        for (n, tablet) in self.blocked.iter_mut().enumerate() {
            first.push(tablet.record_arrival(&by).await);
            // One at a time, so each is a group of its own: taken from the queue and under way
            // (it cannot finish: its row is locked).
            let want = n as f64 + 1.0;
            wait_for("a group commit to take the message and wait", async || {
                app.metric("fieldsync_sync_commits_in_flight").await == want
                    && app.metric("fieldsync_sync_commit_waiting").await == 0.0
            })
            .await;
        }
        let mut then = Vec::new();
        for tablet in self.queued.iter_mut() {
            then.push(tablet.record_arrival(&by).await);
        }
        let want = self.queued.len() as f64;
        wait_for("the messages to queue for a group commit", async || {
            app.metric("fieldsync_sync_commit_waiting").await == want
        })
        .await;
        (locks, Sent { first, then })
    }

    /// After a group whose last message cannot be stored: the blocked two and the other queued
    /// ones are acknowledged and stored (history and projection), each in a commit of its own;
    /// the last ends as `ends` says and nothing of it is kept.
    async fn the_last_fails_alone(&mut self, sent: &Sent, before: Counts, ends: LastEnds) {
        let (app, crew) = (&self.app, &self.crew);
        let (last, others) = self.queued.split_last_mut().unwrap();
        for (tablet, change) in self.blocked.iter_mut().zip(&sent.first) {
            tablet.acknowledged(*change).await;
        }
        for (tablet, change) in others.iter_mut().zip(&sent.then) {
            tablet.acknowledged(*change).await;
        }
        match ends {
            LastEnds::Closed => {
                let (code, reason) = last
                    .peer
                    .close_frame(IN_SYNC_LIMIT)
                    .await
                    .expect("a close frame");
                assert_eq!(code, 1011, "{reason}");
            }
            // The others were answered after the last one's attempt alone: a close would be
            // here by now.
            LastEnds::HeldBack => assert!(
                last.peer.silent_for(Duration::from_secs(2)).await,
                "no answer and no close for a damaged job"
            ),
        }
        for (tablet, change) in others.iter().zip(&sent.then) {
            assert!(recorded(app, tablet, *change).await);
            assert!(arrived(app, crew, tablet).await);
        }
        let failed = sent.then[sent.then.len() - 1];
        assert!(
            !recorded(app, last, failed).await,
            "nothing of the failed write is kept"
        );
        assert!(!arrived(app, crew, last).await);
        // Message by message: the blocked two and the others of the group, each alone.
        let alone = (self.blocked.len() + others.len()) as f64;
        let after = Counts::now(app).await;
        assert_eq!(after.commits - before.commits, alone);
        assert_eq!(after.committed - before.committed, alone);
    }
}

/// How the connection of a message that could not be stored ends.
enum LastEnds {
    /// The database failed under it: closed with 1011 (keep the work, send it again).
    Closed,
    /// Its document is damaged in storage: not answered, the connection kept.
    HeldBack,
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn recorded(app: &TestApp, tablet: &Tablet, change: ChangeHash) -> bool {
    let count: i64 = sqlx::query_scalar(
        "select count(*) from document_changes where document_id = $1 and hash = $2",
    )
    .bind(tablet.job)
    .bind(change.0.to_vec())
    .fetch_one(&app.database.pool)
    .await
    .unwrap();
    count == 1
}

async fn arrived(app: &TestApp, crew: &Crew, tablet: &Tablet) -> bool {
    let (status, job) = app
        .job(&crew.dispatcher.token, &tablet.job.to_string())
        .await;
    assert_eq!(status, 200);
    job["evidence"]["arrived"] == true
}

/// The instance's group-commit counters.
#[derive(Clone, Copy)]
struct Counts {
    commits: f64,
    committed: f64,
    access_checks: f64,
    access_statements: f64,
}

impl Counts {
    async fn now(app: &TestApp) -> Self {
        Self {
            commits: app.metric("fieldsync_sync_commits_total").await,
            committed: app.metric("fieldsync_sync_committed_messages_total").await,
            access_checks: app.metric("fieldsync_sync_access_checks_total").await,
            access_statements: app.metric("fieldsync_sync_access_statements_total").await,
        }
    }
}

#[tokio::test]
async fn messages_waiting_together_are_committed_in_one_transaction_each_acknowledged_after_it() {
    let mut scene = Scene::new(4).await;
    let before = Counts::now(&scene.app).await;

    let (locks, sent) = scene.queue_behind_locks().await;
    let Scene {
        app,
        crew,
        blocked,
        queued,
    } = &mut scene;
    // Nothing queued is acknowledged before its commit.
    for tablet in queued.iter_mut() {
        match tablet.peer.recv_within(Duration::from_millis(200)).await {
            Received::Closed => {}
            other => panic!("a message was answered before its commit: {other:?}"),
        }
    }
    locks.rollback().await.unwrap();
    for (tablet, change) in blocked.iter_mut().zip(&sent.first) {
        tablet.acknowledged(*change).await;
    }
    for (tablet, change) in queued.iter_mut().zip(&sent.then) {
        tablet.acknowledged(*change).await;
    }

    // The two that waited on the locks, each alone; then the four that queued, together.
    let after = Counts::now(app).await;
    assert_eq!(after.commits - before.commits, 3.0);
    assert_eq!(after.committed - before.committed, 6.0);
    // Every message's access was checked, by as many statements at most.
    let checks = after.access_checks - before.access_checks;
    let statements = after.access_statements - before.access_statements;
    assert!(checks >= 6.0, "{checks} access checks");
    assert!(
        statements >= 1.0 && statements <= checks,
        "{statements} statements"
    );
    for (tablet, change) in blocked
        .iter()
        .zip(&sent.first)
        .chain(queued.iter().zip(&sent.then))
    {
        assert!(
            recorded(app, tablet, *change).await,
            "{} kept its history",
            tablet.job
        );
        assert!(arrived(app, crew, tablet).await, "{} projected", tablet.job);
        let document = harness::peer::fetch_job_document(
            &app.base_url,
            &crew.dispatcher.token,
            &format!("automerge:{}", tablet.document_id),
        )
        .await;
        assert!(document.visit.arrival.is_some());
    }
    // Each stored as its own chunk of its own document.
    let chunks: i64 =
        sqlx::query_scalar("select count(*) from document_chunks where document_id = any($1)")
            .bind(queued.iter().map(|t| t.job).collect::<Vec<_>>())
            .fetch_one(&app.database.pool)
            .await
            .unwrap();
    assert_eq!(chunks, 4);
}

#[tokio::test]
async fn a_message_whose_write_fails_fails_alone_and_the_rest_of_its_group_is_stored() {
    let mut scene = Scene::new(3).await;
    let app = &scene.app;
    // The database refuses any write to the last job's row (as a full disk or a broken
    // constraint would), which fails the transaction it is part of.
    let failing = scene.queued[2].job;
    sqlx::query(
        "create function refuse_in_test() returns trigger language plpgsql as
         $$ begin raise exception 'this test refuses the write'; end $$",
    )
    .execute(&app.database.pool)
    .await
    .unwrap();
    // The id is a UUID the server made; DDL takes no parameters.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create trigger refuse_in_test before update on jobs for each row
         when (old.id = '{failing}') execute function refuse_in_test()"
    )))
    .execute(&app.database.pool)
    .await
    .unwrap();
    let counts = Counts::now(app).await;

    let (locks, sent) = scene.queue_behind_locks().await;
    locks.rollback().await.unwrap();
    scene
        .the_last_fails_alone(&sent, counts, LastEnds::Closed)
        .await;
    let Scene {
        app, crew, queued, ..
    } = &scene;
    let chunks: i64 =
        sqlx::query_scalar("select count(*) from document_chunks where document_id = $1")
            .bind(failing)
            .fetch_one(&app.database.pool)
            .await
            .unwrap();
    assert_eq!(chunks, 0);

    // Once the database takes it again, the tablet's retry is stored.
    sqlx::query("drop trigger refuse_in_test on jobs")
        .execute(&app.database.pool)
        .await
        .unwrap();
    let mut retry = RawPeer::joined(&app.base_url, &crew.technician.token).await;
    let mut doc = queued[2].doc.clone();
    retry
        .sync_until_in_sync(&queued[2].document_id, &mut doc, &mut sync::State::new())
        .await;
    assert!(recorded(app, &queued[2], sent.then[2]).await);
    assert!(arrived(app, crew, &queued[2]).await);
    assert!(doc.get_change_by_hash(&sent.then[2]).is_some());
}

#[tokio::test]
async fn a_message_that_cannot_be_rebased_fails_alone_and_the_others_keep_their_own_changes() {
    let mut scene = Scene::new(3).await;
    let counts = Counts::now(&scene.app).await;
    let (locks, sent) = scene.queue_behind_locks().await;
    // Meanwhile "another instance" compacts the last job into a snapshot this one cannot read,
    // so that message fails while its group is being prepared, after the others were.
    let damaged = scene.queued[2].job;
    sqlx::query(
        "update documents set snapshot = '\\x00ff'::bytea, snapshot_seq = last_seq + 1,
                last_seq = last_seq + 1
         where id = $1",
    )
    .bind(damaged)
    .execute(&scene.app.database.pool)
    .await
    .unwrap();
    locks.rollback().await.unwrap();
    // Each of the others is committed alone with its own changes, and acknowledged; the
    // damaged job is held back.
    scene
        .the_last_fails_alone(&sent, counts, LastEnds::HeldBack)
        .await;
}

#[tokio::test]
async fn a_dispatchers_change_to_a_job_whose_sync_message_is_committing_waits_its_turn() {
    // The order of locks: a sync message holds its document while its commit locks the rows;
    // an office change takes the document first too, then the rows. Were the office change to
    // lock the job's row first, each would wait for the other for ever.
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let mut tablet = Tablet::open(&app, &crew).await;
    let pool = app.database.pool.clone();
    // Backends of this database in a state (`pg_stat_activity`'s words).
    let backends = |condition: &'static str| {
        let pool = pool.clone();
        async move {
            // The conditions are this test's own constants.
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "select count(*) from pg_stat_activity where datname = current_database() \
                 and {condition}"
            )))
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let waiting_on_locks = || backends("wait_event_type = 'Lock'");
    let idle_in_transaction = || backends("state = 'idle in transaction'");
    // The tablet's commit is held at its document's row, its document locked meanwhile.
    let mut hold = pool.begin().await.unwrap();
    sqlx::query("select 1 from documents where id = $1 for update")
        .bind(tablet.job)
        .execute(&mut *hold)
        .await
        .unwrap();
    let change = tablet.record_arrival("张伟").await;
    wait_for("the commit to wait on the row", async || {
        waiting_on_locks().await >= 1
    })
    .await;
    // The dispatcher reschedules the same job meanwhile: its transaction opens and waits for
    // the document.
    let before = idle_in_transaction().await;
    let reschedule = {
        let request = app
            .post(&format!("/api/v1/jobs/{}/reschedule", tablet.job))
            .bearer_auth(&crew.dispatcher.token)
            .json(&serde_json::json!({
                "window_start": "2026-12-03T06:00:00Z",
                "window_end": "2026-12-03T08:00:00Z"
            }));
        tokio::spawn(async move { request.send().await.unwrap().status().as_u16() })
    };
    wait_for("the office change to begin", async || {
        idle_in_transaction().await > before
    })
    .await;
    hold.commit().await.unwrap();
    // Both finish: the arrival acknowledged, then the reschedule.
    tokio::time::timeout(Duration::from_secs(20), tablet.acknowledged(change))
        .await
        .expect("the tablet's change was committed");
    let status = tokio::time::timeout(Duration::from_secs(20), reschedule)
        .await
        .expect("the office change went through")
        .unwrap();
    assert_eq!(status, 200);
    assert!(recorded(&app, &tablet, change).await);
    let (_, job) = app
        .job(&crew.dispatcher.token, &tablet.job.to_string())
        .await;
    assert_eq!(job["window_start"], "2026-12-03T06:00:00Z", "{job}");
}
