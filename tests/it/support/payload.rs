//! Alertmanager webhook payloads (version 4) for tests.

use serde_json::{Value, json};

pub const T0: &str = "2026-11-20T09:20:00Z";
pub const T1: &str = "2026-11-20T09:40:00Z";
pub const T2: &str = "2026-11-20T11:00:00Z";

/// One alert of a payload.
pub fn firing(fingerprint: &str, pod: &str, starts_at: &str) -> Value {
    json!({
        "status": "firing",
        "labels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "pod": pod, "severity": "critical"},
        "annotations": {"summary": format!("Pod {pod} is crash looping.")},
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=x",
        "fingerprint": fingerprint,
    })
}

pub fn resolved(fingerprint: &str, pod: &str, starts_at: &str, ends_at: &str) -> Value {
    let mut a = firing(fingerprint, pod, starts_at);
    a["status"] = json!("resolved");
    a["endsAt"] = json!(ends_at);
    a
}

/// A payload for group `group` (the groupKey) with these alerts; status follows the alerts.
pub fn group(group: &str, alerts: Vec<Value>) -> Value {
    let any_firing = alerts.iter().any(|a| a["status"] == "firing");
    json!({
        "version": "4",
        "groupKey": group,
        "truncatedAlerts": 0,
        "status": if any_firing { "firing" } else { "resolved" },
        "receiver": "mimi",
        "groupLabels": {"alertname": "KubePodCrashLooping", "namespace": "shop"},
        "commonLabels": {"alertname": "KubePodCrashLooping", "namespace": "shop", "severity": "critical"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    })
}

/// The simplest valid payload: one firing alert in group `g`.
pub fn one(g: &str) -> Value {
    group(g, vec![firing(&format!("fp-{g}"), "checkout-1", T0)])
}
