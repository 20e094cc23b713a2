//! `[analyzer]`: runbook rules of one's own, in `[[analyzer.rules]]` (docs/configuration.md).
//!
//! A rule matches on an alert name, alert label values and a regular expression over the evidence
//! text, and proposes actions from templates whose `{placeholders}` are filled from the alert's
//! labels and the evidence. A rule named like a built-in one replaces it (or switches it off with
//! `enabled = false`). Validation names the key to fix; a rule that does not validate never loads.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::analyze::rules::BUILTIN;
use crate::domain::action::{ActionKind, TargetKind};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnalyzerSettings {
    /// Runbook rules added to, or replacing, the built-in ones.
    pub rules: Vec<RuleSettings>,
}

/// One `[[analyzer.rules]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Lowercase letters, digits and '-'; a built-in rule's name replaces that rule.
    pub name: String,
    /// `false` switches a built-in rule of this name off.
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Matches when an alert of the incident has this `alertname`.
    #[serde(default)]
    pub alertname: Option<String>,
    /// Matches when that alert has every one of these label values.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// A regular expression that must match somewhere in the evidence text.
    #[serde(default)]
    pub evidence: Option<String>,
    /// The diagnosis, with placeholders.
    #[serde(default)]
    pub diagnosis: Option<String>,
    /// The rule's fixed confidence (0 to 1); 0.5 when not given.
    #[serde(default)]
    pub confidence: Option<f64>,
    /// Propose nothing: only say what was found.
    #[serde(default)]
    pub notify_only: bool,
    /// Actions to propose, in order of preference.
    #[serde(default)]
    pub propose: Vec<ActionTemplate>,
}

fn enabled() -> bool {
    true
}

/// A proposal template: `{kind, namespace, name, params}` with placeholders.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionTemplate {
    pub kind: String,
    #[serde(default)]
    pub namespace: Option<String>,
    pub name: String,
    /// `replicas` for scale actions, `to_revision` for a rollback: a number or a placeholder.
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
}

/// The placeholders a template may use; `{labels.NAME}` is any label of the matching alert.
pub const PLACEHOLDERS: &[&str] = &[
    "alertname",
    "namespace",
    "pod",
    "container",
    "deployment",
    "statefulset",
    "daemonset",
    "node",
    "job",
    "service",
    "replicas",
    "replicas_plus_one",
];

/// The placeholders in a template text, or the first malformed one as an error.
pub fn placeholders(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("{text:?} has a '{{' without '}}'"))?;
        let name = &after[..close];
        let known = PLACEHOLDERS.contains(&name)
            || name.strip_prefix("labels.").is_some_and(|l| !l.is_empty() && is_label_name(l));
        if !known {
            return Err(format!(
                "{{{name}}} is not a placeholder; use one of {}, or {{labels.NAME}}",
                PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")).collect::<Vec<_>>().join(", ")
            ));
        }
        out.push(name.to_string());
        rest = &after[close + 1..];
    }
    Ok(out)
}

fn is_label_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_rule_name(s: &str) -> bool {
    (1..=63).contains(&s.len()) && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks `[analyzer]`, naming the key of every problem.
pub(super) fn validate(a: &AnalyzerSettings, err: &mut impl FnMut(&str, String)) {
    let mut names = std::collections::HashSet::new();
    for (i, r) in a.rules.iter().enumerate() {
        let key = format!("analyzer.rules[{i}]");
        let builtin = BUILTIN.iter().any(|b| b.name == r.name);
        if !is_rule_name(&r.name) {
            err(
                &format!("{key}.name"),
                format!("{:?} is not a rule name: 1-63 lowercase letters, digits or '-'", r.name),
            );
        } else if !names.insert(r.name.as_str()) {
            err(&format!("{key}.name"), format!("{:?} is used by two rules", r.name));
        }
        if !r.enabled {
            if !builtin {
                let all: Vec<&str> = BUILTIN.iter().map(|b| b.name).collect();
                err(
                    &format!("{key}.enabled"),
                    format!("only a built-in rule can be switched off; they are {}", all.join(", ")),
                );
            } else if r.name == "no-match" {
                err(
                    &format!("{key}.enabled"),
                    "the no-match rule cannot be switched off (it is what says nothing matched)".into(),
                );
            }
            continue;
        }
        if r.alertname.is_none() && r.labels.is_empty() && r.evidence.is_none() {
            err(&key, "matches every incident: give alertname, labels or evidence".into());
        }
        for k in r.labels.keys().filter(|k| !is_label_name(k)) {
            err(&format!("{key}.labels.{k}"), "is not a Prometheus label name".into());
        }
        if let Some(re) = &r.evidence
            && let Err(e) = regex::RegexBuilder::new(re).size_limit(1 << 20).build()
        {
            err(&format!("{key}.evidence"), format!("is not a regular expression: {e}"));
        }
        if let Some(c) = r.confidence
            && !(c.is_finite() && (0.0..=1.0).contains(&c))
        {
            err(&format!("{key}.confidence"), format!("must be between 0 and 1, got {c}"));
        }
        if let Some(d) = &r.diagnosis
            && let Err(e) = placeholders(d)
        {
            err(&format!("{key}.diagnosis"), e);
        }
        if r.notify_only && !r.propose.is_empty() {
            err(&format!("{key}.propose"), "a notify_only rule proposes nothing: remove propose or notify_only".into());
        }
        for (j, t) in r.propose.iter().enumerate() {
            validate_template(&format!("{key}.propose[{j}]"), t, err);
        }
    }
}

fn validate_template(key: &str, t: &ActionTemplate, err: &mut impl FnMut(&str, String)) {
    let Some(kind) = ActionKind::parse(&t.kind) else {
        let kinds: Vec<&str> = ActionKind::ALL.iter().map(|k| k.as_str()).collect();
        err(&format!("{key}.kind"), format!("{:?} is not an action kind; the kinds are {}", t.kind, kinds.join(", ")));
        return;
    };
    match (kind.target_kind(), &t.namespace) {
        (TargetKind::Node, Some(_)) => {
            err(&format!("{key}.namespace"), format!("{kind} acts on a node, which has no namespace"))
        }
        (TargetKind::Node, None) => {}
        (_, None) => err(&format!("{key}.namespace"), format!("{kind} needs a namespace, e.g. \"{{namespace}}\"")),
        (_, Some(ns)) => {
            if let Err(e) = placeholders(ns) {
                err(&format!("{key}.namespace"), e);
            }
        }
    }
    if let Err(e) = placeholders(&t.name) {
        err(&format!("{key}.name"), e);
    }
    let allowed: &[&str] = match kind {
        ActionKind::ScaleDeployment | ActionKind::ScaleStatefulset => &["replicas"],
        ActionKind::RollbackDeployment => &["to_revision"],
        _ => &[],
    };
    if allowed == ["replicas"] && !t.params.contains_key("replicas") {
        err(
            &format!("{key}.params.replicas"),
            "is required for a scale action (a number or \"{replicas_plus_one}\")".into(),
        );
    }
    for (p, v) in &t.params {
        if !allowed.contains(&p.as_str()) {
            err(&format!("{key}.params.{p}"), format!("is not a parameter of {kind}"));
            continue;
        }
        match v {
            serde_json::Value::Number(n) if n.as_u64().is_some() => {}
            serde_json::Value::String(text) => {
                if let Err(e) = placeholders(text) {
                    err(&format!("{key}.params.{p}"), e);
                }
            }
            _ => err(&format!("{key}.params.{p}"), "must be a whole number or a placeholder text".into()),
        }
    }
}
