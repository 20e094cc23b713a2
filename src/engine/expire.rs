//! Expire: proposals nobody decided before their approval window closed (C09).

use jiff::Timestamp;
use serde_json::json;

use super::Engine;
use super::pipeline::incident_of;
use crate::domain::incident::IncidentEvent;
use crate::store::{Job, NewEvent, StepResult};
use crate::strings::proposals as s;

pub(super) async fn run(engine: &Engine, job: &Job) -> anyhow::Result<()> {
    let incident_id = incident_of(job)?;
    let mut tx = engine.store.begin_step(job, Timestamp::now().as_millisecond()).await?;
    let (expired, left) = tx.expire_proposals(false).await?;
    let mut result = StepResult::default();
    if expired > 0 {
        result.events.push(NewEvent::new(
            incident_id,
            "proposals_expired",
            "mimi",
            json!({"expired": expired, "note": s::EXPIRED}),
        ));
        tx.notify_update(&crate::notify::message::Update {
            line: Some(crate::strings::notify::EXPIRED.into()),
            close_open_proposals: (left == 0).then(|| "expired".into()),
            ..Default::default()
        })
        .await?;
        if left == 0 {
            result.transitions.push((IncidentEvent::ApprovalExpired, "approval window closed"));
        }
    }
    tx.finish(result).await.map(drop)
}
