//! What the rules say about capacity, nodes, jobs, replicas, targets and missing objects.

use std::fmt::Display;

use super::plural;
use crate::cluster::evidence::{AutoscalerFacts, ClaimFacts, RolloutChange, ServiceFacts, WorkloadFacts};

// --- Scheduling, claims, autoscalers, CPU -----------------------------------------------------

pub fn pending_pod(ns: &str, pod: &str, message: &str) -> String {
    format!("pod {ns}/{pod} is Pending: scheduler says «{message}»")
}
pub fn diag_unschedulable(subject: &str, pods: usize, message: &str) -> String {
    format!(
        "{subject}: {} cannot be scheduled: «{message}». This needs capacity, smaller requests, or different \
         node selectors or tolerations; Mimi proposes nothing.",
        plural(pods as i64, "pod", "pods")
    )
}
pub fn notify_only_unschedulable() -> &'static str {
    "notify only: adding nodes or changing requests is not in Mimi's catalogue"
}
pub fn claim(c: &ClaimFacts) -> String {
    let class = c.storage_class.as_deref().unwrap_or("(default)");
    let used = if c.used_by.is_empty() { String::new() } else { format!(", used by {}", c.used_by.join(", ")) };
    format!("PersistentVolumeClaim {}/{}: {}, storage class {class}{used}", c.namespace, c.name, c.phase)
}
pub fn diag_claim_pending(c: &ClaimFacts, why: Option<&str>) -> String {
    let class = c.storage_class.as_deref().unwrap_or("(default)");
    let why = why.map(|w| format!(": «{w}»")).unwrap_or_default();
    format!(
        "PersistentVolumeClaim {}/{} is Pending: no volume is bound (storage class {class}){why}. Pods that mount \
         it cannot start until storage is provisioned; Mimi proposes nothing.",
        c.namespace, c.name
    )
}
pub fn notify_only_claim() -> &'static str {
    "notify only: provisioning storage or fixing a storage class is not in Mimi's catalogue"
}
pub fn autoscaler(h: &AutoscalerFacts) -> String {
    format!(
        "HorizontalPodAutoscaler {}/{} for {}: {} current, {} desired, bounds {}..{}",
        h.namespace, h.name, h.target, h.current_replicas, h.desired_replicas, h.min_replicas, h.max_replicas
    )
}
pub fn diag_autoscaler_maxed(h: &AutoscalerFacts) -> String {
    format!(
        "HorizontalPodAutoscaler {}/{} is at its maximum of {} replicas for {}: it wants more than it may have. \
         Scaling by hand would be undone by the autoscaler; raise maxReplicas or find why the load grew.",
        h.namespace, h.name, h.max_replicas, h.target
    )
}
pub fn notify_only_autoscaler() -> &'static str {
    "notify only: the autoscaler owns the replica count; changing maxReplicas is a manifest change"
}
pub fn cpu_limit(container: &str, limit: &str) -> String {
    format!("container {container}: CPU limit {limit}")
}
pub fn diag_cpu(w: &impl Display, alert: &str, replicas: u32) -> String {
    format!(
        "{w}: {alert} — its {} use more CPU than they are given. More replicas spread the load.",
        plural(replicas, "replica", "replicas")
    )
}
pub fn scale_step(from: u32, to: u32, max: u32) -> String {
    format!("one scale step: {from} -> {to} replicas (the larger of +1 and ×1.5, at most {max} by policy)")
}
pub fn scale_no_room(current: u32, max: u32) -> String {
    format!("no scale proposed: {current} replicas already, and policy allows at most {max} (or its growth factor)")
}
pub fn reason_scale_cpu(from: u32, to: u32) -> String {
    format!("spread the CPU load over {to} replicas instead of {from}")
}
pub fn autoscaler_owns_replicas() -> &'static str {
    "no scale proposed: an autoscaler sets this workload's replica count and would undo a manual scale"
}
pub fn daemonset_cannot_scale() -> &'static str {
    "no scale proposed: a DaemonSet runs one pod per node"
}
pub fn cpu_limit_is_manifest() -> &'static str {
    "raising the CPU limit is a change to the manifest, which Mimi does not make"
}

// --- Nodes -------------------------------------------------------------------------------------

