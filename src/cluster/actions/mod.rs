//! Acting on the cluster: the only code with write calls (DESIGN invariant 3).
//!
//! `ClusterActions::dry_run` runs an action server-side with `dryRun=All` and reports exactly the
//! fields that would change, plus a snapshot of the target (uid, generation, replicas, images,
//! schedulability) to store with the proposal. `execute` takes an `ApprovedAction` — which only the
//! approval step can make — re-reads the target and refuses if it changed since the proposal (C10),
//! dry-runs again (a refusal by admission stops it, F02), then acts: restarts write
//! `kubectl.kubernetes.io/restartedAt` with a value derived from the approval (a replay is one
//! rollout, F04), pod deletion carries a UID precondition (F05), rollback is a JSON patch guarded by
//! a test of the generation, drain is cordon + evictions with per-pod results (E08, F06).

mod diff;
mod drain;
mod kube;
mod snapshot;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use diff::{FieldChange, diff};
pub use snapshot::Snapshot;

use crate::domain::action::{Action, Target};
use crate::domain::approval::ApprovedAction;

/// What an action would do, from a server-side dry run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRun {
    /// The target as it was; stored with the proposal and compared before executing.
    pub snapshot: Snapshot,
    pub changes: Vec<FieldChange>,
    /// Effects beyond field changes ("Pod x is deleted; ReplicaSet y replaces it", per-pod evictions).
    pub effects: Vec<String>,
}

/// What an executed action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    pub changes: Vec<FieldChange>,
    pub effects: Vec<String>,
    /// For drains: what happened to each pod.
    pub evictions: Vec<Eviction>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eviction {
    pub namespace: String,
    pub pod: String,
    pub outcome: EvictionOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum EvictionOutcome {
    Evicted,
    /// Refused with 429: a PodDisruptionBudget allows no more disruptions now.
    BlockedByBudget(String),
    /// Not evicted by design (DaemonSet pods, mirror pods).
    Skipped(String),
    Failed(String),
}

/// Why an action did not (fully) happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionFailure {
    #[error("{0} does not exist")]
    TargetMissing(Target),
    #[error("{target} changed since the proposal ({what}); propose again")]
    TargetChanged { target: Target, what: String },
    #[error("the API server refused it ({code}): {reason}")]
    Refused { code: u16, reason: String },
    #[error("blocked: {0}")]
    Blocked(String),
    #[error("the drain was not completed: {blocked} of {total} pods could not be evicted; the node stays cordoned")]
    DrainIncomplete { blocked: usize, total: usize, execution: Box<Execution> },
    /// The outcome is unknown (timeout, 5xx, connection lost): re-read before retrying (B04, F03).
    #[error("the outcome is unknown: {0}")]
    Unknown(String),
}

/// Write access to one cluster, for approved actions only.
#[async_trait]
pub trait ClusterActions: Send + Sync {
    /// A server-side dry run of `action` against the live target.
    async fn dry_run(&self, action: &Action) -> Result<DryRun, ActionFailure>;
    /// Executes an approved action if its target still matches `expected` (from the proposal).
    async fn execute(&self, approved: &ApprovedAction, expected: &Snapshot) -> Result<Execution, ActionFailure>;
}
