//! The StatefulSet controller: pods `<name>-<ordinal>` created in order (each once the previous is
//! Ready, unless `podManagementPolicy: Parallel`), removed from the highest ordinal, and rolled one
//! pod at a time from the highest ordinal when the template changes, waiting for readiness.
//!
//! Invariant: a pod's `controller-revision-hash` label names the template revision it runs; a new
//! revision inherits the previous revision's failure sample unless the workload is fixed.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::object;
use super::super::resources::Kind;
use super::super::store::{Cluster, Scope};
use super::{events, pods, pods_by_owner};

/// The revision name Kubernetes would give this StatefulSet's (or DaemonSet's) current template.
pub fn revision_of(o: &Value) -> String {
    let t = object::normalized(o.pointer("/spec/template").unwrap_or(&Value::Null));
    format!("{}-{}", object::name(o), object::template_hash(&t))
}

pub fn pod_revision(p: &Value) -> &str {
    object::labels(p).and_then(|l| l.get("controller-revision-hash")).and_then(Value::as_str).unwrap_or_default()
}

/// Carries the failure sample of `old` revision over to `new` unless the workload was fixed.
pub fn inherit_failure(c: &mut Cluster, kind: Kind, o: &Value, old: &str, new: &str) {
    let w = (kind, object::namespace(o).to_string(), object::name(o).to_string());
    if old.is_empty() || old == new || c.sim.fixed.contains_key(&w) {
        return;
    }
    let uid = object::uid(o);
    if let Some(f) = c.sim.failures.get(&format!("{uid}/{old}")).cloned() {
        c.sim.failures.entry(format!("{uid}/{new}")).or_insert(f);
    }
}

pub fn run(c: &mut Cluster, now: Timestamp, scope: &Scope) {
    let by_owner = pods_by_owner(c, scope);
    for sts in c.list_in(Kind::StatefulSet, scope) {
        let (ns, name) = (object::namespace(&sts).to_string(), object::name(&sts).to_string());
        let rev = revision_of(&sts);
        let prev = object::str_at(&sts, "/status/updateRevision").unwrap_or_default().to_string();
        inherit_failure(c, Kind::StatefulSet, &sts, &prev, &rev);
        let want = object::replicas(&sts).max(0);
        let parallel = object::str_at(&sts, "/spec/podManagementPolicy") == Some("Parallel");
        let mut by_ordinal: BTreeMap<i64, Value> = BTreeMap::new();
        for p in by_owner.get(object::uid(&sts)).into_iter().flatten() {
            if let Some(o) = object::name(p).rsplit_once('-').and_then(|(_, n)| n.parse().ok()) {
                by_ordinal.insert(o, (**p).clone());
            }
        }
        for (&o, p) in by_ordinal.range(want..).rev() {
            c.remove(Kind::Pod, &ns, object::name(p));
            events::record(
                c,
                now,
                &sts,
                false,
                "SuccessfulDelete",
                &format!("delete Pod {name}-{o} in StatefulSet {name} successful"),
                "statefulset-controller",
            );
        }
        let template = sts.pointer("/spec/template").cloned().unwrap_or(Value::Null);
        for o in 0..want {
            if by_ordinal.contains_key(&o) {
                continue;
            }
            let lower_ready =
                by_ordinal.range(..o).all(|(_, p)| object::pod_ready(p)) && by_ordinal.range(..o).count() as i64 == o;
            if !parallel && !lower_ready {
                break;
            }
            let pod_name = format!("{name}-{o}");
            let labels = [
                ("controller-revision-hash", rev.as_str()),
                ("statefulset.kubernetes.io/pod-name", pod_name.as_str()),
                ("apps.kubernetes.io/pod-index", &o.to_string()),
            ];
            let pod = pods::from_template("apps/v1", "StatefulSet", &sts, &template, &pod_name, &labels);
            pods::create(c, now, pod);
            events::record(
                c,
                now,
                &sts,
                false,
                "SuccessfulCreate",
                &format!("create Pod {pod_name} in StatefulSet {name} successful"),
                "statefulset-controller",
            );
            if !parallel {
                break;
            }
        }
        // Rolling update from the highest ordinal: replace an outdated pod, wait while an updated
        // one is not Ready (so a broken new revision stalls the rollout, as on a real cluster).
        let live: Vec<&Value> = by_ordinal.range(..want).map(|(_, p)| p).collect();
        if live.len() as i64 == want {
            for p in live.iter().rev() {
                if pod_revision(p) != rev {
                    c.remove(Kind::Pod, &ns, object::name(p));
                    break;
                }
                if !object::pod_ready(p) {
                    break;
                }
            }
        }
        write_status(c, &sts, &rev);
    }
}

fn write_status(c: &mut Cluster, sts: &Value, rev: &str) {
    let (ns, name) = (object::namespace(sts).to_string(), object::name(sts).to_string());
    let owned: Vec<_> = c
        .list(Kind::Pod, Some(&ns))
        .into_iter()
        .filter(|p| object::controller_of(p).is_some_and(|(_, _, u)| u == object::uid(sts)))
        .collect();
    let ready = owned.iter().filter(|p| object::pod_ready(p)).count();
    let updated = owned.iter().filter(|p| pod_revision(p) == rev).count();
    let want = object::replicas(sts).max(0) as usize;
    let current_rev = if updated == want && updated == owned.len() {
        rev.to_string()
    } else {
        object::str_at(sts, "/status/currentRevision").unwrap_or(rev).to_string()
    };
    let current = owned.iter().filter(|p| pod_revision(p) == current_rev).count();
    let status = json!({
        "observedGeneration": object::generation(sts),
        "replicas": owned.len(),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "currentReplicas": current,
        "updatedReplicas": updated,
        "currentRevision": current_rev,
        "updateRevision": rev,
        "collisionCount": 0,
    });
    c.update_with(Kind::StatefulSet, &ns, &name, |o| o["status"] = status);
}
