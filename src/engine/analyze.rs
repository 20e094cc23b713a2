//! Analyze: the analyzer's advice, then every proposal checked before a button can exist —
//! in the catalogue (else dropped, E03), allowed by the alerting rule, target exists (else dropped
//! as a hallucination, E06), allowed by policy (else shown as refused advice, E04/E07/E09), and a
//! server-side dry run (else refused with the API's reason, F02). What survives waits for approval,
//! or runs at once if policy auto-approves it.

use std::collections::BTreeSet;

use jiff::Timestamp;
use serde_json::json;

use super::Engine;
use super::pipeline::{incident_of, skipped};
use crate::analyze::AnalysisInput;
use crate::cluster::actions::ActionFailure;
use crate::cluster::evidence::Evidence;
use crate::domain::action::{Action, TargetKind};
use crate::domain::analysis::{AlertView, Analysis, ProposedAction, allowed_actions};
use crate::domain::approval::{Decision, PendingApproval, ProposalId, Proposer, approve_automatically};
use crate::domain::incident::IncidentEvent;
use crate::domain::job::Step;
use crate::domain::policy::{ApprovalRequirement, Confidence, Context, Verdict};
use crate::store::{AlertRow, Job, NewEvent, NewProposal, ProposalState, StepResult, now_ms};
use crate::strings::{proposals as s, timeline as t};

pub(super) async fn run(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    let Some(analyzer) = &engine.analyzer else {
        let result = StepResult {
            events: vec![skipped(incident_id, job.step, t::SKIPPED_ANALYZE)],
            transitions: vec![
                (IncidentEvent::AnalyzeStarted, "analyze"),
                (IncidentEvent::Analyzed { proposals: false }, "analysis done, nothing to approve"),
            ],
            next: Some(Step::Notify),
        };
        return engine.store.finish_step(job, result, now_ms()).await.map(drop);
    };
    let mut input = input_for(engine, incident_id).await?;
    let recalled = recall(engine, incident_id, &mut input).await;
    let analysis = analyzer.analyze(&input).await?;

    let now = Timestamp::now();
    let mut stored = Vec::new();
    let mut auto_approved = false;
    for (rank, proposed) in analysis.proposals.iter().enumerate() {
        let mut p = evaluate(engine, proposed, &analysis, &input, now).await?;
        p.rank = rank as i64;
        // Only the first auto-approvable proposal runs; the others stay as alternatives.
        if p.state == ProposalState::Approved {
            if auto_approved {
                p.state = ProposalState::Superseded;
            }
            auto_approved = true;
        }
        stored.push(p);
    }
    let waiting = stored.iter().any(|p| matches!(p.state, ProposalState::Pending | ProposalState::Approved));
    let expires = stored.iter().filter(|p| p.state == ProposalState::Pending).filter_map(|p| p.expires_at).min();

    let mut tx = engine.store.begin_step(job, now.as_millisecond()).await?;
    tx.insert_analysis(&analysis).await?;
    for p in &stored {
        tx.insert_proposal(p).await?;
    }
    if let Some(at) = expires {
        tx.enqueue_timer(Step::Expire, at).await?;
    }
    let mut transitions = vec![
        (IncidentEvent::AnalyzeStarted, "analyze"),
        (
            IncidentEvent::Analyzed { proposals: waiting },
            if waiting { "waiting for approval" } else { "analysis done, nothing to approve" },
        ),
    ];
    if auto_approved {
        transitions.push((IncidentEvent::Approved, "approved automatically by policy"));
        tx.enqueue_at(Step::Execute, now.as_millisecond()).await?;
    }
    let summary = json!({
        "analyzer": analysis.analyzer,
        "version": analysis.version,
        "diagnosis": analysis.diagnosis,
        "confidence": analysis.confidence,
        "proposals": stored.iter().map(|p| json!({"id": p.public_id, "action": p.action, "state": p.state, "refused": p.refused})).collect::<Vec<_>>(),
        "flags": analysis.flags,
        "millis": analysis.millis,
    });
    let mut events = Vec::new();
    events.extend(recalled);
    events.push(NewEvent::new(incident_id, "analysis", "mimi", summary));
    tx.finish(StepResult { events, transitions, next: Some(Step::Notify) }).await.map(drop)
}

/// The analyzer's input: the alerts, the latest evidence, what the alerting rule allows.
async fn input_for(engine: &Engine, incident_id: i64) -> anyhow::Result<AnalysisInput> {
    let detail = engine
        .store
        .incident_detail(incident_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("incident {incident_id} vanished"))?;
    let alerts: Vec<AlertView> = detail.alerts.iter().map(AlertRow::view).collect();
    let (evidence, evidence_text) = match detail.evidence {
        Some(e) => (serde_json::from_value::<Evidence>(e.bundle).ok(), e.rendered),
        None => (None, String::new()),
    };
    let allowed = allowed_actions(&alerts);
    Ok(AnalysisInput {
        cluster: detail.incident.cluster,
        alerts,
        evidence,
        evidence_text,
        similar: Vec::new(),
        runbooks: Vec::new(),
        allowed,
    })
}

