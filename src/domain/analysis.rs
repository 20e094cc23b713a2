//! What an analyzer concludes about an incident (DESIGN invariant 4: the analyzer advises).
//!
//! An [`Analysis`] is advice: a diagnosis, the facts it rests on, the analyzer's own confidence,
//! and proposals in the wire shape (`ActionSpec`). The engine turns each proposal into a typed
//! `Action` (or drops it, E03), checks its target exists (or drops it as a hallucination, E06),
//! asks the policy, and dry-runs it — only then can a button appear.

use serde::{Deserialize, Serialize};

use super::action::{ActionKind, ActionSpec};
use super::alert::Labels;

/// One proposed action, as the analyzer wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedAction {
    pub action: ActionSpec,
    /// Why this action, in one sentence.
    pub reason: String,
}

/// An analyzer's conclusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// What is wrong, in a sentence or two.
    pub diagnosis: String,
    /// The facts it rests on (reasons, counts, quoted log lines), as short lines.
    pub facts: Vec<String>,
    /// The analyzer's own confidence in [0, 1]; never a number read from the evidence.
    pub confidence: Option<f64>,
    /// In order of preference; empty means "notify only".
    pub proposals: Vec<ProposedAction>,
    /// Things the analyzer noticed about its input, e.g. instructions planted in a log (E01).
    pub flags: Vec<String>,
    /// Which analyzer produced it: "rules", or "llm:<model>".
    pub analyzer: String,
    /// The rule that fired, or the prompt version.
    pub version: String,
    pub tokens: Option<u32>,
    pub millis: u64,
}

/// A past incident recalled as similar (filled by the memory module; empty until it exists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarIncident {
    pub incident_id: i64,
    pub summary: String,
    /// The action taken then, if any, and whether it was verified to fix it.
    pub action: Option<ActionSpec>,
    pub verified: Option<bool>,
    pub score: f32,
}

/// One alert of the incident, as the analyzer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertView {
    pub status: String,
    pub labels: Labels,
    pub annotations: Labels,
    pub starts_at: String,
}

impl AlertView {
    pub fn name(&self) -> &str {
        self.labels.get("alertname").map(String::as_str).unwrap_or_default()
    }
}

/// Actions an alert allows, from its `mimi_allowed_actions` annotation (a comma-separated list of
/// catalogue kinds, or short names like `restart`, `scale`; empty means notify only). Prometheus
/// requires annotation names to be label names, hence no `mimi.dev/...` form on a rule.
/// `None` when no alert carries the annotation; unknown words are ignored (they only narrow).
pub fn allowed_actions(alerts: &[AlertView]) -> Option<Vec<ActionKind>> {
    let mut found: Option<Vec<ActionKind>> = None;
    for a in alerts {
        let Some(list) = a.annotations.get(ALLOWED_ACTIONS) else { continue };
        let kinds: Vec<ActionKind> = list
            .split(',')
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .flat_map(|w| match ActionKind::parse(w) {
                Some(k) => vec![k],
                None => ActionKind::ALL.into_iter().filter(|k| k.as_str().split('_').next() == Some(w)).collect(),
            })
            .collect();
        // Several alerts: only what every one of them allows.
        found = Some(match found {
            None => kinds,
            Some(prev) => prev.into_iter().filter(|k| kinds.contains(k)).collect(),
        });
    }
    found
}

/// The annotation on an alerting rule that narrows what Mimi may propose for its alerts.
pub const ALLOWED_ACTIONS: &str = "mimi_allowed_actions";

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(allowed: Option<&str>) -> AlertView {
        let mut annotations = Labels::new();
        if let Some(a) = allowed {
            annotations.insert(ALLOWED_ACTIONS.into(), a.into());
        }
        AlertView { status: "firing".into(), labels: Labels::new(), annotations, starts_at: String::new() }
    }

    #[test]
    fn the_allowed_actions_annotation_narrows_proposals() {
        use ActionKind::*;
        assert_eq!(allowed_actions(&[alert(None)]), None);
        assert_eq!(allowed_actions(&[alert(Some(""))]), Some(vec![]));
        assert_eq!(
            allowed_actions(&[alert(Some("restart_deployment, delete_pod"))]),
            Some(vec![RestartDeployment, DeletePod])
        );
        assert_eq!(
            allowed_actions(&[alert(Some("restart,scale"))]),
            Some(vec![RestartDeployment, RestartStatefulset, RestartDaemonset, ScaleDeployment, ScaleStatefulset])
        );
        assert_eq!(allowed_actions(&[alert(Some("exec, rm -rf"))]), Some(vec![]), "unknown words allow nothing");
        assert_eq!(
            allowed_actions(&[alert(Some("restart")), alert(Some("restart_deployment,scale"))]),
            Some(vec![RestartDeployment]),
            "several alerts: the intersection"
        );
    }
}
