//! The workspace's built binaries, for tests that run them as separate processes.

use std::path::PathBuf;

/// The path of a binary built into the same target directory as this test.
pub fn path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binary lives in target/<profile>/deps");
    let binary = profile_dir.join(name);
    assert!(
        binary.exists(),
        "{} is not built: run `cargo build --workspace --bins` first (scripts/test does)",
        binary.display()
    );
    binary
}
