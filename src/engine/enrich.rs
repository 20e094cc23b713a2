//! Enrich: gather evidence about the objects an incident's alerts name, store it (redacted), and
//! move on to analysis. Without cluster access the step records "skipped: not configured".

use serde_json::json;

use super::Engine;
use super::pipeline::{incident_of, skipped};
use crate::cluster::evidence::{gather, render, resolve};
use crate::cluster::prometheus::{AlertRef, gather_metrics};
use crate::domain::incident::IncidentEvent;
use crate::domain::job::Step;
use crate::store::{Job, NewEvent, StepResult, now_ms};
use crate::strings::timeline as t;

pub(super) async fn run(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    let transitions = vec![(IncidentEvent::EnrichStarted, "enrich")];
    let Some(cluster) = &engine.cluster else {
        let events = vec![skipped(incident_id, job.step, t::SKIPPED_ENRICH)];
        let result = StepResult { events, transitions, next: Some(Step::Analyze) };
        return engine.store.finish_step(job, result, now_ms()).await.map(drop);
    };
    let (alerts, common) = engine.store.alert_labels(incident_id).await?;
    let subjects = resolve(&alerts.iter().collect::<Vec<_>>(), &common);
    let sources = engine.store.firing_alert_sources(incident_id).await?;
    let refs: Vec<AlertRef> =
        sources.into_iter().map(|(generator_url, labels)| AlertRef { generator_url, labels }).collect();
    // The cluster and Prometheus are read at the same time.
    let metrics = async {
        match &engine.prometheus {
            Some(source) => Some(gather_metrics(source.as_ref(), &subjects, &refs, &engine.prometheus_settings).await),
            None => None,
        }
    };
    let (mut evidence, metrics) = tokio::join!(gather(cluster.as_ref(), &subjects, &engine.evidence), metrics);
    if let Some(m) = &metrics {
        evidence.redactions += m.redactions;
    }
    evidence.metrics = metrics;
    let rendered = render(&evidence, engine.evidence.budget_bytes);
    engine.metrics.redactions(evidence.redactions as u64);
    let bundle = serde_json::to_value(&evidence)?;
    engine.store.insert_evidence(incident_id, now_ms(), &bundle, &rendered).await?;
    let mut summary = evidence.summary();
    summary["bytes"] = json!(rendered.len());
    let events = vec![NewEvent::new(incident_id, "evidence", "mimi", summary)];
    let result = StepResult { events, transitions, next: Some(Step::Analyze) };
    engine.store.finish_step(job, result, now_ms()).await.map(drop)
}
