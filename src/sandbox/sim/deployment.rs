//! The Deployment controller: finds or creates the ReplicaSet for the current template (with the
//! revision annotations Kubernetes writes), rolls pods over (RollingUpdate with maxSurge /
//! maxUnavailable, or Recreate), prunes old revisions and writes the Deployment status and
//! conditions that `kubectl rollout status` reads.
//!
//! Invariant: a template change makes exactly one new ReplicaSet named `<deployment>-<hash>`; a
//! template equal to an older revision's reuses that ReplicaSet and gives it the next revision
//! number (that is a rollback), as the real controller does.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::object::{self, ts};
use super::super::resources::Kind;
use super::super::store::{Cluster, Scope};
use super::fix::template_without_hash;
use super::{events, int_or_percent};

pub const REVISION: &str = "deployment.kubernetes.io/revision";

pub fn revision(o: &Value) -> i64 {
    object::annotation(o, REVISION).and_then(|r| r.parse().ok()).unwrap_or(0)
}

/// (available pods, all pods) of a ReplicaSet, counted from its pods.
fn pod_counts(c: &Cluster, rs: &Value) -> (i64, i64) {
    let owned: Vec<_> = c
        .list(Kind::Pod, Some(object::namespace(rs)))
        .into_iter()
        .filter(|p| object::controller_of(p).is_some_and(|(_, _, u)| u == object::uid(rs)))
        .collect();
    let ready = owned.iter().filter(|p| object::pod_ready(p)).count() as i64;
    (ready, owned.len() as i64)
}

fn scale_rs(c: &mut Cluster, now: Timestamp, d: &Value, rs: &Value, to: i64) {
    if object::replicas(rs) == to {
        return;
    }
    let from = object::replicas(rs);
    let (ns, name) = (object::namespace(rs).to_string(), object::name(rs).to_string());
    let desired = object::replicas(d);
    let surge = int_or_percent(d.pointer("/spec/strategy/rollingUpdate/maxSurge"), desired, "25%", true);
    c.update_with(Kind::ReplicaSet, &ns, &name, |o| {
        o["spec"]["replicas"] = json!(to);
        object::set_annotation(o, "deployment.kubernetes.io/desired-replicas", desired.to_string());
        object::set_annotation(o, "deployment.kubernetes.io/max-replicas", (desired + surge).to_string());
    });
    let verb = if to > from { "up" } else { "down" };
    let msg = format!("Scaled {verb} replica set {name} from {from} to {to}");
    events::record(c, now, d, false, "ScalingReplicaSet", &msg, "deployment-controller");
}

/// Finds the ReplicaSet whose template is the Deployment's, creating or re-revisioning it.
fn new_replicaset(c: &mut Cluster, now: Timestamp, d: &Value, owned: &[Arc<Value>]) -> Arc<Value> {
    let template = object::normalized(d.pointer("/spec/template").unwrap_or(&Value::Null));
    let max_rev = owned.iter().map(|rs| revision(rs)).max().unwrap_or(0);
    let ns = object::namespace(d).to_string();
    if let Some(rs) = owned.iter().find(|rs| template_without_hash(rs) == template) {
        if revision(rs) == max_rev {
            return rs.clone();
        }
        // Rollback: the old ReplicaSet becomes the newest revision again.
        let old_rev = revision(rs);
        let next = (max_rev + 1).to_string();
        return c
            .update_with(Kind::ReplicaSet, &ns, object::name(rs), |o| {
                object::set_annotation(o, REVISION, next);
                object::set_annotation(o, "deployment.kubernetes.io/revision-history", old_rev.to_string());
            })
            .expect("owned replicaset exists");
    }
    let hash = object::template_hash(&template);
    let name = format!("{}-{}", object::name(d), hash);
    let mut tpl = d.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    tpl["metadata"]["labels"]["pod-template-hash"] = json!(hash);
    let mut selector = d.pointer("/spec/selector").cloned().unwrap_or_else(|| json!({}));
    selector["matchLabels"]["pod-template-hash"] = json!(hash);
    let desired = object::replicas(d);
    let surge = int_or_percent(d.pointer("/spec/strategy/rollingUpdate/maxSurge"), desired, "25%", true);
    let rs = json!({
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": tpl["metadata"]["labels"],
            "annotations": {
                REVISION: (max_rev + 1).to_string(),
                "deployment.kubernetes.io/desired-replicas": desired.to_string(),
                "deployment.kubernetes.io/max-replicas": (desired + surge).to_string(),
            },
            "ownerReferences": [object::controller_ref("apps/v1", "Deployment", d)],
        },
        "spec": {
            "replicas": 0,
            "minReadySeconds": d.pointer("/spec/minReadySeconds").cloned().unwrap_or(json!(0)),
            "selector": selector,
            "template": tpl,
        },
    });
    let previous = owned.iter().max_by_key(|rs| revision(rs)).map(|rs| object::uid(rs).to_string());
    let rs = c.create(Kind::ReplicaSet, rs, now);
    let workload = (Kind::Deployment, ns, object::name(d).to_string());
    if !c.sim.fixed.contains_key(&workload)
        && let Some(f) = previous.and_then(|uid| c.sim.failures.get(&uid).cloned())
    {
        c.sim.failures.insert(object::uid(&rs).to_string(), f);
    }
    rs
}

