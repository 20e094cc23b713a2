//! `[slack]`: the Slack app Mimi runs as (bot token, signing secrets, workspace), and which
//! namespaces each channel may ask about (`[[slack.channels]]`). Without `bot_token` there is no
//! Slack. docs/slack.md walks through creating the app.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret, Settings};
use crate::domain::approver::{Platform, is_slack_id};

/// How Slack reaches Mimi.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SlackMode {
    /// Slack posts to `/slack/events`, `/slack/interactions` and `/slack/commands` (a public URL).
    Http,
    /// Mimi connects out over a websocket with the app-level token (no public URL).
    Socket,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackSettings {
    /// The bot token (`xoxb-...`); without it there is no Slack.
    pub bot_token: Option<Secret>,
    pub bot_token_file: Option<PathBuf>,
    /// The app's signing secret: inbound requests must be signed with it.
    pub signing_secret: Option<Secret>,
    pub signing_secret_file: Option<PathBuf>,
    /// The previous signing secret while rotating: requests signed with either are accepted.
    pub previous_signing_secret: Option<Secret>,
    pub previous_signing_secret_file: Option<PathBuf>,
    /// The app-level token (`xapp-...`) for Socket Mode.
    pub app_token: Option<Secret>,
    pub app_token_file: Option<PathBuf>,
    pub mode: SlackMode,
    /// The workspace (team) id Mimi is installed in, e.g. `T0123ABCD`. Requests from other
    /// workspaces are ignored; approvers without their own `team` must belong to it (C06).
    pub team_id: Option<String>,
    /// The Web API base; only tests change it.
    pub api_url: String,
    /// Upper bound on one Web API call.
    pub timeout_seconds: u64,
    /// What each channel may ask about. A channel not listed sees no namespaces.
    pub channels: Vec<SlackChannel>,
}

/// One channel's question scope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackChannel {
    /// The channel id, e.g. `C0123ABCD`.
    pub id: String,
    /// The namespaces questions from this channel may see; omitted: all.
    #[serde(default)]
    pub namespaces: Option<Vec<String>>,
}

impl Default for SlackSettings {
    fn default() -> Self {
        SlackSettings {
            bot_token: None,
            bot_token_file: None,
            signing_secret: None,
            signing_secret_file: None,
            previous_signing_secret: None,
            previous_signing_secret_file: None,
            app_token: None,
            app_token_file: None,
            mode: SlackMode::Socket,
            team_id: None,
            api_url: "https://slack.com/api".into(),
            timeout_seconds: 10,
            channels: Vec::new(),
        }
    }
}

impl SlackSettings {
    pub fn enabled(&self) -> bool {
        self.bot_token.is_some()
    }

    /// The signing secrets accepted now (the current one first).
    pub fn signing_secrets(&self) -> Vec<&Secret> {
        self.signing_secret.iter().chain(self.previous_signing_secret.iter()).collect()
    }
}

/// Slack approver rules without a `team` belong to the workspace Mimi is installed in.
pub(super) fn apply_defaults(s: &mut Settings) {
    let Some(team) = s.slack.team_id.clone() else { return };
    for a in s.policy.approvers.iter_mut().filter(|a| a.platform == Platform::Slack && a.team.is_none()) {
        a.team = Some(team.clone());
    }
}

pub(super) fn validate(s: &SlackSettings, errors: &mut Vec<ConfigError>) {
    let mut err = |key: &str, msg: String| errors.push(ConfigError::new(format!("slack.{key}"), msg));
    let Some(token) = &s.bot_token else {
        if s.signing_secret.is_some() || s.app_token.is_some() || s.team_id.is_some() || !s.channels.is_empty() {
            err("bot_token", "the [slack] section is set but bot_token (or bot_token_file) is not".into());
        }
        return;
    };
    if !token.expose().starts_with("xoxb-") {
        err("bot_token", "must be a bot token (xoxb-...), from OAuth & Permissions in the app's settings".into());
    }
    match s.mode {
        SlackMode::Http if s.signing_secret.is_none() => err(
            "signing_secret",
            "mode = \"http\" needs the app's signing secret (Basic Information > App Credentials)".into(),
        ),
        SlackMode::Socket if s.app_token.is_none() => err(
            "app_token",
            "mode = \"socket\" needs the app-level token (xapp-..., Basic Information > App-Level Tokens, \
             scope connections:write)"
                .into(),
        ),
        _ => {}
    }
    for (key, secret) in [
        ("signing_secret", &s.signing_secret),
        ("previous_signing_secret", &s.previous_signing_secret),
        ("app_token", &s.app_token),
    ] {
        if secret.as_ref().is_some_and(Secret::is_empty) {
            err(key, "is empty".into());
        }
    }
    if s.previous_signing_secret.is_some() && s.signing_secret.is_none() {
        err("signing_secret", "previous_signing_secret is set, so signing_secret is needed".into());
    }
    if s.app_token.as_ref().is_some_and(|t| !t.expose().starts_with("xapp-")) {
        err("app_token", "must be an app-level token (xapp-...)".into());
    }
    match s.team_id.as_deref() {
        None => err("team_id", "is needed: the workspace id (T...), shown by auth.test or in the workspace URL".into()),
        Some(t) if !is_slack_id(t) => err("team_id", format!("{t:?} is not a Slack team id such as T0123ABCD")),
        _ => {}
    }
    if let Err(why) = super::prometheus::check_url(&s.api_url) {
        err("api_url", why);
    }
    if !(1..=120).contains(&s.timeout_seconds) {
        err("timeout_seconds", format!("must be between 1 and 120, got {}", s.timeout_seconds));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, c) in s.channels.iter().enumerate() {
        if !is_slack_id(&c.id) {
            err(&format!("channels[{i}].id"), format!("{:?} is not a Slack channel id such as C0123ABCD", c.id));
        } else if !seen.insert(c.id.as_str()) {
            err(&format!("channels[{i}].id"), format!("{:?} is listed twice", c.id));
        }
        for (j, ns) in c.namespaces.iter().flatten().enumerate() {
            if let Err(e) = crate::domain::names::NamespaceName::parse(ns) {
                err(&format!("channels[{i}].namespaces[{j}]"), e.to_string());
            }
        }
    }
}
