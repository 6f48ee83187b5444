//! Sync load: simulated tablets over real WebSocket against Fieldsync (`fieldsync-server dev`,
//! release build, its durable private PostgreSQL) and the reference JavaScript sync server
//! (`tests/js/sync-server.mjs`: automerge-repo 2.5.6, WebSocket adapter, NodeFS storage), the
//! same workload side by side.
//!
//!     cargo build --release -p fieldsync-server
//!     cargo bench -p fieldsync-tests --bench sync_load -- [--tablets 200] [--edits 50]
//!         [--idle 1000] [--only fieldsync|js] [--storm] [--rounds 1] [--against BINARY]
//!
//! `--rounds N` runs it N times. `--against BINARY` compares this tree's release server with
//! another build of it (a `fieldsync-server` binary kept from an earlier tree) on the same
//! workload, N rounds, the order swapped every round (this machine's speed drifts within the
//! hour, so only runs close in time compare), and sums up each side: edits/s, CPU per 1,000
//! edits, and that CPU over the driver's own in the same run (the driver does the same work
//! against both, so the quotient cancels most of the drift).
//!
//! Each tablet is a task with its own WebSocket and Automerge document, editing as a
//! technician's app does: one change per edit (a work item under `/visit` and its timeline
//! event), the next edit after the previous one is acknowledged (the server's sync reply whose
//! heads include it). Reported: edits per second, acknowledgement latency p50/p99, server CPU
//! seconds per 1,000 edits (the server process and, for Fieldsync, its PostgreSQL; the process's
//! own share beside it), the driver's own
//! CPU per 1,000 edits (when it nears one core, the driver is the limit, not the server), RSS per
//! idle connection (joined, nothing synced; measured first, on the server just started), and
//! for Fieldsync how much it grouped (messages per group commit, access checks per statement).
//! Afterwards every edit is looked for by a fresh reader, then again after the server is killed
//! (-9) and started again.
//!
//! The driver itself runs on one thread and speaks the protocol through `sync-protocol`.

#![allow(clippy::unwrap_used)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use automerge::sync::{self, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sync_protocol::DocumentId;
use sync_protocol::job::{
    ComplaintOrigin, CustomerSnapshot, EpochMillis, JobDocument, JobKind, NewJob, TechnicianActions,
};
use sync_protocol::message::{DecodeLimits, DocumentSync, Join, PeerId, PeerMetadata, WireMessage};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, Clone)]
struct Options {
    tablets: usize,
    edits: usize,
    idle: usize,
    only: Option<String>,
    /// Reconnect storm instead: each tablet has two jobs synced, makes `edits` changes on each
    /// offline, then every tablet connects at once.
    storm: bool,
    /// Runs of the whole measurement.
    rounds: usize,
    /// Another `fieldsync-server` binary to compare this tree's with (Fieldsync only).
    against: Option<PathBuf>,
}

