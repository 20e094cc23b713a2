//! The audit row of every action run (RELIABILITY F07): incident, proposer, approver ids, times,
//! parameters, the rehearsal dry run, what the API answered, and how verification ended. Also the
//! recent actions the policy counts against its budgets, and whether a drain is running.

use serde::Serialize;

use super::Store;
use super::steps::StepTx;
use crate::domain::action::{Action, ActionKind};
use crate::domain::policy::RecentAction;

/// A stored run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    #[serde(skip)]
    pub id: i64,
    pub kind: String,
    pub target: String,
    pub parameters: serde_json::Value,
    pub proposer: String,
    pub approvers: serde_json::Value,
    pub approved_at: jiff::Timestamp,
    pub started_at: jiff::Timestamp,
    pub finished_at: Option<jiff::Timestamp>,
    pub outcome: Option<String>,
    pub response: Option<serde_json::Value>,
    pub dry_run: Option<serde_json::Value>,
    #[serde(skip)]
    pub healthy_since: Option<i64>,
    pub verification: Option<serde_json::Value>,
    pub verified: Option<String>,
    pub verified_at: Option<jiff::Timestamp>,
}

/// A run about to start.
pub struct NewRun<'a> {
    pub proposal_row: i64,
    pub cluster: &'a str,
    pub action: &'a Action,
    pub proposer: &'a str,
    pub approvers: Vec<String>,
    pub approved_at: i64,
}

fn ts(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

fn json(text: Option<String>) -> Option<serde_json::Value> {
    text.and_then(|t| serde_json::from_str(&t).ok())
}

impl Store {
    /// Records a run before its API call (so a crash after the call is visible, B04). Idempotent:
    /// a retried execution finds the row of its first attempt.
    pub async fn start_run(&self, run: &NewRun<'_>, now: i64) -> anyhow::Result<i64> {
        if let Some(id) =
            sqlx::query_scalar!(r#"SELECT id AS "id!" FROM action_runs WHERE proposal_id = ?"#, run.proposal_row)
                .fetch_optional(&self.write)
                .await?
        {
            return Ok(id);
        }
        let incident = sqlx::query_scalar!("SELECT incident_id FROM proposals WHERE id = ?", run.proposal_row)
            .fetch_one(&self.write)
            .await?;
        let kind = run.action.kind().as_str();
        let target = run.action.target().to_string();
        let parameters = serde_json::to_string(&run.action.to_spec())?;
        let approvers = serde_json::to_string(&run.approvers)?;
        let id = sqlx::query_scalar!(
            r#"INSERT INTO action_runs (proposal_id, incident_id, cluster, kind, target, parameters, proposer, approvers,
                                        approved_at, started_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
            run.proposal_row,
            incident,
            run.cluster,
            kind,
            target,
            parameters,
            run.proposer,
            approvers,
            run.approved_at,
            now
        )
        .fetch_one(&self.write)
        .await?;
        Ok(id)
    }

    pub async fn run_of(&self, proposal_row: i64) -> anyhow::Result<Option<RunRow>> {
        let r = sqlx::query!(
            r#"SELECT id AS "id!", kind, target, parameters, proposer, approvers, approved_at, started_at, finished_at,
                      outcome, response, dry_run, healthy_since, verification, verified, verified_at
               FROM action_runs WHERE proposal_id = ?"#,
            proposal_row
        )
        .fetch_optional(&self.write)
        .await?;
        Ok(r.map(|r| RunRow {
            id: r.id,
            kind: r.kind,
            target: r.target,
            parameters: serde_json::from_str(&r.parameters).unwrap_or_default(),
            proposer: r.proposer,
            approvers: serde_json::from_str(&r.approvers).unwrap_or_default(),
            approved_at: ts(r.approved_at),
            started_at: ts(r.started_at),
            finished_at: r.finished_at.map(ts),
            outcome: r.outcome,
            response: json(r.response),
            dry_run: json(r.dry_run),
            healthy_since: r.healthy_since,
            verification: json(r.verification),
            verified: r.verified,
            verified_at: r.verified_at.map(ts),
        }))
    }

    /// Write actions started in `cluster` since `since` (Unix ms), for the policy's budgets.
    pub async fn recent_actions(&self, since: i64, except_proposal: i64) -> anyhow::Result<Vec<RecentAction>> {
        let rows = sqlx::query!(
            "SELECT r.cluster, r.parameters, r.started_at FROM action_runs r
             WHERE r.started_at >= ? AND r.proposal_id != ? AND COALESCE(r.outcome, '') NOT IN ('refused', 'blocked')",
            since,
            except_proposal
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let action: Action = serde_json::from_str(&r.parameters).ok()?;
                Some(RecentAction { cluster: r.cluster, target: action.target(), at: ts(r.started_at) })
            })
            .collect())
    }

    /// Records an observation; `verified` ends the verification ("verified", "not_fixed", "timed_out").
    pub async fn observe_run(
        &self,
        run_id: i64,
        healthy_since: Option<i64>,
        observation: &serde_json::Value,
        verified: Option<&str>,
        now: i64,
    ) -> anyhow::Result<()> {
        let text = observation.to_string();
        let verified_at = verified.map(|_| now);
        sqlx::query!(
            "UPDATE action_runs SET healthy_since = ?, verification = ?, verified = ?, verified_at = ? WHERE id = ?",
            healthy_since,
            text,
            verified,
            verified_at,
            run_id
        )
        .execute(&self.write)
        .await?;
        Ok(())
    }

    /// A drain in `cluster` that has started and not been verified yet.
    pub async fn drain_running(&self, cluster: &str, except_proposal: i64) -> anyhow::Result<bool> {
        let kind = ActionKind::DrainNode.as_str();
        let n = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM action_runs
               WHERE cluster = ? AND kind = ? AND verified IS NULL AND proposal_id != ?
                 AND COALESCE(outcome, 'executed') = 'executed'"#,
            cluster,
            kind,
            except_proposal
        )
        .fetch_one(&self.read)
        .await?;
        Ok(n > 0)
    }
}

impl StepTx<'_> {
    /// Records what executing did: the rehearsal, the API's answer (or the error), the outcome.
    pub async fn finish_run(
        &mut self,
        run_id: i64,
        outcome: &str,
        dry_run: Option<&serde_json::Value>,
        response: &serde_json::Value,
    ) -> anyhow::Result<()> {
        let now = self.now;
        let dry = dry_run.map(|d| d.to_string());
        let response = response.to_string();
        sqlx::query!(
            "UPDATE action_runs SET finished_at = ?, outcome = ?, dry_run = COALESCE(?, dry_run), response = ? WHERE id = ?",
            now,
            outcome,
            dry,
            response,
            run_id
        )
        .execute(self.conn())
        .await?;
        Ok(())
    }
}
