//! Notify, and helpers the steps share.
//!
//! Chat and email come in later; until a sink is configured the notify step records "skipped: not
//! configured" (the incident is visible in the API and, later, the console).

use serde_json::json;

use super::Engine;
use crate::domain::job::Step;
use crate::store::{Job, NewEvent, StepResult, now_ms};
use crate::strings::timeline as t;

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
