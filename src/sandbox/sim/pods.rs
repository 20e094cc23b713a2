//! Pods: built from a controller's template, bound to a node by a small scheduler, and started by
//! a simulated kubelet after `ready_after`, healthy or failing as the workload's failure sample says.
//!
//! Invariants: a pod without a node is Pending with `PodScheduled=False` and is retried on every
//! reconcile; a started pod's status, logs and events agree (a failing pod has the sample's
//! container states and logs, a healthy one is Running and Ready).

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::super::object::{self, ts};
use super::super::resources::Kind;
use super::super::store::{Cluster, Scope};
use super::{ContainerLogs, FixAction, events, failure_key_of, workload_of};

/// Builds (does not store) a pod from a controller's template.
pub fn from_template(
    owner_api_version: &str,
    owner_kind: &str,
    owner: &Value,
    template: &Value,
    name: &str,
    extra_labels: &[(&str, &str)],
) -> Value {
    let mut labels: Map<String, Value> =
        template.pointer("/metadata/labels").and_then(Value::as_object).cloned().unwrap_or_default();
    for (k, v) in extra_labels {
        labels.insert((*k).into(), json!(v));
    }
    let mut meta = json!({
        "name": name,
        "namespace": object::namespace(owner),
        "labels": labels,
        "ownerReferences": [object::controller_ref(owner_api_version, owner_kind, owner)],
    });
    if let Some(a) = template.pointer("/metadata/annotations") {
        meta["annotations"] = a.clone();
    }
    if owner_kind != "StatefulSet" {
        meta["generateName"] = json!(format!("{}-", object::name(owner)));
    }
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    for (k, v) in [
        ("restartPolicy", json!("Always")),
        ("terminationGracePeriodSeconds", json!(30)),
        ("dnsPolicy", json!("ClusterFirst")),
        ("schedulerName", json!("default-scheduler")),
    ] {
        spec.as_object_mut().map(|m| m.entry(k).or_insert(v));
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec})
}

/// Whether a node accepts a pod: Ready, not cordoned, node selector and taints satisfied.
/// DaemonSet pods tolerate cordons and not-ready nodes as on a real cluster.
pub fn node_fits(node: &Value, pod: &Value, daemon: bool) -> bool {
    let ready = object::condition_status(node, "Ready") == Some("True");
    let cordoned = node.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false);
    if !daemon && (!ready || cordoned) {
        return false;
    }
    if let Some(sel) = pod.pointer("/spec/nodeSelector").and_then(Value::as_object) {
        let labels = object::labels(node);
        if !sel.iter().all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v)) {
            return false;
        }
    }
    let tolerations = pod.pointer("/spec/tolerations").and_then(Value::as_array);
    node.pointer("/spec/taints").and_then(Value::as_array).into_iter().flatten().all(|t| {
        let key = t.get("key").and_then(Value::as_str).unwrap_or_default();
        let effect = t.get("effect").and_then(Value::as_str).unwrap_or_default();
        effect == "PreferNoSchedule"
            || (daemon && key.starts_with("node.kubernetes.io/"))
            || tolerations.into_iter().flatten().any(|tol| {
                let tk = tol.get("key").and_then(Value::as_str).unwrap_or_default();
                let te = tol.get("effect").and_then(Value::as_str).unwrap_or_default();
                let exists = tol.get("operator").and_then(Value::as_str) == Some("Exists");
                (tk.is_empty() && exists || tk == key)
                    && (te.is_empty() || te == effect)
                    && (exists || tol.get("value") == t.get("value"))
            })
    })
}

/// Picks the fitting node with the fewest pods, or explains why none fits.
fn schedule(c: &Cluster, pod: &Value) -> Result<String, String> {
    let nodes = c.list(Kind::Node, None);
    nodes
        .iter()
        .filter(|n| node_fits(n, pod, false))
        .min_by_key(|n| (c.pods_on(object::name(n)), object::name(n).to_string()))
        .map(|n| object::name(n).to_string())
        .ok_or_else(|| {
            let cordoned = nodes.iter().filter(|n| !object::node_schedulable(n)).count();
            format!(
                "0/{} nodes are available: {} node(s) were unschedulable or not ready, {} node(s) didn't match Pod's node affinity/selector or had untolerated taints.",
                nodes.len(),
                cordoned,
                nodes.len() - cordoned
            )
        })
}

