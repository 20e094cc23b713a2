//! The action policy: whether a proposed [`Action`] may be offered at all, at what risk, and what
//! approval it needs (DESIGN invariant 4: the analyzer advises, policy decides).
//!
//! Pure: the caller passes everything the decision depends on — the cluster, the live replica
//! count, the analyzer's own confidence figure, the write actions of the last hour, whether a drain
//! is running, the time. The rules, checked in this order, first refusal wins:
//!
//! 1. read-only mode refuses everything (RELIABILITY H02);
//! 2. protected namespaces and Mimi's own namespace are never touched (E04);
//! 3. scale bounds: a minimum and maximum replica count and a maximum factor up or down from the
//!    current count (E07). Out-of-bounds proposals are **refused, never clamped**: approvers approve
//!    exactly what they see, and a proposal that needed changing is a sign the analysis was wrong;
//! 4. one drain at a time, then the per-cluster and per-target budgets of write actions over the
//!    sliding hour before `now` (E09);
//! 5. the approval requirement for the action's risk: `Auto` only when auto-approve is on, the risk
//!    is not one that always needs a human, and the analyzer's confidence reaches the threshold;
//!    otherwise one or two distinct human approvers.
//!
//! An allowed verdict carries an [`Allowance`] that only [`Policy::evaluate`] can build; the
//! approval module needs one to open a proposal or to approve automatically. Evaluate again right
//! before executing: budgets, drains and the read-only switch change while a proposal waits.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::{SignedDuration, Timestamp};

use super::action::{Action, ActionKind, Risk, Target};
use super::names::NamespaceName;
use crate::strings::policy as s;

/// The policy, built from `[policy]` in the configuration (see `config::PolicySettings`).
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Refuse every action and freeze approvals (H02).
    pub read_only: bool,
    /// Risk per action kind, where it differs from [`ActionKind::default_risk`].
    pub risk_overrides: BTreeMap<ActionKind, Risk>,
    /// Namespaces Mimi never acts in (kube-system by default).
    pub protected_namespaces: BTreeSet<NamespaceName>,
    /// The namespace Mimi runs in: always protected.
    pub own_namespace: Option<NamespaceName>,
    pub scale: ScaleBounds,
    pub budget: Budget,
    pub approvals: ApprovalRules,
}

/// Bounds on `scale_*` actions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleBounds {
    /// Fewest replicas Mimi may scale to (at least 1: scaling to zero is an outage).
    pub min_replicas: u32,
    /// Most replicas Mimi may scale to.
    pub max_replicas: u32,
    /// At most `current * max_factor` up and at least `current / max_factor` down (rounded
    /// towards the current count). A workload at 0 replicas counts as 1 for the upper limit.
    pub max_factor: f64,
}

/// Write actions allowed per sliding hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub per_cluster_per_hour: u32,
    pub per_target_per_hour: u32,
}

/// When humans must approve, and how many.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalRules {
    /// Allow actions to run without a human at all (`AUTO_ACTION_ENABLED`, default off).
    pub auto_approve: bool,
    /// The analyzer's confidence needed for auto-approval (`CONFIDENCE_THRESHOLD`, 0.8).
    pub confidence_threshold: f64,
    /// Risks that always need a human, even with auto-approve on (`REQUIRE_APPROVAL_FOR`).
    pub require_human_for: BTreeSet<Risk>,
    /// Risks that need two distinct human approvers.
    pub two_approvers_for: BTreeSet<Risk>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            read_only: false,
            risk_overrides: BTreeMap::new(),
            protected_namespaces: BTreeSet::from([NamespaceName::parse("kube-system").expect("valid name")]),
            own_namespace: Some(NamespaceName::parse("mimi").expect("valid name")),
            scale: ScaleBounds { min_replicas: 1, max_replicas: 20, max_factor: 3.0 },
            budget: Budget { per_cluster_per_hour: 10, per_target_per_hour: 3 },
            approvals: ApprovalRules {
                auto_approve: false,
                confidence_threshold: 0.8,
                require_human_for: BTreeSet::from([Risk::High]),
                two_approvers_for: BTreeSet::from([Risk::High]),
            },
        }
    }
}

/// The analyzer's own confidence in its diagnosis, in `[0, 1]`.
///
/// Only the analyzer's structured output may produce one. A number found in logs, events,
/// annotations or chat text is untrusted data and must never become a `Confidence` (E02).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Confidence(f64);

