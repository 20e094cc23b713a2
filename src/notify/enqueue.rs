//! Reading what an incident's message is built from.

use super::message::ProposalView;
use super::render::{IncidentView, diff_lines};
use crate::domain::alert::Labels;
use crate::store::Store;

/// The incident as its message shows it, or `None` if it does not exist.
pub async fn incident_view(
    store: &Store,
    incident_id: i64,
    public_url: Option<&str>,
) -> anyhow::Result<Option<IncidentView>> {
    let Some(detail) = store.incident_detail(incident_id).await? else { return Ok(None) };
    let (_, labels): (_, Labels) = store.alert_labels(incident_id).await?;
    let i = detail.incident;
    let proposals = detail
        .proposals
        .iter()
        .filter(|p| p.state != "dropped")
        .map(|p| ProposalView {
            id: p.public_id.clone(),
            action: action_text(&p.action),
            reason: p.reason.clone(),
            risk: p.risk.clone(),
            approval: p.approval.clone(),
            state: p.state.clone(),
            refused: p.refused.clone(),
            diff: diff_lines(p.dry_run.as_ref()),
        })
        .collect();
    let generator_url =
        detail.alerts.iter().find(|a| a.status == "firing").or(detail.alerts.first()).map(|a| a.generator_url.clone());
    Ok(Some(IncidentView {
        id: i.id,
        cluster: i.cluster,
        alertname: i.alertname,
        namespace: i.namespace,
        severity: i.severity,
        summary: i.summary,
        state: i.state,
        firing_alerts: i.firing_alerts,
        truncated_alerts: i.truncated_alerts,
        labels,
        alertmanager_url: store.incident_external_url(incident_id).await?,
        generator_url: generator_url.filter(|g| !g.is_empty()),
        console_url: public_url.map(str::to_string),
        analysis: detail.analysis,
        proposals,
        similar: detail.similar,
        memory_note: detail.memory_note,
    }))
}

/// `restart_deployment pay/payments`, `scale_deployment shop/web replicas=4`.
pub fn action_text(spec: &crate::domain::action::ActionSpec) -> String {
    let target = match &spec.namespace {
        Some(ns) => format!("{ns}/{}", spec.name),
        None => spec.name.clone(),
    };
    let params: Vec<String> = spec.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if params.is_empty() {
        format!("{} {target}", spec.kind)
    } else {
        format!("{} {target} {}", spec.kind, params.join(" "))
    }
}
