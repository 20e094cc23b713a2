//! What the runbook rules say: diagnoses, facts, reasons for proposals, and why something was
//! not proposed. Quoted cluster text is marked with «» so it reads as a quotation, not as Mimi's words.

use std::fmt::Display;

use crate::cluster::evidence::{AutoscalerFacts, ClaimFacts, RolloutChange, ServiceFacts, WorkloadFacts};

fn plural(n: impl Into<i64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

// --- Facts shared by several rules -------------------------------------------------------------

pub fn container_state(ns: &str, pod: &str, container: &str, state: &str, restarts: i32, last: Option<&str>) -> String {
    let last = last.map(|t| format!(", last terminated {t}")).unwrap_or_default();
    format!("pod {ns}/{pod} container {container}: {state}, {}{last}", plural(restarts, "restart", "restarts"))
}
pub fn more_pods(n: usize) -> String {
    format!("… and {} more in the same state", plural(n as i64, "pod", "pods"))
}
pub fn log_line(pod: &str, container: &str, line: &str) -> String {
    format!("log of {pod}/{container}: «{line}»")
}
pub fn event(object: &str, reason: &str, count: i32, message: &str) -> String {
    format!("event {reason} ×{count} on {object}: «{message}»")
}
pub fn condition(object: &str, condition: &str) -> String {
    format!("{object}: {condition}")
}
pub fn note(note: &str) -> String {
    format!("evidence note: {note}")
}
pub fn rollout(r: &RolloutChange) -> String {
    let at = r.at.as_deref().map(|a| format!(" at {a}")).unwrap_or_default();
    format!("latest rollout: revision {} -> {}{at}: {}", r.from_revision, r.to_revision, r.changes.join("; "))
}
pub fn old_revision_serving(revision: &str, ready: i32) -> String {
    format!("revision {revision} still has {} serving", plural(ready, "ready pod", "ready pods"))
}
pub fn workload_counts(w: &WorkloadFacts) -> String {
    format!(
        "{} {}/{}: {} desired, {} ready, {} available",
        w.kind.as_str(),
        w.namespace,
        w.name,
        w.desired,
        w.ready,
        w.available
    )
}
pub fn container_resources(container: &str, resources: &str) -> String {
    format!("container {container}: {resources}")
}
pub fn also(rule: &str, diagnosis: &str) -> String {
    let first = diagnosis.split_inclusive(". ").next().unwrap_or(diagnosis).trim();
    format!("also ({rule}): {first}")
}

// --- Crash loops, OOMKilled, probes -------------------------------------------------------------

pub fn diag_crash_after_rollout(w: &impl Display, pods: usize, r: &RolloutChange, oom: bool) -> String {
    let how = if oom { "crash (OOMKilled)" } else { "crash-loop" };
    format!(
        "{w}: {} of revision {} {how} since the rollout from revision {} ({}). Rolling back to revision {} \
         is the quickest way back to a version that worked; a restart would run the same broken version.",
        plural(pods as i64, "pod", "pods"),
        r.to_revision,
        r.from_revision,
        r.changes.join("; "),
        r.from_revision
    )
}
pub fn reason_rollback(revision: &str) -> String {
    format!("go back to revision {revision}, which ran before the failing rollout")
}
pub fn reason_restart_same_version() -> String {
    "second choice: new pods of the same version, in case the failure was transient".into()
}
pub fn diag_oom(subject: &str, pods: usize, limit: Option<&str>) -> String {
    let limit = match limit {
        Some(l) => format!("at its memory limit of {l}"),
        None => "with no memory limit set (the node ran short of memory)".into(),
    };
    format!(
        "{subject}: {} OOMKilled — killed for running out of memory {limit}. A restart gives it fresh memory and \
         buys time, but it is a stopgap: if the load grew or memory leaks, it will be OOMKilled again until the \
         limit is raised or the leak fixed.",
        plural(pods as i64, "container was", "containers were")
    )
}
pub fn memory_limit(container: &str, limit: &str) -> String {
    format!("container {container}: memory limit {limit}")
}
pub fn no_memory_limit(container: &str) -> String {
    format!("container {container}: no memory limit set")
}
pub fn oom_stopgap() -> &'static str {
    "restart is a stopgap for OOMKilled: raising the memory limit is a change to the manifest, which Mimi does not make"
}
pub fn reason_restart_oom() -> String {
    "stopgap: new pods start with empty memory; raise the memory limit in the manifest for a lasting fix".into()
}
pub fn bare_pod(ns: &str, pod: &str) -> String {
    format!("pod {ns}/{pod} has no controller: deleting it would not bring it back, so nothing is proposed")
}
pub fn diag_crashloop(subject: &str, pods: usize, reason: &str) -> String {
    format!(
        "{subject}: {} in CrashLoopBackOff (last exit: {reason}). The log lines below say why; a restart helps \
         if the cause was transient (a dependency that is back), not if the code or its configuration is wrong.",
        plural(pods as i64, "pod is", "pods are")
    )
}
pub fn reason_restart_crash() -> String {
    "rolling restart: fresh pods, one at a time, for a failure that may have been transient".into()
}
pub fn reason_delete_one_pod() -> String {
    "smaller step: only this pod fails; its controller replaces it".into()
}
pub fn diag_probe(subject: &str, liveness: bool, pods: usize, message: &str) -> String {
    let which = if liveness { "liveness" } else { "readiness" };
    format!(
        "{subject}: the {which} probe fails on {} («{message}»).{}",
        plural(pods as i64, "pod", "pods"),
        if liveness { " The kubelet restarts containers whose liveness probe fails." } else { "" }
    )
}
pub fn reason_delete_probe_pod() -> String {
    "only some pods fail their probe: replace this one; its controller makes a new pod".into()
}
pub fn reason_restart_probe() -> String {
    "rolling restart: fresh pods for a process that stopped answering its liveness probe".into()
}
pub fn readiness_everywhere() -> &'static str {
    "every pod fails its readiness probe: a restart rarely helps; a dependency it checks is the likelier cause"
}

