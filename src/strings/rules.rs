//! What the runbook rules say: diagnoses, facts, reasons for proposals, and why something was
//! not proposed. Quoted cluster text is marked with «» so it reads as a quotation, not as Mimi's words.

use std::fmt::Display;

use crate::cluster::evidence::{RolloutChange, WorkloadFacts};

mod capacity;
pub use capacity::*;

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
