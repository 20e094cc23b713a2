//! Logging in as the bot's one device, and staying that device across restarts.
//!
//! The SQLite state and crypto stores live in the store directory (`[matrix] store_dir`, default
//! `matrix/` in the data directory), beside `device.json`, which holds the user and device ids only.
//! With a password Mimi logs in again at every start *as the same device* (so its encryption keys
//! stay valid and people need not verify it again); with an access token the device is the token's
//! (asked with `whoami`) and must be the one the stores belong to. The access token is kept only
//! in memory: never written to a file, a database row or a log line (RELIABILITY D08).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use matrix_sdk::authentication::matrix::MatrixSession;
use matrix_sdk::config::RequestConfig;
use matrix_sdk::ruma::{OwnedDeviceId, OwnedUserId};
use matrix_sdk::{Client, SessionMeta, SessionTokens};
use serde::{Deserialize, Serialize};

use crate::config::{MatrixSettings, Settings};

/// The ids of the bot's device (no secret), persisted in `device.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceFile {
    pub user_id: String,
    pub device_id: String,
}

/// Where the Matrix stores and `device.json` live.
pub fn store_dir(settings: &Settings) -> PathBuf {
    settings.matrix.store_dir.clone().unwrap_or_else(|| settings.data_dir.join("matrix"))
}

fn device_path(dir: &Path) -> PathBuf {
    dir.join("device.json")
}

/// The device id persisted in `dir`, if Mimi has logged in from there before.
pub fn saved_device(dir: &Path) -> anyhow::Result<Option<DeviceFile>> {
    match std::fs::read(device_path(dir)) {
        Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes).context("device.json is not valid")?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).context("failed to read device.json"),
    }
}

fn save_device(dir: &Path, device: &DeviceFile) -> anyhow::Result<()> {
    let tmp = dir.join("device.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(device)?).context("failed to write device.json")?;
    std::fs::rename(&tmp, device_path(dir)).context("failed to write device.json")
}

/// Builds the client on the stores in `dir` and logs in (or restores the session).
pub async fn connect(m: &MatrixSettings, dir: &Path) -> anyhow::Result<Client> {
    let url = m.homeserver_url.as_deref().context("matrix.homeserver_url is not set")?;
    let user = m.user_id.as_deref().context("matrix.user_id is not set")?;
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    restrict(dir);
    // No retries inside the SDK: the outbox lane retries sends (same transaction id) and honours
    // rate limits itself, and the sync loop backs off on its own.
    let requests = RequestConfig::new().disable_retry().timeout(Duration::from_secs(m.timeout_seconds));
    let client = Client::builder()
        .homeserver_url(url)
        .sqlite_store(dir, m.store_passphrase.as_ref().map(|p| p.expose()))
        .request_config(requests)
        .build()
        .await
        .context("failed to open the Matrix stores or reach the homeserver")?;
    let saved = saved_device(dir)?;
    if let Some(saved) = &saved
        && saved.user_id != user
    {
        bail!(
            "the Matrix stores in {} belong to {}, not to matrix.user_id {user}: use another store_dir",
            dir.display(),
            saved.user_id
        );
    }
    let device = match (&m.access_token, &m.password) {
        (Some(token), _) => {
            let (who, device_id) = whoami(url, token.expose(), m.timeout_seconds).await?;
            if who != user {
                bail!("matrix.access_token belongs to {who}, not to matrix.user_id {user}");
            }
            if let Some(saved) = saved.as_ref().filter(|s| s.device_id != device_id) {
                bail!(
                    "matrix.access_token is for device {device_id}, but the stores in {} are for device {}: \
                     use a token of that device, or another store_dir",
                    dir.display(),
                    saved.device_id
                );
            }
            let meta = SessionMeta { user_id: parse_user(user)?, device_id: OwnedDeviceId::from(device_id.as_str()) };
            let tokens = SessionTokens { access_token: token.expose().to_string(), refresh_token: None };
            client.restore_session(MatrixSession { meta, tokens }).await.context("failed to restore the session")?;
            DeviceFile { user_id: user.to_string(), device_id }
        }
        (None, Some(password)) => {
            let mut login = client
                .matrix_auth()
                .login_username(user, password.expose())
                .initial_device_display_name(&m.device_name);
            if let Some(saved) = &saved {
                login = login.device_id(&saved.device_id);
            }
            let response = login.send().await.context("failed to log in to the homeserver (matrix.password)")?;
            DeviceFile { user_id: response.user_id.to_string(), device_id: response.device_id.to_string() }
        }
        (None, None) => bail!("matrix.access_token or matrix.password is needed"),
    };
    if saved.as_ref() != Some(&device) {
        save_device(dir, &device)?;
    }
    tracing::info!(user = %device.user_id, device = %device.device_id, "logged in to Matrix");
    Ok(client)
}

fn parse_user(user: &str) -> anyhow::Result<OwnedUserId> {
    OwnedUserId::try_from(user).with_context(|| format!("{user:?} is not a Matrix user id"))
}

/// `GET /_matrix/client/v3/account/whoami`: the token's user and device.
async fn whoami(base: &str, token: &str, timeout: u64) -> anyhow::Result<(String, String)> {
    #[derive(Deserialize)]
    struct WhoAmI {
        user_id: String,
        device_id: Option<String>,
    }
    let url = format!("{}/_matrix/client/v3/account/whoami", base.trim_end_matches('/'));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(timeout)).build()?;
    let response = http.get(&url).bearer_auth(token).send().await.context("failed to reach the homeserver (whoami)")?;
    let status = response.status();
    if !status.is_success() {
        bail!("the homeserver refused matrix.access_token (whoami answered {status})");
    }
    let who: WhoAmI = response.json().await.context("the homeserver's whoami answer is not valid")?;
    let device = who.device_id.context("matrix.access_token has no device (an appservice token?)")?;
    Ok((who.user_id, device))
}

/// The stores hold encryption keys: only Mimi's user may read them.
fn restrict(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
}
