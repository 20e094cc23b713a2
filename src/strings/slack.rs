//! Words on Slack messages (Block Kit labels) and Slack-only answers.

pub const SEVERITY: &str = "severity";
pub const STATE: &str = "state";
pub const INCIDENT: &str = "incident";
pub const FACTS: &str = "Facts";
pub const PROPOSAL: &str = "Proposed:";
pub const RISK: &str = "risk";
pub const APPROVERS: &str = "approvers";
pub const DRY_RUN: &str = "Dry run";
pub const APPROVE: &str = "Approve";
pub const REJECT: &str = "Reject";
pub const OTHER_WORKSPACE: &str = "This Mimi serves another Slack workspace.";
pub const UNKNOWN_ACTION: &str = "That control is not one of Mimi's.";
pub const WORKING: &str = "Working on it…";
pub const TRY_AGAIN: &str = "Mimi cannot record this request right now; Slack will send it again.";
