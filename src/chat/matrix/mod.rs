//! Matrix: incidents in rooms (encrypted ones too), approvals by reaction or `!mimi` command,
//! questions answered in threads.
//!
//! ```text
//! outbox lane --Sink--> sink.rs (render.rs: HTML + plain body, m.replace edits, m.thread replies,
//!                                transaction id = the row's idempotency key)
//! session.rs: log in as the one persisted device; SQLite state + crypto store in the store dir
//! sync.rs: sync loop from the stored token --> handlers.rs
//!     invite:   join a configured room, leave (reject) any other, posting nothing (D06)
//!     reaction: ✅/❌ on an incident message --> approve.rs --> engine::decide_proposal (D01-D04)
//!     message:  events.rs (edits never count, D05) --> the shared chat command layer
//!     m.room.encrypted that could not be decrypted: logged, never a command (D07)
//! ```
//!
//! Only configured rooms (`[[matrix.rooms]]`) are served; approvers are full user ids from
//! `[[policy.approvers]]` (platform "matrix"), checked by the shared approval rules, plus the
//! room's optional power-level threshold. The access token never leaves memory (D08).

mod approve;
mod commands;
pub mod events;
mod handlers;
pub mod render;
pub mod session;
mod sink;
mod sync;

use std::sync::Arc;

use matrix_sdk::Client;
use tokio::sync::OnceCell;
use tokio_util::sync::CancellationToken;

pub use sink::MatrixSink;

use crate::chat::Responder;
use crate::config::Settings;
use crate::store::Store;

/// What the inbound side needs.
#[derive(Clone)]
pub(crate) struct Bot {
    pub(crate) store: Store,
    pub(crate) settings: Arc<Settings>,
    /// Runs commands and decisions (the shared chat command layer).
    pub(crate) responder: Responder,
}

/// The client the sink and the bot share: set once the bot has logged in.
pub type SharedClient = Arc<OnceCell<Client>>;

/// The sink, and the client cell the bot fills, when `[matrix]` is configured.
pub fn sink(settings: &Settings) -> Option<(Arc<MatrixSink>, SharedClient)> {
    settings.matrix.enabled().then(|| {
        let client: SharedClient = Arc::new(OnceCell::new());
        (Arc::new(MatrixSink::new(client.clone())), client)
    })
}

/// Starts the bot: logs in (retrying while the homeserver is unreachable), fills `client`, then
/// syncs until `shutdown`.
pub fn start(
    client: SharedClient,
    store: Store,
    settings: Arc<Settings>,
    responder: Responder,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let bot = Bot { store, settings, responder };
    tokio::spawn(sync::run(bot, client, shutdown))
}
