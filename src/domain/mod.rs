//! Pure types and rules: no I/O, no async.
//!
//! - `action`: the closed action catalogue; proposals become typed, bounded actions here or nowhere.
//! - `analysis`: what an analyzer concludes (advice: diagnosis, facts, confidence, proposals).
//! - `alert`: Alertmanager payloads parsed and validated at the edge; the delivery digest.
//! - `approval`: the approval state machine shared by Slack, Matrix and the web; the only maker of
//!   `ApprovedAction`.
//! - `approver`: platform-qualified approver identities and who may approve where.
//! - `episode`: which incident (or new episode) a delivery belongs to.
//! - `incident`: the incident lifecycle and its transition function.
//! - `job`: pipeline steps and the retry policy.
//! - `names`: Kubernetes names, validated before any API call.
//! - `policy`: whether an action may be offered, at what risk, with what approval.
//! - `redact`: secret redaction for everything read from a cluster.

pub mod action;
pub mod alert;
pub mod analysis;
pub mod approval;
pub mod approver;
pub mod episode;
pub mod incident;
pub mod job;
pub mod names;
pub mod policy;
pub mod redact;
