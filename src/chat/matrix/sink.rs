//! The Matrix [`Sink`]: posts, edits (`m.replace`) and thread replies (`m.thread` +
//! `m.in_reply_to`) in rooms, encrypted ones included (the SDK encrypts for the room's devices).
//!
//! Every send uses a transaction id derived from the outbox row's idempotency key, so a resend
//! after a timeout, a rate limit or a restart is the same event (RELIABILITY B07): the homeserver
//! answers the first event's id instead of creating another. `M_LIMIT_EXCEEDED` becomes
//! [`SinkError::RateLimited`] with its `retry_after_ms` for the whole sink (Matrix limits are per
//! user); the lane waits exactly that long. Until the client has logged in, sends are
//! "unavailable", so the outbox keeps the messages and Mimi runs on without Matrix.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use matrix_sdk::ruma::api::error::{ErrorKind, RetryAfter};
use matrix_sdk::ruma::{OwnedRoomId, OwnedTransactionId};
use matrix_sdk::{Client, RoomState};
use tokio::sync::OnceCell;

use super::render;
use crate::domain::approver::Platform;
use crate::notify::sink::{Capabilities, LimitScope, MessageId, Outgoing, Sink, SinkError};

/// When the homeserver rate limits without saying for how long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

pub struct MatrixSink {
    client: Arc<OnceCell<Client>>,
}

impl MatrixSink {
    /// A sink that sends once `client` is set (by the bot, after logging in).
    pub fn new(client: Arc<OnceCell<Client>>) -> Self {
        MatrixSink { client }
    }
}

#[async_trait]
impl Sink for MatrixSink {
    fn name(&self) -> &str {
        "matrix"
    }

    fn platform(&self) -> Option<Platform> {
        Some(Platform::Matrix)
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { edits: true, threads: true, chat: true }
    }

    async fn send(&self, msg: &Outgoing<'_>) -> Result<MessageId, SinkError> {
        let client = self.client.get().ok_or_else(|| SinkError::Unavailable("not logged in to Matrix yet".into()))?;
        let room_id = OwnedRoomId::try_from(msg.target)
            .map_err(|_| SinkError::Rejected(format!("{:?} is not a Matrix room id", msg.target)))?;
        let room = match client.get_room(&room_id) {
            Some(room) if room.state() == RoomState::Joined => room,
            // Not in the room (yet): join it if it lets Mimi in (invited, or public).
            _ => client.join_room_by_id(&room_id).await.map_err(|e| classify(&e, "join"))?,
        };
        let content = render::content(msg.action, msg.message).map_err(SinkError::Rejected)?;
        let txn = OwnedTransactionId::from(render::transaction_id(msg.idempotency_key));
        let sent = room.send(content).with_transaction_id(txn).await.map_err(|e| classify(&e, "send"))?;
        Ok(MessageId(sent.response.event_id.to_string()))
    }
}

/// Maps an SDK error to what the lane should do.
pub(super) fn classify(e: &matrix_sdk::Error, what: &str) -> SinkError {
    match e.client_api_error_kind() {
        Some(ErrorKind::LimitExceeded(data)) => {
            let retry_after = match &data.retry_after {
                Some(RetryAfter::Delay(d)) => *d,
                Some(RetryAfter::DateTime(at)) => at.duration_since(SystemTime::now()).unwrap_or_default(),
                None => DEFAULT_RETRY_AFTER,
            };
            SinkError::RateLimited { retry_after, scope: LimitScope::Sink }
        }
        Some(
            ErrorKind::Forbidden | ErrorKind::NotFound | ErrorKind::TooLarge | ErrorKind::BadJson | ErrorKind::NotJson,
        ) => SinkError::Rejected(format!("{what}: {e}")),
        _ => SinkError::Unavailable(format!("{what}: {e}")),
    }
}