impl Confidence {
    /// `None` for NaN or anything outside `[0, 1]`: a malformed figure never enables auto-approval.
    pub fn new(value: f64) -> Option<Self> {
        (0.0..=1.0).contains(&value).then_some(Confidence(value))
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

/// How a proposal may be approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalRequirement {
    /// Policy approves it without a human (auto-approve on, confident analyzer, risk allowed).
    Auto,
    /// One authorised human.
    One,
    /// Two distinct authorised humans, neither of them the person who asked for it.
    Two,
}

impl ApprovalRequirement {
    /// Approvals (human, or the policy's own for `Auto`) that complete the approval.
    pub fn approvals_needed(self) -> usize {
        match self {
            ApprovalRequirement::Auto | ApprovalRequirement::One => 1,
            ApprovalRequirement::Two => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalRequirement::Auto => "auto",
            ApprovalRequirement::One => "one",
            ApprovalRequirement::Two => "two",
        }
    }
}

/// A write action Mimi took (or approved and is taking) recently; the caller reads these from the
/// audit trail for the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentAction {
    pub cluster: String,
    pub target: Target,
    pub at: Timestamp,
}

/// What the decision depends on besides the action.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The cluster the action would run in.
    pub cluster: &'a str,
    /// The target's replica count as read from the cluster now (needed for `scale_*`).
    pub current_replicas: Option<u32>,
    /// The analyzer's own confidence, if it gave one; never a number taken from text it read.
    pub confidence: Option<Confidence>,
    /// Write actions of (at least) the last hour, in any cluster, executed or approved and in
    /// flight — not counting the action being evaluated (when re-checking before execution).
    pub recent_actions: &'a [RecentAction],
    /// Another drain is running in this cluster (not the one being evaluated).
    pub drain_running: bool,
    pub now: Timestamp,
}

/// The policy's answer for one proposed action.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    Allowed(Allowance),
    Refused(Refusal),
}

/// Permission to offer one action, at a risk, with an approval requirement. Built only by
/// [`Policy::evaluate`], so holding one proves the policy was asked about this very action.
#[derive(Debug, PartialEq)]
pub struct Allowance {
    action: Action,
    risk: Risk,
    approval: ApprovalRequirement,
    confidence: Option<Confidence>,
}

impl Allowance {
    pub fn action(&self) -> &Action {
        &self.action
    }
    pub fn risk(&self) -> Risk {
        self.risk
    }
    pub fn approval(&self) -> ApprovalRequirement {
        self.approval
    }
    /// The confidence the verdict was based on (recorded with an automatic approval).
    pub fn confidence(&self) -> Option<Confidence> {
        self.confidence
    }
}

/// Why policy refuses an action. `Display` is a sentence for the people in the channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    ReadOnly,
    ProtectedNamespace { namespace: String },
    OwnNamespace { namespace: String },
    ScaleReplicasUnknown,
    ScaleUnchanged { replicas: u32 },
    ScaleBelowMinimum { requested: u32, min: u32 },
    ScaleAboveMaximum { requested: u32, max: u32 },
    ScaleTooFarUp { requested: u32, current: u32, limit: u32, factor: f64 },
    ScaleTooFarDown { requested: u32, current: u32, limit: u32, factor: f64 },
    DrainRunning,
    ClusterBudget { cluster: String, limit: u32 },
    TargetBudget { target: String, limit: u32 },
}

impl Refusal {
    /// A stable name for the rule, for audit rows and metric labels.
    pub fn rule(&self) -> &'static str {
        match self {
            Refusal::ReadOnly => "read_only",
            Refusal::ProtectedNamespace { .. } => "protected_namespace",
            Refusal::OwnNamespace { .. } => "own_namespace",
            Refusal::ScaleReplicasUnknown => "scale_replicas_unknown",
            Refusal::ScaleUnchanged { .. } => "scale_unchanged",
            Refusal::ScaleBelowMinimum { .. } => "scale_min_replicas",
            Refusal::ScaleAboveMaximum { .. } => "scale_max_replicas",
            Refusal::ScaleTooFarUp { .. } | Refusal::ScaleTooFarDown { .. } => "scale_max_factor",
            Refusal::DrainRunning => "one_drain_at_a_time",
            Refusal::ClusterBudget { .. } => "cluster_budget",
            Refusal::TargetBudget { .. } => "target_budget",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Refusal::ReadOnly => s::READ_ONLY.to_string(),
            Refusal::ProtectedNamespace { namespace } => s::protected_namespace(namespace),
            Refusal::OwnNamespace { namespace } => s::own_namespace(namespace),
            Refusal::ScaleReplicasUnknown => s::SCALE_REPLICAS_UNKNOWN.to_string(),
            Refusal::ScaleUnchanged { replicas } => s::scale_unchanged(*replicas),
            Refusal::ScaleBelowMinimum { requested, min } => s::scale_below_minimum(*requested, *min),
            Refusal::ScaleAboveMaximum { requested, max } => s::scale_above_maximum(*requested, *max),
            Refusal::ScaleTooFarUp { requested, current, limit, factor } => {
                s::scale_too_far_up(*requested, *current, *limit, *factor)
            }
            Refusal::ScaleTooFarDown { requested, current, limit, factor } => {
                s::scale_too_far_down(*requested, *current, *limit, *factor)
            }
            Refusal::DrainRunning => s::DRAIN_RUNNING.to_string(),
            Refusal::ClusterBudget { cluster, limit } => s::cluster_budget(cluster, *limit),
            Refusal::TargetBudget { target, limit } => s::target_budget(target, *limit),
        };
        f.write_str(&text)
    }
}

