//! Validating the model's proposals one by one (RELIABILITY E01-E03, E05, E07).
//!
//! A proposal survives only if it is an object of exactly `{kind, namespace, name, params,
//! reason}`, its kind is in the catalogue, [`Action::from_spec`] accepts it (valid Kubernetes names,
//! known and typed parameters), a scale stays within 1..=[`MAX_REPLICAS`], the alert's
//! `mimi_allowed_actions` allow it, and its target is one the alerts or the evidence name (a model
//! may not wander off to other workloads). Every drop adds a flag saying why. What survives is
//! rewritten from the typed action, so nothing the model wrote beyond the catalogue's fields is
//! kept. The engine still checks the target exists, asks the policy and dry-runs it.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::AnalysisInput;
use super::text::{Cleaner, quote};
use crate::cluster::evidence::{SubjectKind, resolve};
use crate::domain::action::{Action, ActionKind, ActionSpec, TargetKind};
use crate::domain::analysis::ProposedAction;
use crate::strings::llm as s;

/// Proposals kept at most, best first.
pub(super) const MAX_PROPOSALS: usize = 3;
/// No scale beyond this survives, whatever the policy says (it allows at most 10,000 too).
pub(super) const MAX_REPLICAS: u32 = 10_000;
const MAX_REASON_CHARS: usize = 300;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProposal {
    kind: String,
    #[serde(default)]
    namespace: Option<String>,
    name: String,
    #[serde(default)]
    params: Option<Map<String, Value>>,
    #[serde(default)]
    reason: Option<String>,
}

/// The proposals that survive, and a flag for every one that did not.
pub(super) fn validate(
    raw: &[Value],
    input: &AnalysisInput,
    cleaner: &mut Cleaner,
    flags: &mut Vec<String>,
) -> Vec<ProposedAction> {
    let known = Known::of(input);
    let mut kept: Vec<(Action, ProposedAction)> = Vec::new();
    for item in raw {
        match check(item, input, &known) {
            Ok((ref action, _)) if kept.iter().any(|(a, _)| a == action) => {}
            Ok(_) if kept.len() == MAX_PROPOSALS => flags.push(s::dropped_extra(MAX_PROPOSALS)),
            Ok((action, reason)) => {
                let reason = cleaner.clean(&reason, MAX_REASON_CHARS);
                kept.push((action.clone(), ProposedAction { action: action.to_spec(), reason }));
            }
            Err(why) => flags.push(why),
        }
    }
    flags.dedup();
    kept.into_iter().map(|(_, p)| p).collect()
}

/// The typed action and its reason, or the flag saying why the proposal was dropped.
fn check(item: &Value, input: &AnalysisInput, known: &Known) -> Result<(Action, String), String> {
    let shown_kind = item.get("kind").and_then(Value::as_str).map(|k| quote(k, 40)).unwrap_or_default();
    let raw: RawProposal = serde_json::from_value(item.clone())
        .map_err(|e| s::dropped_malformed(&shown_kind, &quote(&e.to_string(), 80)))?;
    let Some(kind) = ActionKind::parse(&raw.kind) else { return Err(s::dropped_not_in_catalogue(&shown_kind)) };
    let params: Map<String, Value> = raw.params.unwrap_or_default().into_iter().filter(|(_, v)| !v.is_null()).collect();
    let spec =
        ActionSpec { kind: raw.kind, namespace: raw.namespace.filter(|n| !n.is_empty()), name: raw.name, params };
    let action =
        Action::from_spec(&spec).map_err(|e| s::dropped_invalid(kind.as_str(), &quote(&e.to_string(), 120)))?;
    if let Action::Scale { replicas, .. } = action
        && !(1..=MAX_REPLICAS).contains(&replicas)
    {
        return Err(s::dropped_replicas(replicas, MAX_REPLICAS));
    }
    let target = action.target().to_string();
    if input.allowed.as_ref().is_some_and(|allowed| !allowed.contains(&kind)) {
        return Err(s::dropped_not_allowed(kind.as_str(), &quote(&target, 120)));
    }
    if !known.names(&action) {
        return Err(s::dropped_not_in_incident(kind.as_str(), &quote(&target, 120)));
    }
    Ok((action, raw.reason.unwrap_or_default()))
}

