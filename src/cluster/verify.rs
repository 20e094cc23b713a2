//! Did the action work? One observation of an action's success criteria, through `ClusterRead`.
//!
//! The verify step calls [`observe`] repeatedly (the worker schedules the re-checks) until the
//! action is `complete`, then keeps observing for a settle period: fixed means it stayed healthy —
//! rollout complete with every replica updated, ready and available, no container restarting;
//! a deleted pod replaced by a ready one; a node cordoned or schedulable as asked; a drained node
//! empty of evictable pods and their workloads whole again. A timeout is decided by the caller.

use k8s_openapi::api::core::v1::Pod;

use super::{ClusterError, ClusterRead};
use crate::domain::action::{Action, Target, TargetKind};

/// One look at the target.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Observation {
    /// The change the action asked for has fully happened (rollout done, pod replaced...).
    pub complete: bool,
    /// The target is healthy now (ready, not restarting).
    pub healthy: bool,
    /// What was seen, for the timeline and the audit row.
    pub lines: Vec<String>,
}

impl Observation {
    fn new(complete: bool, healthy: bool, line: String) -> Self {
        Observation { complete, healthy, lines: vec![line] }
    }
}

/// Observes `action`'s target now.
pub async fn observe(read: &dyn ClusterRead, action: &Action) -> Result<Observation, ClusterError> {
    let target = action.target();
    let ns = target.namespace.as_ref().map(|n| n.as_str()).unwrap_or_default();
    let name = target.name.as_str();
    match action {
        Action::Restart { .. } | Action::Rollback { .. } | Action::Scale { .. } => {
            workload(read, &target, action).await
        }
        Action::DeletePod { .. } => {
            let pod = read.pod(ns, name).await?;
            match pod {
                // Recreated under the same name (StatefulSet) or still terminating.
                Some(p) => {
                    let ready = pod_ready(&p);
                    Ok(Observation::new(ready, ready, format!("pod {ns}/{name} is back: {}", pod_state(&p))))
                }
                None => Ok(Observation::new(true, true, format!("pod {ns}/{name} is gone"))),
            }
        }
        Action::Cordon { .. } | Action::Uncordon { .. } => {
            let want = matches!(action, Action::Cordon { .. });
            let node = read.node(name).await?;
            let cordoned = node.as_ref().and_then(|n| n.spec.as_ref()).and_then(|s| s.unschedulable).unwrap_or(false);
            let done = node.is_some() && cordoned == want;
            let state = if cordoned { "cordoned" } else { "schedulable" };
            Ok(Observation::new(done, done, format!("node {name} is {state}")))
        }
        Action::Drain { .. } => {
            let pods = read.pods_on_node(name).await?;
            let left: Vec<String> = pods
                .iter()
                .filter(|p| {
                    !p.metadata
                        .owner_references
                        .iter()
                        .flatten()
                        .any(|o| o.controller == Some(true) && o.kind == "DaemonSet")
                        && !p
                            .metadata
                            .annotations
                            .as_ref()
                            .is_some_and(|a| a.contains_key("kubernetes.io/config.mirror"))
                })
                .map(|p| {
                    format!(
                        "{}/{}",
                        p.metadata.namespace.as_deref().unwrap_or_default(),
                        p.metadata.name.as_deref().unwrap_or_default()
                    )
                })
                .collect();
            let done = left.is_empty();
            let line = if done {
                format!("node {name} has no evictable pods left")
            } else {
                format!("still on node {name}: {}", left.join(", "))
            };
            Ok(Observation::new(done, done, line))
        }
    }
}

async fn workload(read: &dyn ClusterRead, target: &Target, action: &Action) -> Result<Observation, ClusterError> {
    let ns = target.namespace.as_ref().map(|n| n.as_str()).unwrap_or_default();
    let name = target.name.as_str();
    let (desired, ready, updated, available, generation_done, selector) = match target.kind {
        TargetKind::Deployment => {
            let Some(d) = read.deployment(ns, name).await? else { return Ok(gone(target)) };
            let st = d.status.clone().unwrap_or_default();
            let gen_done = st.observed_generation >= d.metadata.generation;
            let desired = d.spec.replicas.unwrap_or(1);
            // Old pods still counted in status.replicas mean the rollout has not finished.
            let updated = if st.replicas.unwrap_or(0) > desired { 0 } else { st.updated_replicas.unwrap_or(0) };
            (
                desired,
                st.ready_replicas.unwrap_or(0),
                updated,
                st.available_replicas.unwrap_or(0),
                gen_done,
                d.spec.selector.match_labels.unwrap_or_default(),
            )
        }
        TargetKind::StatefulSet => {
            let Some(s) = read.stateful_set(ns, name).await? else { return Ok(gone(target)) };
            let st = s.status.clone().unwrap_or_default();
            let gen_done = st.observed_generation >= s.metadata.generation && st.current_revision == st.update_revision;
            let desired = s.spec.replicas.unwrap_or(1);
            (
                desired,
                st.ready_replicas.unwrap_or(0),
                st.updated_replicas.unwrap_or(0),
                st.available_replicas.unwrap_or(0),
                gen_done,
                s.spec.selector.match_labels.unwrap_or_default(),
            )
        }
        TargetKind::DaemonSet => {
            let Some(d) = read.daemon_set(ns, name).await? else { return Ok(gone(target)) };
            let st = d.status.clone().unwrap_or_default();
            let desired = st.desired_number_scheduled;
            let gen_done = st.observed_generation >= d.metadata.generation;
            (
                desired,
                st.number_ready,
                st.updated_number_scheduled.unwrap_or(0),
                st.number_available.unwrap_or(0),
                gen_done,
                d.spec.selector.match_labels.unwrap_or_default(),
            )
        }
        TargetKind::Pod | TargetKind::Node => return Ok(gone(target)),
    };
    let rolled = generation_done && updated >= desired;
    let complete = match action {
        Action::Scale { replicas, .. } => {
            generation_done && i64::from(desired) == i64::from(*replicas) && ready == desired
        }
        _ => rolled && ready == desired,
    };
    let pods = read.pods(Some(ns), &selector).await?;
    let crashing = crashing(&pods);
    let healthy = complete && available >= desired && crashing.is_empty();
    let mut lines = vec![format!("{target}: {ready}/{desired} ready, {updated} updated, {available} available")];
    if !crashing.is_empty() {
        lines.push(format!("not healthy: {}", crashing.join(", ")));
    }
    Ok(Observation { complete, healthy, lines })
}

fn gone(target: &Target) -> Observation {
    Observation::new(true, false, format!("{target} no longer exists"))
}

fn pod_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn pod_state(p: &Pod) -> String {
    let phase = p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_else(|| "Unknown".into());
    if pod_ready(p) { format!("{phase}, ready") } else { format!("{phase}, not ready") }
}

/// Pods (of the current template) that are not ready or whose containers are waiting to restart.
fn crashing(pods: &[Pod]) -> Vec<String> {
    pods.iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| {
            let statuses = p.status.as_ref().and_then(|s| s.container_statuses.as_deref()).unwrap_or_default();
            !pod_ready(p) || statuses.iter().any(|c| c.state.as_ref().and_then(|s| s.waiting.as_ref()).is_some())
        })
        .map(|p| format!("{} ({})", p.metadata.name.as_deref().unwrap_or_default(), pod_state(p)))
        .collect()
}
