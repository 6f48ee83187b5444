//! Why a sync run stopped. Each message is shown to the technician as it is: it says what
//! happened and what to do, and never contains the token.

use crate::ClientError;

/// A sync run that could not finish. Local data is intact whichever one is returned.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "Cannot reach the server at {server} ({reason}); your work stays on this tablet, \
         run `field sync` again when online"
    )]
    Unreachable { server: String, reason: String },
    #[error(
        "The server refused this device's token; ask dispatch for a new device token and run \
         `field login` again (your work stays on this tablet)"
    )]
    TokenRefused,
    #[error("The server answered {status} to {what}: {message}; try `field sync` again later")]
    Server {
        what: &'static str,
        status: u16,
        message: String,
    },
    #[error("The server's sync connection failed ({0}); run `field sync` again")]
    Protocol(String),
    #[error("The sync connection was lost ({0}); run `field sync` again")]
    Lost(String),
    /// The server took nothing because its own storage failed (not a refusal of the work).
    #[error(
        "The office could not store your work ({0}); it stays on this tablet and is sent again \
         at the next sync"
    )]
    NotStored(String),
    #[error(transparent)]
    Local(#[from] ClientError),
}

impl SyncError {
    /// Worth retrying within the same run: the network or the server may recover.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::Lost(_) | Self::NotStored(_) => true,
            Self::Server { status, .. } => *status >= 500 || *status == 429,
            Self::TokenRefused | Self::Protocol(_) | Self::Local(_) => false,
        }
    }
}
