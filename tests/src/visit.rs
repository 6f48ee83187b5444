//! A technician's whole visit, done the way a tablet does it: evidence uploaded over tus, the
//! visit recorded with the job document's own operations, synced over the wire protocol.

use automerge::sync;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, Automerge, AutomergeError, ObjType, ROOT, ReadDoc, ScalarValue};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sync_protocol::job::{
    CleanupEntry, DebrisDecision, EpochMillis, FeedbackCardEntry, StrokePoint, TechnicianActions,
};

use crate::TestApp;
use crate::jobs::Crew;
use crate::peer::RawPeer;

/// Records the technician `by`'s arrival in `doc` as a raw Automerge change (what a tablet's
/// app writes under `/visit/arrival`).
pub fn record_arrival(doc: &mut Automerge, by: &str) {
    doc.transact::<_, _, AutomergeError>(|tx| {
        let visit = tx.get(ROOT, "visit")?.expect("visit").1;
        let arrival = tx.put_object(&visit, "arrival", ObjType::Map)?;
        tx.put(&arrival, "at", ScalarValue::Timestamp(1_795_600_000_000))?;
        tx.put(&arrival, "by", by)?;
        Ok(())
    })
    .expect("recording an arrival");
}

/// Uploads `bytes` for `job` in one tus PATCH; returns the final status and the SHA-256.
pub async fn upload(
    app: &TestApp,
    token: &str,
    job_id: &str,
    kind: &str,
    content_type: &str,
    bytes: &[u8],
) -> (u16, String) {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let sha = hex::encode(Sha256::digest(bytes));
    let metadata = format!(
        "sha256 {},job_id {},kind {},content_type {}",
        b64(&sha),
        b64(job_id),
        b64(kind),
        b64(content_type)
    );
    let created = app
        .post("/api/v1/uploads")
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("upload-length", bytes.len().to_string())
        .header("upload-metadata", metadata)
        .send()
        .await
        .expect("creating an upload");
    if created.status() != 201 {
        return (created.status().as_u16(), sha);
    }
    let location = created.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let patched = app
        .http
        .patch(app.url(&location))
        .bearer_auth(token)
        .header("tus-resumable", "1.0.0")
        .header("content-type", "application/offset+octet-stream")
        .header("upload-offset", "0")
        .body(bytes.to_vec())
        .send()
        .await
        .expect("uploading");
    (patched.status().as_u16(), sha)
}

/// Evidence files of a visit: a feedback-card photo and a signature image, as bytes.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub card: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Evidence {
    /// A small feedback-card photo and signature image (noise PNGs), different per `seed`.
    pub fn small(seed: u32) -> Self {
        Self {
            card: crate::images::noise_png(120, 90, seed),
            signature: crate::images::noise_png(60, 24, seed + 1000),
        }
    }
}

/// Confirms the appointment (as the dispatcher), then records and syncs a complete visit as the
/// job's technician. Returns the tablet's document.
pub async fn complete_visit(
    app: &TestApp,
    crew: &Crew,
    job: &Value,
    evidence: &Evidence,
) -> Automerge {
    let job_id = job["id"].as_str().expect("job id");
    let confirmed = app
        .post(&format!("/api/v1/jobs/{job_id}/confirmation"))
        .bearer_auth(&crew.dispatcher.token)
        .json(&serde_json::json!({"confirmed_by": "王秀英", "channel": "phone", "confirmed_at": chrono::Utc::now()}))
        .send()
        .await
        .expect("confirming");
    assert_eq!(confirmed.status(), 200);
    let token = &crew.technician.token;
    let (status, card_sha) = upload(
        app,
        token,
        job_id,
        "feedback_card",
        "image/png",
        &evidence.card,
    )
    .await;
    assert_eq!(status, 204, "feedback card stored");
    let (status, signature_sha) = upload(
        app,
        token,
        job_id,
        "signature",
        "image/png",
        &evidence.signature,
    )
    .await;
    assert_eq!(status, 204, "signature image stored");

    let document_id = job["document_id"].as_str().expect("document id");
    let mut peer = RawPeer::joined(&app.base_url, token).await;
    let mut doc = Automerge::new();
    let mut state = sync::State::new();
    peer.sync_until_in_sync(document_id, &mut doc, &mut state)
        .await;
    let mut tablet = AutoCommit::load(&doc.save()).expect("loading the job");
    let now = chrono::Utc::now().timestamp_millis();
    let technician = crew.technician.staff.id.to_string();
    let mut visit = TechnicianActions::new(&mut tablet, technician);
    visit
        .record_arrival(EpochMillis(now - 3_600_000))
        .expect("arrive");
    visit
        .record_permission("客厅地板", "王秀英", EpochMillis(now - 3_500_000))
        .expect("permission");
    visit
        .update_work_notes(
            "更换了洗衣机进水阀，试机正常。",
            EpochMillis(now - 1_800_000),
        )
        .expect("notes");
    let strokes = vec![vec![
        StrokePoint { x: 10, y: 10 },
        StrokePoint { x: 40, y: 22 },
    ]];
    visit
        .capture_signature(
            &sync_protocol::job::SignatureCapture {
                strokes,
                image_sha256: signature_sha,
                signer_name: "王秀英".into(),
            },
            EpochMillis(now - 900_000),
        )
        .expect("signature");
    visit
        .add_feedback_card(
            &FeedbackCardEntry {
                photo_sha256s: vec![card_sha],
                rating: Some(5),
                comment: Some("师傅很专业".into()),
            },
            EpochMillis(now - 800_000),
        )
        .expect("feedback card");
    visit
        .confirm_cleanup(
            &CleanupEntry {
                site_cleaned: true,
                debris: DebrisDecision::TakenAway,
                consented_by: Some("王秀英".into()),
                departure_witnessed: true,
                photo_sha256: None,
            },
            EpochMillis(now - 700_000),
        )
        .expect("cleanup");
    visit
        .record_departure(EpochMillis(now - 600_000))
        .expect("depart");
    let mut doc = tablet.document().clone();
    peer.sync_until_in_sync(document_id, &mut doc, &mut state)
        .await;
    doc
}
