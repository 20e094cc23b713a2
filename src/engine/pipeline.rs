//! The incident pipeline after ingest: enrich, analyze, notify.
//!
//! Their parts of Mimi (cluster access, analyzers, chat and email) come in later; until one is
//! configured its step records "skipped: not configured" and the incident moves on, which is the
//! behaviour they keep whenever their part is not configured.

use serde_json::json;

use super::Engine;
use crate::domain::incident::{IncidentEvent, IncidentState};
use crate::domain::job::Step;
use crate::store::{Job, NewEvent, Started, StepResult, now_ms};
use crate::strings::timeline as t;

pub(super) async fn enrich(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    if !begin(engine, job, incident_id, IncidentEvent::EnrichStarted, IncidentState::Enriching).await? {
        return Ok(());
    }
    let result = StepResult {
        events: vec![skipped(incident_id, job.step, t::SKIPPED_ENRICH)],
        transition: None,
        next: Some(Step::Analyze),
    };
    engine.store.finish_step(job, result, now_ms()).await.map(drop)
}

pub(super) async fn analyze(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    if !begin(engine, job, incident_id, IncidentEvent::AnalyzeStarted, IncidentState::Analyzing).await? {
        return Ok(());
    }
    let result = StepResult {
        events: vec![skipped(incident_id, job.step, t::SKIPPED_ANALYZE)],
        transition: Some((IncidentEvent::Analyzed { proposals: false }, "analysis done, nothing to approve")),
        next: Some(Step::Notify),
    };
    engine.store.finish_step(job, result, now_ms()).await.map(drop)
}

pub(super) async fn notify(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    let result =
        StepResult { events: vec![skipped(incident_id, job.step, t::SKIPPED_NOTIFY)], transition: None, next: None };
    engine.store.finish_step(job, result, now_ms()).await.map(drop)
}

/// Moves the incident into the step's state. If it has moved on (e.g. resolved) the step stands
/// down: that is recorded, the job completes, nothing follows, and this returns false.
async fn begin(
    engine: &Engine,
    job: &Job,
    incident_id: i64,
    event: IncidentEvent,
    into: IncidentState,
) -> anyhow::Result<bool> {
    let Started::No { state } = engine.store.start_step(job, event, into, now_ms()).await? else {
        return Ok(true);
    };
    let reason = format!("incident is {state}");
    let event =
        NewEvent::new(incident_id, "step_skipped", "mimi", json!({"step": job.step.as_str(), "reason": reason}));
    let result = StepResult { events: vec![event], transition: None, next: None };
    engine.store.finish_step(job, result, now_ms()).await?;
    Ok(false)
}

fn skipped(incident_id: i64, step: Step, reason: &str) -> NewEvent {
    NewEvent::new(incident_id, "step_skipped", "mimi", json!({"step": step.as_str(), "reason": reason}))
}

fn incident_of(job: &Job) -> anyhow::Result<i64> {
    job.incident_id.ok_or_else(|| anyhow::anyhow!("{} job {} has no incident", job.step.as_str(), job.id))
}
