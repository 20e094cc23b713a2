//! The outbox with recording fake sinks standing in for Slack and Matrix (and email where no real
//! SMTP server is needed): routing, pacing, Retry-After, retries, ordering, roll-up. RELIABILITY
//! A06, B03, B06, B07, G01 (shape). Sinks that are down: notify_outage.rs.

use std::sync::Arc;
use std::time::Duration;

use mimi::config::{RateLimit, RouteSettings, Settings};
use mimi::domain::approver::Platform;
use mimi::notify::fake::FakeSink;
use mimi::notify::sink::{Capabilities, LimitScope};
use serde_json::{Value, json};

use crate::support::payload::{self, T0, T1, firing, group, resolved};
use crate::support::{TestApp, wait_until};

pub const SLACK_CHANNEL: &str = "CSHOP01";
pub const MATRIX_ROOM: &str = "!ops:example.org";

pub struct Sinks {
    pub slack: Arc<FakeSink>,
    pub matrix: Arc<FakeSink>,
    pub email: Arc<FakeSink>,
}

impl Sinks {
    pub fn new() -> Sinks {
        let email =
            FakeSink::chat("email").with_capabilities(Capabilities { edits: false, threads: true, chat: false });
        Sinks {
            slack: Arc::new(FakeSink::chat("slack").with_platform(Platform::Slack)),
            matrix: Arc::new(FakeSink::chat("matrix").with_platform(Platform::Matrix)),
            email: Arc::new(email),
        }
    }

    pub fn overrides(&self) -> mimi::app::Overrides {
        mimi::app::Overrides {
            sinks: vec![self.slack.clone(), self.matrix.clone(), self.email.clone()],
            ..Default::default()
        }
    }
}

pub fn route(sink: &str, target: &str) -> RouteSettings {
    RouteSettings { sink: sink.into(), target: Some(target.into()), continue_matching: true, ..Default::default() }
}

/// Every incident to Slack and Matrix, email as the fallback; fast pacing and retries for tests.
pub fn routed(s: &mut Settings) {
    s.notify.routes = vec![route("slack", SLACK_CHANNEL), route("matrix", MATRIX_ROOM)];
    for sink in ["slack", "matrix", "email"] {
        s.notify.limits.insert(sink.into(), RateLimit { per_second: 100.0, burst: 100 });
    }
    s.notify.backoff_base_ms = 50;
    s.notify.backoff_max_ms = 200;
    s.email.smtp_host = None;
    s.email.to = vec!["oncall@example.com".into()];
    s.email.fallback_after_seconds = 3600;
}

/// Email counts as configured for routing (its recipients) though the sink is a fake.
pub fn with_email(s: &mut Settings) {
    routed(s);
    s.email.smtp_host = Some("127.0.0.1".into());
    s.email.from = Some("mimi@example.com".into());
}

pub async fn spawn(sinks: &Sinks, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    TestApp::spawn_full(adjust, sinks.overrides()).await
}

pub async fn delivered(sink: &FakeSink, n: usize, what: &str) -> Vec<mimi::notify::fake::Call> {
    wait_until(Duration::from_secs(20), what, || async { sink.delivered().len() >= n }).await;
    sink.delivered()
}

async fn outbox(app: &TestApp) -> Vec<Value> {
    let rows: Vec<(String, String, String, String, Option<String>)> =
        sqlx::query_as("SELECT sink, kind, subject, state, message_ref FROM outbox ORDER BY id")
            .fetch_all(app.store().reader())
            .await
            .unwrap();
    rows.into_iter().map(|(sink, kind, subject, state, r)| json!({"sink": sink, "kind": kind, "subject": subject, "state": state, "ref": r})).collect()
}