pub fn diag_node_not_ready(node: &str, ready: &str) -> String {
    format!(
        "Node {node} is NotReady (Ready={ready}): its pods are not being looked after. Cordoning stops new pods \
         from landing there; draining moves the running ones elsewhere, respecting PodDisruptionBudgets."
    )
}
pub fn node_cordoned(node: &str) -> String {
    format!("node {node} is already cordoned")
}
pub fn pods_on_node(node: &str, pods: &[String]) -> String {
    format!("on node {node}: {}", pods.join(", "))
}
pub fn node_actions_are_high_risk() -> &'static str {
    "cordon and drain are high-risk actions: people approve them"
}
pub fn reason_cordon_not_ready() -> String {
    "first: no new pods on a node that is not ready".into()
}
pub fn reason_drain_not_ready() -> String {
    "then: move its pods to ready nodes (evictions respect PodDisruptionBudgets)".into()
}
pub fn diag_node_pressure(node: &str, kind: &str) -> String {
    format!(
        "Node {node} reports {kind}: the kubelet is evicting pods to protect itself. Cordoning keeps new pods \
         away while people free up the node."
    )
}
pub fn pressure_needs_people(kind: &str) -> &'static str {
    match kind {
        "DiskPressure" => "freeing disk (images, logs, emptyDir volumes) needs a person on the node",
        "PIDPressure" => "finding the process that forks without end needs a person on the node",
        _ => "finding what uses the node's memory needs a person; evicted pods are rescheduled elsewhere",
    }
}
pub fn reason_cordon_pressure(kind: &str) -> String {
    format!("no new pods on a node under {kind} while it recovers")
}

// --- Jobs, replicas, targets, missing objects --------------------------------------------------

pub fn job_counts(j: &WorkloadFacts) -> String {
    format!("Job {}/{}: {} succeeded, {} failed, {} active", j.namespace, j.name, j.ready, j.updated, j.available)
}
pub fn diag_job_failed(ns: &str, name: &str, reason: &str, failed: i32, last_error: Option<&str>) -> String {
    let last = last_error.map(|e| format!(" Last error: «{e}».")).unwrap_or_default();
    format!(
        "Job {ns}/{name} failed ({reason}) after {}.{last} Re-running it is up to a person once the cause is fixed.",
        plural(failed, "failed attempt", "failed attempts")
    )
}
pub fn notify_only_job() -> &'static str {
    "notify only: re-running a Job is not in Mimi's catalogue"
}
pub fn unready_pod(ns: &str, pod: &str, states: &str) -> String {
    format!("pod {ns}/{pod} is not ready: {states}")
}
pub fn diag_replica_mismatch(w: &impl Display, ready: i32, desired: i32, deadline: bool) -> String {
    let deadline = if deadline { " Its rollout is past its progress deadline." } else { "" };
    format!("{w}: {ready} of {desired} replicas ready.{deadline}")
}
pub fn diag_rollout_stuck(w: &impl Display, r: &RolloutChange, pods: usize) -> String {
    format!(
        "{w}: the rollout to revision {} ({}) does not progress: {} of the new revision stay unready. Rolling \
         back to revision {} ends the stuck rollout on the version that served.",
        r.to_revision,
        r.changes.join("; "),
        plural(pods as i64, "pod", "pods"),
        r.from_revision
    )
}
pub fn reason_delete_stuck_pod() -> String {
    "replace a pod that stays unready; its controller makes a new one".into()
}
pub fn notify_only_mismatch() -> &'static str {
    "no action proposed: the evidence does not show which change would help"
}
pub fn service(v: &ServiceFacts) -> String {
    format!(
        "Service {}/{} selects {} ({} ready)",
        v.namespace,
        v.name,
        plural(v.pods as i64, "pod", "pods"),
        v.ready_pods
    )
}
pub fn diag_target_down(v: &ServiceFacts) -> String {
    format!(
        "Prometheus cannot scrape Service {}/{}: {} of its {} ready.",
        v.namespace,
        v.name,
        v.ready_pods,
        plural(v.pods as i64, "pod is", "pods are")
    )
}
pub fn service_selects_nothing() -> &'static str {
    "the Service's selector matches no pod: its workload is gone, scaled to zero, or relabelled"
}
pub fn reason_restart_target() -> String {
    "none of the target's pods is ready: fresh pods".into()
}
pub fn target_pods_ready() -> &'static str {
    "its pods are ready, so the scrape itself fails: check the port, the path, a NetworkPolicy or the exporter"
}
pub fn not_found(what: &str) -> String {
    format!("{what} does not exist in the cluster")
}
pub fn diag_missing(what: &[String]) -> String {
    format!(
        "The alert names {}, which the cluster does not have (deleted, renamed, or a wrong label): there is \
         nothing to act on.",
        what.join(", ")
    )
}
pub const DIAG_NO_EVIDENCE: &str =
    "No evidence from the cluster (not configured or not reachable): the rules cannot diagnose without it.";
pub fn diag_no_match(alerts: &[&str]) -> String {
    format!("No runbook rule matched {}; the evidence is attached for a person to read.", alerts.join(", "))
}
