//! Notify, and helpers the steps share.
//!
//! The notify step routes the incident (`[[notify.routes]]`, by namespace, severity, team and
//! cluster) and enqueues its message — with its proposals (id, action, risk, dry-run diff) for the
//! chat adapters' buttons — for every destination, in the step's own transaction: the outbox
//! delivers it (src/notify/). Without any sink it records "skipped: not configured" (the incident
//! is visible in the API and the console).

use serde_json::json;

use super::Engine;
use crate::domain::job::Step;
use crate::notify::incident_view;
use crate::notify::route::RouteInput;
use crate::store::{Job, NewEvent, StepResult, now_ms};
use crate::strings::{notify as n, timeline as t};

pub(super) async fn notify(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    let Some(notifier) = &engine.notifier else {
        let result =
            StepResult { events: vec![skipped(incident_id, job.step, t::SKIPPED_NOTIFY)], ..Default::default() };
        return engine.store.finish_step(job, result, now_ms()).await.map(drop);
    };
    let view = incident_view(&engine.store, incident_id, notifier.public_url.as_deref())
        .await?
        .ok_or_else(|| anyhow::anyhow!("incident {incident_id} vanished"))?;
    let input = RouteInput {
        namespace: view.namespace.as_deref(),
        severity: view.severity.as_deref(),
        team: view.labels.get("team").map(String::as_str),
        cluster: &view.cluster,
    };
    let (destinations, missing) = notifier.destinations(&input);
    let now = now_ms();
    let mut events = Vec::new();
    if !missing.is_empty() {
        events.push(NewEvent::new(
            incident_id,
            "notify_unavailable",
            "mimi",
            json!({"sinks": missing, "note": t::SINK_MISSING}),
        ));
    }
    if destinations.is_empty() {
        events.push(skipped(incident_id, job.step, n::NOT_ROUTED));
        let result = StepResult { events, ..Default::default() };
        return engine.store.finish_step(job, result, now).await.map(drop);
    }
    let message = crate::notify::render::incident(&view);
    let mut tx = engine.store.begin_step(job, now).await?;
    for d in &destinations {
        tx.enqueue_message(&notifier.incident_message(incident_id, d, message.clone(), now)).await?;
    }
    let to: Vec<String> = destinations.iter().map(|d| format!("{}:{}", d.sink, d.target)).collect();
    events.push(NewEvent::new(incident_id, "notify_queued", "mimi", json!({"destinations": to})));
    tx.finish(StepResult { events, ..Default::default() }).await?;
    notifier.wake();
    Ok(())
}

pub(super) fn skipped(incident_id: i64, step: Step, reason: &str) -> NewEvent {
    NewEvent::new(incident_id, "step_skipped", "mimi", json!({"step": step.as_str(), "reason": reason}))
}

pub(super) fn incident_of(job: &Job) -> anyhow::Result<i64> {
    job.incident_id.ok_or_else(|| anyhow::anyhow!("{} job {} has no incident", job.step.as_str(), job.id))
}
