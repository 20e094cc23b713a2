//! End to end with a real Alertmanager (Debian `prometheus-alertmanager`): alerts posted to its
//! API v2 arrive as one incident per group, repeat notifications are deduplicated, and resolving
//! the alerts resolves the incidents.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::alertmanager::Alertmanager;
use crate::support::{TestApp, wait_until};

fn alert(name: &str, namespace: &str, pod: &str, ends_at: Option<&str>) -> Value {
    let mut a = json!({
        "labels": {"alertname": name, "namespace": namespace, "pod": pod, "severity": "critical"},
        "annotations": {"summary": format!("{pod} is unhappy")},
        "generatorURL": "http://prometheus:9090/graph",
    });
    if let Some(t) = ends_at {
        a["endsAt"] = json!(t);
    }
    a
}

#[tokio::test]
async fn alerts_through_a_real_alertmanager_become_incidents_deduplicated_and_resolved() {
    let app = TestApp::spawn().await;
    let am = Alertmanager::start(&app.url("/webhook")).await;

    let alerts = json!([
        alert("KubePodCrashLooping", "shop", "checkout-1", None),
        alert("KubePodCrashLooping", "shop", "checkout-2", None),
        alert("KubePodCrashLooping", "hr", "payroll-1", None),
    ]);
    am.post_alerts(&alerts).await;

    // Two groups (alertname, namespace) -> two incidents.
    wait_until(Duration::from_secs(30), "two incidents from Alertmanager", || async {
        let list = app.incidents().await;
        list.len() == 2 && list.iter().all(|i| i["state"] == "notified")
    })
    .await;
    let list = app.incidents().await;
    let shop = list.iter().find(|i| i["namespace"] == "shop").expect("shop incident");
    assert_eq!(shop["firing_alerts"], 2);

    // Alertmanager repeats the unchanged groups (repeat_interval 4s): acknowledged, nothing new.
    wait_until(Duration::from_secs(40), "repeat notifications to be deduplicated", || async {
        app.metric("mimi_webhook_deliveries_total{result=\"duplicate\"}").await >= 1.0
    })
    .await;
    assert_eq!(app.incidents().await.len(), 2);
    assert_eq!(app.metric("mimi_webhook_deliveries_total{result=\"unauthorized\"}").await, 0.0);

    // Resolve everything: Alertmanager sends resolved notifications; the same incidents resolve.
    let now = jiff::Timestamp::now().to_string();
    let resolved = json!([
        alert("KubePodCrashLooping", "shop", "checkout-1", Some(&now)),
        alert("KubePodCrashLooping", "shop", "checkout-2", Some(&now)),
        alert("KubePodCrashLooping", "hr", "payroll-1", Some(&now)),
    ]);
    am.post_alerts(&resolved).await;
    wait_until(Duration::from_secs(30), "both incidents to resolve", || async {
        let list = app.incidents().await;
        list.len() == 2 && list.iter().all(|i| i["state"] == "resolved")
    })
    .await;
    let detail = app.incident(shop["id"].as_i64().unwrap()).await;
    assert!(detail["alerts"].as_array().unwrap().iter().all(|a| a["status"] == "resolved"));
}
