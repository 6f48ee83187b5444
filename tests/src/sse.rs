//! A Server-Sent Events reader for `GET /api/v1/events`.

use std::time::Duration;

use futures_util::StreamExt;

/// One event as received.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub id: String,
    pub event: String,
    pub data: serde_json::Value,
}

pub struct FeedReader {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buffer: String,
}

impl std::fmt::Debug for FeedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedReader")
            .field("buffered", &self.buffer.len())
            .finish()
    }
}

impl FeedReader {
    /// Opens the feed as `token`, resuming after `last_event_id` if given.
    pub async fn open(base_url: &str, token: &str, last_event_id: Option<&str>) -> Self {
        let mut request = reqwest::Client::new()
            .get(format!("{base_url}/api/v1/events"))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("opening the feed");
        assert_eq!(response.status(), 200, "the feed opens");
        Self {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event (keep-alive comments skipped), or `None` after `limit` without one.
    pub async fn next(&mut self, limit: Duration) -> Option<FeedEvent> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = FeedEvent {
                    id: String::new(),
                    event: String::new(),
                    data: serde_json::Value::Null,
                };
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue;
                }
                event.data = serde_json::from_str(&data).expect("event data is JSON");
                return Some(event);
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
                .ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}
