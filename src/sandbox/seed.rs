//! Building the initial cluster from a scenario: owners before dependents, uids resolved, the
//! fields a real cluster would have filled in (ReplicaSet templates and revisions, revision
//! labels, defaults), failure samples and logs recorded, then one settling reconcile.
//!
//! Invariant: a reference that does not resolve (an owner, a pod's node, a log file's pod or
//! container) is an error naming the file, document and field.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::object::{self, meta_mut};
use super::resources::{Kind, RESOURCES};
use super::scenario::{Doc, Scenario, ScenarioError};
use super::sim::{self, ContainerLogs, Failure, SimState, deployment_revision_key, pods};
use super::store::Cluster;

const SYSTEM_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

fn order(kind: Kind) -> u8 {
    match kind {
        Kind::Namespace => 0,
        Kind::Node => 1,
        Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet | Kind::CronJob => 2,
        Kind::ReplicaSet | Kind::Job => 3,
        Kind::Pod => 4,
        Kind::Event => 6,
        _ => 5,
    }
}

fn fill_defaults(kind: Kind, o: &mut Value) {
    if kind == Kind::Deployment {
        let spec = object::obj_mut(o, "spec");
        spec.entry("replicas").or_insert(json!(1));
        spec.entry("revisionHistoryLimit").or_insert(json!(10));
        spec.entry("progressDeadlineSeconds").or_insert(json!(600));
        spec.entry("strategy")
            .or_insert(json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}));
    }
    if kind == Kind::Node {
        // What a kubelet reports, so `kubectl describe node` has capacity to compare requests to.
        let name = object::name(o).to_string();
        let st = object::obj_mut(o, "status");
        let capacity = json!({"cpu": "4", "memory": "16Gi", "pods": "110"});
        st.entry("capacity").or_insert(capacity.clone());
        let alloc = st.get("capacity").cloned().unwrap_or(capacity);
        st.entry("allocatable").or_insert(alloc);
        st.entry("nodeInfo").or_insert(json!({"kubeletVersion": "v1.32.0", "containerRuntimeVersion": "containerd://1.7.0", "operatingSystem": "linux", "architecture": "amd64"}));
        st.entry("addresses").or_insert(json!([{"type": "Hostname", "address": name}]));
    }
    if matches!(kind, Kind::ReplicaSet | Kind::StatefulSet) {
        object::obj_mut(o, "spec").entry("replicas").or_insert(json!(1));
    }
}

/// Resolves owner references by kind and name; fills in a missing uid.
fn resolve_owners(c: &Cluster, s: &Scenario, doc: &Doc, o: &mut Value) -> Result<(), ScenarioError> {
    let ns = object::namespace(o).to_string();
    let Some(refs) = o.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) else {
        return Ok(());
    };
    for (i, r) in refs.iter_mut().enumerate() {
        let kind = r.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let name = r.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
        let Some(def) = RESOURCES.iter().find(|d| d.kind_name == kind) else {
            continue;
        };
        let owner = c.get(def.kind, if def.namespaced { &ns } else { "" }, &name).ok_or_else(|| {
            s.doc_error(
                doc,
                &format!("metadata.ownerReferences[{i}].name"),
                format!("no {kind} {name:?} in this scenario (owners must be declared)"),
            )
        })?;
        let uid = object::uid(owner).to_string();
        match r.get("uid").and_then(Value::as_str) {
            Some(u) if !u.is_empty() && u != uid => {
                return Err(s.doc_error(
                    doc,
                    &format!("metadata.ownerReferences[{i}].uid"),
                    format!("{kind} {name} has uid {uid}"),
                ));
            }
            _ => r["uid"] = json!(uid),
        }
        r.as_object_mut().map(|m| m.entry("apiVersion").or_insert(json!(def.api_version())));
    }
    Ok(())
}