fn options() -> Options {
    let mut o = Options {
        tablets: 200,
        edits: 50,
        idle: 1000,
        only: None,
        storm: false,
        rounds: 1,
        against: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--tablets" => o.tablets = value.parse().unwrap(),
            "--edits" => o.edits = value.parse().unwrap(),
            "--idle" => o.idle = value.parse().unwrap(),
            "--only" => o.only = Some(value),
            "--rounds" => o.rounds = value.parse::<usize>().unwrap().max(1),
            "--against" => {
                let binary = PathBuf::from(&value);
                assert!(binary.is_file(), "--against {value}: no such binary");
                o.against = Some(binary);
            }
            "--storm" => {
                o.storm = true;
                i += 1;
                continue;
            }
            // `cargo bench` passes `--bench`.
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    o
}

/// `pid` and every process below it, each with its CPU ticks (user + system, its reaped
/// children's included).
fn tree(pid: u32) -> Vec<(u32, u64)> {
    let all: Vec<(u32, u32, u64)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|p| {
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            // Fields after the command's closing parenthesis.
            let rest = &stat[stat.rfind(')')? + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ppid: u32 = fields.get(1)?.parse().ok()?;
            let used: u64 = [11, 12, 13, 14]
                .iter()
                .filter_map(|&k| fields.get(k)?.parse::<u64>().ok())
                .sum();
            Some((p, ppid, used))
        })
        .collect();
    let mut family: Vec<(u32, u64)> = Vec::new();
    let mut wanted = vec![pid];
    let mut i = 0;
    while i < wanted.len() {
        let parent = wanted[i];
        for &(p, ppid, used) in &all {
            if p == parent {
                family.push((p, used));
            }
            if ppid == parent && !wanted.contains(&p) {
                wanted.push(p);
            }
        }
        i += 1;
    }
    family
}

/// CPU seconds (user + system) of the server process and of every process below it (for
/// Fieldsync in dev mode: its PostgreSQL), living or reaped.
#[derive(Debug, Clone, Copy, Default)]
struct ServerCpu {
    process: f64,
    below: f64,
}

impl ServerCpu {
    fn of_tree(pid: u32) -> Self {
        let ticks = 100.0; // USER_HZ on Linux
        let mut cpu = Self::default();
        for (p, used) in tree(pid) {
            let seconds = used as f64 / ticks;
            if p == pid {
                cpu.process += seconds;
            } else {
                cpu.below += seconds;
            }
        }
        cpu
    }

    fn since(self, before: Self) -> Self {
        Self {
            process: self.process - before.process,
            below: self.below - before.below,
        }
    }

    fn total(self) -> f64 {
        self.process + self.below
    }
}

/// CPU seconds of the threads now living in `pid` and below it, to the nanosecond (the
/// scheduler's own count, `/proc/<pid>/task/<tid>/schedstat`): fine enough to compare the
/// cost of 50 edits, where 10 ms ticks are not. Threads that exited are not counted.
fn precise_cpu_seconds_of_tree(pid: u32) -> f64 {
    let mut nanos = 0u64;
    for (p, _) in tree(pid) {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.filter_map(Result::ok) {
            let path = task.path().join("schedstat");
            if let Some(ran) = std::fs::read_to_string(path)
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            {
                nanos += ran;
            }
        }
    }
    nanos as f64 / 1e9
}

/// CPU seconds (user + system) of this process alone: the driver's own cost.
fn own_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let used: u64 = [11, 12]
        .iter()
        .map(|&k| fields[k].parse::<u64>().unwrap())
        .sum();
    used as f64 / 100.0
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One simulated tablet's connection.
struct Peer {
    socket: Socket,
    me: PeerId,
    server: PeerId,
}

impl Peer {
    async fn join(url: &str) -> Self {
        let (mut socket, _) = connect_async(url).await.unwrap();
        let me = PeerId::new(format!("load-{}", uuid::Uuid::new_v4().simple()));
        let join = WireMessage::Join(Join {
            sender_id: me.clone(),
            peer_metadata: Some(PeerMetadata::default()),
            supported_protocol_versions: Some(vec!["1".to_owned()]),
        });
        socket
            .send(Message::Binary(join.encode().into()))
            .await
            .unwrap();
        loop {
            let message = next(&mut socket)
                .await
                .unwrap_or_else(|| panic!("{url} closed the connection before greeting"));
            if let WireMessage::Peer(peer) = message {
                return Self {
                    socket,
                    me,
                    server: peer.sender_id,
                };
            }
        }
    }

    async fn send(&mut self, request: bool, id: DocumentId, data: Vec<u8>) {
        let message = DocumentSync {
            sender_id: self.me.clone(),
            target_id: self.server.clone(),
            document_id: id,
            data,
        };
        let wire = if request {
            WireMessage::Request(message)
        } else {
            WireMessage::Sync(message)
        };
        self.socket
            .send(Message::Binary(wire.encode().into()))
            .await
            .unwrap();
    }

    /// The next sync message for `id`, applied to `doc`; the heads the server announced, or
    /// `None` when the server does not have the document or the connection ended.
    async fn try_receive(
        &mut self,
        id: DocumentId,
        doc: &mut AutoCommit,
        state: &mut sync::State,
    ) -> Option<HashSet<ChangeHash>> {
        loop {
            match next(&mut self.socket).await? {
                WireMessage::Sync(m) if m.document_id == id => {
                    let message = sync::Message::decode(&m.data).unwrap();
                    let heads: HashSet<ChangeHash> = message.heads.iter().copied().collect();
                    doc.sync().receive_sync_message(state, message).unwrap();
                    return Some(heads);
                }
                WireMessage::DocUnavailable(m) if m.document_id == id => return None,
                WireMessage::Error(e) => panic!("the server said: {}", e.message),
                _ => {}
            }
        }
    }

    async fn receive(
        &mut self,
        id: DocumentId,
        doc: &mut AutoCommit,
        state: &mut sync::State,
    ) -> HashSet<ChangeHash> {
        self.try_receive(id, doc, state)
            .await
            .unwrap_or_else(|| panic!("{id}: not on the server, or the connection ended"))
    }

    /// Syncs until neither side has anything more for the other; false if the server does not
    /// have the document (or dropped the connection).
    async fn settle(
        &mut self,
        request: bool,
        id: DocumentId,
        doc: &mut AutoCommit,
        state: &mut sync::State,
    ) -> bool {
        let mut first = true;
        let mut theirs_last: Option<HashSet<ChangeHash>> = None;
        loop {
            let ours: HashSet<ChangeHash> = doc.get_heads().into_iter().collect();
            match doc.sync().generate_sync_message(state) {
                Some(message) => {
                    self.send(request && first, id, message.encode()).await;
                    // Both sides have the same heads: this was only an acknowledgement.
                    if !ours.is_empty() && theirs_last.as_ref() == Some(&ours) {
                        return true;
                    }
                }
                None if !first => return true,
                None => {}
            }
            first = false;
            let Some(theirs) = self.try_receive(id, doc, state).await else {
                return false;
            };
            theirs_last = Some(theirs.clone());
            if ours.iter().all(|h| theirs.contains(h))
                && doc
                    .sync()
                    .generate_sync_message(&mut state.clone())
                    .is_none()
            {
                return true;
            }
        }
    }
}

/// The next message, or `None` when the connection ended.
async fn next(socket: &mut Socket) -> Option<WireMessage> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(60), socket.next())
            .await
            .expect("the server answers within 60 s")?
            .ok()?;
        if let Message::Binary(bytes) = frame {
            return Some(WireMessage::decode(&bytes, &DecodeLimits::default()).unwrap());
        }
    }
}

