//! Deduplication and the incident lifecycle from alerts (RELIABILITY A04-A09).

use serde_json::{Value, json};

use crate::support::TestApp;
use crate::support::payload::{T0, T1, T2, firing, group, resolved};

fn kinds(detail: &Value) -> Vec<String> {
    detail["timeline"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

async fn count(app: &TestApp, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(app.store().reader()).await.unwrap()
}

#[tokio::test]
async fn a04_the_same_payload_200_times_makes_one_incident_and_every_delivery_is_2xx() {
    let app = TestApp::spawn().await;
    let p = group("crashloop", vec![firing("fp1", "checkout-1", T0), firing("fp2", "checkout-2", T0)]);
    for i in 0..200 {
        let resp = app.post_alerts(&p).await;
        assert_eq!(resp.status(), 200, "delivery {i}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["status"], if i == 0 { "accepted" } else { "duplicate" }, "delivery {i}");
    }
    app.settle().await;
    assert_eq!(app.incidents().await.len(), 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM deliveries").await, 1);
    // One pipeline run: enrich and notify skipped once each (no cluster, no sink), one analysis.
    let detail = app.incident(1).await;
    let steps: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "step_skipped")
        .map(|e| e["detail"]["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["enrich", "notify"]);
    let analyses = detail["timeline"].as_array().unwrap().iter().filter(|e| e["kind"] == "analysis").count();
    assert_eq!(analyses, 1, "the rules analyzed once");
    assert_eq!(app.metric("mimi_webhook_deliveries_total{result=\"duplicate\"}").await, 199.0);
    assert_eq!(app.metric("mimi_webhook_deliveries_total{result=\"accepted\"}").await, 1.0);
}

#[tokio::test]
async fn a04_concurrent_duplicates_are_committed_once() {
    let app = TestApp::spawn().await;
    let p = group("burst", vec![firing("fp1", "checkout-1", T0)]);
    let posts = (0..100).map(|_| app.post_alerts(&p));
    let results = futures::future::join_all(posts).await;
    let mut accepted = 0;
    for r in results {
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        accepted += (body["status"] == "accepted") as usize;
    }
    assert_eq!(accepted, 1);
    app.settle().await;
    assert_eq!(app.incidents().await.len(), 1);
}

#[tokio::test]
async fn a05_two_alertmanager_replicas_delivering_the_same_group_make_one_incident() {
    let app = TestApp::spawn().await;
    let alerts = vec![firing("fp1", "checkout-1", T0)];
    let mut replica_a = group("ha-group", alerts.clone());
    let mut replica_b = group("ha-group", alerts);
    // Each replica has its own external URL and receiver spelling; firing endsAt moves with every
    // Prometheus evaluation. None of that makes it a different notification.
    replica_a["externalURL"] = json!("http://alertmanager-0:9093");
    replica_b["externalURL"] = json!("http://alertmanager-1:9093");
    replica_b["alerts"][0]["endsAt"] = json!("2026-11-20T09:24:00Z");
    assert_eq!(app.post_alerts(&replica_a).await.status(), 200);
    assert_eq!(app.post_alerts(&replica_b).await.status(), 200);
    app.settle().await;
    assert_eq!(app.incidents().await.len(), 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM deliveries").await, 1);
}

#[tokio::test]
async fn a06_resolving_updates_the_incident_in_place() {
    let app = TestApp::spawn().await;
    let g = "resolve-me";
    app.post_alerts(&group(g, vec![firing("fp1", "a", T0), firing("fp2", "b", T0)])).await;
    app.settle().await;
    assert_eq!(app.incident(1).await["state"], "notified");

    // One of two resolves: still open.
    app.post_alerts(&group(g, vec![resolved("fp1", "a", T0, T1), firing("fp2", "b", T0)])).await;
    app.settle().await;
    let detail = app.incident(1).await;
    assert_eq!(detail["state"], "notified");
    assert_eq!(detail["firing_alerts"], 1);

    // Both resolved: the same incident is resolved.
    app.post_alerts(&group(g, vec![resolved("fp1", "a", T0, T1), resolved("fp2", "b", T0, T1)])).await;
    app.settle().await;
    let detail = app.incident(1).await;
    assert_eq!(detail["state"], "resolved");
    assert!(detail["resolved_at"].is_string());
    assert_eq!(detail["alerts"].as_array().unwrap().len(), 2);
    assert!(detail["alerts"].as_array().unwrap().iter().all(|a| a["status"] == "resolved"));
    assert_eq!(app.incidents().await.len(), 1);

    // A late copy of the old firing notification does not bring it back.
    let mut late = group(g, vec![firing("fp1", "a", T0), firing("fp2", "b", T0)]);
    late["alerts"][0]["endsAt"] = json!("2026-11-20T09:21:00Z");
    late["truncatedAlerts"] = json!(0);
    late["receiver"] = json!("mimi-late");
    app.post_alerts(&late).await;
    app.settle().await;
    assert_eq!(app.incident(1).await["state"], "resolved");
    assert_eq!(app.incidents().await.len(), 1);
}

#[tokio::test]
async fn a07_resolved_with_no_known_firing_is_stored_without_running_the_pipeline() {
    let app = TestApp::spawn().await;
    let resp = app.post_alerts(&group("ghost", vec![resolved("fp9", "x", T0, T1)])).await;
    assert_eq!(resp.status(), 200);
    app.settle().await;
    let incidents = app.incidents().await;
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0]["state"], "resolved");
    let detail = app.incident(incidents[0]["id"].as_i64().unwrap()).await;
    assert_eq!(kinds(&detail), ["resolved_without_firing", "notification"]);
}

#[tokio::test]
async fn a08_the_same_fingerprint_firing_again_after_resolving_opens_a_new_episode() {
    let app = TestApp::spawn().await;
    let g = "flappy";
    app.post_alerts(&group(g, vec![firing("fp1", "a", T0)])).await;
    app.post_alerts(&group(g, vec![resolved("fp1", "a", T0, T1)])).await;
    app.settle().await;
    app.post_alerts(&group(g, vec![firing("fp1", "a", T2)])).await;
    app.settle().await;

    let incidents = app.incidents().await;
    assert_eq!(incidents.len(), 2, "never dropped: {incidents:?}");
    let (newest, oldest) = (&incidents[0], &incidents[1]);
    assert_eq!(oldest["episode"], 1);
    assert_eq!(oldest["state"], "resolved");
    assert_eq!(newest["episode"], 2);
    assert_eq!(newest["state"], "notified");
    assert_eq!(newest["group_key"], oldest["group_key"]);
    let detail = app.incident(newest["id"].as_i64().unwrap()).await;
    assert_eq!(kinds(&detail)[0], "reopened");
    assert_eq!(detail["alerts"][0]["starts_at"], T2);
}

#[tokio::test]
async fn a09_a_truncated_group_is_marked_partial() {
    let app = TestApp::spawn().await;
    let mut p = group("big-group", vec![firing("fp1", "a", T0)]);
    p["truncatedAlerts"] = json!(37);
    app.post_alerts(&p).await;
    app.settle().await;
    let detail = app.incident(1).await;
    assert_eq!(detail["truncated_alerts"], 37);
    assert!(kinds(&detail).contains(&"partial".to_string()));
}

#[tokio::test]
async fn deliveries_for_one_group_are_ingested_in_the_order_they_arrived() {
    let app = TestApp::spawn_with(|s| s.worker.concurrency = 4).await;
    // Firing then resolved, back to back, many groups at once: with 4 lanes a resolved notification
    // must never be ingested before its firing one (that would leave the incident open).
    for i in 0..30 {
        let g = format!("order-{i}");
        app.post_alerts(&group(&g, vec![firing("fp", "a", T0)])).await;
        app.post_alerts(&group(&g, vec![resolved("fp", "a", T0, T1)])).await;
    }
    app.settle().await;
    let incidents = app.incidents().await;
    assert_eq!(incidents.len(), 30);
    for i in &incidents {
        assert_eq!(i["state"], "resolved", "{i}");
        assert_eq!(i["episode"], 1, "{i}");
    }
}