/// Gives a Deployment's ReplicaSet the template, hash label and selector Kubernetes would have.
fn complete_replicaset(c: &Cluster, s: &Scenario, doc: &Doc, o: &mut Value) -> Result<(), ScenarioError> {
    let Some(("Deployment", dname, _)) = object::controller_of(o) else {
        return Ok(());
    };
    let d = c.get(Kind::Deployment, object::namespace(o), dname).cloned().expect("owners resolved");
    let hash = object::labels(o)
        .and_then(|l| l.get("pod-template-hash"))
        .and_then(Value::as_str)
        .map(String::from)
        .or_else(|| object::name(o).rsplit_once('-').map(|(_, h)| h.to_string()))
        .ok_or_else(|| s.doc_error(doc, "metadata.labels.pod-template-hash", "Required value"))?;
    if o.pointer("/spec/template").is_none() {
        o["spec"]["template"] = d["spec"]["template"].clone();
    }
    o["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    if o.pointer("/spec/selector").is_none() {
        o["spec"]["selector"] = d["spec"]["selector"].clone();
        o["spec"]["selector"]["matchLabels"]["pod-template-hash"] = json!(hash);
    }
    let labels = o["spec"]["template"]["metadata"]["labels"].clone();
    meta_mut(o).entry("labels").or_insert(labels);
    Ok(())
}

/// Gives an Event's `involvedObject` the uid and apiVersion of the object it names, which
/// `kubectl describe` selects events by.
fn complete_involved_object(c: &Cluster, ev: &mut Value) {
    let inv = &ev["involvedObject"];
    let kind = inv["kind"].as_str().unwrap_or_default();
    let Some(def) = RESOURCES.iter().find(|d| d.kind_name == kind) else {
        return;
    };
    let ns = if def.namespaced { inv["namespace"].as_str().unwrap_or(object::namespace(ev)) } else { "" };
    let Some(target) = c.get(def.kind, ns, inv["name"].as_str().unwrap_or_default()).cloned() else {
        return;
    };
    let inv = object::obj_mut(ev, "involvedObject");
    inv.entry("uid").or_insert(json!(object::uid(&target)));
    inv.entry("apiVersion").or_insert(json!(def.api_version()));
}

fn is_failing(pod: &Value) -> bool {
    let bound = object::str_at(pod, "/spec/nodeName").is_some_and(|n| !n.is_empty());
    bound
        && pod.pointer("/status/containerStatuses").and_then(Value::as_array).into_iter().flatten().any(|s| {
            s.get("ready") != Some(&json!(true))
                && (s.pointer("/state/waiting").is_some() || s.pointer("/state/terminated").is_some())
        })
}

/// Builds the cluster a scenario describes.
pub fn build(s: &Scenario, sim_state: SimState, seed: u64, now: Timestamp) -> Result<Cluster, ScenarioError> {
    let mut c = Cluster::new(seed, sim_state);
    let mut docs: Vec<&Doc> = s.docs.iter().collect();
    docs.sort_by_key(|d| (order(d.def.kind), d.index));
    for ns in SYSTEM_NAMESPACES
        .iter()
        .copied()
        .chain(s.docs.iter().filter(|d| d.def.namespaced).map(|d| object::namespace(&d.object)))
    {
        let declared = s.docs.iter().any(|d| d.def.kind == Kind::Namespace && object::name(&d.object) == ns);
        if !declared && c.get(Kind::Namespace, "", ns).is_none() {
            c.create(Kind::Namespace, json!({"metadata": {"name": ns}, "status": {"phase": "Active"}}), now);
        }
    }
    for doc in docs {
        let kind = doc.def.kind;
        let mut o = doc.object.clone();
        let ns = if doc.def.namespaced { object::namespace(&o).to_string() } else { String::new() };
        if c.get(kind, &ns, object::name(&o)).is_some() {
            return Err(s.doc_error(doc, "metadata.name", "declared twice"));
        }
        fill_defaults(kind, &mut o);
        resolve_owners(&c, s, doc, &mut o)?;
        match kind {
            Kind::ReplicaSet => complete_replicaset(&c, s, doc, &mut o)?,
            Kind::Pod => seed_pod(&mut c, s, doc, &mut o, now)?,
            Kind::Event => {
                let t = object::ts(now);
                let m = o.as_object_mut().expect("object");
                m.entry("firstTimestamp").or_insert(json!(t));
                m.entry("lastTimestamp").or_insert(json!(t));
                m.entry("count").or_insert(json!(1));
                complete_involved_object(&c, &mut o);
            }
            _ => {}
        }
        c.create(kind, o, now);
    }
    number_revisions(&mut c);
    for pod in c.list(Kind::Pod, None) {
        if is_failing(&pod)
            && let Some(key) = sim::failure_key_of(&c, &pod)
        {
            let logs = s.logs.iter().filter(|l| l.namespace == object::namespace(&pod) && l.pod == object::name(&pod));
            let mut by_container: HashMap<String, ContainerLogs> = HashMap::new();
            for l in logs {
                let e = by_container.entry(l.container.clone()).or_default();
                if l.previous { e.previous = Some(l.text.as_str().into()) } else { e.current = l.text.as_str().into() }
            }
            let f = Failure { status: pod["status"].clone(), logs: by_container };
            c.sim.failures.entry(key).or_insert_with(|| Arc::new(f));
        }
    }
    attach_logs(&mut c, s)?;
    sim::reconcile(&mut c, now);
    c.take_changes();
    Ok(c)
}

