//! `TestApp`: the real server, in process on port 0, against a fresh database and bucket.

use fieldsync_server::AppState;
use fieldsync_server::blob::BlobStore;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::postgres::{TestDatabase, fresh_database};
use crate::s3::TestObjectStore;

/// One running server and the services behind it; everything stops when it is dropped.
#[derive(Debug)]
pub struct TestApp {
    pub base_url: String,
    pub database: TestDatabase,
    pub objects: TestObjectStore,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    /// A server on a fresh database and bucket.
    pub async fn spawn() -> Self {
        Self::spawn_on(fresh_database().await).await
    }

    /// A server on the given database (already migrated).
    pub async fn spawn_on(database: TestDatabase) -> Self {
        Self::spawn_configured(database, |_| {}).await
    }

    /// A server on a fresh database whose state `configure` adjusts first (webhook settings...).
    pub async fn spawn_with(configure: impl FnOnce(&mut AppState)) -> Self {
        Self::spawn_configured(fresh_database().await, configure).await
    }

    async fn spawn_configured(
        database: TestDatabase,
        configure: impl FnOnce(&mut AppState),
    ) -> Self {
        crate::init_logging();
        let objects = TestObjectStore::start().await;
        let mut state = AppState::new(database.pool.clone(), objects.blobs.clone());
        configure(&mut state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding port 0");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(fieldsync_server::api::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Self {
            base_url,
            database,
            objects,
            http: reqwest::Client::new(),
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// A second server instance on the same database and bucket, with its own document cache
    /// and actor, as behind a load balancer.
    pub async fn another_instance(&self) -> Instance {
        self.instance_with_store(self.objects.blobs.clone()).await
    }

    /// Another server instance on the same database, whose object store is `blobs`.
    pub async fn instance_with_store(&self, blobs: BlobStore) -> Instance {
        let pool = crate::postgres::connect(&self.database.url, 5).await;
        let state = AppState::new(pool, blobs);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding port 0");
        let base_url = format!("http://{}", listener.local_addr().expect("local address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(fieldsync_server::api::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Instance {
            base_url,
            _stop: stop,
            _server: AbortOnDrop(server),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Flips bits in the middle of chunk `seq` of `document` in storage, as a failing disk
    /// would; panics unless there is such a chunk.
    pub async fn damage_chunk(&self, document: uuid::Uuid, seq: i64) {
        let damaged = sqlx::query(
            "update document_chunks
                set data = set_byte(data, length(data) / 2, get_byte(data, length(data) / 2) # 85)
              where document_id = $1 and seq = $2",
        )
        .bind(document)
        .bind(seq)
        .execute(&self.database.pool)
        .await
        .expect("damaging a chunk");
        assert_eq!(damaged.rows_affected(), 1, "chunk {seq} of {document}");
    }

    /// A figure of this instance's `GET /metrics` (a series without labels).
    pub async fn metric(&self, name: &str) -> f64 {
        metric_at(&self.base_url, name).await
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path))
    }

    /// `GET path` as `token`, its body read as JSON (whatever the status).
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, path: &str, token: &str) -> T {
        self.get(path)
            .bearer_auth(token)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: not the JSON expected: {e}"))
    }

    /// `DELETE path` as `token`; the status.
    pub async fn delete_(&self, path: &str, token: &str) -> u16 {
        self.http
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("DELETE")
            .status()
            .as_u16()
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path))
    }

    /// Stops the server gracefully and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task panicked")
                .expect("server failed");
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Another server instance; stops when dropped.
#[derive(Debug)]
pub struct Instance {
    pub base_url: String,
    _stop: oneshot::Sender<()>,
    _server: AbortOnDrop,
}

#[derive(Debug)]
struct AbortOnDrop(JoinHandle<std::io::Result<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A figure of `GET /metrics` of the server at `base_url` (a series without labels, the
/// metrics open to anyone).
pub async fn metric_at(base_url: &str, name: &str) -> f64 {
    let text = reqwest::get(format!("{base_url}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("{name} in /metrics"))
        .parse()
        .expect("a number")
}
