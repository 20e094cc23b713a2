//! Silences through the Alertmanager API v2 (`POST /api/v2/silences`), created by the chat user.
//!
//! Matchers are exact (`isEqual`, no regex) and built from labels Mimi stored for the alert or the
//! incident, never from chat text; the person only picks the target and the duration.

use std::time::Duration;

use anyhow::Context;
use serde::Deserialize;
use serde_json::json;

use crate::config::AlertmanagerSettings;
use crate::domain::alert::Labels;

/// A client for one Alertmanager.
#[derive(Clone)]
pub struct Alertmanager {
    http: reqwest::Client,
    silences_url: String,
    token: Option<String>,
}

/// A silence Alertmanager created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub ends_at: jiff::Timestamp,
}

/// Why no silence was made: Alertmanager's answer (shown to the person), or unreachable.
#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    #[error("{0}")]
    Refused(String),
    #[error("Alertmanager is unreachable ({0})")]
    Unreachable(String),
}

#[derive(Deserialize)]
struct Response {
    #[serde(rename = "silenceID")]
    silence_id: String,
}

impl Alertmanager {
    pub fn new(settings: &AlertmanagerSettings) -> anyhow::Result<Option<Alertmanager>> {
        let Some(url) = &settings.url else { return Ok(None) };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(settings.timeout_seconds))
            .build()
            .context("failed to build the Alertmanager client")?;
        Ok(Some(Alertmanager {
            http,
            silences_url: format!("{}/api/v2/silences", url.trim_end_matches('/')),
            token: settings.bearer_token.as_ref().map(|t| t.expose().to_string()),
        }))
    }

    /// Creates a silence matching `labels` exactly from now for `duration`.
    pub async fn silence(
        &self,
        labels: &Labels,
        duration: Duration,
        created_by: &str,
        comment: &str,
    ) -> Result<Created, SilenceError> {
        let now = jiff::Timestamp::now();
        let ends_at = now
            .checked_add(jiff::SignedDuration::try_from(duration).map_err(|e| SilenceError::Refused(e.to_string()))?)
            .map_err(|e| SilenceError::Refused(e.to_string()))?;
        let matchers: Vec<_> = labels
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value, "isRegex": false, "isEqual": true}))
            .collect();
        let body = json!({
            "matchers": matchers,
            "startsAt": now.to_string(),
            "endsAt": ends_at.to_string(),
            "createdBy": created_by,
            "comment": comment,
        });
        let mut req = self.http.post(&self.silences_url).json(&body);
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        let resp = req.send().await.map_err(|e| SilenceError::Unreachable(e.without_url().to_string()))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| SilenceError::Unreachable(e.without_url().to_string()))?;
        if !status.is_success() {
            let why: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
            return Err(if status.is_server_error() {
                SilenceError::Unreachable(format!("HTTP {status}"))
            } else {
                SilenceError::Refused(format!("HTTP {}: {}", status.as_u16(), why.trim()))
            });
        }
        let parsed: Response =
            serde_json::from_str(&text).map_err(|e| SilenceError::Refused(format!("unexpected answer: {e}")))?;
        Ok(Created { id: parsed.silence_id, ends_at })
    }
}

/// `alertname="X", namespace="y"` for the answer.
pub fn describe(labels: &Labels) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect::<Vec<_>>().join(", ")
}
