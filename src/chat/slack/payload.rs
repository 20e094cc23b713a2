//! Slack's inbound payloads as Mimi reads them, and small helpers for answering.

use serde::Deserialize;
use serde_json::{Value, json};

use super::render;

pub(super) fn ephemeral(text: &str) -> Value {
    let (text, blocks) = render::answer(text);
    json!({"response_type": "ephemeral", "replace_original": false, "text": text, "blocks": blocks})
}

/// `<@U123> what is wrong` -> `what is wrong`.
pub(super) fn strip_mentions(text: &str) -> String {
    let mut rest = text.trim();
    while let Some(after) = rest.strip_prefix("<@") {
        match after.find('>') {
            Some(end) => rest = after[end + 1..].trim_start(),
            None => break,
        }
    }
    rest.to_string()
}

pub(super) fn form_pairs(body: &[u8]) -> Result<Vec<(String, String)>, ()> {
    std::str::from_utf8(body).map_err(drop)?;
    Ok(url::form_urlencoded::parse(body).into_owned().collect())
}

#[derive(Debug, Deserialize)]
pub(super) struct Interaction {
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) team: Team,
    pub(super) user: User,
    #[serde(default)]
    pub(super) trigger_id: String,
    #[serde(default)]
    pub(super) response_url: Option<String>,
    #[serde(default)]
    pub(super) container: Option<Container>,
    #[serde(default)]
    pub(super) actions: Vec<ActionPayload>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Team {
    pub(super) id: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct User {
    pub(super) id: String,
    /// The user's own workspace (differs from `team.id` for Slack Connect guests).
    #[serde(default)]
    pub(super) team_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Container {
    #[serde(default)]
    pub(super) message_ts: Option<String>,
    #[serde(default)]
    pub(super) channel_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ActionPayload {
    pub(super) action_id: String,
    #[serde(default)]
    pub(super) value: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_stripped_from_the_front_only() {
        assert_eq!(strip_mentions("<@U1> pods -n shop"), "pods -n shop");
        assert_eq!(strip_mentions("  <@U1> <@U2>   help"), "help");
        assert_eq!(strip_mentions("ask <@U1>"), "ask <@U1>");
        assert_eq!(strip_mentions("<@U1"), "<@U1");
    }

    #[test]
    fn ephemeral_answers_are_escaped() {
        let v = ephemeral("<!channel> & co");
        assert_eq!(v["text"], "&lt;!channel&gt; &amp; co");
        assert_eq!(v["response_type"], "ephemeral");
    }
}
