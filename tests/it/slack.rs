//! Slack against a fake Slack Web API: signed inbound requests (C01, C02, rotation), Events API
//! retries answered once (C13), slash commands, the sink's Block Kit posts with escaping (A13),
//! rate limits (B06), finding a post after a crash (B03) and the email fallback while Slack is
//! down (B05). The full approval flows against the sandbox cluster are in `slack_flow.rs`.

use std::sync::Arc;
use std::time::Duration;

use mimi::app::Overrides;
use mimi::chat::slack::{Client, SlackSink};
use mimi::config::{RateLimit, Secret, Settings, SlackChannel, SlackMode};
use mimi::notify::fake::FakeSink;
use mimi::notify::message::Rendered;
use mimi::notify::sink::{Action, Capabilities, LimitScope, Outgoing, Sink, SinkError};
use serde_json::{Value, json};

use crate::notify::route;
use crate::support::fake_slack::{self, BOT_TOKEN, FakeSlack, SIGNING_SECRET, TEAM};
use crate::support::payload::{T0, firing, group};
use crate::support::{TestApp, wait_until};

pub const CHANNEL: &str = "CPAY01";
pub const OLD_SECRET: &str = "previous-signing-secret-9";

/// `[slack]` pointing at the fake; every incident to CHANNEL; fast outbox.
pub fn with_slack(s: &mut Settings, fake: &FakeSlack) {
    s.slack.bot_token = Some(Secret::new(BOT_TOKEN));
    s.slack.signing_secret = Some(Secret::new(SIGNING_SECRET));
    s.slack.previous_signing_secret = Some(Secret::new(OLD_SECRET));
    s.slack.team_id = Some(TEAM.into());
    s.slack.mode = SlackMode::Http;
    s.slack.api_url = fake.api_url();
    s.slack.channels = vec![SlackChannel { id: CHANNEL.into(), namespaces: Some(vec!["pay".into()]) }];
    s.notify.routes = vec![route("slack", CHANNEL)];
    s.notify.limits.insert("slack".into(), RateLimit { per_second: 100.0, burst: 100 });
    s.notify.backoff_base_ms = 50;
    s.notify.backoff_max_ms = 200;
}

/// POSTs `body` to a Slack endpoint, signed with `secret` at `ts` (now when `None`).
pub async fn post_signed(app: &TestApp, path: &str, body: &str, secret: &str, ts: Option<i64>) -> (u16, String) {
    let ts = ts.unwrap_or_else(|| jiff::Timestamp::now().as_second());
    let (ts, sig) = fake_slack::sign(secret, ts, body);
    let ctype = if path.ends_with("events") { "application/json" } else { "application/x-www-form-urlencoded" };
    let resp = app
        .client
        .post(app.url(path))
        .header("content-type", ctype)
        .header("x-slack-request-timestamp", ts)
        .header("x-slack-signature", sig)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

async fn app_with_slack(fake: &FakeSlack) -> TestApp {
    let fake = fake.clone();
    TestApp::spawn_with(move |s| with_slack(s, &fake)).await
}

async fn seen_rows(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM chat_seen").fetch_one(app.store().reader()).await.unwrap()
}

#[tokio::test]
async fn c01_c02_unsigned_badly_signed_changed_or_stale_requests_get_401_and_change_nothing() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let app = app_with_slack(&fake).await;
    let body = fake_slack::command_body(TEAM, "UALICE", CHANNEL, "incidents", &fake.response_url(), "1.2.3");
    let now = jiff::Timestamp::now().as_second();
    for path in ["/slack/commands", "/slack/interactions", "/slack/events"] {
        // No headers at all.
        let resp = app.client.post(app.url(path)).body(body.clone()).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{path} without a signature");
        // Wrong secret.
        assert_eq!(post_signed(&app, path, &body, "not-the-secret", None).await.0, 401, "{path}");
        // C02: a valid signature over an old timestamp (a replay after 5 minutes).
        assert_eq!(post_signed(&app, path, &body, SIGNING_SECRET, Some(now - 301)).await.0, 401, "{path} stale");
    }
    // The body changed by one byte after signing.
    let (ts, sig) = fake_slack::sign(SIGNING_SECRET, now, &body);
    let changed = body.replacen("incidents", "incidentz", 1);
    let resp = app
        .client
        .post(app.url("/slack/commands"))
        .header("x-slack-request-timestamp", ts)
        .header("x-slack-signature", sig)
        .body(changed)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(fake.calls().is_empty() && fake.responses().is_empty(), "nothing was answered or posted");
    assert_eq!(seen_rows(&app).await, 0, "nothing was recorded");
}

