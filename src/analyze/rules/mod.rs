//! Runbook rules: the default analyzer, deterministic and offline.
//!
//! Each rule looks at the incident's alerts and structured evidence (container states and last
//! terminations, owners and revisions, conditions, events, claims, autoscalers) and, when it
//! applies, gives a diagnosis, the facts it rests on (reasons, counts, quoted log lines), and
//! proposals from the catalogue in order of preference. Rules are tried in a fixed order, most
//! specific first; the first that applies decides, the next two that also apply are mentioned.
//! Each rule has a fixed confidence.
//!
//! Invariants:
//! - Free text (logs, event messages, annotations) is quoted as evidence, never obeyed: decisions
//!   rest on structured fields, and instruction-like text is flagged, never quoted (E01, E02).
//! - Proposals name only objects found in the evidence; scale targets are one bounded step within
//!   the policy's limits; nothing is proposed in a protected namespace, nor of a kind the alert's
//!   `mimi_allowed_actions` leaves out (it only narrows). The engine checks everything again.
//! - Rules configured in `[[analyzer.rules]]` come first; one with a built-in rule's name replaces
//!   it in place (or switches it off with `enabled = false`).

mod capacity;
pub(crate) mod context;
mod crash;
mod custom;
mod hostile;
mod nodes;
mod past;
mod propose;
mod pull;
mod workloads;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_capacity;
#[cfg(test)]
mod tests_more;

use std::collections::BTreeSet;
use std::time::Instant;

use async_trait::async_trait;

use self::context::Ctx;
pub use self::custom::CustomRule;
pub use self::propose::ScaleLimits;
use super::{AnalysisInput, AnalyzeError, Analyzer};
use crate::cluster::evidence::Evidence;
use crate::config::Settings;
use crate::domain::action::{Action, ActionKind};
use crate::domain::analysis::{Analysis, ProposedAction};
use crate::strings::rules as s;

/// What a rule found.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Finding {
    pub diagnosis: String,
    pub facts: Vec<String>,
    /// In order of preference; empty means notify only.
    pub proposals: Vec<ProposedAction>,
}

type Check = fn(&Ctx<'_>) -> Option<Finding>;

/// A built-in rule: its name (for configuration and `Analysis::version`), fixed confidence, check.
pub struct Builtin {
    pub name: &'static str,
    pub confidence: f64,
    check: Check,
}

const fn rule(name: &'static str, confidence: f64, check: Check) -> Builtin {
    Builtin { name, confidence, check }
}

/// The built-in rules, in the order they are tried.
pub static BUILTIN: &[Builtin] = &[
    rule("node-not-ready", 0.7, nodes::not_ready),
    rule("node-pressure", 0.6, nodes::pressure),
    rule("job-failed", 0.85, workloads::job_failed),
    rule("image-pull-after-rollout", 0.8, pull::pull_after_rollout),
    rule("image-pull", 0.9, pull::image_pull),
    rule("container-config", 0.9, pull::container_config),
    rule("crashloop-after-rollout", 0.8, crash::after_rollout),
    rule("oomkilled", 0.75, crash::oomkilled),
    rule("probe-failure", 0.6, crash::probe_failure),
    rule("crashloop", 0.7, crash::crashloop),
    rule("pvc-pending", 0.85, capacity::claim_pending),
    rule("unschedulable", 0.85, capacity::unschedulable),
    rule("rollout-stuck", 0.7, workloads::rollout_stuck),
    rule("hpa-maxed", 0.8, capacity::autoscaler_maxed),
    rule("cpu-pressure", 0.6, capacity::cpu),
    rule("target-down", 0.55, workloads::target_down),
    rule("replica-mismatch", 0.5, workloads::replica_mismatch),
    rule("target-missing", 0.6, workloads::missing_target),
    rule("no-evidence", 0.1, workloads::no_evidence),
    rule("no-match", 0.2, workloads::no_match),
];

/// Rules that only say nothing else applied; never mentioned as "also".
const FALLBACKS: &[&str] = &["no-evidence", "no-match"];

/// How many other matching rules the facts mention.
const MAX_ALSO: usize = 2;

/// Limits the rules keep to (from `[policy]`); the engine applies the policy again.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleOptions {
    /// Namespaces the rules propose nothing in (protected ones and Mimi's own).
    pub protected_namespaces: BTreeSet<String>,
    pub scale: ScaleLimits,
}

impl Default for RuleOptions {
    fn default() -> Self {
        RuleOptions {
            protected_namespaces: BTreeSet::from(["kube-system".to_string(), "mimi".to_string()]),
            scale: ScaleLimits::default(),
        }
    }
}

enum Rule {
    Builtin(&'static Builtin),
    Custom(CustomRule),
}

impl Rule {
    fn name(&self) -> &str {
        match self {
            Rule::Builtin(b) => b.name,
            Rule::Custom(c) => c.name(),
        }
    }

    fn confidence(&self) -> f64 {
        match self {
            Rule::Builtin(b) => b.confidence,
            Rule::Custom(c) => c.confidence(),
        }
    }

