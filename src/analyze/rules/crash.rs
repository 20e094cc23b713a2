//! Crashing containers: right after a rollout (roll back), OOMKilled (restart as a stopgap), other
//! crash loops (restart), and failing liveness or readiness probes.

use super::Finding;
use super::context::{Ctx, Failing, WorkloadRef, distinct_pods, resource};
use super::propose;
use crate::cluster::evidence::{RolloutChange, SubjectKind};
use crate::strings::rules as s;

/// How long before the alert started a rollout still counts as its likely cause.
const RECENT_ROLLOUT_HOURS: i64 = 3;

/// The latest rollout of `w` explains why `failing` fail: every failing pod runs the newest
/// revision, the rollout changed more than a restart annotation, and it is recent — the older
/// revision still serves (the rollout is in progress or stuck), or it happened within
/// [`RECENT_ROLLOUT_HOURS`] before the alert started.
pub(crate) fn caused_by_rollout<'a>(
    ctx: &Ctx<'a>,
    w: &WorkloadRef,
    failing: &[Failing<'_>],
) -> Option<&'a RolloutChange> {
    if w.kind != SubjectKind::Deployment {
        return None;
    }
    let rollout = ctx.workload(w)?.rollout.as_ref()?;
    let newest = rollout.to_replica_set.as_deref()?;
    if failing.is_empty() || !failing.iter().all(|f| Ctx::replica_set_of(f.pod) == Some(newest)) {
        return None;
    }
    if rollout.changes.iter().all(|c| c.starts_with("restarted at ")) {
        return None;
    }
    let old_still_serving = rollout.from_ready.unwrap_or(0) > 0;
    let recent = match (rollout.at.as_deref().and_then(|a| a.parse::<jiff::Timestamp>().ok()), ctx.alert_start()) {
        (Some(at), Some(start)) => {
            let lead = start.duration_since(at);
            lead >= jiff::SignedDuration::from_mins(-10)
                && lead <= jiff::SignedDuration::from_hours(RECENT_ROLLOUT_HOURS)
        }
        _ => false,
    };
    (old_still_serving || recent).then_some(rollout)
}

/// Facts about failing containers (at most three pods), the log lines of the first, its events.
pub(crate) fn container_facts(ctx: &Ctx<'_>, failing: &[Failing<'_>]) -> Vec<String> {
    let mut facts = Vec::new();
    let mut pods_seen = Vec::new();
    for f in failing {
        if pods_seen.contains(&f.pod.name) {
            continue;
        }
        if pods_seen.len() == 3 {
            facts.push(s::more_pods(distinct_pods(failing) - 3));
            break;
        }
        pods_seen.push(f.pod.name.clone());
        let state = f.waiting_reason().map_or_else(|| f.container.state.clone(), str::to_string);
        facts.push(s::container_state(
            &f.pod.namespace,
            &f.pod.name,
            &f.container.name,
            &state,
            f.container.restarts,
            f.termination().as_deref(),
        ));
    }
    // Logs are read for one pod of a workload: quote the first failing container that has some.
    let quoted = failing.iter().map(|f| (f, ctx.error_lines(f.pod, &f.container.name, 3))).find(|(_, l)| !l.is_empty());
    if let Some((f, lines)) = quoted {
        facts.extend(lines.iter().map(|line| s::log_line(&f.pod.name, &f.container.name, line)));
    }
    if let Some(first) = failing.first() {
        for e in ctx.events_about("Pod", &first.pod.name).take(2) {
            facts.push(s::event(&e.object, &e.reason, e.count, &e.message));
        }
    }
    facts
}

fn revision(r: &str) -> Option<u64> {
    r.parse().ok().filter(|n| *n > 0)
}

/// Crash loops right after a rollout: roll back, then (second choice) restart.
pub(crate) fn after_rollout(ctx: &Ctx<'_>) -> Option<Finding> {
    let crashing = ctx.crashing();
    for (owner, failing) in ctx.by_owner(&crashing) {
        let Some(w) = owner else { continue };
        let Some(rollout) = caused_by_rollout(ctx, &w, &failing) else { continue };
        let oom = failing.iter().any(Failing::oom);
        let mut facts = vec![s::rollout(rollout)];
        if let Some(ready) = rollout.from_ready.filter(|r| *r > 0) {
            facts.push(s::old_revision_serving(&rollout.from_revision, ready));
        }
        facts.extend(container_facts(ctx, &failing));
        let proposals = [
            propose::rollback(&w, revision(&rollout.from_revision), s::reason_rollback(&rollout.from_revision)),
            propose::restart(&w, s::reason_restart_same_version()),
        ];
        return Some(Finding {
            diagnosis: s::diag_crash_after_rollout(&w, distinct_pods(&failing), rollout, oom),
            facts,
            proposals: proposals.into_iter().flatten().collect(),
        });
    }
    None
}

/// The memory limit of a failing container, from the pod or its workload's template.
fn memory_limit(ctx: &Ctx<'_>, f: &Failing<'_>) -> Option<String> {
    if let Some(m) = f.container.resources.as_deref().and_then(|r| resource(r, "limits", "memory")) {
        return Some(m);
    }
    let w = ctx.owner(f.pod)?;
    let (_, r) = ctx.workload(&w)?.resources.iter().find(|(c, _)| *c == f.container.name)?;
    resource(r, "limits", "memory")
}

