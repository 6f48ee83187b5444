//! Evidence after upload: derivatives served without metadata, originals private, the evidence
//! bundle with its manifest; and what the image step refuses leaves nothing in the bucket.

use harness::TestApp;
use harness::images::{gradient_jpeg, noise_png};
use harness::visit::upload;
use serde_json::Value;
use sha2::{Digest, Sha256};

async fn bucket_keys(app: &TestApp) -> Vec<String> {
    let listed = app
        .objects
        .blobs
        .client()
        .list_objects_v2()
        .bucket(app.objects.blobs.bucket())
        .send()
        .await
        .unwrap();
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn derivatives_are_served_originals_stay_private_and_the_bundle_lists_every_hash() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let id = job["id"].as_str().unwrap();
    let photo = gradient_jpeg(2400, 1600, 40);
    let (status, sha) = upload(
        &app,
        &crew.technician.token,
        id,
        "feedback_card",
        "image/jpeg",
        &photo,
    )
    .await;
    assert_eq!(status, 204);

    let listed: Vec<Value> = app
        .get(&format!("/api/v1/jobs/{id}/attachments"))
        .bearer_auth(&crew.technician.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["width"], 2400);
    assert_eq!(listed[0]["has_derivatives"], true);
    for (variant, longest) in [("display", 1600), ("thumbnail", 320)] {
        let response = app
            .get(&format!("/api/v1/jobs/{id}/attachments/{sha}/{variant}"))
            .bearer_auth(&crew.technician.token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "image/jpeg");
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let length: usize = response.headers()["content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        assert_eq!(bytes.len(), length, "streamed whole");
        // Content addressed: a copy the tablet already has is not sent again.
        let again = app
            .get(&format!("/api/v1/jobs/{id}/attachments/{sha}/{variant}"))
            .bearer_auth(&crew.technician.token)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304);
        assert!(again.bytes().await.unwrap().is_empty());
        let derived = image::load_from_memory(&bytes).unwrap();
        assert_eq!(derived.width().max(derived.height()), longest);
        assert!(
            !bytes.windows(4).any(|w| w == b"Exif"),
            "no metadata in {variant}"
        );
    }
    let original = app
        .get(&format!("/api/v1/jobs/{id}/attachments/{sha}/original"))
        .bearer_auth(&crew.technician.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        original.status(),
        403,
        "originals are for dispatchers and admins"
    );
    let original = app
        .get(&format!("/api/v1/jobs/{id}/attachments/{sha}/original"))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap();
    assert_eq!(original.status(), 200);
    assert_eq!(
        hex::encode(Sha256::digest(original.bytes().await.unwrap())),
        sha
    );
    let rival = app.crew("另一家公司").await;
    let foreign = app
        .get(&format!("/api/v1/jobs/{id}/attachments/{sha}/display"))
        .bearer_auth(&rival.dispatcher.token)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 404);

    // The bundle carries the originals: not for revisit callers, like the originals alone.
    let refused = app
        .get(&format!("/api/v1/jobs/{id}/evidence"))
        .bearer_auth(&crew.revisit.token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let bundle = app
        .get(&format!("/api/v1/jobs/{id}/evidence"))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["content-type"], "application/x-tar");
    let announced: usize = bundle.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = bundle.bytes().await.unwrap();
    assert_eq!(bytes.len(), announced, "streamed whole");
    let mut archive = tar::Archive::new(&bytes[..]);
    let mut files = std::collections::HashMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut contents = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut contents).unwrap();
        files.insert(path, contents);
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    for listed in manifest["files"].as_array().unwrap() {
        let path = listed["path"].as_str().unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&files[path])),
            listed["sha256"].as_str().unwrap(),
            "{path}"
        );
    }
    assert!(files.contains_key(&format!("feedback_card/{sha}.jpg")));
    assert!(files.contains_key("timeline.json"));

    // An original gone from the bucket cuts the bundle short: never an archive that looks
    // whole without it.
    app.objects
        .blobs
        .client()
        .delete_object()
        .bucket(app.objects.blobs.bucket())
        .key(format!("sha256/{sha}"))
        .send()
        .await
        .unwrap();
    let broken = app
        .get(&format!("/api/v1/jobs/{id}/evidence"))
        .bearer_auth(&crew.dispatcher.token)
        .send()
        .await
        .unwrap();
    assert!(
        broken.bytes().await.is_err(),
        "the transfer fails short of its announced length"
    );
}

#[tokio::test]
async fn what_the_image_step_refuses_leaves_nothing_visible() {
    let app = TestApp::spawn().await;
    let crew = app.crew("安居家电服务有限公司").await;
    let job = app.book(&crew, Some(crew.technician.staff.id)).await;
    let id = job["id"].as_str().unwrap();
    let jpeg = gradient_jpeg(300, 200, 1);
    let mut heic = vec![0, 0, 0, 24];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    heic.extend_from_slice(&[0u8; 64]);
    let mut huge = noise_png(4, 4, 2);
    // Rewrite the IHDR dimensions to 30000x30000 (the CRC no longer matches either).
    huge[16..20].copy_from_slice(&30_000u32.to_be_bytes());
    huge[20..24].copy_from_slice(&30_000u32.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("truncated JPEG", jpeg[..jpeg.len() / 2].to_vec(), 422),
        ("HEIC declared as JPEG", heic, 415),
        (
            "random bytes",
            (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(),
            415,
        ),
        ("30000x30000 header", huge, 422),
    ];
    for (what, bytes, expected) in cases {
        let (status, _) = upload(
            &app,
            &crew.technician.token,
            id,
            "feedback_card",
            "image/jpeg",
            &bytes,
        )
        .await;
        assert_eq!(status, expected, "{what}");
    }
    assert!(
        bucket_keys(&app).await.is_empty(),
        "nothing visible after refusals"
    );
    let stored: i64 = sqlx::query_scalar("select count(*) from attachments")
        .fetch_one(&app.database.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), 200);
}
