//! The approval state machine, one for Slack, Matrix and the web console, and the only place an
//! [`ApprovedAction`] is made (DESIGN invariant 3).
//!
//! A [`PendingApproval`] is one proposal waiting for people: the action, its risk and approval
//! requirement (from a policy [`Allowance`]), the messages it was posted in, who proposed it, when
//! it expires, and the decisions recorded so far. [`decide`] is a pure function of the pending
//! approval, a request and the time; it refuses, in this order:
//!
//! - anything while Mimi is read-only: approvals are frozen, the proposal stays pending (H02);
//! - a decision from a message, channel or room the proposal was not posted in (C07, D02);
//! - anyone the [`ApproverRules`] do not allow there (C05, C06, D01-D03);
//! - anything after the approval completed or after a rejection: single use, reject is final
//!   (C03, C08, C12);
//! - anything once the incident is resolved or the proposal expired (C09);
//! - for two-person actions, the person who asked for the action, and the same approver twice (C11).
//!
//! Otherwise it returns the [`DecisionRecord`] to store and, when that completes the approval, the
//! `ApprovedAction`. Exactly-once under concurrent clicks (C08) needs the store's help: persist
//! the record only if [`PendingApproval::version`] is unchanged since it was read (compare and
//! set), and run `decide` again on a conflict. After a restart, [`PendingApproval::approved_action`]
//! rebuilds the same `ApprovedAction` — same approval time, same [`ApprovedAction::restart_token`]
//! (F04) — from the stored decisions.

use std::fmt;

use jiff::{SignedDuration, Timestamp};

use super::action::{Action, Risk};
use super::approver::{Approver, ApproverId, ApproverRules, MessageRef, Origin};
use super::policy::{Allowance, ApprovalRequirement};

#[path = "approval_refusal.rs"]
mod refusal;
pub use refusal::ApprovalRefusal;

/// A proposal's id as carried by buttons and commands (`[A-Za-z0-9_-]`, 1-64 characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct ProposalId(String);

impl ProposalId {
    /// `None` for anything that is not a plausible id (button values are untrusted input).
    pub fn parse(text: &str) -> Option<Self> {
        let ok = (1..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_alphanumeric() || "_-".contains(c));
        ok.then(|| ProposalId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> serde::Deserialize<'de> for ProposalId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ProposalId::parse(&s).ok_or_else(|| serde::de::Error::custom("not a proposal id"))
    }
}

impl fmt::Display for ProposalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who proposed an action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proposer {
    /// Runbook rules or a model (name and prompt version, for the audit row).
    Analyzer(String),
    /// A person who asked for it in chat (E10); they cannot approve it if it needs two people.
    Person(ApproverId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Choice {
    Approve,
    Reject,
}

/// Who made a recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decider {
    Person(ApproverId),
    /// Auto-approval by policy (only counts when the requirement is `Auto`).
    Policy,
}

/// One stored decision.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DecisionRecord {
    pub by: Decider,
    pub choice: Choice,
    pub at: Timestamp,
}

/// A proposal waiting for approval. Fields are public so the store can persist and restore it;
/// build new ones with [`PendingApproval::new`] from a policy allowance.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PendingApproval {
    pub proposal: ProposalId,
    pub action: Action,
    pub risk: Risk,
    pub requirement: ApprovalRequirement,
    /// The messages carrying its controls; the chat adapters add each one once it is posted.
    pub messages: Vec<MessageRef>,
    pub proposed_by: Proposer,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    /// In the order they were made.
    pub decisions: Vec<DecisionRecord>,
}

/// Where a pending approval stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Open { approvals: usize, needed: usize },
    Approved { at: Timestamp },
    Rejected { by: Decider, at: Timestamp },
}

/// A decision to make.
#[derive(Debug, Clone, Copy)]
pub struct DecisionRequest<'a> {
    pub choice: Choice,
    /// Resolved by the adapter from a verified request or event.
    pub approver: &'a Approver,
    pub origin: &'a Origin,
    pub rules: &'a ApproverRules,
    /// `policy.read_only` now.
    pub read_only: bool,
    /// The proposal's incident has resolved.
    pub incident_resolved: bool,
}

