//! The worker: claims due jobs, runs one step each, and is the only place that retries or sleeps.
//!
//! `concurrency` lanes each loop: claim a job (atomically), run its step under a timeout, and on
//! failure put it back with capped exponential backoff, or give it up after `max_attempts` with the
//! error kept (visible in the API, the timeline and `mimi_jobs_dead`). New work wakes idle lanes at
//! once; otherwise they look again when the next job is due or every `poll_interval_ms`.
//! On shutdown, lanes stop claiming and finish the step in hand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::WorkerSettings;
use crate::domain::job::{AfterFailure, RetryPolicy};
use crate::engine::{Engine, Outcome};
use crate::metrics::{ErrorKind, Metrics};
use crate::store::{Job, NewEvent, Store, now_ms};
use crate::strings::timeline as t;

#[derive(Clone)]
pub struct Worker {
    store: Store,
    engine: Engine,
    metrics: Arc<Metrics>,
    settings: WorkerSettings,
    wake: Arc<Notify>,
}

impl Worker {
    pub fn new(
        store: Store,
        engine: Engine,
        metrics: Arc<Metrics>,
        settings: WorkerSettings,
        wake: Arc<Notify>,
    ) -> Self {
        Worker { store, engine, metrics, settings, wake }
    }

    /// Requeues jobs a dead process left running, and notes it in their incidents' timelines.
    pub async fn recover(&self) -> anyhow::Result<usize> {
        let jobs = self.store.requeue_interrupted(now_ms()).await?;
        let events: Vec<NewEvent> = jobs
            .iter()
            .filter_map(|(_, incident, step)| {
                incident
                    .map(|id| NewEvent::new(id, "interrupted", "mimi", json!({"step": step, "note": t::INTERRUPTED})))
            })
            .collect();
        self.store.append_events(&events).await?;
        if !jobs.is_empty() {
            tracing::warn!(jobs = jobs.len(), "requeued steps interrupted by the previous run");
        }
        Ok(jobs.len())
    }

    /// Runs the lanes until `shutdown`; returns when every lane has finished its current step.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut lanes = tokio::task::JoinSet::new();
        for lane in 0..self.settings.concurrency.max(1) {
            lanes.spawn(self.clone().lane(lane, shutdown.clone()));
        }
        while lanes.join_next().await.is_some() {}
    }

    async fn lane(self, lane: usize, shutdown: CancellationToken) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        while !shutdown.is_cancelled() {
            // Registered before claiming, so a commit between "no job" and waiting still wakes us.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.store.claim_job(now_ms()).await {
                Ok(Some(job)) => self.run_job(job).await,
                Ok(None) => {
                    let wait = match self.store.next_due().await {
                        Ok(Some(due)) => {
                            Duration::from_millis((due - now_ms()).clamp(1, poll.as_millis() as i64) as u64)
                        }
                        _ => poll,
                    };
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = &mut notified => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                Err(err) => {
                    self.metrics.error(ErrorKind::Store);
                    tracing::error!(lane, error = format!("{err:#}"), "failed to claim a job");
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(poll) => {}
                    }
                }
            }
        }
    }

    async fn run_job(&self, job: Job) {
        crate::failpoint::hit("before_step");
        let started = Instant::now();
        let limit = Duration::from_secs(self.settings.step_timeout_seconds);
        let span = tracing::info_span!("step", step = job.step.as_str(), job = job.id, attempt = job.attempt);
        let result = tracing::Instrument::instrument(tokio::time::timeout(limit, self.engine.run(&job)), span).await;
        let elapsed = started.elapsed();
        let error = match result {
            Ok(Ok(Outcome::Done)) => {
                self.metrics.step(job.step, "ok", elapsed);
                return;
            }
            Ok(Ok(Outcome::Later(delay))) => {
                self.metrics.step(job.step, "later", elapsed);
                let run_at = now_ms() + delay.as_millis() as i64;
                if let Err(err) = self.store.reschedule_job(job.id, run_at, now_ms()).await {
                    self.metrics.error(ErrorKind::Store);
                    tracing::error!(job = job.id, error = %err, "failed to reschedule a step; it runs again after a restart");
                }
                return;
            }
            Ok(Err(err)) => {
                self.metrics.step(job.step, "error", elapsed);
                self.metrics.error(ErrorKind::Step);
                format!("{err:#}")
            }
            Err(_) => {
                self.metrics.step(job.step, "timeout", elapsed);
                self.metrics.error(ErrorKind::StepTimeout);
                format!("step timed out after {} s", limit.as_secs())
            }
        };
        if let Err(err) = self.fail(&job, &error).await {
            self.metrics.error(ErrorKind::Store);
            tracing::error!(
                job = job.id,
                error = format!("{err:#}"),
                "failed to record a failed step; it runs again after a restart"
            );
        }
    }

    async fn fail(&self, job: &Job, error: &str) -> anyhow::Result<()> {
        let policy = RetryPolicy {
            max_attempts: self.settings.max_attempts,
            base: Duration::from_millis(self.settings.backoff_base_ms),
            cap: Duration::from_millis(self.settings.backoff_max_ms),
        };
        let now = now_ms();
        let step = job.step.as_str();
        let event = match policy.after_failure(job.attempt, fastrand::f64()) {
            AfterFailure::RetryIn(delay) => {
                tracing::warn!(
                    step,
                    job = job.id,
                    attempt = job.attempt,
                    retry_in_ms = delay.as_millis() as u64,
                    error,
                    "step failed"
                );
                self.store.retry_job(job.id, now + delay.as_millis() as i64, error, now).await?;
                json!({"step": step, "attempt": job.attempt, "error": error, "retry_in_ms": delay.as_millis() as u64})
            }
            AfterFailure::GiveUp => {
                tracing::error!(step, job = job.id, attempts = job.attempt, error, "step gave up");
                self.metrics.error(ErrorKind::JobGaveUp);
                self.store.bury_job(job.id, error, now).await?;
                json!({"step": step, "attempts": job.attempt, "error": error, "gave_up": true})
            }
        };
        if let Some(incident_id) = job.incident_id {
            self.store.append_events(&[NewEvent::new(incident_id, "step_failed", "mimi", event)]).await?;
        }
        Ok(())
    }
}
