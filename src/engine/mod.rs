//! The only code that knows the workflow: which step follows which, and what each step does.
//!
//! ingest -> enrich -> analyze -> notify (later: approve -> execute -> verify -> remember).
//! Each step is a persisted job; a step reads what it needs, does its work, then records its
//! result, its state change and the next job in one transaction ([`Store::finish_step`]). Steps
//! never sleep or retry: they return an error and the worker decides. A step whose part of Mimi is
//! not configured records "skipped: not configured" and moves on (degrade, don't stop).

mod ingest;
mod pipeline;

use crate::domain::job::Step;
use crate::store::{Job, Store};

/// Runs pipeline steps.
#[derive(Debug, Clone)]
pub struct Engine {
    store: Store,
}

impl Engine {
    pub fn new(store: Store) -> Self {
        Engine { store }
    }

    /// Runs one attempt of `job`. On success the job is complete and its successor queued.
    pub async fn run(&self, job: &Job) -> anyhow::Result<()> {
        match job.step {
            Step::Ingest => ingest::run(self, job).await,
            Step::Enrich => pipeline::enrich(self, job).await,
            Step::Analyze => pipeline::analyze(self, job).await,
            Step::Notify => pipeline::notify(self, job).await,
        }
    }
}
