//! Inbound requests as Slack sends them: signed bodies, button clicks, slash commands.

use serde_json::json;

/// Slack's signature headers for `body` at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> (String, String) {
    (timestamp.to_string(), mimi::chat::slack::verify::sign(secret, timestamp, body.as_bytes()))
}

/// A button click as Slack describes it.
pub struct Click<'a> {
    /// The workspace the app is installed in (`team.id`).
    pub team: &'a str,
    /// The clicking user's own workspace (`user.team_id`; another one for Slack Connect guests).
    pub user_team: &'a str,
    pub user: &'a str,
    pub channel: &'a str,
    /// The message the button is on.
    pub ts: &'a str,
    pub action: &'a str,
    pub value: &'a str,
    pub response_url: &'a str,
    pub trigger: &'a str,
}

impl Click<'_> {
    /// The `block_actions` payload, form-encoded as Slack posts it to the interactivity URL.
    pub fn body(&self) -> String {
        let payload = json!({
            "type": "block_actions",
            "team": {"id": self.team, "domain": "acme"},
            "user": {"id": self.user, "username": "someone", "team_id": self.user_team},
            "api_app_id": "A0APP",
            "trigger_id": self.trigger,
            "container": {"type": "message", "message_ts": self.ts, "channel_id": self.channel, "is_ephemeral": false},
            "channel": {"id": self.channel, "name": "ops"},
            "message": {"type": "message", "ts": self.ts, "text": "..."},
            "response_url": self.response_url,
            "actions": [{"type": "button", "action_id": self.action, "block_id": format!("mimi_proposal_{}", self.value),
                         "value": self.value, "action_ts": "1700000001.000001"}],
        });
        url::form_urlencoded::Serializer::new(String::new()).append_pair("payload", &payload.to_string()).finish()
    }
}

/// A `/mimi` slash command body.
pub fn command_body(team: &str, user: &str, channel: &str, text: &str, response_url: &str, trigger: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("token", "deprecated-verification-token"),
            ("team_id", team),
            ("team_domain", "acme"),
            ("channel_id", channel),
            ("channel_name", "ops"),
            ("user_id", user),
            ("user_name", "someone"),
            ("command", "/mimi"),
            ("text", text),
            ("api_app_id", "A0APP"),
            ("response_url", response_url),
            ("trigger_id", trigger),
        ])
        .finish()
}