/// An accepted decision: store `record`, then act on it.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// The approval is complete: run the action (after a fresh policy check and dry-run).
    Approved { record: DecisionRecord, action: ApprovedAction },
    /// The first of two approvals; waiting for a second, different approver.
    NeedsAnotherApprover { record: DecisionRecord },
    /// Rejected, finally.
    Rejected { record: DecisionRecord },
}

/// An action that may run. Only [`decide`], [`approve_automatically`] and
/// [`PendingApproval::approved_action`] make one; the cluster's write port takes nothing else.
#[derive(Debug, PartialEq, Eq)]
pub struct ApprovedAction {
    proposal: ProposalId,
    action: Action,
    risk: Risk,
    approvers: Vec<ApproverId>,
    automatic: bool,
    approved_at: Timestamp,
}

impl ApprovedAction {
    pub fn proposal(&self) -> &ProposalId {
        &self.proposal
    }
    pub fn action(&self) -> &Action {
        &self.action
    }
    pub fn risk(&self) -> Risk {
        self.risk
    }
    /// The distinct people who approved, in order; empty when policy approved automatically.
    pub fn approvers(&self) -> &[ApproverId] {
        &self.approvers
    }
    pub fn is_automatic(&self) -> bool {
        self.automatic
    }
    /// When the approval completed, as recorded.
    pub fn approved_at(&self) -> Timestamp {
        self.approved_at
    }

    /// The value for `kubectl.kubernetes.io/restartedAt`: the approval time (whole seconds, RFC 3339)
    /// and the proposal id, e.g. `2025-03-01T10:15:02Z/p-42`. Derived only from stored facts, so a
    /// restart replayed after a crash writes the same value and causes no second rollout (F04).
    pub fn restart_token(&self) -> String {
        let second = Timestamp::from_second(self.approved_at.as_second()).unwrap_or(self.approved_at);
        format!("{second}/{}", self.proposal)
    }
}

impl PendingApproval {
    /// Opens a proposal allowed by policy, expiring `ttl` after `now`, bound to no message yet.
    pub fn new(
        proposal: ProposalId,
        allowance: &Allowance,
        proposed_by: Proposer,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Self {
        PendingApproval {
            proposal,
            action: allowance.action().clone(),
            risk: allowance.risk(),
            requirement: allowance.approval(),
            messages: Vec::new(),
            proposed_by,
            created_at: now,
            expires_at: now.checked_add(ttl).unwrap_or(Timestamp::MAX),
            decisions: Vec::new(),
        }
    }

    /// The number of stored decisions: compare it when storing a new one (C08).
    pub fn version(&self) -> usize {
        self.decisions.len()
    }

    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    pub fn status(&self) -> Status {
        match self.outcome() {
            Outcome::Open { approvals } => Status::Open { approvals, needed: self.requirement.approvals_needed() },
            Outcome::Approved { at, .. } => Status::Approved { at },
            Outcome::Rejected { by, at } => Status::Rejected { by: by.clone(), at },
        }
    }

    /// The approved action, if the stored decisions complete the approval (for the execute step
    /// and after a restart).
    pub fn approved_action(&self) -> Option<ApprovedAction> {
        match self.outcome() {
            Outcome::Approved { at, approvers, automatic } => Some(ApprovedAction {
                proposal: self.proposal.clone(),
                action: self.action.clone(),
                risk: self.risk,
                approvers,
                automatic,
                approved_at: at,
            }),
            _ => None,
        }
    }

    /// Whose approval may count: for two-person actions, not the person who asked for it.
    fn may_count(&self, id: &ApproverId) -> bool {
        !(self.requirement == ApprovalRequirement::Two && self.proposed_by == Proposer::Person(id.clone()))
    }

    fn outcome(&self) -> Outcome<'_> {
        let needed = self.requirement.approvals_needed();
        let mut approvers: Vec<ApproverId> = Vec::new();
        for d in &self.decisions {
            match (&d.by, d.choice) {
                (by, Choice::Reject) => return Outcome::Rejected { by, at: d.at },
                (Decider::Policy, Choice::Approve) if self.requirement == ApprovalRequirement::Auto => {
                    return Outcome::Approved { at: d.at, approvers: Vec::new(), automatic: true };
                }
                (Decider::Policy, Choice::Approve) => {}
                (Decider::Person(id), Choice::Approve) => {
                    if self.may_count(id) && !approvers.contains(id) {
                        approvers.push(id.clone());
                    }
                    if approvers.len() >= needed {
                        return Outcome::Approved { at: d.at, approvers, automatic: false };
                    }
                }
            }
        }
        Outcome::Open { approvals: approvers.len() }
    }

