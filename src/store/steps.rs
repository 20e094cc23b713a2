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
                    events.push(NewEvent::new(
                        incident_id,
                        "transition_refused",
                        "mimi",
                        json!({"step": job.step.as_str(), "state": current.as_str(), "event": format!("{:?}", refused.event)}),
                    ));
                    outcome = Finished::Refused { state: current };
                    break;
                }
            }
        }
        if current != state {
            let to_text = current.as_str();
            let resolved_at = current.is_terminal().then_some(now);
            sqlx::query!(
                "UPDATE incidents SET state = ?, updated_at = ?, resolved_at = COALESCE(resolved_at, ?) WHERE id = ?",
                to_text,
                now,
                resolved_at,
                incident_id
            )
            .execute(&mut *tx)
            .await?;
        }
        if let (Finished::Advanced { .. }, Some(next)) = (outcome, result.next) {
            jobs::enqueue(&mut tx, next, &job.key, Some(incident_id), None, now).await?;
        }
        append(&mut tx, now, &events).await?;
        jobs::complete(&mut tx, job.id).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}
