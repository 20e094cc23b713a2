//! Analyses, proposals and approval decisions.
//!
//! A proposal's approval state (`domain::approval::PendingApproval`, decisions included) is stored
//! as JSON with a version. A decision is saved only if the version is still the one it was decided
//! on (compare and set): of two simultaneous approvals, one wins, the other is decided again on the
//! fresh state — so an action is approved, and executed, once (RELIABILITY C08).

use serde::Serialize;
use serde_json::json;

use super::events::{NewEvent, append};
use super::ingest::{parse_state, state_event};
use super::steps::{StepTx, set_state};
use super::{Store, jobs};
use crate::domain::action::{ActionSpec, Risk};
use crate::domain::analysis::Analysis;
use crate::domain::approval::{Decision, DecisionRecord, PendingApproval};
use crate::domain::incident::{IncidentEvent, transition};
use crate::domain::job::Step;
use crate::domain::policy::ApprovalRequirement;

/// What became of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalState {
    Pending,
    Approved,
    Rejected,
    Expired,
    /// Shown as advice only: policy or a dry run refused it.
    Refused,
    /// Never shown as an action: not in the catalogue, or its target does not exist (E03, E06).
    Dropped,
    /// Another proposal of the incident was approved instead.
    Superseded,
    Executing,
    Executed,
    Failed,
}

impl ProposalState {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalState::Pending => "pending",
            ProposalState::Approved => "approved",
            ProposalState::Rejected => "rejected",
            ProposalState::Expired => "expired",
            ProposalState::Refused => "refused",
            ProposalState::Dropped => "dropped",
            ProposalState::Superseded => "superseded",
            ProposalState::Executing => "executing",
            ProposalState::Executed => "executed",
            ProposalState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        use ProposalState::*;
        [Pending, Approved, Rejected, Expired, Refused, Dropped, Superseded, Executing, Executed, Failed]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
}

/// A proposal to store.
#[derive(Debug, Clone)]
pub struct NewProposal {
    pub public_id: String,
    pub rank: i64,
    pub action: ActionSpec,
    pub reason: String,
    pub proposer: String,
    pub risk: Option<Risk>,
    pub approval: Option<ApprovalRequirement>,
    pub state: ProposalState,
    pub refused: Option<String>,
    pub dry_run: Option<serde_json::Value>,
    pub pending: Option<PendingApproval>,
    pub expires_at: Option<i64>,
}

/// A stored proposal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposalRow {
    #[serde(skip)]
    pub row_id: i64,
    #[serde(rename = "id")]
    pub public_id: String,
    pub incident_id: i64,
    pub rank: i64,
    pub action: ActionSpec,
    pub reason: String,
    pub proposer: String,
    pub risk: Option<String>,
    pub approval: Option<String>,
    pub state: String,
    pub refused: Option<String>,
    pub dry_run: Option<serde_json::Value>,
    /// The decisions made so far (who, what, when).
    pub decisions: Vec<DecisionRecord>,
    pub expires_at: Option<jiff::Timestamp>,
    #[serde(skip)]
    pub pending: Option<PendingApproval>,
    #[serde(skip)]
    pub version: i64,
}

/// How saving a decision went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    Yes,
    /// Someone decided first: decide again on the fresh state.
    Conflict,
}

fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl StepTx<'_> {
    pub async fn insert_analysis(&mut self, analysis: &Analysis) -> anyhow::Result<()> {
        let text = serde_json::to_string(analysis)?;
        let (id, now) = (self.incident_id, self.now);
        sqlx::query!("INSERT INTO analyses (incident_id, at, analysis) VALUES (?, ?, ?)", id, now, text)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn insert_proposal(&mut self, p: &NewProposal) -> anyhow::Result<i64> {
        let (incident_id, now) = (self.incident_id, self.now);
        let action = serde_json::to_string(&p.action)?;
        let risk = p.risk.map(|r| r.as_str());
        let approval = p.approval.as_ref().map(enum_text);
        let state = p.state.as_str();
        let dry_run = p.dry_run.as_ref().map(|d| d.to_string());
        let pending = p.pending.as_ref().map(serde_json::to_string).transpose()?;
        let id = sqlx::query_scalar!(
            r#"INSERT INTO proposals (public_id, incident_id, rank, action, reason, proposer, risk, approval, state,
                                      refused, dry_run, pending, expires_at, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id AS "id!""#,
            p.public_id,
            incident_id,
            p.rank,
            action,
            p.reason,
            p.proposer,
            risk,
            approval,
            state,
            p.refused,
            dry_run,
            pending,
            p.expires_at,
            now,
            now
        )
        .fetch_one(self.conn())
        .await?;
        Ok(id)
    }

    /// Sets a proposal's state (and the reason, for refusals and failures).
    pub async fn set_proposal_state(
        &mut self,
        row_id: i64,
        state: ProposalState,
        note: Option<&str>,
    ) -> anyhow::Result<()> {
        let (text, now) = (state.as_str(), self.now);
        sqlx::query!(
            "UPDATE proposals SET state = ?, refused = COALESCE(?, refused), updated_at = ? WHERE id = ?",
            text,
            note,
            now,
            row_id
        )
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Expires this incident's pending proposals whose time is up (or all of them, for a resolved
    /// incident). Returns how many are still pending after that.
    pub async fn expire_proposals(&mut self, all: bool) -> anyhow::Result<(u64, i64)> {
        let (id, now) = (self.incident_id, self.now);
        let cutoff = if all { i64::MAX } else { now };
        let expired = sqlx::query!(
            "UPDATE proposals SET state = 'expired', updated_at = ? WHERE incident_id = ? AND state = 'pending' AND expires_at <= ?",
            now,
            id,
            cutoff
        )
        .execute(self.conn())
        .await?
        .rows_affected();
        let left = sqlx::query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM proposals WHERE incident_id = ? AND state = 'pending'"#,
            id
        )
        .fetch_one(self.conn())
        .await?;
        Ok((expired, left))
    }
}

macro_rules! proposal_row {
    ($r:expr) => {
        ProposalRow {
            row_id: $r.id,
            public_id: $r.public_id,
            incident_id: $r.incident_id,
            rank: $r.rank,
            action: serde_json::from_str(&$r.action)?,
            reason: $r.reason,
            proposer: $r.proposer,
            risk: $r.risk,
            approval: $r.approval,
            state: $r.state,
            refused: $r.refused,
            dry_run: $r.dry_run.as_deref().map(serde_json::from_str).transpose()?,
            decisions: Vec::new(),
            expires_at: $r.expires_at.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
            pending: $r.pending.as_deref().map(serde_json::from_str::<PendingApproval>).transpose()?,
            version: $r.version,
        }
    };
}

fn with_decisions(mut row: ProposalRow) -> ProposalRow {
    row.decisions = row.pending.as_ref().map(|p| p.decisions.clone()).unwrap_or_default();
    row
}

