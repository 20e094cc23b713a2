//! PodDisruptionBudgets: the status the disruption controller writes, and the eviction decision
//! the API server makes from it.
//!
//! Invariant: the decision is computed from the live pods at the time of the eviction, so two
//! evictions in a row cannot both spend the last allowed disruption.

use std::collections::HashSet;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::object;
use super::super::resources::Kind;
use super::super::selector::LabelSelector;
use super::super::store::{Cluster, Scope};
use super::int_or_percent;

/// What a budget allows right now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    pub expected: i64,
    pub current_healthy: i64,
    pub desired_healthy: i64,
    pub disruptions_allowed: i64,
}

pub fn matches(pdb: &Value, pod: &Value) -> bool {
    object::namespace(pdb) == object::namespace(pod)
        && LabelSelector::from_object(pdb.pointer("/spec/selector").unwrap_or(&Value::Null))
            .matches(object::labels(pod))
}

/// The desired replicas of the workloads owning `pods` (a Deployment for its ReplicaSets'
/// pods), or `None` when a pod has no scalable controller, as the disruption controller sees it.
fn controllers_scale(c: &Cluster, pods: &[Arc<Value>]) -> Option<i64> {
    let mut seen = HashSet::new();
    let mut total = 0;
    for p in pods {
        let ns = object::namespace(p);
        let (kind, name, _) = object::controller_of(p)?;
        let owner = match kind {
            "ReplicaSet" => {
                let rs = c.get(Kind::ReplicaSet, ns, name)?;
                match object::controller_of(rs) {
                    Some(("Deployment", d, _)) => c.get(Kind::Deployment, ns, d)?,
                    _ => rs,
                }
            }
            "StatefulSet" => c.get(Kind::StatefulSet, ns, name)?,
            _ => return None,
        };
        if seen.insert(object::uid(owner).to_string()) {
            total += object::replicas(owner);
        }
    }
    Some(total)
}

/// Computes a budget from the pods it selects. An integer `minAvailable` counts the selected
/// pods; percentages and `maxUnavailable` need the owning controllers' scale, and without it every
/// selected pod must stay (the real disruption controller then allows no disruption either).
pub fn budget(c: &Cluster, pdb: &Value) -> Budget {
    let pods: Vec<_> =
        c.list(Kind::Pod, Some(object::namespace(pdb))).into_iter().filter(|p| matches(pdb, p)).collect();
    let current_healthy = pods.iter().filter(|p| object::pod_ready(p)).count() as i64;
    let spec = pdb.get("spec").cloned().unwrap_or(Value::Null);
    let min = spec.get("minAvailable");
    let (expected, desired_healthy) = match (min, spec.get("maxUnavailable")) {
        (Some(Value::Number(n)), _) => (pods.len() as i64, n.as_i64().unwrap_or(0)),
        (Some(pct), _) => match controllers_scale(c, &pods) {
            Some(scale) => (scale, int_or_percent(Some(pct), scale, "0", true)),
            None => (pods.len() as i64, pods.len() as i64),
        },
        (None, Some(max)) => match controllers_scale(c, &pods) {
            Some(scale) => (scale, (scale - int_or_percent(Some(max), scale, "0", true)).max(0)),
            None => (pods.len() as i64, pods.len() as i64),
        },
        (None, None) => (pods.len() as i64, 0),
    };
    Budget {
        expected,
        current_healthy,
        desired_healthy,
        disruptions_allowed: (current_healthy - desired_healthy).max(0),
    }
}

/// Whether evicting `pod` is allowed by `pdb`, or the 429 cause message if not.
pub fn allows_eviction(c: &Cluster, pdb: &Value, pod: &Value) -> Result<(), String> {
    let b = budget(c, pdb);
    let healthy_pod = object::pod_ready(pod);
    let always = object::str_at(pdb, "/spec/unhealthyPodEvictionPolicy") == Some("AlwaysAllow");
    let ok = if healthy_pod { b.disruptions_allowed > 0 } else { always || b.current_healthy >= b.desired_healthy };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "The disruption budget {} needs {} healthy pods and has {} currently",
            object::name(pdb),
            b.desired_healthy,
            b.current_healthy
        ))
    }
}

/// The disruption controller: keeps every budget's status current.
pub fn run(c: &mut Cluster, now: Timestamp, scope: &Scope) {
    for pdb in c.list_in(Kind::PodDisruptionBudget, scope) {
        let b = budget(c, &pdb);
        let t = object::ts(now);
        let (ns, name) = (object::namespace(&pdb).to_string(), object::name(&pdb).to_string());
        c.update_with(Kind::PodDisruptionBudget, &ns, &name, |o| {
            let conds = o.pointer("/status/conditions").cloned().unwrap_or(json!([]));
            let mut st = json!({
                "observedGeneration": object::generation(o),
                "expectedPods": b.expected,
                "currentHealthy": b.current_healthy,
                "desiredHealthy": b.desired_healthy,
                "disruptionsAllowed": b.disruptions_allowed,
                "conditions": conds,
            });
            let mut tmp = json!({"status": st.clone()});
            if b.disruptions_allowed > 0 {
                object::set_condition(&mut tmp, "DisruptionAllowed", "True", "SufficientPods", "", &t, false);
            } else {
                object::set_condition(&mut tmp, "DisruptionAllowed", "False", "InsufficientPods", "", &t, false);
            }
            st["conditions"] = tmp["status"]["conditions"].take();
            o["status"] = st;
        });
    }
}
