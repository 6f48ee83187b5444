//! Object storage for tests: an in-process S3 endpoint per test (the server's own, SigV4
//! checked), or the endpoint in `FIELDSYNC_TEST_S3_ENDPOINT` (signed for `AWS_REGION`, default
//! `us-east-1`) with a fresh bucket per test, emptied and deleted when the test ends.

use fieldsync_server::blob::{BlobStore, ObjectStorageConfig};
use fieldsync_server::embedded::{ObjectStoreServer, S3Credentials};
use uuid::Uuid;

/// A bucket for one test, and the endpoint serving it when it is ours.
#[derive(Debug)]
pub struct TestObjectStore {
    pub config: ObjectStorageConfig,
    pub blobs: BlobStore,
    /// The in-process endpoint; `None` when the store is external.
    server: Option<ObjectStoreServer>,
    _dir: Option<tempfile::TempDir>,
}

impl TestObjectStore {
    pub async fn start() -> Self {
        let bucket = format!("test-{}", Uuid::new_v4().simple());
        let (config, server, dir) = match external_endpoint() {
            Some(endpoint) => {
                let credentials = S3Credentials {
                    access_key_id: std::env::var("AWS_ACCESS_KEY_ID")
                        .expect("FIELDSYNC_TEST_S3_ENDPOINT needs AWS_ACCESS_KEY_ID"),
                    secret_access_key: std::env::var("AWS_SECRET_ACCESS_KEY")
                        .expect("FIELDSYNC_TEST_S3_ENDPOINT needs AWS_SECRET_ACCESS_KEY"),
                };
                (config(endpoint, bucket, credentials), None, None)
            }
            None => {
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

/// An external bucket is emptied (objects and unfinished multipart uploads) and deleted; the
/// in-process endpoint's directory goes with its `TempDir`.
impl Drop for TestObjectStore {
    fn drop(&mut self) {
        if self.server.is_some() {
            return;
        }
        let config = self.config.clone();
        // Drop cannot await, and may run inside or outside a runtime: a thread of its own, with
        // a client of its own (the test's client is bound to the test's runtime, which this
        // thread blocks).
        let deleted = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to delete the test bucket")
                .block_on(async {
                    let blobs = BlobStore::connect(&config).await?;
                    delete_bucket(&blobs).await
                })
        })
        .join();
        match deleted {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not delete test bucket {}: {e:#}", self.config.bucket),
            Err(_) => eprintln!("deleting test bucket {} panicked", self.config.bucket),
        }
    }
}

async fn delete_bucket(blobs: &BlobStore) -> anyhow::Result<()> {
    let client = blobs.client();
    let bucket = blobs.bucket();
    let uploads = client
        .list_multipart_uploads()
        .bucket(bucket)
        .send()
        .await?;
    for upload in uploads.uploads() {
        client
            .abort_multipart_upload()
            .bucket(bucket)
            .key(upload.key().unwrap_or_default())
            .upload_id(upload.upload_id().unwrap_or_default())
            .send()
            .await?;
    }
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for object in page?.contents() {
            client
                .delete_object()
                .bucket(bucket)
                .key(object.key().unwrap_or_default())
                .send()
                .await?;
        }
    }
    client.delete_bucket().bucket(bucket).send().await?;
    Ok(())
}

fn external_endpoint() -> Option<String> {
    std::env::var("FIELDSYNC_TEST_S3_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty())
}

fn config(endpoint: String, bucket: String, credentials: S3Credentials) -> ObjectStorageConfig {
    ObjectStorageConfig {
        endpoint: Some(endpoint),
        bucket,
        region: std::env::var("AWS_REGION")
            .ok()
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "us-east-1".to_owned()),
        credentials: Some(credentials),
    }
}
