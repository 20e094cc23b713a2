//! Workload-level rules: failed Jobs (notify), replica mismatches (roll back a stuck rollout, or
//! replace a stuck pod), targets down, alerts naming objects that do not exist, and the fallbacks.

use super::Finding;
use super::context::{Ctx, WorkloadRef};
use super::propose;
use crate::cluster::evidence::SubjectKind;
use crate::strings::rules as s;

/// A Job that failed (BackoffLimitExceeded, DeadlineExceeded): notify — re-running a Job is not
/// in the catalogue.
pub(crate) fn job_failed(ctx: &Ctx<'_>) -> Option<Finding> {
    let named = ctx.alert_named(&["KubeJobFailed"]);
    let job = ctx
        .ev
        .workloads
        .iter()
        .filter(|w| w.kind == SubjectKind::Job)
        .find(|w| w.conditions.iter().any(|c| c.starts_with("Failed=True")) || (named && w.updated > 0))?;
    let reason = job.conditions.iter().find_map(|c| c.strip_prefix("Failed=True: ")).unwrap_or("Failed").trim();
    let mut facts = vec![s::job_counts(job)];
    facts.extend(job.conditions.iter().map(|c| s::condition(&format!("Job {}", job.name), c)));
    let pods: Vec<_> = ctx
        .ev
        .pods
        .iter()
        .filter(|p| p.namespace == job.namespace && p.owners.iter().any(|o| *o == format!("Job {}", job.name)))
        .collect();
    let mut last_error = None;
    for p in pods.iter().take(2) {
        for c in &p.containers {
            facts.push(s::container_state(
                &p.namespace,
                &p.name,
                &c.name,
                &c.state,
                c.restarts,
                c.last_termination.as_deref(),
            ));
            let lines = ctx.error_lines(p, &c.name, 3);
            last_error = last_error.or_else(|| lines.last().cloned());
            facts.extend(lines.iter().map(|l| s::log_line(&p.name, &c.name, l)));
        }
    }
    for e in ctx.events_about("Job", &job.name).take(2) {
        facts.push(s::event(&e.object, &e.reason, e.count, &e.message));
    }
    facts.push(s::notify_only_job().to_string());
    Some(Finding {
        diagnosis: s::diag_job_failed(&job.namespace, &job.name, reason, job.updated, last_error.as_deref()),
        facts,
        proposals: Vec::new(),
    })
}

/// A rollout that does not progress (past its deadline, or `KubeDeploymentRolloutStuck`) whose
/// new pods stay unready without crashing: roll back to the revision that served.
pub(crate) fn rollout_stuck(ctx: &Ctx<'_>) -> Option<Finding> {
    let named = ctx.alert_named(&["KubeDeploymentRolloutStuck"]);
    for w in ctx.ev.workloads.iter().filter(|w| w.kind == SubjectKind::Deployment) {
        let Some(rollout) = w.rollout.as_ref().filter(|r| !r.changes.iter().all(|c| c.starts_with("restarted at ")))
        else {
            continue;
        };
        let deadline = w.conditions.iter().any(|c| c.contains("ProgressDeadlineExceeded"));
        let newest = rollout.to_replica_set.as_deref();
        let stuck: Vec<_> = ctx.ev.pods.iter().filter(|p| !p.ready && Ctx::replica_set_of(p) == newest).collect();
        if stuck.is_empty() || !(deadline || named) {
            continue;
        }
        let r = WorkloadRef { kind: w.kind, namespace: w.namespace.clone(), name: w.name.clone() };
        let mut facts = vec![s::rollout(rollout), s::workload_counts(w)];
        if let Some(ready) = rollout.from_ready.filter(|n| *n > 0) {
            facts.push(s::old_revision_serving(&rollout.from_revision, ready));
        }
        facts.extend(w.conditions.iter().map(|c| s::condition(&r.to_string(), c)));
        for p in stuck.iter().take(3) {
            let states: Vec<String> = p.containers.iter().map(|c| format!("{} {}", c.name, c.state)).collect();
            facts.push(s::unready_pod(&p.namespace, &p.name, &states.join(", ")));
            if let Some(c) = p.containers.first() {
                facts.extend(ctx.error_lines(p, &c.name, 2).iter().map(|l| s::log_line(&p.name, &c.name, l)));
            }
        }
        let to = rollout.from_revision.parse().ok().filter(|n: &u64| *n > 0);
        let proposals = propose::rollback(&r, to, s::reason_rollback(&rollout.from_revision)).into_iter().collect();
        return Some(Finding { diagnosis: s::diag_rollout_stuck(&r, rollout, stuck.len()), facts, proposals });
    }
    None
}

