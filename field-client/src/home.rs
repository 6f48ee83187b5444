//! The tablet's home directory (`--home`, default `~/.fieldsync`): the SQLite store, the token
//! file and the copied attachment bytes, private to the technician's account.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::ClientError;

/// Where one tablet keeps everything it knows.
#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// Opens `root`, creating it readable by its owner only (it holds the token and customer data).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, ClientError> {
        let root = root.into();
        for dir in [root.clone(), root.join(ATTACHMENTS)] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| ClientError::file("create the directory", &dir, e))?;
        }
        Ok(Self { root })
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The SQLite database of documents, sync states, uploads and events.
    pub fn database(&self) -> PathBuf {
        self.root.join("field.sqlite3")
    }

    /// The file holding the bearer token, mode 0600.
    pub fn token_file(&self) -> PathBuf {
        self.root.join("token")
    }

    /// Where the bytes of an attachment are kept until uploaded, named by their SHA-256.
    pub fn attachment_path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// The home-relative name of the attachment with this SHA-256.
    pub fn attachment_name(sha256: &str) -> String {
        format!("{ATTACHMENTS}/{sha256}")
    }
}

const ATTACHMENTS: &str = "attachments";

/// Writes `bytes` to `path` so that after return they survive a power cut: a temporary file in
/// the same directory, fsynced, renamed over the target, then the directory fsynced.
pub(crate) fn write_durably(path: &Path, bytes: &[u8], mode: u32) -> Result<(), ClientError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let temporary = path.with_extension("partial");
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&temporary)
        .map_err(|e| ClientError::file("create", &temporary, e))?;
    // `mode` only applies to new files; a leftover partial file keeps its old mode otherwise.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .and_then(|()| file.write_all(bytes))
        .and_then(|()| file.sync_all())
        .map_err(|e| ClientError::file("write", &temporary, e))?;
    fs::rename(&temporary, path).map_err(|e| ClientError::file("replace", path, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ClientError::file("sync the directory", dir, e))
}
