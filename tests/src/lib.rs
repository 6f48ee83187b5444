//! The end-to-end harness every test uses.
//!
//! - [`postgres`]: one throwaway PostgreSQL cluster per test run (or `DATABASE_URL`), and a
//!   fresh migrated database per test, copied from a template in milliseconds.
//! - [`TestApp`]: the real server on port 0 against that database and an S3 endpoint in process
//!   (or `FIELDSYNC_TEST_S3_ENDPOINT`), with helpers to create organisations, staff, tokens and
//!   customers through the server's own code.
//! - [`binaries`]: the built binaries, for tests that run them as processes.
//!
//! Logs stay silent unless `TEST_LOG` is set (e.g. `TEST_LOG=debug`).

pub mod app;
pub mod binaries;
pub mod fixtures;
pub mod flaky;
pub mod images;
pub mod jobs;
pub mod node;
pub mod peer;
pub mod postgres;
pub mod process;
pub mod s3;
pub mod sse;
pub mod tablet;
pub mod tus;
pub mod visit;

pub use app::TestApp;

/// Installs a log subscriber once when `TEST_LOG` asks for one.
pub fn init_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}
