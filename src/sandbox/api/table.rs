//! Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for (`Accept: ...;as=Table`), with
//! the columns `kubectl get` shows for the common kinds; plain JSON lists otherwise.
//!
//! Invariant: a Table row carries the object's metadata (kubectl adds NAMESPACE and labels from
//! it); clients that did not ask for a Table get the object or list unchanged.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::object;
use super::super::ops::{Page, present};
use super::super::resources::{Kind, ResourceDef, View};
use super::json_response;

pub fn wants_table(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("as=Table"))
}

/// Kubernetes' short human durations: `45s`, `5m10s`, `3h`, `2d4h`, `90d`.
pub fn age(created: &str, now: Timestamp) -> String {
    let Ok(t) = created.parse::<Timestamp>() else {
        return "<unknown>".into();
    };
    let s = now.duration_since(t).as_secs().max(0);
    let (m, h, d) = (s / 60, s / 3600, s / 86400);
    match s {
        _ if s < 120 => format!("{s}s"),
        _ if m < 10 && s % 60 == 0 => format!("{m}m"),
        _ if m < 10 => format!("{m}m{}s", s % 60),
        _ if h < 3 => format!("{m}m"),
        _ if h < 8 => format!("{h}h{}m", m % 60),
        _ if h < 48 => format!("{h}h"),
        _ if d < 8 && h % 24 == 0 => format!("{d}d"),
        _ if d < 8 => format!("{d}d{}h", h % 24),
        _ => format!("{d}d"),
    }
}

fn col(name: &str, ty: &str, priority: u8) -> Value {
    json!({"name": name, "type": ty, "format": if name == "Name" { "name" } else { "" }, "description": "", "priority": priority})
}

fn pod_status(p: &Value) -> String {
    let statuses = p.pointer("/status/containerStatuses").and_then(Value::as_array);
    for s in statuses.into_iter().flatten() {
        if let Some(r) = s.pointer("/state/waiting/reason").and_then(Value::as_str) {
            return r.to_string();
        }
        if let Some(r) = s.pointer("/state/terminated/reason").and_then(Value::as_str) {
            return r.to_string();
        }
    }
    object::str_at(p, "/status/reason").or(object::str_at(p, "/status/phase")).unwrap_or("Unknown").to_string()
}

fn columns_and_cells(def: &ResourceDef, o: &Value, now: Timestamp) -> (Vec<Value>, Vec<Value>) {
    let name = json!(object::name(o));
    let created = object::str_at(o, "/metadata/creationTimestamp").unwrap_or_default();
    let age_cell = json!(age(created, now));
    let int = |p: &str| object::int_at(o, p).unwrap_or(0);
    let s = |n| col(n, "string", 0);
    let i = |n| col(n, "integer", 0);
    match def.kind {
        Kind::Pod => {
            let statuses =
                o.pointer("/status/containerStatuses").and_then(Value::as_array).cloned().unwrap_or_default();
            let total = o.pointer("/spec/containers").and_then(Value::as_array).map_or(0, Vec::len);
            let ready = statuses.iter().filter(|s| s["ready"] == true).count();
            let restarts: i64 = statuses.iter().filter_map(|s| s["restartCount"].as_i64()).sum();
            (
                vec![
                    s("Name"),
                    s("Ready"),
                    s("Status"),
                    i("Restarts"),
                    s("Age"),
                    col("IP", "string", 1),
                    col("Node", "string", 1),
                ],
                vec![
                    name,
                    json!(format!("{ready}/{total}")),
                    json!(pod_status(o)),
                    json!(restarts),
                    age_cell,
                    json!(object::str_at(o, "/status/podIP").unwrap_or("<none>")),
                    json!(object::str_at(o, "/spec/nodeName").unwrap_or("<none>")),
                ],
            )
        }
        Kind::Deployment => (
            vec![s("Name"), s("Ready"), i("Up-to-date"), i("Available"), s("Age")],
            vec![
                name,
                json!(format!("{}/{}", int("/status/readyReplicas"), object::replicas(o))),
                json!(int("/status/updatedReplicas")),
                json!(int("/status/availableReplicas")),
                age_cell,
            ],
        ),
        Kind::ReplicaSet => (
            vec![s("Name"), i("Desired"), i("Current"), i("Ready"), s("Age")],
            vec![
                name,
                json!(object::replicas(o)),
                json!(int("/status/replicas")),
                json!(int("/status/readyReplicas")),
                age_cell,
            ],
        ),
        Kind::StatefulSet => (
            vec![s("Name"), s("Ready"), s("Age")],
            vec![name, json!(format!("{}/{}", int("/status/readyReplicas"), object::replicas(o))), age_cell],
        ),
        Kind::DaemonSet => (
            vec![s("Name"), i("Desired"), i("Current"), i("Ready"), i("Up-to-date"), i("Available"), s("Age")],
            vec![
                name,
                json!(int("/status/desiredNumberScheduled")),
                json!(int("/status/currentNumberScheduled")),
                json!(int("/status/numberReady")),
                json!(int("/status/updatedNumberScheduled")),
                json!(int("/status/numberAvailable")),
                age_cell,
            ],
        ),
        Kind::Node => {
            let mut status = match object::condition_status(o, "Ready") {
                Some("True") => "Ready".to_string(),
                Some(_) => "NotReady".to_string(),
                None => "Unknown".to_string(),
            };
            if o.pointer("/spec/unschedulable") == Some(&json!(true)) {
                status.push_str(",SchedulingDisabled");
            }
            let roles: Vec<&str> = object::labels(o)
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
                .collect();
            let roles = if roles.is_empty() { "<none>".to_string() } else { roles.join(",") };
            (
                vec![s("Name"), s("Status"), s("Roles"), s("Age"), s("Version")],
                vec![
                    name,
                    json!(status),
                    json!(roles),
                    age_cell,
                    json!(object::str_at(o, "/status/nodeInfo/kubeletVersion").unwrap_or("v1.32.0")),
                ],
            )
        }
        Kind::Namespace => (
            vec![s("Name"), s("Status"), s("Age")],
            vec![name, json!(object::str_at(o, "/status/phase").unwrap_or("Active")), age_cell],
        ),
        Kind::Event => {
            let last = o.get("lastTimestamp").and_then(Value::as_str).unwrap_or(created);
            let inv = &o["involvedObject"];
            let obj = format!(
                "{}/{}",
                inv["kind"].as_str().unwrap_or_default().to_lowercase(),
                inv["name"].as_str().unwrap_or_default()
            );
            (
                vec![s("Last Seen"), s("Type"), s("Reason"), s("Object"), s("Message")],
                vec![json!(age(last, now)), o["type"].clone(), o["reason"].clone(), json!(obj), o["message"].clone()],
            )
        }
        Kind::PodDisruptionBudget => {
            let show = |p: &str| {
                o.pointer(p)
                    .map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string()))
                    .unwrap_or_else(|| "N/A".into())
            };
            (
                vec![s("Name"), s("Min Available"), s("Max Unavailable"), i("Allowed Disruptions"), s("Age")],
                vec![
                    name,
                    json!(show("/spec/minAvailable")),
                    json!(show("/spec/maxUnavailable")),
                    json!(int("/status/disruptionsAllowed")),
                    age_cell,
                ],
            )
        }
        _ => (vec![s("Name"), s("Age")], vec![name, age_cell]),
    }
}