/// The objects the alerts and the evidence name: the only legitimate targets.
#[derive(Debug, Default)]
struct Known {
    /// (kind, namespace, name).
    objects: Vec<(TargetKind, Option<String>, String)>,
}

impl Known {
    fn of(input: &AnalysisInput) -> Known {
        let mut k = Known::default();
        let labels: Vec<_> = input.alerts.iter().map(|a| &a.labels).collect();
        for subject in resolve(&labels, &Default::default()) {
            if let Some(kind) = target_kind(subject.kind) {
                k.add(kind, subject.namespace.map(|n| n.as_str().to_string()), subject.name.as_str());
            }
        }
        let Some(ev) = &input.evidence else { return k };
        for s in ev.subjects.iter().filter(|s| s.found) {
            if let Some(kind) = target_kind(s.kind) {
                k.add(kind, s.namespace.clone(), &s.name);
            }
        }
        for p in &ev.pods {
            k.add(TargetKind::Pod, Some(p.namespace.clone()), &p.name);
            if let Some(node) = &p.node {
                k.add(TargetKind::Node, None, node);
            }
            for owner in &p.owners {
                let kind = owner.split_once(' ').and_then(|(kind, name)| Some((owner_kind(kind)?, name)));
                if let Some((kind, name)) = kind {
                    k.add(kind, Some(p.namespace.clone()), name);
                }
            }
        }
        for w in &ev.workloads {
            if let Some(kind) = target_kind(w.kind) {
                k.add(kind, Some(w.namespace.clone()), &w.name);
            }
        }
        for n in &ev.nodes {
            k.add(TargetKind::Node, None, &n.name);
        }
        k
    }

    fn add(&mut self, kind: TargetKind, namespace: Option<String>, name: &str) {
        self.objects.push((kind, namespace, name.to_string()));
    }

    /// Whether the action's target is one of the known objects. A workload also counts when a
    /// known pod in its namespace carries its name as a prefix (`checkout-6d8f7c9b4-q2x7m`).
    fn names(&self, action: &Action) -> bool {
        let t = action.target();
        let ns = t.namespace.as_ref().map(|n| n.as_str().to_string());
        let name = t.name.as_str();
        self.objects.iter().any(|(kind, namespace, known)| {
            let same_place = *namespace == ns;
            (*kind == t.kind && same_place && known == name)
                || (matches!(t.kind, TargetKind::Deployment | TargetKind::StatefulSet | TargetKind::DaemonSet)
                    && *kind == TargetKind::Pod
                    && same_place
                    && known.strip_prefix(name).is_some_and(|rest| rest.starts_with('-')))
        })
    }
}

fn target_kind(kind: SubjectKind) -> Option<TargetKind> {
    match kind {
        SubjectKind::Pod => Some(TargetKind::Pod),
        SubjectKind::Deployment => Some(TargetKind::Deployment),
        SubjectKind::StatefulSet => Some(TargetKind::StatefulSet),
        SubjectKind::DaemonSet => Some(TargetKind::DaemonSet),
        SubjectKind::Node => Some(TargetKind::Node),
        SubjectKind::ReplicaSet
        | SubjectKind::Job
        | SubjectKind::Service
        | SubjectKind::HorizontalPodAutoscaler
        | SubjectKind::PersistentVolumeClaim => None,
    }
}

fn owner_kind(kind: &str) -> Option<TargetKind> {
    match kind {
        "Deployment" => Some(TargetKind::Deployment),
        "StatefulSet" => Some(TargetKind::StatefulSet),
        "DaemonSet" => Some(TargetKind::DaemonSet),
        _ => None,
    }
}

#[cfg(test)]
#[path = "proposals_tests.rs"]
mod tests;
