//! Every change is on disk when the command returns: the SQLite file, opened independently,
//! holds it. The token is stored privately and never printed.

use std::os::unix::fs::PermissionsExt;

use crate::support::{SERVER_TOKEN, STROKES, TestTablet, jpeg};

#[test]
fn each_change_is_on_disk_when_the_command_returns() {
    let (tablet, job) = TestTablet::with_my_job();
    let id = job.to_string();
    let strokes = tablet.write_file("strokes.json", STROKES.as_bytes());
    let card = tablet.write_file("card.jpg", &jpeg("card"));

    tablet.json(&["arrive", &id]);
    assert!(tablet.stored_job(job).visit.arrival.is_some());
    tablet.json(&[
        "permit",
        &id,
        "--item",
        "outdoor tap",
        "--granted-by",
        "Mr Wang",
    ]);
    assert_eq!(tablet.stored_job(job).visit.permissions.len(), 1);
    tablet.json(&["work", &id, "--item", "hose", "--quantity", "3"]);
    assert_eq!(tablet.stored_job(job).visit.work_items[0].quantity, 3);
    tablet.json(&[
        "pay",
        &id,
        "--amount",
        "99",
        "--currency",
        "eur",
        "--reference",
        "X-1",
    ]);
    assert_eq!(
        tablet
            .stored_job(job)
            .visit
            .payment_due
            .unwrap()
            .amount_minor,
        9_900
    );
    tablet.json(&[
        "sign",
        &id,
        "--signer",
        "Mr Wang",
        "--strokes",
        strokes.to_str().unwrap(),
    ]);
    assert!(tablet.stored_job(job).visit.signature.is_some());
    tablet.json(&[
        "photo",
        &id,
        "--kind",
        "feedback_card",
        card.to_str().unwrap(),
    ]);
    assert_eq!(tablet.stored_job(job).visit.feedback_cards.len(), 1);
    tablet.json(&[
        "cleanup",
        &id,
        "--debris",
        "left_at_customer_request",
        "--consent-by",
        "Mr Wang",
    ]);
    assert!(tablet.stored_job(job).visit.cleanup.is_some());
    tablet.json(&["depart", &id]);
    assert!(tablet.stored_job(job).visit.departure.is_some());

    let db = tablet.database();
    let mode: String = db
        .query_row("pragma journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let queued: i64 = db
        .query_row(
            "select count(*) from pending_uploads where state = 'queued'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(queued, 2);
    let events: Vec<String> = db
        .prepare("select kind from events where job_id = ?1 order by id")
        .unwrap()
        .query_map([&id], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        events,
        [
            "imported",
            "arrived",
            "permission_granted",
            "work_item_added",
            "payment_due_recorded",
            "signature_captured",
            "feedback_card_added",
            "cleanup_confirmed",
            "departed"
        ]
    );
}

#[test]
fn the_token_is_private_and_never_printed() {
    let (tablet, job) = TestTablet::with_my_job();
    let token_file = tablet.home_path().join("token");
    assert_eq!(std::fs::read_to_string(&token_file).unwrap(), SERVER_TOKEN);
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(tablet.home_path())
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o700
    );

    let mut printed = String::new();
    let server = [
        "login",
        "--server",
        "http://127.0.0.1:9/",
        "--token",
        SERVER_TOKEN,
    ];
    for args in [
        &server[..],
        &["status"],
        &["jobs"],
        &["show", &job.to_string()],
    ] {
        for json in [true, false] {
            let mut all = if json { vec!["--json"] } else { vec![] };
            all.extend_from_slice(args);
            let output = tablet.run(&all);
            assert!(output.status.success());
            printed.push_str(&String::from_utf8_lossy(&output.stdout));
            printed.push_str(&String::from_utf8_lossy(&output.stderr));
        }
    }
    assert!(printed.contains("http://127.0.0.1:9"));
    assert!(!printed.contains(SERVER_TOKEN), "the token was printed");
    let db_bytes = std::fs::read(tablet.home_path().join("field.sqlite3")).unwrap();
    let needle = SERVER_TOKEN.as_bytes();
    assert!(
        !db_bytes.windows(needle.len()).any(|w| w == needle),
        "the token is in the database"
    );
}

#[test]
fn reimporting_a_job_keeps_local_work_and_pending_changes() {
    let (tablet, job) = TestTablet::with_my_job();
    let id = job.to_string();
    tablet.json(&["arrive", &id]);
    let status = tablet.json(&["status"]);
    assert_eq!(status["pending_changes"][0]["changes"], 1);
    // The server's copy, without the arrival, arrives again (as a sync would bring it).
    let server_copy = tablet.files.path().join(format!("{id}.automerge"));
    tablet.json(&["import-docs", server_copy.to_str().unwrap()]);
    assert!(tablet.stored_job(job).visit.arrival.is_some());
    assert_eq!(tablet.json(&["status"])["pending_changes"][0]["changes"], 1);
}
