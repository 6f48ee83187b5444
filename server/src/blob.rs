//! The object store: aws-sdk-s3 against AWS S3 or any S3-compatible endpoint (MinIO, Garage,
//! Ceph, the in-process endpoint of dev mode and tests).

use std::time::Duration;

use anyhow::Context;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

use crate::embedded::S3Credentials;

/// How long a readiness probe waits for the bucket to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Where the objects go.
#[derive(Debug, Clone)]
pub struct ObjectStorageConfig {
    /// An S3-compatible endpoint; `None` means AWS S3 itself.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    /// Explicit credentials; `None` uses the AWS default chain (profile, web identity, ...).
    pub credentials: Option<S3Credentials>,
}

/// A bucket and a client for it; cheap to clone.
#[derive(Debug, Clone)]
pub struct BlobStore {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// The region requests are signed for, named when the store seems to expect another.
    region: String,
}

impl BlobStore {
    /// Builds the client and makes sure credentials can be found; does not touch the network
    /// otherwise, so a store that is down at start-up only makes `/readyz` fail.
    pub async fn connect(config: &ObjectStorageConfig) -> anyhow::Result<Self> {
        let http_client = aws_smithy_http_client::Builder::new()
            .tls_provider(Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .http_client(http_client);
        if let Some(credentials) = &config.credentials {
            loader = loader.credentials_provider(Credentials::new(
                &credentials.access_key_id,
                &credentials.secret_access_key,
                None,
                None,
                "fieldsync-configuration",
            ));
        }
        let shared = loader.load().await;
        let provider = shared
            .credentials_provider()
            .context("no object-storage credentials provider is configured")?;
        if let Err(e) = provider.provide_credentials().await {
            anyhow::bail!(
                "no object-storage credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or configure an AWS profile ({e})"
            );
        }
        // S3-compatible stores commonly lack the SDK's newer default checksums and virtual hosts.
        let mut s3 = aws_sdk_s3::config::Builder::from(&shared)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &config.endpoint {
            s3 = s3.endpoint_url(endpoint).force_path_style(true);
        }
        Ok(Self {
            client: aws_sdk_s3::Client::from_conf(s3.build()),
            bucket: config.bucket.clone(),
            region: config.region.clone(),
        })
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Whether the bucket answers; the error says why not, for `/readyz`: the likely cause and
    /// what to check, never the SDK's own dump (that goes to the log).
    pub async fn probe(&self) -> Result<(), String> {
        let request = self.client.head_bucket().bucket(&self.bucket).send();
        match tokio::time::timeout(PROBE_TIMEOUT, request).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!(bucket = %self.bucket, error = %DisplayErrorContext(&e), "object store probe failed");
                let status = e.raw_response().map(|r| r.status().as_u16());
                Err(self.unreachable_reason(&e, status))
            }
            Err(_) => Err(format!(
                "bucket `{}` did not answer within {}s",
                self.bucket,
                PROBE_TIMEOUT.as_secs()
            )),
        }
    }

    fn unreachable_reason<E, R>(
        &self,
        error: &aws_sdk_s3::error::SdkError<E, R>,
        status: Option<u16>,
    ) -> String {
        use aws_sdk_s3::error::SdkError;
        let bucket = &self.bucket;
        match (error, status) {
            (SdkError::DispatchFailure(_), _) => format!(
                "bucket `{bucket}` is not reachable: no connection to the object store (is it running, and is the endpoint right?)"
            ),
            (SdkError::TimeoutError(_), _) => {
                format!("bucket `{bucket}` is not reachable: the object store timed out")
            }
            (_, Some(status)) => describe_status(bucket, &self.region, status),
            _ => format!("bucket `{bucket}` is not reachable: the request could not be made"),
        }
    }

    /// Creates the bucket unless it is there already (dev mode and tests).
    pub async fn create_bucket_if_missing(&self) -> anyhow::Result<()> {
        if self.probe().await.is_ok() {
            return Ok(());
        }
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "creating bucket `{}`: {}",
                    self.bucket,
                    DisplayErrorContext(&e)
                )
            })?;
        Ok(())
    }
}

/// What an object store's HTTP status to `HEAD bucket` most likely means.
fn describe_status(bucket: &str, region: &str, status: u16) -> String {
    match status {
        400 | 301 => format!(
            "bucket `{bucket}` is not reachable: the object store answered {status}; the likely \
             cause is the region: requests are signed for `{region}` (--s3-region / AWS_REGION), \
             set it to the store's region"
        ),
        401 | 403 => format!(
            "bucket `{bucket}` is not reachable: access denied ({status}); check \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY and that the key may use this bucket"
        ),
        404 => format!(
            "bucket `{bucket}` does not exist; create it (the server does not create its bucket)"
        ),
        500.. => format!("bucket `{bucket}` is not reachable: the object store failed ({status})"),
        _ => format!("bucket `{bucket}` is not reachable: the object store answered {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_status;

    #[test]
    fn a_refused_probe_names_the_likely_cause() {
        let region = describe_status("fieldsync", "us-east-1", 400);
        assert!(region.contains("region"), "{region}");
        assert!(region.contains("us-east-1"), "{region}");
        assert!(describe_status("b", "r", 403).contains("AWS_ACCESS_KEY_ID"));
        assert!(describe_status("b", "r", 404).contains("does not exist"));
        assert!(describe_status("b", "r", 503).contains("failed (503)"));
    }
}