pub fn run(c: &mut Cluster, now: Timestamp, scope: &Scope) {
    for d in c.list_in(Kind::Deployment, scope) {
        if d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let ns = object::namespace(&d).to_string();
        let owned = |c: &Cluster| -> Vec<Arc<Value>> {
            c.list(Kind::ReplicaSet, Some(&ns))
                .into_iter()
                .filter(|rs| object::controller_of(rs).is_some_and(|(_, _, u)| u == object::uid(&d)))
                .collect()
        };
        let new = new_replicaset(c, now, &d, &owned(c));
        let d = c
            .update_with(Kind::Deployment, &ns, object::name(&d), |o| {
                object::set_annotation(o, REVISION, revision(&new).to_string())
            })
            .expect("deployment exists");
        rollout(c, now, &d, &new, &owned(c));
        prune(c, &d, &owned(c));
        write_status(c, now, &d, &owned(c));
    }
}

/// One step of the rollout; the fixpoint loop repeats it as pods become available.
fn rollout(c: &mut Cluster, now: Timestamp, d: &Value, new: &Value, owned: &[Arc<Value>]) {
    let desired = object::replicas(d);
    let olds: Vec<&Arc<Value>> = owned.iter().filter(|rs| object::uid(rs) != object::uid(new)).collect();
    let active_olds: Vec<&&Arc<Value>> = olds.iter().filter(|rs| object::replicas(rs) > 0).collect();
    let new =
        owned.iter().find(|rs| object::uid(rs) == object::uid(new)).cloned().unwrap_or_else(|| Arc::new(new.clone()));
    if active_olds.is_empty() {
        scale_rs(c, now, d, &new, desired);
        return;
    }
    if d.pointer("/spec/strategy/type").and_then(Value::as_str) == Some("Recreate") {
        for rs in &active_olds {
            scale_rs(c, now, d, rs, 0);
        }
        if olds.iter().all(|rs| pod_counts(c, rs).1 == 0) {
            scale_rs(c, now, d, &new, desired);
        }
        return;
    }
    let ru = d.pointer("/spec/strategy/rollingUpdate");
    let surge = int_or_percent(ru.and_then(|r| r.get("maxSurge")), desired, "25%", true);
    let mut unavailable = int_or_percent(ru.and_then(|r| r.get("maxUnavailable")), desired, "25%", false);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    // Scale the new ReplicaSet up within the surge budget.
    let total: i64 = owned.iter().map(|rs| object::replicas(rs)).sum();
    let new_replicas = object::replicas(&new);
    if new_replicas > desired {
        scale_rs(c, now, d, &new, desired);
    } else if total < desired + surge {
        let up = (desired + surge - total).min(desired - new_replicas);
        if up > 0 {
            scale_rs(c, now, d, &new, new_replicas + up);
        }
    }
    // Scale old ReplicaSets down while keeping `desired - maxUnavailable` pods available.
    let min_available = desired - unavailable;
    let all_pods: i64 = owned.iter().map(|rs| object::replicas(rs)).sum();
    let (new_avail, _) = pod_counts(c, &new);
    let new_unavailable = (object::replicas(&new) - new_avail).max(0);
    let mut budget = all_pods - min_available - new_unavailable;
    let mut olds_sorted: Vec<&Arc<Value>> = olds.clone();
    olds_sorted.sort_by_key(|rs| revision(rs));
    // First the unhealthy old replicas, which count against availability anyway.
    for rs in &olds_sorted {
        let (avail, _) = pod_counts(c, rs);
        let unhealthy = (object::replicas(rs) - avail).max(0);
        let cut = unhealthy.min(budget.max(0));
        if cut > 0 {
            let current = c
                .get(Kind::ReplicaSet, object::namespace(rs), object::name(rs))
                .cloned()
                .unwrap_or_else(|| (*rs).clone());
            scale_rs(c, now, d, &current, object::replicas(&current) - cut);
            budget -= cut;
        }
    }
    let available: i64 = owned.iter().map(|rs| pod_counts(c, rs).0).sum();
    let mut budget = available - min_available;
    for rs in &olds_sorted {
        let current =
            c.get(Kind::ReplicaSet, object::namespace(rs), object::name(rs)).cloned().unwrap_or_else(|| (*rs).clone());
        let cut = object::replicas(&current).min(budget.max(0));
        if cut > 0 {
            scale_rs(c, now, d, &current, object::replicas(&current) - cut);
            budget -= cut;
        }
    }
}

