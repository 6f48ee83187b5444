//! Object storage for uploads: a private staging object per upload (multipart once it is large),
//! read back and verified before it is promoted to its content-addressed key.

use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::record::StoredPart;
use crate::blob::BlobStore;

/// Where an upload's bytes wait until they are verified.
pub fn staging_key(upload: Uuid) -> String {
    format!("staging/{upload}")
}

/// Where verified originals live: by content, private.
pub fn original_key(sha256: &str) -> String {
    format!("sha256/{sha256}")
}

/// Where the served derivatives of an original live.
pub fn derivative_key(sha256: &str, variant: &str) -> String {
    format!("derived/{sha256}/{variant}.jpg")
}

fn failed(action: &str, error: impl std::error::Error) -> anyhow::Error {
    anyhow::anyhow!("{action}: {}", DisplayErrorContext(error))
}

pub async fn start_multipart(
    store: &BlobStore,
    upload: Uuid,
    content_type: &str,
) -> anyhow::Result<String> {
    let created = store
        .client()
        .create_multipart_upload()
        .bucket(store.bucket())
        .key(staging_key(upload))
        .content_type(content_type)
        .send()
        .await
        .map_err(|e| failed("starting a multipart upload", e))?;
    created
        .upload_id()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("the object store returned no multipart upload id"))
}

pub async fn put_part(
    store: &BlobStore,
    upload: Uuid,
    multipart_id: &str,
    number: i32,
    bytes: Bytes,
) -> anyhow::Result<StoredPart> {
    let part = store
        .client()
        .upload_part()
        .bucket(store.bucket())
        .key(staging_key(upload))
        .upload_id(multipart_id)
        .part_number(number)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| failed("storing a part", e))?;
    Ok(StoredPart {
        number,
        etag: part.e_tag().unwrap_or_default().to_owned(),
    })
}

/// Assembles the staging object from the stored parts and the last bytes.
pub async fn finish_staging(
    store: &BlobStore,
    upload: Uuid,
    content_type: &str,
    multipart_id: Option<&str>,
    parts: &[StoredPart],
    last: Bytes,
) -> anyhow::Result<()> {
    let key = staging_key(upload);
    let Some(multipart_id) = multipart_id else {
        store
            .client()
            .put_object()
            .bucket(store.bucket())
            .key(&key)
            .content_type(content_type)
            .body(ByteStream::from(last))
            .send()
            .await
            .map_err(|e| failed("storing the upload", e))?;
        return Ok(());
    };
    let mut parts = parts.to_vec();
    if !last.is_empty() {
        let number = parts.len() as i32 + 1;
        parts.push(put_part(store, upload, multipart_id, number, last).await?);
    }
    let completed = CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|p| {
                    CompletedPart::builder()
                        .part_number(p.number)
                        .e_tag(&p.etag)
                        .build()
                })
                .collect(),
        ))
        .build();
    store
        .client()
        .complete_multipart_upload()
        .bucket(store.bucket())
        .key(&key)
        .upload_id(multipart_id)
        .multipart_upload(completed)
        .send()
        .await
        .map_err(|e| failed("completing the multipart upload", e))?;
    Ok(())
}

/// Reads an object back, returning its bytes and SHA-256 (hex). Uploads are bounded in size,
/// and the image step needs the bytes anyway.
pub async fn read_back(store: &BlobStore, key: &str) -> anyhow::Result<(Vec<u8>, String)> {
    let object = store
        .client()
        .get_object()
        .bucket(store.bucket())
        .key(key)
        .send()
        .await
        .map_err(|e| failed("reading the upload back", e))?;
    let mut body = object.body;
    let mut hasher = Sha256::new();
    let mut bytes = Vec::new();
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| anyhow::anyhow!("reading the upload back: {e}"))?
    {
        hasher.update(&chunk);
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, hex::encode(hasher.finalize())))
}

pub async fn put(
    store: &BlobStore,
    key: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<()> {
    store
        .client()
        .put_object()
        .bucket(store.bucket())
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(bytes))
        .send()
        .await
        .map_err(|e| failed("storing an object", e))?;
    Ok(())
}

/// Copies the verified staging object to its content-addressed key (the caller then discards
/// the staging object).
pub async fn promote(store: &BlobStore, upload: Uuid, sha256: &str) -> anyhow::Result<()> {
    store
        .client()
        .copy_object()
        .bucket(store.bucket())
        .copy_source(format!("{}/{}", store.bucket(), staging_key(upload)))
        .key(original_key(sha256))
        .send()
        .await
        .map_err(|e| failed("promoting the verified upload", e))?;
    Ok(())
}

/// Removes whatever an upload left in the bucket; failures are logged, the sweeper retries.
pub async fn discard(store: &BlobStore, upload: Uuid, multipart_id: Option<&str>) {
    let key = staging_key(upload);
    if let Some(multipart_id) = multipart_id {
        let aborted = store
            .client()
            .abort_multipart_upload()
            .bucket(store.bucket())
            .key(&key)
            .upload_id(multipart_id)
            .send()
            .await;
        if let Err(e) = aborted {
            tracing::debug!(error = %DisplayErrorContext(e), "aborting a multipart upload");
        }
    }
    if let Err(e) = store
        .client()
        .delete_object()
        .bucket(store.bucket())
        .key(&key)
        .send()
        .await
    {
        tracing::warn!(error = %DisplayErrorContext(e), "deleting a staging object");
    }
}

/// The size of the object at `key`, or `None` if there is none.
pub async fn size_of(store: &BlobStore, key: &str) -> anyhow::Result<Option<i64>> {
    match store
        .client()
        .head_object()
        .bucket(store.bucket())
        .key(key)
        .send()
        .await
    {
        Ok(head) => Ok(Some(head.content_length.unwrap_or_default())),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
        Err(e) => Err(failed("looking for an object", e)),
    }
}

/// Streams an object to a client.
pub async fn get(
    store: &BlobStore,
    key: &str,
) -> anyhow::Result<Option<(ByteStream, Option<i64>)>> {
    match store
        .client()
        .get_object()
        .bucket(store.bucket())
        .key(key)
        .send()
        .await
    {
        Ok(object) => Ok(Some((object.body, object.content_length))),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
        Err(e) => Err(failed("reading an object", e)),
    }
}
