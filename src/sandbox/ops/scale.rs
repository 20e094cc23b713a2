//! The `scale` subresource of Deployments, ReplicaSets and StatefulSets, as `autoscaling/v1`
//! Scale objects; writes go through the parent's update path (so a scale is classified as one).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::error::ApiError;
use super::super::object;
use super::super::patch::{self, PatchType};
use super::super::resources::ResourceDef;
use super::super::store::Cluster;
use super::{get, write};

fn selector_string(o: &Value) -> String {
    o.pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

fn to_scale(o: &Value) -> Value {
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": object::name(o),
            "namespace": object::namespace(o),
            "uid": object::uid(o),
            "resourceVersion": object::resource_version(o),
            "creationTimestamp": o["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": object::replicas(o)},
        "status": {
            "replicas": object::int_at(o, "/status/replicas").unwrap_or(0),
            "selector": selector_string(o),
        },
    })
}

pub fn scale_get(c: &Cluster, def: &ResourceDef, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
    Ok(to_scale(get(c, def, ns, name)?.as_ref()))
}

/// PUT (`patch_type` None, `body` a Scale) or PATCH of the scale subresource.
#[allow(clippy::too_many_arguments)]
pub fn scale_write(
    c: &mut Cluster,
    now: Timestamp,
    def: &ResourceDef,
    ns: Option<&str>,
    name: &str,
    patch_type: Option<PatchType>,
    body: &Value,
    dry_run: bool,
) -> Result<Value, ApiError> {
    let parent = get(c, def, ns, name)?;
    let mut scale = to_scale(&parent);
    match patch_type {
        Some(ty) => {
            scale["metadata"].as_object_mut().map(|m| m.remove("resourceVersion"));
            patch::apply(ty, &mut scale, body)?;
        }
        None => scale = body.clone(),
    }
    let replicas = scale.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(0);
    let mut new = (*parent).clone();
    new["spec"]["replicas"] = json!(replicas);
    new["metadata"]["resourceVersion"] = scale["metadata"].get("resourceVersion").cloned().unwrap_or(json!(""));
    let stored = write::update(c, now, def, ns, name, new, None, dry_run).map_err(|e| match e {
        ApiError::Invalid { causes, .. } => {
            ApiError::Invalid { kind: "Scale.autoscaling".into(), name: name.into(), causes }
        }
        other => other,
    })?;
    Ok(to_scale(&stored))
}
