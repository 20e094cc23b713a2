//! The bot's life: log in (retrying while the homeserver is unreachable or refuses), catch up once
//! without acting on history, then sync from the stored token until shutdown.
//!
//! The SDK keeps the sync token in the state store, so a restart resumes where it stopped: events
//! that arrived while Mimi was down are handled then; events from before its first start are not.

use std::time::Duration;

use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use matrix_sdk::store::StateStoreDataKey;
use tokio_util::sync::CancellationToken;

use super::{Bot, SharedClient, handlers, session};

const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Sleeps `wait`; false when shutdown came first.
async fn pause(wait: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => false,
        _ = tokio::time::sleep(wait) => true,
    }
}

fn next(wait: Duration) -> Duration {
    (wait * 2).min(BACKOFF_MAX)
}

pub(super) async fn run(bot: Bot, cell: SharedClient, shutdown: CancellationToken) {
    let dir = session::store_dir(&bot.settings);
    let mut wait = BACKOFF_START;
    let client = loop {
        let connected = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = session::connect(&bot.settings.matrix, &dir) => r,
        };
        match connected {
            Ok(client) => break client,
            Err(e) => {
                tracing::error!(error = format!("{e:#}"), retry_in_s = wait.as_secs(), "matrix: could not log in")
            }
        }
        if !pause(wait, &shutdown).await {
            return;
        }
        wait = next(wait);
    };
    if !catch_up(&client, &shutdown).await {
        return;
    }
    let _ = cell.set(client.clone());
    handlers::register(&client, bot.clone());
    handlers::tidy_rooms(&client, &bot).await;
    let timeout = Duration::from_secs(bot.settings.matrix.sync_timeout_seconds);
    let mut wait = BACKOFF_START;
    loop {
        let synced = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = client.sync_once(SyncSettings::default().timeout(timeout)) => r,
        };
        match synced {
            Ok(_) => wait = BACKOFF_START,
            Err(e) => {
                tracing::warn!(error = %e, retry_in_s = wait.as_secs(), "matrix: sync failed");
                if !pause(wait, &shutdown).await {
                    break;
                }
                wait = next(wait);
            }
        }
    }
    tracing::info!("matrix: stopped syncing");
}

/// The first start on fresh stores: one sync before any handler exists, so old reactions and
/// commands in the rooms' history are never acted on. False on shutdown.
async fn catch_up(client: &Client, shutdown: &CancellationToken) -> bool {
    let stored = client.state_store().get_kv_data(StateStoreDataKey::SyncToken).await.ok().flatten();
    if stored.is_some() {
        return true;
    }
    let mut wait = BACKOFF_START;
    loop {
        let synced = tokio::select! {
            _ = shutdown.cancelled() => return false,
            r = client.sync_once(SyncSettings::default().timeout(Duration::ZERO)) => r,
        };
        match synced {
            Ok(_) => return true,
            Err(e) => tracing::warn!(error = %e, "matrix: first sync failed"),
        }
        if !pause(wait, shutdown).await {
            return false;
        }
        wait = next(wait);
    }
}
