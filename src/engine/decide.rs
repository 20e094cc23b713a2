//! A person's decision on a proposal, from any channel (web console and API now; Slack and Matrix
//! use the same entry point): the shared approval rules decide, the store saves the decision with
//! compare-and-set, and an approval queues the execution. Refusals are audited.

use jiff::Timestamp;
use serde_json::json;
use tokio::sync::Notify;

use crate::config::PolicySettings;
use crate::domain::approval::{ApprovalRefusal, Choice, Decision, DecisionRequest, decide};
use crate::domain::approver::{Approver, Origin};
use crate::store::{NewEvent, ProposalState, Saved, Store};

/// What a decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    Approved,
    /// The first of two approvals.
    NeedsAnotherApprover,
    Rejected,
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no proposal with that id")]
    NotFound,
    #[error("this proposal cannot be decided: it is {state}{}", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    NotOpen { state: String, reason: Option<String> },
    #[error("{0}")]
    Refused(ApprovalRefusal),
    #[error("others decided at the same moment; try again")]
    Conflict,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub async fn decide_proposal(
    store: &Store,
    policy: &PolicySettings,
    wake: &Notify,
    public_id: &str,
    approver: &Approver,
    origin: &Origin,
    choice: Choice,
) -> Result<Decided, DecideError> {
    let rules = policy.approver_rules();
    // Two simultaneous decisions: one saves, the other decides again on the fresh state.
    for _ in 0..5 {
        let row = store.proposal(public_id).await?.ok_or(DecideError::NotFound)?;
        // Only a pending proposal can be decided; the stored state is authoritative (C03, C09, C12).
        let pending = match row.pending.clone() {
            Some(p) if row.state == ProposalState::Pending.as_str() => p,
            _ => return Err(DecideError::NotOpen { state: row.state, reason: row.refused }),
        };
        let incident = store.incident_state(row.incident_id).await?;
        let request = DecisionRequest {
            choice,
            approver,
            origin,
            rules: &rules,
            read_only: policy.read_only,
            incident_resolved: incident.is_terminal(),
        };
        let now = Timestamp::now();
        let decision = match decide(&pending, &request, now) {
            Ok(d) => d,
            Err(refusal) => {
                let detail = json!({"proposal": public_id, "choice": choice, "rule": refusal.rule(), "refusal": refusal.to_string()});
                store
                    .append_events(&[NewEvent::new(
                        row.incident_id,
                        "decision_refused",
                        &approver.id.to_string(),
                        detail,
                    )])
                    .await
                    .map_err(anyhow::Error::from)?;
                return Err(DecideError::Refused(refusal));
            }
        };
        let mut updated = pending.clone();
        let (record, decided) = match &decision {
            Decision::Approved { record, .. } => (record, Decided::Approved),
            Decision::NeedsAnotherApprover { record } => (record, Decided::NeedsAnotherApprover),
            Decision::Rejected { record } => (record, Decided::Rejected),
        };
        updated.decisions.push(record.clone());
        match store.save_decision(&row, &updated, &decision, now.as_millisecond()).await? {
            Saved::Yes => {
                if decided == Decided::Approved {
                    wake.notify_waiters();
                }
                return Ok(decided);
            }
            Saved::Conflict => continue,
        }
    }
    Err(DecideError::Conflict)
}
