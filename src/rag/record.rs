//! The compact record of an incident that ended, as memory keeps it (pure: built from rows).
//!
//! What is embedded ([`describe`]) is what a new incident also has before it is analysed: the alert
//! names, their target labels and summaries, and the evidence signature (container states, last
//! termination reasons, warning event reasons). The diagnosis, the action and its outcome travel in
//! the payload, so a recalled incident says what was done and whether it worked.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cluster::evidence::Evidence;
use crate::domain::action::ActionSpec;
use crate::domain::analysis::{AlertView, SimilarIncident};
use crate::store::IncidentDetail;

/// Label keys that name what an alert is about (first found wins for `workload`).
const TARGET_LABELS: [&str; 7] = ["deployment", "statefulset", "daemonset", "job_name", "pod", "container", "node"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentRecord {
    pub incident_id: i64,
    pub cluster: String,
    pub namespace: Option<String>,
    pub alertname: String,
    pub workload: Option<String>,
    /// What was embedded.
    pub text: String,
    pub diagnosis: Option<String>,
    /// The action that ran, if one did.
    pub action: Option<ActionSpec>,
    /// `verified`, `not_fixed`, `timed_out`, `failed` (the action), or the incident's end state
    /// when no action ran (`resolved`, `expired`, `rejected`).
    pub outcome: String,
    /// Whether the action was verified to fix it; `None` when no action ran.
    pub verified: Option<bool>,
    /// From the first alert to resolution.
    pub resolve_seconds: Option<i64>,
    /// Unix ms of the end.
    pub ended_at: i64,
    /// Kept apart from real incidents (eval, sandbox).
    pub sandbox: bool,
}

impl IncidentRecord {
    pub fn from_detail(d: &IncidentDetail) -> IncidentRecord {
        let i = &d.incident;
        let alerts: Vec<AlertView> = d.alerts.iter().map(crate::store::AlertRow::view).collect();
        let evidence = d.evidence.as_ref().and_then(|e| serde_json::from_value::<Evidence>(e.bundle.clone()).ok());
        let run = d.runs.iter().rev().find(|r| r.outcome.is_some());
        let executed = d.proposals.iter().find(|p| p.state == "executed" || p.state == "failed");
        let (outcome, verified) = match run {
            Some(r) => {
                let v = r.verified.clone();
                let outcome = v.clone().or_else(|| r.outcome.clone()).unwrap_or_else(|| "unknown".into());
                (outcome, Some(v.as_deref() == Some("verified")))
            }
            None => (i.state.clone(), None),
        };
        let ended = i.resolved_at.unwrap_or(i.updated_at);
        IncidentRecord {
            incident_id: i.id,
            cluster: i.cluster.clone(),
            namespace: i.namespace.clone(),
            alertname: i.alertname.clone(),
            workload: workload(&alerts),
            text: describe(&alerts, evidence.as_ref()),
            diagnosis: d.analysis.as_ref().and_then(|a| a["diagnosis"].as_str()).map(str::to_string),
            action: executed.map(|p| p.action.clone()),
            outcome,
            verified,
            resolve_seconds: i.resolved_at.map(|r| (r.as_millisecond() - i.created_at.as_millisecond()) / 1000),
            ended_at: ended.as_millisecond(),
            sandbox: false,
        }
    }

    pub fn payload(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        // Filters match strings; an absent namespace or workload is "".
        v["namespace"] = Value::String(self.namespace.clone().unwrap_or_default());
        v["workload"] = Value::String(self.workload.clone().unwrap_or_default());
        v["verified_text"] = Value::String(match self.verified {
            Some(true) => "true".into(),
            Some(false) => "false".into(),
            None => "none".into(),
        });
        v
    }

    pub fn from_payload(payload: &Value) -> Option<IncidentRecord> {
        let mut p = payload.clone();
        for k in ["namespace", "workload"] {
            if p[k].as_str() == Some("") {
                p[k] = Value::Null;
            }
        }
        serde_json::from_value(p).ok()
    }

    /// As the analyzer and the message show it.
    pub fn similar(&self, score: f32) -> SimilarIncident {
        let mut summary = format!("{} in {}", self.alertname, self.namespace.as_deref().unwrap_or("the cluster"));
        if let Some(w) = &self.workload {
            summary.push_str(&format!(" ({w})"));
        }
        if let Some(d) = &self.diagnosis {
            summary.push_str(&format!(": {d}"));
        }
        summary.push_str(&format!("; outcome: {}", self.outcome));
        if let Some(s) = self.resolve_seconds {
            summary.push_str(&format!(", resolved in {}", human_duration(s)));
        }
        SimilarIncident {
            incident_id: self.incident_id,
            summary,
            action: self.action.clone(),
            verified: self.verified,
            score,
        }
    }
}

fn human_duration(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// The workload (or pod, or node) the alerts are about.
pub fn workload(alerts: &[AlertView]) -> Option<String> {
    TARGET_LABELS.iter().find_map(|k| alerts.iter().find_map(|a| a.labels.get(*k).cloned()))
}

/// The text embedded for an incident: alerts, their target labels and summaries, the evidence signature.
pub fn describe(alerts: &[AlertView], evidence: Option<&Evidence>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for a in alerts {
        if seen.insert(a.name().to_string()) {
            parts.push(a.name().to_string());
        }
        for k in std::iter::once("namespace").chain(TARGET_LABELS) {
            if let Some(v) = a.labels.get(k)
                && seen.insert(format!("{k}={v}"))
            {
                parts.push(v.clone());
            }
        }
        for k in ["summary", "description"] {
            if let Some(v) = a.annotations.get(k)
                && seen.insert(v.clone())
            {
                parts.push(v.chars().take(300).collect());
            }
        }
    }
    let sig = signature(evidence);
    if !sig.is_empty() {
        parts.push(sig.join(" "));
    }
    parts.join(". ")
}

/// Container states, last termination reasons and warning event reasons, deduplicated, sorted.
pub fn signature(evidence: Option<&Evidence>) -> Vec<String> {
    let Some(e) = evidence else { return Vec::new() };
    let mut sig = BTreeSet::new();
    for p in &e.pods {
        if p.phase != "Running" && p.phase != "Succeeded" {
            sig.insert(p.phase.clone());
        }
        for c in &p.containers {
            let first = |s: &str| s.split([' ', ':', '(']).next().unwrap_or_default().to_string();
            if !c.state.is_empty() && !c.state.starts_with("running") {
                sig.insert(first(&c.state));
            }
            if let Some(t) = &c.last_termination {
                sig.insert(first(t));
            }
        }
    }
    for ev in &e.events {
        sig.insert(ev.reason.clone());
    }
    sig.retain(|s| !s.is_empty());
    sig.into_iter().take(20).collect()
}
