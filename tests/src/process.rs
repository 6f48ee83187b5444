//! The real `fieldsync-server` binary as a separate process, for tests that kill it or run
//! several instances against one database and bucket.

use std::process::Stdio;
use std::time::{Duration, Instant};

use fieldsync_server::blob::ObjectStorageConfig;
use tokio::process::{Child, Command};

/// A running `fieldsync-server serve`.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pub base_url: String,
    pub port: u16,
}

impl ServerProcess {
    /// Starts the binary on `port` (0 picks one) and waits until `/readyz` answers 200.
    pub async fn start(database_url: &str, objects: &ObjectStorageConfig, port: u16) -> Self {
        Self::start_with(database_url, objects, port, &[]).await
    }

    /// Starts the binary and waits only until it answers `/healthz`: for a server whose
    /// object store or database is down on purpose.
    pub async fn start_alive(database_url: &str, objects: &ObjectStorageConfig, port: u16) -> Self {
        Self::launch(database_url, objects, port, &[], "/healthz").await
    }

    /// [`ServerProcess::start`] with extra environment variables (settings).
    pub async fn start_with(
        database_url: &str,
        objects: &ObjectStorageConfig,
        port: u16,
        settings: &[(&str, &str)],
    ) -> Self {
        Self::launch(database_url, objects, port, settings, "/readyz").await
    }

    async fn launch(
        database_url: &str,
        objects: &ObjectStorageConfig,
        port: u16,
        settings: &[(&str, &str)],
        ready: &str,
    ) -> Self {
        let port = if port == 0 { free_port() } else { port };
        let credentials = objects
            .credentials
            .as_ref()
            .expect("test stores have credentials");
        let log = crate::postgres::test_root().join(format!("server-{port}.log"));
        let mut command = Command::new(crate::binaries::path("fieldsync-server"));
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env(
                "FIELDSYNC_S3_ENDPOINT",
                objects.endpoint.as_deref().unwrap_or_default(),
            )
            .env("FIELDSYNC_S3_BUCKET", &objects.bucket)
            .env("AWS_REGION", &objects.region)
            .env("AWS_ACCESS_KEY_ID", &credentials.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &credentials.secret_access_key)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env(
                "RUST_LOG",
                std::env::var("TEST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(settings.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("server log"))
            .kill_on_drop(true);
        let child = command.spawn().expect("starting fieldsync-server");
        let server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            port,
        };
        server.wait_ready(ready, Duration::from_secs(30)).await;
        server
    }

    async fn wait_ready(&self, path: &str, limit: Duration) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(response) = client.get(format!("{}{path}", self.base_url)).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "fieldsync-server did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The operating system's id of the server process.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `kill -9`: no shutdown code runs.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
