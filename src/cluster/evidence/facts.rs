//! Kubernetes objects condensed into plain facts (pure). Redaction happens over the whole bundle
//! afterwards (`redact_all`), so no field can be forgotten.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Container, ContainerState, ContainerStatus, Event, Node, Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{ContainerFacts, EventFacts, Evidence, NodeFacts, PodFacts, RolloutChange, SubjectKind, WorkloadFacts};
use crate::domain::redact::redact;

pub(super) const REVISION: &str = "deployment.kubernetes.io/revision";

/// The controlling owner of an object, as (kind, name).
pub(super) fn controller_of(meta: &ObjectMeta) -> Option<(String, String)> {
    meta.owner_references
        .as_ref()?
        .iter()
        .find(|o| o.controller == Some(true))
        .map(|o| (o.kind.clone(), o.name.clone()))
}

/// A pod that is not ready, restarting, pending or failed.
pub(crate) fn is_unhealthy(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("Unknown");
    let containers = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    phase != "Running" && phase != "Succeeded" || containers.iter().any(|c| !c.ready || c.restart_count > 0)
}

pub(crate) fn pod_facts(pod: &Pod, owners: Vec<String>) -> PodFacts {
    let meta = &pod.metadata;
    let status = pod.status.as_ref();
    let spec_containers: &[Container] = pod.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or_default();
    let statuses = status.and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
    let mut containers: Vec<ContainerFacts> =
        statuses.iter().map(|st| container_facts(spec_containers.iter().find(|c| c.name == st.name), st)).collect();
    // Containers with no status yet (pending pods) still say what they would run.
    for c in spec_containers.iter().filter(|c| !statuses.iter().any(|s| s.name == c.name)) {
        containers.push(ContainerFacts {
            name: c.name.clone(),
            image: c.image.clone().unwrap_or_default(),
            ready: false,
            restarts: 0,
            state: "not started".into(),
            last_termination: None,
            resources: resources(c),
        });
    }
    let conditions = status
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .filter(|c| c.status != "True")
                .map(|c| condition_text(&c.type_, &c.status, c.reason.as_deref(), c.message.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    PodFacts {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        phase: status.and_then(|s| s.phase.clone()).unwrap_or_else(|| "Unknown".into()),
        ready: !is_unhealthy(pod),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        owners,
        conditions,
        containers,
    }
}

fn container_facts(spec: Option<&Container>, st: &ContainerStatus) -> ContainerFacts {
    ContainerFacts {
        name: st.name.clone(),
        image: spec.and_then(|c| c.image.clone()).unwrap_or_else(|| st.image.clone()),
        ready: st.ready,
        restarts: st.restart_count,
        state: st.state.as_ref().map_or_else(|| "unknown".into(), state_text),
        last_termination: st.last_state.as_ref().and_then(|s| s.terminated.as_ref()).map(|t| {
            let reason = t.reason.as_deref().unwrap_or("Terminated");
            match t.message.as_deref().filter(|m| !m.is_empty()) {
                Some(m) => format!("{reason} (exit {}): {}", t.exit_code, clip(m, 200)),
                None => format!("{reason} (exit {})", t.exit_code),
            }
        }),
        resources: spec.and_then(resources),
    }
}

fn state_text(s: &ContainerState) -> String {
    if let Some(w) = &s.waiting {
        let reason = w.reason.as_deref().unwrap_or("Waiting");
        return match w.message.as_deref().filter(|m| !m.is_empty()) {
            Some(m) => format!("waiting: {reason}: {}", clip(m, 200)),
            None => format!("waiting: {reason}"),
        };
    }
    if let Some(t) = &s.terminated {
        return format!("terminated: {} (exit {})", t.reason.as_deref().unwrap_or("Terminated"), t.exit_code);
    }
    "running".into()
}

fn resources(c: &Container) -> Option<String> {
    let r = c.resources.as_ref()?;
    let list = |m: &Option<BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>| {
        m.as_ref()
            .filter(|m| !m.is_empty())
            .map(|m| m.iter().map(|(k, v)| format!("{k}={}", v.0)).collect::<Vec<_>>().join(" "))
    };
    let parts: Vec<String> = [("limits", list(&r.limits)), ("requests", list(&r.requests))]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| format!("{name} {v}")))
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn template_images(t: &PodTemplateSpec) -> Vec<(String, String)> {
    t.spec
        .as_ref()
        .map(|s| s.containers.iter().map(|c| (c.name.clone(), c.image.clone().unwrap_or_default())).collect())
        .unwrap_or_default()
}

fn template_resources(t: &PodTemplateSpec) -> Vec<(String, String)> {
    t.spec
        .as_ref()
        .map(|s| s.containers.iter().filter_map(|c| resources(c).map(|r| (c.name.clone(), r))).collect())
        .unwrap_or_default()
}

pub(super) fn condition_text(kind: &str, status: &str, reason: Option<&str>, message: Option<&str>) -> String {
    let mut text = format!("{kind}={status}");
    if let Some(r) = reason.filter(|r| !r.is_empty()) {
        text.push_str(&format!(": {r}"));
    }
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        text.push_str(&format!(": {}", clip(m, 200)));
    }
    text
}