/// The budget window: the hour before `now`.
pub const BUDGET_WINDOW: SignedDuration = SignedDuration::from_hours(1);

impl Policy {
    /// The risk of an action kind under this policy.
    pub fn risk_of(&self, kind: ActionKind) -> Risk {
        self.risk_overrides.get(&kind).copied().unwrap_or_else(|| kind.default_risk())
    }

    /// Decides whether `action` may be offered, and how it must be approved.
    pub fn evaluate(&self, action: &Action, ctx: &Context<'_>) -> Verdict {
        match self.refusal(action, ctx) {
            Some(refusal) => Verdict::Refused(refusal),
            None => {
                let risk = self.risk_of(action.kind());
                Verdict::Allowed(Allowance {
                    action: action.clone(),
                    risk,
                    approval: self.approval_for(risk, ctx.confidence),
                    confidence: ctx.confidence,
                })
            }
        }
    }

    /// The approval an allowed action of this risk needs, given the analyzer's confidence.
    pub fn approval_for(&self, risk: Risk, confidence: Option<Confidence>) -> ApprovalRequirement {
        let a = &self.approvals;
        if a.two_approvers_for.contains(&risk) {
            return ApprovalRequirement::Two;
        }
        let confident = confidence.is_some_and(|c| c.value() >= a.confidence_threshold);
        if a.auto_approve && confident && !a.require_human_for.contains(&risk) {
            ApprovalRequirement::Auto
        } else {
            ApprovalRequirement::One
        }
    }

    fn refusal(&self, action: &Action, ctx: &Context<'_>) -> Option<Refusal> {
        if self.read_only {
            return Some(Refusal::ReadOnly);
        }
        let target = action.target();
        if let Some(ns) = &target.namespace {
            if self.own_namespace.as_ref() == Some(ns) {
                return Some(Refusal::OwnNamespace { namespace: ns.to_string() });
            }
            if self.protected_namespaces.contains(ns) {
                return Some(Refusal::ProtectedNamespace { namespace: ns.to_string() });
            }
        }
        if let Action::Scale { replicas, .. } = action
            && let Some(refusal) = self.scale.check(*replicas, ctx.current_replicas)
        {
            return Some(refusal);
        }
        if matches!(action, Action::Drain { .. }) && ctx.drain_running {
            return Some(Refusal::DrainRunning);
        }
        self.budget.check(&target, ctx)
    }
}

impl ScaleBounds {
    /// `None` when scaling from `current` to `requested` is within bounds.
    pub fn check(&self, requested: u32, current: Option<u32>) -> Option<Refusal> {
        if requested < self.min_replicas {
            return Some(Refusal::ScaleBelowMinimum { requested, min: self.min_replicas });
        }
        if requested > self.max_replicas {
            return Some(Refusal::ScaleAboveMaximum { requested, max: self.max_replicas });
        }
        let Some(current) = current else { return Some(Refusal::ScaleReplicasUnknown) };
        let factor = self.max_factor;
        if requested == current {
            return Some(Refusal::ScaleUnchanged { replicas: current });
        }
        if requested > current {
            let limit = (f64::from(current.max(1)) * factor).floor().min(f64::from(u32::MAX)) as u32;
            if requested > limit {
                return Some(Refusal::ScaleTooFarUp { requested, current, limit, factor });
            }
        } else {
            let limit = (f64::from(current) / factor).ceil() as u32;
            if requested < limit {
                return Some(Refusal::ScaleTooFarDown { requested, current, limit, factor });
            }
        }
        None
    }
}

impl Budget {
    fn check(&self, target: &Target, ctx: &Context<'_>) -> Option<Refusal> {
        let since = ctx.now.checked_sub(BUDGET_WINDOW).unwrap_or(Timestamp::MIN);
        // Actions stamped after `now` (clock skew) still count: the window is open at the top.
        let in_cluster = || ctx.recent_actions.iter().filter(|a| a.cluster == ctx.cluster && a.at > since);
        if in_cluster().count() >= self.per_cluster_per_hour as usize {
            return Some(Refusal::ClusterBudget { cluster: ctx.cluster.to_string(), limit: self.per_cluster_per_hour });
        }
        if in_cluster().filter(|a| &a.target == target).count() >= self.per_target_per_hour as usize {
            return Some(Refusal::TargetBudget { target: target.to_string(), limit: self.per_target_per_hour });
        }
        None
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