#[tokio::test]
async fn a06_an_incident_is_posted_to_each_route_then_edited_and_replied_to_when_it_resolves() {
    let sinks = Sinks::new();
    let app = spawn(&sinks, routed).await;
    app.post_alerts(&payload::one("g1")).await;
    let slack = delivered(&sinks.slack, 1, "the Slack post").await;
    let matrix = delivered(&sinks.matrix, 1, "the Matrix post").await;
    assert_eq!((slack[0].kind, slack[0].target.as_str()), ("post", SLACK_CHANNEL));
    assert_eq!((matrix[0].kind, matrix[0].target.as_str()), ("post", MATRIX_ROOM));
    assert_eq!(slack[0].message.title, "[FIRING] KubePodCrashLooping shop/checkout-1");
    assert!(sinks.email.calls().is_empty(), "email is only the fallback here");

    app.post_alerts(&group("g1", vec![resolved("fp-g1", "checkout-1", T0, T1)])).await;
    let slack = delivered(&sinks.slack, 3, "the edit and the reply").await;
    let (edit, reply) = (&slack[1], &slack[2]);
    assert_eq!(edit.kind, "edit");
    assert_eq!(edit.of.as_deref(), slack[0].result.as_ref().ok().map(String::as_str), "edits the posted message");
    assert!(edit.message.title.starts_with("[RESOLVED]"), "{}", edit.message.title);
    assert_eq!(reply.kind, "reply");
    assert!(reply.message.text.contains("Resolved"), "{}", reply.message.text);
    app.settle().await;
    let detail = app.incident(1).await;
    let kinds: Vec<&str> = detail["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"notify_queued"), "{kinds:?}");
}

#[tokio::test]
async fn without_a_sink_the_notify_step_is_skipped_as_not_configured() {
    let app = TestApp::spawn().await;
    app.post_alerts(&payload::one("n")).await;
    app.settle().await;
    let detail = app.incident(1).await;
    let skipped = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "step_skipped" && e["detail"]["step"] == "notify");
    assert!(skipped.unwrap()["detail"]["reason"].as_str().unwrap().starts_with("skipped: not configured"));
}

#[tokio::test]
async fn b06_after_a_retry_after_no_call_reaches_the_sink_before_it_has_passed() {
    let sinks = Sinks::new();
    sinks.slack.rate_limit_next(Duration::from_secs(3), LimitScope::Sink);
    let app = spawn(&sinks, routed).await;
    app.post_alerts(&payload::one("a")).await;
    app.post_alerts(&payload::one("b")).await;
    let ok = delivered(&sinks.slack, 2, "both posts after the wait").await;
    let calls = sinks.slack.calls();
    let limited = calls.iter().find(|c| !c.ok()).expect("the 429");
    let after: Vec<_> = calls.iter().filter(|c| c.at > limited.at).collect();
    let first_after = after.iter().map(|c| c.at).min().unwrap();
    assert!(
        first_after - limited.at >= Duration::from_millis(2950),
        "a call came {:?} after the 429",
        first_after - limited.at
    );
    assert_eq!(ok.len(), 2);
    // Matrix was never held up by Slack's limit.
    assert!(sinks.matrix.delivered().iter().all(|c| c.at < limited.at + Duration::from_secs(2)));
}

#[tokio::test]
async fn b07_a_rate_limited_matrix_send_waits_and_resends_with_the_same_transaction_id() {
    let sinks = Sinks::new();
    sinks.matrix.set_idempotent_keys(true);
    sinks.matrix.rate_limit_next(Duration::from_millis(1500), LimitScope::Sink);
    let app = spawn(&sinks, routed).await;
    app.post_alerts(&payload::one("m")).await;
    delivered(&sinks.matrix, 1, "the Matrix post").await;
    let calls = sinks.matrix.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert_eq!(calls[0].key, calls[1].key, "the resend reuses the transaction id");
    assert!(calls[1].at - calls[0].at >= Duration::from_millis(1450));
    // A second copy of the same transaction (a lost response) is still one event. (The fake has
    // the post before the outbox records it as sent.)
    let sent = |rows: &[Value]| rows.iter().filter(|r| r["sink"] == "matrix" && r["state"] == "sent").count();
    wait_until(Duration::from_secs(10), "the Matrix post recorded as sent", || async {
        sent(&outbox(&app).await) >= 1
    })
    .await;
    let rows = outbox(&app).await;
    assert_eq!(sent(&rows), 1, "{rows:?}");
}