fn set_unschedulable(pod: &mut Value, message: &str, now: &str) {
    pod["status"]["phase"] = json!("Pending");
    object::set_condition(pod, "PodScheduled", "False", "Unschedulable", message, now, false);
}

fn bind(c: &mut Cluster, pod: &mut Value, node: &str, now: Timestamp) {
    let t = ts(now);
    pod["spec"]["nodeName"] = json!(node);
    pod["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
    object::set_condition(pod, "PodScheduled", "True", "", "", &t, false);
    let waiting: Vec<Value> = containers(pod)
        .iter()
        .map(|(n, img)| json!({"name": n, "image": img, "imageID": "", "ready": false, "restartCount": 0, "started": false, "state": {"waiting": {"reason": "ContainerCreating"}}}))
        .collect();
    pod["status"]["containerStatuses"] = json!(waiting);
    let key = (object::namespace(pod).to_string(), object::name(pod).to_string());
    c.sim.starting.insert(key, now + c.sim.ready_after);
}

/// Stores a new pod (from [`from_template`]), scheduled at once when a node fits.
pub fn create(c: &mut Cluster, now: Timestamp, mut pod: Value) {
    let t = ts(now);
    let fixed_node = object::str_at(&pod, "/spec/nodeName").map(String::from);
    let placed = match fixed_node {
        Some(n) => Ok(n),
        None => schedule(c, &pod),
    };
    match placed {
        Ok(node) => {
            bind(c, &mut pod, &node, now);
            let stored = c.create(Kind::Pod, pod, now);
            let msg =
                format!("Successfully assigned {}/{} to {node}", object::namespace(&stored), object::name(&stored));
            events::record(c, now, &stored, false, "Scheduled", &msg, "default-scheduler");
        }
        Err(msg) => {
            set_unschedulable(&mut pod, &msg, &t);
            let stored = c.create(Kind::Pod, pod, now);
            c.sim.unscheduled.insert((object::namespace(&stored).to_string(), object::name(&stored).to_string()));
            events::record(c, now, &stored, true, "FailedScheduling", &msg, "default-scheduler");
        }
    }
}

fn containers(pod: &Value) -> Vec<(String, String)> {
    pod.pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
            (s("name"), s("image"))
        })
        .collect()
}

/// Makes a pod Running and Ready, with a startup line as its log.
pub fn set_healthy(c: &mut Cluster, pod: &mut Value, now: Timestamp) {
    let t = ts(now);
    let statuses: Vec<Value> = containers(pod)
        .iter()
        .map(|(n, img)| json!({"name": n, "image": img, "imageID": "", "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": t}}}))
        .collect();
    pod["status"]["phase"] = json!("Running");
    pod["status"]["startTime"] = pod["status"].get("startTime").cloned().unwrap_or(json!(t));
    pod["status"]["containerStatuses"] = json!(statuses);
    for ty in ["Initialized", "ContainersReady", "Ready"] {
        object::set_condition(pod, ty, "True", "", "", &t, false);
    }
    let ns = object::namespace(pod).to_string();
    let name = object::name(pod).to_string();
    for (cn, img) in containers(pod) {
        if c.sim.logs(&ns, &name, &cn).is_none() {
            *c.sim.logs_mut(&ns, &name, &cn) = ContainerLogs {
                current: format!("{t} sandbox: container {cn} started (image {img})\n").into(),
                previous: None,
            };
        }
    }
}

