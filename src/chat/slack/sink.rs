//! The Slack sink: one outbox row, one Web API call. Posts carry their idempotency key in the
//! message metadata; `lookup` finds them after a crash (B03). Edits are `chat.update` (idempotent
//! by nature), replies `chat.postMessage` with `thread_ts`.

use async_trait::async_trait;

use super::client::Client;
use super::render;
use crate::domain::approver::Platform;
use crate::notify::sink::{Action, Capabilities, MessageId, Outgoing, Sink, SinkError};

pub struct SlackSink {
    client: Client,
}

impl SlackSink {
    pub fn new(client: Client) -> Self {
        SlackSink { client }
    }
}

/// How far before a message's news its post may be found by `lookup` (clock skew, queueing).
const LOOKUP_SLACK_SECONDS: i64 = 300;

#[async_trait]
impl Sink for SlackSink {
    fn name(&self) -> &str {
        "slack"
    }

    fn platform(&self) -> Option<Platform> {
        Some(Platform::Slack)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { edits: true, threads: true, chat: true }
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<MessageId, SinkError> {
        let (text, blocks) = render::message(msg.message);
        let key = Some(msg.idempotency_key);
        let ts = match msg.action {
            Action::Post => self.client.post_message(msg.target, &text, &blocks, None, key).await?,
            Action::Reply { root, .. } => self.client.post_message(msg.target, &text, &blocks, Some(root), key).await?,
            Action::Edit { message } => self.client.update(msg.target, message, &text, &blocks).await?,
        };
        Ok(MessageId(ts))
    }

    async fn lookup(&self, msg: &Outgoing<'_>) -> Result<Option<MessageId>, SinkError> {
        let oldest = msg.original_at.as_second() - LOOKUP_SLACK_SECONDS;
        let thread = match msg.action {
            Action::Post => None,
            Action::Reply { root, .. } => Some(root),
            // An edit is sent again: `chat.update` with the same content changes nothing.
            Action::Edit { .. } => return Ok(None),
        };
        let found = self.client.find_by_key(msg.target, thread, oldest, msg.idempotency_key).await?;
        Ok(found.map(MessageId))
    }
}
