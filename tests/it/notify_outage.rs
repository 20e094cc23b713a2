//! Sinks that are down or slow, with the recording fake sinks of notify.rs: isolation between
//! sinks, the email fallback, every sink down, and the dead man's switch. RELIABILITY B05, B09.

use std::time::{Duration, Instant};

use mimi::config::RouteSettings;
use serde_json::{Value, json};

use crate::notify::{Sinks, delivered, spawn, with_email};
use crate::support::payload::{self, T1};
use crate::support::wait_until;

#[tokio::test]
async fn one_sink_down_and_another_slow_never_delay_the_third() {
    let sinks = Sinks::new();
    sinks.matrix.set_down(true);
    sinks.email.set_delay(Duration::from_secs(5));
    let app = spawn(&sinks, |s| {
        with_email(s);
        s.notify.routes.push(RouteSettings { sink: "email".into(), ..Default::default() });
    })
    .await;
    let started = Instant::now();
    for g in ["x1", "x2", "x3"] {
        app.post_alerts(&payload::one(g)).await;
    }
    delivered(&sinks.slack, 3, "every Slack post").await;
    assert!(started.elapsed() < Duration::from_secs(4), "Slack waited for the others: {:?}", started.elapsed());
    assert!(sinks.matrix.delivered().is_empty());
    sinks.matrix.set_down(false);
    delivered(&sinks.matrix, 3, "Matrix catches up once it is back").await;
}

#[tokio::test]
async fn b05_chat_down_email_takes_over_after_the_delay_and_chat_gets_everything_once_marked_late() {
    let sinks = Sinks::new();
    sinks.slack.set_down(true);
    sinks.matrix.set_down(true);
    let app = spawn(&sinks, |s| {
        with_email(s);
        s.email.fallback_after_seconds = 1;
        s.notify.late_after_seconds = 1;
        s.notify.down_after_failures = 1000; // only the delay triggers the fallback here
    })
    .await;
    app.post_alerts(&payload::one("down")).await;
    let mails = delivered(&sinks.email, 1, "the email fallback").await;
    assert_eq!(mails[0].target, "oncall@example.com");
    assert!(
        mails[0].message.note.as_deref().unwrap().contains("chat delivery has not succeeded"),
        "{:?}",
        mails[0].message.note
    );
    assert!(mails[0].message.title.starts_with("[FIRING] KubePodCrashLooping"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let failed = sinks.slack.calls().len();
    assert!(failed >= 2, "the outbox keeps trying with backoff ({failed} calls)");
    sinks.slack.set_down(false);
    sinks.matrix.set_down(false);
    let slack = delivered(&sinks.slack, 1, "the Slack post once Slack is back").await;
    delivered(&sinks.matrix, 1, "the Matrix post").await;
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sinks.slack.delivered().len(), 1, "delivered once");
    assert_eq!(sinks.email.delivered().len(), 1, "one fallback per incident");
    assert!(
        slack[0].message.note.as_deref().unwrap_or("").contains("Delivered late: this happened at"),
        "{:?}",
        slack[0].message.note
    );
}

#[tokio::test]
async fn b09_every_sink_down_alerts_are_kept_and_readiness_health_and_metrics_say_so() {
    let sinks = Sinks::new();
    for s in [&sinks.slack, &sinks.matrix, &sinks.email] {
        s.set_down(true);
    }
    let app = spawn(&sinks, |s| {
        with_email(s);
        s.notify.down_after_failures = 2;
    })
    .await;
    for g in ["d1", "d2", "d3"] {
        assert_eq!(app.post_alerts(&payload::one(g)).await.status(), 200);
    }
    wait_until(Duration::from_secs(20), "every sink to count as down", || async {
        let h: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
        h["checks"]["chat"]["status"] == "down" && h["checks"]["email"]["status"] == "down"
    })
    .await;
    assert_eq!(app.incidents().await.len(), 3, "the alerts are kept");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "still taking alerts");
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["degraded"].as_array().unwrap().len(), 3, "{body}");
    assert_eq!(app.metric("mimi_sink_up{sink=\"slack\"}").await, 0.0);
    assert!(app.metric("mimi_outbox_depth{sink=\"slack\"}").await >= 3.0);
    // Every chat sink down: the fallback is queued at once (and waits for SMTP too).
    wait_until(Duration::from_secs(10), "the email fallback queued", || async {
        app.metric("mimi_outbox_depth{sink=\"email\"}").await >= 3.0
    })
    .await;
}

#[tokio::test]
async fn the_watchdog_is_a_heartbeat_and_its_silence_and_return_are_told_to_every_sink() {
    let sinks = Sinks::new();
    let app = spawn(&sinks, with_email).await;
    let mut watchdog = payload::one("wd");
    watchdog["alerts"][0]["labels"] = json!({"alertname": "Watchdog", "severity": "none"});
    watchdog["commonLabels"] = json!({"alertname": "Watchdog"});
    for _ in 0..3 {
        let resp = app.post_alerts(&watchdog).await;
        assert_eq!(resp.json::<Value>().await.unwrap()["status"], "heartbeat");
    }
    // A resolved Watchdog is no beat (Prometheus stopped evaluating it).
    let mut stopped = watchdog.clone();
    stopped["status"] = json!("resolved");
    stopped["alerts"][0]["status"] = json!("resolved");
    stopped["alerts"][0]["endsAt"] = json!(T1);
    assert_eq!(app.post_alerts(&stopped).await.status(), 200);
    // Mixed in a group with a real alert: the real one is an incident, the Watchdog is not.
    let mut mixed = payload::one("mixed");
    let mut wd_alert = watchdog["alerts"][0].clone();
    wd_alert["fingerprint"] = json!("fp-wd-2");
    mixed["alerts"].as_array_mut().unwrap().push(wd_alert);
    app.post_alerts(&mixed).await;
    app.settle().await;
    let incidents = app.incidents().await;
    assert_eq!(incidents.len(), 1, "only the real alert opened an incident");
    assert_eq!(app.incident(1).await["alerts"].as_array().unwrap().len(), 1);
    let beats: i64 = sqlx::query_scalar("SELECT beats FROM heartbeats").fetch_one(app.store().reader()).await.unwrap();
    assert_eq!(beats, 4, "every firing repeat is a beat, a resolved one is not");

    // Silence: the last beat was 20 minutes ago.
    sqlx::query("UPDATE heartbeats SET last_seen = last_seen - 1200000").execute(app.store().writer()).await.unwrap();
    for sink in [&sinks.slack, &sinks.matrix, &sinks.email] {
        wait_until(Duration::from_secs(10), "the alarm on every sink", || async {
            sink.delivered().iter().any(|c| c.message.title.contains("Alert pipeline broken"))
        })
        .await;
    }
    assert_eq!(app.metric("mimi_deadman_silent").await, 1.0);
    let h: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(h["checks"]["deadman"]["status"], "down");
    app.post_alerts(&watchdog).await;
    wait_until(Duration::from_secs(10), "the all-clear", || async {
        sinks.slack.delivered().iter().any(|c| c.message.title.contains("Alert pipeline back"))
    })
    .await;
    let alarms = sinks.slack.delivered().iter().filter(|c| c.message.title.contains("broken")).count();
    assert_eq!(alarms, 1, "told once");
}