fn row(def: &ResourceDef, o: &Value, now: Timestamp) -> Value {
    let (_, cells) = columns_and_cells(def, o, now);
    let meta = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]});
    json!({"cells": cells, "object": meta})
}

/// A Table of `objects` (used for lists and for single watch events).
pub fn table(def: &ResourceDef, objects: &[&Value], rv: &str, cont: Option<&str>) -> Value {
    let now = Timestamp::now();
    let columns = columns_and_cells(def, &json!({}), now).0;
    let rows: Vec<Value> = objects.iter().map(|o| row(def, o, now)).collect();
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = cont {
        meta["continue"] = json!(c);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta, "columnDefinitions": columns, "rows": rows})
}

pub fn list_response(headers: &HeaderMap, def: &ResourceDef, page: Page) -> Response {
    let rv = page.resource_version.to_string();
    if wants_table(headers) && def.view == View::Native {
        let refs: Vec<&Value> = page.items.iter().map(AsRef::as_ref).collect();
        return json_response(StatusCode::OK, &table(def, &refs, &rv, page.continue_token.as_deref()));
    }
    let mut meta = json!({"resourceVersion": rv});
    if let Some(c) = page.continue_token {
        meta["continue"] = json!(c);
    }
    if let Some(r) = page.remaining {
        meta["remainingItemCount"] = json!(r);
    }
    // Written piece by piece: a 5,000-pod list is not copied into one big Value first.
    let head = json!({"kind": format!("{}List", def.kind_name), "apiVersion": def.api_version(), "metadata": meta});
    let mut out = head.to_string().into_bytes();
    out.pop();
    out.extend_from_slice(b",\"items\":[");
    for (i, o) in page.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match def.view {
            View::Native => serde_json::to_writer(&mut out, o.as_ref()),
            View::EventsV1 => serde_json::to_writer(&mut out, &present(def, o)),
        }
        .expect("a Value serializes");
    }
    out.extend_from_slice(b"]}");
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], out).into_response()
}

pub fn object_response(headers: &HeaderMap, def: &ResourceDef, o: &Value) -> Response {
    let o = present(def, o);
    if wants_table(headers) && def.view == View::Native {
        return json_response(StatusCode::OK, &table(def, &[&o], object::resource_version(&o), None));
    }
    json_response(StatusCode::OK, &o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let now: Timestamp = "2026-01-10T00:00:00Z".parse().unwrap();
        for (t, want) in [
            ("2026-01-09T23:59:15Z", "45s"),
            ("2026-01-09T23:55:00Z", "5m"),
            ("2026-01-09T23:54:50Z", "5m10s"),
            ("2026-01-09T22:00:00Z", "120m"),
            ("2026-01-09T20:30:00Z", "3h30m"),
            ("2026-01-08T00:00:00Z", "2d"),
            ("2026-01-07T20:00:00Z", "2d4h"),
            ("2025-12-01T00:00:00Z", "40d"),
        ] {
            assert_eq!(age(t, now), want, "{t}");
        }
    }
}
