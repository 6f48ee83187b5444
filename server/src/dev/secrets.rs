//! The dev data directory's own secrets, made once and kept readable by us only.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::auth::random_text;
use crate::embedded::S3Credentials;

#[derive(Serialize, Deserialize)]
pub struct DevSecrets {
    pub postgres_password: String,
    pub object_storage: S3Credentials,
}

impl std::fmt::Debug for DevSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DevSecrets([redacted])")
    }
}

impl DevSecrets {
    pub fn load_or_create(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).with_context(|| {
                format!(
                    "{} is damaged; remove the data directory to start afresh",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let secrets = Self {
                    postgres_password: random_text(24),
                    object_storage: S3Credentials::random(),
                };
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .with_context(|| format!("creating {}", path.display()))?;
                file.write_all(&serde_json::to_vec_pretty(&secrets)?)?;
                file.sync_all()?;
                Ok(secrets)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
}