/// Similar past incidents into the analyzer's input, and the timeline event saying what memory
/// found (or why it could not be asked: analysis goes on without it). `None` when memory is off.
async fn recall(engine: &Engine, incident_id: i64, input: &mut AnalysisInput) -> Option<NewEvent> {
    let memory = engine.memory.as_ref()?;
    let text = crate::rag::record::describe(&input.alerts, input.evidence.as_ref());
    // Runbook excerpts: reference for the analyzer; a failure here is said by the recall below.
    if let Ok(found) = memory.lookup(&text, RUNBOOK_EXCERPTS).await {
        input.runbooks =
            found.into_iter().map(|f| format!("{} > {}\n{}", f.chunk.source, f.chunk.heading, f.chunk.text)).collect();
    }
    let detail = match memory.recall(&input.cluster, &text, incident_id).await {
        crate::rag::Recall::Found(similar) => {
            input.similar = similar;
            json!({"similar": input.similar})
        }
        crate::rag::Recall::Unavailable(why) => {
            json!({"similar": [], "note": crate::strings::memory::unavailable(&why)})
        }
    };
    Some(NewEvent::new(incident_id, "memory_recall", "mimi", detail))
}

/// Runbook chunks given to the analyzer.
const RUNBOOK_EXCERPTS: usize = 2;

/// A new, unguessable proposal id.
fn new_id() -> String {
    let mut rng = fastrand::Rng::new();
    format!("p-{}", (0..12).map(|_| rng.alphanumeric().to_ascii_lowercase()).collect::<String>())
}

/// What one proposed action becomes.
async fn evaluate(
    engine: &Engine,
    proposed: &ProposedAction,
    analysis: &Analysis,
    input: &AnalysisInput,
    now: Timestamp,
) -> anyhow::Result<NewProposal> {
    let mut p = NewProposal {
        public_id: new_id(),
        rank: 0,
        action: proposed.action.clone(),
        reason: proposed.reason.clone(),
        proposer: analysis.analyzer.clone(),
        risk: None,
        approval: None,
        state: ProposalState::Refused,
        refused: None,
        dry_run: None,
        pending: None,
        expires_at: None,
    };
    let refuse = |mut p: NewProposal, state: ProposalState, why: String| {
        p.state = state;
        p.refused = Some(why);
        Ok(p)
    };
    let action = match Action::from_spec(&proposed.action) {
        Ok(a) => a,
        Err(e) => return refuse(p, ProposalState::Dropped, s::not_in_catalogue(&e.to_string())),
    };
    if let Some(allowed) = &input.allowed
        && !allowed.contains(&action.kind())
    {
        let names: BTreeSet<&str> = allowed.iter().map(|k| k.as_str()).collect();
        return refuse(p, ProposalState::Refused, s::not_allowed_by_rule(action.kind().as_str(), &names));
    }
    let Some(actions) = &engine.actions else {
        return refuse(p, ProposalState::Refused, s::NO_CLUSTER.into());
    };
    let current_replicas = current_replicas(engine, &action).await;
    let recent = engine.store.recent_actions(now.as_millisecond() - 3_600_000, -1).await?;
    let drain_running = engine.store.drain_running(&engine.cluster_name, -1).await?;
    let ctx = Context {
        cluster: &engine.cluster_name,
        current_replicas,
        confidence: analysis.confidence.and_then(Confidence::new),
        recent_actions: &recent,
        drain_running,
        now,
    };
    let policy = engine.policy.policy();
    let allowance = match policy.evaluate(&action, &ctx) {
        Verdict::Allowed(a) => a,
        Verdict::Refused(r) => {
            p.risk = Some(policy.risk_of(action.kind()));
            return refuse(p, ProposalState::Refused, r.to_string());
        }
    };
    p.risk = Some(allowance.risk());
    p.approval = Some(allowance.approval());
    let dry = match actions.dry_run(&action).await {
        Ok(d) => d,
        Err(ActionFailure::TargetMissing(target)) => {
            return refuse(p, ProposalState::Dropped, s::hallucination(&target.to_string()));
        }
        Err(e) => return refuse(p, ProposalState::Refused, s::dry_run_refused(&e.to_string())),
    };
    p.dry_run = Some(serde_json::to_value(&dry)?);
    let id = ProposalId::parse(&p.public_id).expect("generated ids are valid");
    let mut pending = PendingApproval::new(
        id,
        &allowance,
        Proposer::Analyzer(analysis.analyzer.clone()),
        now,
        engine.policy.approval_ttl(),
    );
    p.expires_at = Some(pending.expires_at.as_millisecond());
    p.state = ProposalState::Pending;
    if allowance.approval() == ApprovalRequirement::Auto
        && let Ok(Decision::Approved { record, .. }) = approve_automatically(&pending, allowance, now)
    {
        pending.decisions.push(record);
        p.state = ProposalState::Approved;
    }
    p.pending = Some(pending);
    Ok(p)
}

/// The live replica count of a scale action's target (policy bounds are relative to it).
async fn current_replicas(engine: &Engine, action: &Action) -> Option<u32> {
    let Action::Scale { target, .. } = action else { return None };
    let read = engine.cluster.as_ref()?;
    let ns = target.namespace.as_ref()?.as_str();
    let name = target.name.as_str();
    let replicas = match target.kind {
        TargetKind::StatefulSet => read.stateful_set(ns, name).await.ok()??.spec.replicas,
        _ => read.deployment(ns, name).await.ok()??.spec.replicas,
    };
    replicas.and_then(|r| u32::try_from(r).ok())
}
