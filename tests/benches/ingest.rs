//! End-to-end ingest of a 12-megapixel photo over tus, beside the image step alone and the raw
//! object-storage calls on the same bytes.
//!
//!     cargo bench -p fieldsync-tests --bench ingest
//!
//! The server runs in process on a throwaway PostgreSQL cluster with the in-process S3 endpoint
//! (objects on disk in a temporary directory), as in every end-to-end test. The photo is the one
//! `server/benches/images.rs` makes (4000x3000, gradient plus noise, JPEG quality 90), with the
//! upload's number painted into its top-left corner, so that each upload is new content and the
//! content-addressed store cannot skip any work.
//!
//! Timed, each over one warm-up run and then `RUNS` runs, one new photo and one new job each:
//! - the tus ingest as the technician: `POST /api/v1/uploads`, then the `PATCH`es until the
//!   server answers the last one. The last `PATCH` answers only once the file is stored in
//!   staging, read back and checked against its SHA-256, processed by the image step, and the
//!   original and both derivatives are in the bucket and the attachment committed: the work is
//!   synchronous, nothing is left to wait for (checked after each run, untimed, with
//!   `GET /api/v1/jobs/{id}/attachments`). Once with the whole file in one `PATCH`, once in
//!   1 MiB `PATCH`es as `field-client` sends it;
//! - the same bytes with aws-sdk-s3 straight to the same endpoint and bucket, with the server's
//!   own client: `PutObject`, `GetObject` (body read to the end), `CopyObject`;
//! - the image step alone (`ImagePipeline::process`) on the same bytes, in this process;
//! - the same bytes over HTTP to a route that only reads them (same client, same loopback), and
//!   written to and read from a `bytea` column of the same PostgreSQL (each tus `PATCH` keeps the
//!   bytes not yet sent to object storage, up to 8 MiB, in its `uploads` row);
//! - SHA-256 of the file (the client computes it before uploading; not part of the ingest time).

// A benchmark aborts on any failure; there is nobody to hand an error to.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use axum::Router;
use axum::body::Body;
use axum::routing::post;
use base64::Engine;
use bytes::Bytes;
use fieldsync_server::images::{ImageLimits, ImagePipeline};
use harness::TestApp;
use harness::jobs::Crew;
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};
use serde_json::Value;
use sha2::{Digest, Sha256};

const RUNS: usize = 10;
/// Bytes per `PATCH` in `field-client` (its `tus::CHUNK`).
const CLIENT_CHUNK: usize = 1024 * 1024;

const ROWS: [&str; 14] = [
    "tus ingest, one PATCH: total",
    "  POST /api/v1/uploads",
    "  PATCH (whole file; answers when stored)",
    "tus ingest, 1 MiB PATCHes: total",
    "  POST /api/v1/uploads",
    "  PATCHes before the last",
    "  last PATCH (answers when stored)",
    "aws-sdk-s3 PutObject, same bytes",
    "aws-sdk-s3 GetObject (body read)",
    "aws-sdk-s3 CopyObject",
    "image step alone (ImagePipeline::process)",
    "HTTP POST of the bytes to a bare axum route",
    "PostgreSQL: write the bytes as bytea",
    "PostgreSQL: read the bytes back",
];
const SHA_ROW: &str = "SHA-256 of the file (client side, not in ingest)";

