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

#[tokio::test]
async fn the_grafana_dashboard_only_queries_metrics_mimi_exports() {
    let app = TestApp::spawn().await;
    app.post_alerts(&payload::one("d")).await;
    app.settle().await;
    let text = app.client.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    // Sample names as scraped, from the # TYPE lines (a family with no samples yet still counts).
    let mut exported = std::collections::HashSet::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        if let (Some("#"), Some("TYPE"), Some(family), Some(kind)) =
            (words.next(), words.next(), words.next(), words.next())
        {
            let suffixes: &[&str] = match kind {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[""],
            };
            exported.extend(suffixes.iter().map(|s| format!("{family}{s}")));
        }
    }
    let dashboard =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/k8s/grafana-dashboard.json")).unwrap();
    let json: Value = serde_json::from_str(&dashboard).unwrap();
    let mut used = Vec::new();
    for panel in json["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(i) = rest.find("mimi_") {
                let name: String = rest[i..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                rest = &rest[i + name.len()..];
                used.push(name);
            }
        }
    }
    assert!(used.len() >= 12, "{used:?}");
    for name in used {
        assert!(exported.contains(&name), "dashboard queries {name}, which /metrics does not export");
    }
}