/// One tablet: opens (or creates) its job, then makes `edits` edits, each waited for.
/// Edits at each end of a lone tablet's run whose server CPU is reported apart.
const ENDS: usize = 50;

/// One tablet editing its job; its acknowledgement latencies. With `server` (a lone tablet of
/// at least twice [`ENDS`] edits) also the server's CPU seconds spent over its first and over
/// its last [`ENDS`] edits: whether an edit costs more as the document grows.
async fn tablet(
    url: String,
    id: DocumentId,
    technician: String,
    edits: usize,
    create: bool,
    server: Option<u32>,
) -> (Vec<Duration>, Option<(f64, f64)>) {
    let mut peer = Peer::join(&url).await;
    let (mut doc, mut state) = open_job(&mut peer, id, &technician, create).await;
    JobDocument::read(&doc).expect("the job is on the tablet");
    let mut latencies = Vec::with_capacity(edits);
    let mut marks = Vec::new();
    for n in 0..edits {
        if let Some(pid) = server
            && (n == 0 || n == ENDS || n == edits - ENDS)
        {
            marks.push(precise_cpu_seconds_of_tree(pid));
        }
        edit(&mut doc, &technician, n);
        let wanted = doc.get_heads();
        let started = Instant::now();
        let message = doc.sync().generate_sync_message(&mut state).unwrap();
        peer.send(false, id, message.encode()).await;
        let acknowledged = async {
            loop {
                let theirs = peer.receive(id, &mut doc, &mut state).await;
                if wanted.iter().all(|h| theirs.contains(h)) {
                    break;
                }
                // Answer as a repo does: the server may ask for the edit by hash, when its
                // Bloom filter of the booking wrongly claimed it (about 1 edit in 100 on a
                // one-change document), so the edit went out without its change.
                if let Some(message) = doc.sync().generate_sync_message(&mut state) {
                    peer.send(false, id, message.encode()).await;
                }
            }
        };
        // Heartbeats keep a connection alive; an acknowledgement that never comes is a failure.
        tokio::time::timeout(Duration::from_secs(30), acknowledged)
            .await
            .unwrap_or_else(|_| panic!("{id}: edit {n} not acknowledged within 30 s"));
        latencies.push(started.elapsed());
        // Acknowledge what the server sent, as a tablet's repo would.
        if let Some(message) = doc.sync().generate_sync_message(&mut state) {
            peer.send(false, id, message.encode()).await;
        }
    }
    let ends = server.map(|pid| {
        marks.push(precise_cpu_seconds_of_tree(pid));
        (marks[1] - marks[0], marks[3] - marks[2])
    });
    (latencies, ends)
}