#[tokio::test]
async fn b03_a_send_whose_result_was_not_recorded_is_found_or_sent_once_more() {
    let sinks = Sinks::new();
    sinks.slack.set_lookup(true);
    let app = spawn(&sinks, routed).await;
    app.post_alerts(&payload::one("c")).await;
    delivered(&sinks.slack, 1, "the Slack post").await;
    delivered(&sinks.matrix, 1, "the Matrix post").await;
    app.settle().await;
    let dir = app.stop().await;
    // The crash: both platforms have the message, the database does not know (as if killed
    // between the send and its record).
    let db = mimi::store::Store::open(&mimi::store::StoreOptions::new(dir.path().join("mimi.db"))).await.unwrap();
    sqlx::query("UPDATE outbox SET state = 'sending', message_ref = NULL, sent_at = NULL")
        .execute(db.writer())
        .await
        .unwrap();
    db.close().await;
    let mut settings = crate::support::test_settings(dir.path());
    routed(&mut settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = mimi::app::start_with(settings, Some(listener), sinks.overrides()).await.unwrap();
    // Slack can be asked (message metadata): recorded, not sent again. Matrix here cannot: sent
    // again, once — one duplicate at most.
    let store = running.store.clone();
    wait_until(Duration::from_secs(10), "both rows reconciled", || async {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'sent'")
            .fetch_one(store.reader())
            .await
            .unwrap();
        n == 2
    })
    .await;
    assert_eq!(sinks.slack.calls().len(), 1, "found by lookup: no duplicate");
    assert_eq!(sinks.matrix.delivered().len(), 2, "no lookup: exactly one duplicate");
    let refs: Vec<Option<String>> =
        sqlx::query_scalar("SELECT message_ref FROM outbox ORDER BY id").fetch_all(store.reader()).await.unwrap();
    assert_eq!(
        refs[0].as_deref(),
        sinks.slack.calls()[0].result.as_ref().ok().map(String::as_str),
        "the found message's id is kept for later edits"
    );
    running.stop().await.unwrap();
}

#[tokio::test]
async fn g01_a_burst_for_one_channel_is_rolled_up_paced_and_fully_delivered() {
    let sinks = Sinks::new();
    let app = spawn(&sinks, |s| {
        routed(s);
        s.notify.routes = vec![route("slack", SLACK_CHANNEL)];
        s.notify.limits.insert("slack".into(), RateLimit { per_second: 4.0, burst: 1 });
        s.notify.rollup_threshold = 3;
    })
    .await;
    for i in 0..12 {
        app.post_alerts(&group(&format!("burst-{i}"), vec![firing(&format!("fp{i}"), &format!("web-{i}"), T0)])).await;
    }
    wait_until(Duration::from_secs(30), "every incident message delivered", || async {
        sinks.slack.delivered().iter().filter(|c| c.message.incident_id.is_some()).count() == 12
    })
    .await;
    let calls = sinks.slack.delivered();
    let summaries: Vec<_> = calls.iter().filter(|c| c.kind == "post" && c.message.incident_id.is_none()).collect();
    assert!(!summaries.is_empty(), "a summary was posted");
    let threaded = calls.iter().filter(|c| c.kind == "reply" && c.message.incident_id.is_some()).count();
    let top = calls.iter().filter(|c| c.kind == "post").count();
    assert!(threaded >= 6 && top <= 6, "{threaded} threaded, {top} top-level posts");
    // Never faster than the channel's limit (4/s, no burst): 250 ms between calls.
    let all = sinks.slack.calls();
    for pair in all.windows(2) {
        assert!(pair[1].at - pair[0].at >= Duration::from_millis(240), "{:?}", pair[1].at - pair[0].at);
    }
    assert!(app.metric("mimi_outbox_rolled_up_total{sink=\"slack\"}").await >= 6.0);
}

#[test]
fn mimi_check_names_the_active_sinks_and_warns_about_routes_it_cannot_serve() {
    let mut s = Settings::default();
    s.email.smtp_host = Some("smtp.example.com".into());
    s.email.from = Some("mimi@example.com".into());
    s.email.to = vec!["oncall@example.com".into()];
    s.notify.routes = vec![route("slack", SLACK_CHANNEL)];
    let r = mimi::config::report(&s);
    let enabled: Vec<String> = r.enabled.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    assert!(enabled.iter().any(|e| e.starts_with("sink email: SMTP smtp.example.com:587 (STARTTLS")), "{enabled:?}");
    assert!(enabled.iter().any(|e| e.starts_with("step notify: active sinks: email")), "{enabled:?}");
    assert!(enabled.iter().any(|e| e.starts_with("dead man's switch")), "{enabled:?}");
    assert!(r.warnings.iter().any(|w| w.contains("notify.routes[0] sends to slack")), "{:?}", r.warnings);
}
