//! Validation of objects on every write and on scenario load: the shape is checked by decoding into
//! the k8s-openapi type (so a wrong type is caught with its field path), then the rules a real API
//! server enforces for the fields the sandbox simulates.
//!
//! Invariant: a write that fails here changes nothing (422 for rule violations, 400 for shapes).

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{ApiError, Cause};
use super::object;
use super::resources::{Kind, ResourceDef};
use super::selector::LabelSelector;

fn typed<T: DeserializeOwned>(o: &Value) -> Result<(), Cause> {
    serde_path_to_error::deserialize::<_, T>(o.clone())
        .map(|_| ())
        .map_err(|e| Cause::new(e.path().to_string(), e.inner().to_string()))
}

/// Decodes `o` as the k8s-openapi type of `kind`; the error names the offending field.
pub fn shape(kind: Kind, o: &Value) -> Result<(), Cause> {
    use k8s_openapi::api::{
        apps::v1 as apps, autoscaling::v2 as autoscaling, batch::v1 as batch, core::v1 as core, policy::v1 as policy,
    };
    match kind {
        Kind::Namespace => typed::<core::Namespace>(o),
        Kind::Node => typed::<core::Node>(o),
        Kind::Pod => typed::<core::Pod>(o),
        Kind::Event => typed::<core::Event>(o),
        Kind::Service => typed::<core::Service>(o),
        Kind::Deployment => typed::<apps::Deployment>(o),
        Kind::ReplicaSet => typed::<apps::ReplicaSet>(o),
        Kind::StatefulSet => typed::<apps::StatefulSet>(o),
        Kind::DaemonSet => typed::<apps::DaemonSet>(o),
        Kind::Job => typed::<batch::Job>(o),
        Kind::CronJob => typed::<batch::CronJob>(o),
        Kind::HorizontalPodAutoscaler => typed::<autoscaling::HorizontalPodAutoscaler>(o),
        Kind::PodDisruptionBudget => typed::<policy::PodDisruptionBudget>(o),
        Kind::PersistentVolumeClaim => typed::<core::PersistentVolumeClaim>(o),
    }
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 253
        && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn containers(spec_path: &str, o: &Value, causes: &mut Vec<Cause>) {
    let list = o.pointer(&format!("{spec_path}/containers")).and_then(Value::as_array);
    let field = spec_path.trim_start_matches('/').replace('/', ".");
    match list {
        None => causes.push(Cause::new(format!("{field}.containers"), "Required value")),
        Some(l) if l.is_empty() => causes.push(Cause::new(format!("{field}.containers"), "Required value")),
        Some(l) => {
            for (i, c) in l.iter().enumerate() {
                for k in ["name", "image"] {
                    if c.get(k).and_then(Value::as_str).is_none_or(str::is_empty) {
                        causes.push(Cause::new(format!("{field}.containers[{i}].{k}"), "Required value"));
                    }
                }
            }
        }
    }
}

/// The rules a real API server enforces on the fields the sandbox simulates.
pub fn rules(kind: Kind, o: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let name = object::name(o);
    if !valid_name(name) {
        causes.push(Cause::new(
            "metadata.name",
            format!("Invalid value: {name:?}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"),
        ));
    }
    match kind {
        Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet | Kind::DaemonSet => {
            if let Some(r) = object::int_at(o, "/spec/replicas").filter(|r| *r < 0) {
                causes.push(Cause::new(
                    "spec.replicas",
                    format!("Invalid value: {r}: must be greater than or equal to 0"),
                ));
            }
            // A Deployment's ReplicaSet may omit its template in a scenario; loading fills it in.
            if kind == Kind::ReplicaSet && o.pointer("/spec/template").is_none() {
                return causes;
            }
            let sel = o.pointer("/spec/selector");
            let labels = o.pointer("/spec/template/metadata/labels").and_then(Value::as_object);
            match sel {
                None => causes.push(Cause::new("spec.selector", "Required value")),
                Some(s) if LabelSelector::from_object(s).is_empty() => causes.push(Cause::new(
                    "spec.selector",
                    "Invalid value: \"null\": empty selector is invalid for deployment",
                )),
                Some(s) if !LabelSelector::from_object(s).matches(labels) => causes.push(Cause::new(
                    "spec.template.metadata.labels",
                    "Invalid value: `selector` does not match template `labels`",
                )),
                _ => {}
            }
            containers("/spec/template/spec", o, &mut causes);
        }
        Kind::Pod => containers("/spec", o, &mut causes),
        Kind::PodDisruptionBudget
            if o.pointer("/spec/minAvailable").is_some() && o.pointer("/spec/maxUnavailable").is_some() =>
        {
            causes.push(Cause::new("spec", "Invalid value: minAvailable and maxUnavailable cannot be both set"));
        }
        _ => {}
    }
    causes
}

/// Full validation for a write through the API.
pub fn validate(def: &ResourceDef, o: &Value) -> Result<(), ApiError> {
    shape(def.kind, o).map_err(|c| {
        ApiError::BadRequest(format!(
            "{}: {}",
            def.kind_name,
            if c.field.is_empty() || c.field == "." { c.message } else { format!("{}: {}", c.field, c.message) }
        ))
    })?;
    let causes = rules(def.kind, o);
    if causes.is_empty() { Ok(()) } else { Err(ApiError::invalid(def, object::name(o), causes)) }
}

/// Fields a real API server refuses to change on update.
pub fn immutable(def: &ResourceDef, old: &Value, new: &Value) -> Result<(), ApiError> {
    let mut causes = Vec::new();
    if matches!(def.kind, Kind::Deployment | Kind::ReplicaSet | Kind::StatefulSet | Kind::DaemonSet)
        && old.pointer("/spec/selector") != new.pointer("/spec/selector")
    {
        causes.push(Cause::new("spec.selector", "Invalid value: field is immutable"));
    }
    if def.kind == Kind::Pod {
        let strip = |o: &Value| {
            let mut s = o.get("spec").cloned().unwrap_or(Value::Null);
            for c in s.get_mut("containers").and_then(Value::as_array_mut).into_iter().flatten() {
                c.as_object_mut().map(|m| m.remove("image"));
            }
            for k in ["activeDeadlineSeconds", "tolerations", "nodeName"] {
                s.as_object_mut().map(|m| m.remove(k));
            }
            object::normalized(&s)
        };
        if strip(old) != strip(new) {
            causes.push(Cause::new("spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations)"));
        }
    }
    if causes.is_empty() { Ok(()) } else { Err(ApiError::invalid(def, object::name(new), causes)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::resources::native;
    use serde_json::json;

    fn deploy() -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    }

    #[test]
    fn rule_violations_are_422_naming_the_field() {
        let def = native(Kind::Deployment);
        type Edit = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Edit, Option<&str>)> = vec![
            ("valid", Box::new(|_| {}), None),
            ("negative replicas", Box::new(|d| d["spec"]["replicas"] = json!(-1)), Some("spec.replicas")),
            (
                "selector mismatch",
                Box::new(|d| d["spec"]["selector"]["matchLabels"]["app"] = json!("api")),
                Some("spec.template.metadata.labels"),
            ),
            (
                "no containers",
                Box::new(|d| d["spec"]["template"]["spec"]["containers"] = json!([])),
                Some("spec.template.spec.containers"),
            ),
            ("bad name", Box::new(|d| d["metadata"]["name"] = json!("Web_1")), Some("metadata.name")),
        ];
        for (name, edit, field) in cases {
            let mut d = deploy();
            edit(&mut d);
            match (validate(def, &d), field) {
                (Ok(()), None) => {}
                (Err(ApiError::Invalid { causes, .. }), Some(f)) => {
                    assert_eq!(causes[0].field, f, "{name}")
                }
                (other, _) => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn wrong_types_name_their_path() {
        let mut d = deploy();
        d["spec"]["replicas"] = json!("two");
        let c = shape(Kind::Deployment, &d).unwrap_err();
        assert_eq!(c.field, "spec.replicas");
    }
}
