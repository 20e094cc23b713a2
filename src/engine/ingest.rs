//! Ingest: a committed delivery becomes incident and alert rows (see `Store::ingest`).

use super::Engine;
use crate::store::{Job, now_ms};

pub(super) async fn run(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let delivery_id = job.delivery_id.ok_or_else(|| anyhow::anyhow!("ingest job {} has no delivery", job.id))?;
    let watchdog = engine.deadman.watchdog();
    let Some(outcome) = engine.store.ingest(job.id, delivery_id, now_ms(), watchdog).await? else {
        tracing::debug!(delivery_id, "Watchdog heartbeat recorded");
        return Ok(());
    };
    tracing::debug!(
        delivery_id,
        incident_id = outcome.incident_id,
        opened = outcome.opened,
        state = %outcome.state,
        "delivery ingested"
    );
    Ok(())
}
