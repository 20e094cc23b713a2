//! A scenario's analysis input without the engine: a sandbox on the scenario, the real evidence
//! gatherer (resolve, gather, render, as the enrich step does) and the alerts as the analyze step
//! sees them. For rule tests and the analysis benchmark; `mimi eval` runs the whole pipeline.

use std::time::Duration;

use anyhow::Context;

use super::scenario::ScenarioFiles;
use crate::analyze::AnalysisInput;
use crate::cluster::KubeCluster;
use crate::cluster::evidence::{gather, render, resolve};
use crate::config::EvidenceSettings;
use crate::domain::alert::{Labels, parse_payload};
use crate::domain::analysis::{AlertView, allowed_actions};
use crate::sandbox::{Sandbox, SandboxOptions};

/// The input an analyzer gets for the scenario's alerts (every payload, in order).
pub async fn analysis_input(files: &ScenarioFiles, settings: &EvidenceSettings) -> anyhow::Result<AnalysisInput> {
    let mut alerts = Vec::new();
    let mut labels: Vec<Labels> = Vec::new();
    let mut common = Labels::new();
    for payload in &files.payloads {
        let delivery = parse_payload(payload.to_string().as_bytes()).context("not a valid webhook payload")?;
        common = delivery.common_labels.clone();
        for a in delivery.alerts {
            labels.push(a.labels.clone());
            alerts.push(AlertView {
                status: a.status.as_str().to_string(),
                labels: a.labels,
                annotations: a.annotations,
                starts_at: a.starts_at.to_string(),
            });
        }
    }
    let sandbox = Sandbox::start(&files.dir, SandboxOptions::default()).await?;
    let cluster = KubeCluster::from_client(sandbox.client().await?, false, Duration::from_secs(5));
    let subjects = resolve(&labels.iter().collect::<Vec<_>>(), &common);
    let evidence = gather(&cluster, &subjects, settings).await;
    sandbox.shutdown().await;
    Ok(AnalysisInput {
        cluster: "default".into(),
        allowed: allowed_actions(&alerts),
        alerts,
        evidence_text: render(&evidence, settings.budget_bytes),
        evidence: Some(evidence),
        similar: Vec::new(),
        runbooks: Vec::new(),
    })
}
