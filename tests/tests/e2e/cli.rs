//! The binary's start-up errors: one clear line and a non-zero exit, never a panic or a secret.

use std::process::Output;

use tokio::process::Command;

fn server() -> Command {
    let home = std::env::temp_dir().join("fieldsync-empty-home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = Command::new(harness::binaries::path("fieldsync-server"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        // No AWS profile to find, and never probe a cloud metadata address from a test.
        .env("HOME", &home)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .kill_on_drop(true);
    command
}

fn with_storage_credentials(command: &mut Command) -> &mut Command {
    command
        .env("FIELDSYNC_S3_ENDPOINT", "http://127.0.0.1:1")
        .env("AWS_ACCESS_KEY_ID", "FSTESTKEY")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret-value")
}

/// The one line the process printed, after checking it failed the way an operator expects.
fn single_error_line(output: &Output) -> String {
    assert!(!output.status.success(), "the server must exit non-zero");
    assert_eq!(
        output.status.code(),
        Some(1),
        "an error exit, not a signal or panic"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "no panic: {stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 1, "one line, got: {stderr}");
    lines[0].to_owned()
}

#[tokio::test]
async fn a_malformed_database_url_is_one_clear_line() {
    let mut command = server();
    with_storage_credentials(&mut command).args(["serve", "--database-url", "not a url"]);
    let line = single_error_line(&command.output().await.unwrap());
    assert!(line.contains("database URL is not valid"), "{line}");
    assert!(
        line.contains("postgres://"),
        "says what is expected: {line}"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    let mut command = server();
    with_storage_credentials(&mut command)
        .env(
            "DATABASE_URL",
            "postgres://fieldsync:hunter2secret@127.0.0.1:1/fieldsync",
        )
        .arg("serve");
    let line = single_error_line(&command.output().await.unwrap());
    assert!(
        line.contains("cannot connect to PostgreSQL at 127.0.0.1:1/fieldsync"),
        "{line}"
    );
    assert!(
        !line.contains("hunter2secret"),
        "the password never shows: {line}"
    );
}

#[tokio::test]
async fn missing_object_storage_credentials_are_one_clear_line() {
    let mut command = server();
    command
        .env("DATABASE_URL", "postgres://fieldsync@127.0.0.1:1/fieldsync")
        .env("FIELDSYNC_S3_ENDPOINT", "http://127.0.0.1:1")
        .arg("serve");
    let line = single_error_line(&command.output().await.unwrap());
    assert!(line.contains("no object-storage credentials"), "{line}");
    assert!(
        line.contains("AWS_ACCESS_KEY_ID"),
        "says what to set: {line}"
    );
}

#[tokio::test]
async fn half_given_object_storage_credentials_are_refused() {
    let mut command = server();
    command
        .env("DATABASE_URL", "postgres://fieldsync@127.0.0.1:1/fieldsync")
        .env("AWS_ACCESS_KEY_ID", "FSTESTKEY")
        .arg("serve");
    let line = single_error_line(&command.output().await.unwrap());
    assert!(line.contains("AWS_SECRET_ACCESS_KEY is not"), "{line}");
}

#[tokio::test]
async fn help_never_shows_secret_values() {
    let mut command = server();
    with_storage_credentials(&mut command)
        .env(
            "DATABASE_URL",
            "postgres://fieldsync:hunter2secret@127.0.0.1:1/fieldsync",
        )
        .args(["serve", "--help"]);
    let output = command.output().await.unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("--database-url"));
    assert!(!help.contains("hunter2secret") && !help.contains("test-secret-value"));
}

#[tokio::test]
async fn a_document_cache_of_nothing_is_refused_naming_the_setting() {
    for (flag, value) in [
        ("--document-cache", "0"),
        ("--document-cache", "lots"),
        ("--document-cache-idle-seconds", "0"),
    ] {
        let mut command = server();
        with_storage_credentials(&mut command)
            .env(
                "DATABASE_URL",
                "postgres://fieldsync:secret@127.0.0.1:1/fieldsync",
            )
            .args(["serve", flag, value]);
        let output = command.output().await.unwrap();
        assert!(!output.status.success(), "{flag} {value} is refused");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "no panic: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains(value),
            "names the setting and the value: {stderr}"
        );
    }
}
