//! What `field` prints goes to readers that may stop reading (`field jobs | head`).

use std::process::{Command, Stdio};

use crate::support::TestTablet;

#[test]
fn a_reader_that_went_away_ends_field_quietly() {
    let (tablet, _job) = TestTablet::with_my_job();
    // Standard output is a pipe whose reading end is already closed: every write fails.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for args in [&["jobs"][..], &["--json", "jobs"], &["status"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_field"))
            .arg("--home")
            .arg(tablet.home_path())
            .args(args)
            .stdout(writer.try_clone().unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{args:?}: {:?} {stderr}",
            output.status
        );
        assert_eq!(stderr, "", "{args:?} said something on the way out");
    }
}