/// Containers killed for memory: restart the workload, and say it is a stopgap.
pub(crate) fn oomkilled(ctx: &Ctx<'_>) -> Option<Finding> {
    let oom: Vec<Failing<'_>> = ctx.crashing().into_iter().filter(Failing::oom).collect();
    let (owner, failing) = ctx.by_owner(&oom).into_iter().next()?;
    let first = failing[0];
    let limit = memory_limit(ctx, &first);
    let mut facts = container_facts(ctx, &failing);
    facts.push(match &limit {
        Some(l) => s::memory_limit(&first.container.name, l),
        None => s::no_memory_limit(&first.container.name),
    });
    facts.push(s::oom_stopgap().to_string());
    let subject =
        owner.as_ref().map_or_else(|| format!("Pod {}/{}", first.pod.namespace, first.pod.name), |w| w.to_string());
    let mut proposals = Vec::new();
    match &owner {
        Some(w) => proposals.extend(propose::restart(w, s::reason_restart_oom())),
        None => facts.push(s::bare_pod(&first.pod.namespace, &first.pod.name)),
    }
    Some(Finding { diagnosis: s::diag_oom(&subject, distinct_pods(&failing), limit.as_deref()), facts, proposals })
}

/// Other crash loops: restart the workload; for a single pod of several, deleting it is the
/// smaller second choice.
pub(crate) fn crashloop(ctx: &Ctx<'_>) -> Option<Finding> {
    let crashing = ctx.crashing();
    let (owner, failing) = ctx.by_owner(&crashing).into_iter().next()?;
    let first = failing[0];
    let mut facts = container_facts(ctx, &failing);
    let subject =
        owner.as_ref().map_or_else(|| format!("Pod {}/{}", first.pod.namespace, first.pod.name), |w| w.to_string());
    let mut proposals = Vec::new();
    match &owner {
        Some(w) if w.kind != SubjectKind::Job => {
            proposals.extend(propose::restart(w, s::reason_restart_crash()));
            let desired = ctx.workload(w).map_or(0, |f| f.desired);
            if distinct_pods(&failing) == 1 && desired > 1 && w.kind != SubjectKind::DaemonSet {
                let pod = first.pod;
                proposals.push(propose::delete_pod(&pod.namespace, &pod.name, s::reason_delete_one_pod()));
            }
        }
        Some(_) => {}
        None => facts.push(s::bare_pod(&first.pod.namespace, &first.pod.name)),
    }
    let reason = first.termination().unwrap_or_else(|| first.container.state.clone());
    Some(Finding { diagnosis: s::diag_crashloop(&subject, distinct_pods(&failing), &reason), facts, proposals })
}

/// Liveness or readiness probes failing (Unhealthy events on the incident's pods).
pub(crate) fn probe_failure(ctx: &Ctx<'_>) -> Option<Finding> {
    let mut probed = Vec::new();
    for pod in &ctx.ev.pods {
        for e in ctx.events_about("Pod", &pod.name).filter(|e| e.reason == "Unhealthy") {
            let liveness = e.message.starts_with("Liveness probe");
            if liveness || e.message.starts_with("Readiness probe") || e.message.starts_with("Startup probe") {
                probed.push((pod, e, liveness));
            }
        }
    }
    let (pod, event, _) = *probed.first()?;
    let owner = ctx.owner(pod);
    probed.retain(|(p, _, _)| ctx.owner(p) == owner);
    let liveness = probed.iter().any(|(_, _, l)| *l);
    let mut pods: Vec<&str> = probed.iter().map(|(p, _, _)| p.name.as_str()).collect();
    pods.dedup();
    let desired = owner.as_ref().and_then(|w| ctx.workload(w)).map_or(0, |w| w.desired);
    let mut facts: Vec<String> =
        probed.iter().take(3).map(|(_, e, _)| s::event(&e.object, &e.reason, e.count, &e.message)).collect();
    for c in pod.containers.iter().filter(|c| !c.ready || c.restarts > 0) {
        facts.push(s::container_state(
            &pod.namespace,
            &pod.name,
            &c.name,
            &c.state,
            c.restarts,
            c.last_termination.as_deref(),
        ));
    }
    facts.extend(
        ctx.error_lines(pod, pod.containers.first().map_or("", |c| c.name.as_str()), 2)
            .into_iter()
            .map(|l| s::log_line(&pod.name, pod.containers.first().map_or("", |c| c.name.as_str()), &l)),
    );
    let some_of_many = i32::try_from(pods.len()).unwrap_or(i32::MAX) < desired;
    let mut proposals = Vec::new();
    match &owner {
        Some(w) if w.kind != SubjectKind::Job => {
            if some_of_many && w.kind != SubjectKind::DaemonSet {
                for p in pods.iter().take(2) {
                    proposals.push(propose::delete_pod(&pod.namespace, p, s::reason_delete_probe_pod()));
                }
            }
            if liveness {
                proposals.extend(propose::restart(w, s::reason_restart_probe()));
            } else if !some_of_many {
                facts.push(s::readiness_everywhere().to_string());
            }
        }
        _ => {}
    }
    let subject = owner.as_ref().map_or_else(|| format!("Pod {}/{}", pod.namespace, pod.name), |w| w.to_string());
    Some(Finding { diagnosis: s::diag_probe(&subject, liveness, pods.len(), &event.message), facts, proposals })
}