/// Fewer replicas ready than desired, with no crash, pull, config or scheduling cause found first:
/// a rollout past its deadline is rolled back; a minority of stuck pods are replaced.
pub(crate) fn replica_mismatch(ctx: &Ctx<'_>) -> Option<Finding> {
    let w = ctx.ev.workloads.iter().find(|w| {
        matches!(w.kind, SubjectKind::Deployment | SubjectKind::StatefulSet | SubjectKind::DaemonSet)
            && w.desired > 0
            && w.ready < w.desired
    })?;
    let r = WorkloadRef { kind: w.kind, namespace: w.namespace.clone(), name: w.name.clone() };
    let mut facts = vec![s::workload_counts(w)];
    facts.extend(w.conditions.iter().map(|c| s::condition(&r.to_string(), c)));
    let stuck_deadline = w.conditions.iter().any(|c| c.contains("ProgressDeadlineExceeded"));
    let mut proposals = Vec::new();
    if let Some(rollout) = w.rollout.as_ref().filter(|r| !r.changes.iter().all(|c| c.starts_with("restarted at ")))
        && stuck_deadline
    {
        facts.push(s::rollout(rollout));
        let to = rollout.from_revision.parse().ok().filter(|n: &u64| *n > 0);
        proposals.extend(propose::rollback(&r, to, s::reason_rollback(&rollout.from_revision)));
    }
    let unready: Vec<_> =
        ctx.ev.pods.iter().filter(|p| !p.ready && p.phase == "Running" && ctx.owner(p).as_ref() == Some(&r)).collect();
    for p in unready.iter().take(3) {
        let states: Vec<String> = p.containers.iter().map(|c| format!("{} {}", c.name, c.state)).collect();
        facts.push(s::unready_pod(&p.namespace, &p.name, &states.join(", ")));
    }
    let minority = !unready.is_empty() && i32::try_from(unready.len()).unwrap_or(i32::MAX) < w.desired;
    if proposals.is_empty() && minority && w.kind != SubjectKind::DaemonSet {
        for p in unready.iter().take(2) {
            proposals.push(propose::delete_pod(&p.namespace, &p.name, s::reason_delete_stuck_pod()));
        }
    }
    if proposals.is_empty() {
        facts.push(s::notify_only_mismatch().to_string());
    }
    Some(Finding { diagnosis: s::diag_replica_mismatch(&r, w.ready, w.desired, stuck_deadline), facts, proposals })
}

/// A scrape target down (`TargetDown`, or a Service the alert names): what stands behind it.
pub(crate) fn target_down(ctx: &Ctx<'_>) -> Option<Finding> {
    let svc = ctx.ev.services.first()?;
    let mut facts = vec![s::service(svc)];
    let unready: Vec<_> = ctx.ev.pods.iter().filter(|p| p.namespace == svc.namespace && !p.ready).collect();
    for p in unready.iter().take(3) {
        let states: Vec<String> = p.containers.iter().map(|c| format!("{} {}", c.name, c.state)).collect();
        facts.push(s::unready_pod(&p.namespace, &p.name, &states.join(", ")));
    }
    let owner = unready.iter().find_map(|p| ctx.owner(p)).filter(|w| ctx.workload(w).is_some());
    let mut proposals = Vec::new();
    if svc.pods == 0 {
        facts.push(s::service_selects_nothing().to_string());
    } else if svc.ready_pods == 0 {
        if let Some(w) = &owner {
            proposals.extend(propose::restart(w, s::reason_restart_target()));
        }
    } else if svc.ready_pods < svc.pods {
        for p in unready.iter().take(2) {
            proposals.push(propose::delete_pod(&p.namespace, &p.name, s::reason_delete_stuck_pod()));
        }
    } else {
        facts.push(s::target_pods_ready().to_string());
    }
    Some(Finding { diagnosis: s::diag_target_down(svc), facts, proposals })
}

/// The alerts name objects that do not exist: nothing to act on.
pub(crate) fn missing_target(ctx: &Ctx<'_>) -> Option<Finding> {
    let missing = ctx.missing_subjects();
    if missing.is_empty() {
        return None;
    }
    let facts = missing.iter().map(|m| s::not_found(m)).collect();
    Some(Finding { diagnosis: s::diag_missing(&missing), facts, proposals: Vec::new() })
}

/// No evidence could be read: say so, propose nothing.
pub(crate) fn no_evidence(ctx: &Ctx<'_>) -> Option<Finding> {
    if ctx.input.evidence.is_some() {
        return None;
    }
    Some(Finding { diagnosis: s::DIAG_NO_EVIDENCE.to_string(), facts: Vec::new(), proposals: Vec::new() })
}

/// Nothing matched.
pub(crate) fn no_match(ctx: &Ctx<'_>) -> Option<Finding> {
    let names: Vec<&str> = ctx.input.alerts.iter().map(|a| a.name()).collect();
    let mut facts: Vec<String> = ctx.ev.notes.iter().take(3).map(|n| s::note(n)).collect();
    facts.extend(ctx.ev.workloads.iter().take(2).map(s::workload_counts));
    Some(Finding { diagnosis: s::diag_no_match(&names), facts, proposals: Vec::new() })
}
