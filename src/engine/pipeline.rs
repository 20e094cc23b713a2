//! The incident pipeline after enrich: analyze, notify.
//!
//! Their parts of Mimi (cluster access, analyzers, chat and email) come in later; until one is
//! configured its step records "skipped: not configured" and the incident moves on, which is the
//! behaviour they keep whenever their part is not configured. A step with no external work records
//! its state changes, its note and the next job in one transaction; if the incident moved on
//! meanwhile (e.g. resolved), the refused transition is recorded and the pipeline stops there.

use serde_json::json;

use super::Engine;
use crate::domain::incident::IncidentEvent;
use crate::domain::job::Step;
use crate::store::{Job, NewEvent, StepResult, now_ms};
use crate::strings::timeline as t;

pub(super) async fn analyze(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let result = StepResult {
        events: vec![skipped(incident_of(job)?, job.step, t::SKIPPED_ANALYZE)],
        transitions: vec![
            (IncidentEvent::AnalyzeStarted, "analyze"),
            (IncidentEvent::Analyzed { proposals: false }, "analysis done, nothing to approve"),
        ],
        next: Some(Step::Notify),
    };
    engine.store.finish_step(job, result, now_ms()).await.map(drop)
}

pub(super) async fn notify(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let result = StepResult {
        events: vec![skipped(incident_of(job)?, job.step, t::SKIPPED_NOTIFY)],
        transitions: Vec::new(),
        next: None,
    };
    engine.store.finish_step(job, result, now_ms()).await.map(drop)
}

pub(super) fn skipped(incident_id: i64, step: Step, reason: &str) -> NewEvent {
    NewEvent::new(incident_id, "step_skipped", "mimi", json!({"step": step.as_str(), "reason": reason}))
}

pub(super) fn incident_of(job: &Job) -> anyhow::Result<i64> {
    job.incident_id.ok_or_else(|| anyhow::anyhow!("{} job {} has no incident", job.step.as_str(), job.id))
}
