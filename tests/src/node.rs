//! Real JavaScript clients (automerge-repo, tus-js-client, standardwebhooks) run with node from
//! `tests/js`, whose packages are pinned by its lockfile (`scripts/test` installs them).

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// The directory of the JS clients.
pub fn js_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("js");
    assert!(
        dir.join("node_modules").exists(),
        "run `npm install` in {} first (scripts/test does)",
        dir.display()
    );
    dir
}

/// A node script that prints one JSON line, then waits until its stdin closes.
#[derive(Debug)]
pub struct NodeClient {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl NodeClient {
    pub fn start(script: &str, args: &[&str]) -> Self {
        let mut child = Command::new("node")
            .arg(script)
            .args(args)
            .current_dir(js_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("starting node (Node.js 20 must be installed)");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        Self {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
        }
    }

    /// The next JSON line the script prints.
    pub async fn next_json(&mut self) -> serde_json::Value {
        let line = tokio::time::timeout(std::time::Duration::from_secs(60), self.lines.next_line())
            .await
            .expect("the node client answers within 60 s")
            .expect("reading node's output")
            .expect("node printed a line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("node printed {line}: {e}"))
    }

    /// Writes one line to the script's stdin (a go-ahead for scripts that wait for one).
    pub async fn send_line(&mut self, line: &str) {
        use tokio::io::AsyncWriteExt;
        let stdin = self.stdin.as_mut().expect("stdin still open");
        stdin
            .write_all(format!("{line}\n").as_bytes())
            .await
            .expect("writing to node");
        stdin.flush().await.expect("writing to node");
    }

    /// Closes stdin and waits for the script to exit.
    pub async fn finish(mut self) {
        drop(self.stdin.take());
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), self.child.wait()).await;
    }
}
