//! Object storage for tests: an in-process S3 endpoint per test (the server's own, SigV4
//! checked), or the endpoint in `FIELDSYNC_TEST_S3_ENDPOINT` with a fresh bucket per test.

use fieldsync_server::blob::{BlobStore, ObjectStorageConfig};
use fieldsync_server::embedded::{ObjectStoreServer, S3Credentials};
use uuid::Uuid;

/// A bucket for one test, and the endpoint serving it when it is ours.
#[derive(Debug)]
pub struct TestObjectStore {
    pub config: ObjectStorageConfig,
    pub blobs: BlobStore,
    pub server: Option<ObjectStoreServer>,
    _dir: Option<tempfile::TempDir>,
}

impl TestObjectStore {
    pub async fn start() -> Self {
        let bucket = format!("test-{}", Uuid::new_v4().simple());
        let (config, server, dir) = match std::env::var("FIELDSYNC_TEST_S3_ENDPOINT") {
            Ok(endpoint) => {
                let credentials = S3Credentials {
                    access_key_id: std::env::var("AWS_ACCESS_KEY_ID")
                        .expect("FIELDSYNC_TEST_S3_ENDPOINT needs AWS_ACCESS_KEY_ID"),
                    secret_access_key: std::env::var("AWS_SECRET_ACCESS_KEY")
                        .expect("FIELDSYNC_TEST_S3_ENDPOINT needs AWS_SECRET_ACCESS_KEY"),
                };
                (config(endpoint, bucket, credentials), None, None)
            }
            Err(_) => {
                let dir = tempfile::tempdir().expect("a directory for objects");
                let credentials = S3Credentials::random();
                let server =
                    ObjectStoreServer::start(dir.path(), ([127, 0, 0, 1], 0).into(), &credentials)
                        .await
                        .expect("starting the in-process S3 endpoint");
                (
                    config(server.endpoint(), bucket, credentials),
                    Some(server),
                    Some(dir),
                )
            }
        };
        let blobs = BlobStore::connect(&config).await.expect("S3 client");
        blobs
            .create_bucket_if_missing()
            .await
            .expect("creating the test bucket");
        Self {
            config,
            blobs,
            server,
            _dir: dir,
        }
    }
}

fn config(endpoint: String, bucket: String, credentials: S3Credentials) -> ObjectStorageConfig {
    ObjectStorageConfig {
        endpoint: Some(endpoint),
        bucket,
        region: "us-east-1".to_owned(),
        credentials: Some(credentials),
    }
}
