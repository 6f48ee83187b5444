//! A whole visit recorded offline, from arrival to departure.

use std::collections::BTreeSet;

use field_client::sync_protocol::job::{DebrisDecision, JobStatus, PaymentMethod, Sha256Hex};
use sha2::{Digest, Sha256};

use crate::support::{STROKES, TestTablet, jpeg, read_in};

#[test]
fn a_full_offline_visit_records_every_piece_of_evidence() {
    let (tablet, job) = TestTablet::with_my_job();
    let id = job.to_string();
    let strokes = tablet.write_file("strokes.json", STROKES.as_bytes());
    let card = tablet.write_file("card.jpg", &jpeg("feedback card"));

    let jobs = tablet.json(&["jobs"]);
    assert_eq!(jobs[0]["job_id"], id.as_str());
    assert_eq!(jobs[0]["local_status"], "confirmed");

    let prefix = &id[..6];
    let arrived = tablet.json(&["arrive", prefix]);
    assert_eq!(arrived["action"], "arrived");
    tablet.json(&[
        "permit",
        &job.to_url(),
        "--item",
        "move the sofa",
        "--granted-by",
        "王秀英",
    ]);
    let work = tablet.json(&[
        "work",
        &id,
        "--note",
        "Replaced the valve",
        "--item",
        "valve DN15",
        "--quantity",
        "2",
    ]);
    assert_eq!(work.as_array().unwrap().len(), 2);
    tablet.json(&[
        "work",
        &job.as_uuid().to_string(),
        "--note",
        "Tested for leaks",
    ]);
    tablet.json(&[
        "pay",
        &id,
        "--amount",
        "120.50",
        "--reference",
        "FS-2026-0042",
    ]);
    let signed = tablet.json(&[
        "sign",
        &id,
        "--signer",
        "王秀英",
        "--strokes",
        strokes.to_str().unwrap(),
    ]);
    let card_photo = tablet.json(&[
        "photo",
        &id,
        "--kind",
        "feedback_card",
        card.to_str().unwrap(),
        "--rating",
        "5",
        "--comment",
        "Very tidy",
    ]);
    tablet.json(&[
        "cleanup",
        &id,
        "--debris",
        "taken_away",
        "--consent-by",
        "王秀英",
        "--witnessed",
    ]);
    let departed = tablet.json(&["depart", &id]);
    assert_eq!(departed["action"], "departed");

    // `field show` reports every piece of evidence.
    let shown = tablet.json(&["show", &id]);
    let visit = &shown["job"]["visit"];
    assert!(visit["arrival"]["at"].is_i64() && visit["departure"]["at"].is_i64());
    assert_eq!(visit["permissions"][0]["item"], "move the sofa");
    assert_eq!(visit["permissions"][0]["granted_by"], "王秀英");
    assert_eq!(visit["work_notes"], "Replaced the valve\nTested for leaks");
    assert_eq!(visit["work_items"][0]["quantity"], 2);
    assert_eq!(visit["payment_due"]["amount_minor"], 12_050);
    assert_eq!(visit["payment_due"]["currency"], "CNY");
    assert_eq!(visit["payment_due"]["method"], "bank_transfer");
    assert_eq!(visit["signature"]["signer_name"], "王秀英");
    assert_eq!(
        visit["signature"]["summary_sha256"],
        signed["summary_sha256"]
    );
    assert_eq!(visit["feedback_cards"][0]["rating"], 5);
    assert_eq!(visit["cleanup"]["debris"], "taken_away");
    assert_eq!(visit["cleanup"]["departure_witnessed"], true);
    // Only the upload stands between the job and completion.
    assert_eq!(shown["evaluation"]["complete"], false);
    assert_eq!(
        shown["evaluation"]["missing"],
        serde_json::json!(["feedback_card_photo_stored"])
    );
    assert_eq!(shown["missing_once_uploaded"], serde_json::json!([]));

    // `field status` lists the queued uploads with their SHA-256, matching the bytes kept.
    let status = tablet.json(&["status"]);
    let uploads = status["pending_uploads"].as_array().unwrap();
    let by_kind = |kind: &str| uploads.iter().find(|u| u["kind"] == kind).unwrap().clone();
    let card_upload = by_kind("feedback_card");
    let signature_upload = by_kind("signature");
    assert_eq!(uploads.len(), 2);
    assert_eq!(
        card_upload["sha256"],
        hex::encode(Sha256::digest(jpeg("feedback card")))
    );
    assert_eq!(
        card_upload["sha256"],
        card_photo["attachments"][0]["sha256"]
    );
    assert_eq!(card_upload["content_type"], "image/jpeg");
    assert_eq!(signature_upload["content_type"], "image/png");
    for upload in [&card_upload, &signature_upload] {
        let kept = read_in(&tablet.home_path(), upload["file"].as_str().unwrap());
        assert_eq!(upload["sha256"], hex::encode(Sha256::digest(&kept)));
        assert_eq!(upload["size"], kept.len());
        assert_eq!(upload["state"], "queued");
    }
    assert_eq!(status["pending_changes"][0]["document_id"], id.as_str());
    assert!(status["pending_changes"][0]["changes"].as_u64().unwrap() >= 9);
    assert_eq!(status["last_sync_at"], serde_json::Value::Null);

    // The document on disk, evaluated as the server would once the uploads are stored: complete.
    let stored = tablet.stored_job(job);
    let queued: BTreeSet<Sha256Hex> = uploads
        .iter()
        .map(|u| Sha256Hex::parse(u["sha256"].as_str().unwrap()).unwrap())
        .collect();
    let evaluation = stored.evaluate(&queued, None);
    assert!(evaluation.complete, "missing: {:?}", evaluation.missing);
    assert_eq!(evaluation.status, JobStatus::Complete);
    assert!(
        evaluation.review_flags.is_empty(),
        "{:?}",
        evaluation.review_flags
    );
    let payment = stored.visit.payment_due.clone().unwrap();
    assert_eq!(payment.method, PaymentMethod::BankTransfer);
    assert_eq!(
        stored.visit.cleanup.as_ref().unwrap().debris,
        DebrisDecision::TakenAway
    );
    assert_eq!(
        stored.visit.signature.as_ref().unwrap().summary_sha256,
        stored.summary_sha256()
    );
}

