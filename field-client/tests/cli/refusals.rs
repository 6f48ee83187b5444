//! Entries the rules forbid, or that cannot be right, are refused with a message a technician
//! understands, and leave the tablet's store exactly as it was.

use crate::support::{ME, STROKES, TestTablet, jpeg};

/// Runs a command that must be refused with `code` and a message containing `expected`, and
/// checks that nothing on disk changed.
fn assert_refused(tablet: &TestTablet, args: &[&str], code: i32, expected: &str) {
    let before = tablet.disk_state();
    let message = tablet.refused(args, code);
    assert!(message.contains(expected), "{args:?}: {message}");
    if code == 1 {
        assert_eq!(message.lines().count(), 1, "one line: {message}");
    }
    assert_eq!(tablet.disk_state(), before, "{args:?} changed the store");
}

#[test]
fn rule_breaking_entries_are_refused_and_change_nothing() {
    let (tablet, job) = TestTablet::with_my_job();
    let id = job.to_string();
    tablet.json(&["arrive", &id]);
    let strokes = tablet.write_file("strokes.json", STROKES.as_bytes());
    let strokes = strokes.to_str().unwrap();

    let pay_cash = [
        "pay",
        &id,
        "--amount",
        "80",
        "--reference",
        "R1",
        "--method",
        "cash",
    ];
    assert_refused(&tablet, &pay_cash, 1, "technicians never take cash");
    let nobody_signs = ["sign", &id, "--signer", "  ", "--strokes", strokes];
    assert_refused(
        &tablet,
        &nobody_signs,
        1,
        "Enter the name of the person signing",
    );
    let empty_pad = tablet.write_file("empty.json", b"[[]]");
    let empty = [
        "sign",
        &id,
        "--signer",
        "王秀英",
        "--strokes",
        empty_pad.to_str().unwrap(),
    ];
    assert_refused(&tablet, &empty, 1, "ask the customer to sign");
    let no_consent = ["cleanup", &id, "--debris", "taken_away", "--witnessed"];
    assert_refused(&tablet, &no_consent, 1, "enter who agreed");
    let zero = ["pay", &id, "--amount", "0", "--reference", "R1"];
    assert_refused(&tablet, &zero, 1, "greater than zero");
    let bad_amount = ["pay", &id, "--amount", "12,50", "--reference", "R1"];
    assert_refused(&tablet, &bad_amount, 1, "not an amount like 120.50");
    // A photo that is not there: the system's reason said once.
    let nowhere = ["photo", &id, "--kind", "feedback_card", "nowhere.jpg"];
    let before = tablet.disk_state();
    let message = tablet.refused(&nowhere, 1);
    assert_eq!(message.matches("No such file").count(), 1, "{message}");
    assert_eq!(tablet.disk_state(), before);
    let rating = tablet.write_file("card.jpg", &jpeg("card"));
    let stars = [
        "photo",
        &id,
        "--kind",
        "feedback_card",
        rating.to_str().unwrap(),
        "--rating",
        "7",
    ];
    assert_refused(&tablet, &stars, 1, "between 1 and 5");
}

#[test]
fn photos_of_unsupported_kinds_are_refused() {
    let (tablet, job) = TestTablet::with_my_job();
    let id = job.to_string();
    let card = tablet.write_file("card.jpg", &jpeg("card"));
    let selfie = ["photo", &id, "--kind", "selfie", card.to_str().unwrap()];
    assert_refused(
        &tablet,
        &selfie,
        2,
        "possible values: feedback_card, cleanup",
    );
    let heic = tablet.write_file("card.heic", b"\0\0\0\x18ftypheic\0\0\0\0mif1heic");
    let heic_args = [
        "photo",
        &id,
        "--kind",
        "feedback_card",
        heic.to_str().unwrap(),
    ];
    assert_refused(&tablet, &heic_args, 1, "convert the photo to JPEG");
    let text = tablet.write_file("notes.txt", b"not a photo");
    let text_args = [
        "photo",
        &id,
        "--kind",
        "feedback_card",
        text.to_str().unwrap(),
    ];
    assert_refused(&tablet, &text_args, 1, "not a JPEG, PNG or WebP photo");
    let missing = [
        "photo",
        &id,
        "--kind",
        "feedback_card",
        "/nonexistent/card.jpg",
    ];
    assert_refused(&tablet, &missing, 1, "Could not read the photo");
}

#[test]
fn unknown_jobs_and_other_technicians_jobs_are_refused() {
    let (tablet, _mine) = TestTablet::with_my_job();
    let theirs = tablet.seed(&[ME, "tech-zhang"])[1];
    let unknown = field_client::sync_protocol::DocumentId::random().to_string();
    assert_refused(&tablet, &["arrive", &unknown], 1, "There is no job");
    assert_refused(&tablet, &["arrive", "zzzz"], 1, "There is no job `zzzz`");
    let message = "is not assigned to you (tech-li) but to tech-zhang";
    assert_refused(&tablet, &["arrive", &theirs.to_string()], 1, message);
    assert_refused(&tablet, &["depart", &theirs.to_url()], 1, "ask dispatch");
}

#[test]
fn work_needs_a_login_and_a_job_list_and_arrival_before_departure() {
    let tablet = TestTablet::new();
    assert_refused(&tablet, &["arrive", "abc"], 1, "not logged in");
    assert_refused(&tablet, &["jobs"], 1, "not logged in");
    tablet.json(&[
        "login",
        "--server",
        "http://127.0.0.1:9",
        "--token",
        "fst_x",
    ]);
    assert_refused(
        &tablet,
        &["jobs"],
        1,
        "Your job list is not on this tablet yet",
    );
    let job = tablet.seed(&[ME])[0].to_string();
    assert_refused(
        &tablet,
        &["depart", &job],
        1,
        "Record your arrival before your departure",
    );
    assert_refused(
        &tablet,
        &["login", "--server", "fieldsync.example", "--token", "t"],
        1,
        "http://",
    );
}

#[test]
fn sync_needs_a_login_and_offline_sync_keeps_the_work() {
    let tablet = TestTablet::new();
    let message = tablet.refused(&["sync"], 1);
    assert!(message.contains("field login"), "{message}");
    // Logged in to a server that is not there: one line saying the work stays here.
    let (tablet, job) = TestTablet::with_my_job();
    tablet.json(&["arrive", &job.to_string()]);
    let before = tablet.disk_state();
    let offline = tablet.refused(&["sync"], 1);
    assert!(offline.contains("Cannot reach the server"), "{offline}");
    assert!(offline.contains("stays on this tablet"), "{offline}");
    assert!(!offline.contains(crate::support::SERVER_TOKEN), "{offline}");
    assert_eq!(offline.lines().count(), 1, "{offline}");
    assert_eq!(tablet.disk_state(), before);
    assert_eq!(
        tablet
            .refused(&["bogus"], 2)
            .lines()
            .next()
            .map(|l| l.contains("error")),
        Some(true)
    );
}
