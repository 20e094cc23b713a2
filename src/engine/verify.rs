//! Verify an executed action: observe its success criteria, again and again (the worker schedules
//! the re-checks), until it has been healthy for the settle period (fixed), or the timeout passes
//! (not fixed, or timed out if the change never completed). A resolved notification for the
//! incident's alerts also counts as fixed.

use std::time::Duration;

use jiff::Timestamp;
use serde_json::json;

use super::pipeline::incident_of;
use super::{Engine, Outcome};
use crate::cluster::verify::{Observation, observe};
use crate::domain::action::Action;
use crate::domain::incident::IncidentEvent;
use crate::store::{Job, NewEvent, ProposalState, StepResult};

pub(super) async fn run(engine: &Engine, job: &Job) -> anyhow::Result<Outcome> {
    let incident_id = incident_of(job)?;
    let now = Timestamp::now().as_millisecond();
    let proposals = engine.store.proposals_of(incident_id).await?;
    let row = proposals
        .into_iter()
        .find(|p| p.state == ProposalState::Executed.as_str())
        .ok_or_else(|| anyhow::anyhow!("incident {incident_id} has no executed proposal to verify"))?;
    let run =
        engine.store.run_of(row.row_id).await?.ok_or_else(|| anyhow::anyhow!("no audit row for {}", row.public_id))?;
    let action: Action = Action::from_spec(&row.action)?;
    let v = &engine.verification;

    let resolved = engine.store.firing_count(incident_id).await? == 0;
    let observation = match (&engine.cluster, resolved) {
        (_, true) => {
            Observation { complete: true, healthy: true, lines: vec!["the incident's alerts resolved".into()] }
        }
        (Some(read), false) => match observe(read.as_ref(), &action).await {
            Ok(o) => o,
            Err(e) => Observation { complete: false, healthy: false, lines: vec![format!("could not look: {e}")] },
        },
        (None, false) => Observation { complete: false, healthy: false, lines: vec!["no cluster access".into()] },
    };
    let since_start = now - run.started_at.as_millisecond();
    let healthy_since = (observation.complete && observation.healthy).then(|| run.healthy_since.unwrap_or(now));
    let settled = resolved || healthy_since.is_some_and(|t| now - t >= (v.settle_seconds * 1000) as i64);
    let timed_out = since_start >= (v.timeout_seconds * 1000) as i64;
    let seen = json!({"complete": observation.complete, "healthy": observation.healthy, "lines": observation.lines, "at": Timestamp::now()});

    let verdict = if settled {
        Some(("verified", true))
    } else if timed_out {
        Some((if observation.complete { "not_fixed" } else { "timed_out" }, false))
    } else {
        None
    };
    let Some((verified, fixed)) = verdict else {
        engine.store.observe_run(run.id, healthy_since, &seen, None, now).await?;
        let wait = match healthy_since {
            Some(t) => Duration::from_millis(((v.settle_seconds * 1000) as i64 - (now - t)).max(100) as u64),
            None => Duration::from_secs(v.interval_seconds),
        };
        return Ok(Outcome::Later(wait.min(Duration::from_secs(v.interval_seconds))));
    };
    // Before the step's transaction: both need the single write connection.
    engine.store.observe_run(run.id, healthy_since, &seen, Some(verified), now).await?;
    let mut tx = engine.store.begin_step(job, now).await?;
    tx.notify_update(&crate::notify::message::Update {
        state: Some(if fixed { "resolved" } else { "failed" }.into()),
        status: fixed.then(|| "resolved".into()),
        line: Some(crate::strings::notify::verified(verified)),
        ..Default::default()
    })
    .await?;
    let events = vec![NewEvent::new(
        incident_id,
        "verification",
        "mimi",
        json!({"proposal": row.public_id, "outcome": verified, "observation": seen}),
    )];
    let reason = if fixed { "verified: the fix held" } else { "the fix did not hold" };
    tx.finish(StepResult { events, transitions: vec![(IncidentEvent::Verified { fixed }, reason)], next: None })
        .await?;
    Ok(Outcome::Done)
}
