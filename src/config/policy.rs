//! `[policy]`: what Mimi may do to a cluster and who must approve it (docs/configuration.md).
//!
//! These settings become the pure [`Policy`] and [`ApproverRules`] of `src/domain/`. Validation
//! names the key to fix; a policy that does not validate never loads (RELIABILITY H01). The legacy
//! variables `AUTO_ACTION_ENABLED`, `CONFIDENCE_THRESHOLD` and `REQUIRE_APPROVAL_FOR` of the agent
//! Mimi replaces are read as aliases in `load.rs`.

use std::collections::{BTreeMap, BTreeSet};

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::domain::action::{ActionKind, Risk};
use crate::domain::approver::{ApproverId, ApproverRule, ApproverRules, Platform, is_matrix_id, is_slack_id};
use crate::domain::names::NamespaceName;
use crate::domain::policy::{ApprovalRules, Budget, Policy, ScaleBounds};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicySettings {
    /// Refuse every action and freeze approvals; posts continue (H02).
    pub read_only: bool,
    /// Let actions run without a human when the analyzer is confident (`AUTO_ACTION_ENABLED`).
    pub auto_approve: bool,
    /// The analyzer's own confidence needed for auto-approval (`CONFIDENCE_THRESHOLD`).
    pub confidence_threshold: f64,
    /// Risk levels that always need a human, even with auto-approve on (`REQUIRE_APPROVAL_FOR`).
    pub require_approval_for: Vec<Risk>,
    /// Distinct human approvers needed per risk level (1 or 2).
    pub approvers_needed: ApproversNeeded,
    /// Risk per action kind where it differs from the catalogue's default, e.g. `drain_node = "high"`.
    pub risk: BTreeMap<String, Risk>,
    /// Namespaces Mimi never acts in.
    pub protected_namespaces: Vec<String>,
    /// The namespace Mimi runs in; always protected.
    pub own_namespace: String,
    /// How long a proposal waits for approval.
    pub approval_expiry_minutes: u64,
    /// Write actions per cluster in any sliding hour.
    pub max_actions_per_hour: u32,
    /// Write actions on one target in any sliding hour.
    pub max_actions_per_target_per_hour: u32,
    pub scale: ScaleSettings,
    /// Who may approve, per channel or room: `[[policy.approvers]]`.
    pub approvers: Vec<ApproverSettings>,
}

