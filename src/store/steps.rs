//! Finishing a pipeline step as one unit of work: the rows the step produced (analysis, proposals,
//! audit rows), its timeline events, its state changes, the jobs that follow, and the completion of
//! its own job — one transaction, so a crash leaves all of it or none (the step then runs again).

use serde_json::json;
use sqlx::{Sqlite, SqliteConnection, Transaction};

use super::events::{NewEvent, append};
use super::ingest::{parse_state, state_event};
use super::{Job, Store, jobs};
use crate::domain::incident::{IncidentEvent, IncidentState, transition};
use crate::domain::job::Step;

/// What a finished step asks for.
#[derive(Debug, Clone, Default)]
pub struct StepResult {
    pub events: Vec<NewEvent>,
    /// The lifecycle events the step caused, in order, each with the reason shown in the timeline.
    pub transitions: Vec<(IncidentEvent, &'static str)>,
    /// The step that comes next, if every transition was allowed.
    pub next: Option<Step>,
}

/// What finishing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The state moved (or stayed, when the step asked for no transition) and `next` was queued.
    Advanced { state: IncidentState },
    /// The incident had moved on (e.g. resolved meanwhile): a transition was refused, the refusal
    /// recorded, the transitions before it kept, and nothing queued.
    Refused { state: IncidentState },
}

/// An open step transaction. Dropping it without [`StepTx::finish`] rolls everything back.
pub struct StepTx<'j> {
    pub(super) tx: Transaction<'static, Sqlite>,
    pub(super) job: &'j Job,
    pub(super) incident_id: i64,
    pub(super) now: i64,
}

impl Store {
    /// Opens the unit of work of `job` (which must belong to an incident).
    pub async fn begin_step<'j>(&self, job: &'j Job, now: i64) -> anyhow::Result<StepTx<'j>> {
        let incident_id = job.incident_id.ok_or_else(|| anyhow::anyhow!("job {} has no incident", job.id))?;
        let tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        Ok(StepTx { tx, job, incident_id, now })
    }

    /// The current state of an incident.
    pub async fn incident_state(&self, incident_id: i64) -> anyhow::Result<IncidentState> {
        let state =
            sqlx::query_scalar!("SELECT state FROM incidents WHERE id = ?", incident_id).fetch_one(&self.write).await?;
        parse_state(&state)
    }

    /// Applies a step's result and completes its job, atomically.
    pub async fn finish_step(&self, job: &Job, result: StepResult, now: i64) -> anyhow::Result<Finished> {
        self.begin_step(job, now).await?.finish(result).await
    }
}

impl StepTx<'_> {
    pub(super) fn conn(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }

    pub fn incident_id(&self) -> i64 {
        self.incident_id
    }

    /// Queues `step` for this incident, due at `run_at` (Unix ms), in order after its other jobs.
    pub async fn enqueue_at(&mut self, step: Step, run_at: i64) -> anyhow::Result<()> {
        let (key, id) = (self.job.key.clone(), self.incident_id);
        jobs::enqueue(&mut self.tx, step, &key, Some(id), None, run_at).await?;
        Ok(())
    }

    /// Queues a timer (`step` due at `run_at`) beside the incident's queue: a job waiting for its
    /// time must not hold up the incident's other jobs, which run in order behind each other.
    pub async fn enqueue_timer(&mut self, step: Step, run_at: i64) -> anyhow::Result<()> {
        let (key, id) = (format!("{}:timer", self.job.key), self.incident_id);
        jobs::enqueue(&mut self.tx, step, &key, Some(id), None, run_at).await?;
        Ok(())
    }

    /// Records the result, moves the state, queues what follows, completes the job, commits.
    pub async fn finish(mut self, result: StepResult) -> anyhow::Result<Finished> {
        let (incident_id, now) = (self.incident_id, self.now);
        let state_text = sqlx::query_scalar!("SELECT state FROM incidents WHERE id = ?", incident_id)
            .fetch_one(&mut *self.tx)
            .await?;
        let state = parse_state(&state_text)?;
        let mut events = result.events;
        let mut current = state;
        let mut outcome = Finished::Advanced { state };
        for (event, reason) in result.transitions {
            match transition(current, event) {
                Ok(to) => {
                    if to != current {
                        events.push(state_event(incident_id, current, to, reason));
                        current = to;
                    }
                    outcome = Finished::Advanced { state: current };
                }
                Err(refused) => {
                    let detail = json!({"step": self.job.step.as_str(), "state": current.as_str(), "event": format!("{:?}", refused.event)});
                    events.push(NewEvent::new(incident_id, "transition_refused", "mimi", detail));
                    outcome = Finished::Refused { state: current };
                    break;
                }
            }
        }
        if current != state {
            set_state(&mut self.tx, incident_id, current, now).await?;
        }
        if let (Finished::Advanced { .. }, Some(next)) = (outcome, result.next) {
            jobs::enqueue(&mut self.tx, next, &self.job.key, Some(incident_id), None, now).await?;
        }
        append(&mut self.tx, now, &events).await?;
        jobs::complete(&mut self.tx, self.job.id).await?;
        self.tx.commit().await?;
        Ok(outcome)
    }
}

/// Writes an incident's state (and its resolution time, the first time it resolves).
pub(super) async fn set_state(
    conn: &mut SqliteConnection,
    incident_id: i64,
    to: IncidentState,
    now: i64,
) -> Result<(), sqlx::Error> {
    if ends(to) {
        remember_later(conn, incident_id, now).await?;
    }
    let to_text = to.as_str();
    let resolved_at = to.is_terminal().then_some(now);
    sqlx::query!(
        "UPDATE incidents SET state = ?, updated_at = ?, resolved_at = COALESCE(resolved_at, ?) WHERE id = ?",
        to_text,
        now,
        resolved_at,
        incident_id
    )
    .execute(conn)
    .await
    .map(drop)
}

/// States in which an incident (or its remediation) has ended, so memory indexes what happened.
pub(super) fn ends(state: IncidentState) -> bool {
    matches!(state, IncidentState::Resolved | IncidentState::Failed | IncidentState::Expired | IncidentState::Rejected)
}

/// Queues the memory job for an incident that ended, in the same transaction as the state change
/// (durable, retried by the worker). Its own key: a memory outage never holds up the incident's jobs.
pub(super) async fn remember_later(conn: &mut SqliteConnection, incident_id: i64, now: i64) -> Result<(), sqlx::Error> {
    jobs::enqueue(conn, Step::Remember, &format!("memory:{incident_id}"), Some(incident_id), None, now).await.map(drop)
}
