//! An S3 endpoint in process (s3s over a directory, with SigV4 checked), for dev mode and tests.

use std::fmt;
use std::net::SocketAddr;
use std::path::Path;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder as ConnectionBuilder;
use hyper_util::server::graceful::GracefulShutdown;
use s3s::auth::SimpleAuth;
use s3s::service::S3ServiceBuilder;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// An access key pair; the secret never shows in `Debug`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl S3Credentials {
    /// A fresh random pair.
    pub fn random() -> Self {
        Self {
            access_key_id: format!("FS{}", crate::auth::random_text(10).to_uppercase()),
            secret_access_key: crate::auth::random_text(30),
        }
    }
}

impl fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .finish()
    }
}

/// A running endpoint; stops when [`ObjectStoreServer::shutdown`] is called or it is dropped.
#[derive(Debug)]
pub struct ObjectStoreServer {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ObjectStoreServer {
    /// Serves the objects under `root` (one directory per bucket) on `bind`.
    pub async fn start(
        root: &Path,
        bind: SocketAddr,
        credentials: &S3Credentials,
    ) -> std::io::Result<Self> {
        tokio::fs::create_dir_all(root).await?;
        let store =
            s3s_fs::FileSystem::new(root).map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let mut builder = S3ServiceBuilder::new(store);
        builder.set_auth(SimpleAuth::from_single(
            credentials.access_key_id.clone(),
            credentials.secret_access_key.clone(),
        ));
        let service = builder.build();
        let listener = TcpListener::bind(bind).await?;
        let address = listener.local_addr()?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let http = ConnectionBuilder::new(TokioExecutor::new());
            let graceful = GracefulShutdown::new();
            loop {
                let socket = tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((socket, _)) => socket,
                        Err(e) => {
                            tracing::warn!(error = %e, "object store: accept failed");
                            continue;
                        }
                    },
                    _ = &mut stopped => break,
                };
                let connection = http.serve_connection(TokioIo::new(socket), service.clone());
                let connection = graceful.watch(connection.into_owned());
                tokio::spawn(async move {
                    let _ = connection.await;
                });
            }
            graceful.shutdown().await;
        });
        Ok(Self {
            address,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The endpoint URL to give the S3 client.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops accepting, lets requests in flight finish, and waits for that.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ObjectStoreServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