impl Default for PolicySettings {
    fn default() -> Self {
        PolicySettings {
            read_only: false,
            auto_approve: false,
            confidence_threshold: 0.8,
            require_approval_for: vec![Risk::High],
            approvers_needed: ApproversNeeded::default(),
            risk: BTreeMap::new(),
            protected_namespaces: vec!["kube-system".into()],
            own_namespace: "mimi".into(),
            approval_expiry_minutes: 60,
            max_actions_per_hour: 10,
            max_actions_per_target_per_hour: 3,
            scale: ScaleSettings::default(),
            approvers: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApproversNeeded {
    pub low: u8,
    pub medium: u8,
    pub high: u8,
}

impl Default for ApproversNeeded {
    fn default() -> Self {
        ApproversNeeded { low: 1, medium: 1, high: 2 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScaleSettings {
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Most a scale may multiply (or divide) the current replica count by.
    pub max_factor: f64,
}

impl Default for ScaleSettings {
    fn default() -> Self {
        ScaleSettings { min_replicas: 1, max_replicas: 20, max_factor: 3.0 }
    }
}

/// One `[[policy.approvers]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApproverSettings {
    pub platform: Platform,
    /// Slack channel id (`C0123ABCD`) or Matrix room id (`!abc:example.org`); none for `web`.
    #[serde(default)]
    pub channel: Option<String>,
    /// Slack only: the team (workspace) id the users belong to.
    #[serde(default)]
    pub team: Option<String>,
    /// Slack user ids, full Matrix user ids, or web console user / API token names.
    #[serde(default)]
    pub users: Vec<String>,
    /// Slack user group ids, or web console groups.
    #[serde(default)]
    pub groups: Vec<String>,
}

impl PolicySettings {
    /// The domain policy. Call on validated settings: values that did not validate are skipped.
    pub fn policy(&self) -> Policy {
        let risks = [(Risk::Low, self.approvers_needed.low), (Risk::Medium, self.approvers_needed.medium)];
        let two = risks.into_iter().chain([(Risk::High, self.approvers_needed.high)]);
        Policy {
            read_only: self.read_only,
            risk_overrides: self.risk.iter().filter_map(|(k, r)| Some((ActionKind::parse(k)?, *r))).collect(),
            protected_namespaces: self
                .protected_namespaces
                .iter()
                .filter_map(|n| NamespaceName::parse(n).ok())
                .collect(),
            own_namespace: NamespaceName::parse(&self.own_namespace).ok(),
            scale: ScaleBounds {
                min_replicas: self.scale.min_replicas,
                max_replicas: self.scale.max_replicas,
                max_factor: self.scale.max_factor,
            },
            budget: Budget {
                per_cluster_per_hour: self.max_actions_per_hour,
                per_target_per_hour: self.max_actions_per_target_per_hour,
            },
            approvals: ApprovalRules {
                auto_approve: self.auto_approve,
                confidence_threshold: self.confidence_threshold,
                require_human_for: self.require_approval_for.iter().copied().collect(),
                two_approvers_for: two.filter(|(_, n)| *n >= 2).map(|(r, _)| r).collect(),
            },
        }
    }

    /// Who may approve where. The Slack integration adds its workspace's team id.
    pub fn approver_rules(&self) -> ApproverRules {
        let set = |v: &[String]| v.iter().cloned().collect::<BTreeSet<_>>();
        ApproverRules::new(
            self.approvers
                .iter()
                .map(|a| ApproverRule {
                    platform: a.platform,
                    channel: a.channel.clone(),
                    team: a.team.clone(),
                    users: set(&a.users),
                    groups: set(&a.groups),
                })
                .collect(),
        )
    }

    /// How long a proposal waits for approval.
    pub fn approval_ttl(&self) -> SignedDuration {
        SignedDuration::from_mins(i64::try_from(self.approval_expiry_minutes).unwrap_or(i64::MAX / 60))
    }
}

/// Checks `[policy]`, naming the key of every problem.
pub(super) fn validate(p: &PolicySettings, err: &mut impl FnMut(&str, String)) {
    if !(p.confidence_threshold.is_finite() && (0.0..=1.0).contains(&p.confidence_threshold)) {
        err("policy.confidence_threshold", format!("must be between 0 and 1, got {}", p.confidence_threshold));
    }
    for (risk, n) in
        [("low", p.approvers_needed.low), ("medium", p.approvers_needed.medium), ("high", p.approvers_needed.high)]
    {
        if !(1..=2).contains(&n) {
            err(&format!("policy.approvers_needed.{risk}"), format!("must be 1 or 2, got {n}"));
        }
    }
    for kind in p.risk.keys().filter(|k| ActionKind::parse(k).is_none()) {
        let kinds: Vec<&str> = ActionKind::ALL.iter().map(|k| k.as_str()).collect();
        err(&format!("policy.risk.{kind}"), format!("is not an action kind; the kinds are {}", kinds.join(", ")));
    }
    for (i, ns) in p.protected_namespaces.iter().enumerate() {
        if let Err(e) = NamespaceName::parse(ns) {
            err(&format!("policy.protected_namespaces[{i}]"), e.to_string());
        }
    }
    if let Err(e) = NamespaceName::parse(&p.own_namespace) {
        err("policy.own_namespace", e.to_string());
    }
    range(err, "policy.approval_expiry_minutes", p.approval_expiry_minutes, 1, 24 * 60);
    range(err, "policy.max_actions_per_hour", p.max_actions_per_hour.into(), 1, 1000);
    range(err, "policy.max_actions_per_target_per_hour", p.max_actions_per_target_per_hour.into(), 1, 1000);
    range(err, "policy.scale.min_replicas", p.scale.min_replicas.into(), 1, 10_000);
    range(err, "policy.scale.max_replicas", p.scale.max_replicas.into(), 1, 10_000);
    if p.scale.max_replicas < p.scale.min_replicas {
        err(
            "policy.scale.max_replicas",
            format!("must be at least policy.scale.min_replicas ({})", p.scale.min_replicas),
        );
    }
    if !(p.scale.max_factor.is_finite() && (1.0..=100.0).contains(&p.scale.max_factor)) {
        err("policy.scale.max_factor", format!("must be between 1 and 100, got {}", p.scale.max_factor));
    }
    for (i, a) in p.approvers.iter().enumerate() {
        validate_approver(&format!("policy.approvers[{i}]"), a, err);
    }
}

fn validate_approver(key: &str, a: &ApproverSettings, err: &mut impl FnMut(&str, String)) {
    let sub = |field: &str| format!("{key}.{field}");
    if a.users.is_empty() && a.groups.is_empty() {
        err(key, "lists no users and no groups, so nobody could approve there".into());
    }
    match a.platform {
        Platform::Slack => {
            match &a.channel {
                None => err(&sub("channel"), "is required for Slack: a channel id such as C0123ABCD".into()),
                Some(c) if !is_slack_id(c) => {
                    err(&sub("channel"), format!("{c:?} is not a Slack channel id such as C0123ABCD (not a #name)"))
                }
                Some(_) => {}
            }
            if let Some(t) = a.team.as_ref().filter(|t| !is_slack_id(t)) {
                err(&sub("team"), format!("{t:?} is not a Slack team id such as T0123ABCD"));
            }
            for (j, u) in a.users.iter().enumerate().filter(|(_, u)| !is_slack_id(u)) {
                err(&format!("{key}.users[{j}]"), format!("{u:?} is not a Slack user id such as U0123ABCD"));
            }
        }
        Platform::Matrix => {
            match &a.channel {
                None => err(&sub("channel"), "is required for Matrix: a room id such as !abc:example.org".into()),
                Some(c) if !is_matrix_id(c, '!') => err(
                    &sub("channel"),
                    format!("{c:?} is not a Matrix room id such as !abc:example.org (an alias can move; use the id)"),
                ),
                Some(_) => {}
            }
            if a.team.is_some() {
                err(&sub("team"), "is for Slack only".into());
            }
            if !a.groups.is_empty() {
                err(&sub("groups"), "Matrix has no user groups here; list full user ids in users".into());
            }
            for (j, u) in a.users.iter().enumerate() {
                if let Err(e) = ApproverId::matrix(u) {
                    err(&format!("{key}.users[{j}]"), e.to_string());
                }
            }
        }
        Platform::Web => {
            if a.channel.is_some() {
                err(&sub("channel"), "is not used for the web console; leave it out".into());
            }
            if a.team.is_some() {
                err(&sub("team"), "is for Slack only".into());
            }
            for (j, u) in a.users.iter().enumerate() {
                if let Err(e) = ApproverId::web(u) {
                    err(&format!("{key}.users[{j}]"), e.to_string());
                }
            }
        }
    }
    for (j, g) in a.groups.iter().enumerate().filter(|(_, g)| g.trim().is_empty()) {
        err(&format!("{key}.groups[{j}]"), format!("{g:?} is empty"));
    }
}

fn range(err: &mut impl FnMut(&str, String), key: &str, value: u64, min: u64, max: u64) {
    if value < min || value > max {
        err(key, format!("must be between {min} and {max}, got {value}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_settings_are_the_default_policy() {
        assert_eq!(PolicySettings::default().policy(), Policy::default());
        assert_eq!(PolicySettings::default().approval_ttl(), SignedDuration::from_mins(60));
        assert!(PolicySettings::default().approver_rules().rules().is_empty());
    }
}
