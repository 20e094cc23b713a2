//! How a stored object is shown through a resource: as stored, or a core/v1 Event converted to
//! `events.k8s.io/v1` the way the API server converts between the two versions.

use serde_json::{Value, json};

use super::super::resources::{ResourceDef, View};

fn micro_time(t: &Value) -> Value {
    match t.as_str() {
        Some(s) => json!(s.replacen('Z', ".000000Z", 1)),
        None => Value::Null,
    }
}

pub fn present(def: &ResourceDef, o: &Value) -> Value {
    match def.view {
        View::Native => o.clone(),
        View::EventsV1 => {
            let mut e = json!({
                "apiVersion": "events.k8s.io/v1",
                "kind": "Event",
                "metadata": o["metadata"],
                "eventTime": o.get("eventTime").filter(|t| !t.is_null()).cloned().unwrap_or_else(|| micro_time(&o["firstTimestamp"])),
                "reportingController": o.get("reportingComponent").filter(|v| v.as_str().is_some_and(|s| !s.is_empty())).cloned().unwrap_or_else(|| o.pointer("/source/component").cloned().unwrap_or(Value::Null)),
                "reportingInstance": o.get("reportingInstance").cloned().unwrap_or(json!("")),
                "reason": o["reason"],
                "regarding": o["involvedObject"],
                "note": o["message"],
                "type": o["type"],
                "deprecatedSource": o["source"],
                "deprecatedFirstTimestamp": o["firstTimestamp"],
                "deprecatedLastTimestamp": o["lastTimestamp"],
                "deprecatedCount": o["count"],
            });
            if let Some(m) = e.as_object_mut() {
                m.retain(|_, v| !v.is_null());
            }
            e
        }
    }
}