#[tokio::test]
async fn a_request_signed_with_the_previous_secret_is_accepted_during_rotation() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let app = app_with_slack(&fake).await;
    let challenge = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});
    for secret in [SIGNING_SECRET, OLD_SECRET] {
        let (status, text) = post_signed(&app, "/slack/events", &challenge.to_string(), secret, None).await;
        assert_eq!(status, 200, "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap()["challenge"], challenge["challenge"]);
    }
}

fn mention(event_id: &str, ts: &str, text: &str) -> String {
    json!({
        "token": "x", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback",
        "event_id": event_id, "event_time": 1_700_000_000,
        "event": {"type": "app_mention", "user": "UALICE", "text": text, "ts": ts, "channel": CHANNEL, "event_ts": ts},
    })
    .to_string()
}

#[tokio::test]
async fn c13_an_events_api_retry_of_the_same_event_id_is_answered_once() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let app = app_with_slack(&fake).await;
    let ts = fake.user_message(CHANNEL, "<@UMIMI> help");
    let body = mention("Ev0001", &ts, "<@UMIMI> incidents recent");
    assert_eq!(post_signed(&app, "/slack/events", &body, SIGNING_SECRET, None).await.0, 200);
    wait_until(Duration::from_secs(10), "the answer in the thread", || async { !fake.replies(&ts).is_empty() }).await;
    // Slack retries (X-Slack-Retry-Num: 1, 2) when it thinks the first delivery failed.
    for retry in ["1", "2"] {
        let (t, sig) = fake_slack::sign(SIGNING_SECRET, jiff::Timestamp::now().as_second(), &body);
        let resp = app
            .client
            .post(app.url("/slack/events"))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", t)
            .header("x-slack-signature", sig)
            .header("x-slack-retry-num", retry)
            .header("x-slack-retry-reason", "http_timeout")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "a retry is acknowledged");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let replies = fake.replies(&ts);
    assert_eq!(replies.len(), 1, "answered once: {replies:?}");
    assert!(replies[0].text.to_lowercase().contains("incident"), "{}", replies[0].text);
}

#[tokio::test]
async fn slash_commands_answer_usage_at_once_and_the_rest_through_response_url() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let app = app_with_slack(&fake).await;
    let cmd =
        |text: &str, url: &str, trigger: &str| fake_slack::command_body(TEAM, "UALICE", CHANNEL, text, url, trigger);

    let (status, text) =
        post_signed(&app, "/slack/commands", &cmd("help", &fake.response_url(), "t1"), SIGNING_SECRET, None).await;
    assert_eq!(status, 200);
    let help: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(help["response_type"], "ephemeral");
    assert!(help["text"].as_str().unwrap().contains("silence"), "{help}");

    let (_, text) =
        post_signed(&app, "/slack/commands", &cmd("logs $(id)", &fake.response_url(), "t2"), SIGNING_SECRET, None)
            .await;
    assert!(text.contains("Usage: logs POD"), "hostile input is a usage error: {text}");

    let url = fake.response_url();
    let (status, text) =
        post_signed(&app, "/slack/commands", &cmd("incidents recent", &url, "t3"), SIGNING_SECRET, None).await;
    assert_eq!((status, text.as_str()), (200, ""), "acknowledged at once, answered later");
    wait_until(Duration::from_secs(10), "the answer", || async { !fake.responses_to(&url).is_empty() }).await;

    // An approval of a proposal that does not exist, in a channel with no approvers: refused, privately.
    let url = fake.response_url();
    post_signed(&app, "/slack/commands", &cmd("approve p-404", &url, "t4"), SIGNING_SECRET, None).await;
    wait_until(Duration::from_secs(10), "the refusal", || async { !fake.responses_to(&url).is_empty() }).await;
    let refusal = &fake.responses_to(&url)[0];
    assert_eq!(refusal["response_type"], "ephemeral");
    assert!(refusal["text"].as_str().unwrap().contains("no proposal"), "{refusal}");

    // Another workspace's command is not served.
    let other = fake_slack::command_body("TOTHER1", "UEVE", CHANNEL, "incidents", &fake.response_url(), "t5");
    let (_, text) = post_signed(&app, "/slack/commands", &other, SIGNING_SECRET, None).await;
    assert!(text.contains("another Slack workspace"), "{text}");
}

