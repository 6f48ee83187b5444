//! A technician's tablet for end-to-end tests: the real `field` binary with its own home, driven
//! the way support staff drive it, against the real server.

use std::path::PathBuf;
use std::process::{Output, Stdio};

use serde_json::Value;
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// Two strokes of a signature, as the signature pad writes them.
pub const STROKES: &str = "[[[10, 10], [40, 30], [70, 12]], [[20, 40], [60.5, 41.2]]]";

/// One tablet: a home directory for `field` and a scratch directory for files to attach.
#[derive(Debug)]
pub struct Tablet {
    home: TempDir,
    files: TempDir,
}

impl Default for Tablet {
    fn default() -> Self {
        Self::new()
    }
}

impl Tablet {
    pub fn new() -> Self {
        Self {
            home: TempDir::new().expect("tablet home"),
            files: TempDir::new().expect("tablet scratch directory"),
        }
    }

    /// `field --home <home> args...`, not started yet.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(crate::binaries::path("field"));
        command
            .arg("--home")
            .arg(self.home.path().join("fieldsync"))
            .args(args)
            .env_remove("FIELDSYNC_HOME")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        command
    }

    /// Runs `field args...` to the end.
    pub async fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().await.expect("running field")
    }

    /// Starts `field args...` without waiting, output discarded (for tests that kill it).
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting field")
    }

    /// Starts `field args...` with its standard output piped (a long-running command that
    /// prints what to open first, like `field ui`); standard error goes to the test's.
    pub fn spawn_piped(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting field")
    }

    /// Runs with `--json`, expects success, and parses what it printed.
    /// `field login` against `server` with `token`; its JSON answer.
    pub async fn login(&self, server: &str, token: &str) -> Value {
        self.json(&["login", "--server", server, "--token", token])
            .await
    }

    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.run(&all).await;
        assert!(
            output.status.success(),
            "field {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
            panic!(
                "field {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }

    /// Runs, expects exit code 1, and returns what it wrote to stderr.
    pub async fn refused(&self, args: &[&str]) -> String {
        let output = self.run(args).await;
        assert_eq!(
            output.status.code(),
            Some(1),
            "field {args:?} should fail: {}",
            String::from_utf8_lossy(&output.stdout)
        );
        String::from_utf8(output.stderr).expect("UTF-8 message")
    }

    /// Writes a file to attach.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.files.path().join(name);
        std::fs::write(&path, bytes).expect("writing a scratch file");
        path
    }

    /// Records a whole visit on `job` as a technician would, offline: arrival, permission,
    /// work, payment due by transfer, signature, feedback card, cleanup with its photo,
    /// departure. `card` and `site` are the photos' bytes (JPEG, PNG or WebP).
    pub async fn work_a_visit(&self, job: &str, card: &[u8], site: &[u8]) {
        self.json(&["arrive", job]).await;
        self.finish_a_visit(job, card, site).await;
    }

    /// The rest of [`Tablet::work_a_visit`] after the arrival.
    pub async fn finish_a_visit(&self, job: &str, card: &[u8], site: &[u8]) {
        let strokes = self.write_file("strokes.json", STROKES.as_bytes());
        let card = self.write_file(&format!("card-{job}"), card);
        let site = self.write_file(&format!("site-{job}"), site);
        let path = |p: &PathBuf| p.to_str().expect("UTF-8 path").to_owned();
        let steps: [Vec<String>; 7] = [
            args(&[
                "permit",
                job,
                "--item",
                "客厅地板",
                "--granted-by",
                "王秀英",
            ]),
            args(&["work", job, "--note", "更换了洗衣机进水阀，试机正常。"]),
            args(&["pay", job, "--amount", "120.50", "--reference", "FS-0042"]),
            args(&[
                "sign",
                job,
                "--signer",
                "王秀英",
                "--strokes",
                &path(&strokes),
            ]),
            args(&[
                "photo",
                job,
                "--kind",
                "feedback_card",
                &path(&card),
                "--rating",
                "5",
            ]),
            args(&[
                "cleanup",
                job,
                "--debris",
                "taken_away",
                "--consent-by",
                "王秀英",
                "--witnessed",
                "--photo",
                &path(&site),
            ]),
            args(&["depart", job]),
        ];
        for step in steps {
            let step: Vec<&str> = step.iter().map(String::as_str).collect();
            self.json(&step).await;
        }
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