/// Job `id` on a tablet, synced with the server: booked by the server (Fieldsync) or, with
/// `create`, made here as a dispatcher would and sent (the JS server has no booking).
async fn open_job(
    peer: &mut Peer,
    id: DocumentId,
    technician: &str,
    create: bool,
) -> (AutoCommit, sync::State) {
    let mut state = sync::State::new();
    let mut doc = if create {
        new_job(technician)
    } else {
        AutoCommit::new()
    };
    assert!(peer.settle(!create, id, &mut doc, &mut state).await);
    (doc, state)
}

/// The technician's `n`th edit: one work item and its timeline event, one change.
fn edit(doc: &mut AutoCommit, technician: &str, n: usize) {
    let now = EpochMillis(chrono::Utc::now().timestamp_millis());
    TechnicianActions::new(doc, technician)
        .add_work_item(&format!("滤芯 {n}"), 1, now)
        .unwrap();
}

/// A job as a dispatcher books it, for the server that has no booking of its own (JS).
fn new_job(technician: &str) -> AutoCommit {
    let now = chrono::Utc::now().timestamp_millis();
    JobDocument::create(&NewJob {
        kind: JobKind::Repair,
        number: None,
        customer: CustomerSnapshot {
            id: None,
            name: "王秀英".into(),
            phone: Some("13800000000".into()),
            address: "上海市浦东新区张杨路1588号12楼1203室".into(),
            tier: None,
        },
        complaint_origin: ComplaintOrigin::default(),
        window_start: EpochMillis(now),
        window_end: EpochMillis(now + 7_200_000),
        technician_id: Some(technician.to_owned()),
        created_by: "load-dispatcher".into(),
        created_at: EpochMillis(now),
    })
    .unwrap()
}

/// What a fresh reader finds of each job: its work items.
async fn read_back(url: &str, ids: &[DocumentId]) -> Vec<usize> {
    let mut peer = Peer::join(url).await;
    let mut found = Vec::new();
    for id in ids {
        let mut doc = AutoCommit::new();
        let mut state = sync::State::new();
        let settled = tokio::time::timeout(
            Duration::from_secs(10),
            peer.settle(true, *id, &mut doc, &mut state),
        )
        .await
        .unwrap_or(false);
        if !settled && JobDocument::read(&doc).is_err() {
            // Not there (or the server dropped us): nothing found; go on with a new connection.
            found.push(0);
            peer = Peer::join(url).await;
            continue;
        }
        found.push(
            JobDocument::read(&doc)
                .map(|j| j.visit.work_items.len())
                .unwrap_or(0),
        );
    }
    found
}