#[tokio::test]
async fn a13_b06_the_incident_post_is_escaped_and_a_429_pauses_slack_for_its_retry_after() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    fake.rate_limit_next(2);
    let app = app_with_slack(&fake).await;
    let hostile = json!("<!channel> see <https://evil.example|grafana> \u{202E}now");
    let mut alert = firing("a13a13a13a13a13a", "checkout-1", T0);
    alert["annotations"]["summary"] = hostile.clone();
    alert["labels"]["pod"] = json!("<!here>");
    let mut payload = group("g-a13", vec![alert]);
    payload["commonAnnotations"]["summary"] = hostile;
    assert_eq!(app.post_alerts(&payload).await.status(), 200);
    wait_until(Duration::from_secs(20), "the post", || async { !fake.top_level(CHANNEL).is_empty() }).await;
    let post = &fake.top_level(CHANNEL)[0];
    let text = post.all_text();
    for bad in ["<!channel>", "<!here>", "<https://evil", "\u{202E}"] {
        assert!(!text.contains(bad), "{bad:?} reached Slack: {text}");
    }
    assert!(text.contains("&lt;!channel&gt;"), "shown escaped: {text}");
    assert_eq!(post.metadata["event_type"], "mimi_message", "the idempotency key rides in the metadata");

    let calls = fake.calls();
    let limited = calls.iter().position(|c| c.outcome == "429").expect("the first call was rate limited");
    let next = &calls[limited + 1];
    let waited = next.at.duration_since(calls[limited].at);
    assert!(waited >= Duration::from_millis(1950), "no call for Retry-After: 2 s, waited {waited:?}");
}

fn outgoing<'a>(key: &'a str, action: Action<'a>, msg: &'a Rendered) -> Outgoing<'a> {
    Outgoing {
        idempotency_key: key,
        target: CHANNEL,
        action,
        message: msg,
        original_at: jiff::Timestamp::now(),
        attempt: 1,
    }
}

#[tokio::test]
async fn b03_the_sink_finds_a_post_by_its_key_after_a_crash_and_maps_slack_errors() {
    crate::support::http();
    let fake = FakeSlack::start(&[CHANNEL]).await;
    let mut settings = Settings::default();
    let dir = tempfile::tempdir().unwrap();
    with_slack(&mut settings, &fake);
    settings.data_dir = dir.path().into();
    let sink = SlackSink::new(Client::new(&settings.slack).unwrap());
    let msg = Rendered { title: "[FIRING] X pay/a".into(), lines: vec!["summary".into()], ..Rendered::default() };

    let ts = sink.send(&outgoing("slack|CPAY01|1|1", Action::Post, &msg)).await.unwrap().0;
    let found = sink.lookup(&outgoing("slack|CPAY01|1|1", Action::Post, &msg)).await.unwrap();
    assert_eq!(found.map(|m| m.0), Some(ts.clone()), "found by the key in its metadata");
    assert_eq!(sink.lookup(&outgoing("slack|CPAY01|2|1", Action::Post, &msg)).await.unwrap(), None);
    let reply = Action::Reply { root: &ts, parent: &ts };
    let reply_ts = sink.send(&outgoing("slack|CPAY01|1|reply|1", reply, &msg)).await.unwrap().0;
    let found = sink.lookup(&outgoing("slack|CPAY01|1|reply|1", reply, &msg)).await.unwrap();
    assert_eq!(found.map(|m| m.0), Some(reply_ts));

    let edited = sink.send(&outgoing("slack|CPAY01|1|edit|1", Action::Edit { message: &ts }, &msg)).await.unwrap();
    assert_eq!(edited.0, ts, "an edit keeps the message's ts");

    fake.rate_limit_next(30);
    let err = sink.send(&outgoing("k2", Action::Post, &msg)).await.unwrap_err();
    assert_eq!(err, SinkError::RateLimited { retry_after: Duration::from_secs(30), scope: LimitScope::Sink });
    fake.fail_next_with_5xx(1);
    assert!(matches!(sink.send(&outgoing("k3", Action::Post, &msg)).await, Err(SinkError::Unavailable(_))));
    let unknown = Outgoing { target: "CNOWHERE", ..outgoing("k4", Action::Post, &msg) };
    assert!(matches!(sink.send(&unknown).await, Err(SinkError::Rejected(_))), "channel_not_found is final");
    let wrong_token = {
        let mut s = settings.slack.clone();
        s.bot_token = Some(Secret::new("xoxb-wrong"));
        s
    };
    let sink = SlackSink::new(Client::new(&wrong_token).unwrap());
    assert!(matches!(sink.send(&outgoing("k5", Action::Post, &msg)).await, Err(SinkError::Unavailable(_))));
}

