//! The `sandbox.mimi.dev/fixed-by` rule: which API write counts as which remedial action, and
//! whether it is the one that heals the workload.
//!
//! Invariant: classification is a pure function of the object before and after a write (plus, for
//! rollbacks, the workload's ReplicaSets); only a match with the annotation marks a workload fixed.

use serde_json::Value;

use super::super::object;
use super::super::resources::Kind;
use super::super::store::Cluster;
use super::{WorkloadKey, workload_of};

pub const FIXED_BY: &str = "sandbox.mimi.dev/fixed-by";

/// The remedial actions the annotation can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAction {
    Restart,
    Scale,
    Rollback,
    DeletePod,
}

impl FixAction {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "restart" => Some(Self::Restart),
            "scale" => Some(Self::Scale),
            "rollback" => Some(Self::Rollback),
            "delete-pod" => Some(Self::DeletePod),
            _ => None,
        }
    }
}

/// What the workload's annotation says heals it (`none` and unknown values heal nothing).
pub fn fixed_by(workload: &Value) -> Option<FixAction> {
    object::annotation(workload, FIXED_BY).and_then(FixAction::parse)
}

fn restarted_at(o: &Value) -> Option<&str> {
    let ann = o.pointer("/spec/template/metadata/annotations")?.as_object()?;
    ann.iter().find(|(k, _)| k.ends_with("/restartedAt")).and_then(|(_, v)| v.as_str())
}

/// The template of a ReplicaSet without its `pod-template-hash` label, for comparing with its
/// Deployment's template.
pub fn template_without_hash(rs: &Value) -> Value {
    let mut t = rs.pointer("/spec/template").cloned().unwrap_or(Value::Null);
    if let Some(l) = t.pointer_mut("/metadata/labels").and_then(Value::as_object_mut) {
        l.remove("pod-template-hash");
    }
    object::normalized(&t)
}

/// Classifies an update of a workload. `old_templates` are the templates of the workload's other
/// revisions (for a Deployment, its ReplicaSets' templates without the hash label).
pub fn classify_update(old: &Value, new: &Value, old_templates: &[Value]) -> Option<FixAction> {
    let (ot, nt) = (
        object::normalized(old.pointer("/spec/template").unwrap_or(&Value::Null)),
        object::normalized(new.pointer("/spec/template").unwrap_or(&Value::Null)),
    );
    if ot != nt {
        if old_templates.contains(&nt) {
            return Some(FixAction::Rollback);
        }
        if restarted_at(new).is_some() && restarted_at(new) != restarted_at(old) {
            return Some(FixAction::Restart);
        }
        return None;
    }
    (object::replicas(old) != object::replicas(new)).then_some(FixAction::Scale)
}

/// Marks `workload` fixed when `action` is what its annotation names.
fn mark(c: &mut Cluster, workload: WorkloadKey, action: FixAction) {
    let Some(w) = c.get(workload.0, &workload.1, &workload.2) else {
        return;
    };
    if fixed_by(w) == Some(action) {
        tracing::debug!(?workload, ?action, "sandbox workload fixed");
        c.sim.fixed.insert(workload, action);
    }
}

/// Called by the write path after a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet)
/// was updated, before the controllers run.
pub fn on_workload_update(c: &mut Cluster, kind: Kind, old: &Value, new: &Value) {
    let ns = object::namespace(new);
    let old_templates: Vec<Value> = if kind == Kind::Deployment {
        c.list(Kind::ReplicaSet, Some(ns))
            .iter()
            .filter(|rs| object::controller_of(rs).is_some_and(|(_, _, u)| u == object::uid(new)))
            .map(|rs| template_without_hash(rs))
            .collect()
    } else {
        Vec::new()
    };
    if let Some(action) = classify_update(old, new, &old_templates) {
        mark(c, (kind, ns.to_string(), object::name(new).to_string()), action);
    }
}

/// Called by the write path before a pod is deleted or evicted.
pub fn on_pod_delete(c: &mut Cluster, pod: &Value) {
    if let Some(w) = workload_of(c, pod) {
        mark(c, w, FixAction::DeletePod);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(replicas: i64, restarted: Option<&str>, image: &str) -> Value {
        let mut d = json!({"spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [{"name": "c", "image": image}]}}}});
        if let Some(r) = restarted {
            d["spec"]["template"]["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/restartedAt": r});
        }
        d
    }

    #[test]
    fn writes_are_classified_as_the_action_they_are() {
        let base = deploy(2, None, "v1");
        let rev1 = object::normalized(&base["spec"]["template"]);
        type Case = (&'static str, Value, Value, Vec<Value>, Option<FixAction>);
        let cases: Vec<Case> = vec![
            ("kubectl rollout restart", base.clone(), deploy(2, Some("t1"), "v1"), vec![], Some(FixAction::Restart)),
            (
                "second restart",
                deploy(2, Some("t1"), "v1"),
                deploy(2, Some("t2"), "v1"),
                vec![],
                Some(FixAction::Restart),
            ),
            (
                "kube-rs Api::restart annotation",
                base.clone(),
                {
                    let mut d = base.clone();
                    d["spec"]["template"]["metadata"]["annotations"] = json!({"kube.kubernetes.io/restartedAt": "t"});
                    d
                },
                vec![],
                Some(FixAction::Restart),
            ),
            ("scale", base.clone(), deploy(5, None, "v1"), vec![], Some(FixAction::Scale)),
            ("image change is not a listed action", base.clone(), deploy(2, None, "v2"), vec![], None),
            (
                "undo back to revision 1",
                deploy(2, Some("t1"), "v1"),
                base.clone(),
                vec![rev1.clone()],
                Some(FixAction::Rollback),
            ),
            (
                "label-only change",
                base.clone(),
                {
                    let mut d = base.clone();
                    d["metadata"] = json!({"labels": {"x": "y"}});
                    d
                },
                vec![],
                None,
            ),
        ];
        for (name, old, new, templates, want) in cases {
            assert_eq!(classify_update(&old, &new, &templates), want, "{name}");
        }
    }

    #[test]
    fn only_known_annotation_values_name_an_action() {
        for (v, want) in [
            ("restart", Some(FixAction::Restart)),
            ("delete-pod", Some(FixAction::DeletePod)),
            ("none", None),
            ("reboot", None),
        ] {
            let w = json!({"metadata": {"annotations": {FIXED_BY: v}}});
            assert_eq!(fixed_by(&w), want, "{v}");
        }
    }
}
