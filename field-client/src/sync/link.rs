//! The WebSocket under a sync session: binary frames in and out, with a wait bound on reads so
//! the exchange can tell when both sides have gone quiet.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::SyncError;
use super::api::ServerApi;

/// One open `GET /sync` connection.
pub(crate) struct Link {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Link {
    /// Opens `ws(s)://…/sync`, authenticated with the device token in a header.
    pub(crate) async fn connect(api: &ServerApi) -> Result<Self, SyncError> {
        let base = api.base();
        let url = match base.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}/sync"),
            None => format!("ws://{}/sync", base.trim_start_matches("http://")),
        };
        let mut request = url
            .into_client_request()
            .map_err(|e| SyncError::Protocol(format!("bad server address: {e}")))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {}", api.token().expose()))
            .map_err(|_| SyncError::TokenRefused)?;
        request.headers_mut().insert("authorization", bearer);
        let connecting = tokio_tungstenite::connect_async(request);
        let (socket, _) = tokio::time::timeout(Duration::from_secs(10), connecting)
            .await
            .map_err(|_| unreachable(api, "timed out"))?
            .map_err(|e| match e {
                tungstenite::Error::Http(response)
                    if matches!(response.status().as_u16(), 401 | 403) =>
                {
                    SyncError::TokenRefused
                }
                tungstenite::Error::Http(response) => SyncError::Server {
                    what: "the sync connection",
                    status: response.status().as_u16(),
                    message: "the server would not open a sync connection".to_owned(),
                },
                _ => unreachable(api, "no connection"),
            })?;
        Ok(Self { socket })
    }

    /// Sends frames in order.
    pub(crate) async fn send(&mut self, frames: Vec<Vec<u8>>) -> Result<(), SyncError> {
        for frame in frames {
            self.socket
                .feed(Message::Binary(frame.into()))
                .await
                .map_err(lost)?;
        }
        self.socket.flush().await.map_err(lost)
    }

    /// The next binary frame, or `None` if nothing came within `wait`.
    pub(crate) async fn next(&mut self, wait: Duration) -> Result<Option<Vec<u8>>, SyncError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let message = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err(SyncError::Lost("the server closed it".to_owned())),
                Ok(Some(message)) => message.map_err(lost)?,
            };
            match message {
                Message::Binary(bytes) => return Ok(Some(bytes.to_vec())),
                Message::Close(frame) => return Err(closed(frame)),
                // Pings are answered by tungstenite itself; text frames are not ours.
                _ => {}
            }
        }
    }

    /// Closes politely; failures do not matter any more.
    pub(crate) async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

fn unreachable(api: &ServerApi, reason: &str) -> SyncError {
    SyncError::Unreachable {
        server: api.base().to_owned(),
        reason: reason.to_owned(),
    }
}

/// Why the server closed: 1011 (internal error) and 1013 (try again later) mean it could not
/// store what we sent, which is kept and retried; anything else is a lost connection.
fn closed(frame: Option<CloseFrame>) -> SyncError {
    match frame {
        Some(frame) if matches!(u16::from(frame.code), 1011 | 1013) => {
            SyncError::NotStored(frame.reason.to_string())
        }
        Some(frame) if !frame.reason.is_empty() => {
            SyncError::Lost(format!("the server closed it: {}", frame.reason))
        }
        _ => SyncError::Lost("the server closed it".to_owned()),
    }
}

fn lost(error: tungstenite::Error) -> SyncError {
    SyncError::Lost(error.to_string())
}