#[test]
fn a_cleanup_photo_joins_the_confirmation_and_text_output_reads_well() {
    let (tablet, job) = TestTablet::with_my_job();
    let id = job.to_string();
    let site = tablet.write_file("site.jpg", &jpeg("clean site"));
    let early = tablet.refused(
        &["photo", &id, "--kind", "cleanup", site.to_str().unwrap()],
        1,
    );
    assert!(early.contains("Confirm the cleanup first"), "{early}");

    tablet.json(&["arrive", &id]);
    let confirmed = tablet.run(&["cleanup", &id, "--debris", "none", "--witnessed"]);
    assert!(confirmed.status.success());
    let text = String::from_utf8(confirmed.stdout).unwrap();
    assert!(
        text.starts_with("Recorded cleanup confirmed on job"),
        "{text}"
    );
    tablet.json(&["photo", &id, "--kind", "cleanup", site.to_str().unwrap()]);
    let cleanup = tablet.stored_job(job).visit.cleanup.unwrap();
    assert_eq!(
        cleanup.photo_sha256.unwrap().as_str(),
        hex::encode(Sha256::digest(jpeg("clean site")))
    );
    assert!(cleanup.departure_witnessed);

    let shown = String::from_utf8(tablet.run(&["show", &id]).stdout).unwrap();
    assert!(shown.contains("Cleanup: debris none"), "{shown}");
    assert!(
        shown.contains("Missing: the customer has not signed"),
        "{shown}"
    );
    let jobs = String::from_utf8(tablet.run(&["jobs"]).stdout).unwrap();
    assert!(
        jobs.contains("王秀英 0") && jobs.contains("in_progress"),
        "{jobs}"
    );
}
