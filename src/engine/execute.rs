//! Execute the incident's approved proposal.
//!
//! Policy is asked again first (read-only mode, budgets and drains may have changed while the
//! proposal waited). The audit row is written before the API call, so a crash after it is visible
//! and a retried attempt reuses it (B04); the cluster side refuses a target changed since the
//! proposal (C10) and recognises its own earlier attempt (F04, F05). An outcome the API left unknown
//! (timeout, 5xx) fails the attempt, and the worker retries it: every action's replay is safe.

use jiff::Timestamp;
use serde_json::json;

use super::Engine;
use super::pipeline::incident_of;
use crate::cluster::actions::{ActionFailure, Snapshot};
use crate::domain::approval::ApprovedAction;
use crate::domain::incident::IncidentEvent;
use crate::domain::job::Step;
use crate::domain::policy::{Confidence, Context, Verdict};
use crate::notify::message::Update;
use crate::store::{Job, NewEvent, NewRun, ProposalRow, ProposalState, StepResult};
use crate::strings::{notify as n, proposals as s};

/// The incident's messages learn that the action did not run.
fn failed_update(proposal: Option<&str>, why: &str) -> Update {
    Update {
        state: Some("failed".into()),
        line: Some(n::execution_failed(why)),
        proposals: proposal.map(|p| vec![(p.to_string(), "failed".into())]).unwrap_or_default(),
        ..Default::default()
    }
}

pub(super) async fn run(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    let now = Timestamp::now();
    let proposals = engine.store.proposals_of(incident_id).await?;
    let Some(row) = proposals.into_iter().find(|p| p.state == ProposalState::Approved.as_str()) else {
        return fail(engine, job, None, None, s::NOT_APPROVED.into(), "refused").await;
    };
    let Some(approved) = row.pending.as_ref().and_then(|p| p.approved_action()) else {
        return fail(engine, job, Some(&row), None, s::NOT_APPROVED.into(), "refused").await;
    };
    let Some(actions) = &engine.actions else {
        return fail(engine, job, Some(&row), None, s::NO_CLUSTER.into(), "refused").await;
    };

    // Policy, again, right before acting.
    let recent = engine.store.recent_actions(now.as_millisecond() - 3_600_000, row.row_id).await?;
    let drain_running = engine.store.drain_running(&engine.cluster_name, row.row_id).await?;
    let snapshot: Snapshot = row
        .dry_run
        .as_ref()
        .and_then(|d| d.get("snapshot").cloned())
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let ctx = Context {
        cluster: &engine.cluster_name,
        current_replicas: snapshot.replicas.and_then(|r| u32::try_from(r).ok()),
        confidence: None::<Confidence>,
        recent_actions: &recent,
        drain_running,
        now,
    };
    if let Verdict::Refused(r) = engine.policy.policy().evaluate(approved.action(), &ctx) {
        return fail(engine, job, Some(&row), Some(&approved), s::policy_now(&r.to_string()), "refused").await;
    }

    let run_id = engine.store.start_run(&new_run(engine, &row, &approved), now.as_millisecond()).await?;
    match actions.execute(&approved, &snapshot).await {
        Ok(execution) => {
            let response = serde_json::to_value(&execution)?;
            let mut tx = engine.store.begin_step(job, Timestamp::now().as_millisecond()).await?;
            tx.finish_run(run_id, "executed", None, &response).await?;
            tx.set_proposal_state(row.row_id, ProposalState::Executed, None).await?;
            tx.notify_update(&Update {
                state: Some("verifying".into()),
                line: Some(n::executed(&crate::strings::notify::action_of(&row.action))),
                proposals: vec![(row.public_id.clone(), "executed".into())],
                ..Default::default()
            })
            .await?;
            let detail = json!({"proposal": row.public_id, "action": row.action, "changes": execution.changes, "effects": execution.effects, "evictions": execution.evictions});
            let events = vec![NewEvent::new(incident_id, "executed", "mimi", detail)];
            let transitions = vec![(IncidentEvent::Executed { ok: true }, "the action ran")];
            tx.finish(StepResult { events, transitions, next: Some(Step::Verify) }).await.map(drop)
        }
        // The outcome is unknown: fail this attempt; the worker retries and the replay is safe.
        Err(ActionFailure::Unknown(why)) => anyhow::bail!("the outcome of {} is unknown: {why}", row.public_id),
        Err(failure) => {
            let outcome = match failure {
                ActionFailure::Blocked(_) | ActionFailure::DrainIncomplete { .. } => "blocked",
                ActionFailure::Refused { .. }
                | ActionFailure::TargetChanged { .. }
                | ActionFailure::TargetMissing(_) => "refused",
                ActionFailure::Unknown(_) => "unknown",
            };
            let response = match &failure {
                ActionFailure::DrainIncomplete { execution, .. } => {
                    json!({"error": failure.to_string(), "execution": execution})
                }
                _ => json!({"error": failure.to_string()}),
            };
            let mut tx = engine.store.begin_step(job, Timestamp::now().as_millisecond()).await?;
            tx.finish_run(run_id, outcome, None, &response).await?;
            let why = s::execution_failed(&failure.to_string());
            tx.set_proposal_state(row.row_id, ProposalState::Failed, Some(&why)).await?;
            tx.notify_update(&failed_update(Some(&row.public_id), &why)).await?;
            let events = vec![NewEvent::new(
                incident_id,
                "execution_failed",
                "mimi",
                json!({"proposal": row.public_id, "outcome": outcome, "detail": response}),
            )];
            let transitions = vec![(IncidentEvent::Executed { ok: false }, "the action did not run")];
            tx.finish(StepResult { events, transitions, next: None }).await.map(drop)
        }
    }
}

fn new_run<'a>(engine: &'a Engine, row: &'a ProposalRow, approved: &'a ApprovedAction) -> NewRun<'a> {
    let approvers = if approved.is_automatic() {
        vec!["policy".to_string()]
    } else {
        approved.approvers().iter().map(|a| a.to_string()).collect()
    };
    NewRun {
        proposal_row: row.row_id,
        cluster: &engine.cluster_name,
        action: approved.action(),
        proposer: &row.proposer,
        approvers,
        approved_at: approved.approved_at().as_millisecond(),
    }
}

/// Records that the approved action did not (and will not) run, and why.
async fn fail(
    engine: &Engine,
    job: &Job,
    row: Option<&ProposalRow>,
    approved: Option<&ApprovedAction>,
    why: String,
    outcome: &str,
) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    let now = Timestamp::now().as_millisecond();
    let run_id = match (row, approved) {
        (Some(row), Some(approved)) => Some(engine.store.start_run(&new_run(engine, row, approved), now).await?),
        _ => None,
    };
    let mut tx = engine.store.begin_step(job, now).await?;
    if let Some(run_id) = run_id {
        tx.finish_run(run_id, outcome, None, &json!({"error": why})).await?;
    }
    if let Some(row) = row {
        tx.set_proposal_state(row.row_id, ProposalState::Failed, Some(&why)).await?;
    }
    tx.notify_update(&failed_update(row.map(|r| r.public_id.as_str()), &why)).await?;
    let events =
        vec![NewEvent::new(incident_id, "execution_failed", "mimi", json!({"outcome": outcome, "reason": why}))];
    let transitions = vec![(IncidentEvent::Executed { ok: false }, "the action did not run")];
    tx.finish(StepResult { events, transitions, next: None }).await.map(drop)
}