pub(super) fn deployment_facts(d: &Deployment) -> WorkloadFacts {
    let spec = &d.spec;
    let st = d.status.as_ref();
    let conditions = st
        .and_then(|s| s.conditions.as_ref())
        .map(|cs| {
            cs.iter()
                .filter(|c| {
                    c.status.as_deref() != Some("True") || c.reason.as_deref() == Some("ProgressDeadlineExceeded")
                })
                .map(|c| {
                    let (kind, status) = (c.type_.as_deref().unwrap_or("?"), c.status.as_deref().unwrap_or("?"));
                    condition_text(kind, status, c.reason.as_deref(), c.message.as_deref())
                })
                .collect()
        })
        .unwrap_or_default();
    WorkloadFacts {
        kind: SubjectKind::Deployment,
        namespace: d.metadata.namespace.clone().unwrap_or_default(),
        name: d.metadata.name.clone().unwrap_or_default(),
        desired: spec.replicas.unwrap_or(1),
        ready: st.and_then(|s| s.ready_replicas).unwrap_or(0),
        updated: st.and_then(|s| s.updated_replicas).unwrap_or(0),
        available: st.and_then(|s| s.available_replicas).unwrap_or(0),
        revision: d.metadata.annotations.as_ref().and_then(|a| a.get(REVISION).cloned()),
        images: template_images(&spec.template),
        resources: template_resources(&spec.template),
        conditions,
        rollout: None,
    }
}

pub(super) fn stateful_set_facts(s: &StatefulSet) -> WorkloadFacts {
    let st = s.status.as_ref();
    WorkloadFacts {
        kind: SubjectKind::StatefulSet,
        namespace: s.metadata.namespace.clone().unwrap_or_default(),
        name: s.metadata.name.clone().unwrap_or_default(),
        desired: s.spec.replicas.unwrap_or(1),
        ready: st.and_then(|s| s.ready_replicas).unwrap_or(0),
        updated: st.and_then(|s| s.updated_replicas).unwrap_or(0),
        available: st.and_then(|s| s.available_replicas).unwrap_or(0),
        revision: st.and_then(|s| s.update_revision.clone()),
        images: template_images(&s.spec.template),
        resources: template_resources(&s.spec.template),
        conditions: Vec::new(),
        rollout: None,
    }
}

pub(super) fn daemon_set_facts(d: &DaemonSet) -> WorkloadFacts {
    let st = d.status.as_ref();
    WorkloadFacts {
        kind: SubjectKind::DaemonSet,
        namespace: d.metadata.namespace.clone().unwrap_or_default(),
        name: d.metadata.name.clone().unwrap_or_default(),
        desired: st.map_or(0, |s| s.desired_number_scheduled),
        ready: st.map_or(0, |s| s.number_ready),
        updated: st.and_then(|s| s.updated_number_scheduled).unwrap_or(0),
        available: st.and_then(|s| s.number_available).unwrap_or(0),
        revision: None,
        images: template_images(&d.spec.template),
        resources: template_resources(&d.spec.template),
        conditions: Vec::new(),
        rollout: None,
    }
}

pub(crate) fn node_facts(n: &Node) -> NodeFacts {
    let conditions = n.status.as_ref().and_then(|s| s.conditions.as_deref()).unwrap_or_default();
    let ready = conditions.iter().find(|c| c.type_ == "Ready").map_or_else(|| "Unknown".into(), |c| c.status.clone());
    // Ready should be True; the pressure and unavailability conditions should be False.
    let unhealthy = conditions
        .iter()
        .filter(|c| if c.type_ == "Ready" { c.status != "True" } else { c.status != "False" })
        .map(|c| condition_text(&c.type_, &c.status, c.reason.as_deref(), c.message.as_deref()))
        .collect();
    NodeFacts {
        name: n.metadata.name.clone().unwrap_or_default(),
        ready,
        unschedulable: n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false),
        conditions: unhealthy,
    }
}

