//! The image step of photo uploads: what a technician's photo must be to be accepted, and the
//! copies the server serves of it.
//!
//! 1. [`sniff`] reads the format from the first bytes (JPEG, PNG, WebP; HEIC and anything else
//!    refused), so an upload can be refused before it is complete.
//! 2. [`ImagePipeline::process`] reads the header, refuses dimensions over [`ImageLimits`] before
//!    any pixel is decoded, then decodes under the decoder's allocation limits in the blocking
//!    pool, at most [`ImageLimits::max_concurrent`] at once, with panics contained.
//! 3. It makes the display copy and the thumbnail: EXIF orientation applied, fitted within
//!    [`DISPLAY_MAX_SIDE`] and [`THUMBNAIL_MAX_SIDE`], JPEG without any metadata.
//!
//! The original's bytes are never changed; the caller stores them privately. Every
//! [`ImageError`] knows its HTTP status; this module knows nothing of HTTP.

mod decode;
mod derive;
mod error;
mod limits;
mod metadata;
mod sniff;
mod truncation;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::Semaphore;

pub use derive::{DISPLAY_MAX_SIDE, Derivative, JPEG_QUALITY, THUMBNAIL_MAX_SIDE};
pub use error::ImageError;
pub use limits::ImageLimits;
pub use metadata::ImageInfo;
pub use sniff::{ImageFormat, SNIFF_LEN, sniff};

/// What the image step made of an accepted photo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedImage {
    /// Facts about the original (stored privately, unchanged).
    pub original: ImageInfo,
    /// Fitted within [`DISPLAY_MAX_SIDE`] pixels, upright, no metadata.
    pub display: Derivative,
    /// Fitted within [`THUMBNAIL_MAX_SIDE`] pixels, upright, no metadata.
    pub thumbnail: Derivative,
}

/// Checks and processes photos off the async runtime, a bounded number at a time. Cheap to
/// clone: clones share the bound.
#[derive(Debug, Clone)]
pub struct ImagePipeline {
    limits: Arc<ImageLimits>,
    permits: Arc<Semaphore>,
}

impl ImagePipeline {
    /// A pipeline holding photos to `limits`.
    pub fn new(limits: ImageLimits) -> Self {
        let permits = Arc::new(Semaphore::new(limits.max_concurrent.max(1)));
        ImagePipeline {
            limits: Arc::new(limits),
            permits,
        }
    }

    /// The limits this pipeline enforces.
    pub fn limits(&self) -> &ImageLimits {
        &self.limits
    }

    /// Checks an original and makes its display copy and thumbnail.
    pub async fn process(&self, original: Bytes) -> Result<ProcessedImage, ImageError> {
        // Refusing a wrong type costs no permit and no thread.
        let format = sniff(&original)?;
        let limits = Arc::clone(&self.limits);
        self.run_contained(move || {
            let stored = decode::decode(&original, format, &limits)?;
            let (display, thumbnail) =
                derive::display_and_thumbnail(stored.pixels, stored.orientation)?;
            Ok(ProcessedImage {
                original: stored.info,
                display,
                thumbnail,
            })
        })
        .await
    }

    /// Runs CPU-heavy work in the blocking pool under a permit, turning a panic into
    /// [`ImageError::Crashed`]: decoders parse hostile input, and one bad photo must not take
    /// the server down.
    async fn run_contained<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, ImageError> + Send + 'static,
    ) -> Result<T, ImageError> {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| ImageError::Unavailable)?;
        let task = tokio::task::spawn_blocking(move || {
            // The permit moves into the job: if the caller stops waiting, the job still counts
            // against the bound until it really ends.
            let _permit = permit;
            // Unwind safety: the job owns everything it touches, and is dropped after a panic.
            catch_unwind(AssertUnwindSafe(job))
        });
        match task.await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(panic)) => Err(ImageError::Crashed {
                panic: panic_message(panic.as_ref()),
            }),
            Err(join) if join.is_panic() => Err(ImageError::Crashed {
                panic: "the blocking task panicked outside the guard".to_owned(),
            }),
            Err(_) => Err(ImageError::Unavailable),
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = panic.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = panic.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_in_the_blocking_job_becomes_an_error_and_frees_its_permit() {
        let pipeline = ImagePipeline::new(ImageLimits {
            max_concurrent: 1,
            ..ImageLimits::default()
        });
        let outcome = pipeline
            .run_contained(|| -> Result<(), ImageError> { panic!("decoder bug at byte 42") })
            .await;
        let error = outcome.unwrap_err();
        assert!(
            matches!(&error, ImageError::Crashed { panic } if panic == "decoder bug at byte 42")
        );
        assert_eq!(error.http_status(), 500);
        assert!(
            !error.to_string().contains("byte 42"),
            "panic text is not for users"
        );

        // The only permit came back: the pipeline still works.
        let next = pipeline.run_contained(|| Ok(7)).await.unwrap();
        assert_eq!(next, 7);
    }

    #[tokio::test]
    async fn jobs_beyond_the_bound_wait_for_a_permit() {
        let pipeline = ImagePipeline::new(ImageLimits {
            max_concurrent: 1,
            ..ImageLimits::default()
        });
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let first = {
            let pipeline = pipeline.clone();
            tokio::spawn(async move {
                pipeline
                    .run_contained(move || {
                        started_tx.send(()).unwrap();
                        release_rx.recv().unwrap();
                        Ok(())
                    })
                    .await
            })
        };
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
        assert_eq!(pipeline.permits.available_permits(), 0);
        release_tx.send(()).unwrap();
        first.await.unwrap().unwrap();
        assert_eq!(pipeline.permits.available_permits(), 1);
    }
}
