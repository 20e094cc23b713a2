//! The only code that knows the workflow: which step follows which, and what each step does.
//!
//! ingest -> enrich -> analyze -> notify (later: approve -> execute -> verify -> remember).
//! Each step is a persisted job; a step reads what it needs, does its work, then records its
//! result, its state change and the next job in one transaction ([`Store::finish_step`]). Steps
//! never sleep or retry: they return an error and the worker decides. A step whose part of Mimi is
//! not configured records "skipped: not configured" and moves on (degrade, don't stop).

mod enrich;
mod ingest;
mod pipeline;

use std::sync::Arc;

use crate::cluster::ClusterRead;
use crate::config::EvidenceSettings;
use crate::domain::job::Step;
use crate::metrics::Metrics;
use crate::store::{Job, Store};

/// Runs pipeline steps.
#[derive(Clone)]
pub struct Engine {
    store: Store,
    metrics: Arc<Metrics>,
    /// Read access to the cluster; `None` when none is configured (enrichment is then skipped).
    cluster: Option<Arc<dyn ClusterRead>>,
    evidence: EvidenceSettings,
}

impl Engine {
    pub fn new(
        store: Store,
        metrics: Arc<Metrics>,
        cluster: Option<Arc<dyn ClusterRead>>,
        evidence: EvidenceSettings,
    ) -> Self {
        Engine { store, metrics, cluster, evidence }
    }

    /// Runs one attempt of `job`. On success the job is complete and its successor queued.
    pub async fn run(&self, job: &Job) -> anyhow::Result<()> {
        match job.step {
            Step::Ingest => ingest::run(self, job).await,
            Step::Enrich => enrich::run(self, job).await,
            Step::Analyze => pipeline::analyze(self, job).await,
            Step::Notify => pipeline::notify(self, job).await,
        }
    }
}