/// Warning events only; `None` for normal ones.
pub(super) fn event_facts(e: &Event) -> Option<EventFacts> {
    if e.type_.as_deref() != Some("Warning") {
        return None;
    }
    let last = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| e.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()));
    Some(EventFacts {
        object: format!(
            "{}/{}",
            e.involved_object.kind.as_deref().unwrap_or("?"),
            e.involved_object.name.as_deref().unwrap_or("?")
        ),
        reason: e.reason.clone().unwrap_or_default(),
        message: clip(e.message.as_deref().unwrap_or_default(), 300),
        count: e.count.unwrap_or(1),
        last_seen: last,
    })
}

/// What changed in the pod template between two ReplicaSets of a Deployment.
pub(super) fn rollout_change(newer: &ReplicaSet, older: &ReplicaSet) -> RolloutChange {
    let revision =
        |rs: &ReplicaSet| rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION).cloned()).unwrap_or_default();
    let template = |rs: &ReplicaSet| rs.spec.template.clone().unwrap_or_default();
    let (new_t, old_t) = (template(newer), template(older));
    let containers = |t: &PodTemplateSpec| t.spec.as_ref().map(|s| s.containers.clone()).unwrap_or_default();
    let (new_c, old_c) = (containers(&new_t), containers(&old_t));
    let mut changes = Vec::new();
    for c in &new_c {
        let Some(o) = old_c.iter().find(|o| o.name == c.name) else {
            changes.push(format!("container {} added", c.name));
            continue;
        };
        if c.image != o.image {
            let img = |c: &Container| c.image.clone().unwrap_or_default();
            changes.push(format!("image {}: {} -> {}", c.name, img(o), img(c)));
        }
        if resources(c) != resources(o) {
            let r = |c: &Container| resources(c).unwrap_or_else(|| "none".into());
            changes.push(format!("resources {}: {} -> {}", c.name, r(o), r(c)));
        }
        if c.command != o.command || c.args != o.args {
            changes.push(format!("command or arguments of {} changed", c.name));
        }
        let env_names = |c: &Container| c.env.as_ref().map(|e| e.iter().map(|v| v.name.clone()).collect::<Vec<_>>());
        if c.env != o.env || c.env_from != o.env_from {
            let names = env_names(c).unwrap_or_default().join(", ");
            changes.push(format!("environment of {} changed (values not shown; variables: {names})", c.name));
        }
    }
    for o in old_c.iter().filter(|o| !new_c.iter().any(|c| c.name == o.name)) {
        changes.push(format!("container {} removed", o.name));
    }
    let annotation = |t: &PodTemplateSpec, key: &str| {
        t.metadata.as_ref().and_then(|m| m.annotations.as_ref()).and_then(|a| a.get(key).cloned())
    };
    for key in ["kubectl.kubernetes.io/restartedAt", "kube.kubernetes.io/restartedAt"] {
        if let (Some(at), true) = (annotation(&new_t, key), annotation(&new_t, key) != annotation(&old_t, key)) {
            changes.push(format!("restarted at {at}"));
        }
    }
    if changes.is_empty() {
        changes.push("pod template changed (no image, resource, command or environment difference)".into());
    }
    RolloutChange {
        from_revision: revision(older),
        to_revision: revision(newer),
        at: newer.metadata.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        changes,
        from_replica_set: older.metadata.name.clone(),
        to_replica_set: newer.metadata.name.clone(),
        from_ready: Some(older.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)),
    }
}

/// Redacts every text field of the bundle (serialised, walked, read back): nothing can be missed.
pub(super) fn redact_all(evidence: &mut Evidence) {
    fn walk(v: &mut serde_json::Value, hits: &mut usize) {
        match v {
            serde_json::Value::String(s) => {
                let (clean, found) = redact(s);
                if found.total() > 0 {
                    *hits += found.total();
                    *s = clean;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| walk(i, hits)),
            serde_json::Value::Object(map) => map.values_mut().for_each(|i| walk(i, hits)),
            _ => {}
        }
    }
    let mut value = serde_json::to_value(&*evidence).expect("evidence serializes");
    let mut hits = 0;
    walk(&mut value, &mut hits);
    if hits > 0 {
        *evidence = serde_json::from_value(value).expect("redacted evidence keeps its shape");
    }
    evidence.redactions += hits;
}

pub(super) fn clip(s: &str, max_chars: usize) -> String {
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}
