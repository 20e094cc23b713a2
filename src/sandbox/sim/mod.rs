//! The controller simulation: deployment, replicaset, statefulset, daemonset, scheduler, kubelet,
//! disruption and garbage-collector controllers, run to a fixpoint after every write.
//!
//! Invariants:
//! - Pure state to state: `reconcile(cluster, now)` reads and writes only the cluster; no clock, no
//!   I/O. The server calls it after each write and when a pod's start time is due.
//! - Each controller writes only when something differs, so a second `reconcile` with the same
//!   `now` changes nothing.
//! - Whether a new pod comes up healthy is decided by the failure samples taken from the scenario
//!   and the `sandbox.mimi.dev/fixed-by` annotation (see `fix.rs`), nothing else.

mod daemonset;
mod deployment;
pub mod events;
pub mod fix;
mod gc;
pub mod pdb;
pub mod pods;
mod replicaset;
mod statefulset;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use super::object;
use super::resources::Kind;
use super::store::{Cluster, Scope};
pub use fix::FixAction;
pub use statefulset::revision_of as statefulset_revision;

/// The annotation holding a Deployment's or ReplicaSet's revision number.
pub fn deployment_revision_key() -> &'static str {
    deployment::REVISION
}

/// A container's log text: the current run and the previous (crashed) one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerLogs {
    pub current: Arc<str>,
    pub previous: Option<Arc<str>>,
}

/// How a workload's pods fail "as before": a pod status and logs taken from a failing scenario pod.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub status: Value,
    pub logs: HashMap<String, ContainerLogs>,
}

/// A workload as the `fixed-by` annotation sees it: (kind, namespace, name).
pub type WorkloadKey = (Kind, String, String);

/// Simulation state that is not part of any API object.
#[derive(Debug, Default)]
pub struct SimState {
    /// How long a new pod takes from scheduled to running.
    pub ready_after: SignedDuration,
    /// Failure samples by pod-controller key (a ReplicaSet uid, or `uid/revision` for
    /// StatefulSets and DaemonSets).
    pub failures: HashMap<String, Arc<Failure>>,
    /// Workloads whose `fixed-by` action has happened, with that action.
    pub fixed: HashMap<WorkloadKey, FixAction>,
    /// Pods the sandbox created that wait for a node to fit.
    pub unscheduled: BTreeSet<(String, String)>,
    /// Scheduled pods waiting to start, and when they start.
    pub starting: BTreeMap<(String, String), Timestamp>,
    /// Container logs by (namespace, pod), then container.
    logs: HashMap<(String, String), BTreeMap<String, ContainerLogs>>,
    /// The template revision each DaemonSet (by uid) last rolled to.
    pub revisions: HashMap<String, String>,
    /// Where deletes happened since the garbage collector last ran.
    pub gc_scope: Scope,
}

impl SimState {
    pub fn new(ready_after: SignedDuration) -> Self {
        Self { ready_after, ..Self::default() }
    }

    /// Drops what the simulation knew about a deleted object.
    pub fn forget(&mut self, kind: Kind, ns: &str, name: &str) {
        if ns.is_empty() {
            self.gc_scope.all = true;
        } else {
            self.gc_scope.namespaces.insert(ns.to_string());
        }
        if kind == Kind::Pod {
            let key = (ns.to_string(), name.to_string());
            self.starting.remove(&key);
            self.unscheduled.remove(&key);
            self.logs.remove(&key);
        }
    }

    /// A container's logs, if it has any.
    pub fn logs(&self, ns: &str, pod: &str, container: &str) -> Option<&ContainerLogs> {
        self.logs.get(&(ns.to_string(), pod.to_string()))?.get(container)
    }

    /// A container's logs, created empty if missing.
    pub fn logs_mut(&mut self, ns: &str, pod: &str, container: &str) -> &mut ContainerLogs {
        self.logs.entry((ns.to_string(), pod.to_string())).or_default().entry(container.to_string()).or_default()
    }