/// Deletes scaled-down old ReplicaSets beyond `revisionHistoryLimit` (default 10), oldest first.
fn prune(c: &mut Cluster, d: &Value, owned: &[Arc<Value>]) {
    let limit = object::int_at(d, "/spec/revisionHistoryLimit").unwrap_or(10).max(0) as usize;
    let current = revision(d);
    let mut idle: Vec<&Arc<Value>> = owned
        .iter()
        .filter(|rs| revision(rs) != current && object::replicas(rs) == 0 && pod_counts(c, rs).1 == 0)
        .collect();
    if idle.len() <= limit {
        return;
    }
    idle.sort_by_key(|rs| revision(rs));
    let extra = idle.len() - limit;
    for rs in idle.into_iter().take(extra) {
        c.remove(Kind::ReplicaSet, object::namespace(rs), object::name(rs));
    }
}

fn write_status(c: &mut Cluster, now: Timestamp, d: &Value, owned: &[Arc<Value>]) {
    let t = ts(now);
    let desired = object::replicas(d);
    let current_rev = revision(d);
    let (mut replicas, mut ready, mut updated) = (0, 0, 0);
    for rs in owned {
        let (avail, count) = pod_counts(c, rs);
        replicas += count;
        ready += avail;
        if revision(rs) == current_rev {
            updated = count;
        }
    }
    let unavailable_budget =
        int_or_percent(d.pointer("/spec/strategy/rollingUpdate/maxUnavailable"), desired, "25%", false);
    let complete = updated == desired && replicas == desired && ready == desired;
    let mut status = json!({
        "observedGeneration": object::generation(d),
        "replicas": replicas,
        "updatedReplicas": updated,
        "readyReplicas": ready,
        "availableReplicas": ready,
    });
    if desired - ready > 0 {
        status["unavailableReplicas"] = json!(desired - ready);
    }
    let new_name =
        owned.iter().find(|rs| revision(rs) == current_rev).map(|rs| object::name(rs).to_string()).unwrap_or_default();
    let (ns, name) = (object::namespace(d).to_string(), object::name(d).to_string());
    c.update_with(Kind::Deployment, &ns, &name, |o| {
        let conds = o.pointer("/status/conditions").cloned();
        let mut tmp = json!({"status": {"conditions": conds.unwrap_or(json!([]))}});
        if ready >= desired - unavailable_budget {
            object::set_condition(
                &mut tmp,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                &t,
                true,
            );
        } else {
            object::set_condition(
                &mut tmp,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                &t,
                true,
            );
        }
        let (reason, msg) = if complete {
            ("NewReplicaSetAvailable", format!("ReplicaSet \"{new_name}\" has successfully progressed."))
        } else {
            ("ReplicaSetUpdated", format!("ReplicaSet \"{new_name}\" is progressing."))
        };
        object::set_condition(&mut tmp, "Progressing", "True", reason, &msg, &t, true);
        status["conditions"] = tmp["status"]["conditions"].take();
        o["status"] = status;
    });
}
