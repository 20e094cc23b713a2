//! Capacity: pods the scheduler cannot place, claims that do not bind, autoscalers at their
//! maximum (all notify only), and CPU throttling or high CPU (one bounded scale step, unless an
//! autoscaler owns the replica count).

use super::Finding;
use super::context::{Ctx, WorkloadRef, resource};
use super::propose;
use crate::cluster::evidence::{AutoscalerFacts, SubjectKind};
use crate::strings::rules as s;

/// Pods the scheduler cannot place: notify, quoting the scheduler's reason.
pub(crate) fn unschedulable(ctx: &Ctx<'_>) -> Option<Finding> {
    const PREFIX: &str = "PodScheduled=False: Unschedulable: ";
    let pending: Vec<_> = ctx
        .ev
        .pods
        .iter()
        .filter(|p| p.phase == "Pending")
        .filter_map(|p| {
            let from_condition = p.conditions.iter().find_map(|c| c.strip_prefix(PREFIX)).map(str::to_string);
            let from_event =
                || ctx.events_about("Pod", &p.name).find(|e| e.reason == "FailedScheduling").map(|e| e.message.clone());
            from_condition.or_else(from_event).map(|m| (p, m))
        })
        .collect();
    let (first, message) = pending.first()?;
    let mut facts: Vec<String> =
        pending.iter().take(3).map(|(p, m)| s::pending_pod(&p.namespace, &p.name, m)).collect();
    for c in first.containers.iter().filter_map(|c| c.resources.as_deref().map(|r| (c, r))) {
        facts.push(s::container_resources(&c.0.name, c.1));
    }
    for e in ctx.events_about("Pod", &first.name).filter(|e| e.reason == "FailedScheduling").take(1) {
        facts.push(s::event(&e.object, &e.reason, e.count, &e.message));
    }
    facts.push(s::notify_only_unschedulable().to_string());
    let subject = ctx.owner(first).map_or_else(|| format!("Pod {}/{}", first.namespace, first.name), |w| w.to_string());
    Some(Finding { diagnosis: s::diag_unschedulable(&subject, pending.len(), message), facts, proposals: Vec::new() })
}

/// Claims stuck in Pending: notify, with the provisioner's reason.
pub(crate) fn claim_pending(ctx: &Ctx<'_>) -> Option<Finding> {
    let pending: Vec<_> = ctx.ev.claims.iter().filter(|c| c.phase == "Pending").collect();
    let first = pending.first()?;
    let mut facts: Vec<String> = pending.iter().take(3).map(|c| s::claim(c)).collect();
    let events: Vec<_> = ctx.events_about("PersistentVolumeClaim", &first.name).take(2).collect();
    for e in &events {
        facts.push(s::event(&e.object, &e.reason, e.count, &e.message));
    }
    facts.push(s::notify_only_claim().to_string());
    Some(Finding {
        diagnosis: s::diag_claim_pending(first, events.first().map(|e| e.message.as_str())),
        facts,
        proposals: Vec::new(),
    })
}

fn at_maximum(h: &AutoscalerFacts) -> bool {
    (h.max_replicas > 0 && h.current_replicas >= h.max_replicas)
        || h.conditions.iter().any(|c| c.starts_with("ScalingLimited=True") && c.contains("TooManyReplicas"))
}

/// An autoscaler at its maximum: notify — it owns the replica count, so scaling by hand would be
/// undone; raising `maxReplicas` is a manifest change.
pub(crate) fn autoscaler_maxed(ctx: &Ctx<'_>) -> Option<Finding> {
    let named = ctx.alert_named(&["KubeHpaMaxedOut"]);
    let h = ctx.ev.autoscalers.iter().find(|h| at_maximum(h) || (named && h.current_replicas >= h.max_replicas))?;
    let mut facts = vec![s::autoscaler(h)];
    facts.extend(h.conditions.iter().map(|c| s::condition(&format!("HorizontalPodAutoscaler {}", h.name), c)));
    for e in ctx.events_about("HorizontalPodAutoscaler", &h.name).take(2) {
        facts.push(s::event(&e.object, &e.reason, e.count, &e.message));
    }
    if let Some(w) = ctx.ev.workloads.iter().find(|w| format!("{} {}", w.kind.as_str(), w.name) == h.target) {
        facts.push(s::workload_counts(w));
    }
    facts.push(s::notify_only_autoscaler().to_string());
    Some(Finding { diagnosis: s::diag_autoscaler_maxed(h), facts, proposals: Vec::new() })
}

/// Alert names that mean "this workload needs more CPU than it has".
fn cpu_alert(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.contains("cpu") && !lower.contains("overcommit") && !lower.contains("quota")
}

/// CPU throttling or high CPU: one bounded scale step of the workload, unless an autoscaler
/// scales it (then it is the autoscaler's call) or it is a DaemonSet (one pod per node).
pub(crate) fn cpu(ctx: &Ctx<'_>) -> Option<Finding> {
    let alert = ctx.input.alerts.iter().map(|a| a.name()).find(|n| cpu_alert(n))?;
    let w = ctx.ev.pods.iter().find_map(|p| ctx.owner(p)).filter(|w| ctx.workload(w).is_some()).or_else(|| {
        ctx.ev.workloads.iter().find(|w| w.kind != SubjectKind::Job).map(|w| WorkloadRef {
            kind: w.kind,
            namespace: w.namespace.clone(),
            name: w.name.clone(),
        })
    })?;
    let facts_w = ctx.workload(&w)?;
    let mut facts = vec![s::workload_counts(facts_w)];
    for (c, r) in &facts_w.resources {
        match resource(r, "limits", "cpu") {
            Some(limit) => facts.push(s::cpu_limit(c, &limit)),
            None => facts.push(s::container_resources(c, r)),
        }
    }
    let current = u32::try_from(facts_w.desired).unwrap_or(0);
    let target = format!("{} {}", w.kind.as_str(), w.name);
    let mut proposals = Vec::new();
    if let Some(h) = ctx.ev.autoscalers.iter().find(|h| h.target == target) {
        facts.push(s::autoscaler(h));
        facts.push(s::autoscaler_owns_replicas().to_string());
    } else if w.kind == SubjectKind::DaemonSet {
        facts.push(s::daemonset_cannot_scale().to_string());
    } else {
        match propose::scale_up(current, ctx.opts.scale) {
            Some(to) => {
                facts.push(s::scale_step(current, to, ctx.opts.scale.max_replicas));
                proposals.extend(propose::scale(&w, to, s::reason_scale_cpu(current, to)));
            }
            None => facts.push(s::scale_no_room(current, ctx.opts.scale.max_replicas)),
        }
    }
    facts.push(s::cpu_limit_is_manifest().to_string());
    Some(Finding { diagnosis: s::diag_cpu(&w, alert, current), facts, proposals })
}
