//! Group commit for the webhook: one task takes every delivery waiting at that moment and commits
//! them in one transaction, then answers each request. Under load many requests share one fsync;
//! when idle a delivery is committed at once. A request is answered only after its commit.
//!
//! Digests known to be committed are remembered (bounded), so repeat deliveries — hundreds are
//! normal with Alertmanager — are answered without touching the database.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, mpsc, oneshot};

use super::inbox::MAX_BATCH;
use super::{CommitOutcome, NewDelivery, Store, is_unavailable};
use crate::domain::alert::DeliveryDigest;
use crate::metrics::Metrics;

/// Why a delivery was not committed. Both mean 503: Alertmanager will retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    #[error("the database cannot commit right now: {0}")]
    Unavailable(String),
    #[error("the database refused the commit: {0}")]
    Failed(String),
    #[error("shutting down")]
    ShuttingDown,
}

/// How a delivery was committed, and how big the batch that carried it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub outcome: CommitOutcome,
    /// True when answered from the cache of committed digests, without a transaction.
    pub cached: bool,
}

struct Request {
    delivery: NewDelivery,
    reply: oneshot::Sender<Result<CommitOutcome, CommitError>>,
}

/// Handle to the group-commit task. Cheap to clone; the task stops when every handle is dropped,
/// after committing what it already took.
#[derive(Clone)]
pub struct Committer {
    tx: mpsc::Sender<Request>,
    recent: Arc<Mutex<RecentDigests>>,
}

/// Batches are also capped in bytes so that a burst of large payloads stays bounded in memory.
const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;
const RECENT_DIGESTS: usize = 16 * 1024;

impl Committer {
    /// Starts the commit task. `committed` is notified after every commit that stored something.
    pub fn spawn(
        store: Store,
        batch_max: usize,
        metrics: Arc<Metrics>,
        committed: Arc<Notify>,
    ) -> (Committer, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(batch_max.max(1) * 4);
        let recent = Arc::new(Mutex::new(RecentDigests::default()));
        let task = CommitTask {
            store,
            rx,
            batch_max: batch_max.clamp(1, MAX_BATCH),
            metrics,
            committed,
            recent: recent.clone(),
        };
        (Committer { tx, recent }, tokio::spawn(task.run()))
    }

    /// False once the commit task has stopped (it then answers nothing; liveness fails).
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Commits one delivery; returns once it is durable (or known to be a duplicate).
    pub async fn commit(&self, delivery: NewDelivery) -> Result<Receipt, CommitError> {
        if self.recent.lock().expect("digest cache poisoned").contains(&delivery.digest) {
            return Ok(Receipt { outcome: CommitOutcome::Duplicate, cached: true });
        }
        let (reply, answer) = oneshot::channel();
        self.tx.send(Request { delivery, reply }).await.map_err(|_| CommitError::ShuttingDown)?;
        let outcome = answer.await.map_err(|_| CommitError::ShuttingDown)??;
        Ok(Receipt { outcome, cached: false })
    }
}

struct CommitTask {
    store: Store,
    rx: mpsc::Receiver<Request>,
    batch_max: usize,
    metrics: Arc<Metrics>,
    committed: Arc<Notify>,
    recent: Arc<Mutex<RecentDigests>>,
}

impl CommitTask {
    async fn run(mut self) {
        let mut batch: Vec<Request> = Vec::with_capacity(self.batch_max);
        while let Some(first) = self.rx.recv().await {
            let mut bytes = first.delivery.payload.len();
            batch.push(first);
            while batch.len() < self.batch_max && bytes < MAX_BATCH_BYTES {
                match self.rx.try_recv() {
                    Ok(req) => {
                        bytes += req.delivery.payload.len();
                        batch.push(req);
                    }
                    Err(_) => break,
                }
            }
            self.commit(&mut batch).await;
        }
    }

    async fn commit(&mut self, batch: &mut Vec<Request>) {
        let deliveries: Vec<NewDelivery> = batch.iter().map(|r| r.delivery.clone()).collect();
        let started = std::time::Instant::now();
        let result = self.store.commit_deliveries(&deliveries).await;
        self.metrics.observe_commit(batch.len(), started.elapsed());
        match result {
            Ok(outcomes) => {
                crate::failpoint::hit("after_commit");
                {
                    let mut recent = self.recent.lock().expect("digest cache poisoned");
                    for d in &deliveries {
                        recent.insert(d.digest);
                    }
                }
                if outcomes.iter().any(|o| matches!(o, CommitOutcome::Accepted { .. })) {
                    // Idle worker lanes registered before they last looked for work, so none is missed.
                    self.committed.notify_waiters();
                }
                for (req, outcome) in batch.drain(..).zip(outcomes) {
                    let _ = req.reply.send(Ok(outcome));
                }
            }
            Err(err) => {
                let error = if is_unavailable(&err) {
                    CommitError::Unavailable(err.to_string())
                } else {
                    CommitError::Failed(err.to_string())
                };
                tracing::error!(error = %err, batch = batch.len(), "webhook commit failed; answering 503");
                for req in batch.drain(..) {
                    let _ = req.reply.send(Err(error.clone()));
                }
            }
        }
    }
}

/// A bounded set of recently committed digests (oldest forgotten first).
#[derive(Default)]
struct RecentDigests {
    set: HashSet<DeliveryDigest>,
    order: VecDeque<DeliveryDigest>,
}

impl RecentDigests {
    fn contains(&self, d: &DeliveryDigest) -> bool {
        self.set.contains(d)
    }

    fn insert(&mut self, d: DeliveryDigest) {
        if self.set.insert(d) {
            self.order.push_back(d);
            if self.order.len() > RECENT_DIGESTS
                && let Some(old) = self.order.pop_front()
            {
                self.set.remove(&old);
            }
        }
    }
}