    /// When the next pod is due to start, so the server knows when to reconcile again.
    pub fn next_deadline(&self) -> Option<Timestamp> {
        self.starting.values().min().copied()
    }
}

/// Runs every controller until nothing changes (bounded, in case of a bug that oscillates).
/// Each round looks only at the namespaces that changed in the round before (all of them after a
/// change to a cluster-scoped object such as a Node).
pub fn reconcile(c: &mut Cluster, now: Timestamp) {
    let mut scope = c.take_scope();
    for _ in 0..200 {
        let before = c.rv();
        let gc_scope = std::mem::take(&mut c.sim.gc_scope);
        if gc_scope != Scope::default() {
            gc::run(c, &gc_scope);
        }
        deployment::run(c, now, &scope);
        replicaset::run(c, now, &scope);
        statefulset::run(c, now, &scope);
        daemonset::run(c, now, &scope);
        pods::run(c, now, &scope);
        pdb::run(c, now, &scope);
        let next = c.take_scope();
        if c.rv() == before {
            return;
        }
        scope = next;
    }
    tracing::warn!("sandbox controllers did not settle after 200 rounds");
}

/// The workload a pod belongs to for `fixed-by`: its Deployment, StatefulSet, DaemonSet, or bare
/// ReplicaSet.
pub fn workload_of(c: &Cluster, pod: &Value) -> Option<WorkloadKey> {
    let ns = object::namespace(pod);
    let (kind, name, _) = object::controller_of(pod)?;
    match kind {
        "ReplicaSet" => {
            let rs = c.get(Kind::ReplicaSet, ns, name)?;
            match object::controller_of(rs) {
                Some(("Deployment", d, _)) => Some((Kind::Deployment, ns.into(), d.into())),
                _ => Some((Kind::ReplicaSet, ns.into(), name.into())),
            }
        }
        "StatefulSet" => Some((Kind::StatefulSet, ns.into(), name.into())),
        "DaemonSet" => Some((Kind::DaemonSet, ns.into(), name.into())),
        _ => None,
    }
}

/// The key of the failure sample that applies to a pod (see [`SimState::failures`]).
pub fn failure_key_of(c: &Cluster, pod: &Value) -> Option<String> {
    let ns = object::namespace(pod);
    let (kind, name, _) = object::controller_of(pod)?;
    match kind {
        "ReplicaSet" => Some(object::uid(c.get(Kind::ReplicaSet, ns, name)?).to_string()),
        "StatefulSet" | "DaemonSet" => {
            let k = if kind == "StatefulSet" { Kind::StatefulSet } else { Kind::DaemonSet };
            let owner = c.get(k, ns, name)?;
            let rev = object::labels(pod)
                .and_then(|l| l.get("controller-revision-hash"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            Some(format!("{}/{}", object::uid(owner), rev))
        }
        _ => None,
    }
}

/// Pods (of the namespaces in `scope`) grouped by their controller's uid.
pub fn pods_by_owner(c: &Cluster, scope: &Scope) -> HashMap<String, Vec<Arc<Value>>> {
    let mut m: HashMap<String, Vec<Arc<Value>>> = HashMap::new();
    for p in c.list_in(Kind::Pod, scope) {
        if let Some((_, _, uid)) = object::controller_of(&p) {
            m.entry(uid.to_string()).or_default().push(p.clone());
        }
    }
    m
}

/// Resolves an int-or-percent (`2` or `"25%"`) against a total, rounding as asked.
pub fn int_or_percent(v: Option<&Value>, total: i64, default: &str, round_up: bool) -> i64 {
    let v = v.cloned().unwrap_or_else(|| Value::String(default.into()));
    match v {
        Value::Number(n) => n.as_i64().unwrap_or(0),
        Value::String(s) => match s.strip_suffix('%').and_then(|p| p.parse::<i64>().ok()) {
            Some(p) if round_up => (p * total + 99) / 100,
            Some(p) => p * total / 100,
            None => s.parse().unwrap_or(0),
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests;
