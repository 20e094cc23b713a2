//! Rules from the configuration (`[[analyzer.rules]]`): match on an alert name, label values and a
//! regular expression over the evidence text; propose actions from templates filled from the
//! matching alert's labels and the evidence.
//!
//! A filled template is proposed only if its target is in the evidence (so it exists), its names
//! are valid, and a scale stays within the rules' scale limits; otherwise the facts say why not.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value};

use super::Finding;
use super::context::{Ctx, clip};
use crate::cluster::evidence::SubjectKind;
use crate::config::{ActionTemplate, RuleSettings};
use crate::domain::action::{Action, ActionKind, ActionSpec, TargetKind};
use crate::domain::analysis::{AlertView, ProposedAction};
use crate::strings::rules as s;

/// A configured rule, compiled.
#[derive(Debug, Clone)]
pub struct CustomRule {
    name: String,
    enabled: bool,
    alertname: Option<String>,
    labels: BTreeMap<String, String>,
    evidence: Option<Regex>,
    diagnosis: Option<String>,
    confidence: f64,
    propose: Vec<ActionTemplate>,
}

impl CustomRule {
    /// From validated settings; the error says what is wrong (validation catches it first).
    pub fn from_settings(r: &RuleSettings) -> Result<CustomRule, String> {
        let evidence = match &r.evidence {
            Some(re) => Some(
                regex::RegexBuilder::new(re)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| format!("evidence is not a regular expression: {e}"))?,
            ),
            None => None,
        };
        Ok(CustomRule {
            name: r.name.clone(),
            enabled: r.enabled,
            alertname: r.alertname.clone(),
            labels: r.labels.clone(),
            evidence,
            diagnosis: r.diagnosis.clone(),
            confidence: r.confidence.unwrap_or(0.5),
            propose: if r.notify_only { Vec::new() } else { r.propose.clone() },
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    pub fn confidence(&self) -> f64 {
        self.confidence
    }

    fn matches_alert(&self, a: &AlertView) -> bool {
        self.alertname.as_deref().is_none_or(|n| a.name() == n)
            && self.labels.iter().all(|(k, v)| a.labels.get(k) == Some(v))
    }

    pub(crate) fn check(&self, ctx: &Ctx<'_>) -> Option<Finding> {
        let alert = ctx.input.alerts.iter().find(|a| self.matches_alert(a));
        if alert.is_none() && (self.alertname.is_some() || !self.labels.is_empty()) {
            return None;
        }
        let matched_text = match &self.evidence {
            Some(re) => Some(re.find(&ctx.input.evidence_text)?.as_str().to_string()),
            None => None,
        };
        let vars = variables(ctx, alert);
        let mut facts = vec![s::custom_matched(
            &self.name,
            alert.map(AlertView::name),
            matched_text.as_deref().map(|t| clip(t, 120)).as_deref(),
        )];
        let mut proposals = Vec::new();
        for t in &self.propose {
            match fill(t, &vars) {
                Err(missing) => facts.push(s::custom_unfilled(&t.kind, &missing)),
                Ok(spec) => match admissible(ctx, &spec) {
                    Ok(()) => proposals.push(ProposedAction { reason: s::reason_custom(&self.name), action: spec }),
                    Err(why) => facts.push(why),
                },
            }
        }
        let diagnosis = match &self.diagnosis {
            Some(d) => fill_text(d, &vars).unwrap_or_else(|_| d.clone()),
            None => s::diag_custom(&self.name),
        };
        Some(Finding { diagnosis, facts, proposals })
    }
}

/// Placeholder values: the alert's labels, then what the evidence says.
fn variables(ctx: &Ctx<'_>, alert: Option<&AlertView>) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    if let Some(a) = alert {
        for (k, val) in &a.labels {
            v.insert(format!("labels.{k}"), val.clone());
        }
        for k in
            ["alertname", "namespace", "pod", "container", "deployment", "statefulset", "daemonset", "node", "service"]
        {
            if let Some(val) = a.labels.get(k).filter(|x| !x.is_empty()) {
                v.insert(k.to_string(), val.clone());
            }
        }
        if let Some(job) = a.labels.get("job_name") {
            v.insert("job".into(), job.clone());
        }
    }
    let pod = ctx.ev.pods.iter().find(|p| !p.ready).or_else(|| ctx.ev.pods.first());
    if let Some(p) = pod {
        v.entry("pod".into()).or_insert_with(|| p.name.clone());
        v.entry("namespace".into()).or_insert_with(|| p.namespace.clone());
        if let Some(c) = p.containers.iter().find(|c| !c.ready).or_else(|| p.containers.first()) {
            v.entry("container".into()).or_insert_with(|| c.name.clone());
        }
        if let Some(n) = &p.node {
            v.entry("node".into()).or_insert_with(|| n.clone());
        }
    }
    let owner = pod.and_then(|p| ctx.owner(p));
    for (kind, key) in [
        (SubjectKind::Deployment, "deployment"),
        (SubjectKind::StatefulSet, "statefulset"),
        (SubjectKind::DaemonSet, "daemonset"),
        (SubjectKind::Job, "job"),
    ] {
        let name = owner
            .as_ref()
            .filter(|o| o.kind == kind)
            .map(|o| o.name.clone())
            .or_else(|| ctx.ev.workloads.iter().find(|w| w.kind == kind).map(|w| w.name.clone()));
        if let Some(n) = name {
            v.entry(key.into()).or_insert(n);
        }
    }
    if let Some(n) = ctx.ev.nodes.first() {
        v.entry("node".into()).or_insert_with(|| n.name.clone());
    }
    if let Some(svc) = ctx.ev.services.first() {
        v.entry("service".into()).or_insert_with(|| svc.name.clone());
    }
    let scaled = ["deployment", "statefulset"].iter().find_map(|k| {
        let name = v.get(*k)?;
        ctx.ev
            .workloads
            .iter()
            .find(|w| &w.name == name && matches!(w.kind, SubjectKind::Deployment | SubjectKind::StatefulSet))
    });
    if let Some(w) = scaled {
        v.insert("replicas".into(), w.desired.to_string());
        v.insert("replicas_plus_one".into(), (w.desired + 1).to_string());
    }
    v
}

fn fill_text(text: &str, vars: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else { break };
        let key = &after[..close];
        out.push_str(vars.get(key).ok_or_else(|| key.to_string())?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn fill(t: &ActionTemplate, vars: &BTreeMap<String, String>) -> Result<ActionSpec, String> {
    let mut params = Map::new();
    for (k, v) in &t.params {
        let value = match v {
            Value::String(text) => {
                let filled = fill_text(text, vars)?;
                filled.parse::<u64>().map(Value::from).unwrap_or(Value::String(filled))
            }
            other => other.clone(),
        };
        params.insert(k.clone(), value);
    }
    Ok(ActionSpec {
        kind: t.kind.clone(),
        namespace: t.namespace.as_deref().map(|n| fill_text(n, vars)).transpose()?,
        name: fill_text(&t.name, vars)?,
        params,
    })
}

/// A filled template may be proposed: well-formed, its target in the evidence, a scale in bounds.
fn admissible(ctx: &Ctx<'_>, spec: &ActionSpec) -> Result<(), String> {
    let action = Action::from_spec(spec).map_err(|e| s::custom_invalid(&spec.kind, &e.to_string()))?;
    let ns = spec.namespace.as_deref().unwrap_or_default();
    let kind = action.kind();
    let workload =
        |k: SubjectKind| ctx.ev.workloads.iter().find(|w| w.kind == k && w.namespace == ns && w.name == spec.name);
    let found = match kind.target_kind() {
        TargetKind::Deployment => workload(SubjectKind::Deployment).is_some(),
        TargetKind::StatefulSet => workload(SubjectKind::StatefulSet).is_some(),
        TargetKind::DaemonSet => workload(SubjectKind::DaemonSet).is_some(),
        TargetKind::Pod => ctx.ev.pods.iter().any(|p| p.namespace == ns && p.name == spec.name),
        TargetKind::Node => {
            ctx.ev.nodes.iter().any(|n| n.name == spec.name)
                || ctx.ev.pods.iter().any(|p| p.node.as_deref() == Some(spec.name.as_str()))
        }
    };
    if !found {
        return Err(s::custom_not_in_evidence(kind.as_str(), ns, &spec.name));
    }
    if let Action::Scale { replicas, .. } = action {
        let k = if kind == ActionKind::ScaleDeployment { SubjectKind::Deployment } else { SubjectKind::StatefulSet };
        let current = workload(k).map_or(0, |w| u32::try_from(w.desired).unwrap_or(0));
        let limits = ctx.opts.scale;
        let by_factor = (f64::from(current.max(1)) * limits.max_factor).floor() as u32;
        if replicas == 0 || replicas > limits.max_replicas || replicas > by_factor {
            return Err(s::custom_scale_out_of_bounds(replicas, current, limits.max_replicas.min(by_factor)));
        }
    }
    Ok(())
}
