//! /health, /healthz, /readyz and /metrics.

use serde_json::Value;

use crate::support::payload::{self, T0, T1, group, resolved};
use crate::support::{TestApp, metric_value};

#[tokio::test]
async fn health_reports_each_dependency() {
    let app = TestApp::spawn().await;
    let health: Value = app.client.get(app.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["checks"]["database"]["status"], "ok");
    assert_eq!(health["checks"]["committer"]["status"], "ok");
    assert_eq!(health["checks"]["worker"]["status"], "ok");
    assert_eq!(health["checks"]["chat"]["status"], "not_configured");
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn metrics_count_deliveries_alerts_incidents_and_steps_with_bounded_labels() {
    let app = TestApp::spawn().await;
    app.post_alerts(&payload::one("m1")).await;
    app.post_alerts(&payload::one("m1")).await;
    app.post_alerts(&payload::one("m2")).await;
    app.post_alerts(&group("m2", vec![resolved("fp-m2", "checkout-1", T0, T1)])).await;
    app.settle().await;
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let v = |s: &str| metric_value(&text, s).unwrap_or_else(|| panic!("{s} missing from\n{text}"));
    assert_eq!(v("mimi_webhook_deliveries_total{result=\"accepted\"}"), 3.0);
    assert_eq!(v("mimi_webhook_deliveries_total{result=\"duplicate\"}"), 1.0);
    assert_eq!(v("mimi_webhook_alerts_total{status=\"firing\"}"), 2.0);
    assert_eq!(v("mimi_webhook_alerts_total{status=\"resolved\"}"), 1.0);
    assert_eq!(v("mimi_incidents{state=\"notified\"}"), 1.0);
    assert_eq!(v("mimi_incidents{state=\"resolved\"}"), 1.0);
    assert_eq!(v("mimi_jobs_queue_depth{step=\"ingest\"}"), 0.0);
    assert!(v("mimi_step_duration_seconds_count{step=\"ingest\",outcome=\"ok\"}") >= 3.0);
    assert!(v("mimi_commit_batch_size_count") >= 1.0);
    assert!(v("mimi_webhook_ack_seconds_count") >= 4.0);
    // No label value may be an id, a fingerprint or a group key.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(!line.contains("fp-m") && !line.contains("m1") && !line.contains("incident_id"), "{line}");
    }
}

#[tokio::test]
async fn stopping_closes_the_listener() {
    let app = TestApp::spawn().await;
    let url = app.url("/readyz");
    let client = app.client.clone();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    app.stop().await;
    assert!(client.get(&url).send().await.is_err(), "the listener is closed after shutdown");
}
