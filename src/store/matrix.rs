//! Lookups for Matrix reactions: which proposals a message carries.

use super::{ProposalState, Store};
use crate::domain::approver::MessageRef;

impl Store {
    /// The open proposals posted in message `m` (a reaction on it decides one of them). Only the
    /// incident messages a sink posted count: a reaction on any other event finds nothing (D04).
    pub async fn open_proposals_on(&self, sink: &str, m: &MessageRef) -> anyhow::Result<Vec<String>> {
        // A runtime-checked query (no .sqlx entry): the table and columns are those of 0004_outbox.sql.
        let incident: Option<i64> = sqlx::query_scalar(
            "SELECT incident_id FROM outbox
             WHERE sink = ? AND target = ? AND message_ref = ? AND subject = 'incident' AND incident_id IS NOT NULL
             LIMIT 1",
        )
        .bind(sink)
        .bind(&m.channel)
        .bind(&m.message)
        .fetch_optional(&self.read)
        .await?;
        let Some(incident) = incident else { return Ok(Vec::new()) };
        let open = self
            .proposals_of(incident)
            .await?
            .into_iter()
            .filter(|p| p.state == ProposalState::Pending.as_str())
            .filter(|p| p.pending.as_ref().is_some_and(|pending| pending.messages.contains(m)))
            .map(|p| p.public_id)
            .collect();
        Ok(open)
    }
}