fn seed_pod(c: &mut Cluster, s: &Scenario, doc: &Doc, o: &mut Value, now: Timestamp) -> Result<(), ScenarioError> {
    if let Some(node) = object::str_at(o, "/spec/nodeName").filter(|n| !n.is_empty())
        && c.get(Kind::Node, "", node).is_none()
    {
        return Err(s.doc_error(doc, "spec.nodeName", format!("no Node {node:?} in this scenario")));
    }
    if let Some((k @ ("StatefulSet" | "DaemonSet"), name, _)) = object::controller_of(o) {
        let kind = if k == "StatefulSet" { Kind::StatefulSet } else { Kind::DaemonSet };
        let owner = c.get(kind, object::namespace(o), name).cloned().expect("owners resolved");
        let has = object::labels(o).is_some_and(|l| l.contains_key("controller-revision-hash"));
        if !has {
            o["metadata"]["labels"]["controller-revision-hash"] = json!(sim::statefulset_revision(&owner));
        }
    }
    if o.get("status").is_none() {
        let bound = object::str_at(o, "/spec/nodeName").is_some_and(|n| !n.is_empty());
        if bound {
            pods::set_healthy(c, o, now);
        } else {
            o["status"] = json!({"phase": "Pending"});
            c.sim.unscheduled.insert((object::namespace(o).to_string(), object::name(o).to_string()));
        }
    }
    Ok(())
}

/// Gives ReplicaSets without a revision annotation one: older ones first, the one matching its
/// Deployment's template last.
fn number_revisions(c: &mut Cluster) {
    for d in c.list(Kind::Deployment, None) {
        let ns = object::namespace(&d).to_string();
        let template = object::normalized(&d["spec"]["template"]);
        let mut owned: Vec<Arc<Value>> = c
            .list(Kind::ReplicaSet, Some(&ns))
            .into_iter()
            .filter(|rs| object::controller_of(rs).is_some_and(|(_, _, u)| u == object::uid(&d)))
            .collect();
        owned.sort_by_key(|rs| sim::fix::template_without_hash(rs) == template);
        let mut next = owned
            .iter()
            .filter_map(|rs| object::annotation(rs, deployment_revision_key()).and_then(|r| r.parse::<i64>().ok()))
            .max()
            .unwrap_or(0);
        for rs in owned.iter().filter(|rs| object::annotation(rs, deployment_revision_key()).is_none()) {
            next += 1;
            let n = next.to_string();
            c.update_with(Kind::ReplicaSet, &ns, object::name(rs), |o| {
                object::set_annotation(o, deployment_revision_key(), n)
            });
        }
    }
}

fn attach_logs(c: &mut Cluster, s: &Scenario) -> Result<(), ScenarioError> {
    for l in &s.logs {
        let err = |m: String| ScenarioError::File { file: l.path.clone(), message: m };
        let pod = c
            .get(Kind::Pod, &l.namespace, &l.pod)
            .ok_or_else(|| err(format!("no Pod {}/{} in cluster.yaml", l.namespace, l.pod)))?;
        let known = pod
            .pointer("/spec/containers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(pod.pointer("/spec/initContainers").and_then(Value::as_array).into_iter().flatten())
            .any(|c| c["name"] == l.container.as_str());
        if !known {
            return Err(err(format!("Pod {}/{} has no container {:?}", l.namespace, l.pod, l.container)));
        }
        let e = c.sim.logs_mut(&l.namespace, &l.pod, &l.container);
        if l.previous {
            e.previous = Some(l.text.as_str().into());
        } else {
            e.current = l.text.as_str().into();
        }
    }
    Ok(())
}
