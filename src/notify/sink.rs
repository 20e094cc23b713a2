//! The `Sink` port: where outbox messages go (Slack, Matrix, email, the recording fake).
//!
//! A sink translates one outbox row into one platform call and reports what happened in the
//! platform's terms mapped to [`SinkError`]; it never retries, sleeps or paces itself — the lane
//! does (`lane.rs`). It must be safe to call again with the same [`Outgoing::idempotency_key`]:
//! Matrix uses it as the transaction id (a resend is the same event, B07), Slack stores it in the
//! message metadata so [`Sink::lookup`] can find a post whose success was never recorded (B03),
//! email derives the Message-ID from it.

use std::time::Duration;

use async_trait::async_trait;

use super::message::Rendered;
use crate::domain::approver::Platform;

/// What to do with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// A new top-level message in `target`.
    Post,
    /// Replace the content of a message sent before (`chat.update`, Matrix `m.replace`).
    Edit { message: &'a str },
    /// A reply in the thread of `root` (the thread's top message: Slack `thread_ts`, Matrix
    /// `m.thread` relation), answering `parent` (`m.in_reply_to`, email `In-Reply-To`).
    Reply { root: &'a str, parent: &'a str },
}

/// One message handed to a sink.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Stable across retries and restarts; unique per outbox row.
    pub idempotency_key: &'a str,
    /// Channel id, room id, or comma-separated email addresses.
    pub target: &'a str,
    pub action: Action<'a>,
    pub message: &'a Rendered,
    /// When the news happened (late deliveries already say so in `message.note`).
    pub original_at: jiff::Timestamp,
    /// 1 for the first try.
    pub attempt: u32,
}

/// The platform's id of a sent message (Slack `ts`, Matrix event id, email Message-ID); kept in
/// `outbox.message_ref` for later edits and replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageId(pub String);

/// Whose budget a rate limit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    /// This channel or room only: other channels of the sink go on.
    Channel,
    /// The whole sink (a Slack method limit, Matrix per-user limit): the lane makes no call at all
    /// until it passes (B06).
    Sink,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// 429 `Retry-After`, `M_LIMIT_EXCEEDED` `retry_after_ms`: wait exactly that long, then send the
    /// same message again (same idempotency key). Not a health failure: the platform is up.
    #[error("rate limited for {retry_after:?}")]
    RateLimited { retry_after: Duration, scope: LimitScope },
    /// Down, timed out, 5xx, connection refused: retried with backoff; counts against health.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// This message can never be delivered as it is (unknown channel, message too long, bad
    /// recipient): given up at once.
    #[error("rejected: {0}")]
    Rejected(String),
}

/// What a sink can do; the outbox does not ask for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Edits messages in place. Without it, updates are told as replies only.
    pub edits: bool,
    /// Threads replies under a message.
    pub threads: bool,
    /// Is a chat platform: counts for the email fallback and takes burst roll-ups.
    pub chat: bool,
}

#[async_trait]
pub trait Sink: Send + Sync {
    /// The configured name (`slack`, `matrix`, `email`): routes name it, metrics label by it.
    fn name(&self) -> &str;

    /// The chat platform whose approvals bind to messages this sink posts (C07); `None` for email.
    fn platform(&self) -> Option<Platform>;

    fn capabilities(&self) -> Capabilities;

    /// Sends one message. Called again with the same key after a failure or a crash.
    async fn send(&self, msg: &Outgoing<'_>) -> Result<MessageId, SinkError>;

    /// After a crash between handing a message over and recording the result: was it delivered?
    /// `Ok(Some(id))` records it without sending again; `Ok(None)` or an error sends it again
    /// (at most one duplicate per crash, RELIABILITY B03; none where `send` itself is idempotent).
    async fn lookup(&self, msg: &Outgoing<'_>) -> Result<Option<MessageId>, SinkError> {
        let _ = msg;
        Ok(None)
    }
}