    /// Refusals that do not depend on who is asking: decided, resolved, expired.
    fn closed(&self, incident_resolved: bool, now: Timestamp) -> Option<ApprovalRefusal> {
        match self.outcome() {
            Outcome::Approved { .. } => Some(ApprovalRefusal::AlreadyApproved),
            Outcome::Rejected { .. } => Some(ApprovalRefusal::AlreadyRejected),
            Outcome::Open { .. } if incident_resolved => Some(ApprovalRefusal::IncidentResolved),
            Outcome::Open { .. } if self.is_expired(now) => Some(ApprovalRefusal::Expired { at: self.expires_at }),
            Outcome::Open { .. } => None,
        }
    }

    fn posted_at(&self, origin: &Origin) -> bool {
        match origin {
            Origin::Message(m) => self.messages.contains(m),
            Origin::Command { platform, channel } => {
                self.messages.iter().any(|m| m.platform == *platform && &m.channel == channel)
            }
            Origin::Console => true,
        }
    }

    /// The decision added to the stored ones, as `decide` returns it.
    fn with(&self, record: DecisionRecord) -> Decision {
        let mut next = self.clone();
        next.decisions.push(record.clone());
        match (record.choice, next.approved_action()) {
            (Choice::Reject, _) => Decision::Rejected { record },
            (Choice::Approve, Some(action)) => Decision::Approved { record, action },
            (Choice::Approve, None) => Decision::NeedsAnotherApprover { record },
        }
    }
}

enum Outcome<'a> {
    Open { approvals: usize },
    Approved { at: Timestamp, approvers: Vec<ApproverId>, automatic: bool },
    Rejected { by: &'a Decider, at: Timestamp },
}

/// Decides one approval or rejection by a person.
pub fn decide(
    pending: &PendingApproval,
    request: &DecisionRequest<'_>,
    now: Timestamp,
) -> Result<Decision, ApprovalRefusal> {
    if request.read_only {
        return Err(ApprovalRefusal::Frozen);
    }
    if !pending.posted_at(request.origin) {
        return Err(ApprovalRefusal::NotPostedHere);
    }
    request.rules.check(request.approver, request.origin)?;
    if let Some(refusal) = pending.closed(request.incident_resolved, now) {
        return Err(refusal);
    }
    let id = &request.approver.id;
    if request.choice == Choice::Approve {
        if !pending.may_count(id) {
            return Err(ApprovalRefusal::OwnRequest);
        }
        let already = pending.decisions.iter().any(|d| d.by == Decider::Person(id.clone()));
        if already {
            return Err(ApprovalRefusal::AlreadyApprovedByYou);
        }
    }
    Ok(pending.with(DecisionRecord { by: Decider::Person(id.clone()), choice: request.choice, at: now }))
}

/// Approves without a human, on a policy verdict of `Auto` for this very action (auto-approve on,
/// the analyzer confident enough, a risk that does not always need a human).
pub fn approve_automatically(
    pending: &PendingApproval,
    allowance: Allowance,
    now: Timestamp,
) -> Result<Decision, ApprovalRefusal> {
    if allowance.approval() != ApprovalRequirement::Auto || pending.requirement != ApprovalRequirement::Auto {
        return Err(ApprovalRefusal::NotAutomatic);
    }
    if allowance.action() != &pending.action {
        return Err(ApprovalRefusal::DifferentAction);
    }
    if let Some(refusal) = pending.closed(false, now) {
        return Err(refusal);
    }
    Ok(pending.with(DecisionRecord { by: Decider::Policy, choice: Choice::Approve, at: now }))
}

#[cfg(test)]
#[path = "approval_tests.rs"]
mod tests;
