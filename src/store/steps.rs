//! Finishing a pipeline step: its timeline events, its state change, the next job and the
//! completion of its own job, in one transaction.

use serde_json::json;

use super::events::{NewEvent, append};
use super::ingest::{parse_state, state_event};
use super::{Job, Store, jobs};
use crate::domain::incident::{IncidentEvent, IncidentState, transition};
use crate::domain::job::Step;

/// What a finished step asks for.
#[derive(Debug, Clone, Default)]
pub struct StepResult {
    pub events: Vec<NewEvent>,
    /// The lifecycle event the step caused, with the reason shown in the timeline.
    pub transition: Option<(IncidentEvent, &'static str)>,
    /// The step that comes next, if the transition (if any) was allowed.
    pub next: Option<Step>,
}

/// What finishing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finished {
    /// The state moved (or stayed, when the step asked for no transition) and `next` was queued.
    Advanced { state: IncidentState },
    /// The incident had moved on (e.g. resolved meanwhile): the transition was refused, the refusal
    /// recorded, and nothing queued.
    Refused { state: IncidentState },
}

impl Store {
    /// The current state of an incident.
    pub async fn incident_state(&self, incident_id: i64) -> anyhow::Result<IncidentState> {
        let state =
            sqlx::query_scalar!("SELECT state FROM incidents WHERE id = ?", incident_id).fetch_one(&self.read).await?;
        parse_state(&state)
    }

    /// Applies a step's result and completes its job, atomically.
    pub async fn finish_step(&self, job: &Job, result: StepResult, now: i64) -> anyhow::Result<Finished> {
        let incident_id = job.incident_id.ok_or_else(|| anyhow::anyhow!("job {} has no incident", job.id))?;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let state_text =
            sqlx::query_scalar!("SELECT state FROM incidents WHERE id = ?", incident_id).fetch_one(&mut *tx).await?;
        let state = parse_state(&state_text)?;
        let mut events = result.events;
        let outcome = match result.transition {
            None => Finished::Advanced { state },
            Some((event, reason)) => match transition(state, event) {
                Ok(to) => {
                    if to != state {
                        let to_text = to.as_str();
                        let resolved_at = to.is_terminal().then_some(now);
                        sqlx::query!(
                            "UPDATE incidents SET state = ?, updated_at = ?, resolved_at = COALESCE(resolved_at, ?)
                             WHERE id = ?",
                            to_text,
                            now,
                            resolved_at,
                            incident_id
                        )
                        .execute(&mut *tx)
                        .await?;
                        events.push(state_event(incident_id, state, to, reason));
                    }
                    Finished::Advanced { state: to }
                }
                Err(refused) => {
                    events.push(NewEvent::new(
                        incident_id,
                        "transition_refused",
                        "mimi",
                        json!({"step": job.step.as_str(), "state": state.as_str(), "event": format!("{:?}", refused.event)}),
                    ));
                    Finished::Refused { state }
                }
            },
        };
        if let (Finished::Advanced { .. }, Some(next)) = (outcome, result.next) {
            jobs::enqueue(&mut tx, next, &job.key, Some(incident_id), None, now).await?;
        }
        append(&mut tx, now, &events).await?;
        jobs::complete(&mut tx, job.id).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

/// Whether a step may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The incident is in the step's state (just moved there, or already there on a retry).
    Yes,
    /// The incident moved on (e.g. resolved meanwhile); the step should stand down.
    No { state: IncidentState },
}

impl Store {
    /// Moves the incident into a step's state with `event`; idempotent when it is already `into`.
    pub async fn start_step(
        &self,
        job: &Job,
        event: IncidentEvent,
        into: IncidentState,
        now: i64,
    ) -> anyhow::Result<Started> {
        let incident_id = job.incident_id.ok_or_else(|| anyhow::anyhow!("job {} has no incident", job.id))?;
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let state_text =
            sqlx::query_scalar!("SELECT state FROM incidents WHERE id = ?", incident_id).fetch_one(&mut *tx).await?;
        let state = parse_state(&state_text)?;
        if state == into {
            return Ok(Started::Yes);
        }
        let Ok(to) = transition(state, event) else {
            return Ok(Started::No { state });
        };
        let to_text = to.as_str();
        sqlx::query!("UPDATE incidents SET state = ?, updated_at = ? WHERE id = ?", to_text, now, incident_id)
            .execute(&mut *tx)
            .await?;
        append(&mut tx, now, &[state_event(incident_id, state, to, job.step.as_str())]).await?;
        tx.commit().await?;
        Ok(Started::Yes)
    }
}
