//! The before/after difference of an object, field by field (pure).
//!
//! Only what a person approving the action cares about: `spec` and the labels and annotations in
//! `metadata`. Bookkeeping (resourceVersion, generation, managedFields, status) is left out.
//! Environment values are never shown — they may be secrets — only that they change.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// JSON-pointer-like path, e.g. `spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt`.
    pub path: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

const HIDDEN: &str = "(value not shown)";
const MAX_VALUE: usize = 160;

/// The fields that differ between `before` and `after`, in path order.
pub fn diff(before: &Value, after: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    for top in ["spec", "metadata"] {
        let (b, a) = (before.get(top).unwrap_or(&Value::Null), after.get(top).unwrap_or(&Value::Null));
        if top == "metadata" {
            for key in ["labels", "annotations"] {
                walk(
                    &format!("metadata.{key}"),
                    b.get(key).unwrap_or(&Value::Null),
                    a.get(key).unwrap_or(&Value::Null),
                    &mut out,
                );
            }
        } else {
            walk(top, b, a, &mut out);
        }
    }
    out
}

fn walk(path: &str, before: &Value, after: &Value, out: &mut Vec<FieldChange>) {
    if before == after {
        return;
    }
    // A map that appears or disappears is walked key by key, so each field is named.
    let empty = serde_json::Map::new();
    let as_map = |v: &Value, other: &Value| match (v, other) {
        (Value::Null, Value::Object(_)) => Some(Value::Object(empty.clone())),
        _ => None,
    };
    if let Some(b) = as_map(before, after) {
        return walk(path, &b, after, out);
    }
    if let Some(a) = as_map(after, before) {
        return walk(path, before, &a, out);
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let (bv, av) = (b.get(k).unwrap_or(&Value::Null), a.get(k).unwrap_or(&Value::Null));
                walk(&format!("{path}.{k}"), bv, av, out);
            }
        }
        // Containers are matched by name, so a reordered list is no change and a changed image
        // shows as `containers[app].image`.
        (Value::Array(b), Value::Array(a)) if named(b) && named(a) => {
            let name = |v: &Value| v.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let mut names: Vec<String> = b.iter().chain(a.iter()).map(name).collect();
            names.sort();
            names.dedup();
            for n in names {
                let find = |list: &[Value]| list.iter().find(|v| name(v) == n).cloned().unwrap_or(Value::Null);
                walk(&format!("{path}[{n}]"), &find(b), &find(a), out);
            }
        }
        _ => {
            let hide = path.contains(".env[") || path.ends_with(".env") || path.contains(".envFrom");
            let show = |v: &Value| match v {
                Value::Null => None,
                _ if hide => Some(HIDDEN.to_string()),
                Value::String(s) => Some(clip(s)),
                other => Some(clip(&other.to_string())),
            };
            out.push(FieldChange { path: path.to_string(), before: show(before), after: show(after) });
        }
    }
}

/// A list of objects that all have a `name` (containers, env vars, ports...).
fn named(list: &[Value]) -> bool {
    !list.is_empty() && list.iter().all(|v| v.get("name").and_then(Value::as_str).is_some())
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(MAX_VALUE) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(image: &str, replicas: i64, annotations: Value, env: Value) -> Value {
        json!({
            "metadata": {"name": "checkout", "resourceVersion": "7", "generation": 3, "labels": {"app": "checkout"}},
            "spec": {"replicas": replicas, "template": {"metadata": {"annotations": annotations},
                "spec": {"containers": [{"name": "app", "image": image, "env": env}, {"name": "sidecar", "image": "envoy:1"}]}}},
            "status": {"readyReplicas": 1}
        })
    }

    #[test]
    fn a_restart_shows_only_the_annotation_it_adds() {
        let before = deployment("shop:1", 2, json!({}), json!([]));
        let mut after =
            deployment("shop:1", 2, json!({"kubectl.kubernetes.io/restartedAt": "2026-11-21T08:00:00Z"}), json!([]));
        after["metadata"]["resourceVersion"] = json!("8");
        after["metadata"]["generation"] = json!(4);
        after["status"]["readyReplicas"] = json!(0);
        let changes = diff(&before, &after);
        assert_eq!(
            changes,
            [FieldChange {
                path: "spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt".into(),
                before: None,
                after: Some("2026-11-21T08:00:00Z".into())
            }]
        );
    }

    #[test]
    fn scale_and_image_changes_are_named_by_container() {
        let before = deployment("shop:1", 2, json!({}), json!([]));
        let after = deployment("shop:2", 5, json!({}), json!([]));
        let paths: Vec<(String, Option<String>, Option<String>)> =
            diff(&before, &after).into_iter().map(|c| (c.path, c.before, c.after)).collect();
        assert_eq!(
            paths,
            [
                ("spec.replicas".into(), Some("2".into()), Some("5".into())),
                ("spec.template.spec.containers[app].image".into(), Some("shop:1".into()), Some("shop:2".into())),
            ]
        );
    }

    #[test]
    fn environment_values_are_never_shown() {
        let before = deployment("shop:1", 2, json!({}), json!([{"name": "DB_PASSWORD", "value": "old-secret"}]));
        let after = deployment("shop:1", 2, json!({}), json!([{"name": "DB_PASSWORD", "value": "new-secret"}]));
        let changes = diff(&before, &after);
        let text = serde_json::to_string(&changes).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].after.as_deref(), Some(HIDDEN));
    }

    #[test]
    fn identical_objects_have_no_changes() {
        let d = deployment("shop:1", 2, json!({"a": "b"}), json!([]));
        assert!(diff(&d, &d).is_empty());
    }
}
