//! Slack Socket Mode against the fake Slack's websocket: envelopes are acknowledged (a command's
//! immediate answer in the ack), handled through the same code as the HTTP endpoints, and after a
//! dropped connection or a refresh Mimi reconnects and never handles an event twice (B12).

use std::time::Duration;

use mimi::config::{Secret, SlackMode};
use serde_json::{Value, json};

use crate::slack::{CHANNEL, with_slack};
use crate::support::fake_slack::{APP_TOKEN, FakeSlack, TEAM};
use crate::support::{TestApp, wait_until};

fn mention(envelope: &str, event_id: &str, ts: &str) -> Value {
    json!({
        "envelope_id": envelope, "type": "events_api", "accepts_response_payload": false, "retry_attempt": 0,
        "payload": {
            "token": "x", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback", "event_id": event_id,
            "event": {"type": "app_mention", "user": "UALICE1", "text": "<@UMIMI> incidents recent", "ts": ts, "channel": CHANNEL},
        },
    })
}

async fn acked(fake: &FakeSlack, envelope: &str) -> Value {
    wait_until(Duration::from_secs(10), "the acknowledgement", || async {
        fake.socket_acks().iter().any(|a| a["envelope_id"] == envelope)
    })
    .await;
    fake.socket_acks().into_iter().find(|a| a["envelope_id"] == envelope).unwrap()
}

#[tokio::test]
async fn b12_socket_mode_acks_envelopes_reconnects_after_drops_and_handles_each_event_once() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let f = fake.clone();
    let _app = TestApp::spawn_with(move |s| {
        with_slack(s, &f);
        s.slack.mode = SlackMode::Socket;
        s.slack.app_token = Some(Secret::new(APP_TOKEN));
        s.slack.signing_secret = None;
        s.slack.previous_signing_secret = None;
    })
    .await;
    wait_until(Duration::from_secs(10), "a connection", || async { fake.socket_connections() == 1 }).await;

    // A slash command: help is answered in the acknowledgement itself.
    let fields = json!({"team_id": TEAM, "user_id": "UALICE1", "channel_id": CHANNEL, "command": "/mimi", "text": "help",
                        "response_url": fake.response_url(), "trigger_id": "trig-s1"});
    fake.socket_send(
        json!({"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": true, "payload": fields}),
    );
    let ack = acked(&fake, "env-1").await;
    assert!(ack["payload"]["text"].as_str().unwrap_or_default().contains("Commands"), "{ack}");

    // A mention is answered in its thread.
    let ts = fake.user_message(CHANNEL, "<@UMIMI> incidents recent");
    fake.socket_send(mention("env-2", "Ev-S1", &ts));
    acked(&fake, "env-2").await;
    wait_until(Duration::from_secs(10), "the answer", || async { fake.replies(&ts).len() == 1 }).await;

    // The connection drops; Mimi reconnects (with backoff) and Slack sends the event again.
    fake.socket_drop();
    wait_until(Duration::from_secs(15), "a reconnection", || async { fake.socket_connections() == 2 }).await;
    fake.socket_send(mention("env-3", "Ev-S1", &ts));
    acked(&fake, "env-3").await;

    // Slack refreshes the connection: Mimi opens a new one at once.
    fake.socket_send(json!({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "fake"}}));
    wait_until(Duration::from_secs(10), "a refreshed connection", || async { fake.socket_connections() == 3 }).await;
    fake.socket_send(mention("env-4", "Ev-S1", &ts));
    acked(&fake, "env-4").await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fake.replies(&ts).len(), 1, "the event was handled once across three connections");
}