// --- Images and configuration ------------------------------------------------------------------

pub fn image_pull(ns: &str, pod: &str, container: &str, image: &str, reason: &str, message: Option<&str>) -> String {
    let message = message.map(|m| format!(": «{m}»")).unwrap_or_default();
    format!("pod {ns}/{pod} container {container} cannot pull image {image}: {reason}{message}")
}
pub fn diag_image_pull(subject: &str, image: &str, reason: &str) -> String {
    format!(
        "{subject}: image {image} cannot be pulled ({reason}). Only a person can fix this (the tag, the registry, \
         or its credentials); Mimi proposes nothing."
    )
}
pub fn notify_only_pull() -> &'static str {
    "notify only: no action in the catalogue fixes an image that cannot be pulled"
}
pub fn diag_pull_after_rollout(w: &impl Display, image: &str, from: &str) -> String {
    format!(
        "{w}: the rollout to image {image} cannot pull that image (ImagePullBackOff). Rolling back to revision \
         {from} returns to the image that ran before."
    )
}
pub fn reason_rollback_image(revision: &str) -> String {
    format!("go back to revision {revision}, whose image could be pulled")
}
pub fn container_config(ns: &str, pod: &str, container: &str, reason: &str, message: Option<&str>) -> String {
    let message = message.map(|m| format!(": «{m}»")).unwrap_or_default();
    format!("pod {ns}/{pod} container {container}: {reason}{message}")
}
pub fn diag_container_config(subject: &str, pods: usize, missing: Option<&str>) -> String {
    let what = missing.map(|m| format!("{m} is missing")).unwrap_or_else(|| "its configuration is missing".into());
    format!(
        "{subject}: {} cannot start its container (CreateContainerConfigError): {what}. Create it or fix the \
         reference; restarting would not help.",
        plural(pods as i64, "pod", "pods")
    )
}
pub fn notify_only_config() -> &'static str {
    "notify only: a missing ConfigMap or Secret must be created or the reference fixed by a person"
}

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

// --- Screening and flags -----------------------------------------------------------------------

pub fn withheld_malformed(kind: &str, name: &str) -> String {
    format!("not proposed: {kind} {name} is not a well-formed catalogue action")
}
pub fn withheld_not_allowed(kind: &str) -> String {
    format!("not proposed: {kind} — the alerting rule's mimi_allowed_actions does not allow it")
}
pub fn withheld_protected(kind: &str, ns: &str) -> String {
    format!("not proposed: {kind} in namespace {ns}, which is protected (policy.protected_namespaces)")
}
pub const WITHHELD: &str = "[instruction-like text withheld, see flags]";
pub fn flag_instruction(place: &str, excerpt: &str) -> String {
    format!("instruction-like text in {place}, treated as data and ignored: «{excerpt}»")
}
pub fn place_alert(alert: &str, key: &str) -> String {
    format!("alert {alert} ({key})")
}
pub fn place_log(ns: &str, pod: &str, container: &str, previous: bool) -> String {
    format!("the {}log of {ns}/{pod}/{container}", if previous { "previous " } else { "" })
}
pub fn place_event(object: &str, reason: &str) -> String {
    format!("event {reason} on {object}")
}
pub fn place_pod(ns: &str, pod: &str) -> String {
    format!("the status of pod {ns}/{pod}")
}
pub fn place_workload(kind: &str, ns: &str, name: &str) -> String {
    format!("the conditions of {kind} {ns}/{name}")
}
pub fn place_node(node: &str) -> String {
    format!("the conditions of node {node}")
}

// --- Configured rules --------------------------------------------------------------------------

pub fn custom_matched(rule: &str, alert: Option<&str>, text: Option<&str>) -> String {
    let alert = alert.map(|a| format!(" on alert {a}")).unwrap_or_default();
    let text = text.map(|t| format!(", evidence «{t}»")).unwrap_or_default();
    format!("configured rule {rule} matched{alert}{text}")
}
pub fn diag_custom(rule: &str) -> String {
    format!("Configured rule {rule} matched this incident.")
}
pub fn reason_custom(rule: &str) -> String {
    format!("proposed by the configured rule {rule}")
}
pub fn custom_unfilled(kind: &str, placeholder: &str) -> String {
    format!("not proposed: {kind} needs {{{placeholder}}}, which neither the alert nor the evidence gives")
}
pub fn custom_invalid(kind: &str, why: &str) -> String {
    format!("not proposed: {kind}: {why}")
}
pub fn custom_not_in_evidence(kind: &str, ns: &str, name: &str) -> String {
    let ns = if ns.is_empty() { String::new() } else { format!("{ns}/") };
    format!("not proposed: {kind} {ns}{name} — no such object in the evidence")
}
pub fn custom_scale_out_of_bounds(replicas: u32, current: u32, limit: u32) -> String {
    format!(
        "not proposed: scaling from {current} to {replicas} replicas is outside the policy's bounds (at most {limit})"
    )
}
