//! Remember: index the compact record of an incident that ended (resolved, failed, expired,
//! rejected) into memory, so the next similar incident recalls what was done and whether it worked.
//!
//! Queued in the transaction that ended the incident, under its own key; a failure (store down) is
//! retried by the worker with backoff and never holds up the incident's other jobs. Indexing is an
//! upsert by incident id, so running it twice (a later resolution, a retry) leaves one record.

use super::Engine;
use super::pipeline::incident_of;
use crate::rag::IncidentRecord;
use crate::store::{Job, StepResult, now_ms};

pub(super) async fn run(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    if let Some(memory) = &engine.memory
        && let Some(detail) = engine.store.incident_detail(incident_id).await?
    {
        let record = IncidentRecord::from_detail(&detail);
        memory
            .remember(&record)
            .await
            .map_err(|e| anyhow::anyhow!("failed to remember incident {incident_id}: {e}"))?;
        tracing::info!(incident_id, outcome = %record.outcome, "incident remembered");
    }
    engine.store.finish_step(job, StepResult::default(), now_ms()).await.map(drop)
}