#[tokio::test]
async fn b06_slacks_per_channel_limit_is_waited_out_and_every_incident_is_posted_once() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    fake.limit_posts_per_channel(1);
    let app = app_with_slack(&fake).await;
    for g in ["g-one", "g-two", "g-three"] {
        let payload = group(g, vec![firing(&format!("fp{g}"), "checkout-1", T0)]);
        assert_eq!(app.post_alerts(&payload).await.status(), 200);
    }
    wait_until(Duration::from_secs(30), "three posts", || async { fake.top_level(CHANNEL).len() >= 3 }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts: Vec<Value> = fake
        .calls()
        .into_iter()
        .filter(|c| c.method == "chat.postMessage" && c.outcome == "ok" && c.body.get("thread_ts").is_none())
        .map(|c| c.body["metadata"]["event_payload"]["key"].clone())
        .collect();
    assert_eq!(posts.len(), 3, "each incident posted once: {posts:?}");
    assert!(fake.calls().iter().any(|c| c.outcome == "429"), "the fake's limit was hit");
}

#[tokio::test]
async fn b05_slack_down_email_takes_over_and_slack_gets_the_post_once_when_back_marked_late() {
    let fake = FakeSlack::start(&[CHANNEL]).await;
    fake.fail_next_with_5xx(1_000_000);
    let email =
        Arc::new(FakeSink::chat("email").with_capabilities(Capabilities { edits: false, threads: true, chat: false }));
    let (f, sinks) = (fake.clone(), vec![email.clone() as Arc<dyn Sink>]);
    let app = TestApp::spawn_full(
        move |s| {
            with_slack(s, &f);
            s.email.smtp_host = Some("127.0.0.1".into());
            s.email.from = Some("mimi@example.com".into());
            s.email.to = vec!["oncall@example.com".into()];
            s.email.fallback_after_seconds = 1;
            s.notify.late_after_seconds = 1;
            s.notify.down_after_failures = 1000; // only the delay triggers the fallback here
        },
        Overrides { sinks, ..Overrides::default() },
    )
    .await;
    app.post_alerts(&group("g-b05", vec![firing("b05b05b05b05b05b", "checkout-1", T0)])).await;
    wait_until(Duration::from_secs(20), "the email fallback", || async { !email.delivered().is_empty() }).await;
    assert!(fake.calls().iter().filter(|c| c.outcome == "503").count() >= 1, "Slack was tried");
    fake.fail_next_with_5xx(0);
    wait_until(Duration::from_secs(30), "the Slack post once Slack is back", || async {
        !fake.top_level(CHANNEL).is_empty()
    })
    .await;
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = fake.top_level(CHANNEL);
    assert_eq!(posts.len(), 1, "delivered once");
    assert!(posts[0].all_text().contains("Delivered late"), "marked with the original time: {}", posts[0].all_text());
    assert_eq!(email.delivered().len(), 1, "one fallback");
}
