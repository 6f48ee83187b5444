//! The test tablet: a temporary home, the real `field` binary, jobs built with `sync_protocol`
//! as the server would, and an independent look at the SQLite file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use automerge::{AutoCommit, Automerge};
use field_client::sync_protocol::DocumentId;
use field_client::sync_protocol::index::{IndexedJob, TechnicianIndex};
use field_client::sync_protocol::job::{
    ComplaintOrigin, ConfirmationChannel, CustomerSnapshot, CustomerTier, DispatcherActions,
    EpochMillis, JobDocument, JobKind, NewJob,
};
use serde_json::Value;
use tempfile::TempDir;

pub const ME: &str = "tech-li";
pub const SERVER_TOKEN: &str = "fst_very_secret_device_token";

/// A tablet home with the `field` binary pointed at it.
pub struct TestTablet {
    pub home: TempDir,
    pub files: TempDir,
}

impl TestTablet {
    /// A fresh, empty tablet.
    pub fn new() -> Self {
        Self {
            home: TempDir::new().unwrap(),
            files: TempDir::new().unwrap(),
        }
    }

    /// A tablet logged in as [`ME`] with one confirmed job assigned to them; returns the job id.
    pub fn with_my_job() -> (Self, DocumentId) {
        let tablet = Self::new();
        // Nothing listens on port 9 here: the login check finds no server and the tablet
        // works offline, as these tests want.
        tablet.json(&[
            "login",
            "--server",
            "http://127.0.0.1:9",
            "--token",
            SERVER_TOKEN,
        ]);
        let job = tablet.seed(&[ME]).remove(0);
        (tablet, job)
    }

    /// Imports one confirmed job per entry (assigned to that technician) and an index of
    /// [`ME`] listing those assigned to [`ME`]. Returns the job ids in order.
    pub fn seed(&self, assignees: &[&str]) -> Vec<DocumentId> {
        let mut index = TechnicianIndex::create(ME).unwrap();
        let mut arguments = vec!["import-docs".to_owned()];
        let mut ids = Vec::new();
        for (n, assignee) in assignees.iter().enumerate() {
            let id = DocumentId::random();
            let mut job = booked_job(assignee, n as i64);
            if *assignee == ME {
                let read = JobDocument::read(&job).unwrap();
                TechnicianIndex::upsert_job(&mut index, &IndexedJob::from_job(id, &read)).unwrap();
            }
            arguments.push(
                self.write_file(&format!("{id}.automerge"), &job.save())
                    .display()
                    .to_string(),
            );
            ids.push(id);
        }
        let index_id = DocumentId::random();
        let index_file = self.write_file("index.automerge", &index.save());
        arguments.push(format!("{index_id}={}", index_file.display()));
        let args: Vec<&str> = arguments.iter().map(String::as_str).collect();
        let imported = self.json(&args);
        assert_eq!(imported.as_array().unwrap().len(), assignees.len() + 1);
        ids
    }

    /// Writes a file in the scratch directory.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// The tablet's home directory; `field` creates it on first use.
    pub fn home_path(&self) -> PathBuf {
        self.home.path().join("fieldsync")
    }

    /// Runs `field --home <home> args...`.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_field"))
            .arg("--home")
            .arg(self.home_path())
            .args(args)
            .env_remove("FIELDSYNC_HOME")
            .env_remove("FIELDSYNC_TOKEN")
            .output()
            .unwrap()
    }

    /// Runs with `--json`, expects success, and parses what it printed.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.run(&all);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "{args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    /// Runs, expects exit code `code`, and returns the one line it wrote to stderr.
    pub fn refused(&self, args: &[&str], code: i32) -> String {
        let output = self.run(args);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            output.stdout.is_empty(),
            "a refusal prints nothing on stdout"
        );
        String::from_utf8(output.stderr).unwrap()
    }

    /// The SQLite file, opened independently of the binary.
    pub fn database(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.home_path().join("field.sqlite3")).unwrap()
    }

    /// A document as stored on disk: snapshot then chunks, loaded with plain Automerge.
    pub fn stored_document(&self, id: DocumentId) -> Automerge {
        let db = self.database();
        let mut bytes: Vec<u8> = db
            .query_row(
                "select snapshot from documents where id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .unwrap();
        let mut chunks = db
            .prepare("select bytes from document_chunks where document_id = ?1 order by seq")
            .unwrap();
        for chunk in chunks
            .query_map([id.to_string()], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
        {
            bytes.extend(chunk.unwrap());
        }
        Automerge::load(&bytes).unwrap()
    }

    /// The job as stored on disk.
    pub fn stored_job(&self, id: DocumentId) -> JobDocument {
        JobDocument::read(&self.stored_document(id)).unwrap()
    }

    /// Everything on disk a refused command must leave alone.
    pub fn disk_state(&self) -> DiskState {
        if !self.home_path().join("field.sqlite3").exists() {
            return DiskState::default();
        }
        let db = self.database();
        let count = |table: &str| -> i64 {
            db.query_row(&format!("select count(*) from {table}"), [], |r| r.get(0))
                .unwrap()
        };
        let mut attachments: Vec<String> = std::fs::read_dir(self.home_path().join("attachments"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        attachments.sort();
        DiskState {
            chunks: count("document_chunks"),
            uploads: count("pending_uploads"),
            events: count("events"),
            attachments,
        }
    }
}

/// Counts of what the store holds.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DiskState {
    pub chunks: i64,
    pub uploads: i64,
    pub events: i64,
    pub attachments: Vec<String>,
}

/// A job booked for `technician` and confirmed by the customer, as the server makes it.
fn booked_job(technician: &str, n: i64) -> AutoCommit {
    // A window around now, so the arrival is inside it (evaluation flags one far outside).
    let now = chrono::Utc::now().timestamp_millis();
    let start = now - 1_800_000 + n * 7_200_000;
    let mut doc = JobDocument::create(&NewJob {
        kind: JobKind::Repair,
        number: Some(format!("FS-2026-{n:05}")),
        customer: CustomerSnapshot {
            id: None,
            name: format!("王秀英 {n}"),
            phone: Some("13800000000".into()),
            address: "88 Century Avenue, Shanghai".into(),
            tier: Some(CustomerTier::Key),
        },
        complaint_origin: ComplaintOrigin::default(),
        window_start: EpochMillis(start),
        window_end: EpochMillis(start + 7_200_000),
        technician_id: Some(technician.into()),
        created_by: "dispatcher-li-na".into(),
        created_at: EpochMillis(now - 86_400_000),
    })
    .unwrap();
    DispatcherActions::new(&mut doc, "dispatcher-li-na")
        .confirm_appointment(
            "王秀英",
            ConfirmationChannel::Phone,
            EpochMillis(1_772_100_000_000),
        )
        .unwrap();
    doc
}

/// A file that starts like a JPEG (the client only checks the type; the server decodes).
pub fn jpeg(marker: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend_from_slice(marker.as_bytes());
    bytes
}

/// A two-stroke signature as the pad writes it.
pub const STROKES: &str = "[[[10, 10], [40, 30], [70, 12]], [[20, 40], [60.5, 41.2]]]";

/// Reads a path relative to the tablet home.
pub fn read_in(home: &Path, relative: &str) -> Vec<u8> {
    std::fs::read(home.join(relative)).unwrap()
}
