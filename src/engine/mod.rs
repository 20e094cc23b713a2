//! The only code that knows the workflow: which step follows which, and what each step does.
//!
//! ingest -> enrich -> analyze -> notify;  approval (chat, console, API) -> execute -> verify;
//! expire (pending approvals nobody decided in time); remember (index an incident that ended).
//! Each step is a persisted job; a step reads what it needs, does its work, then records its rows,
//! its state changes and the next job in one transaction (`StepTx`). Steps never sleep or retry:
//! they return an error (the worker retries with backoff) or `Outcome::Later` (the worker looks
//! again after the delay). A step whose part of Mimi is not configured records "skipped: not
//! configured" and moves on (degrade, don't stop).

mod analyze;
mod decide;
mod enrich;
mod execute;
mod expire;
mod ingest;
mod pipeline;
mod remember;
mod verify;

use std::sync::Arc;
use std::time::Duration;

pub use decide::{DecideError, Decided, decide_proposal};

use crate::analyze::Analyzer;
use crate::cluster::ClusterRead;
use crate::cluster::actions::ClusterActions;
use crate::cluster::prometheus::MetricsSource;
use crate::config::{DeadmanSettings, EvidenceSettings, PolicySettings, PrometheusSettings, VerificationSettings};
use crate::domain::job::Step;
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::rag::Memory;
use crate::store::{Job, Store};

/// What running a step attempt led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The step is complete and its successor queued.
    Done,
    /// Not finished: run the same job again after this delay (verification polling).
    Later(Duration),
}

/// The engine's parts; absent ones make their steps record "skipped: not configured".
#[derive(Clone)]
pub struct Parts {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    /// The cluster name for policy budgets and audit rows.
    pub cluster_name: String,
    pub cluster: Option<Arc<dyn ClusterRead>>,
    pub actions: Option<Arc<dyn ClusterActions>>,
    pub analyzer: Option<Arc<dyn Analyzer>>,
    pub prometheus: Option<Arc<dyn MetricsSource>>,
    pub prometheus_settings: PrometheusSettings,
    pub evidence: EvidenceSettings,
    pub policy: PolicySettings,
    pub verification: VerificationSettings,
    /// Routes and sinks; `None` when no sink exists (notify records "skipped: not configured").
    pub notifier: Option<Notifier>,
    pub deadman: DeadmanSettings,
    /// Similar past incidents; `None` when memory is off (recall and indexing are skipped).
    pub memory: Option<Arc<Memory>>,
}

/// Runs pipeline steps.
#[derive(Clone)]
pub struct Engine {
    store: Store,
    metrics: Arc<Metrics>,
    cluster_name: String,
    /// Read access to the cluster; `None` when none is configured (enrichment is then skipped).
    cluster: Option<Arc<dyn ClusterRead>>,
    actions: Option<Arc<dyn ClusterActions>>,
    analyzer: Option<Arc<dyn Analyzer>>,
    prometheus: Option<Arc<dyn MetricsSource>>,
    prometheus_settings: PrometheusSettings,
    evidence: EvidenceSettings,
    policy: PolicySettings,
    verification: VerificationSettings,
    notifier: Option<Notifier>,
    deadman: DeadmanSettings,
    memory: Option<Arc<Memory>>,
}

impl Engine {
    pub fn new(parts: Parts) -> Self {
        Engine {
            store: parts.store,
            metrics: parts.metrics,
            cluster_name: parts.cluster_name,
            cluster: parts.cluster,
            actions: parts.actions,
            analyzer: parts.analyzer,
            prometheus: parts.prometheus,
            prometheus_settings: parts.prometheus_settings,
            evidence: parts.evidence,
            policy: parts.policy,
            verification: parts.verification,
            notifier: parts.notifier,
            deadman: parts.deadman,
            memory: parts.memory,
        }
    }

    /// Runs one attempt of `job`.
    pub async fn run(&self, job: &Job) -> anyhow::Result<Outcome> {
        let done = |r: anyhow::Result<()>| r.map(|()| Outcome::Done);
        match job.step {
            Step::Ingest => done(ingest::run(self, job).await),
            Step::Enrich => done(enrich::run(self, job).await),
            Step::Analyze => done(analyze::run(self, job).await),
            Step::Notify => done(pipeline::notify(self, job).await),
            Step::Execute => done(execute::run(self, job).await),
            Step::Verify => verify::run(self, job).await,
            Step::Expire => done(expire::run(self, job).await),
            Step::Remember => done(remember::run(self, job).await),
        }
    }
}
