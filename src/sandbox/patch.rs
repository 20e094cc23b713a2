//! The three patch formats: JSON merge patch (RFC 7386), strategic merge patch (lists merged by
//! their Kubernetes merge key, `$patch` directives), and JSON patch (RFC 6902).
//!
//! Strategic merge covers the fields remedial actions and kubectl touch (containers, env, ports,
//! volumes, conditions, taints, owner references...); other lists are replaced, as for fields
//! without a patch strategy on a real server.

use serde_json::{Map, Value};

use super::error::ApiError;

/// The patch formats, by request `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Strategic,
    Json,
    /// Server-side apply, approximated as a merge patch without field ownership.
    Apply,
}

impl PatchType {
    pub fn from_content_type(ct: &str) -> Result<Self, ApiError> {
        match ct.split(';').next().unwrap_or_default().trim() {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/json-patch+json" => Ok(Self::Json),
            "application/apply-patch+yaml" | "application/apply-patch+json" => Ok(Self::Apply),
            other => Err(ApiError::UnsupportedMediaType(format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json (got {other:?})"
            ))),
        }
    }
}

/// Applies a patch of the given type to `target`.
pub fn apply(ty: PatchType, target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    match ty {
        PatchType::Merge | PatchType::Apply => {
            merge(target, patch);
            Ok(())
        }
        PatchType::Strategic => {
            strategic(target, patch);
            Ok(())
        }
        PatchType::Json => {
            let p: json_patch::Patch = serde_json::from_value(patch.clone())
                .map_err(|e| ApiError::BadRequest(format!("invalid JSON patch: {e}")))?;
            json_patch::patch(target, &p).map_err(|e| {
                ApiError::BadRequest(format!("the server rejected our request due to an error in our request: {e}"))
            })
        }
    }
}

/// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
pub fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let t = target.as_object_mut().expect("object");
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
        } else {
            merge(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
}

/// The merge key of a list field, for the fields whose Kubernetes patch strategy is `merge`.
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "env"
        | "volumes"
        | "imagePullSecrets"
        | "hostAliases"
        | "resourceClaims" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" => "containerPort",
        "conditions" | "addresses" => "type",
        "taints" => "key",
        "ownerReferences" => "uid",
        "topologySpreadConstraints" => "topologyKey",
        _ => return None,
    })
}

/// Strategic merge patch.
pub fn strategic(target: &mut Value, patch: &Value) {
    strategic_field(target, patch, "");
}

fn strategic_field(target: &mut Value, patch: &Value, field: &str) {
    match patch {
        Value::Object(p) => {
            match p.get("$patch").and_then(Value::as_str) {
                Some("replace") => {
                    let mut p = p.clone();
                    p.remove("$patch");
                    *target = Value::Object(p);
                    return;
                }
                Some("delete") => {
                    *target = Value::Null;
                    return;
                }
                _ => {}
            }
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            let retain: Option<Vec<String>> = p
                .get("$retainKeys")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect());
            let t = target.as_object_mut().expect("object");
            if let Some(keep) = retain {
                t.retain(|k, _| keep.contains(k));
            }
            for (k, v) in p {
                if k.starts_with("$setElementOrder/") || k == "$retainKeys" || k == "$patch" {
                    continue;
                }
                if let Some(list) = k.strip_prefix("$deleteFromPrimitiveList/") {
                    if let (Some(Value::Array(items)), Some(drop)) = (t.get_mut(list), v.as_array()) {
                        items.retain(|i| !drop.contains(i));
                    }
                    continue;
                }
                if v.is_null() {
                    t.remove(k);
                    continue;
                }
                let slot = t.entry(k.clone()).or_insert(Value::Null);
                strategic_field(slot, v, k);
                if slot.is_null() {
                    t.remove(k);
                }
            }
        }
        Value::Array(items) => match (merge_key(field), target.as_array_mut()) {
            (Some(key), Some(existing)) => {
                for item in items {
                    let id = item.get(key);
                    let pos = id.and_then(|id| existing.iter().position(|e| e.get(key) == Some(id)));
                    let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
                    match (pos, delete) {
                        (Some(i), true) => {
                            existing.remove(i);
                        }
                        (None, true) => {}
                        (Some(i), false) => strategic_field(&mut existing[i], item, ""),
                        (None, false) => {
                            let mut fresh = Value::Null;
                            strategic_field(&mut fresh, item, "");
                            existing.push(fresh);
                        }
                    }
                }
            }
            _ => *target = patch.clone(),
        },
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "l": [1, 2]});
        merge(&mut t, &json!({"a": null, "b": {"c": 5}, "l": [3]}));
        assert_eq!(t, json!({"b": {"c": 5, "d": 3}, "l": [3]}));
    }

    #[test]
    fn strategic_merge_merges_lists_by_key_and_honours_directives() {
        let base = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "app", "image": "a:1", "env": [{"name": "X", "value": "1"}]},
            {"name": "side", "image": "s:1"}
        ]}}}});
        let cases = [
            (
                "set image keeps other containers",
                json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "a:2"}]}}}}),
                json!(["a:2", "s:1"]),
            ),
            (
                "delete directive removes one container",
                json!({"spec": {"template": {"spec": {"containers": [{"name": "side", "$patch": "delete"}]}}}}),
                json!(["a:1"]),
            ),
            (
                "new key appends",
                json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "app"}], "containers": [{"name": "new", "image": "n:1"}]}}}}),
                json!(["a:1", "s:1", "n:1"]),
            ),
        ];
        for (name, patch, images) in cases {
            let mut t = base.clone();
            strategic(&mut t, &patch);
            let got: Vec<Value> = t["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["image"].clone())
                .collect();
            assert_eq!(Value::Array(got), images, "{name}");
        }
        let mut t = base.clone();
        strategic(
            &mut t,
            &json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "now"}}}}}),
        );
        assert_eq!(t["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"], "now");
        assert_eq!(t["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"], "1");
        let mut n = json!({"spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]}});
        strategic(&mut n, &json!({"spec": {"unschedulable": true, "taints": [{"key": "b", "effect": "NoExecute"}]}}));
        assert_eq!(n["spec"]["taints"].as_array().unwrap().len(), 2);
        assert_eq!(n["spec"]["unschedulable"], true);
    }

    #[test]
    fn json_patch_applies_and_reports_failures() {
        let mut t = json!({"spec": {"replicas": 1}});
        apply(PatchType::Json, &mut t, &json!([{"op": "replace", "path": "/spec/replicas", "value": 3}])).unwrap();
        assert_eq!(t["spec"]["replicas"], 3);
        let err =
            apply(PatchType::Json, &mut t, &json!([{"op": "test", "path": "/spec/replicas", "value": 9}])).unwrap_err();
        assert_eq!(err.code(), 400);
        assert_eq!(PatchType::from_content_type("text/plain").unwrap_err().code(), 415);
    }
}
