//! Small accessors over stored objects, which are plain `serde_json::Value`s as the API shows them.
//!
//! Objects are kept as JSON (not typed structs) so that patches, selectors and unknown fields behave
//! exactly as on the wire. These helpers never panic on a malformed object: missing means empty.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

pub fn name(o: &Value) -> &str {
    o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("")
}

pub fn namespace(o: &Value) -> &str {
    o.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("")
}

pub fn uid(o: &Value) -> &str {
    o.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("")
}

pub fn resource_version(o: &Value) -> &str {
    o.pointer("/metadata/resourceVersion").and_then(Value::as_str).unwrap_or("")
}

pub fn generation(o: &Value) -> i64 {
    o.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0)
}

pub fn labels(o: &Value) -> Option<&Map<String, Value>> {
    o.pointer("/metadata/labels").and_then(Value::as_object)
}

pub fn annotation<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
}

/// `metadata` as a mutable map, created if missing.
pub fn meta_mut(o: &mut Value) -> &mut Map<String, Value> {
    obj_mut(o, "metadata")
}

/// `o[key]` as a mutable map, created (or replaced when not a map) if needed.
pub fn obj_mut<'a>(o: &'a mut Value, key: &str) -> &'a mut Map<String, Value> {
    if !o.is_object() {
        *o = json!({});
    }
    let map = o.as_object_mut().expect("just made an object");
    let entry = map.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("just made an object")
}

pub fn set_annotation(o: &mut Value, key: &str, value: impl Into<String>) {
    let meta = meta_mut(o);
    let ann = meta.entry("annotations").or_insert_with(|| json!({}));
    if !ann.is_object() {
        *ann = json!({});
    }
    ann[key] = Value::String(value.into());
}

pub fn int_at(o: &Value, pointer: &str) -> Option<i64> {
    o.pointer(pointer).and_then(Value::as_i64)
}

pub fn str_at<'a>(o: &'a Value, pointer: &str) -> Option<&'a str> {
    o.pointer(pointer).and_then(Value::as_str)
}

/// `spec.replicas`, defaulting to 1 as Kubernetes does.
pub fn replicas(o: &Value) -> i64 {
    int_at(o, "/spec/replicas").unwrap_or(1)
}

/// The owner reference marked `controller: true`, as (kind, name, uid).
pub fn controller_of(o: &Value) -> Option<(&str, &str, &str)> {
    o.pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|r| {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("");
            (s("kind"), s("name"), s("uid"))
        })
}

/// An owner reference that makes `owner` the controller of a dependent.
pub fn controller_ref(api_version: &str, kind: &str, owner: &Value) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "name": name(owner),
        "uid": uid(owner),
        "controller": true,
        "blockOwnerDeletion": true,
    })
}

/// A pod is ready when its `Ready` condition is `True`.
pub fn pod_ready(pod: &Value) -> bool {
    condition_status(pod, "Ready") == Some("True")
}

pub fn condition_status<'a>(o: &'a Value, ty: &str) -> Option<&'a str> {
    o.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))?
        .get("status")?
        .as_str()
}

/// Node is Ready and not cordoned.
pub fn node_schedulable(node: &Value) -> bool {
    condition_status(node, "Ready") == Some("True")
        && !node.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false)
}

/// RFC 3339 with second precision, as Kubernetes writes timestamps.
pub fn ts(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Sets a condition, keeping its transition time when its status did not change (so that
/// recomputing an unchanged status is a no-op and does not bump the resourceVersion).
pub fn set_condition(
    o: &mut Value,
    ty: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
    with_update_time: bool,
) {
    let st = obj_mut(o, "status");
    let conds = st.entry("conditions").or_insert_with(|| json!([]));
    if !conds.is_array() {
        *conds = json!([]);
    }
    let conds = conds.as_array_mut().expect("array");
    let existing = conds.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some(ty));
    let mut new = json!({"type": ty, "status": status});
    if !reason.is_empty() {
        new["reason"] = json!(reason);
    }
    if !message.is_empty() {
        new["message"] = json!(message);
    }
    match existing {
        Some(old) => {
            let same_status = old.get("status").and_then(Value::as_str) == Some(status);
            let same_all =
                same_status && old.get("reason") == new.get("reason") && old.get("message") == new.get("message");
            let transition =
                old.get("lastTransitionTime").cloned().filter(|_| same_status).unwrap_or_else(|| json!(now));
            new["lastTransitionTime"] = transition;
            if with_update_time {
                new["lastUpdateTime"] =
                    old.get("lastUpdateTime").cloned().filter(|_| same_all).unwrap_or_else(|| json!(now));
            }
            *old = new;
        }
        None => {
            new["lastTransitionTime"] = json!(now);
            if with_update_time {
                new["lastUpdateTime"] = json!(now);
            }
            conds.push(new);
        }
    }
}

/// The alphabet Kubernetes uses for generated names and template hashes (no vowels, no 0/1/3).
pub const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A random suffix like the one `generateName` appends.
pub fn random_suffix(rng: &mut fastrand::Rng, len: usize) -> String {
    (0..len).map(|_| SAFE_ALPHABET[rng.usize(..SAFE_ALPHABET.len())] as char).collect()
}

/// A random RFC 4122 version 4 UID.
pub fn random_uid(rng: &mut fastrand::Rng) -> String {
    let mut b: [u8; 16] = std::array::from_fn(|_| rng.u8(..));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// The pod-template-hash Kubernetes would compute: FNV-32a of the template, its decimal digits
/// mapped through [`SAFE_ALPHABET`].
pub fn template_hash(template: &Value) -> String {
    let bytes = serde_json::to_vec(template).unwrap_or_default();
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h.to_string().bytes().map(|c| SAFE_ALPHABET[usize::from(c) % SAFE_ALPHABET.len()] as char).collect()
}

/// Drops nulls and empty maps/lists so two templates that differ only in how "nothing" is written
/// compare equal.
pub fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), normalized(v))).filter(|(_, v)| !is_empty(v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hash_is_stable_and_uses_the_safe_alphabet() {
        let t = json!({"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}});
        let h = template_hash(&t);
        assert_eq!(h, template_hash(&t.clone()));
        assert!(h.bytes().all(|b| SAFE_ALPHABET.contains(&b)), "{h}");
        let mut t2 = t.clone();
        t2["metadata"]["annotations"] = json!({"x": "y"});
        assert_ne!(h, template_hash(&t2));
    }

    #[test]
    fn unchanged_condition_keeps_its_times() {
        let mut o = json!({});
        set_condition(&mut o, "Ready", "True", "", "", "t1", true);
        set_condition(&mut o, "Ready", "True", "", "", "t2", true);
        assert_eq!(o["status"]["conditions"][0]["lastTransitionTime"], "t1");
        set_condition(&mut o, "Ready", "False", "X", "", "t3", true);
        assert_eq!(o["status"]["conditions"][0]["lastTransitionTime"], "t3");
    }

    #[test]
    fn uids_look_like_kubernetes_uids() {
        let u = random_uid(&mut fastrand::Rng::with_seed(1));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