#[derive(Debug)]
struct Outcome {
    name: String,
    edits: usize,
    seconds: f64,
    p50: Duration,
    p99: Duration,
    cpu_per_1000: f64,
    /// Of `cpu_per_1000`, the server process's own (the rest is PostgreSQL's).
    process_cpu_per_1000: f64,
    driver_cpu_per_1000: f64,
    idle_rss_kib: f64,
    found: usize,
    found_after_kill: usize,
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

/// Idle connections (joined, nothing synced) to a server just started, before anything else
/// ran on it (so its allocator has no free memory from earlier work to hand out): the server's
/// RSS growth per connection. None in a storm run.
async fn idle_rss(o: &Options, url: &str, pid: u32) -> f64 {
    if o.storm {
        return 0.0;
    }
    let count = o.idle;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    let mut peers = Vec::with_capacity(count);
    for _ in 0..count {
        peers.push(Peer::join(url).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    drop(peers);
    (after.saturating_sub(before)) as f64 / count.max(1) as f64
}

async fn drive(
    name: &'static str,
    url: &str,
    pid: u32,
    jobs: &[(DocumentId, String)],
    edits: usize,
    create: bool,
) -> (Vec<Duration>, f64, ServerCpu, f64) {
    let cpu_before = ServerCpu::of_tree(pid);
    let driver_before = own_cpu_seconds();
    let started = Instant::now();
    let tasks: Vec<_> = jobs
        .iter()
        .map(|(id, technician)| {
            tokio::spawn(tablet(
                url.to_owned(),
                *id,
                technician.clone(),
                edits,
                create,
                (jobs.len() == 1 && edits >= 2 * ENDS).then_some(pid),
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        let (measured, ends) = task.await.unwrap();
        latencies.extend(measured);
        if let Some((first, last)) = ends {
            let per_1000 = 1000.0 / ENDS as f64;
            println!(
                "{name}: server CPU s per 1,000 edits over the first {ENDS} edits {:.3}, over the last {ENDS} {:.3} (last / first {:.2})",
                first * per_1000,
                last * per_1000,
                last / first
            );
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = ServerCpu::of_tree(pid).since(cpu_before);
    let driver = own_cpu_seconds() - driver_before;
    println!(
        "{name}: {} edits by {} tablets in {seconds:.1} s",
        latencies.len(),
        jobs.len()
    );
    (latencies, seconds, cpu, driver)
}

/// A reconnect storm: every tablet first syncs its two jobs and disconnects (untimed), makes
/// `edits` changes on each job offline, then all tablets connect at once and sync until the
/// server has everything. Returns each tablet's time to converge, the wall time, the server's
/// CPU and the driver's over the storm.
async fn storm(
    url: &str,
    pid: u32,
    jobs: &[(DocumentId, String)],
    edits: usize,
    create: bool,
) -> (Vec<Duration>, f64, ServerCpu, f64) {
    // Before: each tablet holds its two jobs, synced.
    let prepared: Vec<_> = jobs
        .chunks(2)
        .map(|pair| {
            let (url, pair, technician) = (url.to_owned(), pair.to_vec(), pair[0].1.clone());
            tokio::spawn(async move {
                let mut peer = Peer::join(&url).await;
                let mut docs = Vec::new();
                for (id, _) in pair {
                    let (doc, _) = open_job(&mut peer, id, &technician, create).await;
                    docs.push((id, doc));
                }
                // A day offline.
                for (_, doc) in &mut docs {
                    for n in 0..edits {
                        edit(doc, &technician, n);
                    }
                }
                docs
            })
        })
        .collect();
    let mut tablets = Vec::new();
    for task in prepared {
        tablets.push(task.await.unwrap());
    }
    let cpu_before = ServerCpu::of_tree(pid);
    let driver_before = own_cpu_seconds();
    let started = Instant::now();
    let tasks: Vec<_> = tablets
        .into_iter()
        .map(|docs| {
            let url = url.to_owned();
            tokio::spawn(async move {
                let mut peer = Peer::join(&url).await;
                for (id, mut doc) in docs {
                    let mut state = sync::State::new();
                    let settled = tokio::time::timeout(
                        Duration::from_secs(120),
                        peer.settle(false, id, &mut doc, &mut state),
                    )
                    .await
                    .unwrap_or_else(|_| panic!("{id}: not converged within 120 s"));
                    assert!(settled, "{id}: the server dropped the tablet");
                }
                started.elapsed()
            })
        })
        .collect();
    let mut converged = Vec::new();
    for task in tasks {
        converged.push(task.await.unwrap());
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = ServerCpu::of_tree(pid).since(cpu_before);
    let driver = own_cpu_seconds() - driver_before;
    println!(
        "storm: {} tablets, {} changes each, all converged in {seconds:.1} s",
        converged.len(),
        2 * edits
    );
    (converged, seconds, cpu, driver)
}

/// The workload against `binary` (`fieldsync-server`), reported as `name`.
async fn fieldsync(o: &Options, binary: &Path, name: &str) -> Outcome {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = |data: &Path| {
        tokio::process::Command::new(binary)
            .args(["dev", "--data-dir"])
            .arg(data)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--rate-per-second", "1000000", "--rate-burst", "1000000"])
            .env(
                "RUST_LOG",
                std::env::var("SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap()
    };
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start(data.path());
    let http = reqwest::Client::new();
    wait_ready(&http, &base).await;
    let demo: Value =
        serde_json::from_str(&std::fs::read_to_string(data.path().join("demo.json")).unwrap())
            .unwrap();
    let member = |role: &str| {
        demo["staff"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["role"] == role)
            .unwrap()
            .clone()
    };
    let (technician, dispatcher) = (member("technician"), member("dispatcher"));
    let customer = demo["customers"][0]["id"].as_str().unwrap().to_owned();
    let url = format!(
        "ws://127.0.0.1:{port}/sync?token={}",
        technician["token"].as_str().unwrap()
    );
    let pid = server.id().unwrap();
    let idle = idle_rss(o, &url, pid).await;
    let mut jobs = Vec::new();
    for _ in 0..o.tablets * if o.storm { 2 } else { 1 } {
        let now = chrono::Utc::now();
        let booked: Value = http
            .post(format!("{base}/api/v1/jobs"))
            .bearer_auth(dispatcher["token"].as_str().unwrap())
            .json(&json!({
                "customer_id": customer, "kind": "repair",
                "window_start": now, "window_end": now + chrono::Duration::hours(2),
                "technician_id": technician["id"],
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = DocumentId::parse(booked["document_id"].as_str().unwrap()).unwrap();
        jobs.push((id, technician["id"].as_str().unwrap().to_owned()));
    }
    let measured = workload(o, "fieldsync", &url, pid, &jobs, false, idle).await;
    batching(&base).await;
    server.kill().await.unwrap();
    let mut server = start(data.path());
    wait_ready(&http, &base).await;
    let after_kill = read_back(&url, &measured.ids).await;
    server.kill().await.unwrap();
    measured.outcome(name, &after_kill)
}

/// How much the server grouped since it started (the run and the reads around it), from its
/// `/metrics`: messages per group commit, access checks per statement.
async fn batching(base: &str) {
    use harness::app::metric_at;
    let commits = metric_at(base, "fieldsync_sync_commits_total").await;
    let committed = metric_at(base, "fieldsync_sync_committed_messages_total").await;
    let checks = metric_at(base, "fieldsync_sync_access_checks_total").await;
    let statements = metric_at(base, "fieldsync_sync_access_statements_total").await;
    println!(
        "fieldsync: {committed} messages with changes in {commits} group commits ({:.1} each), \
         {checks} access checks in {statements} statements ({:.1} each), since it started",
        committed / commits,
        checks / statements
    );
}

/// What a run measured before the server is killed.
struct Measured {
    ids: Vec<DocumentId>,
    /// Every change the tablets made (edits, or offline changes in a storm).
    changes: usize,
    /// Per edit (acknowledgement) or per tablet (convergence in a storm), sorted.
    latencies: Vec<Duration>,
    seconds: f64,
    cpu: ServerCpu,
    driver: f64,
    idle_rss_kib: f64,
    found: Vec<usize>,
}

/// The run itself on a ready server: the edits, or the storm; then every job read back by a
/// fresh reader. `idle_rss_kib` was measured before.
async fn workload(
    o: &Options,
    name: &'static str,
    url: &str,
    pid: u32,
    jobs: &[(DocumentId, String)],
    create: bool,
    idle_rss_kib: f64,
) -> Measured {
    let (mut latencies, seconds, cpu, driver) = if o.storm {
        storm(url, pid, jobs, o.edits, create).await
    } else {
        drive(name, url, pid, jobs, o.edits, create).await
    };
    latencies.sort();
    let ids: Vec<DocumentId> = jobs.iter().map(|(id, _)| *id).collect();
    let found = read_back(url, &ids).await;
    Measured {
        changes: jobs.len() * o.edits,
        ids,
        latencies,
        seconds,
        cpu,
        driver,
        idle_rss_kib,
        found,
    }
}

impl Measured {
    fn outcome(self, name: &str, after_kill: &[usize]) -> Outcome {
        let per_1000 = |seconds: f64| seconds / self.changes as f64 * 1000.0;
        Outcome {
            name: name.to_owned(),
            edits: self.changes,
            seconds: self.seconds,
            p50: percentile(&self.latencies, 0.5),
            p99: percentile(&self.latencies, 0.99),
            cpu_per_1000: per_1000(self.cpu.total()),
            process_cpu_per_1000: per_1000(self.cpu.process),
            driver_cpu_per_1000: per_1000(self.driver),
            idle_rss_kib: self.idle_rss_kib,
            found: self.found.iter().sum(),
            found_after_kill: after_kill.iter().sum(),
        }
    }
}

async fn wait_ready(http: &reqwest::Client, base: &str) {
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} never became ready");
}

async fn javascript(o: &Options) -> Outcome {
    let storage = tempfile::tempdir().unwrap();
    let js: PathBuf = harness::node::js_dir();
    let start = |port: u16| {
        let mut child = tokio::process::Command::new("node")
            .arg("sync-server.mjs")
            .arg(storage.path())
            .arg(port.to_string())
            .current_dir(&js)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        (child, stdout)
    };
    let port = free_port();
    let (mut server, stdout) = start(port);
    ready(stdout).await;
    let url = format!("ws://127.0.0.1:{port}");
    let pid = server.id().unwrap();
    let idle = idle_rss(o, &url, pid).await;
    let jobs: Vec<(DocumentId, String)> = (0..o.tablets * if o.storm { 2 } else { 1 })
        .map(|_| (DocumentId::random(), "load-technician".to_owned()))
        .collect();
    let measured = workload(o, "javascript", &url, pid, &jobs, true, idle).await;
    server.kill().await.unwrap();
    let (mut server, stdout) = start(port);
    ready(stdout).await;
    let after_kill = read_back(&url, &measured.ids).await;
    server.kill().await.unwrap();
    measured.outcome("automerge-repo 2.5.6 sync server (NodeFS)", &after_kill)
}

/// Waits for the JS server's ready line, then keeps reading its output: a closed pipe would
/// make its next write fail (and its connections with it).
async fn ready(stdout: tokio::process::ChildStdout) {
    let mut lines = BufReader::new(stdout).lines();
    lines.next_line().await.unwrap();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
}

fn main() {
    let o = options();
    // The driver takes one thread: the servers get the rest of the machine.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let this_tree = harness::binaries::path("fieldsync-server");
    let mut outcomes = Vec::new();
    for round in 0..o.rounds {
        if let Some(baseline) = &o.against {
            let mut sides = [
                (baseline.as_path(), "Fieldsync, baseline"),
                (this_tree.as_path(), "Fieldsync, this tree"),
            ];
            if round % 2 == 1 {
                sides.reverse();
            }
            for (binary, name) in sides {
                outcomes.push(runtime.block_on(fieldsync(&o, binary, name)));
            }
            continue;
        }
        if o.only.as_deref() != Some("js") {
            let name = "Fieldsync (dev, PostgreSQL fsync on)";
            outcomes.push(runtime.block_on(fieldsync(&o, &this_tree, name)));
        }
        if o.only.as_deref() != Some("fieldsync") {
            outcomes.push(runtime.block_on(javascript(&o)));
        }
    }
    if o.storm {
        println!(
            "\nreconnect storm: {} tablets, 2 jobs each, {} offline changes per job; latency = \
             a tablet's time to converge, edits/s = changes taken per second of the storm\n",
            o.tablets, o.edits
        );
    } else {
        println!(
            "\n{} tablets x {} edits, {} idle connections\n",
            o.tablets, o.edits, o.idle
        );
    }
    println!(
        "| server | edits/s | ack p50 / p99 | server CPU s per 1,000 edits | of which the server process | driver CPU s per 1,000 edits | RSS per idle connection | edits found (after kill -9) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for r in &outcomes {
        println!(
            "| {} | {:.0} | {:.1} / {:.1} ms | {:.2} | {:.2} | {:.2} | {:.1} KiB | {} of {} ({}) |",
            r.name,
            r.edits as f64 / r.seconds,
            r.p50.as_secs_f64() * 1000.0,
            r.p99.as_secs_f64() * 1000.0,
            r.cpu_per_1000,
            r.process_cpu_per_1000,
            r.driver_cpu_per_1000,
            r.idle_rss_kib,
            r.found,
            r.edits,
            r.found_after_kill,
        );
    }
    if let Some(baseline) = &o.against {
        println!("\nbaseline: {}", baseline.display());
        compare(&outcomes);
    }
}

/// Each side of an `--against` comparison summed up over its rounds, and the change in CPU
/// per edit relative to the driver's.
fn compare(outcomes: &[Outcome]) {
    let side =
        |name: &str| -> Vec<&Outcome> { outcomes.iter().filter(|r| r.name == name).collect() };
    let range = |values: Vec<f64>, digits: usize| {
        let low = values.iter().copied().fold(f64::INFINITY, f64::min);
        let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{low:.digits$}–{high:.digits$}")
    };
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len().max(1) as f64;
    println!(
        "\n| side | runs | edits/s | server CPU s per 1,000 edits | server CPU over driver CPU (each run) | mean |"
    );
    println!("|---|---|---|---|---|---|");
    let mut means = Vec::new();
    for name in ["Fieldsync, baseline", "Fieldsync, this tree"] {
        let runs = side(name);
        let ratios: Vec<f64> = runs
            .iter()
            .map(|r| r.cpu_per_1000 / r.driver_cpu_per_1000)
            .collect();
        let listed: Vec<String> = ratios.iter().map(|q| format!("{q:.2}")).collect();
        println!(
            "| {name} | {} | {} | {} | {} | {:.2} |",
            runs.len(),
            range(runs.iter().map(|r| r.edits as f64 / r.seconds).collect(), 0),
            range(runs.iter().map(|r| r.cpu_per_1000).collect(), 2),
            listed.join(", "),
            mean(&ratios)
        );
        means.push(mean(&ratios));
    }
    println!(
        "\nthis tree's server CPU per edit (relative to the driver's): {:+.1} % against the baseline",
        (means[1] / means[0] - 1.0) * 100.0
    );
}