fn start(c: &mut Cluster, now: Timestamp, ns: &str, name: &str) {
    let Some(pod) = c.get(Kind::Pod, ns, name).cloned() else {
        return;
    };
    let failure = failure_key_of(c, &pod)
        .and_then(|k| c.sim.failures.get(&k).cloned())
        .filter(|_| workload_of(c, &pod).is_none_or(|w| !c.sim.fixed.contains_key(&w)));
    let mut p = (*pod).clone();
    let t = ts(now);
    match failure {
        None => {
            set_healthy(c, &mut p, now);
            let stored = c.replace(Kind::Pod, p);
            for (cn, _) in containers(&stored) {
                events::record(c, now, &stored, false, "Started", &format!("Started container {cn}"), "kubelet");
            }
        }
        Some(f) => {
            let mut statuses = Vec::new();
            for (cn, img) in containers(&p) {
                let sample = f
                    .status
                    .get("containerStatuses")
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().find(|s| s["name"] == cn.as_str()));
                let mut st = sample.cloned().unwrap_or_else(
                    || json!({"name": cn, "ready": true, "started": true, "state": {"running": {"startedAt": t}}}),
                );
                st["image"] = json!(img);
                if st["restartCount"].as_i64().unwrap_or(0) > 0 {
                    st["restartCount"] = json!(1);
                }
                statuses.push(st);
                if let Some(l) = f.logs.get(&cn) {
                    *c.sim.logs_mut(ns, name, &cn) = l.clone();
                }
            }
            p["status"]["phase"] = f.status.get("phase").cloned().unwrap_or(json!("Running"));
            p["status"]["startTime"] = json!(t);
            p["status"]["containerStatuses"] = json!(statuses);
            object::set_condition(&mut p, "Initialized", "True", "", "", &t, false);
            object::set_condition(
                &mut p,
                "ContainersReady",
                "False",
                "ContainersNotReady",
                "containers with unready status",
                &t,
                false,
            );
            object::set_condition(
                &mut p,
                "Ready",
                "False",
                "ContainersNotReady",
                "containers with unready status",
                &t,
                false,
            );
            let stored = c.replace(Kind::Pod, p);
            let reason = stored
                .pointer("/status/containerStatuses/0/state/waiting/reason")
                .and_then(Value::as_str)
                .unwrap_or("BackOff")
                .to_string();
            let msg = format!("Back-off restarting failed container in pod {name} ({reason})");
            events::record(
                c,
                now,
                &stored,
                true,
                if reason == "CrashLoopBackOff" { "BackOff" } else { &reason },
                &msg,
                "kubelet",
            );
        }
    }
}

/// The kubelet and scheduler pass: bind pods waiting for a node, start due pods, heal pods of
/// workloads fixed by a scale. Pods that were Pending in the scenario itself stay as they are.
pub fn run(c: &mut Cluster, now: Timestamp, scope: &Scope) {
    let waiting: Vec<(String, String)> = c.sim.unscheduled.iter().cloned().collect();
    for (ns, name) in waiting {
        let Some(pod) = c.get(Kind::Pod, &ns, &name).cloned() else {
            c.sim.unscheduled.remove(&(ns, name));
            continue;
        };
        if let Ok(node) = schedule(c, &pod) {
            c.sim.unscheduled.remove(&(ns, name));
            let mut p = (*pod).clone();
            bind(c, &mut p, &node, now);
            let stored = c.replace(Kind::Pod, p);
            let msg =
                format!("Successfully assigned {}/{} to {node}", object::namespace(&stored), object::name(&stored));
            events::record(c, now, &stored, false, "Scheduled", &msg, "default-scheduler");
        }
    }
    if c.sim.fixed.values().any(|a| *a == FixAction::Scale) {
        for pod in c.list_in(Kind::Pod, scope) {
            let key = (object::namespace(&pod).to_string(), object::name(&pod).to_string());
            let bound = object::str_at(&pod, "/spec/nodeName").is_some_and(|n| !n.is_empty());
            if !bound || object::pod_ready(&pod) || c.sim.starting.contains_key(&key) {
                continue;
            }
            if workload_of(c, &pod).is_some_and(|w| c.sim.fixed.get(&w) == Some(&FixAction::Scale)) {
                let mut p = (*pod).clone();
                set_healthy(c, &mut p, now);
                c.replace(Kind::Pod, p);
            }
        }
    }
    let due: Vec<(String, String)> =
        c.sim.starting.iter().filter(|(_, at)| **at <= now).map(|(k, _)| k.clone()).collect();
    for (ns, name) in due {
        c.sim.starting.remove(&(ns.clone(), name.clone()));
        start(c, now, &ns, &name);
    }
}