    fn check(&self, ctx: &Ctx<'_>) -> Option<Finding> {
        match self {
            Rule::Builtin(b) => (b.check)(ctx),
            Rule::Custom(c) => c.check(ctx),
        }
    }
}

/// The runbook-rule analyzer.
pub struct RuleAnalyzer {
    rules: Vec<Rule>,
    options: RuleOptions,
}

impl std::fmt::Debug for RuleAnalyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleAnalyzer").field("rules", &self.rules.iter().map(Rule::name).collect::<Vec<_>>()).finish()
    }
}

impl Default for RuleAnalyzer {
    fn default() -> Self {
        RuleAnalyzer::new(Vec::new(), RuleOptions::default())
    }
}

impl RuleAnalyzer {
    /// The built-in rules with `custom` ones first; a custom rule named like a built-in one
    /// replaces it in place, or removes it when disabled.
    pub fn new(custom: Vec<CustomRule>, options: RuleOptions) -> Self {
        let mut replacing: Vec<CustomRule> = Vec::new();
        let mut rules: Vec<Rule> = Vec::new();
        for c in custom {
            if BUILTIN.iter().any(|b| b.name == c.name()) {
                replacing.push(c);
            } else if c.enabled() {
                rules.push(Rule::Custom(c));
            }
        }
        for b in BUILTIN {
            match replacing.iter().position(|c| c.name() == b.name) {
                Some(i) => {
                    let c = replacing.remove(i);
                    if c.enabled() {
                        rules.push(Rule::Custom(c));
                    }
                }
                None => rules.push(Rule::Builtin(b)),
            }
        }
        RuleAnalyzer { rules, options }
    }

    /// From validated settings: `[[analyzer.rules]]`, and the protected namespaces and scale
    /// bounds of `[policy]`.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let custom = settings
            .analyzer
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| CustomRule::from_settings(r).map_err(|e| anyhow::anyhow!("analyzer.rules[{i}]: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let p = &settings.policy;
        let mut protected: BTreeSet<String> = p.protected_namespaces.iter().cloned().collect();
        protected.insert(p.own_namespace.clone());
        let scale = ScaleLimits { max_replicas: p.scale.max_replicas, max_factor: p.scale.max_factor };
        Ok(RuleAnalyzer::new(custom, RuleOptions { protected_namespaces: protected, scale }))
    }

    /// The rule names in the order they are tried.
    pub fn rule_names(&self) -> Vec<&str> {
        self.rules.iter().map(Rule::name).collect()
    }

    /// The analysis, synchronously (it is pure and takes microseconds).
    pub fn analyze_now(&self, input: &AnalysisInput) -> Analysis {
        let started = Instant::now();
        let empty = Evidence::default();
        let ev = input.evidence.as_ref().unwrap_or(&empty);
        let ctx = Ctx { input, ev, opts: &self.options };
        let mut matched = self.rules.iter().filter_map(|r| r.check(&ctx).map(|f| (r, f)));
        let (name, confidence, primary) = match matched.next() {
            Some((r, f)) => (r.name().to_string(), r.confidence(), f),
            // `no-match` cannot be switched off, but a configured replacement may not match.
            None => ("no-match".to_string(), 0.2, workloads::no_match(&ctx).unwrap_or_default()),
        };
        let mut facts = primary.facts;
        for (other, f) in matched.filter(|(r, _)| !FALLBACKS.contains(&r.name())).take(MAX_ALSO) {
            facts.push(s::also(other.name(), &f.diagnosis));
        }
        let proposals = self.screen(primary.proposals, input, &mut facts);
        facts.extend(past::facts(input, &proposals));
        Analysis {
            diagnosis: hostile::defuse(&primary.diagnosis),
            facts: facts.iter().map(|f| hostile::defuse(f)).collect(),
            confidence: Some(confidence),
            proposals,
            flags: hostile::flags(input, ev),
            analyzer: "rules".into(),
            version: name,
            tokens: None,
            millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }
    }

    /// Drops what the alert does not allow, what is in a protected namespace, what is not a
    /// well-formed catalogue action, and repeats; says why in the facts.
    fn screen(
        &self,
        proposals: Vec<ProposedAction>,
        input: &AnalysisInput,
        facts: &mut Vec<String>,
    ) -> Vec<ProposedAction> {
        let mut kept: Vec<ProposedAction> = Vec::new();
        for p in proposals {
            let Ok(action) = Action::from_spec(&p.action) else {
                facts.push(s::withheld_malformed(&p.action.kind, &p.action.name));
                continue;
            };
            let kind: ActionKind = action.kind();
            if let Some(allowed) = &input.allowed
                && !allowed.contains(&kind)
            {
                facts.push(s::withheld_not_allowed(kind.as_str()));
                continue;
            }
            if let Some(ns) = p.action.namespace.as_deref().filter(|ns| self.options.protected_namespaces.contains(*ns))
            {
                facts.push(s::withheld_protected(kind.as_str(), ns));
                continue;
            }
            if !kept.iter().any(|k| k.action == p.action) {
                kept.push(p);
            }
        }
        facts.dedup();
        kept
    }
}

#[async_trait]
impl Analyzer for RuleAnalyzer {
    fn name(&self) -> String {
        "rules".into()
    }

    async fn analyze(&self, input: &AnalysisInput) -> Result<Analysis, AnalyzeError> {
        Ok(self.analyze_now(input))
    }
}