#[tokio::main]
async fn main() {
    println!("load average at start: {}", load_average());
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let s3 = app.objects.blobs.client();
    let bucket = app.objects.blobs.bucket();
    let pipeline = ImagePipeline::new(ImageLimits::default());
    let picture = twelve_megapixel_picture();
    let sink = sink().await;
    let db = &app.database.pool;
    sqlx::query("create table bench_bytes (id int primary key, bytes bytea not null)")
        .execute(db)
        .await
        .unwrap();
    sqlx::query("insert into bench_bytes values (1, ''::bytea)")
        .execute(db)
        .await
        .unwrap();

    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); ROWS.len()];
    let mut sha_times = Vec::new();
    let mut sizes = Vec::new();
    for run in 0..=RUNS {
        let mut measured = Vec::with_capacity(ROWS.len());
        let whole = Bytes::from(photo(&picture, 2 * run as u8 + 1));
        let chunked = Bytes::from(photo(&picture, 2 * run as u8 + 2));
        sizes.extend([whole.len(), chunked.len()]);

        let started = Instant::now();
        let sha = hex::encode(Sha256::digest(&whole));
        let sha_time = started.elapsed();
        let chunked_sha = hex::encode(Sha256::digest(&chunked));

        let job = app.book(&crew, Some(crew.technician.staff.id)).await;
        let timed = ingest(&app, &crew, &job, &whole, &sha, whole.len()).await;
        measured.extend([timed.total, timed.create, timed.last_patch]);
        check_stored(&app, &crew, &job, &sha, whole.len()).await;

        let job = app.book(&crew, Some(crew.technician.staff.id)).await;
        let timed = ingest(&app, &crew, &job, &chunked, &chunked_sha, CLIENT_CHUNK).await;
        measured.extend([
            timed.total,
            timed.create,
            timed.earlier_patches,
            timed.last_patch,
        ]);
        check_stored(&app, &crew, &job, &chunked_sha, chunked.len()).await;

        let key = format!("bench/raw/{sha}");
        let started = Instant::now();
        s3.put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("image/jpeg")
            .body(ByteStream::from(whole.clone()))
            .send()
            .await
            .unwrap();
        measured.push(started.elapsed());

        let started = Instant::now();
        let object = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .unwrap();
        let read = object.body.collect().await.unwrap().into_bytes();
        measured.push(started.elapsed());
        assert_eq!(read, whole);

        let started = Instant::now();
        s3.copy_object()
            .bucket(bucket)
            .copy_source(format!("{bucket}/{key}"))
            .key(format!("bench/copy/{sha}"))
            .send()
            .await
            .unwrap();
        measured.push(started.elapsed());

        let started = Instant::now();
        let processed = pipeline.process(whole.clone()).await.unwrap();
        measured.push(started.elapsed());
        assert_eq!(processed.display.width, 1600);

        let started = Instant::now();
        let answer = app
            .http
            .post(&sink)
            .body(whole.clone())
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        measured.push(started.elapsed());
        assert_eq!(answer, whole.len().to_string());

        let started = Instant::now();
        sqlx::query("update bench_bytes set bytes = $1 where id = 1")
            .bind(&whole[..])
            .execute(db)
            .await
            .unwrap();
        measured.push(started.elapsed());
        let started = Instant::now();
        let stored: Vec<u8> = sqlx::query_scalar("select bytes from bench_bytes where id = 1")
            .fetch_one(db)
            .await
            .unwrap();
        measured.push(started.elapsed());
        assert_eq!(stored, whole);

        if run == 0 {
            println!(
                "warm-up: tus one PATCH {:.1} ms, PutObject {:.1} ms",
                millis(measured[0]),
                millis(measured[7])
            );
            continue;
        }
        for (row, time) in times.iter_mut().zip(measured) {
            row.push(time);
        }
        sha_times.push(sha_time);
    }

    let (smallest, largest) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    println!(
        "photos: 4000x3000 JPEG quality 90, {} uploads of {smallest} to {largest} bytes ({:.1} MB)",
        sizes.len(),
        *largest as f64 / 1e6
    );
    for (name, row) in ROWS.iter().zip(times) {
        report(name, row);
    }
    report(SHA_ROW, sha_times);
    println!("load average at end: {}", load_average());
}

