//! The Slack Web API calls Mimi makes, over reqwest (rustls), mapped to the outbox's terms.
//!
//! `chat.postMessage` carries the outbox idempotency key in the message metadata, so that after a
//! crash between posting and recording, `find_by_key` can find the post in the channel or thread
//! history instead of posting twice (B03). A 429 becomes `RateLimited` for exactly `Retry-After`
//! (B06); Slack errors that no retry can fix (`channel_not_found`, `msg_too_long`...) become
//! `Rejected`; credentials problems and 5xx `Unavailable`.

use std::time::Duration;

use anyhow::Context;
use serde_json::{Value, json};

use crate::config::SlackSettings;
use crate::notify::sink::{LimitScope, SinkError};

/// `event_type` of Mimi's message metadata.
pub const METADATA_TYPE: &str = "mimi_message";

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

/// Errors that no retry of this very message fixes.
const REJECTED: &[&str] = &[
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "msg_too_long",
    "no_text",
    "invalid_blocks",
    "invalid_blocks_format",
    "too_many_attachments",
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    "invalid_metadata_format",
    "invalid_metadata_schema",
    "restricted_action",
    "thread_not_found",
    "invalid_arguments",
];

impl Client {
    pub fn new(settings: &SlackSettings) -> anyhow::Result<Client> {
        let token = settings.bot_token.as_ref().context("slack.bot_token is not set")?.expose().to_string();
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds))
            .build()
            .context("failed to build the Slack client")?;
        Ok(Client { http, base: settings.api_url.trim_end_matches('/').to_string(), token })
    }

    /// The Web API base URL (`https://slack.com/api`).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Posts a message (in a thread when `thread_ts` is given); returns its `ts`.
    pub async fn post_message(
        &self,
        channel: &str,
        text: &str,
        blocks: &[Value],
        thread_ts: Option<&str>,
        key: Option<&str>,
    ) -> Result<String, SinkError> {
        let mut body =
            json!({"channel": channel, "text": text, "blocks": blocks, "unfurl_links": false, "unfurl_media": false});
        if let Some(ts) = thread_ts {
            body["thread_ts"] = json!(ts);
        }
        if let Some(key) = key {
            body["metadata"] = json!({"event_type": METADATA_TYPE, "event_payload": {"key": key}});
        }
        let answer = self.call_json("chat.postMessage", &body).await?;
        ts_of(&answer)
    }

    /// Replaces a message's content.
    pub async fn update(&self, channel: &str, ts: &str, text: &str, blocks: &[Value]) -> Result<String, SinkError> {
        let body = json!({"channel": channel, "ts": ts, "text": text, "blocks": blocks});
        let answer = self.call_json("chat.update", &body).await?;
        ts_of(&answer)
    }

    /// The `ts` of the message carrying `key` in its metadata, posted in `channel` since `oldest`
    /// (Unix seconds), or in the thread of `thread_ts`.
    pub async fn find_by_key(
        &self,
        channel: &str,
        thread_ts: Option<&str>,
        oldest: i64,
        key: &str,
    ) -> Result<Option<String>, SinkError> {
        let oldest = oldest.to_string();
        let mut form = vec![("channel", channel), ("include_all_metadata", "true"), ("limit", "200")];
        let method = match thread_ts {
            Some(ts) => {
                form.push(("ts", ts));
                "conversations.replies"
            }
            None => {
                form.push(("oldest", &oldest));
                "conversations.history"
            }
        };
        let answer = self.call_form(method, &form).await?;
        let found = answer["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["metadata"]["event_type"] == METADATA_TYPE && m["metadata"]["event_payload"]["key"] == key);
        Ok(found.and_then(|m| m["ts"].as_str()).map(str::to_string))
    }

    /// The user ids in a user group (`usergroups.users.list`).
    pub async fn usergroup_members(&self, group: &str) -> Result<Vec<String>, SinkError> {
        let answer = self.call_form("usergroups.users.list", &[("usergroup", group)]).await?;
        Ok(answer["users"].as_array().into_iter().flatten().filter_map(|u| u.as_str().map(str::to_string)).collect())
    }

    /// Answers through an interaction's or command's `response_url` (ephemeral by default).
    pub async fn respond(&self, response_url: &str, body: &Value) -> Result<(), SinkError> {
        let resp = self.http.post(response_url).json(body).send().await.map_err(unavailable)?;
        check_status(&resp)?;
        Ok(())
    }

    async fn call_json(&self, method: &str, body: &Value) -> Result<Value, SinkError> {
        let req = self.http.post(format!("{}/{method}", self.base)).bearer_auth(&self.token).json(body);
        self.finish(req).await
    }

    async fn call_form(&self, method: &str, form: &[(&str, &str)]) -> Result<Value, SinkError> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let req = self
            .http
            .post(format!("{}/{method}", self.base))
            .bearer_auth(&self.token)
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        self.finish(req).await
    }

    async fn finish(&self, req: reqwest::RequestBuilder) -> Result<Value, SinkError> {
        let resp = req.send().await.map_err(unavailable)?;
        check_status(&resp)?;
        let answer: Value = resp.json().await.map_err(unavailable)?;
        if answer["ok"] == true {
            return Ok(answer);
        }
        let error = answer["error"].as_str().unwrap_or("unknown_error").to_string();
        Err(match error.as_str() {
            "ratelimited" => SinkError::RateLimited { retry_after: Duration::from_secs(1), scope: LimitScope::Sink },
            e if REJECTED.contains(&e) => SinkError::Rejected(format!("Slack answered {error}")),
            _ => SinkError::Unavailable(format!("Slack answered {error}")),
        })
    }
}

fn check_status(resp: &reqwest::Response) -> Result<(), SinkError> {
    let status = resp.status();
    if status.as_u16() == 429 {
        let seconds = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .clamp(1, 3600);
        // Slack's limits are per method and workspace: the whole sink waits (B06).
        return Err(SinkError::RateLimited { retry_after: Duration::from_secs(seconds), scope: LimitScope::Sink });
    }
    if !status.is_success() {
        return Err(SinkError::Unavailable(format!("Slack answered HTTP {}", status.as_u16())));
    }
    Ok(())
}

fn unavailable(e: reqwest::Error) -> SinkError {
    SinkError::Unavailable(e.without_url().to_string())
}

fn ts_of(answer: &Value) -> Result<String, SinkError> {
    answer["ts"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| SinkError::Unavailable("Slack's answer has no message ts".into()))
}