impl Store {
    pub async fn proposals_of(&self, incident_id: i64) -> anyhow::Result<Vec<ProposalRow>> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", public_id, incident_id, rank, action, reason, proposer, risk, approval, state, refused,
                      dry_run, pending, version, expires_at
               FROM proposals WHERE incident_id = ? ORDER BY rank, id"#,
            incident_id
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(with_decisions(proposal_row!(r)));
        }
        Ok(out)
    }

    /// A proposal by the id buttons and commands carry (read from the writer, to see the latest).
    pub async fn proposal(&self, public_id: &str) -> anyhow::Result<Option<ProposalRow>> {
        let row = sqlx::query!(
            r#"SELECT id AS "id!", public_id, incident_id, rank, action, reason, proposer, risk, approval, state, refused,
                      dry_run, pending, version, expires_at
               FROM proposals WHERE public_id = ?"#,
            public_id
        )
        .fetch_optional(&self.write)
        .await?;
        Ok(match row {
            Some(r) => Some(with_decisions(proposal_row!(r))),
            None => None,
        })
    }

    /// Proposals waiting for a decision, oldest first.
    pub async fn pending_proposals(&self, limit: i64) -> anyhow::Result<Vec<ProposalRow>> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id!", public_id, incident_id, rank, action, reason, proposer, risk, approval, state, refused,
                      dry_run, pending, version, expires_at
               FROM proposals WHERE state = 'pending' ORDER BY id LIMIT ?"#,
            limit
        )
        .fetch_all(&self.read)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(with_decisions(proposal_row!(r)));
        }
        Ok(out)
    }

    pub async fn latest_analysis(&self, incident_id: i64) -> anyhow::Result<Option<serde_json::Value>> {
        let text = sqlx::query_scalar!(
            "SELECT analysis FROM analyses WHERE incident_id = ? ORDER BY id DESC LIMIT 1",
            incident_id
        )
        .fetch_optional(&self.read)
        .await?;
        Ok(text.map(|t| serde_json::from_str(&t)).transpose()?)
    }

    /// Saves a decision made on `row` (compare and set on its version). An approval supersedes the
    /// incident's other pending proposals, moves it to executing and queues the execution; a
    /// rejection of its last pending proposal moves it to rejected.
    pub async fn save_decision(
        &self,
        row: &ProposalRow,
        pending: &PendingApproval,
        decision: &Decision,
        now: i64,
    ) -> anyhow::Result<Saved> {
        let (state, record) = match decision {
            Decision::Approved { record, .. } => (ProposalState::Approved, record),
            Decision::NeedsAnotherApprover { record } => (ProposalState::Pending, record),
            Decision::Rejected { record } => (ProposalState::Rejected, record),
        };
        let mut tx = self.write.begin_with("BEGIN IMMEDIATE").await?;
        let pending_json = serde_json::to_string(pending)?;
        let state_text = state.as_str();
        let updated = sqlx::query!(
            "UPDATE proposals SET pending = ?, state = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?",
            pending_json,
            state_text,
            now,
            row.row_id,
            row.version
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(Saved::Conflict);
        }
        let incident_id = row.incident_id;
        let mut events = vec![NewEvent::new(
            incident_id,
            "decision",
            &match &record.by {
                crate::domain::approval::Decider::Person(id) => id.to_string(),
                crate::domain::approval::Decider::Policy => "policy".to_string(),
            },
            json!({"proposal": row.public_id, "choice": record.choice, "state": state_text, "action": row.action}),
        )];
        let incident_state = parse_state(
            &sqlx::query_scalar!("SELECT state FROM incidents WHERE id = ?", incident_id).fetch_one(&mut *tx).await?,
        )?;
        let event = match state {
            ProposalState::Approved => {
                sqlx::query!(
                    "UPDATE proposals SET state = 'superseded', updated_at = ? WHERE incident_id = ? AND state = 'pending' AND id != ?",
                    now,
                    incident_id,
                    row.row_id
                )
                .execute(&mut *tx)
                .await?;
                jobs::enqueue(&mut tx, Step::Execute, &jobs::incident_key(incident_id), Some(incident_id), None, now)
                    .await?;
                Some((IncidentEvent::Approved, "approved"))
            }
            ProposalState::Rejected => {
                let left = sqlx::query_scalar!(
                    r#"SELECT COUNT(*) AS "n!: i64" FROM proposals WHERE incident_id = ? AND state = 'pending'"#,
                    incident_id
                )
                .fetch_one(&mut *tx)
                .await?;
                (left == 0).then_some((IncidentEvent::Rejected, "every proposal rejected"))
            }
            _ => None,
        };
        let mut new_state = None;
        if let Some((event, reason)) = event {
            let to = transition(incident_state, event)?;
            set_state(&mut tx, incident_id, to, now).await?;
            events.push(state_event(incident_id, incident_state, to, reason));
            new_state = Some(to.as_str().to_string());
        }
        // The incident's messages say who decided (edited, and a reply in their thread).
        let who = events[0].actor.clone();
        let choice = if state == ProposalState::Pending {
            "First approval"
        } else if state == ProposalState::Approved {
            "Approved"
        } else {
            "Rejected"
        };
        let update = crate::notify::message::Update {
            state: new_state,
            line: Some(crate::strings::notify::decided(choice, &who, &row.public_id)),
            proposals: vec![(row.public_id.clone(), state_text.to_string())],
            close_open_proposals: (state == ProposalState::Approved).then(|| "superseded".into()),
            ..Default::default()
        };
        super::outbox::enqueue_update(&mut tx, incident_id, &update, now).await?;
        append(&mut tx, now, &events).await?;
        tx.commit().await?;
        Ok(Saved::Yes)
    }
}