/// A route that reads a body to the end and answers its length; its URL.
async fn sink() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sink", listener.local_addr().unwrap());
    let router = Router::new().route(
        "/sink",
        post(|body: Body| async move {
            axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap()
                .len()
                .to_string()
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// What one tus upload cost.
struct Ingest {
    total: Duration,
    create: Duration,
    earlier_patches: Duration,
    last_patch: Duration,
}

/// Uploads `bytes` to `job` over tus in `PATCH`es of at most `chunk` bytes, timing each step.
async fn ingest(
    app: &TestApp,
    crew: &Crew,
    job: &Value,
    bytes: &Bytes,
    sha: &str,
    chunk: usize,
) -> Ingest {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let metadata = format!(
        "sha256 {},job_id {},kind {},content_type {}",
        b64(sha),
        b64(job["id"].as_str().unwrap()),
        b64("feedback_card"),
        b64("image/jpeg")
    );
    let token = &crew.technician.token;
    let started = Instant::now();
    let created = app
        .post("/api/v1/uploads")
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", bytes.len().to_string())
        .header("upload-metadata", metadata)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    assert_eq!(created.headers()["upload-offset"], "0", "a new file");
    let location = app.url(created.headers()["location"].to_str().unwrap());
    let created_at = Instant::now();
    let mut offset = 0;
    let mut last_started = created_at;
    while offset < bytes.len() {
        last_started = Instant::now();
        let end = (offset + chunk).min(bytes.len());
        let patched = app
            .http
            .patch(&location)
            .bearer_auth(token)
            .header("tus-resumable", "1.0.0")
            .header("content-type", "application/offset+octet-stream")
            .header("upload-offset", offset.to_string())
            .body(bytes.slice(offset..end))
            .send()
            .await
            .unwrap();
        assert_eq!(patched.status(), 204, "{}", patched.text().await.unwrap());
        assert_eq!(patched.headers()["upload-offset"], end.to_string().as_str());
        offset = end;
    }
    let ended = Instant::now();
    Ingest {
        total: ended - started,
        create: created_at - started,
        earlier_patches: last_started - created_at,
        last_patch: ended - last_started,
    }
}

/// The upload is an attachment of the job, with its dimensions and derivatives.
async fn check_stored(app: &TestApp, crew: &Crew, job: &Value, sha: &str, size: usize) {
    let id = job["id"].as_str().unwrap();
    let listed: Vec<Value> = app
        .get(&format!("/api/v1/jobs/{id}/attachments"))
        .bearer_auth(&crew.technician.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["sha256"], sha);
    assert_eq!(listed[0]["size"], size);
    assert_eq!(listed[0]["width"], 4000);
    assert_eq!(listed[0]["has_derivatives"], true);
}

/// Prints min, median and max of the runs.
fn report(name: &str, mut times: Vec<Duration>) {
    times.sort();
    let runs = times.len();
    println!(
        "{name:<48} min {:>7.1} ms  median {:>7.1} ms  max {:>7.1} ms  ({runs} runs)",
        millis(times[0]),
        millis(times[runs / 2]),
        millis(times[runs - 1]),
    );
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// The photo of upload `n`: the 12-megapixel picture with `n` written in its top row as eight
/// 16x16 blocks (one JPEG macroblock each), black for 0 and white for 1, encoded as
/// `server/benches/images.rs` encodes it. Smaller changes can vanish in the quantisation.
fn photo(picture: &RgbImage, n: u8) -> Vec<u8> {
    let mut picture = picture.clone();
    for bit in 0..8u32 {
        let value = if n >> bit & 1 == 1 { 255 } else { 0 };
        for y in 0..16 {
            for x in 0..16 {
                picture.put_pixel(16 * bit + x, y, image::Rgb([value; 3]));
            }
        }
    }
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 90)
        .write_image(
            picture.as_raw(),
            picture.width(),
            picture.height(),
            image::ExtendedColorType::Rgb8,
        )
        .unwrap();
    bytes
}

/// A smooth gradient with noise on top, as `server/benches/images.rs` makes it (same seed).
fn twelve_megapixel_picture() -> RgbImage {
    let (width, height) = (4000u32, 3000u32);
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state >> 58) as u8; // 0..63
        let base = |v: u32, span: u32| (v * 160 / span) as u8;
        image::Rgb([
            base(x, width) + noise,
            base(y, height) + noise,
            base(x + y, width + height) + noise,
        ])
    })
}
